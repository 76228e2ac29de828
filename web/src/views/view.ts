// The contract between the playground shell and a family's live view.
//
// The shell owns the page: navigation, the entry's formula and explanation,
// its param controls, the language, the theme and the URL. A view owns one
// box of the page and fills it with figures that are computed by the engine.
// Views never touch the URL or localStorage themselves: their own state lives
// in a ViewStore, which the shell keeps in the URL hash.
import type { Dlmath, OpMeta } from '../engine/index.js';
import type { Lang } from '../ui/i18n.js';
import type { ViewStore } from '../state/store.js';

/** Param values of the entry as the controls currently set them (enums by index). */
export type ParamValues = Record<string, number>;

/** An input of a recorded call: flat data and its shape. */
export interface CallInput {
  shape: number[];
  data: number[];
}

/**
 * One computation a view shows, recorded for the browser tests: the exact
 * engine call it made, and the numbers it put on screen from the result. The
 * tests repeat the call through `dl` and compare.
 */
export interface Shown {
  /** What it is on screen, e.g. 'loss curve' or 'attention weights'. */
  label: string;
  /** Registry id called. */
  id: string;
  inputs: Record<string, CallInput>;
  params: Record<string, number | string | boolean>;
  /**
   * 'value' = dl.eval(...).data; 'aux:<name>' = dl.eval(...).aux[name].data (eigenvalues, attention
   * weights, running stats); 'grad:<name>' = dl.grad(...)[name].data (upstream = ones unless given);
   * 'formula' / 'formula-grad' = dl.formula(id).eval / .grad of inputs.x with params (id is the formula text).
   */
  what: string;
  /** dL/d(output) used for a gradient, when not ones. */
  upstream?: CallInput;
  /** The numbers the view drew or printed, in the result's flat order (may be a prefix or a stride, see `pick`). */
  values: number[];
  /** Indices into the flat result that `values` holds, when not all of it. */
  pick?: number[];
}

/** What the shell gives a view. */
export interface ViewContext {
  readonly dl: Dlmath;
  readonly lang: Lang;
  /** The view's own URL-backed state (keys appear as `v.<key>` in the hash). */
  readonly store: ViewStore;
  /** The entry's params as the shell's controls hold them (live object: read it in render()). */
  readonly params: ParamValues;
  /** Call after changing `store`, so the URL follows. */
  changed(): void;
  /**
   * Shows (err) or clears (null) a message in the page's notice area.
   * @param source - a short key; one message per key
   */
  report(source: string, err: unknown): void;
}

/** A family's live view of one entry. */
export interface FamilyView {
  /** Recomputes and redraws from ctx.params and ctx.store (called once per animation frame at most). */
  render(): void;
  /** Everything computed on screen, for the tests. */
  shown(): Shown[];
  /** Removes listeners, plots and engine handles. */
  destroy(): void;
}

/**
 * Builds a family's view of one entry inside `host`. It is rebuilt when the
 * entry or the language changes, so it may read `ctx.lang` once.
 */
export type ViewFactory = (host: HTMLElement, op: OpMeta, ctx: ViewContext) => FamilyView;

/** Picks a text by language from a view's own label table. */
export function pick<T>(table: { en: T; zh: T }, lang: Lang): T {
  return table[lang];
}

/** A page that is not a registry entry (the formula evaluator, the chain-rule lesson). */
export interface LessonMeta {
  /** Its page id in the URL (`#e=<id>`). */
  id: string;
  title: { en: string; zh: string };
  /** KaTeX source shown under the title ('' for none). */
  latex: string;
  /** Its explanation: text with inline `$…$` maths (ui/inline-math.ts). */
  doc: { en: string; zh: string };
}

/** Builds a lesson page inside `host`; rebuilt on language change like a view. */
export type LessonFactory = (host: HTMLElement, ctx: ViewContext) => FamilyView;
