// Title, formula and derivative (KaTeX), explanation (text with inline KaTeX)
// and properties of an op.
import type { OpMeta } from '../engine/index.js';
import { h } from './dom.js';
import type { Labels, Lang } from './i18n.js';
import { renderDoc, renderMath } from './math.js';

/** Shows one op's texts in the chosen language. */
export class FormulaView {
  readonly #head: HTMLElement;
  readonly #details: HTMLElement;
  readonly #onError: (err: unknown) => void;

  /**
   * @param head - container for the title and the two formulas
   * @param details - container for the explanation and the properties
   * @param onError - receives KaTeX parse errors, of formulas and of the explanation's inline maths (the raw
   *   LaTeX is shown instead)
   */
  constructor(head: HTMLElement, details: HTMLElement, onError: (err: unknown) => void) {
    this.#head = head;
    this.#details = details;
    this.#onError = onError;
  }

  /**
   * Renders an op.
   * @param op - registry metadata
   * @param t - labels
   * @param lang - language of title and explanation
   */
  update(op: OpMeta, t: Labels, lang: Lang): void {
    const yesNo = (b: boolean) => (b ? t.yes : t.no);
    const prop = (name: string, value: string | Node) => [h('dt', { text: name }), h('dd', {}, value)];
    this.#head.replaceChildren(
      h(
        'h2',
        { 'data-testid': 'op-title' },
        op.title[lang] || op.title.en,
        ' ',
        h('code', { class: 'op-id', text: op.id }),
      ),
      h(
        'div',
        { class: 'formulas' },
        h('section', {}, h('h3', { text: t.formula }), this.#math(op.latex, 'formula')),
        h('section', {}, h('h3', { text: t.derivative }), this.#math(op.dlatex, 'derivative')),
      ),
    );
    // Monotonic, zero-centred and smooth describe a function of one number: an element-wise op's. For a
    // row-wise or general op (logsumexp rises in every entry, yet is no monotonic function of "x") and for
    // schedules and initializers they would be boilerplate, so only their output range shows; an
    // optimizer's output (parameters, anywhere in ℝ^d) has no property worth a table.
    const scalar = op.kind === 'op' && op.form === 'elementwise';
    const range = op.props.range && op.kind !== 'optimizer';
    const props = [
      ...(range ? prop(t.propRange, this.#math(op.props.range, 'range', false)) : []),
      ...(scalar
        ? [
            ...prop(t.propMonotonic, yesNo(op.props.monotonic)),
            ...prop(t.propZeroCentred, yesNo(op.props.zeroCentred)),
            ...prop(t.propSmooth, yesNo(op.props.smooth)),
          ]
        : []),
    ];
    this.#details.replaceChildren(h('h3', { text: t.explanation }), this.#doc(op.doc[lang] || op.doc.en, lang));
    if (props.length)
      this.#details.append(
        h('h3', { text: t.properties }),
        h('dl', { class: 'props', 'data-testid': 'op-props' }, ...props),
      );
  }

  /**
   * Renders a page that is not a registry entry (a lesson or a tool).
   * @param page - its title, formula and text
   * @param t - labels
   * @param lang - language of title and text
   */
  updateLesson(
    page: { id: string; title: { en: string; zh: string }; latex: string; doc: { en: string; zh: string } },
    t: Labels,
    lang: Lang,
  ): void {
    this.#head.replaceChildren(h('h2', { 'data-testid': 'op-title' }, page.title[lang] || page.title.en));
    if (page.latex) this.#head.append(h('div', { class: 'formulas' }, this.#math(page.latex, 'formula')));
    this.#details.replaceChildren(h('h3', { text: t.explanation }), this.#doc(page.doc[lang] || page.doc.en, lang));
  }

  /** Clears the view. */
  reset(): void {
    this.#head.replaceChildren();
    this.#details.replaceChildren();
  }

  #doc(text: string, lang: Lang): HTMLElement {
    const el = h('p', { class: 'doc', lang: lang === 'zh' ? 'zh-Hans' : 'en', 'data-testid': 'op-doc' });
    renderDoc(el, text, this.#onError);
    return el;
  }

  #math(latex: string, testid: string, display = true): HTMLElement {
    const el = h(display ? 'div' : 'span', { class: display ? 'math' : 'math-inline', 'data-testid': testid });
    if (latex) renderMath(el, latex, this.#onError, display);
    return el;
  }
}
