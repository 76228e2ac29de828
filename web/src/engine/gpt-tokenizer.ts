// The tiny GPT's character vocabulary and the sequences it trains on. A
// token is one character (a Unicode code point); id 0 is the start/pad
// token, id 1 the end token, then the characters of the texts in code-point
// order. One text is one sequence: the start token, its characters, then
// padding, with the next token as the target of each position (the end
// token after the last character, ignore_index beyond).
import { DlmathError, describe } from './errors.js';

/** The start/pad token's id. */
export const START = 0;
/** The end token's id. */
export const END = 1;
/** The target of positions that are not scored (the core's default ignore_index). */
export const IGNORE = -100;

/** Limits on pasted text (characters, sequences, distinct characters). */
export const TEXT_LIMITS = Object.freeze({ chars: 1_000_000, sequences: 100_000, vocabulary: 512 });

/** Encoded sequences: x [count, block] token ids, y [count, block (+1)] targets (then the class). */
export interface EncodedSequences {
  x: Float32Array;
  y: Float32Array;
  count: number;
}

/** One character per token, plus the start/pad and end tokens. */
export class CharTokenizer {
  /** Every token's text: '' for start/pad and end, then one character each. */
  readonly tokens: readonly string[];
  readonly #ids: ReadonlyMap<string, number>;

  /**
   * @param chars - the characters of the vocabulary (order and repeats do not matter)
   */
  constructor(chars: Iterable<string>) {
    const set = [...new Set(chars)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    for (const c of set)
      if ([...c].length !== 1)
        throw new DlmathError('bad_value', `tokenizer: '${c}' is not one character`, 'gpt', 'vocabulary');
    if (set.length + 2 > TEXT_LIMITS.vocabulary)
      throw new DlmathError(
        'too_large',
        `tokenizer: the text uses ${set.length} distinct characters, above the limit of ${TEXT_LIMITS.vocabulary - 2}`,
        'gpt',
        'vocabulary',
      );
    this.tokens = Object.freeze(['', '', ...set]);
    this.#ids = new Map(set.map((c, i) => [c, i + 2]));
  }

  /**
   * The vocabulary of some texts: every character they use.
   * @param texts - the sequences
   */
  static fromTexts(texts: readonly string[]): CharTokenizer {
    const chars = new Set<string>();
    for (const t of texts) for (const c of t) chars.add(c);
    return new CharTokenizer(chars);
  }

  /** Tokens in the vocabulary (the model's V). */
  get size(): number {
    return this.tokens.length;
  }

  /** The characters, in token order (what a checkpoint saves). */
  get characters(): string {
    return this.tokens.slice(2).join('');
  }

  /**
   * Token ids of a text's characters (no start or end token).
   * @param text - the text
   */
  encode(text: string): number[] {
    if (typeof text !== 'string')
      throw new DlmathError('bad_type', `tokenizer: expected a string, got ${describe(text)}`, 'gpt', 'text');
    const ids: number[] = [];
    let column = 0;
    for (const c of text) {
      ++column;
      const id = this.#ids.get(c);
      if (id === undefined)
        throw new DlmathError(
          'bad_value',
          `tokenizer: '${c}' (column ${column} of '${text}') is not in the vocabulary (${JSON.stringify(this.characters)})`,
          'gpt',
          'text',
        );
      ids.push(id);
    }
    return ids;
  }

  /**
   * The text of token ids: characters up to the end token, start and pad tokens skipped.
   * @param ids - token ids
   */
  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; ++i) {
      const id = ids[i]!;
      if (id === END) break;
      if (id !== START) s += this.tokens[id] ?? '';
    }
    return s;
  }

  /**
   * A token as shown in a figure: '·' for start/pad, '⏎' for the end token, '␣' for a space.
   * @param id - token id
   */
  symbol(id: number): string {
    if (id === START) return '·';
    if (id === END) return '⏎';
    const t = this.tokens[id] ?? '?';
    return t === ' ' ? '␣' : t;
  }

  /**
   * Sequences in the model's layout: x = start token, the text's characters, padding; y = each
   * position's next token (the end token after the last character), IGNORE beyond; with labels,
   * the class after the block's targets.
   * @param texts - at most block - 1 characters each
   * @param block - positions per sequence
   * @param labels - one class per text, or none
   */
  sequences(texts: readonly string[], block: number, labels?: readonly number[]): EncodedSequences {
    const width = block + (labels ? 1 : 0);
    const x = new Float32Array(texts.length * block).fill(START);
    const y = new Float32Array(texts.length * width).fill(IGNORE);
    texts.forEach((text, b) => {
      const ids = this.encode(text);
      if (ids.length > block - 1)
        throw new DlmathError(
          'bad_value',
          `tokenizer: '${text}' has ${ids.length} characters; a block of ${block} holds ${block - 1}`,
          'gpt',
          'text',
        );
      ids.forEach((id, j) => {
        x[b * block + j + 1] = id;
        y[b * width + j] = id;
      });
      y[b * width + ids.length] = END;
      if (labels) y[b * width + block] = labels[b]!;
    });
    return { x, y, count: texts.length };
  }
}

/**
 * Pasted text as sequences: one per line (trimmed, empty lines dropped), a line longer than
 * block - 1 characters cut into pieces. Empty or oversized text is a clear error.
 * @param text - the text
 * @param block - positions per sequence
 */
export function splitText(text: string, block: number): string[] {
  if (typeof text !== 'string')
    throw new DlmathError('bad_type', `gpt: the text must be a string, got ${describe(text)}`, 'gpt', 'text');
  const chars = [...text].length;
  if (chars > TEXT_LIMITS.chars)
    throw new DlmathError(
      'too_large',
      `gpt: the text has ${chars} characters, above the limit of ${TEXT_LIMITS.chars}; paste less`,
      'gpt',
      'text',
    );
  const piece = block - 1;
  const out: string[] = [];
  for (const raw of text.split(/\r\n|\n|\r/)) {
    const line = [...raw.trim()];
    for (let i = 0; i < line.length; i += piece) out.push(line.slice(i, i + piece).join(''));
  }
  if (out.length === 0)
    throw new DlmathError(
      'bad_value',
      'gpt: the text is empty; paste some lines (one sequence per line, e.g. a list of words)',
      'gpt',
      'text',
    );
  if (out.length > TEXT_LIMITS.sequences)
    throw new DlmathError(
      'too_large',
      `gpt: the text makes ${out.length} sequences, above the limit of ${TEXT_LIMITS.sequences}`,
      'gpt',
      'text',
    );
  return out;
}

/**
 * A seeded shuffle (Fisher–Yates with a counter-based hash): the same seed, the same order.
 * @param items - copied, not changed
 * @param seed - any 32-bit integer
 */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; --i) {
    const j = mix32(mix32(seed ^ 0x2545f491) ^ i) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * lowbias32 (C. Wellons), as core/src/random.h: a bijection of 32-bit words.
 * @param h - a 32-bit word
 */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
