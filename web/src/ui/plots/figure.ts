// A figure: caption, the plot's box and PNG / SVG export buttons.
import { h } from '../dom.js';
import type { Lang } from '../i18n.js';
import { download } from './svg.js';

/** A plot that can be saved. */
export interface Exportable {
  toPng(): Promise<Blob>;
  /** @param title - written at the top of the image */
  toSvg(title: string): string;
}

const WORDS = {
  en: { png: 'PNG', svg: 'SVG', save: 'Save as' },
  zh: { png: 'PNG', svg: 'SVG', save: '另存为' },
};

function fileName(title: string, ext: string): string {
  const base = title
    .toLowerCase()
    .replace(/[^a-z0-9\u4e00-\u9fff]+/g, '-')
    .replace(/^-|-$/g, '');
  return `dlmath-${base || 'figure'}.${ext}`;
}

/** A captioned box with export buttons; put the plot in `body`. */
export class Figure {
  readonly root: HTMLElement;
  /** Where the plot goes. */
  readonly body: HTMLElement;
  readonly #caption: HTMLElement;
  readonly #note: HTMLElement;
  #plot: Exportable | null = null;

  /**
   * @param parent - container to append to
   * @param title - caption (also the exported file's title)
   * @param lang - language of the buttons
   * @param testid - data-testid of the figure
   */
  constructor(parent: HTMLElement, title: string, lang: Lang, testid?: string) {
    const w = WORDS[lang];
    this.#caption = h('span', { class: 'figure-title', text: title });
    const png = h('button', { type: 'button', class: 'export', 'aria-label': `${w.save} PNG: ${title}`, text: w.png });
    const svg = h('button', { type: 'button', class: 'export', 'aria-label': `${w.save} SVG: ${title}`, text: w.svg });
    png.addEventListener('click', () => void this.#savePng());
    svg.addEventListener('click', () => this.#saveSvg());
    this.body = h('div', { class: 'figure-body' });
    this.#note = h('p', { class: 'figure-note muted' });
    this.#note.hidden = true;
    this.root = h(
      'figure',
      { class: 'panel figure', 'data-testid': testid },
      h('figcaption', {}, this.#caption, h('span', { class: 'export-buttons' }, png, svg)),
      this.body,
      this.#note,
    );
    parent.append(this.root);
  }

  /** The plot the buttons export. */
  attach(plot: Exportable): void {
    this.#plot = plot;
  }

  /** Changes the caption. */
  setTitle(title: string): void {
    this.#caption.textContent = title;
  }

  /** A line of text under the plot (readouts, hints); '' hides it. */
  setNote(text: string): void {
    this.#note.textContent = text;
    this.#note.hidden = text === '';
  }

  async #savePng(): Promise<void> {
    if (!this.#plot) return;
    download(await this.#plot.toPng(), fileName(this.#caption.textContent ?? '', 'png'));
  }

  #saveSvg(): void {
    if (!this.#plot) return;
    const title = this.#caption.textContent ?? '';
    download(new Blob([this.#plot.toSvg(title)], { type: 'image/svg+xml' }), fileName(title, 'svg'));
  }
}
