// Quality of dlmath's GPT against PyTorch's on the names corpus (issue 11's
// goals: validation loss within 0.03 nats of PyTorch's after 1,000 and 3,000
// steps of config S; fine-tuning accuracy within 1.5 points after 300 steps,
// from scratch and from the pretrained model).
//
// dlmath trains in wasm through dl.gpt exactly as the GPT page does (the
// page's split of the two name lists, GPT_DEFAULTS = config S, the
// classifier's defaults), and records each run's initial weights and every
// batch it stepped on. bench/gpt_quality.py then replays the same runs in
// PyTorch 1.13 (one thread): same network, same initial weights, same
// batches in the same order, same optimizer, schedule and clipping; its
// fine-tuning from pretrained starts from PyTorch's own pretrained weights.
// The differences are therefore the engines' arithmetic, compounded over
// thousands of steps.
//
//   npm run bench:quality     (node bench/gpt_quality.mjs; a few minutes)
//
// Writes build/bench/gpt_quality.md and .json (+ the replay data).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { loadNames } from './names.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'build/bench');
// Knobs (for a quick smoke run): GPT_QUALITY_EVALS ("1000,3000"), GPT_QUALITY_FINETUNE (300).
const PRETRAIN_EVALS = (process.env.GPT_QUALITY_EVALS ?? '1000,3000').split(',').map(Number);
const FINETUNE_STEPS = Number(process.env.GPT_QUALITY_FINETUNE ?? 300);
const GOALS = { loss: 0.03, accuracy: 1.5 };
const log = (...a) => console.error('bench gpt quality:', ...a);
fs.mkdirSync(out, { recursive: true });

const names = await loadNames(root, out);

const { loadDlmath, GPT_DEFAULTS } = await import(pathToFileURL(path.join(root, 'web/dist/lib/index.js')).href);
const dl = await loadDlmath();

// The replay data: float32 arrays appended to one blob, referenced by offset.
const chunks = [];
let floats = 0;
function put(shape, data) {
  const ref = { shape, offset: floats };
  chunks.push(Float32Array.from(data));
  floats += data.length;
  return ref;
}

// Records model.step's batches and the initial weights of `model`.
function record(model) {
  const init = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, put(t.shape, t.data)]));
  const xs = [];
  const ys = [];
  let yShape = null;
  const step = model.step.bind(model);
  model.step = (x, y) => {
    xs.push(Float32Array.from(x.data));
    ys.push(Float32Array.from(y.data));
    yShape = y.shape;
    return step(x, y);
  };
  const batches = () => {
    const cat = (a) => {
      const r = new Float32Array(a.reduce((n, v) => n + v.length, 0));
      a.reduce((at, v) => (r.set(v, at), at + v.length), 0);
      return r;
    };
    const n = xs.length * yShape[0];
    return { x: put([n, GPT_DEFAULTS.block], cat(xs)), y: put([n, yShape[1]], cat(ys)), batch: yShape[0] };
  };
  return { init, batches };
}

const s = GPT_DEFAULTS;
const dims = { vocab: 0, block: s.block, dim: s.dim, heads: s.heads, layers: s.layers, hidden: 4 * s.dim };
const runs = [];
const ours = {};

log(`pretraining S for ${PRETRAIN_EVALS.at(-1)} steps in wasm`);
const gpt = dl.gpt({ texts: names.pretrain, validation: names.pretrainValidation });
dims.vocab = gpt.tokenizer.size;
{
  const rec = record(gpt.model);
  ours.pretrain = { evaluations: {}, first_losses: [] };
  let done = 0;
  for (const at of PRETRAIN_EVALS) {
    const r = gpt.pretrain(at - done);
    if (done === 0) ours.pretrain.first_losses = Array.from(r.losses.slice(0, 5));
    done = at;
    ours.pretrain.evaluations[at] = { lm_loss: gpt.evaluate().loss };
    log(`  step ${at}: validation loss ${ours.pretrain.evaluations[at].lm_loss.toFixed(4)}`);
  }
  const val = gpt.tokenizer.sequences(gpt.validation, s.block);
  runs.push({
    name: 'pretrain',
    dims,
    optimizer: {
      lr: s.lr,
      weight_decay: s.weightDecay,
      warmup: s.warmup,
      steps: s.steps,
      final_lr: s.finalLr * s.lr,
      clip: s.clip,
    },
    init: rec.init,
    ...rec.batches(),
    val_x: put([val.count, s.block], val.x),
    val_y: put([val.count, s.block], val.y),
    evaluate_at: PRETRAIN_EVALS,
  });
}

const task = { texts: names.train.texts, labels: names.train.labels, validation: names.validation };
let majority = NaN;
for (const pretrained of [false, true]) {
  const name = pretrained ? 'finetune_pretrained' : 'finetune_scratch';
  log(`${name}: ${FINETUNE_STEPS} steps`);
  const c = gpt.classifier({ ...task, pretrained });
  try {
    const rec = record(c.model);
    const r = c.train(FINETUNE_STEPS);
    const e = c.evaluate();
    majority = e.majority;
    ours[name] = { evaluations: { [FINETUNE_STEPS]: e }, first_losses: Array.from(r.losses.slice(0, 5)) };
    log(`  accuracy ${(100 * e.accuracy).toFixed(2)} %`);
    const val = gpt.tokenizer.sequences(names.validation.texts, s.block, names.validation.labels);
    runs.push({
      name,
      dims: { ...dims, classes: 2, lm_weight: 0 },
      // gpt.classifier's defaults
      optimizer: {
        lr: 1e-3,
        weight_decay: s.weightDecay,
        warmup: 30,
        steps: FINETUNE_STEPS,
        final_lr: 1e-4,
        clip: s.clip,
      },
      init: rec.init,
      ...(pretrained ? { pretrained_from: 'pretrain' } : {}),
      ...rec.batches(),
      val_x: put([val.count, s.block], val.x),
      val_y: put([val.count, s.block + 1], val.y),
      evaluate_at: [FINETUNE_STEPS],
    });
  } finally {
    c.dispose();
  }
}
gpt.dispose();

const blob = new Float32Array(floats);
chunks.reduce((at, v) => (blob.set(v, at), at + v.length), 0);
fs.writeFileSync(path.join(out, 'gpt_quality.bin'), new Uint8Array(blob.buffer));
const manifest = path.join(out, 'gpt_quality.manifest.json');
fs.writeFileSync(manifest, JSON.stringify({ blob: 'gpt_quality.bin', runs }));

log('replaying in PyTorch');
const py = spawnSync('/usr/bin/python3', [path.join(root, 'bench/gpt_quality.py'), manifest], {
  encoding: 'utf8',
  env: { ...process.env, OMP_NUM_THREADS: '1' },
  maxBuffer: 1 << 24,
});
if (py.status !== 0) {
  log(`gpt_quality.py exited with ${py.status}: ${py.stderr.slice(-800)}`);
  process.exit(1);
}
const torch = JSON.parse(py.stdout);

const rows = [];
for (const at of PRETRAIN_EVALS) {
  const a = ours.pretrain.evaluations[at].lm_loss;
  const b = torch.runs.pretrain.evaluations[at].lm_loss;
  rows.push({
    what: `S pretraining, ${at} steps: validation loss (nats/char)`,
    ours: a,
    torch: b,
    diff: a - b,
    goal: GOALS.loss,
    unit: '',
  });
}
for (const name of ['finetune_scratch', 'finetune_pretrained']) {
  const a = 100 * ours[name].evaluations[FINETUNE_STEPS].accuracy;
  const b = 100 * torch.runs[name].evaluations[FINETUNE_STEPS].accuracy;
  const from = name === 'finetune_scratch' ? 'from scratch' : `from the ${PRETRAIN_EVALS.at(-1)}-step model`;
  rows.push({
    what: `fine-tuning ${FINETUNE_STEPS} steps ${from}: validation accuracy (%)`,
    ours: a,
    torch: b,
    diff: a - b,
    goal: GOALS.accuracy,
    unit: ' pt',
  });
}
const fmt = (v, d = 4) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
const lines = [
  '',
  '## GPT quality vs PyTorch (names corpus, config S)',
  '',
  `dlmath wasm (dl.gpt, the page's split and defaults) vs PyTorch ${torch.torch} on ${torch.threads} thread replaying the same ` +
    'initial weights and batches. Pretraining: ' +
    `${names.pretrain.length} names, validation ${names.pretrainValidation.length}; classification: ${names.train.texts.length} ` +
    `training, ${names.validation.texts.length} validation names, majority class ${fmt(100 * majority, 1)} %.`,
  '',
  '| measure | dlmath | PyTorch | difference | goal |',
  '| --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.what} | ${fmt(r.ours, r.unit ? 2 : 4)} | ${fmt(r.torch, r.unit ? 2 : 4)} | ${r.diff >= 0 ? '+' : ''}${r.unit ? fmt(r.diff, 2) : r.diff.toExponential(1)}${r.unit} | ` +
      `${Math.abs(r.diff) <= r.goal ? '✓' : '✗'} ≤ ${r.goal}${r.unit} |`,
  ),
  '',
  `First pretraining losses: dlmath ${ours.pretrain.first_losses.map((l) => l.toFixed(5)).join(', ')}; ` +
    `PyTorch ${torch.runs.pretrain.first_losses.map((l) => l.toFixed(5)).join(', ')}.`,
];
const table = lines.join('\n') + '\n';
fs.writeFileSync(path.join(out, 'gpt_quality.md'), table);
fs.writeFileSync(
  path.join(out, 'gpt_quality.json'),
  JSON.stringify({ date: new Date().toISOString(), rows, ours, torch }, null, 2),
);
process.stdout.write(table);
