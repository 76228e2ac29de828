// The catalogue: every registry entry, grouped by family, plus the lessons and
// tools, as plain links (#e=<id>) so they work with the keyboard, open in new
// tabs and need no script to follow. A search box filters by id, English or
// Chinese title, or family name.
import { h } from './dom.js';
import type { Labels, Lang } from './i18n.js';

/** One link of the catalogue. */
export interface NavItem {
  id: string;
  title: { en: string; zh: string };
}

/** A titled group of links. */
export interface NavGroup {
  id: string;
  items: NavItem[];
}

/** Lower-cases and drops separators, so "gelu tanh" finds gelu_tanh. */
function norm(text: string): string {
  return text.toLowerCase().replace(/[\s_\-·()（）]+/g, '');
}

/** The search box and the grouped links. */
export class Nav {
  readonly #root: HTMLElement;
  readonly #search: HTMLInputElement;
  readonly #list: HTMLElement;
  readonly #empty: HTMLElement;
  #groups: NavGroup[];
  readonly #groupTitle: (id: string, t: Labels) => string;
  #t: Labels | null = null;

  /**
   * @param root - container to fill
   * @param groups - the catalogue
   * @param groupTitle - a group's display title
   */
  constructor(root: HTMLElement, groups: NavGroup[], groupTitle: (id: string, t: Labels) => string) {
    this.#root = root;
    this.#groups = groups;
    this.#groupTitle = groupTitle;
    this.#search = h('input', { type: 'search', id: 'nav-search', 'data-testid': 'nav-search', autocomplete: 'off' });
    this.#list = h('nav', { class: 'nav-list', 'data-testid': 'nav' });
    this.#empty = h('p', { class: 'muted', hidden: true });
    this.#search.addEventListener('input', () => this.#filter());
    // Enter opens the best match: search, then keyboard straight to a page.
    this.#search.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      const best = this.#best();
      const link = best && this.#list.querySelector<HTMLAnchorElement>(`a[data-id="${best}"]`);
      if (link) {
        location.hash = link.hash;
        link.focus();
      }
    });
  }

  /**
   * Replaces the catalogue (shown at the next update()).
   * @param groups - the new groups
   */
  setGroups(groups: NavGroup[]): void {
    this.#groups = groups;
    this.#t = null;
  }

  /**
   * Rebuilds in a language and marks the current page.
   * @param current - the page id shown
   */
  update(current: string, t: Labels, lang: Lang): void {
    const rebuild = this.#t !== t;
    this.#t = t;
    if (rebuild) {
      this.#search.placeholder = t.searchPlaceholder;
      this.#search.setAttribute('aria-label', t.search);
      this.#empty.textContent = t.noMatch;
      this.#list.setAttribute('aria-label', t.catalogue);
      this.#list.replaceChildren(
        ...this.#groups.map((g) =>
          h(
            'section',
            { class: 'nav-group', 'data-group': g.id },
            h('h3', { text: this.#groupTitle(g.id, t) }),
            h(
              'ul',
              {},
              ...g.items.map((it) =>
                h(
                  'li',
                  {},
                  h(
                    'a',
                    {
                      href: `#e=${it.id}`,
                      'data-id': it.id,
                      'data-testid': `nav-${it.id}`,
                      lang: lang === 'zh' ? 'zh-Hans' : 'en',
                    },
                    it.title[lang] || it.title.en,
                    h('code', { text: it.id }),
                  ),
                ),
              ),
            ),
          ),
        ),
      );
      this.#root.replaceChildren(
        h('label', { for: 'nav-search', class: 'nav-label', text: t.search }),
        this.#search,
        this.#empty,
        this.#list,
      );
      this.#filter();
    }
    for (const a of this.#list.querySelectorAll<HTMLAnchorElement>('a')) {
      if (a.dataset.id === current) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (rebuild) this.#reveal();
  }

  // Scrolls the catalogue's own box to the current link. scrollIntoView() would also scroll the page,
  // and a deep link would open with the header scrolled away.
  #reveal(): void {
    const current = this.#list.querySelector('[aria-current]');
    if (!current) return;
    const box = this.#root.getBoundingClientRect();
    const link = current.getBoundingClientRect();
    if (link.top < box.top || link.bottom > box.bottom) this.#root.scrollTop += link.top - box.top - box.height / 3;
  }

  // The match Enter opens: an exact id or name first, then one that starts with the query, then any other
  // (so 交叉熵 opens cross_entropy, not the binary cross-entropy listed before it); ties in catalogue order.
  #best(): string | null {
    const q = norm(this.#search.value);
    let best: string | null = null;
    let bestRank = Infinity;
    for (const g of this.#groups)
      for (const it of g.items) {
        if (this.#list.querySelector(`[data-id="${it.id}"]`)?.parentElement?.hidden !== false) continue;
        const names = [it.id, it.title.en, it.title.zh].map(norm);
        const rank = names.includes(q) ? 0 : names.some((n) => n.startsWith(q)) ? 1 : 2;
        if (rank < bestRank) [best, bestRank] = [it.id, rank];
      }
    return best;
  }

  #filter(): void {
    const q = norm(this.#search.value);
    let shown = 0;
    for (const g of this.#groups) {
      const section = this.#list.querySelector<HTMLElement>(`[data-group="${g.id}"]`);
      if (!section) continue;
      const groupHit = q !== '' && this.#t !== null && norm(this.#groupTitle(g.id, this.#t)).includes(q);
      let any = false;
      for (const it of g.items) {
        const hit =
          q === '' ||
          groupHit ||
          norm(it.id).includes(q) ||
          norm(it.title.en).includes(q) ||
          norm(it.title.zh).includes(q);
        const li = section.querySelector(`[data-id="${it.id}"]`)?.parentElement;
        if (li) li.hidden = !hit;
        any ||= hit;
        if (hit) ++shown;
      }
      section.hidden = !any;
    }
    this.#empty.hidden = shown > 0;
  }
}
