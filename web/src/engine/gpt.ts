// A tiny GPT trained in the core: `dl.gpt(config)` builds the network of
// GPT-1 in small (token and position embeddings, pre-norm blocks of causal
// self-attention and an MLP, a final norm, a token head tied to the
// embedding) as a sequence-model spec of the training engine, pretrains it
// on texts (L1: the next token of every position), and fine-tunes a copy
// with a classifier head (L2, or GPT-1's L3 = L2 + λ·L1). Batches are drawn
// here from a seeded order and stepped in wasm, one call per step; a
// checkpoint saves weights, optimizer state and the place in the data, so a
// restored model continues exactly as the original would have.
import type { Dlmath } from './dlmath.js';
import { DlmathError, describe } from './errors.js';
import { CharTokenizer, END, IGNORE, START, shuffled, splitText, type EncodedSequences } from './gpt-tokenizer.js';
import { fromBase64, toBase64, type DlModel, type LayerSpec, type ModelSpec, type SavedModel } from './model.js';

/** The network and its pretraining; every key has a default (config S of the issue). */
export interface GptConfig {
  /** Texts to pretrain on, one sequence each (names, words, short lines). */
  texts?: readonly string[];
  /** Or text to split into sequences: one per line, long lines cut to the block. */
  text?: string;
  /** Held-out texts for `evaluate()`; default: a seeded `validationFraction` of the texts. */
  validation?: readonly string[];
  /** Share of the texts held out when `validation` is not given (default 0.1). */
  validationFraction?: number;
  /** Positions per sequence (default 16: the start token and 15 characters). */
  block?: number;
  /** Transformer blocks (default 2). */
  layers?: number;
  /** Attention heads (default 4); they divide `dim`. */
  heads?: number;
  /** Width of the residual stream (default 64). */
  dim?: number;
  /** Hidden width of the MLP (default 4 · dim). */
  hidden?: number;
  /** The MLP: GPT's GELU (tanh form) or LLaMA's SwiGLU (default 'gelu_tanh'). */
  mlp?: 'gelu_tanh' | 'swiglu';
  /** Pre-norm before each sub-block and at the end (default 'layer_norm'). */
  norm?: 'layer_norm' | 'rms_norm';
  /** Positions: a learned table (GPT's) or the fixed sinusoids (default 'learned'). */
  positional?: 'learned' | 'sinusoidal';
  /** The token head shares the embedding's weight (default true). */
  tie?: boolean;
  /** Dropout after the embeddings and each sub-block (default 0). */
  dropout?: number;
  /** AdamW: peak learning rate (default 3e-3), betas (0.9, 0.99), weight decay on matrices (0.01). */
  lr?: number;
  beta1?: number;
  beta2?: number;
  weightDecay?: number;
  /** Linear warmup steps, then a cosine to `finalLr · lr` at `steps` (defaults 100, 2000, 0.1). */
  warmup?: number;
  steps?: number;
  finalLr?: number;
  /** Gradient clipping by total norm (default 1; 0: none). */
  clip?: number;
  /** Sequences per step (default 64). */
  batchSize?: number;
  /** Initial weights, dropout and the order of the data derive from it (default 7). */
  seed?: number;
}

/** Every knob of a GPT with its value. */
export type GptSettings = Required<Omit<GptConfig, 'texts' | 'text' | 'validation'>>;

/** The defaults: config S (2 layers, 4 heads, d = 64, block 16, batch 64, AdamW 3e-3). */
export const GPT_DEFAULTS: Readonly<GptSettings> = Object.freeze({
  validationFraction: 0.1,
  block: 16,
  layers: 2,
  heads: 4,
  dim: 64,
  hidden: 0, // 0: 4 · dim
  mlp: 'gelu_tanh',
  norm: 'layer_norm',
  positional: 'learned',
  tie: true,
  dropout: 0,
  lr: 3e-3,
  beta1: 0.9,
  beta2: 0.99,
  weightDecay: 0.01,
  warmup: 100,
  steps: 2000,
  finalLr: 0.1,
  clip: 1,
  batchSize: 64,
  seed: 7,
});

/** What a run of steps did. */
export interface GptProgress {
  /** The model's optimizer steps so far. */
  step: number;
  /** The loss of every step of this call (the combined loss for a classifier). */
  losses: Float32Array;
  /** The learning rate of the last step. */
  lr: number;
}

/** Held-out metrics of the language model. */
export interface GptEvaluation {
  /** Mean loss per predicted character (nats) and its perplexity (the registry's). */
  loss: number;
  perplexity: number;
  /** Next-character accuracy. */
  accuracy: number;
}

/** Fine-tuning: a copy of the network with a classifier on the last real position. */
export interface ClassifierConfig {
  /** Training texts and their classes (0, 1, ...). */
  texts: readonly string[];
  labels: readonly number[];
  /** Held-out texts and classes for `evaluate()`. */
  validation: { texts: readonly string[]; labels: readonly number[] };
  /** λ of L3 = L2 + λ·L1 (default 0: L2 alone). */
  lmWeight?: number;
  /** Start from the pretrained weights (default true) or from scratch (new initial weights). */
  pretrained?: boolean;
  /** AdamW: learning rate (default 1e-3), warmup (30), cosine to 0.1·lr at `steps` (300), batch (64). */
  lr?: number;
  warmup?: number;
  steps?: number;
  batchSize?: number;
  /** Seed of the head's initial weights and the order of the data (default: the GPT's + 1). */
  seed?: number;
}

/** Held-out metrics of a classifier. */
export interface ClassifierEvaluation {
  /** Validation accuracy and the majority class's share (what always guessing it would score). */
  accuracy: number;
  majority: number;
  /** L2 on the validation texts, and L1 (nats per character). */
  loss: number;
  lmLoss: number;
}

/** The attention of every layer and head for one text. */
export interface GptAttention {
  /** The positions' tokens as shown: '·' the start token, then the characters. */
  tokens: string[];
  /** Per attention layer: its index in the model's layers and one [n, n] matrix per head (row: query, column: key). */
  layers: { layer: number; path: string; heads: Float32Array[] }[];
}

/** A next token and its probability. */
export interface TokenProbability {
  token: number;
  /** The character ('' for the end token). */
  text: string;
  /** As shown: the character, or '⏎' for the end token. */
  symbol: string;
  p: number;
}

/** A saved GPT: settings, data, weights, optimizer state and the place in the data. */
export interface GptCheckpoint {
  format: 'dlmath-gpt';
  version: 1;
  settings: GptSettings;
  /** The vocabulary's characters, in token order (after the start and end tokens). */
  characters: string;
  texts: string[];
  validation: string[];
  model: SavedModel;
  optimizer: { step: number; data: string };
  /** Sequences drawn so far (the next batch starts there). */
  cursor: number;
  /** The training curves, when the checkpoint was saved with them. */
  history?: GptHistory;
}

/** A [step, value] point of a curve. */
export type CurvePoint = [number, number];

/** The curves of a GPT's training, kept in its checkpoint so a page can draw them again. */
export interface GptHistory {
  /** Pretraining: training loss and validation loss (nats per character) against the step. */
  train: CurvePoint[];
  validation: CurvePoint[];
  /**
   * The last fine-tuning: the validation accuracy of each run against its step, with λ (the
   * weight of L1 in L3), the steps run, the majority class's share and the validation names' count.
   */
  finetune: { runs: CurvePoint[][]; lambda: number; steps: number; majority: number; validation: number } | null;
}

// Checks a checkpoint's history (it comes from a file); null when absent.
function historyOf(value: unknown): GptHistory | null {
  if (value === undefined) return null;
  const bad = (what: string, got: unknown): never => {
    throw new DlmathError('bad_value', `dl.loadGpt: ${what}, got ${describe(got)}`, 'gpt', 'history');
  };
  const curve = (c: unknown, what: string): CurvePoint[] => {
    if (!Array.isArray(c)) bad(`history.${what} must be an array of [step, value] pairs`, c);
    for (const p of c as unknown[])
      if (!Array.isArray(p) || p.length !== 2 || p.some((v) => typeof v !== 'number'))
        bad(`history.${what} must hold [step, value] pairs of numbers`, p);
    return c as CurvePoint[];
  };
  if (typeof value !== 'object' || value === null)
    bad('history must be an object {train, validation, finetune}', value);
  const h = value as Record<string, unknown>;
  const history: GptHistory = {
    train: curve(h.train, 'train'),
    validation: curve(h.validation, 'validation'),
    finetune: null,
  };
  const f = h.finetune as Record<string, unknown> | null | undefined;
  if (f === null || f === undefined) return history;
  if (typeof f !== 'object') bad('history.finetune must be an object or null', f);
  if (!Array.isArray(f.runs)) bad('history.finetune.runs must be an array of curves', f.runs);
  for (const k of ['lambda', 'steps', 'majority', 'validation'])
    if (typeof f[k] !== 'number') bad(`history.finetune.${k} must be a number`, f[k]);
  history.finetune = {
    runs: (f.runs as unknown[]).map((r, i) => curve(r, `finetune.runs[${i}]`)),
    lambda: f.lambda as number,
    steps: f.steps as number,
    majority: f.majority as number,
    validation: f.validation as number,
  };
  return history;
}

/** The model spec of a GPT (composable engine layers; see core/include/dlmath/model.h). */
export function gptSpec(s: GptSettings, vocab: number, classifier?: { classes: number; lmWeight: number }): ModelSpec {
  const normal = { id: 'normal', std: 0.02 } as const;
  // GPT-2's scaled init of the projections into the residual stream.
  const proj = { id: 'normal', std: 0.02 / Math.sqrt(2 * s.layers) } as const;
  const norm = { type: s.norm } as LayerSpec;
  const dropout: LayerSpec[] = s.dropout > 0 ? [{ type: 'dropout', p: s.dropout }] : [];
  const hidden = s.hidden > 0 ? s.hidden : 4 * s.dim;
  const mlp: LayerSpec[] =
    s.mlp === 'swiglu'
      ? [{ type: 'swiglu', units: hidden, init: normal }]
      : [
          { type: 'linear', units: hidden, init: normal, bias_init: 'zeros' },
          { type: 'activation', id: 'gelu_tanh' },
        ];
  const layers: LayerSpec[] = [
    { type: 'embedding', dim: s.dim, init: normal },
    s.positional === 'learned'
      ? { type: 'positional', kind: 'learned', init: normal }
      : { type: 'positional', kind: 'sinusoidal' },
    ...dropout,
  ];
  for (let i = 0; i < s.layers; ++i) {
    layers.push({ type: 'residual', layers: [norm, { type: 'attention', heads: s.heads, init: normal }, ...dropout] });
    layers.push({
      type: 'residual',
      layers: [norm, ...mlp, { type: 'linear', units: s.dim, init: proj, bias_init: 'zeros' }, ...dropout],
    });
  }
  layers.push(norm);
  layers.push(
    s.tie
      ? { type: 'linear', units: vocab, bias: false, tie: true }
      : { type: 'linear', units: vocab, bias: false, init: normal },
  );
  const spec: ModelSpec = {
    input: { tokens: vocab, block: s.block, pad: START },
    layers,
    loss: { id: 'cross_entropy', ignore_index: IGNORE },
    optimizer: {
      id: 'adamw',
      lr: s.lr,
      beta1: s.beta1,
      beta2: s.beta2,
      weight_decay: s.weightDecay,
      decay: 'matrices',
    },
    schedule: { id: 'warmup_cosine', warmup: s.warmup, steps: s.steps, final_lr: s.finalLr * s.lr },
    seed: s.seed,
    max_batch: s.batchSize,
  };
  if (s.clip > 0) spec.clip = { norm: s.clip };
  if (classifier)
    spec.classifier = { classes: classifier.classes, lm_weight: classifier.lmWeight, init: normal, bias_init: 'zeros' };
  return spec;
}

// Sequences drawn in a seeded order, epoch after epoch, into one batch
// buffer: batch k of the stream is the same whoever asks for it.
class Batches {
  readonly data: EncodedSequences;
  readonly #block: number;
  readonly #width: number;
  readonly #size: number;
  readonly #seed: number;
  readonly #x: Float32Array;
  readonly #y: Float32Array;
  #epoch = -1;
  #order: number[] = [];
  cursor = 0;

  constructor(data: EncodedSequences, block: number, size: number, seed: number) {
    this.data = data;
    this.#block = block;
    this.#width = data.y.length / data.count;
    this.#size = Math.min(size, data.count);
    this.#seed = seed;
    this.#x = new Float32Array(this.#size * block);
    this.#y = new Float32Array(this.#size * this.#width);
  }

  // The next batch, as staged shapes for model.step.
  next(): [{ shape: number[]; data: Float32Array }, { shape: number[]; data: Float32Array }] {
    const n = this.data.count;
    for (let b = 0; b < this.#size; ++b, ++this.cursor) {
      const epoch = Math.floor(this.cursor / n);
      if (epoch !== this.#epoch) {
        this.#epoch = epoch;
        this.#order = shuffled(
          Array.from({ length: n }, (_, i) => i),
          this.#seed + epoch * 0x9e3779b9,
        );
      }
      const i = this.#order[this.cursor % n]!;
      this.#x.set(this.data.x.subarray(i * this.#block, (i + 1) * this.#block), b * this.#block);
      this.#y.set(this.data.y.subarray(i * this.#width, (i + 1) * this.#width), b * this.#width);
    }
    return [
      { shape: [this.#size, this.#block], data: this.#x },
      { shape: [this.#size, this.#width], data: this.#y },
    ];
  }
}

// `steps` training steps of `model` on `batches`.
function train(model: DlModel, batches: Batches, steps: number, call: string): GptProgress {
  if (!Number.isInteger(steps) || steps < 0)
    throw new DlmathError('bad_value', `${call}: steps must be an integer >= 0, got ${String(steps)}`, 'gpt', 'steps');
  const losses = new Float32Array(steps);
  let lr = NaN;
  for (let i = 0; i < steps; ++i) {
    const [x, y] = batches.next();
    const r = model.step(x, y);
    losses[i] = r.loss;
    lr = r.lr;
  }
  return { step: model.stepCount, losses, lr };
}

function settingsOf(config: GptConfig): GptSettings {
  const s = { ...GPT_DEFAULTS } as Record<string, unknown>;
  for (const [key, value] of Object.entries(config)) {
    if (key === 'texts' || key === 'text' || key === 'validation' || value === undefined) continue;
    if (!(key in GPT_DEFAULTS)) {
      const known = Object.keys(GPT_DEFAULTS).join(', ');
      throw new DlmathError(
        'unknown_param',
        `dl.gpt: unknown key '${key}' (known: texts, text, validation, ${known})`,
        'gpt',
        key,
      );
    }
    const want = typeof GPT_DEFAULTS[key as keyof GptSettings];
    if (typeof value !== want)
      throw new DlmathError('bad_type', `dl.gpt: ${key} must be a ${want}, got ${describe(value)}`, 'gpt', key);
    s[key] = value;
  }
  return s as GptSettings;
}

function textsOf(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.some((t) => typeof t !== 'string'))
    throw new DlmathError(
      'bad_type',
      `dl.gpt: ${what} must be an array of strings, got ${describe(value)}`,
      'gpt',
      what,
    );
  return value as string[];
}

/**
 * A tiny GPT in the core: pretraining, sampling, probabilities, attention, fine-tuning, checkpoints and
 * export. Get one with `dl.gpt(config)` or `dl.loadGpt(checkpoint)`; `dispose()` it when done.
 */
export class DlGpt {
  /** The settings it was built with (defaults filled in). */
  readonly settings: GptSettings;
  /** The character vocabulary. */
  readonly tokenizer: CharTokenizer;
  /** The language model (sequence model of the engine). */
  readonly model: DlModel;
  /** The pretraining and held-out texts. */
  readonly texts: readonly string[];
  readonly validation: readonly string[];
  /** The curves its checkpoint carried (`dl.loadGpt`), null for a new model. */
  history: GptHistory | null = null;
  readonly #dl: Dlmath;
  readonly #batches: Batches;
  readonly #val: EncodedSequences;

  /** @internal Use `dl.gpt(config)`. */
  constructor(dl: Dlmath, config: GptConfig, characters?: string) {
    if (typeof config !== 'object' || config === null)
      throw new DlmathError('bad_type', `dl.gpt: the config must be an object, got ${describe(config)}`, 'gpt');
    this.#dl = dl;
    const s = settingsOf(config);
    this.settings = Object.freeze(s);
    if ((config.texts === undefined) === (config.text === undefined))
      throw new DlmathError(
        'bad_value',
        'dl.gpt: give the texts to learn from, either texts (an array, one sequence each) or text (split into lines)',
        'gpt',
        'texts',
      );
    let texts = config.text !== undefined ? splitText(config.text, s.block) : textsOf(config.texts, 'texts');
    if (texts.length === 0)
      throw new DlmathError('bad_value', 'dl.gpt: texts is empty; give at least one sequence', 'gpt', 'texts');
    let validation: string[];
    if (config.validation !== undefined) validation = textsOf(config.validation, 'validation');
    else {
      const order = shuffled(texts, s.seed ^ 0x5bd1e995);
      const held = Math.floor(texts.length * s.validationFraction);
      validation = order.slice(0, held);
      texts = order.slice(held);
    }
    this.texts = Object.freeze(texts);
    this.validation = Object.freeze(validation);
    this.tokenizer =
      characters !== undefined ? new CharTokenizer(characters) : CharTokenizer.fromTexts([...texts, ...validation]);
    const train = this.tokenizer.sequences(texts, s.block);
    this.#val = this.tokenizer.sequences(validation, s.block);
    this.model = dl.model(gptSpec(s, this.tokenizer.size));
    this.#batches = new Batches(train, s.block, s.batchSize, s.seed);
  }

  /**
   * Pretraining (L1: every position predicts the next character).
   * @param steps - optimizer steps to run now
   * @returns the loss of each, the step count and learning rate
   */
  pretrain(steps: number): GptProgress {
    return train(this.model, this.#batches, steps, 'gpt.pretrain');
  }

  /** Loss per character, perplexity and next-character accuracy on the held-out texts. */
  evaluate(): GptEvaluation {
    if (this.#val.count === 0)
      throw new DlmathError('bad_value', 'gpt.evaluate: there are no held-out texts (validation is empty)', 'gpt');
    const m = this.model.evaluateSequences(
      { shape: [this.#val.count, this.settings.block], data: this.#val.x },
      {
        shape: [this.#val.count, this.settings.block],
        data: this.#val.y,
      },
    );
    return { loss: m.lmLoss, perplexity: m.perplexity, accuracy: m.lmAccuracy };
  }

  /**
   * Samples texts: each grows from the prefix until the end token (or the block is full).
   * @param options - count (default 10), temperature (1), topK (0: all), prefix (''), seed (0)
   */
  generate(
    options: { count?: number; temperature?: number; topK?: number; prefix?: string; seed?: number } = {},
  ): string[] {
    const { count = 10, temperature = 1, topK = 0, prefix = '', seed = 0 } = options;
    if (!Number.isInteger(count) || count < 1 || count > 10_000)
      throw new DlmathError(
        'bad_value',
        `gpt.generate: count must be an integer in [1, 10000], got ${String(count)}`,
        'gpt',
        'count',
      );
    const x = this.#prefixes(new Array<string>(count).fill(prefix), 'gpt.generate');
    const r = this.model.generate(x, { temperature, topK, seed, end: END });
    const t = this.settings.block;
    return Array.from({ length: count }, (_, b) => this.tokenizer.decode(r.data.subarray(b * t, (b + 1) * t)));
  }

  /**
   * The distribution of the next character after a prefix, most likely first.
   * @param prefix - the text so far ('' : the first character)
   * @param options - temperature (1) and topK (0: all)
   */
  nextToken(prefix: string, options: { temperature?: number; topK?: number } = {}): TokenProbability[] {
    const r = this.model.nextTokens(this.#prefixes([prefix], 'gpt.nextToken'), options);
    return Array.from(r.data, (p, token) => ({
      token,
      text: this.tokenizer.tokens[token]!,
      symbol: this.tokenizer.symbol(token),
      p,
    }))
      .filter((t) => t.token !== START)
      .sort((a, b) => b.p - a.p);
  }

  /**
   * How each head of each layer attends over a text (its start token and characters).
   * @param text - at most block - 1 characters
   */
  attention(text: string): GptAttention {
    const x = this.#prefixes([text], 'gpt.attention');
    this.model.predict(x);
    const t = this.settings.block;
    const n = this.tokenizer.encode(text).length + 1;
    const layers = this.model.layers
      .map((l, layer) => ({ l, layer }))
      .filter(({ l }) => l.type === 'attention')
      .map(({ l, layer }) => {
        const w = this.model.attention(layer).data;
        const heads = Array.from({ length: l.heads }, (_, h) => {
          const m = new Float32Array(n * n);
          for (let i = 0; i < n; ++i) m.set(w.subarray((h * t + i) * t, (h * t + i) * t + n), i * n);
          return m;
        });
        return { layer, path: l.path, heads };
      });
    return { tokens: [this.tokenizer.symbol(START), ...[...text].map((c) => (c === ' ' ? '␣' : c))], layers };
  }

  /**
   * Fine-tuning: a new model with a classifier head on the last real position, from these
   * pretrained weights or from scratch, minimising L2 + λ·L1.
   * @param config - labelled texts, λ, pretrained or not, and its optimizer settings
   */
  classifier(config: ClassifierConfig): GptClassifier {
    return new GptClassifier(this.#dl, this, config);
  }

  /**
   * Everything to continue later exactly where this stands (weights, optimizer state, data position).
   * @param history - the training curves to keep with it (default: those it was loaded with, if any)
   */
  checkpoint(history: GptHistory | null = this.history): GptCheckpoint {
    const o = this.model.optimizerState();
    return {
      format: 'dlmath-gpt',
      version: 1,
      settings: { ...this.settings },
      characters: this.tokenizer.characters,
      texts: [...this.texts],
      validation: [...this.validation],
      model: this.model.toJSON(),
      optimizer: { step: o.step, data: toBase64(o.data) },
      cursor: this.#batches.cursor,
      ...(history ? { history } : {}),
    };
  }

  /** @internal Restores weights, optimizer state and the data position of a checkpoint. */
  restore(c: GptCheckpoint): void {
    for (const group of [c.model.parameters, c.model.buffers])
      for (const [name, t] of Object.entries(group)) this.model.setParameter(name, fromBase64(t.data, name));
    this.model.setOptimizerState({ step: c.optimizer.step, data: fromBase64(c.optimizer.data, 'optimizer') });
    this.#batches.cursor = c.cursor;
  }

  /** PyTorch source rebuilding the model (`model(idx)` gives the logits) with the vocabulary as `VOCAB`. */
  toPyTorch(): string {
    return `${this.model.toPyTorch()}\n# Token ids: 0 the start/pad token, 1 the end token, then these characters.\nVOCAB = ['<start>', '<end>'] + list(${JSON.stringify(this.tokenizer.characters)})\n`;
  }

  /** Frees the model. */
  dispose(): void {
    this.model.dispose();
  }

  // Sequences of the start token and each prefix, padded: [count, block].
  #prefixes(prefixes: readonly string[], call: string): { shape: number[]; data: Float32Array } {
    const t = this.settings.block;
    const x = new Float32Array(prefixes.length * t);
    prefixes.forEach((p, b) => {
      if (typeof p !== 'string')
        throw new DlmathError('bad_type', `${call}: the prefix must be a string, got ${describe(p)}`, 'gpt', 'prefix');
      const ids = this.tokenizer.encode(p);
      if (ids.length > t - 1)
        throw new DlmathError(
          'bad_value',
          `${call}: '${p}' has ${ids.length} characters; the block holds ${t - 1}`,
          'gpt',
          'prefix',
        );
      x.set(ids, b * t + 1);
    });
    return { shape: [prefixes.length, t], data: x };
  }
}

/** A fine-tuning run: the GPT's network with a classifier head, trained on labelled texts. */
export class GptClassifier {
  /** The model (a sequence model with a classifier). */
  readonly model: DlModel;
  /** λ of L3 = L2 + λ·L1, and whether it started from the pretrained weights. */
  readonly lmWeight: number;
  readonly pretrained: boolean;
  /** The majority class's share of the validation texts. */
  readonly majority: number;
  readonly #batches: Batches;
  readonly #val: EncodedSequences;
  readonly #block: number;

  /** @internal Use `gpt.classifier(config)`. */
  constructor(dl: Dlmath, gpt: DlGpt, c: ClassifierConfig) {
    if (typeof c !== 'object' || c === null)
      throw new DlmathError('bad_type', `gpt.classifier: the config must be an object, got ${describe(c)}`, 'gpt');
    const texts = textsOf(c.texts, 'texts');
    const vtexts = textsOf(c.validation?.texts, 'validation.texts');
    for (const [labels, n, what] of [
      [c.labels, texts.length, 'labels'],
      [c.validation?.labels, vtexts.length, 'validation.labels'],
    ] as const)
      if (!Array.isArray(labels) || labels.length !== n || labels.some((l) => !Number.isInteger(l) || l < 0))
        throw new DlmathError(
          'bad_value',
          `gpt.classifier: ${what} must hold one class (an integer >= 0) per text: ${n} of them`,
          'gpt',
          what,
        );
    const { lmWeight = 0, pretrained = true, lr = 1e-3, warmup = 30, steps = 300, batchSize = 64 } = c;
    const seed = c.seed ?? gpt.settings.seed + 1;
    const classes = Math.max(1, ...c.labels, ...c.validation.labels) + 1;
    this.lmWeight = lmWeight;
    this.pretrained = pretrained;
    this.#block = gpt.settings.block;
    const s: GptSettings = { ...gpt.settings, lr, warmup, steps, batchSize, seed };
    this.model = dl.model(gptSpec(s, gpt.tokenizer.size, { classes, lmWeight }));
    try {
      if (pretrained)
        for (const [name, t] of Object.entries(gpt.model.stateDict())) this.model.setParameter(name, t.data);
      this.#batches = new Batches(gpt.tokenizer.sequences(texts, this.#block, c.labels), this.#block, batchSize, seed);
      this.#val = gpt.tokenizer.sequences(vtexts, this.#block, c.validation.labels);
    } catch (e) {
      this.model.dispose();
      throw e;
    }
    const counts = new Map<number, number>();
    for (const l of c.validation.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    this.majority = vtexts.length ? Math.max(...counts.values()) / vtexts.length : NaN;
  }

  /**
   * Fine-tuning steps.
   * @param steps - optimizer steps to run now
   */
  train(steps: number): GptProgress {
    return train(this.model, this.#batches, steps, 'classifier.train');
  }

  /** Validation accuracy beside the majority baseline, and the two losses. */
  evaluate(): ClassifierEvaluation {
    const n = this.#val.count;
    const m = this.model.evaluateSequences(
      { shape: [n, this.#block], data: this.#val.x },
      { shape: [n, this.#block + 1], data: this.#val.y },
    );
    return { accuracy: m.clsAccuracy, majority: this.majority, loss: m.clsLoss, lmLoss: m.lmLoss };
  }

  /** Frees the model. */
  dispose(): void {
    this.model.dispose();
  }
}

/**
 * @internal Restores a checkpoint (what `dl.loadGpt` does).
 * @param dl - the module
 * @param checkpoint - `gpt.checkpoint()`'s object or its JSON text
 */
export function loadGpt(dl: Dlmath, checkpoint: GptCheckpoint | string): DlGpt {
  let c: unknown = checkpoint;
  if (typeof c === 'string')
    try {
      c = JSON.parse(c);
    } catch (e) {
      throw new DlmathError('bad_value', `dl.loadGpt: the text is not JSON (${(e as Error).message})`, 'gpt');
    }
  const k = c as GptCheckpoint;
  if (typeof k !== 'object' || k === null || k.format !== 'dlmath-gpt' || k.version !== 1)
    throw new DlmathError(
      'bad_value',
      `dl.loadGpt: expected a checkpoint (gpt.checkpoint(): format 'dlmath-gpt', version 1), got ${describe(k)}`,
      'gpt',
    );
  const history = historyOf(k.history);
  const gpt = new DlGpt(dl, { ...k.settings, texts: k.texts, validation: k.validation }, k.characters);
  gpt.history = history;
  try {
    gpt.restore(k);
  } catch (e) {
    gpt.dispose();
    throw e;
  }
  return gpt;
}
