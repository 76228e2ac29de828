// <dlmath-entry e="huber" p.delta="0.5">: one catalogue entry (or lesson)
// with its formula, its live view and its params, in running prose.
import type { Dlmath } from '../engine/index.js';
import { readParams } from '../state/params.js';
import { clip, type Ignored } from '../state/store.js';
import { LESSONS } from '../views/index.js';
import { DlmathElement, type ElementTarget } from './base.js';

/** Any registry entry (`e`, its params `p.<name>`, its view's values `v.<key>`) or a lesson, live. */
export class DlmathEntry extends DlmathElement {
  protected async target(
    dl: Dlmath,
    values: Map<string, string>,
    report: (i: Ignored) => void,
  ): Promise<ElementTarget | null> {
    const id = values.get('e') ?? '';
    const op = dl.ops().find((o) => o.id === id);
    if (op) return { target: { op }, params: readParams(op, values, report), page: id };
    const lesson = Object.hasOwn(LESSONS, id) ? LESSONS[id] : undefined;
    if (lesson) return { target: { lesson: lesson.meta, load: lesson.load }, params: {}, page: id };
    report({ key: 'e', value: clip(id), why: id ? 'no such entry' : 'missing: name an entry, e.g. e="gelu"' });
    return null;
  }
}
