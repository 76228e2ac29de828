// Light / dark / auto (the system's choice). On the page the choice is
// `data-theme` on <html> and the scheme in effect `data-scheme` (what the CSS
// keys its colours on, so the dark palette is written once); a custom element
// carries its own `data-scheme`. Plots read their colours from CSS custom
// properties where they sit and rebuild when the scheme changes.
export const THEMES = ['auto', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

const THEME_KEY = 'dlmath.theme';

/**
 * The theme chosen on an earlier visit ('auto' when none, or when storage is blocked).
 * @param storage - usually window.localStorage
 */
export function storedTheme(storage: Storage | null): Theme {
  try {
    const t = storage?.getItem(THEME_KEY);
    return (THEMES as readonly string[]).includes(t ?? '') ? (t as Theme) : 'auto';
  } catch {
    return 'auto';
  }
}

/**
 * Remembers the theme choice.
 * @param storage - usually window.localStorage
 * @param theme - the choice
 */
export function saveTheme(storage: Storage | null, theme: Theme): void {
  try {
    storage?.setItem(THEME_KEY, theme);
  } catch {
    // Blocked storage only loses the memory of the choice.
  }
}

const listeners = new Set<() => void>();
let mediaHooked = false;

const dark = (): MediaQueryList => matchMedia('(prefers-color-scheme: dark)');

// The system's scheme changes what 'auto' means: the page's <html> (when the
// page uses the switch) and every listener follow.
function hookMedia(): void {
  if (mediaHooked) return;
  mediaHooked = true;
  dark().addEventListener('change', () => {
    if (document.documentElement.dataset.theme) document.documentElement.dataset.scheme = effectiveTheme();
    themeChanged();
  });
}

/** Tells every plot that colours may have changed (the page's theme, or one element's `theme`). */
export function themeChanged(): void {
  for (const cb of listeners) cb();
}

/**
 * Applies a theme to the page.
 * @param theme - 'auto' follows prefers-color-scheme
 */
export function applyTheme(theme: Theme): void {
  hookMedia();
  if (document.documentElement.dataset.theme === theme) return;
  document.documentElement.dataset.theme = theme;
  document.documentElement.dataset.scheme = effectiveTheme();
  themeChanged();
}

/**
 * The scheme a theme choice means now ('auto': the system's).
 * @param theme - the choice
 */
export function schemeOf(theme: Theme): 'light' | 'dark' {
  if (theme === 'light' || theme === 'dark') return theme;
  return dark().matches ? 'dark' : 'light';
}

/** The page's theme in effect ('light' or 'dark'). */
export function effectiveTheme(): 'light' | 'dark' {
  const t = document.documentElement.dataset.theme;
  return schemeOf(t === 'light' || t === 'dark' ? t : 'auto');
}

/**
 * Calls `cb` whenever the effective colours may have changed.
 * @returns a function that unsubscribes
 */
export function onThemeChange(cb: () => void): () => void {
  hookMedia();
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
