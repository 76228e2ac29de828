// Input controls: the entry's params (from op.params) as sliders, steppers,
// checkboxes and lists, and the slider field the views reuse.
import type { OpMeta } from '../engine/index.js';
import { interval } from '../state/params.js';
import { h } from './dom.js';
import { formatF32 } from './format.js';
import type { Labels } from './i18n.js';

type ParamSpec = OpMeta['params'][number];

/** Finite slider bounds for a param: its range, clamped to ±5 when unbounded. */
export function sliderRange(p: Pick<ParamSpec, 'min' | 'max' | 'minOpen' | 'maxOpen' | 'default' | 'type'>): {
  lo: number;
  hi: number;
  step: number;
} {
  let lo = Number.isFinite(p.min) ? p.min : Math.min(-5, Number.isFinite(p.max) ? p.max - 5 : -5);
  let hi = Number.isFinite(p.max) ? p.max : Math.max(5, lo + 5);
  if (Number.isFinite(p.default)) {
    lo = Math.min(lo, p.default);
    hi = Math.max(hi, p.default);
  }
  if (p.type === 'int') return { lo: Math.ceil(lo), hi: Math.floor(hi), step: 1 };
  const step = (hi - lo) / 1000;
  // An open bound is not a valid value: stop one step inside it.
  if (p.minOpen && lo === p.min) lo += step;
  if (p.maxOpen && hi === p.max) hi -= step;
  return { lo, hi, step };
}

/** A labelled slider with a number input beside it, kept in step. */
export class SliderField {
  readonly root: HTMLElement;
  readonly #slider: HTMLInputElement;
  readonly #number: HTMLInputElement;

  constructor(
    id: string,
    label: string,
    hint: string,
    value: number,
    range: { lo: number; hi: number; step: number },
    onChange: (v: number) => void,
  ) {
    this.#slider = h('input', {
      id: `${id}-range`,
      type: 'range',
      min: range.lo,
      max: range.hi,
      step: range.step,
      'data-testid': `${id}-slider`,
      'aria-label': label,
    });
    this.#number = h('input', { id, type: 'number', step: range.step === 1 ? 1 : 'any', 'data-testid': id });
    this.#slider.value = String(value);
    // Shown rounded (a default such as 1/3 would not fit); the op keeps the
    // exact value until the user edits it.
    this.#number.value = String(Number(value.toPrecision(6)));
    this.#slider.addEventListener('input', () => {
      this.#number.value = this.#slider.value;
      onChange(Number(this.#slider.value));
    });
    this.#number.addEventListener('input', () => {
      const v = this.#number.valueAsNumber;
      if (!Number.isFinite(v)) return;
      this.#slider.value = String(v);
      onChange(v);
    });
    this.root = h(
      'div',
      { class: 'field slider-field' },
      h('label', { for: id }, label, hint ? h('span', { class: 'muted hint', text: ` ${hint}` }) : null),
      h('div', { class: 'slider-row' }, this.#slider, this.#number),
    );
  }

  /** Shows a value set from elsewhere (no change event). */
  set(value: number): void {
    this.#slider.value = String(value);
    this.#number.value = String(Number(value.toPrecision(6)));
  }
}

/** One control per op param; calls `onChange(name, value)` live. */
export class ParamPanel {
  readonly #root: HTMLElement;
  readonly #onChange: (name: string, value: number) => void;

  /**
   * @param root - container to fill
   * @param onChange - called on every input event
   */
  constructor(root: HTMLElement, onChange: (name: string, value: number) => void) {
    this.#root = root;
    this.#onChange = onChange;
  }

  /**
   * Builds the controls of an op.
   * @param op - registry metadata
   * @param values - current param values by name
   * @param t - labels
   */
  update(op: OpMeta, values: Record<string, number>, t: Labels): void {
    const fields = op.params.map((p) => {
      const value = values[p.name] ?? p.default;
      const id = `param-${p.name}`;
      if (p.type === 'bool') {
        const box = h('input', { id, type: 'checkbox', 'data-testid': id });
        box.checked = value !== 0;
        box.addEventListener('change', () => this.#onChange(p.name, box.checked ? 1 : 0));
        return h('div', { class: 'field checkbox-field' }, box, h('label', { for: id, text: p.name }));
      }
      if (p.type === 'enum') {
        const sel = h('select', { id, 'data-testid': id });
        sel.replaceChildren(...p.choices.map((c, i) => h('option', { value: i, text: c })));
        sel.value = String(value);
        sel.addEventListener('change', () => this.#onChange(p.name, Number(sel.value)));
        return h('div', { class: 'field' }, h('label', { for: id, text: p.name }), sel);
      }
      if (p.type === 'int') {
        // A stepper: int ranges such as a seed's [0, 2^32) make useless sliders.
        const num = h('input', {
          id,
          type: 'number',
          step: 1,
          min: Number.isFinite(p.min) ? p.min : undefined,
          max: Number.isFinite(p.max) ? p.max : undefined,
          'data-testid': id,
        });
        num.value = String(value);
        num.addEventListener('input', () => {
          const v = num.valueAsNumber;
          if (Number.isFinite(v)) this.#onChange(p.name, v);
        });
        return h(
          'div',
          { class: 'field' },
          h('label', { for: id }, p.name, h('span', { class: 'muted hint', text: ` ${interval(p)}` })),
          num,
        );
      }
      return new SliderField(id, p.name, interval(p), value, sliderRange(p), (v) => this.#onChange(p.name, v)).root;
    });
    this.#root.replaceChildren(
      h('h3', { text: t.params }),
      ...(fields.length ? fields : [h('p', { class: 'muted', text: t.noParams })]),
    );
  }

  /** Removes every control. */
  reset(): void {
    this.#root.replaceChildren();
  }
}
