// The GPT rows of `npm run bench`: training steps per second of the issue's
// configs S (2 layers, 4 heads, d = 64) and M (4 layers, d = 128), block 16,
// vocabulary 29, batch 64, AdamW with decay on matrices, warmup + cosine,
// clipping, side by side in interleaved rounds:
//   - dlmath wasm: the dl.gpt network (gptSpec) stepped by model.step() on
//     one resident batch (the whole step in wasm, one call per step);
//   - dlmath native: the same spec, Model::Step at the best Highway target and
//     forced SSE4 (build/native/dlmath_bench --spec);
//   - PyTorch 1.13 on one CPU thread (bench/gpt_torch.py: the fixture's
//     network, nn.MultiheadAttention, OMP_NUM_THREADS=1, torch.set_num_threads(1)).
// TensorFlow.js has no GPT column yet (see the table's note).
//
//   node bench/gpt.mjs        (after `bash scripts/build.sh bench`; also the last part of `npm run bench`)
//
// Knobs: GPT_BENCH_ROUNDS (3), GPT_BENCH_S (seconds per measurement, 3).
// Writes build/bench/gpt.md and gpt.json.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'build/bench');
const ROUNDS = Number(process.env.GPT_BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.GPT_BENCH_S ?? 3);
const VOCAB = 29;
const BATCH = 64;
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

function wasmStepsPerSecond(dl, spec) {
  const m = dl.model(spec);
  try {
    const block = spec.input.block;
    const x = dl.tensor(tokens(BATCH * block, 1), [BATCH, block]);
    const y = dl.tensor(tokens(BATCH * block, 2), [BATCH, block]);
    for (let i = 0; i < 5; ++i) m.step(x, y);
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < SECONDS * 1000) {
      m.step(x, y);
      ++n;
    }
    const sps = (1000 * n) / (performance.now() - t0);
    x.dispose();
    y.dispose();
    return sps;
  } finally {
    m.dispose();
  }
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

const dl = await loadDlmath();
const cols = ['wasm', 'native', 'sse4', 'torch'];
const res = Object.fromEntries(Object.keys(CONFIGS).map((c) => [c, Object.fromEntries(cols.map((k) => [k, []]))]));
let targets = null;
let torchInfo = null;
for (let r = 0; r < ROUNDS; ++r)
  for (const [name, settings] of Object.entries(CONFIGS)) {
    const spec = gptSpec(settings, VOCAB);
    spec.max_batch = BATCH;
    res[name].wasm.push(wasmStepsPerSecond(dl, spec));
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
    `PyTorch ${torchInfo?.torch ?? 'n/a'} on ${torchInfo?.threads ?? '?'} thread.`,
  '',
  '| config | dlmath wasm | dlmath native (best) | dlmath native (SSE4) | PyTorch 1 thread | wasm / PyTorch | native / PyTorch |',
  '| --- | --- | --- | --- | --- | --- | --- |',
];
const summary = {};
for (const name of Object.keys(CONFIGS)) {
  const m = Object.fromEntries(cols.map((k) => [k, median(res[name][k])]));
  summary[name] = { ...m, rounds: res[name] };
  lines.push(
    `| ${name} | ${fmt(m.wasm)} | ${fmt(m.native)} | ${fmt(m.sse4)} | ${fmt(m.torch)} | ${fmt(m.wasm / m.torch)}× | ${fmt(m.native / m.torch)}× |`,
  );
}
if (torchInfo)
  lines.push(
    '',
    `PyTorch's step (last round, ${torchInfo.config}): forward ${torchInfo.forward_ms.toFixed(1)} ms, backward ${torchInfo.backward_ms.toFixed(1)} ms, clip + AdamW ${torchInfo.update_ms.toFixed(1)} ms.`,
  );
lines.push(
  '',
  'TensorFlow.js: no GPT training loop in this benchmark yet (the issue quotes 4.5 and 0.55 steps/s for S and M).',
);
const table = lines.join('\n') + '\n';
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'gpt.md'), table);
fs.writeFileSync(path.join(out, 'gpt.json'), JSON.stringify({ date: new Date().toISOString(), summary }, null, 2));
process.stdout.write(table);
