// How a family's module picks the picture of one entry. Each sub-view says
// which entries it shows: those listed in its own table (with their per-entry
// settings: a note, a default range, an overlay), or those whose registry
// metadata (kind, form, inputs) fits a picture that works for any of them. An
// entry no sub-view shows gets the generic view, which runs it on its sample
// inputs: a new registry row is live without an edit in web/.
import type { OpMeta } from '../engine/index.js';
import { createView as genericView } from './generic.js';
import type { FamilyView, ViewContext, ViewFactory } from './view.js';

/** One picture of a family and the entries it shows. */
export interface SubView {
  /** Whether this picture shows `op`. */
  shows(op: OpMeta, ctx: ViewContext): boolean;
  build: ViewFactory;
}

/**
 * The sub-view of the entries listed.
 * @param ids - the registry ids it shows
 * @param build - builds the picture of one of them
 */
export function forIds(ids: readonly string[], build: ViewFactory): SubView {
  return { shows: (op) => ids.includes(op.id), build };
}

/**
 * The sub-view of the entries in `table`, each built with its own settings.
 * @param table - registry id → that entry's settings for `build` (a note, a default range, an overlay ...)
 * @param build - builds the picture of one listed entry
 */
export function forTable<C>(
  table: Readonly<Record<string, C>>,
  build: (host: HTMLElement, op: OpMeta, ctx: ViewContext, conf: C) => FamilyView,
): SubView {
  return {
    shows: (op) => Object.hasOwn(table, op.id),
    build: (host, op, ctx) => build(host, op, ctx, table[op.id]!),
  };
}

/**
 * The sub-view of every entry whose registry metadata fits its picture.
 * @param fits - decides from the entry's metadata (kind, form, inputs ...)
 * @param build - builds the picture of one fitting entry
 */
export function forMeta(fits: (op: OpMeta, ctx: ViewContext) => boolean, build: ViewFactory): SubView {
  return { shows: fits, build };
}

/**
 * A family's view factory: the first sub-view that shows the entry, or the generic view.
 * @param subs - the family's sub-views, in the order they are asked
 */
export function familyView(subs: readonly SubView[]): ViewFactory {
  return (host, op, ctx) => {
    const sub = subs.find((s) => s.shows(op, ctx));
    return sub ? sub.build(host, op, ctx) : genericView(host, op, ctx);
  };
}
