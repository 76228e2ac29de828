/**
 * dlmath's custom elements: import this module once (`import 'dlmath/elements'`)
 * and write the tags in any page. Attributes are the full page's URL keys.
 *
 * ```html
 * <dlmath-entry e="huber" p.delta="0.5"></dlmath-entry>
 * <dlmath-formula value="x*sigmoid(1.702*x)" theme="dark" lang="zh"></dlmath-formula>
 * ```
 * @packageDocumentation
 */
import { DlmathEntry } from './entry.js';
import { DlmathFormula } from './formula.js';

export { DlmathEntry, DlmathFormula };

declare global {
  interface HTMLElementTagNameMap {
    'dlmath-entry': DlmathEntry;
    'dlmath-formula': DlmathFormula;
  }
}

// A page may load the module twice (two bundles): the first definition stays.
for (const [tag, cls] of [
  ['dlmath-entry', DlmathEntry],
  ['dlmath-formula', DlmathFormula],
] as const)
  if (!customElements.get(tag)) customElements.define(tag, cls);
