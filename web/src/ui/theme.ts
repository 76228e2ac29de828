// Light / dark / auto (the system's choice). The choice is `data-theme` on
// <html>, the scheme in effect `data-scheme` (what the CSS keys its colours
// on, so the dark palette is written once); plots read their colours from CSS
// custom properties and rebuild when the scheme changes.
export const THEMES = ['auto', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

const listeners = new Set<() => void>();
let mediaHooked = false;

const dark = (): MediaQueryList => matchMedia('(prefers-color-scheme: dark)');

function notify(): void {
  document.documentElement.dataset.scheme = effectiveTheme();
  for (const cb of listeners) cb();
}

/**
 * Applies a theme to the page.
 * @param theme - 'auto' follows prefers-color-scheme
 */
export function applyTheme(theme: Theme): void {
  if (!mediaHooked) {
    mediaHooked = true;
    dark().addEventListener('change', notify);
  }
  if (document.documentElement.dataset.theme === theme) return;
  document.documentElement.dataset.theme = theme;
  notify();
}

/** The theme in effect ('light' or 'dark'). */
export function effectiveTheme(): 'light' | 'dark' {
  const t = document.documentElement.dataset.theme;
  if (t === 'light' || t === 'dark') return t;
  return dark().matches ? 'dark' : 'light';
}

/**
 * Calls `cb` whenever the effective colours may have changed.
 * @returns a function that unsubscribes
 */
export function onThemeChange(cb: () => void): () => void {
  listeners.add(cb);
  return () => listeners.delete(cb);
}

/** Reads a CSS custom property on `el`. */
export function cssVar(el: Element, name: string, fallback: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}

/** Colours of the current theme, read from CSS (`--s0` … `--s7` are the series colours). */
export interface Palette {
  fg: string;
  muted: string;
  grid: string;
  bg: string;
  accent: string;
  series: string[];
}

/** The palette in effect for `el`. */
export function palette(el: Element): Palette {
  const series: string[] = [];
  for (let i = 0; i < 8; ++i) series.push(cssVar(el, `--s${i}`, '#1f6feb'));
  return {
    fg: cssVar(el, '--fg', '#1b1f24'),
    muted: cssVar(el, '--fg-muted', '#59636e'),
    grid: cssVar(el, '--grid', '#e6e9ed'),
    bg: cssVar(el, '--panel', '#ffffff'),
    accent: cssVar(el, '--accent', '#0b63c4'),
    series,
  };
}
