// The styles of the custom elements. A shadow root sees no document style, so
// every sheet the views use (KaTeX, uPlot, the shell's components and the
// views' own) is built once per page into one constructed sheet that every
// element's shadow root adopts. Fonts are the exception: @font-face rules do
// nothing inside a shadow root, so KaTeX's are adopted by the document once.
import katexCss from 'katex/dist/katex.min.css?inline';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import shellCss from '../ui/style.css?inline';
import chainRuleCss from '../views/chain-rule.css?inline';
import lossesCss from '../views/losses/losses.css?inline';
import trainCss from '../train/train.css?inline';
import numericsCss from '../views/numerics.css?inline';
import optimizersCss from '../views/optimizers.css?inline';
import viewsCss from '../views/views.css?inline';
import elementCss from './elements.css?inline';

const FONT_FACE = /@font-face\s*\{[^}]*\}/g;
// KaTeX's CSS as one string. Built, it is a concatenation (each font url() becomes `new URL(...)`) that the
// bundler inlines where the import is used without parentheses, so `katexCss.match(...)` would apply to its
// last piece only; a template literal keeps it whole.
const KATEX_CSS = `${katexCss}`;

/**
 * Memoizes a function of no arguments: the first call's result is kept for the page.
 * @param make - builds the value
 */
function once<T>(make: () => T): () => T {
  let made: { value: T } | null = null;
  return () => (made ??= { value: make() }).value;
}

/** The sheet every element's shadow root adopts (built on first use). */
export const shadowSheet = once((): CSSStyleSheet => {
  const sheet = new CSSStyleSheet();
  const sheets = [KATEX_CSS.replace(FONT_FACE, ''), uplotCss, shellCss, viewsCss, numericsCss, optimizersCss];
  sheet.replaceSync([...sheets, lossesCss, chainRuleCss, trainCss, elementCss].join('\n'));
  return sheet;
});

/** Adds KaTeX's @font-face rules to the document, once per page (fonts are document-level). */
export const adoptFonts = once((): void => {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync((KATEX_CSS.match(FONT_FACE) ?? []).join('\n'));
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
});
