// One page of the catalogue inside a set of containers: a registry entry
// (title, formula and derivative, explanation, params as live controls, its
// family's view) or a lesson (the evaluator, the chain rule). The playground
// shell shows its pages through it, and so does each custom element: the
// state lives in one map of URL keys (`p.<name>`, `v.<key>`) that the owner
// writes back where it keeps it (the address bar, an element's link).
import type { Dlmath, OpMeta } from '../engine/index.js';
import { writeParam } from '../state/params.js';
import { ViewStore } from '../state/store.js';
import { VIEWS } from '../views/index.js';
import type { FamilyView, LessonFactory, LessonMeta, ParamValues, Shown, ViewContext } from '../views/view.js';
import { ParamPanel } from './controls.js';
import { h } from './dom.js';
import { FormulaView } from './formula-view.js';
import type { Labels, Lang } from './i18n.js';

/** Where a page goes. */
export interface PageDom {
  /** Title and formulas. */
  head: HTMLElement;
  /** The entry's params. */
  params: HTMLElement;
  /** The live view. */
  view: HTMLElement;
  /** Explanation and properties. */
  details: HTMLElement;
}

/** What the page tells its owner. */
export interface PageHooks {
  /**
   * Shows (err) or clears (null) a message.
   * @param source - a short key; one message per key
   */
  report(source: string, err: unknown): void;
  /** The values changed (a param moved, the view stored a value): write them back where they live. */
  changed(): void;
}

/** What to show: a registry entry, or a lesson and its module. */
export type PageTarget = { op: OpMeta } | { lesson: LessonMeta; load: () => Promise<{ createLesson: LessonFactory }> };

/** One entry or lesson, its controls and its live view. */
export class EntryPage {
  readonly #dl: Dlmath;
  readonly #dom: PageDom;
  readonly #hooks: PageHooks;
  readonly #formula: FormulaView;
  readonly #paramPanel: ParamPanel;
  #op: OpMeta | null = null;
  #values = new Map<string, string>();
  #params: ParamValues = {};
  #view: FamilyView | null = null;
  #token = 0;
  #frame = 0;

  /**
   * @param dl - the loaded engine
   * @param dom - the containers
   * @param hooks - messages and write-back
   */
  constructor(dl: Dlmath, dom: PageDom, hooks: PageHooks) {
    this.#dl = dl;
    this.#dom = dom;
    this.#hooks = hooks;
    this.#formula = new FormulaView(dom.head, dom.details, (err) => hooks.report('latex', err));
    this.#paramPanel = new ParamPanel(dom.params, (name, v) => {
      if (!this.#op) return;
      this.#params[name] = v;
      writeParam(this.#op, this.#values, name, v);
      this.#hooks.changed();
      this.#schedule();
    });
  }

  /**
   * Shows an entry or a lesson (the previous one is destroyed).
   * @param target - what to show
   * @param values - the raw URL values it reads and writes (`p.*`, `v.*`); kept, not copied
   * @param params - the entry's params as read from `values` (kept: the controls change it)
   * @param lang - language of every text
   * @param t - the shell's labels in that language
   * @returns false when a later show() replaced this one before its view loaded
   */
  async show(
    target: PageTarget,
    values: Map<string, string>,
    params: ParamValues,
    lang: Lang,
    t: Labels,
  ): Promise<boolean> {
    this.clear();
    const token = this.#token;
    this.#values = values;
    this.#params = params;
    const op = 'op' in target ? target.op : null;
    const lesson = 'lesson' in target ? target : null;
    this.#op = op;
    if (op) {
      this.#formula.update(op, t, lang);
      this.#paramPanel.update(op, params, t);
    } else if (lesson) {
      this.#formula.updateLesson(lesson.lesson, t, lang);
    }
    this.#dom.params.hidden = !op || op.params.length === 0;
    this.#dom.details.hidden = false;
    const id = op?.id ?? lesson?.lesson.id ?? '';
    const host = h('div', { class: 'view', 'data-testid': 'view', 'data-page': id });
    this.#dom.view.append(host);
    try {
      const ctx = this.#context(lang, t);
      let view: FamilyView;
      if (op) {
        const load = VIEWS[op.family] ?? (() => import('../views/generic.js'));
        const mod = await load();
        if (token !== this.#token) return false;
        view = mod.createView(host, op, ctx);
      } else {
        const mod = await lesson!.load();
        if (token !== this.#token) return false;
        view = mod.createLesson(host, ctx);
      }
      this.#view = view;
      view.render();
      this.#hooks.report('view', null);
    } catch (err) {
      if (token !== this.#token) return false;
      this.#hooks.report('view', new Error(`${t.loadFailed}: ${err instanceof Error ? err.message : String(err)}`));
      console.error(err);
    }
    return true;
  }

  /** The engine calls behind the numbers on screen (for tests). */
  shown(): Shown[] {
    try {
      return this.#view?.shown() ?? [];
    } catch (err) {
      this.#hooks.report('view', err);
      return [];
    }
  }

  /** Removes the view and empties the containers (a show() still loading its view stops). */
  clear(): void {
    ++this.#token;
    cancelAnimationFrame(this.#frame);
    this.#frame = 0;
    this.#view?.destroy();
    this.#view = null;
    this.#op = null;
    this.#formula.reset();
    this.#paramPanel.reset();
    this.#dom.view.replaceChildren();
    this.#dom.params.hidden = true;
    this.#dom.details.hidden = true;
  }

  #context(lang: Lang, t: Labels): ViewContext {
    const store = new ViewStore(this.#values, 'v.', (i) => {
      this.#hooks.report(`url:${i.key}`, `${t.urlIgnored}: ${i.key}=${i.value} (${i.why})`);
    });
    return {
      dl: this.#dl,
      lang,
      store,
      params: this.#params,
      changed: () => this.#hooks.changed(),
      report: (source, err) => this.#hooks.report(source, err),
    };
  }

  // Coalesces input events into one view render per animation frame.
  #schedule(): void {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      const start = performance.now();
      try {
        this.#view?.render();
      } catch (err) {
        this.#hooks.report('view', err);
      }
      // Read by `npm run bench` (bench/ui.mjs): the cost of one live update.
      performance.measure('dlmath:render', { start });
    });
  }
}
