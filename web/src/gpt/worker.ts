// The GPT page's Web Worker: its own wasm instance holds the language model
// and the fine-tuning runs, so training never blocks the page. Training runs
// in chunks with a yield between them, so `stop` and other requests get in.
import { DlmathError, loadDlmath, type DlGpt, type Dlmath, type GptClassifier } from '../engine/index.js';
import { namesData } from '../nn/names.js';
import type { NamesData } from '../nn/names-data.js';
import { CONFIGS, type ConfigName, type ModelInfo, type Reply, type Request } from './protocol.js';

const dlReady: Promise<Dlmath> = loadDlmath();
let gpt: DlGpt | null = null;
let names: NamesData | null = null;
let config: ConfigName = 'S';
let stopRequested = false;

const post = (r: Reply): void => postMessage(r);
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
const CHUNK_MS = 150;

function need(): DlGpt {
  if (!gpt) throw new DlmathError('bad_value', 'no model yet: press Pretrain first', 'gpt');
  return gpt;
}

function info(g: DlGpt): ModelInfo {
  return {
    vocab: g.tokenizer.size,
    characters: g.tokenizer.characters,
    parameters: g.model.numParameters,
    texts: g.texts.length,
    validation: g.validation.length,
    step: g.model.stepCount,
    names: names !== null,
    config,
  };
}

// Runs `step(n)` in chunks of about CHUNK_MS until `total` steps or stop.
async function chunked(total: number, step: (n: number) => void, report: (done: number, rate: number) => void) {
  let done = 0;
  let n = 5;
  while (done < total && !stopRequested) {
    const k = Math.min(n, total - done);
    const t0 = performance.now();
    step(k);
    const ms = performance.now() - t0;
    done += k;
    report(done, (1000 * k) / Math.max(ms, 1e-3));
    n = Math.max(1, Math.min(100, Math.round((k * CHUNK_MS) / Math.max(ms, 1))));
    await tick();
  }
  return done;
}

async function handle(id: number, req: Request): Promise<unknown> {
  const dl = await dlReady;
  switch (req.cmd) {
    case 'init': {
      gpt?.dispose();
      gpt = null;
      config = req.config;
      const c = { ...CONFIGS[req.config], steps: req.steps, warmup: Math.min(100, Math.floor(req.steps / 10)) };
      if (req.source === 'names') {
        names ??= namesData();
        gpt = dl.gpt({ texts: names.pretrain, validation: names.pretrainValidation, ...c });
      } else {
        names = null;
        gpt = dl.gpt({ text: req.text ?? '', ...c });
      }
      return info(gpt);
    }
    case 'pretrain': {
      const g = need();
      stopRequested = false;
      let sinceEval = 0;
      let loss = NaN; // the chunk's mean training loss
      const done = await chunked(
        req.steps,
        (k) => {
          const r = g.pretrain(k);
          sinceEval += k;
          loss = r.losses.reduce((s, v) => s + v, 0) / k;
        },
        (_, rate) => {
          let val: { loss: number; perplexity: number } | undefined;
          if (sinceEval >= 50 && g.validation.length > 0) {
            sinceEval = 0;
            const e = g.evaluate();
            val = { loss: e.loss, perplexity: e.perplexity };
          }
          post({ id, progress: { step: g.model.stepCount, loss, stepsPerSecond: rate, ...(val ? { val } : {}) } });
        },
      );
      const e = g.validation.length > 0 ? g.evaluate() : { loss: NaN, perplexity: NaN };
      return { step: g.model.stepCount, stopped: done < req.steps, val: { loss: e.loss, perplexity: e.perplexity } };
    }
    case 'sample':
      return need().generate({ count: req.count, temperature: req.temperature, topK: req.topK, seed: req.seed });
    case 'next':
      return need().nextToken(req.prefix);
    case 'attention':
      return need().attention(req.text);
    case 'finetune': {
      const g = need();
      if (!names)
        throw new DlmathError(
          'bad_value',
          'fine-tuning classifies names as female or male: pretrain on the names first',
          'gpt',
        );
      stopRequested = false;
      const base = { texts: names.train.texts, labels: names.train.labels, validation: names.validation };
      const opts = { steps: req.steps, warmup: Math.min(30, Math.floor(req.steps / 10)) };
      const runs: GptClassifier[] = [];
      try {
        runs.push(g.classifier({ ...base, ...opts, pretrained: false }));
        runs.push(g.classifier({ ...base, ...opts }));
        runs.push(g.classifier({ ...base, ...opts, lmWeight: req.lambda }));
        const acc = (): [number, number, number] => runs.map((r) => r.evaluate().accuracy) as [number, number, number];
        let sinceEval = 0;
        const done = await chunked(
          req.steps,
          (k) => {
            for (const r of runs) r.train(k);
            sinceEval += k;
          },
          (d, rate) => {
            if (sinceEval < 25 && d < req.steps) return;
            sinceEval = 0;
            post({ id, progress: { step: d, accuracy: acc(), stepsPerSecond: rate } });
          },
        );
        return {
          majority: runs[0]!.majority,
          accuracy: acc(),
          lambda: req.lambda,
          steps: done,
          stopped: done < req.steps,
          train: base.texts.length,
          validation: base.validation.texts.length,
          ambiguous: names.ambiguous,
        };
      } finally {
        for (const r of runs) r.dispose();
      }
    }
    case 'checkpoint':
      return JSON.stringify(need().checkpoint(req.history));
    case 'load': {
      const g = dl.loadGpt(req.json);
      gpt?.dispose();
      gpt = g;
      names = null;
      if (g.texts.length > 0) {
        // The names corpus again when the checkpoint was trained on it (fine-tuning needs its labels).
        const n = namesData();
        if (n.pretrain.length === g.texts.length && n.pretrain.every((t, i) => t === g.texts[i])) names = n;
      }
      const c = (Object.keys(CONFIGS) as ConfigName[]).find(
        (k) => CONFIGS[k].dim === g.settings.dim && CONFIGS[k].layers === g.settings.layers,
      );
      config = c ?? 'S';
      return { ...info(g), history: g.history };
    }
    case 'pytorch':
      return need().toPyTorch();
    case 'stop':
      stopRequested = true;
      return null;
  }
}

onmessage = (e: MessageEvent<{ id: number; req: Request }>) => {
  const { id, req } = e.data;
  handle(id, req).then(
    (result) => post({ id, result }),
    (err: unknown) => {
      const code = err instanceof DlmathError ? err.code : 'internal';
      post({ id, error: { code, message: err instanceof Error ? err.message : String(err) } });
    },
  );
};
