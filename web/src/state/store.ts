// URL-backed state of the playground: one flat hash such as
//   #e=huber&p.delta=1.5&v.target=0.3&lang=zh
// `e` is the page (a registry id, or 'formula' / 'chain_rule'), `p.<name>`
// the entry's params, `v.<key>` the view's own values, `f` the evaluator's
// text. Everything is parsed leniently: a malformed or hostile value is
// dropped, reported (shown as text, never as markup) and its default stays.
// Nothing read from the URL is ever executed or inserted as HTML.

/** Longest value kept from the URL (a formula, a list of numbers). */
export const MAX_VALUE_LENGTH = 2000;
/** Most entries kept from the URL. */
const MAX_KEYS = 200;
const KEY_RE = /^[a-z][a-z0-9_.]{0,63}$/i;

/** A dropped URL value and why. */
export interface Ignored {
  key: string;
  value: string;
  why: string;
}

/** The parsed hash: raw values by key, and what was dropped while parsing. */
export interface HashState {
  values: Map<string, string>;
  ignored: Ignored[];
}

/** Shortens a hostile value for display (it is shown as text only). */
export function clip(text: string, n = 60): string {
  return text.length > n ? `${text.slice(0, n)}…` : text;
}

/**
 * Splits a hash into keys and values; over-long or oddly named keys are dropped.
 * @param hash - location.hash, with or without '#'
 */
export function parseHash(hash: string): HashState {
  const values = new Map<string, string>();
  const ignored: Ignored[] = [];
  let q: URLSearchParams;
  try {
    q = new URLSearchParams(hash.replace(/^#/, ''));
  } catch {
    return { values, ignored: [{ key: '#', value: clip(hash), why: 'unreadable' }] };
  }
  for (const [key, value] of q) {
    if (!KEY_RE.test(key)) ignored.push({ key: clip(key, 30), value: clip(value), why: 'unknown key' });
    else if (value.length > MAX_VALUE_LENGTH) ignored.push({ key, value: clip(value), why: 'too long' });
    else if (values.size >= MAX_KEYS) ignored.push({ key, value: clip(value), why: 'too many keys' });
    else values.set(key, value);
  }
  return { values, ignored };
}

/**
 * Writes values back as a hash (without '#'); empty strings are left out.
 * @param values - key → raw text, in the order to write
 */
export function toHash(values: Map<string, string>): string {
  const q = new URLSearchParams();
  for (const [k, v] of values) if (v !== '') q.set(k, v);
  return q.toString();
}

/** Formats a number for the URL: shortest text that reads back as the same float32-ish value. */
export function numText(v: number): string {
  return String(Number(v.toPrecision(7)));
}

/**
 * Typed, validated access to a view's values. Getters return the default for
 * a missing or invalid value and report the invalid one once; setters write
 * the text that the getter reads back (a default removes the key).
 */
export class ViewStore {
  readonly #values: Map<string, string>;
  readonly #prefix: string;
  readonly #onIgnored: (i: Ignored) => void;
  readonly #reported = new Set<string>();

  /**
   * @param values - the shared raw values (the shell writes them to the URL)
   * @param prefix - this store's key prefix, e.g. 'v.'
   * @param onIgnored - called once per invalid value met by a getter
   */
  constructor(values: Map<string, string>, prefix: string, onIgnored: (i: Ignored) => void) {
    this.#values = values;
    this.#prefix = prefix;
    this.#onIgnored = onIgnored;
  }

  // The key as the values hold it. Case is ignored when the exact key is absent: an element's attribute
  // names are lower-cased by HTML, so a view's `v.T` arrives as `v.t`.
  #key(key: string): string {
    const k = this.#prefix + key;
    if (this.#values.has(k)) return k;
    const lower = k.toLowerCase();
    for (const name of this.#values.keys()) if (name.toLowerCase() === lower) return name;
    return k;
  }

  #raw(key: string): string | undefined {
    return this.#values.get(this.#key(key));
  }

  #bad(key: string, why: string): void {
    const k = this.#key(key);
    if (this.#reported.has(k)) return;
    this.#reported.add(k);
    const value = this.#values.get(k) ?? '';
    this.#values.delete(k);
    this.#onIgnored({ key: k, value: clip(value), why });
  }

  /**
   * A finite number in [min, max].
   * @param key - name without prefix
   * @param def - default
   */
  num(key: string, def: number, min = -Infinity, max = Infinity): number {
    const raw = this.#raw(key);
    if (raw === undefined) return def;
    const v = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(v)) return (this.#bad(key, 'not a number'), def);
    if (v < min || v > max) return (this.#bad(key, `outside [${min}, ${max}]`), def);
    return v;
  }

  /** An integer in [min, max]. */
  int(key: string, def: number, min = -Infinity, max = Infinity): number {
    const v = this.num(key, def, min, max);
    if (!Number.isInteger(v)) return (this.#bad(key, 'not an integer'), def);
    return v;
  }

  /** One of a fixed list of names. */
  choice<T extends string>(key: string, choices: readonly T[], def: T): T {
    const raw = this.#raw(key);
    if (raw === undefined) return def;
    if ((choices as readonly string[]).includes(raw)) return raw as T;
    return (this.#bad(key, `not one of ${choices.join(', ')}`), def);
  }

  /** A boolean written as 1/0. */
  bool(key: string, def: boolean): boolean {
    const raw = this.#raw(key);
    if (raw === undefined) return def;
    if (raw === '1' || raw === '0') return raw === '1';
    return (this.#bad(key, 'not 0 or 1'), def);
  }

  /**
   * A comma-separated list of finite numbers in [min, max] with a length in [minLen, maxLen].
   */
  list(
    key: string,
    def: number[],
    opts: { min?: number; max?: number; minLen?: number; maxLen?: number } = {},
  ): number[] {
    const raw = this.#raw(key);
    if (raw === undefined) return def.slice();
    const { min = -Infinity, max = Infinity, minLen = 1, maxLen = 256 } = opts;
    const parts = raw.split(',');
    const v = parts.map((s) => (s.trim() === '' ? NaN : Number(s)));
    if (v.length < minLen || v.length > maxLen)
      return (this.#bad(key, `needs ${minLen}–${maxLen} numbers`), def.slice());
    if (v.some((x) => !Number.isFinite(x) || x < min || x > max))
      return (this.#bad(key, `needs numbers in [${min}, ${max}]`), def.slice());
    return v;
  }

  /** Free text up to maxLen characters (shown as text only, never markup). */
  text(key: string, def: string, maxLen = MAX_VALUE_LENGTH): string {
    const raw = this.#raw(key);
    if (raw === undefined) return def;
    if (raw.length > maxLen) return (this.#bad(key, 'too long'), def);
    return raw;
  }

  /**
   * Sets a value; `undefined` or the default removes it from the URL.
   * @param key - name without prefix
   * @param value - number, boolean, list or text
   * @param def - the getter's default (left out of the URL)
   */
  set(key: string, value: number | boolean | string | readonly number[] | undefined, def?: typeof value): void {
    this.#values.delete(this.#key(key));
    const k = this.#prefix + key;
    const text = (v: typeof value): string | undefined =>
      v === undefined
        ? undefined
        : typeof v === 'number'
          ? numText(v)
          : typeof v === 'boolean'
            ? v
              ? '1'
              : '0'
            : typeof v === 'string'
              ? v
              : v.map(numText).join(',');
    const t = text(value);
    if (t === undefined || (def !== undefined && t === text(def))) this.#values.delete(k);
    else this.#values.set(k, t);
  }

  /** Removes every key of this store (a fresh view). */
  clear(): void {
    for (const k of [...this.#values.keys()]) if (k.startsWith(this.#prefix)) this.#values.delete(k);
  }
}
