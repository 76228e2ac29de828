// Input controls: param sliders (from op.params), the x range, the probe,
// row entries (row-wise ops) and extra input fills (general ops).
import type { OpMeta } from '../engine/index.js';
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

function interval(p: ParamSpec): string {
  const f = (v: number) => (v === Infinity ? '∞' : v === -Infinity ? '−∞' : String(v));
  const l = p.minOpen || !Number.isFinite(p.min) ? '(' : '[';
  const r = p.maxOpen || !Number.isFinite(p.max) ? ')' : ']';
  return `${l}${f(p.min)}, ${f(p.max)}${r}`;
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

/** Constant fill of each extra input of a general op. */
export class ExtraInputPanel {
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
   * @param names - the extra inputs ([] hides the panel)
   * @param values - current fills by name
   * @param t - labels
   */
  update(names: string[], values: Record<string, number>, t: Labels): void {
    this.#root.hidden = names.length === 0;
    const fields = names.map(
      (name) =>
        new SliderField(`input-${name}`, name, '', values[name]!, { lo: -5, hi: 5, step: 0.01 }, (v) =>
          this.#onChange(name, v),
        ).root,
    );
    this.#root.replaceChildren(
      h('h3', { text: t.extraInputs }),
      h('p', { class: 'muted small', text: t.extraInputsHelp }),
      ...fields,
    );
  }
}

/** The row explanation and the fixed row entries of a row-wise op. */
export class RowPanel {
  readonly #root: HTMLElement;
  readonly #input: HTMLInputElement;
  readonly #label: HTMLLabelElement;
  readonly #title: HTMLElement;
  readonly #help: HTMLElement;

  /**
   * @param root - container to fill
   * @param onChange - called with the entries' text on every input event
   */
  constructor(root: HTMLElement, onChange: (text: string) => void) {
    this.#root = root;
    this.#input = h('input', { id: 'row-rest', type: 'text', inputmode: 'decimal', 'data-testid': 'row-rest' });
    this.#label = h('label', { for: 'row-rest' });
    this.#title = h('h3');
    this.#help = h('p', { class: 'muted small' });
    this.#input.addEventListener('input', () => onChange(this.#input.value));
    root.replaceChildren(this.#title, this.#help, this.#label, this.#input);
  }

  /**
   * @param visible - whether the op is row-wise
   * @param text - the entries, e.g. "0, 1"
   * @param t - labels
   */
  update(visible: boolean, text: string, t: Labels): void {
    this.#root.hidden = !visible;
    this.#title.textContent = t.rowTitle;
    this.#help.textContent = t.rowHelp;
    this.#label.textContent = t.rowRest;
    if (this.#input.value !== text && document.activeElement !== this.#input) this.#input.value = text;
  }
}

/**
 * Parses comma- or space-separated numbers ("0, 1").
 * @param text - the user's text
 * @returns the numbers, or null if any entry is not a finite number
 */
export function parseRow(text: string): number[] | null {
  const parts = text.split(/[\s,;]+/).filter((s) => s !== '');
  const nums = parts.map(Number);
  return nums.every(Number.isFinite) ? nums : null;
}

/** x min / max inputs. */
export class RangeControls {
  readonly #title: HTMLElement;
  readonly #minLabel: HTMLLabelElement;
  readonly #maxLabel: HTMLLabelElement;
  readonly #min: HTMLInputElement;
  readonly #max: HTMLInputElement;

  /**
   * @param root - container to fill
   * @param onChange - called with (min, max) when both parse (validity is the caller's)
   */
  constructor(root: HTMLElement, onChange: (min: number, max: number) => void) {
    this.#title = h('h3');
    this.#min = h('input', { id: 'x-min', type: 'number', step: 'any', 'data-testid': 'x-min' });
    this.#max = h('input', { id: 'x-max', type: 'number', step: 'any', 'data-testid': 'x-max' });
    this.#minLabel = h('label', { for: 'x-min' });
    this.#maxLabel = h('label', { for: 'x-max' });
    const fire = () => {
      const a = this.#min.valueAsNumber;
      const b = this.#max.valueAsNumber;
      if (Number.isFinite(a) && Number.isFinite(b)) onChange(a, b);
    };
    this.#min.addEventListener('input', fire);
    this.#max.addEventListener('input', fire);
    root.replaceChildren(
      this.#title,
      h(
        'div',
        { class: 'pair' },
        h('div', { class: 'field' }, this.#minLabel, this.#min),
        h('div', { class: 'field' }, this.#maxLabel, this.#max),
      ),
    );
  }

  /**
   * @param min - x min
   * @param max - x max
   * @param t - labels
   */
  update(min: number, max: number, t: Labels): void {
    this.#title.textContent = t.range;
    this.#minLabel.textContent = t.xmin;
    this.#maxLabel.textContent = t.xmax;
    if (document.activeElement !== this.#min) this.#min.value = String(min);
    if (document.activeElement !== this.#max) this.#max.value = String(max);
  }
}

/** The probe: an x input and f(x), f'(x) as computed by the core. */
export class ProbeView {
  readonly #title: HTMLElement;
  readonly #help: HTMLElement;
  readonly #xLabel: HTMLLabelElement;
  readonly #fLabel: HTMLElement;
  readonly #dfLabel: HTMLElement;
  readonly #x: HTMLInputElement;
  readonly #f: HTMLOutputElement;
  readonly #df: HTMLOutputElement;

  /**
   * @param root - container to fill
   * @param onChange - called with x when it parses
   */
  constructor(root: HTMLElement, onChange: (x: number) => void) {
    this.#title = h('h3');
    this.#help = h('p', { class: 'muted small' });
    this.#x = h('input', { id: 'probe-x', type: 'number', step: 'any', 'data-testid': 'probe-x' });
    this.#f = h('output', { id: 'probe-f', for: 'probe-x', 'data-testid': 'probe-f' });
    this.#df = h('output', { id: 'probe-df', for: 'probe-x', 'data-testid': 'probe-df' });
    this.#xLabel = h('label', { for: 'probe-x' });
    this.#fLabel = h('span', { id: 'probe-f-label' });
    this.#dfLabel = h('span', { id: 'probe-df-label' });
    this.#f.setAttribute('aria-labelledby', 'probe-f-label');
    this.#df.setAttribute('aria-labelledby', 'probe-df-label');
    this.#x.addEventListener('input', () => {
      const v = this.#x.valueAsNumber;
      if (Number.isFinite(v)) onChange(v);
    });
    root.replaceChildren(
      this.#title,
      h('div', { class: 'field' }, this.#xLabel, this.#x),
      h(
        'dl',
        { class: 'probe-values', 'aria-live': 'polite' },
        h('dt', {}, this.#fLabel),
        h('dd', {}, this.#f),
        h('dt', {}, this.#dfLabel),
        h('dd', {}, this.#df),
      ),
      this.#help,
    );
  }

  /**
   * @param x - probe x
   * @param values - f and f' at x from the core (null: unavailable)
   * @param t - labels
   */
  update(x: number, values: { f: number; df: number } | null, t: Labels): void {
    this.#title.textContent = t.probe;
    this.#help.textContent = t.probeHelp;
    this.#xLabel.textContent = t.probeX;
    this.#fLabel.textContent = t.probeF;
    this.#dfLabel.textContent = t.probeDf;
    if (document.activeElement !== this.#x) this.#x.value = String(x);
    this.#f.textContent = values ? formatF32(values.f) : '–';
    this.#df.textContent = values ? formatF32(values.df) : '–';
  }
}
