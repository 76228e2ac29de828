// LaTeX on the page, by KaTeX. A display formula is typeset in display style
// but laid out as inline maths: KaTeX's display mode never breaks a line, so
// a long formula would widen its panel; inline, it breaks after a top-level
// relation sign or operator to fit the width. Whatever still does not fit (a
// wide matrix, a long case list) scrolls inside its own `.math` box.
// KaTeX's code loads on first use, so a page's first plot never waits for it;
// once loaded, a formula is typeset in the same task it was asked for.
import 'katex/dist/katex.min.css';
import { h } from './dom.js';
import { splitInlineMath, type DocPart } from './inline-math.js';

/**
 * Renders LaTeX into `el`; on a parse error, shows the source as code and reports the error.
 * @param el - the box (its content is replaced)
 * @param latex - the formula
 * @param onError - receives KaTeX's parse error (or the failure to load KaTeX)
 * @param display - display style (a formula of its own) or text style (inside a sentence)
 */
export function renderMath(el: HTMLElement, latex: string, onError: (err: unknown) => void, display = true): void {
  const fail = (err: unknown) => {
    el.replaceChildren(h('code', { text: latex }));
    onError(err);
  };
  import('katex').then(({ default: katex }) => {
    try {
      katex.render(display ? `\\displaystyle ${latex}` : latex, el, { throwOnError: true, output: 'htmlAndMathml' });
    } catch (err) {
      fail(err);
    }
  }, fail);
}

/**
 * Shows an explanation in `el`: its text as text (never parsed as HTML), each `$…$` span as inline KaTeX.
 * A span that does not parse, or a `$` left open, is shown as its source and reported.
 * @param el - the paragraph (its content is replaced)
 * @param doc - the explanation (see inline-math.ts)
 * @param onError - receives the parse error
 */
export function renderDoc(el: HTMLElement, doc: string, onError: (err: unknown) => void): void {
  let parts: DocPart[];
  try {
    parts = splitInlineMath(doc);
  } catch (err) {
    el.textContent = doc;
    onError(err);
    return;
  }
  el.replaceChildren(
    ...parts.map((part) => {
      if ('text' in part) return part.text;
      const span = h('span', { class: 'math-inline' });
      renderMath(span, part.math, onError, false);
      return span;
    }),
  );
}
