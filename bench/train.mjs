// The training rows of `npm run bench` (called by bench/run.mjs): steps per
// second of two MLPs, side by side in interleaved rounds, in
//   - dlmath wasm: model.step() on a resident batch (the whole step in wasm,
//     one call per step) and model.fit() (the loop in wasm too);
//   - native: Model::Step at the best target and forced SSE4 (bench/native.cc
//     --engine, spawned once per round);
//   - TensorFlow.js wasm: its idiomatic loop, tf.variable weights and
//     optimizer.minimize (bench/tfjs-side.mjs, makeTrainCase);
//   - plain JS: a TF-Playground-style network, one object per neuron and
//     link (bench/plain-js.mjs, PlaygroundNet), for the small MLP only.
// Every column starts from dlmath's initial weights and the same batch, and
// its first losses are checked against dlmath's (a column computing another
// function is flagged, not compared).
import { PlaygroundNet } from './plain-js.mjs';

// Same inputs as native.cc's EngineStepsPerSecond: FillInput(x, 1) / 5, and
// y = FillInput(y, 2) (class indices in [0, classes) for cross-entropy).
function fill(n, seed, below = 0) {
  const v = new Float32Array(n);
  for (let i = 0; i < n; ++i) {
    const h = Math.imul((i + seed) | 0, 2654435761 | 0) >>> 0;
    v[i] = below > 0 ? Math.floor(((h >>> 8) * below) / 16777216) : (h >>> 8) * (1 / 16777216) * 10 - 5;
  }
  return v;
}

// The two workloads; their specs are native.cc's kEngineCases.
export const TRAIN_CASES = [
  {
    name: 'MLP 2-8-8-1 tanh, batch 10, SGD, MSE',
    native: 'MLP 2-8-8-1 tanh, SGD, MSE',
    batch: 10,
    spec: {
      input: 2,
      layers: [
        { type: 'linear', units: 8 },
        { type: 'activation', id: 'tanh' },
        { type: 'linear', units: 8 },
        { type: 'activation', id: 'tanh' },
        { type: 'linear', units: 1 },
      ],
      loss: { id: 'mse' },
      optimizer: { id: 'sgd', lr: 0.01 },
    },
    goals: { tf: 400, js: 20 },
    playground: true,
  },
  {
    name: 'MLP 784-128-10 ReLU, softmax-CE, batch 128, Adam',
    native: 'MLP 784-128-10 relu, softmax cross-entropy, Adam',
    batch: 128,
    spec: {
      input: 784,
      layers: [
        { type: 'linear', units: 128 },
        { type: 'activation', id: 'relu' },
        { type: 'linear', units: 10 },
      ],
      loss: { id: 'cross_entropy' },
      optimizer: { id: 'adam', lr: 0.001 },
    },
    goals: { tf: 8, sse4: 0.9 },
  },
];

const COLUMNS = ['wasm_step', 'wasm_fit', 'native_best', 'native_sse4', 'tf', 'js'];
const WARM_UP_MS = Number(process.env.BENCH_TRAIN_WARMUP_MS ?? 1000);
// Steps per fit() call: long enough that the per-call cost vanishes.
const FIT_EPOCHS = 8;
const FIT_BATCHES = 16;
export const FIT_STEPS = FIT_EPOCHS * FIT_BATCHES;

/**
 * The fit() column's call (also counted by bench/instructions.mjs --fit):
 * model.fit over FIT_BATCHES copies of the batch, FIT_EPOCHS epochs,
 * unshuffled: the same batch every step, the loop inside wasm, FIT_STEPS
 * steps a call.
 * @param model - a DlModel
 * @param x - the batch's inputs, flat
 * @param y - its targets, flat
 * @param batch - its rows
 */
export function fitCall(model, x, y, batch) {
  const xs = new Float32Array(x.length * FIT_BATCHES);
  const ys = new Float32Array(y.length * FIT_BATCHES);
  for (let k = 0; k < FIT_BATCHES; ++k) {
    xs.set(x, k * x.length);
    ys.set(y, k * y.length);
  }
  return () => model.fit(xs, ys, { epochs: FIT_EPOCHS, batchSize: batch, shuffle: false, logSteps: 0 });
}

function weightsOf(model) {
  const s = model.stateDict();
  const layers = [];
  for (const p of model.parameterTable)
    if (p.name.endsWith('.weight')) layers.push({ weight: s[p.name], bias: s[p.name.replace(/weight$/, 'bias')] });
  return layers;
}

// The columns of one workload: {fns: {col: () => void}, agree: {col: rel. diff}, dispose}.
function makeCase(c, { dl, tfside }) {
  const out = { ...c, fns: {}, agree: {}, notes: [], disposers: [] };
  const probe = dl.model(c.spec);
  out.disposers.push(() => probe.dispose());
  const inputs = probe.inputs;
  const classes = probe.classTargets ? probe.outputs : 0;
  const x = fill(c.batch * inputs, 1).map((v) => v / 5);
  const y = fill(c.batch * (classes ? 1 : probe.outputs), 2, classes);
  const init = weightsOf(probe);
  // dlmath's own loss trajectory over a few steps: the reference.
  const ref = [0, 1, 2].map(() => probe.step(x, y).loss);

  // dlmath wasm: step() on the batch as Float32Arrays (flat x, read row by row).
  const m = dl.model(c.spec);
  out.disposers.push(() => m.dispose());
  out.fns.wasm_step = () => m.step(x, y);
  // dlmath wasm: fit() (fitCall), the loop inside wasm.
  const f = dl.model(c.spec);
  out.disposers.push(() => f.dispose());
  out.fns.wasm_fit = fitCall(f, x, y, c.batch);
  out.perCall = { wasm_fit: FIT_STEPS };

  if (tfside) {
    try {
      const t = tfside.makeTrainCase({
        layers: init,
        activation: c.spec.layers[1].id,
        loss: c.spec.loss.id,
        optimizer: c.spec.optimizer,
        x: { shape: [c.batch, inputs], data: x },
        y: { data: y, classes },
      });
      out.disposers.push(() => t.dispose());
      out.agree.tf = maxRelDiff(
        [0, 1, 2].map(() => t.step(true)),
        ref,
      );
      out.fns.tf = () => t.step(false);
      out.tfNote = t.note;
    } catch (e) {
      out.notes.push(`TF.js ${c.name}: ${e?.message ?? e}`);
    }
  }
  if (c.playground) {
    const net = new PlaygroundNet(init, c.spec.layers[1].id, c.spec.optimizer.lr);
    out.agree.js = maxRelDiff(
      [0, 1, 2].map(() => net.step(x, y, c.batch)),
      ref,
    );
    out.fns.js = () => net.step(x, y, c.batch);
  }
  return out;
}

function maxRelDiff(a, b) {
  let m = 0;
  for (let i = 0; i < b.length; ++i) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])) || 0);
  return a.every(Number.isFinite) ? m : Infinity;
}

/**
 * Measures the training rows and returns their table lines.
 * @param env - {dl, tfside, nativeBin} from run.mjs
 * @param h - run.mjs's helpers: {measure, median, fmt, ratio, gc, log, ROUNDS, TARGET_MS, WARMUP_MS, spawnNative}
 */
export function trainingSection(env, h) {
  const cases = TRAIN_CASES.map((c) => makeCase(c, env));
  const raw = {};
  const push = (k, v) => (raw[k] ??= []).push(v);
  let targets = null;
  const native = () => {
    if (!env.nativeBin) return;
    const r = h.spawnNative(['--engine', '--ms', String(h.TARGET_MS * 4), '--warmup-ms', String(h.WARMUP_MS)]);
    if (!r) return;
    targets = r.targets;
    for (const e of r.engine) {
      const c = cases.find((k) => k.native === e.name);
      if (!c) continue;
      if (e.best > 0) push(`${c.name}|native_best`, e.best);
      if (e.sse4 > 0) push(`${c.name}|native_sse4`, e.sse4);
    }
  };
  // JIT warm-up of every column before the first round: V8 optimizes a
  // training loop's JS (the facade, TF.js's graph code, the plain-JS
  // network) only after thousands of calls, and on a loaded machine its
  // compiler threads lag; a 10 ms warm-up would time the interpreter.
  for (const c of cases)
    for (const fn of Object.values(c.fns)) {
      const t0 = performance.now();
      do fn();
      while (performance.now() - t0 < WARM_UP_MS);
    }
  for (let r = 0; r < h.ROUNDS; ++r) {
    if (r % 2 === 0) native();
    for (const c of cases)
      for (const col of COLUMNS) {
        const fn = c.fns[col];
        if (!fn) continue;
        h.gc();
        // measure() counts calls per µs of `elems` each: steps per second.
        push(`${c.name}|${col}`, h.measure(fn, c.perCall?.[col] ?? 1) * 1e6);
      }
    if (r % 2 === 1) native();
    h.log(`training round ${r + 1}/${h.ROUNDS}`);
  }
  for (const c of cases) c.disposers.forEach((d) => d());
  // Leak check: a second life of every workload (built, one call of each
  // dlmath column, disposed) must hand back every byte. The first life is
  // the warm-up: the GEMM's packing space is shared and only grows.
  const heap = env.dl.heapUsed();
  for (const c of TRAIN_CASES.map((k) => makeCase(k, env))) {
    for (const col of ['wasm_step', 'wasm_fit']) c.fns[col]?.();
    c.disposers.forEach((d) => d());
  }
  const get = (c, col) => h.median(raw[`${c.name}|${col}`] ?? []);
  const flag = (c, col) => (c.agree[col] !== undefined && !(c.agree[col] <= 1e-4) ? ' ≠' : '');
  const lines = [
    '',
    '## Training, steps/s (higher is better)',
    '',
    `| workload | dlmath wasm step() | dlmath wasm fit() | native ${targets?.best ?? 'best'} | native ${targets?.sse4 ?? 'SSE4'} | TF.js wasm | plain JS (Playground-style) | wasm/TF.js | wasm/plain JS | wasm/${targets?.sse4 ?? 'SSE4'} |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const flagged = [];
  for (const c of cases) {
    const w = get(c, 'wasm_step');
    for (const col of ['tf', 'js'])
      if (flag(c, col))
        flagged.push(`${c.name} ${col}: first losses differ from dlmath's by ${c.agree[col].toExponential(1)}`);
    lines.push(
      `| ${c.name} | ${h.fmt(w)} | ${h.fmt(get(c, 'wasm_fit'))} | ${h.fmt(get(c, 'native_best'))} | ${h.fmt(get(c, 'native_sse4'))} | ` +
        `${h.fmt(get(c, 'tf'))}${flag(c, 'tf')} | ${h.fmt(get(c, 'js'))}${flag(c, 'js')} | ` +
        `${c.goals.tf ? h.ratio(w, get(c, 'tf'), c.goals.tf) + ` (≥${c.goals.tf})` : '—'} | ` +
        `${c.goals.js ? h.ratio(w, get(c, 'js'), c.goals.js) + ` (≥${c.goals.js})` : '—'} | ` +
        `${h.ratio(w, get(c, 'native_sse4'), c.goals.sse4 ?? 0)}${c.goals.sse4 ? ` (≥${c.goals.sse4})` : ''} |`,
    );
  }
  lines.push(
    '',
    `Median of ${h.ROUNDS} interleaved round(s). Every column trains the same network from dlmath's initial weights on the same fixed batch ` +
      `(native.cc's data); its first three losses are checked against dlmath's (≠: differs by more than 1e-4 relative).`,
    '- dlmath wasm step(): `model.step(x, y)` with x and y Float32Arrays; the whole step (forward, loss, backward, gradient norms, ' +
      'update, diagnostics) in one wasm call, plus the facade copying the batch into the model and reading the diagnostics header.',
    `- dlmath wasm fit(): \`model.fit\` over ${FIT_BATCHES} copies of the batch × ${FIT_EPOCHS} epochs, unshuffled, no log: the loop in wasm too (steps/s counts its ${FIT_EPOCHS * FIT_BATCHES} steps per call, including fitBegin's copy).`,
    '- native: bench/native.cc --engine, Model::Step on the same batch; ratios use the wasm step() column.',
    `- TF.js wasm: ${cases.find((c) => c.tfNote)?.tfNote ?? 'not loaded'}.`,
    "- plain JS: bench/plain-js.mjs PlaygroundNet, one object per neuron and per link as tensorflow/playground's nn.ts, " +
      'forward and backward per example, gradients accumulated over the batch, SGD update.',
  );
  lines.push(
    env.dl.heapUsed() === heap
      ? '- heap: a second build, step and dispose of every workload returns every byte of the wasm heap.'
      : `- leak: a second build, step and dispose of every workload left ${env.dl.heapUsed() - heap} bytes of the wasm heap in use`,
  );
  const notes = cases.flatMap((c) => c.notes).concat(flagged);
  if (notes.length) lines.push('', 'Notes:', ...notes.map((n) => `- ${n}`));
  return { lines, raw, targets };
}
