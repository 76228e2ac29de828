// The activation picker: a search box over id and both titles, and a listbox
// grouped by form, both built from the registry metadata at run time.
import type { OpMeta } from '../engine/index.js';
import { h } from './dom.js';
import type { Labels, Lang } from './i18n.js';

const GROUPS = [
  { form: 'elementwise', label: 'groupElementwise' },
  { form: 'rowwise', label: 'groupRowwise' },
  { form: 'general', label: 'groupGeneral' },
] as const;

/** Search box plus grouped listbox; calls `onPick(id)` on a choice. */
export class OpPicker {
  readonly #ops: OpMeta[];
  readonly #onPick: (id: string) => void;
  readonly #search: HTMLInputElement;
  readonly #select: HTMLSelectElement;
  readonly #searchLabel: HTMLLabelElement;
  readonly #selectLabel: HTMLLabelElement;
  readonly #empty: HTMLElement;
  #t: Labels | null = null;
  #lang: Lang = 'en';
  #current = '';

  /**
   * @param root - container to fill
   * @param ops - the activations, in registry order
   * @param onPick - called with the chosen op id
   */
  constructor(root: HTMLElement, ops: OpMeta[], onPick: (id: string) => void) {
    this.#ops = ops;
    this.#onPick = onPick;
    this.#search = h('input', { id: 'op-search', type: 'search', autocomplete: 'off', 'data-testid': 'op-search' });
    this.#select = h('select', { id: 'op-select', size: 12, 'data-testid': 'op-select' });
    this.#searchLabel = h('label', { for: 'op-search' });
    this.#selectLabel = h('label', { for: 'op-select' });
    this.#empty = h('p', { class: 'muted', hidden: true });
    root.replaceChildren(this.#searchLabel, this.#search, this.#selectLabel, this.#select, this.#empty);

    this.#search.addEventListener('input', () => this.#fill());
    this.#search.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === 'ArrowDown') {
        const first = this.#select.querySelector('option');
        if (first && e.key === 'Enter') this.#pick(first.value);
        this.#select.focus();
        e.preventDefault();
      }
    });
    this.#select.addEventListener('change', () => this.#pick(this.#select.value));
  }

  /**
   * Shows the current op and the UI language.
   * @param current - selected op id
   * @param t - labels
   * @param lang - language of the op titles
   */
  update(current: string, t: Labels, lang: Lang): void {
    this.#current = current;
    this.#t = t;
    this.#lang = lang;
    this.#searchLabel.textContent = t.search;
    this.#search.placeholder = t.searchPlaceholder;
    this.#selectLabel.textContent = t.activation;
    this.#empty.textContent = t.noMatch;
    this.#fill();
  }

  #pick(id: string): void {
    if (!id || id === this.#current) return;
    this.#current = id;
    this.#onPick(id);
  }

  #matches(op: OpMeta, q: string): boolean {
    if (!q) return true;
    return [op.id, op.title.en, op.title.zh].some((s) => s.toLowerCase().includes(q));
  }

  #fill(): void {
    const t = this.#t;
    if (!t) return;
    const q = this.#search.value.trim().toLowerCase();
    const groups: HTMLOptGroupElement[] = [];
    for (const g of GROUPS) {
      const ops = this.#ops.filter((o) => o.form === g.form && this.#matches(o, q));
      if (!ops.length) continue;
      const group = h('optgroup', { label: t[g.label] });
      for (const o of ops) {
        const title = o.title[this.#lang] || o.title.en;
        group.append(h('option', { value: o.id, text: title === o.id ? o.id : `${title} · ${o.id}` }));
      }
      groups.push(group);
    }
    this.#select.replaceChildren(...groups);
    this.#select.value = this.#current; // '' (nothing shown) if filtered out
    this.#empty.hidden = groups.length > 0;
  }
}
