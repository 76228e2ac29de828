// The playground shell: catalogue navigation, the entry's header (formula,
// derivative, explanation) and params, the family's live view, language and
// theme, and the URL that holds all of it. Every number comes from the
// engine; the shell only decides which page shows and keeps the URL in step.
import type { Dlmath, OpMeta } from '../engine/index.js';
import { readParams } from '../state/params.js';
import { clip, parseHash, toHash, type Ignored } from '../state/store.js';
import { LESSONS } from '../views/index.js';
import type { FamilyView, ParamValues, Shown } from '../views/view.js';
import { h } from './dom.js';
import { FAMILY_ORDER, LABELS, LANGS, saveLang, type Labels, type Lang } from './i18n.js';
import { Nav, type NavGroup } from './nav.js';
import { Notice } from './notice.js';
import { labelHeader, type HeaderDom } from './header.js';
import { EntryPage } from './page.js';
import { applyTheme, saveTheme, storedTheme, THEMES, type Theme } from './theme.js';

/** Where the shell lives: the page's containers (see index.html). */
export interface PlaygroundDom extends HeaderDom {
  notice: HTMLElement;
  nav: HTMLElement;
  head: HTMLElement;
  params: HTMLElement;
  view: HTMLElement;
  details: HTMLElement;
  footer: HTMLElement;
}

/** Browser services the shell uses. */
export interface PlaygroundEnv {
  storage: Storage | null;
  location: Location;
  history: History;
}

/** What the page shows, for tests. */
export interface PlaygroundState {
  /** The page id ('' = overview). */
  page: string;
  lang: Lang;
  /** Pages rendered since load (a test waits for it to grow). */
  renders: number;
  /** The engine calls behind the numbers on screen. */
  shown: Shown[];
}

/** The pages that are not registry entries, in the catalogue's first group. */
const TOOLS_GROUP = 'tools';

/** The page shell. */
export class Playground {
  readonly #dl: Dlmath;
  readonly #dom: PlaygroundDom;
  readonly #env: PlaygroundEnv;
  readonly #ops: OpMeta[];
  readonly #notice: Notice;
  readonly #nav: Nav;
  readonly #entry: EntryPage;
  /** The start page's live figure, while the overview shows. */
  #start: FamilyView | null = null;
  /** The pages that are not registry entries, by id. */
  readonly #lessons = new Map(Object.entries(LESSONS).map(([id, l]) => [id, l.meta]));
  #lang: Lang;
  #values = new Map<string, string>();
  #page = '';
  #op: OpMeta | null = null;
  #params: ParamValues = {};
  #token = 0;
  #hashTimer: ReturnType<typeof setTimeout> | undefined;
  #renders = 0;
  #lastHash = '';

  /**
   * @param dl - the loaded engine
   * @param dom - the page's containers
   * @param env - storage, location and history
   * @param lang - language when the URL names none
   */
  constructor(dl: Dlmath, dom: PlaygroundDom, env: PlaygroundEnv, lang: Lang) {
    this.#dl = dl;
    this.#dom = dom;
    this.#env = env;
    this.#lang = lang;
    this.#ops = dl.ops();
    this.#notice = new Notice(dom.notice);
    this.#entry = new EntryPage(dl, dom, {
      report: (source, err) => (err == null ? this.#notice.clear(source) : this.#notice.show(source, err)),
      changed: () => this.#scheduleHash(),
    });
    // First: the evaluator and the lessons are where many visits start.
    const tools = { id: TOOLS_GROUP, items: [...this.#lessons.values()].map((l) => ({ id: l.id, title: l.title })) };
    this.#nav = new Nav(dom.nav, [tools, ...this.#groups()], (id, t) =>
      id === TOOLS_GROUP ? t.tools : (t.families[id] ?? id),
    );

    dom.langSelect.addEventListener('change', () => this.setLang(dom.langSelect.value as Lang));
    dom.themeSelect.addEventListener('change', () => this.#setTheme(dom.themeSelect.value as Theme));
    dom.reset.addEventListener('click', () => this.#reset());
    dom.copy.addEventListener('click', () => void this.#copyLink());
    // replaceState() never fires hashchange: this is a link or the user editing the URL.
    window.addEventListener('hashchange', () => void this.#route());
    void this.#route();
  }

  /** Test hook: what is on screen. */
  state(): PlaygroundState {
    const shown = this.#start?.shown() ?? this.#entry.shown();
    return { page: this.#page, lang: this.#lang, renders: this.#renders, shown };
  }

  /**
   * Switches the UI language, remembers it and puts it in the URL.
   * @param lang - 'en' or 'zh'
   */
  setLang(lang: Lang): void {
    if (!LANGS.includes(lang) || lang === this.#lang) return;
    this.#lang = lang;
    saveLang(this.#env.storage, lang);
    this.#values.set('lang', lang);
    this.#writeHash();
    void this.#show();
  }

  /**
   * Shows an error that arose outside the shell's own calls.
   * @param source - what failed
   * @param err - the error
   */
  showError(source: string, err: unknown): void {
    this.#notice.show(source, err);
  }

  get #t(): Labels {
    return LABELS[this.#lang];
  }

  #groups(): NavGroup[] {
    const groups: NavGroup[] = FAMILY_ORDER.map((f) => ({
      id: f,
      items: this.#ops.filter((o) => o.family === f).map((o) => ({ id: o.id, title: o.title })),
    }));
    // A family the order does not know still gets listed, last.
    for (const o of this.#ops)
      if (!(FAMILY_ORDER as readonly string[]).includes(o.family)) {
        let g = groups.find((x) => x.id === o.family);
        if (!g) groups.push((g = { id: o.family, items: [] }));
        g.items.push({ id: o.id, title: o.title });
      }
    return groups.filter((g) => g.items.length);
  }

  // Reads the URL and shows what it names. Anything invalid is dropped and listed in the notice.
  async #route(): Promise<void> {
    const hash = this.#env.location.hash;
    if (hash.replace(/^#/, '') === this.#lastHash && this.#renders > 0) return;
    const { values, ignored } = parseHash(hash);
    this.#values = values;
    const reported: Ignored[] = [...ignored];
    for (const [key, value] of [...values])
      if (!/^(e|lang|embed|theme|[pv]\..+)$/.test(key)) {
        reported.push({ key, value: clip(value), why: 'unknown key' });
        values.delete(key);
      }
    const lang = values.get('lang');
    if (lang !== undefined) {
      if ((LANGS as readonly string[]).includes(lang)) {
        this.#lang = lang as Lang;
        saveLang(this.#env.storage, this.#lang);
      } else {
        values.delete('lang');
        reported.push({ key: 'lang', value: clip(lang), why: 'not en or zh' });
      }
    }
    // embed=1: only the entry and its view, for an <iframe> in documentation.
    const embed = values.get('embed');
    if (embed !== undefined && embed !== '1') {
      reported.push({ key: 'embed', value: clip(embed), why: 'not 1' });
      values.delete('embed');
    }
    document.body.classList.toggle('embed', embed === '1');
    document.body.classList.toggle('compact', embed === '1');
    // theme=: the link's theme for this visit (an embedding page's colours); the switch's choice is not changed.
    const theme = values.get('theme');
    if (theme !== undefined && !(THEMES as readonly string[]).includes(theme)) {
      reported.push({ key: 'theme', value: clip(theme), why: `not one of ${THEMES.join(', ')}` });
      values.delete('theme');
    }
    applyTheme(this.#theme());
    const page = values.get('e') ?? '';
    this.#op = this.#ops.find((o) => o.id === page) ?? null;
    if (page && !this.#op && !this.#lessons.has(page)) {
      reported.push({ key: 'e', value: clip(page), why: this.#t.unknownEntry });
      values.delete('e');
    }
    this.#page = this.#op || this.#lessons.has(page) ? page : '';
    this.#params = this.#op ? readParams(this.#op, values, (i) => reported.push(i)) : {};
    // A new page starts with a clean notice: the last page's messages were about it.
    this.#notice.reset();
    this.#urlNotice(reported);
    await this.#show();
  }

  #urlNotice(items: Ignored[]): void {
    if (!items.length) return this.#notice.clear('url');
    const text = items.map((i) => `${i.key}=${i.value} (${i.why})`).join('; ');
    this.#notice.show('url', `${this.#t.urlIgnored}: ${text}`);
  }

  // Rebuilds the page for the current page id and language.
  async #show(): Promise<void> {
    const token = ++this.#token;
    this.#start?.destroy();
    this.#start = null;
    this.#applyLang();
    this.#nav.update(this.#page, this.#t, this.#lang);
    const lesson = this.#lessons.has(this.#page) ? LESSONS[this.#page] : undefined;
    if (this.#op || lesson) {
      const target = this.#op ? { op: this.#op } : { lesson: lesson!.meta, load: lesson!.load };
      if (!(await this.#entry.show(target, this.#values, this.#params, this.#lang, this.#t))) return;
    } else {
      this.#entry.clear();
      const figure = this.#overview();
      // The live figure; its module was fetched beside the engine (main.ts).
      try {
        const { createStart } = await import('../views/start.js');
        if (token !== this.#token) return;
        this.#start = createStart(figure, this.#dl, this.#lang);
        this.#start.render();
      } catch (err) {
        if (token !== this.#token) return;
        this.#notice.show('view', err);
      }
    }
    this.#done(token);
  }

  #done(token: number): void {
    if (token !== this.#token) return;
    // Read by `npm run bench` (bench/load.mjs): the first page drawn with the engine's numbers.
    if (this.#renders === 0) performance.mark('dlmath:first-plot');
    ++this.#renders;
    this.#writeHash();
  }

  /** @returns the box of the start page's live figure */
  #overview(): HTMLElement {
    const t = this.#t;
    const lang = this.#lang;
    const cards = this.#groups().map((g) =>
      h(
        'section',
        { class: 'panel card' },
        h('h3', {}, h('a', { href: `#e=${g.items[0]!.id}`, text: t.families[g.id] ?? g.id })),
        h('p', { class: 'muted small', text: `${g.items.length} ${t.entries}` }),
        h(
          'p',
          { class: 'card-links' },
          ...g.items
            .slice(0, 8)
            .flatMap((it, i) => [i ? ' · ' : '', h('a', { href: `#e=${it.id}`, text: it.title[lang] || it.title.en })]),
          g.items.length > 8 ? ' …' : '',
        ),
      ),
    );
    const lessons = [...this.#lessons.values()].map((l) =>
      h('a', { class: 'lesson-link', href: `#e=${l.id}`, text: l.title[lang] || l.title.en }),
    );
    // The live figure first, so a phone shows it in the first screen too.
    const figure = h('div', { class: 'start', 'data-testid': 'start' });
    this.#dom.head.replaceChildren(
      h('h2', { 'data-testid': 'op-title', text: t.home }),
      figure,
      h('p', { class: 'doc', text: t.homeIntro }),
    );
    if (lessons.length)
      this.#dom.head.append(h('p', { class: 'lesson-links' }, h('strong', { text: `${t.tools}: ` }), ...lessons));
    this.#dom.view.replaceChildren(h('div', { class: 'cards', 'data-testid': 'overview' }, ...cards));
    return figure;
  }

  #applyLang(): void {
    const t = this.#t;
    const dom = this.#dom;
    labelHeader(dom, t, this.#lang, this.#theme());
    const title = this.#op
      ? this.#op.title[this.#lang] || this.#op.title.en
      : (this.#lessons.get(this.#page)?.title[this.#lang] ?? '');
    document.title = title ? `${title} · ${t.pageTitle}` : t.pageTitle;
    dom.footer.textContent = `${t.footer}: ${this.#dl.target} · ${this.#ops.length} ${t.ops}`;
    this.#notice.update(t);
  }

  // Back to the page's defaults: its params and its view's values leave the URL.
  #reset(): void {
    for (const k of [...this.#values.keys()]) if (k.startsWith('p.') || k.startsWith('v.')) this.#values.delete(k);
    if (this.#op) this.#params = readParams(this.#op, this.#values, () => {});
    this.#notice.reset();
    void this.#show();
  }

  async #copyLink(): Promise<void> {
    this.#writeHash();
    const link = this.#env.location.href;
    const t = this.#t;
    try {
      await navigator.clipboard.writeText(link);
      this.#dom.copy.textContent = t.copied;
      setTimeout(() => (this.#dom.copy.textContent = this.#t.copyLink), 1500);
    } catch {
      // No clipboard permission (an insecure origin, a locked-down browser): show the link to copy by hand.
      this.#notice.show('link', link);
    }
  }

  // The link's theme (theme=, kept valid by #route), else the one remembered.
  #theme(): Theme {
    return (this.#values.get('theme') as Theme | undefined) ?? storedTheme(this.#env.storage);
  }

  #setTheme(theme: Theme): void {
    if (!(THEMES as readonly string[]).includes(theme)) return;
    saveTheme(this.#env.storage, theme);
    applyTheme(theme);
    this.#values.delete('theme');
    this.#writeHash();
  }

  // Browsers throttle history updates made on every frame of a drag, so the
  // URL follows the state a moment after it settles.
  #scheduleHash(): void {
    clearTimeout(this.#hashTimer);
    this.#hashTimer = setTimeout(() => this.#writeHash(), 250);
  }

  #writeHash(): void {
    clearTimeout(this.#hashTimer);
    const values = new Map<string, string>();
    // e and lang first: the link reads well.
    if (this.#page) values.set('e', this.#page);
    for (const k of ['lang', 'embed', 'theme']) {
      const v = this.#values.get(k);
      if (v) values.set(k, v);
    }
    for (const [k, v] of this.#values) if (!values.has(k) && k !== 'e') values.set(k, v);
    const hash = toHash(values);
    this.#lastHash = hash;
    values.delete('embed');
    this.#dom.open.href = `${this.#env.location.pathname}${this.#env.location.search}#${toHash(values)}`;
    this.#dom.open.hidden = !this.#values.has('embed');
    if (this.#env.location.hash.replace(/^#/, '') === hash) return;
    const loc = this.#env.location;
    this.#env.history.replaceState(null, '', hash ? `#${hash}` : loc.pathname + loc.search);
  }
}
