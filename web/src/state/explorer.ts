// The explorer's shareable state: one schema (name, type, default), parsed
// leniently from the URL hash and written back on change. Ops travel by
// registry id; params and extra inputs by name with a prefix, so they never
// collide with the fixed fields.

/** Everything needed to reproduce a view of the explorer. */
export interface ExplorerState {
  /** Registry id of the activation ('' = the page's first choice). */
  op: string;
  /** Plot range of x. */
  xmin: number;
  xmax: number;
  /** Probe point. */
  x: number;
  /** Row-wise ops: the fixed row entries after x, e.g. "0, 1" ('' = the op's default). */
  row: string;
  /** Param values by name; missing ones take the op's default. */
  params: Record<string, number>;
  /** General ops: constant fill of each extra input, by name. */
  inputs: Record<string, number>;
}

type FixedKey = 'op' | 'xmin' | 'xmax' | 'x' | 'row';

interface Field {
  name: FixedKey;
  type: 'number' | 'string';
  default: number | string;
}

/** The fixed fields; `p.<name>` and `in.<name>` carry params and inputs. */
export const SCHEMA: readonly Field[] = [
  { name: 'op', type: 'string', default: '' },
  { name: 'xmin', type: 'number', default: -6 },
  { name: 'xmax', type: 'number', default: 6 },
  { name: 'x', type: 'number', default: 1 },
  { name: 'row', type: 'string', default: '' },
];

const PARAM_PREFIX = 'p.';
const INPUT_PREFIX = 'in.';

/** A fresh state with every default. */
export function defaultState(): ExplorerState {
  const s = { params: {}, inputs: {} } as unknown as ExplorerState;
  for (const f of SCHEMA) (s as unknown as Record<string, unknown>)[f.name] = f.default;
  return s;
}

function parseNumber(text: string | null): number | undefined {
  if (text === null || text.trim() === '') return undefined;
  const v = Number(text);
  return Number.isFinite(v) ? v : undefined;
}

/**
 * Reads a state from a URL hash such as `#op=elu&p.alpha=0.5`. Unknown keys
 * and malformed values are ignored (their defaults stay).
 * @param hash - location.hash, with or without the leading '#'
 */
export function parseState(hash: string): ExplorerState {
  const q = new URLSearchParams(hash.replace(/^#/, ''));
  const s = defaultState();
  const fields = s as unknown as Record<string, unknown>;
  for (const f of SCHEMA) {
    const raw = q.get(f.name);
    if (raw === null) continue;
    if (f.type === 'number') {
      const v = parseNumber(raw);
      if (v !== undefined) fields[f.name] = v;
    } else {
      fields[f.name] = raw;
    }
  }
  if (!(s.xmin < s.xmax)) {
    s.xmin = -6;
    s.xmax = 6;
  }
  for (const [k, raw] of q) {
    const v = parseNumber(raw);
    if (v === undefined) continue;
    if (k.startsWith(PARAM_PREFIX) && k.length > PARAM_PREFIX.length) s.params[k.slice(PARAM_PREFIX.length)] = v;
    else if (k.startsWith(INPUT_PREFIX) && k.length > INPUT_PREFIX.length) s.inputs[k.slice(INPUT_PREFIX.length)] = v;
  }
  return s;
}

/**
 * Writes a state as a URL hash (without '#'), leaving out defaults.
 * @param s - the state to serialise
 */
export function stateToHash(s: ExplorerState): string {
  const q = new URLSearchParams();
  const fields = s as unknown as Record<string, unknown>;
  for (const f of SCHEMA) {
    const v = fields[f.name];
    if (v !== f.default) q.set(f.name, String(v));
  }
  for (const [k, v] of Object.entries(s.params)) q.set(PARAM_PREFIX + k, String(v));
  for (const [k, v] of Object.entries(s.inputs)) q.set(INPUT_PREFIX + k, String(v));
  return q.toString();
}
