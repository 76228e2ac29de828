// The page header in one language: title, tagline, the language and theme
// menus, the buttons. main.ts fills it before the engine has loaded, so the
// menus work from the first paint; the shell fills it again on every change
// of language.
import { h } from './dom.js';
import { htmlLang, LANG_NAMES, LANGS, type Labels, type Lang } from './i18n.js';
import { THEMES, type Theme } from './theme.js';

/** The header's elements (see index.html). */
export interface HeaderDom {
  langSelect: HTMLSelectElement;
  langLabel: HTMLElement;
  themeSelect: HTMLSelectElement;
  themeLabel: HTMLElement;
  heading: HTMLElement;
  tagline: HTMLElement;
  skip: HTMLAnchorElement;
  reset: HTMLButtonElement;
  copy: HTMLButtonElement;
  /** embed=1: the link to the same view on the full page. */
  open: HTMLAnchorElement;
}

/**
 * Writes the header's texts and menus.
 * @param dom - its elements
 * @param t - labels of the language
 * @param lang - the language (selected in its menu, set on <html>)
 * @param theme - the theme selected in its menu
 */
export function labelHeader(dom: HeaderDom, t: Labels, lang: Lang, theme: Theme): void {
  document.documentElement.lang = htmlLang(lang);
  dom.langSelect.replaceChildren(
    ...LANGS.map((l) => h('option', { value: l, lang: htmlLang(l), text: LANG_NAMES[l] })),
  );
  dom.langSelect.value = lang;
  dom.langLabel.textContent = t.language;
  dom.themeLabel.textContent = t.theme;
  dom.themeSelect.replaceChildren(...THEMES.map((th) => h('option', { value: th, text: t.themes[th] })));
  dom.themeSelect.value = theme;
  dom.heading.textContent = t.heading;
  dom.tagline.textContent = t.tagline;
  dom.skip.textContent = t.skip;
  dom.reset.textContent = t.resetView;
  dom.copy.textContent = t.copyLink;
  dom.open.textContent = t.openFull;
}
