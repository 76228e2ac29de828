// Small labelled controls for the family views: each returns its root (already
// appended to `parent`) and a way to show a value set from elsewhere. Every
// control is a native element, so it is keyboard reachable and labelled.
import { SliderField } from './controls.js';
import { h } from './dom.js';

/** A slider with a number box. */
export function slider(
  parent: HTMLElement,
  o: { id: string; label: string; min: number; max: number; step?: number; value: number; hint?: string },
  onInput: (v: number) => void,
): SliderField {
  const f = new SliderField(
    o.id,
    o.label,
    o.hint ?? '',
    o.value,
    { lo: o.min, hi: o.max, step: o.step ?? (o.max - o.min) / 1000 },
    onInput,
  );
  parent.append(f.root);
  return f;
}

/** A drop-down list. */
export function select<T extends string>(
  parent: HTMLElement,
  o: { id: string; label: string; options: readonly { value: T; label: string }[]; value: T },
  onChange: (v: T) => void,
): HTMLSelectElement {
  const sel = h('select', { id: o.id, 'data-testid': o.id });
  sel.replaceChildren(...o.options.map((c) => h('option', { value: c.value, text: c.label })));
  sel.value = o.value;
  sel.addEventListener('change', () => onChange(sel.value as T));
  parent.append(h('div', { class: 'field' }, h('label', { for: o.id, text: o.label }), sel));
  return sel;
}

/** A checkbox. */
export function toggle(
  parent: HTMLElement,
  o: { id: string; label: string; checked: boolean },
  onChange: (checked: boolean) => void,
): HTMLInputElement {
  const box = h('input', { id: o.id, type: 'checkbox', 'data-testid': o.id });
  box.checked = o.checked;
  box.addEventListener('change', () => onChange(box.checked));
  parent.append(h('div', { class: 'field checkbox-field' }, box, h('label', { for: o.id, text: o.label })));
  return box;
}

/** A one-line text box (numbers lists, matrices as "1, 2; 3, 4"); calls back on each edit. */
export function textField(
  parent: HTMLElement,
  o: { id: string; label: string; value: string; placeholder?: string; wide?: boolean },
  onInput: (text: string) => void,
): HTMLInputElement {
  const input = h('input', {
    id: o.id,
    type: 'text',
    'data-testid': o.id,
    spellcheck: 'false',
    autocomplete: 'off',
    placeholder: o.placeholder,
    class: o.wide ? 'wide' : undefined,
  });
  input.value = o.value;
  input.addEventListener('input', () => onInput(input.value));
  parent.append(h('div', { class: 'field' }, h('label', { for: o.id, text: o.label }), input));
  return input;
}

/** A group of controls with a heading. */
export function controlGroup(parent: HTMLElement, title: string): HTMLElement {
  const g = h('section', { class: 'panel control-group' }, h('h3', { text: title }));
  parent.append(g);
  return g;
}

/** A live text readout (numbers from the engine), e.g. "loss = 0.25". */
export function readout(parent: HTMLElement, testid: string): HTMLOutputElement {
  const o = h('output', { class: 'readout', 'data-testid': testid });
  parent.append(o);
  return o;
}

/**
 * Parses "1, 2; 3, 4" (rows separated by ';' or new lines) into rows of numbers.
 * @returns null when a cell is not a finite number or rows differ in length
 */
export function parseMatrix(text: string): number[][] | null {
  const rows = text
    .split(/[;\n]/)
    .map((r) => r.trim())
    .filter((r) => r !== '')
    .map((r) => r.split(/[,\s]+/).map(Number));
  if (!rows.length || rows.some((r) => r.length !== rows[0]!.length || r.some((v) => !Number.isFinite(v)))) return null;
  return rows;
}

/** Writes rows as "1, 2; 3, 4". */
export function formatMatrix(rows: ArrayLike<number>[]): string {
  return rows.map((r) => Array.from(r, (v) => String(Number(v.toPrecision(4)))).join(', ')).join('; ');
}

/** A set of checkboxes in a fieldset (overlays to compare); calls back with the checked values. */
export function checklist(
  parent: HTMLElement,
  o: { id: string; legend: string; options: readonly { value: string; label: string }[]; checked: readonly string[] },
  onChange: (checked: string[]) => void,
): HTMLFieldSetElement {
  const boxes = o.options.map((c) => {
    const box = h('input', {
      type: 'checkbox',
      id: `${o.id}-${c.value}`,
      value: c.value,
      'data-testid': `${o.id}-${c.value}`,
    });
    box.checked = o.checked.includes(c.value);
    return { box, row: h('label', { class: 'check-item', for: `${o.id}-${c.value}` }, box, ` ${c.label}`) };
  });
  const set = h(
    'fieldset',
    { class: 'checklist', 'data-testid': o.id },
    h('legend', { text: o.legend }),
    ...boxes.map((b) => b.row),
  );
  set.addEventListener('change', () => onChange(boxes.filter((b) => b.box.checked).map((b) => b.box.value)));
  parent.append(set);
  return set;
}

/** The x range of a curve plot and its probe point. */
export interface RangeProbe {
  xmin: number;
  xmax: number;
  probe: number;
}

/** The x extent of the range sliders: x min and x max share it, so the min's thumb sits left of the max's. */
const X_SLIDER: [number, number] = [-20, 20];

/**
 * The slider trio of a curve plot: x min and x max both on [−20, 20] (a range typed in a box or read from a
 * link may go beyond) and the probe x in [−10, 10]
 * (ids `<idPrefix>-xmin`, `<idPrefix>-xmax`, `<idPrefix>-probe`).
 * @param parent - where the sliders go
 * @param idPrefix - the ids' prefix
 * @param labels - the three labels
 * @param state - the current values; a slider writes its value into it before calling `onChange`
 * @param onChange - called with the key that changed
 * @returns the probe's slider, to show a probe set from elsewhere (a click on a plot)
 */
export function rangeProbeSliders(
  parent: HTMLElement,
  idPrefix: string,
  labels: { xmin: string; xmax: string; probe: string },
  state: RangeProbe,
  onChange: (key: keyof RangeProbe) => void,
): SliderField {
  const set = (key: keyof RangeProbe) => (v: number) => {
    state[key] = v;
    onChange(key);
  };
  slider(
    parent,
    { id: `${idPrefix}-xmin`, label: labels.xmin, min: X_SLIDER[0], max: X_SLIDER[1], step: 0.1, value: state.xmin },
    set('xmin'),
  );
  slider(
    parent,
    { id: `${idPrefix}-xmax`, label: labels.xmax, min: X_SLIDER[0], max: X_SLIDER[1], step: 0.1, value: state.xmax },
    set('xmax'),
  );
  return slider(
    parent,
    { id: `${idPrefix}-probe`, label: labels.probe, min: -10, max: 10, step: 0.01, value: state.probe },
    set('probe'),
  );
}

/**
 * A push button in its own field (styled by the views' `.view-button`).
 * @param parent - where it goes
 * @param o - its test id and text
 * @param onClick - what a press does
 */
export function button(
  parent: HTMLElement,
  o: { testid: string; text: string },
  onClick: () => void,
): HTMLButtonElement {
  const b = h('button', { type: 'button', class: 'view-button', 'data-testid': o.testid, text: o.text });
  b.addEventListener('click', onClick);
  parent.append(h('div', { class: 'field' }, b));
  return b;
}
