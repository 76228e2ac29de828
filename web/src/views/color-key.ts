// A colour key for a PlanePlot, which draws no legend of its own: one line
// sample per series colour (dashed when the path is dashed) and its label.
import { h } from '../ui/dom.js';
import './views.css';

/** One entry of a key: theme series colour index, label, dashed or not. */
export type KeyItem = [color: number, label: string, dashed?: boolean];

/** Inserts a key right after `anchor` (e.g. a figure's body). */
export function colorKey(anchor: HTMLElement, items: KeyItem[]): HTMLElement {
  const p = h(
    'p',
    { class: 'color-key muted' },
    ...items.map(([c, label, dashed]) =>
      h('span', {}, h('span', { class: `swatch c${c % 8}${dashed ? ' dashed' : ''}`, 'aria-hidden': 'true' }), label),
    ),
  );
  anchor.after(p);
  return p;
}
