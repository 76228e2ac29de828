// The GPT rows of `npm run bench`: training steps per second of the issue's
// configs S (2 layers, 4 heads, d = 64) and M (4 layers, d = 128), block 16,
// vocabulary 29, batch 64, AdamW with decay on matrices, warmup + cosine,
// clipping, side by side in interleaved rounds:
//   - dlmath wasm: the dl.gpt network (gptSpec) stepped by model.step() on
//     batches of 64 real names (the page's pretraining split, 8 resident
//     batches in turn, the whole step in wasm, one call per step): packed,
//     each pass stops after its batch's longest name (input.pack, the
//     default), and "padded" with every one of the 16 positions computed
//     (input.pack false);
//   - dlmath native: the same spec, Model::Step at the best Highway target and
//     forced SSE4 (build/native/dlmath_bench --spec) on a batch of random
//     tokens where every position is scored: all 16 positions, as padded;
//   - PyTorch 1.13 on one CPU thread (bench/gpt_torch.py: the fixture's
//     network, nn.MultiheadAttention, OMP_NUM_THREADS=1, torch.set_num_threads(1));
//   - TensorFlow.js 4.22 wasm (SIMD, one thread): the same network from tfjs-core
//     primitives (bench/gpt_tfjs.mjs), started from dlmath's initial weights on
//     the random-token batch (it computes every position whatever the batch
//     holds); its first losses are checked against dlmath's on that batch.
//
//   node bench/gpt.mjs        (after `bash scripts/build.sh bench`; also the last part of `npm run bench`)
//
// Knobs: GPT_BENCH_ROUNDS (3), GPT_BENCH_S (seconds per measurement, 3; TF.js
// runs at least TFJS_MIN_STEPS steps).
// Writes build/bench/gpt.md and gpt.json.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { loadNames } from './names.mjs';
import { loadTfjsSide } from './tfjs-bundle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'build/bench');
const ROUNDS = Number(process.env.GPT_BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.GPT_BENCH_S ?? 3);
const VOCAB = 29;
const BATCH = 64;
const NAME_BATCHES = 8;
const TFJS_MIN_STEPS = 3;
const CHECK_STEPS = 5; // steps of the TF.js-vs-dlmath loss check
const log = (...a) => console.error('bench gpt:', ...a);

const { loadDlmath, gptSpec, GPT_DEFAULTS } = await import(
  pathToFileURL(path.join(root, 'web/dist/lib/index.js')).href
);
const CONFIGS = {
  S: { ...GPT_DEFAULTS },
  M: { ...GPT_DEFAULTS, layers: 4, dim: 128, lr: 1e-3 },
};

// Token ids and targets below the vocabulary from a multiplicative hash, as
// bench/native.cc's FillInput(x, seed, below).
function tokens(n, seed) {
  const v = new Float32Array(n);
  for (let i = 0; i < n; ++i) {
    const h = Math.imul((i + seed) | 0, 2654435761 | 0) >>> 0;
    v[i] = Math.floor(((h >>> 8) * VOCAB) / 16777216);
  }
  return v;
}

// Steps per second of `step` over SECONDS (and at least `minSteps` steps).
function stepsPerSecond(step, minSteps = 1) {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000 || n < minSteps) {
    step();
    ++n;
  }
  return (1000 * n) / (performance.now() - t0);
}

// NAME_BATCHES batches of BATCH names of the page's pretraining split, in
// an order drawn from a fixed seed: [{x, y}] as the page's batches.
function nameBatches(dl, names) {
  const g = dl.gpt({ texts: names.pretrain, validation: names.pretrainValidation });
  try {
    if (g.tokenizer.size !== VOCAB) throw new Error(`the names' vocabulary is ${g.tokenizer.size}, not ${VOCAB}`);
    const order = names.pretrain.map((name, i) => ({ name, key: Math.imul(i + 1, 2654435761) >>> 0 }));
    order.sort((a, b) => a.key - b.key);
    const block = GPT_DEFAULTS.block;
    return Array.from({ length: NAME_BATCHES }, (_, k) => {
      const texts = order.slice(k * BATCH, (k + 1) * BATCH).map((o) => o.name);
      const { x, y } = g.tokenizer.sequences(texts, block);
      return { x: { shape: [BATCH, block], data: x }, y: { shape: [BATCH, block], data: y } };
    });
  } finally {
    g.dispose();
  }
}

// Real positions per name (start and letters) and the positions a packed
// pass runs (its batch's longest name), averaged over the batches.
function batchPositions(batches) {
  const block = GPT_DEFAULTS.block;
  let real = 0;
  let span = 0;
  for (const { x } of batches) {
    let longest = 1;
    for (let b = 0; b < BATCH; ++b) {
      let n = 1;
      for (let j = 1; j < block; ++j) if (x.data[b * block + j] !== 0) n = j + 1;
      real += n; // the start token and the letters (the last one's target: the end token)
      longest = Math.max(longest, n);
    }
    span += longest;
  }
  return { real: real / (batches.length * BATCH), span: span / batches.length };
}

function wasmStepsPerSecond(dl, spec, batches) {
  const m = dl.model(spec);
  try {
    const ts = batches.map(({ x, y }) => ({ x: dl.tensor(x.data, x.shape), y: dl.tensor(y.data, y.shape) }));
    let i = 0;
    const step = () => {
      const { x, y } = ts[i++ % ts.length];
      m.step(x, y);
    };
    for (let k = 0; k < 5; ++k) step();
    const sps = stepsPerSecond(step);
    for (const { x, y } of ts) {
      x.dispose();
      y.dispose();
    }
    return sps;
  } finally {
    m.dispose();
  }
}

// The TF.js trainer of config `s`, from dlmath's initial weights of `spec`.
function tfjsTrainer(dl, spec, s) {
  const m = dl.model(spec);
  const weights = m.stateDict();
  m.dispose();
  const block = spec.input.block;
  const c = { ...s, vocab: VOCAB, hidden: 4 * s.dim, finalLr: s.finalLr * s.lr, pad: spec.input.pad };
  return tfgpt.gptTrainer(c, weights, tokens(BATCH * block, 1), tokens(BATCH * block, 2));
}

function tfjsStepsPerSecond(dl, spec, s) {
  const t = tfjsTrainer(dl, spec, s);
  try {
    for (let i = 0; i < 2; ++i) t.step();
    return stepsPerSecond(t.step, TFJS_MIN_STEPS);
  } finally {
    t.dispose();
  }
}

// The first CHECK_STEPS losses of dlmath (wasm) and TF.js from the same
// initial weights on the same batch.
function firstLosses(dl, spec, s) {
  const m = dl.model(spec);
  const block = spec.input.block;
  const x = { shape: [BATCH, block], data: tokens(BATCH * block, 1) };
  const y = { shape: [BATCH, block], data: tokens(BATCH * block, 2) };
  const ours = Array.from({ length: CHECK_STEPS }, () => m.step(x, y).loss);
  m.dispose();
  const t = tfjsTrainer(dl, spec, s);
  const theirs = Array.from({ length: CHECK_STEPS }, () => t.step());
  t.dispose();
  return { ours, theirs, maxRel: Math.max(...ours.map((l, i) => Math.abs(l - theirs[i]) / Math.abs(l))) };
}

function nativeStepsPerSecond(spec, name) {
  const bin = path.join(root, 'build/native/dlmath_bench');
  if (!fs.existsSync(bin)) return null;
  const ms = String(SECONDS * 1000);
  const r = spawnSync(bin, ['--spec', JSON.stringify(spec), '--batch', String(BATCH), '--name', name, '--ms', ms], {
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    log(`dlmath_bench exited with ${r.status}: ${r.stderr}`);
    return null;
  }
  const j = JSON.parse(r.stdout);
  return { best: j.engine[0].best, sse4: j.engine[0].sse4, targets: j.targets };
}

function torchStepsPerSecond(name) {
  const r = spawnSync('/usr/bin/python3', [path.join(root, 'bench/gpt_torch.py'), name, String(SECONDS)], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  if (r.status !== 0) {
    log(`gpt_torch.py exited with ${r.status}: ${r.stderr.slice(-400)}`);
    return null;
  }
  return JSON.parse(r.stdout);
}

const median = (a) => {
  const v = a.filter((x) => x !== null && Number.isFinite(x)).sort((p, q) => p - q);
  return v.length ? v[Math.floor(v.length / 2)] : NaN;
};

const { side: tfgpt, info: tfInfo } = await loadTfjsSide(
  path.join(root, 'bench/gpt_tfjs.mjs'),
  path.join(out, 'gpt_tfjs.bundle.mjs'),
  log,
);

const dl = await loadDlmath();
const batches = nameBatches(dl, await loadNames(root, out));
const positions = batchPositions(batches);
log(
  `names batches: ${positions.real.toFixed(2)} real positions per name, packed passes of ${positions.span.toFixed(2)}`,
);
const checks = {};
if (tfgpt)
  for (const [name, settings] of Object.entries(CONFIGS)) {
    const spec = gptSpec(settings, VOCAB);
    spec.max_batch = BATCH;
    checks[name] = firstLosses(dl, spec, settings);
    log(
      `${name} first losses: dlmath ${checks[name].ours.map((l) => l.toFixed(5)).join(' ')}; TF.js ${checks[name].theirs.map((l) => l.toFixed(5)).join(' ')}`,
    );
  }
const cols = ['tfjs', 'wasm', 'padded', 'native', 'sse4', 'torch'];
const res = Object.fromEntries(Object.keys(CONFIGS).map((c) => [c, Object.fromEntries(cols.map((k) => [k, []]))]));
let targets = null;
let torchInfo = null;
for (let r = 0; r < ROUNDS; ++r)
  for (const [name, settings] of Object.entries(CONFIGS)) {
    const spec = gptSpec(settings, VOCAB);
    spec.max_batch = BATCH;
    res[name].tfjs.push(tfgpt ? tfjsStepsPerSecond(dl, spec, settings) : null);
    res[name].wasm.push(wasmStepsPerSecond(dl, spec, batches));
    res[name].padded.push(wasmStepsPerSecond(dl, { ...spec, input: { ...spec.input, pack: false } }, batches));
    const nat = nativeStepsPerSecond(spec, name);
    res[name].native.push(nat?.best ?? null);
    res[name].sse4.push(nat?.sse4 ?? null);
    targets = nat?.targets ?? targets;
    const t = torchStepsPerSecond(name);
    res[name].torch.push(t?.steps_per_second ?? null);
    torchInfo = t ?? torchInfo;
    log(`round ${r + 1}/${ROUNDS} ${name}: ${cols.map((k) => `${k} ${res[name][k].at(-1)?.toFixed(2)}`).join(', ')}`);
  }

const fmt = (v) => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : 'n/a');
const lines = [
  '',
  '## GPT training (steps/s, batch 64, block 16, vocabulary 29)',
  '',
  `Medians of ${ROUNDS} interleaved rounds of ${SECONDS} s. Native targets: ${targets ? `${targets.best} and ${targets.sse4}` : 'n/a'}; ` +
    `PyTorch ${torchInfo?.torch ?? 'n/a'} on ${torchInfo?.threads ?? '?'} thread; ` +
    `TensorFlow.js ${tfInfo?.version ?? 'n/a'} ${tfInfo?.backend ?? ''} (${tfInfo?.binary ?? 'n/a'}, ${tfInfo?.threadsCount ?? '?'} thread).`,
  '',
  `dlmath wasm runs batches of real names (${positions.real.toFixed(2)} real positions per name of 16; packed passes ` +
    `stop after each batch's longest, ${positions.span.toFixed(2)} positions on average); "padded" is the same model and ` +
    'batches computing all 16 positions. Native, PyTorch and TF.js compute all 16 positions of every sequence.',
  '',
  '| config | TF.js wasm | dlmath wasm | dlmath wasm padded | dlmath native (best) | dlmath native (SSE4) | PyTorch 1 thread | wasm / TF.js | padded / TF.js | wasm / PyTorch | native / PyTorch |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];
const summary = {};
for (const name of Object.keys(CONFIGS)) {
  const m = Object.fromEntries(cols.map((k) => [k, median(res[name][k])]));
  summary[name] = { ...m, rounds: res[name] };
  lines.push(
    `| ${name} | ${fmt(m.tfjs)} | ${fmt(m.wasm)} | ${fmt(m.padded)} | ${fmt(m.native)} | ${fmt(m.sse4)} | ${fmt(m.torch)} | ${fmt(m.wasm / m.tfjs)}× | ${fmt(m.padded / m.tfjs)}× | ${fmt(m.wasm / m.torch)}× | ${fmt(m.native / m.torch)}× |`,
  );
}
const mark = (v, goal) => `${fmt(v)}× ${v >= goal ? '✓' : '✗'}`;
lines.push(
  '',
  `Issue 11's goals: wasm ≥ 10× TF.js on S (${mark(summary.S.wasm / summary.S.tfjs, 10)}) and ≥ 20× on M ` +
    `(${mark(summary.M.wasm / summary.M.tfjs, 20)}); wasm ≥ 1.0× PyTorch on S (${mark(summary.S.wasm / summary.S.torch, 1)}).`,
);
if (torchInfo)
  lines.push(
    '',
    `PyTorch's step (last round, ${torchInfo.config}): forward ${torchInfo.forward_ms.toFixed(1)} ms, backward ${torchInfo.backward_ms.toFixed(1)} ms, clip + AdamW ${torchInfo.update_ms.toFixed(1)} ms.`,
  );
lines.push(
  '',
  'TensorFlow.js: the same network from tfjs-core primitives (bench/gpt_tfjs.mjs): embedding as a one-hot matMul ' +
    '(the wasm backend has no kernel for the gradient of gather), layer norm and GELU written out, AdamW by hand, ' +
    `global-norm clipping, warmup + cosine. Started from dlmath's initial weights on the same batch, its first ${CHECK_STEPS} losses vs dlmath wasm:`,
);
for (const [name, k] of Object.entries(checks))
  lines.push(
    `- ${name}: dlmath ${k.ours.map((l) => l.toFixed(4)).join(', ')}; TF.js ${k.theirs.map((l) => l.toFixed(4)).join(', ')} (largest relative difference ${k.maxRel.toExponential(1)}).`,
  );
const table = lines.join('\n') + '\n';
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'gpt.md'), table);
fs.writeFileSync(
  path.join(out, 'gpt.json'),
  JSON.stringify({ date: new Date().toISOString(), summary, positions, checks, tfjs: tfInfo }, null, 2),
);
process.stdout.write(table);
