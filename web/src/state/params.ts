// An entry's params in the URL (`p.<name>`): read against the registry's
// ranges and types, written back in the same form. Enum params travel by name.
import type { OpMeta } from '../engine/index.js';
import { numText, type Ignored } from './store.js';

type ParamSpec = OpMeta['params'][number];

const PREFIX = 'p.';

/**
 * Params a page opens with where the registry's default would show less (a link leaves them out too):
 * one head is plain attention, so multi-head attention opens with two.
 */
export const PAGE_DEFAULTS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  multi_head_attention: { num_heads: 2 },
};

/**
 * A param's default on its page: PAGE_DEFAULTS, else the registry's.
 * @param op - registry metadata
 * @param p - one of its params
 */
export function pageDefault(op: OpMeta, p: ParamSpec): number {
  return PAGE_DEFAULTS[op.id]?.[p.name] ?? p.default;
}

/**
 * A param's valid interval as text, e.g. "(0, ∞)".
 * @param p - the param
 */
export function interval(p: ParamSpec): string {
  const f = (v: number) => (v === Infinity ? '∞' : v === -Infinity ? '−∞' : String(v));
  const l = p.minOpen || !Number.isFinite(p.min) ? '(' : '[';
  const r = p.maxOpen || !Number.isFinite(p.max) ? ')' : ']';
  return `${l}${f(p.min)}, ${f(p.max)}${r}`;
}

/** Whether `v` is a valid value of `p` (range, open bounds, integer). */
export function paramOk(p: ParamSpec, v: number): boolean {
  if (!Number.isFinite(v)) return false;
  if (v < p.min || (p.minOpen && v === p.min)) return false;
  if (v > p.max || (p.maxOpen && v === p.max)) return false;
  if (p.type === 'int' || p.type === 'enum') return Number.isInteger(v);
  if (p.type === 'bool') return v === 0 || v === 1;
  return true;
}

/** Why `v` (a value read from the link) is not a valid value of `p`. */
function whyInvalid(p: ParamSpec, v: number): string {
  if (p.type === 'enum') return `not one of ${p.choices.join(', ')}`;
  if (p.type === 'bool') return 'not true, false, 1 or 0';
  if (Number.isNaN(v)) return 'not a number';
  if (p.type === 'int' && Number.isFinite(v) && !Number.isInteger(v)) return 'not an integer';
  return `outside ${interval(p)}`;
}

function parse(p: ParamSpec, raw: string): number {
  if (p.type === 'enum') {
    const i = p.choices.indexOf(raw);
    return i >= 0 ? i : NaN;
  }
  if (p.type === 'bool') return raw === 'true' || raw === '1' ? 1 : raw === 'false' || raw === '0' ? 0 : NaN;
  return raw.trim() === '' ? NaN : Number(raw);
}

/**
 * The op's params from the URL values; invalid ones are removed and reported.
 * @param op - registry metadata
 * @param values - the URL's raw values (invalid entries are deleted)
 * @param report - receives each dropped value
 * @returns every param by name (the page's defaults filled in)
 */
export function readParams(
  op: OpMeta,
  values: Map<string, string>,
  report: (i: Ignored) => void,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of op.params) {
    out[p.name] = pageDefault(op, p);
    const key = PREFIX + p.name;
    const raw = values.get(key);
    if (raw === undefined) continue;
    const v = parse(p, raw);
    if (paramOk(p, v)) out[p.name] = v;
    else {
      values.delete(key);
      report({ key, value: raw.slice(0, 60), why: whyInvalid(p, v) });
    }
  }
  for (const key of [...values.keys()])
    if (key.startsWith(PREFIX) && !op.params.some((p) => PREFIX + p.name === key)) {
      report({ key, value: (values.get(key) ?? '').slice(0, 60), why: `'${op.id}' has no such param` });
      values.delete(key);
    }
  return out;
}

/**
 * Writes one param into the URL values (its page default removes it).
 * @param op - registry metadata
 * @param values - the URL's raw values
 * @param name - param name
 * @param v - new value
 */
export function writeParam(op: OpMeta, values: Map<string, string>, name: string, v: number): void {
  const p = op.params.find((q) => q.name === name);
  if (!p) return;
  const key = PREFIX + name;
  if (v === pageDefault(op, p)) values.delete(key);
  else if (p.type === 'enum') values.set(key, p.choices[v] ?? String(v));
  else if (p.type === 'bool') values.set(key, v ? '1' : '0');
  else values.set(key, numText(v));
}
