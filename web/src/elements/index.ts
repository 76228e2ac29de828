/**
 * dlmath's custom elements: import this module once (`import 'dlmath/elements'`)
 * and write the tags in any page. Attributes are the full page's URL keys.
 *
 * ```html
 * <dlmath-entry e="huber" p.delta="0.5"></dlmath-entry>
 * <dlmath-formula value="x*sigmoid(1.702*x)" theme="dark" lang="zh"></dlmath-formula>
 * <dlmath-train v.data="xor"></dlmath-train>
 * ```
 * @packageDocumentation
 */
import { DlmathEntry } from './entry.js';
import { DlmathFormula } from './formula.js';
import { DlmathTrain } from './train.js';

export { DlmathEntry, DlmathFormula, DlmathTrain };

declare global {
  interface HTMLElementTagNameMap {
    'dlmath-entry': DlmathEntry;
    'dlmath-formula': DlmathFormula;
    'dlmath-train': DlmathTrain;
  }
}

// A page may load the module twice (two bundles): the first definition stays.
for (const [tag, cls] of [
  ['dlmath-entry', DlmathEntry],
  ['dlmath-formula', DlmathFormula],
  ['dlmath-train', DlmathTrain],
] as const)
  if (!customElements.get(tag)) customElements.define(tag, cls);
