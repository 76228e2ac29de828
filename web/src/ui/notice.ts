// The visible notice area: engine errors (DlmathError) and anything else that
// went wrong are shown here, never swallowed. The page keeps working.
import { DlmathError } from '../engine/index.js';
import { h } from './dom.js';
import type { Labels } from './i18n.js';

/** One message per source ('plot', 'probe', ...), so a fixed problem clears. */
export class Notice {
  readonly #root: HTMLElement;
  readonly #list: HTMLUListElement;
  readonly #title: HTMLElement;
  readonly #dismiss: HTMLButtonElement;
  readonly #messages = new Map<string, string>();

  /** @param root - the container, shown only while there are messages */
  constructor(root: HTMLElement) {
    this.#root = root;
    this.#title = h('strong');
    this.#list = h('ul');
    this.#dismiss = h('button', { type: 'button', class: 'notice-dismiss' });
    this.#dismiss.addEventListener('click', () => this.reset());
    root.replaceChildren(h('div', { class: 'notice-head' }, this.#title, this.#dismiss), this.#list);
    root.hidden = true;
  }

  /**
   * Shows (or replaces) the message of one source.
   * @param source - what failed, e.g. 'plot'
   * @param err - the error (a DlmathError shows its code)
   */
  show(source: string, err: unknown): void {
    const text =
      err instanceof DlmathError
        ? `${err.message} [${err.code}]`
        : err instanceof Error
          ? `${err.name}: ${err.message}`
          : String(err);
    this.#messages.set(source, text);
    this.#render();
  }

  /**
   * Clears the message of one source (it works again).
   * @param source - as given to show()
   */
  clear(source: string): void {
    if (this.#messages.delete(source)) this.#render();
  }

  /** Clears every message. */
  reset(): void {
    this.#messages.clear();
    this.#render();
  }

  /**
   * Applies the UI language.
   * @param t - labels
   */
  update(t: Labels): void {
    this.#title.textContent = t.errors;
    this.#dismiss.textContent = t.dismiss;
  }

  #render(): void {
    this.#list.replaceChildren(
      ...[...this.#messages.values()].map((m) => h('li', { 'data-testid': 'notice-message', text: m })),
    );
    this.#root.hidden = this.#messages.size === 0;
  }
}
