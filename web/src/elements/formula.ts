// <dlmath-formula value="x*sigmoid(1.702*x)">: the formula evaluator, its
// text in `value` (the full page's `v.f`), f and its exact derivative plotted.
import { LESSONS } from '../views/index.js';
import { DlmathElement, type ElementTarget } from './base.js';

/** The formula evaluator: the core parses `value`, evaluates it and differentiates it exactly. */
export class DlmathFormula extends DlmathElement {
  protected override aliasOf(name: string): string {
    return name === 'value' ? 'v.f' : '';
  }

  protected async target(): Promise<ElementTarget> {
    const { meta, load } = LESSONS.formula!;
    return { target: { lesson: meta, load }, params: {}, page: 'formula' };
  }
}
