// What every dlmath custom element shares: a shadow root that adopts the
// page's styles (one sheet per page), state read from its attributes under
// the URL's key names (`e`, `p.<name>`, `v.<key>`, `lang`, `theme`), the
// engine loaded once per page and only when the element comes near the
// screen, a notice for what went wrong, and a link to the same view on the
// full page. Each element class says what it shows (target()).
import { loadDlmath, type Dlmath } from '../engine/index.js';
import type { Ignored } from '../state/store.js';
import { h } from '../ui/dom.js';
import { htmlLang, LABELS, type Lang } from '../ui/i18n.js';
import { Notice } from '../ui/notice.js';
import { EntryPage, type PageDom, type PageTarget } from '../ui/page.js';
import { onThemeChange, schemeOf, themeChanged, THEMES, type Theme } from '../ui/theme.js';
import type { ParamValues, Shown } from '../views/view.js';
import { adoptFonts, shadowSheet } from './styles.js';

/** Attribute names read as state: the same keys as the page's URL. */
const STATE_KEY = /^(e|[pv]\..+)$/;
/** How far outside the screen an element starts loading. */
const LAZY_MARGIN = '300px';
/** The "more" toggle of an element that opens compact (its label when closed, when open). */
const MORE: Record<Lang, [string, string]> = {
  en: ['More controls and charts', 'Fewer controls and charts'],
  zh: ['更多控件和图表', '收起部分控件和图表'],
};

/** What an element shows. */
export interface ElementTarget {
  target: PageTarget;
  /** The entry's params as read from the attributes ({} for a lesson). */
  params: ParamValues;
  /** Its page id (`e`) on the full page. */
  page: string;
}

/** The behaviour `<dlmath-entry>`, `<dlmath-formula>` and `<dlmath-train>` share. */
export abstract class DlmathElement extends HTMLElement {
  #dom: PageDom | null = null;
  #notice: Notice | null = null;
  #link: HTMLAnchorElement | null = null;
  #more: HTMLButtonElement | null = null;
  #box: HTMLElement | null = null;
  #page: EntryPage | null = null;
  #values = new Map<string, string>();
  /** The attributes and language the view was last built from. */
  #builtFrom = '';
  #lazy: IntersectionObserver | null = null;
  #attrs: MutationObserver | null = null;
  #unTheme: (() => void) | null = null;
  #started = false;
  #queued = false;
  #renders = 0;
  #token = 0;
  #lang: Lang = 'en';
  #pageId = '';

  /**
   * Which entry or lesson the attributes name.
   * @param dl - the engine
   * @param values - the state attributes (`e`, `p.*`, `v.*`); invalid ones are removed
   * @param report - receives each value that was dropped and why
   * @returns null when there is nothing to show (reported)
   */
  protected abstract target(
    dl: Dlmath,
    values: Map<string, string>,
    report: (i: Ignored) => void,
  ): Promise<ElementTarget | null>;

  /**
   * The URL key an attribute of this element stands for, besides the URL keys themselves.
   * @param _name - an attribute name
   * @returns '' when it is none
   */
  protected aliasOf(_name: string): string {
    return '';
  }

  /**
   * Whether the element opens compact: the parts elements.css names stay hidden until its "more" button
   * (or a `more` attribute) shows them. A CSS switch, so the view and its state stay as they are.
   */
  protected get compact(): boolean {
    return false;
  }

  /** The engine calls behind the numbers on screen. */
  shown(): Shown[] {
    return this.#page?.shown() ?? [];
  }

  /** How many times the view was built (a test waits for it to grow). */
  get renders(): number {
    return this.#renders;
  }

  connectedCallback(): void {
    if (!this.#dom) this.#build();
    this.#unTheme = onThemeChange(() => this.#applyScheme());
    this.#applyScheme();
    this.#attrs = new MutationObserver(() => this.#queue());
    this.#attrs.observe(this, { attributes: true });
    if (this.#started) return this.#queue();
    // Lazy: the engine and the view load when the element comes near the screen.
    this.#lazy = new IntersectionObserver(
      (entries) => {
        if (!entries.some((e) => e.isIntersecting)) return;
        this.#lazy?.disconnect();
        this.#lazy = null;
        this.#started = true;
        this.#queue();
      },
      { rootMargin: LAZY_MARGIN },
    );
    this.#lazy.observe(this);
  }

  disconnectedCallback(): void {
    this.#lazy?.disconnect();
    this.#lazy = null;
    this.#attrs?.disconnect();
    this.#attrs = null;
    this.#unTheme?.();
    this.#unTheme = null;
    // The view goes (a training view's worker ends with it); put back, the element builds it again.
    this.#page?.clear();
    this.#builtFrom = '';
  }

  #build(): void {
    adoptFonts();
    const shadow = this.attachShadow({ mode: 'open' });
    shadow.adoptedStyleSheets = [shadowSheet()];
    const notice = h('div', { class: 'notice', role: 'alert', 'data-testid': 'notice' });
    this.#dom = {
      head: h('section', { class: 'panel op-head' }),
      params: h('section', { class: 'panel params', hidden: true }),
      view: h('div', { class: 'view-host' }, h('div', { class: 'skeleton', 'aria-hidden': 'true' })),
      details: h('section', { class: 'panel op-details', hidden: true }),
    };
    this.#link = h('a', { class: 'open-link', target: '_blank', rel: 'noopener', 'data-testid': 'open-link' });
    this.#link.hidden = true;
    if (this.compact) {
      const more = h('button', { type: 'button', class: 'view-button more-toggle', 'data-testid': 'more' });
      more.addEventListener('click', () => this.#showMore(more.getAttribute('aria-expanded') !== 'true'));
      this.#more = more;
    }
    // Compact: the plots come right after the formula; the explanation stays on the full page.
    this.#box = h(
      'div',
      { class: 'compact', part: 'box' },
      notice,
      this.#dom.head,
      this.#dom.view,
      this.#dom.params,
      ...(this.#more ? [this.#more] : []),
      this.#link,
    );
    this.#box.toggleAttribute('data-compact', this.compact);
    shadow.append(this.#box);
    this.#notice = new Notice(notice);
    this.#showMore(this.hasAttribute('more'));
  }

  #showMore(open: boolean): void {
    if (!this.#more) return;
    this.#box!.toggleAttribute('data-more', open);
    this.#more.setAttribute('aria-expanded', String(open));
    this.#more.textContent = MORE[this.#lang][open ? 1 : 0];
  }

  #readLang(): Lang {
    const own = (this.closest('[lang]')?.getAttribute('lang') ?? '').toLowerCase();
    return own.startsWith('zh') ? 'zh' : 'en';
  }

  /** @returns whether the scheme changed */
  #applyScheme(): boolean {
    const t = this.getAttribute('theme') ?? 'auto';
    const scheme = schemeOf((THEMES as readonly string[]).includes(t) ? (t as Theme) : 'auto');
    if (this.dataset.scheme === scheme) return false;
    this.dataset.scheme = scheme;
    return true;
  }

  // Attribute changes come in bursts (a script setting three): one update for all of them.
  #queue(): void {
    if (this.#queued) return;
    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      // A new theme only recolours: the plots redraw from the colours where they sit.
      if (this.#applyScheme()) themeChanged();
      if (this.#started && this.#stateKey() !== this.#builtFrom) void this.#show();
    });
  }

  // The state and language the attributes name now (the theme alone needs no rebuild).
  #stateKey(): string {
    return JSON.stringify([this.#readLang(), ...this.#readValues()]);
  }

  async #show(): Promise<void> {
    const token = ++this.#token;
    this.#builtFrom = this.#stateKey();
    this.#lang = this.#readLang();
    this.#showMore(this.#more?.getAttribute('aria-expanded') === 'true');
    const t = LABELS[this.#lang];
    const notice = this.#notice!;
    notice.update(t);
    let dl: Dlmath;
    try {
      // The light module, one per page; a training element's worker gets the full one (dl.worker()).
      dl = await loadDlmath({ training: false });
    } catch (err) {
      notice.show('engine', err);
      return;
    }
    if (token !== this.#token) return;
    this.#page ??= new EntryPage(dl, this.#dom!, {
      report: (source, err) => (err == null ? notice.clear(source) : notice.show(source, err)),
      changed: () => this.#updateLink(),
    });
    const values = this.#readValues();
    this.#values = values;
    const dropped: Ignored[] = [];
    const found = await this.target(dl, values, (i) => dropped.push(i));
    if (token !== this.#token) return;
    notice.reset();
    if (dropped.length)
      notice.show('attributes', `${t.urlIgnored}: ${dropped.map((i) => `${i.key}=${i.value} (${i.why})`).join('; ')}`);
    this.#box!.lang = htmlLang(this.#lang);
    if (!found) {
      this.#page.clear();
      return;
    }
    this.#pageId = found.page;
    if (await this.#page.show(found.target, values, found.params, this.#lang, t)) {
      ++this.#renders;
      this.#updateLink();
    }
  }

  #readValues(): Map<string, string> {
    const values = new Map<string, string>();
    for (const { name, value } of this.attributes) {
      const key = STATE_KEY.test(name) ? name : this.aliasOf(name);
      if (key) values.set(key, value);
    }
    return values;
  }

  // The same view on the full page: the element's `href` (the page's address) with its state as the hash.
  #updateLink(): void {
    const base = this.getAttribute('href');
    const link = this.#link!;
    link.hidden = !base;
    if (!base) return;
    const q = new URLSearchParams({ e: this.#pageId });
    if (this.#lang !== 'en') q.set('lang', this.#lang);
    for (const [k, v] of this.#values) if (k !== 'e') q.set(k, v);
    link.href = `${base.replace(/#.*$/, '')}#${q.toString()}`;
    link.textContent = LABELS[this.#lang].openFull;
  }
}
