// `npm run bench`: throughput of every Elementwise and Rowwise registry op
// and of the General ops listed in GENERAL_SHAPES (prelu, cross_entropy,
// layer_norm, scaled_dot_product_attention; one whose op is not in the
// loaded build is simply not benched), forward and forward+backward, side
// by side: native (best Highway target and
// forced SSE4), dlmath wasm SIMD and scalar wasm in Node, plain JS loops and
// TensorFlow.js's wasm backend. Medians of 7 interleaved rounds: round r
// measures every (op, pass, column) once, so slow drifts of a shared machine
// hit every column alike.
//
// The GEMM rows (bench/gemm.mjs: dlmath's matrix product beside tf.matMul,
// GFLOP/s) follow in the same table file.
//
//   node bench/run.mjs [op ...]      (after `bash scripts/build.sh bench`)
//   node bench/run.mjs gemm          (only the GEMM rows)
//   BENCH_QUICK=1 node bench/run.mjs sigmoid softmax    (smoke: 1 round)
//   node bench/run.mjs training      (only the training rows, bench/train.mjs;
//                                     a full run ends with them)
//
// Knobs: BENCH_ROUNDS (7), BENCH_MS (ms per measurement, 50), BENCH_WARMUP_MS
// (10). A full run writes build/bench/table.md and results.json; a quick or
// filtered one writes table.partial.md and results.partial.json instead, so a
// smoke test never overwrites the last full table.
import { spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

import { gemmSection } from './gemm.mjs';
import { PLAIN_JS } from './plain-js.mjs';
import { loadTfjsSide } from './tfjs-bundle.mjs';
import { trainingSection } from './train.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'build/bench');
const quick = process.env.BENCH_QUICK === '1';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 7));
const TARGET_MS = Number(process.env.BENCH_MS ?? (quick ? 5 : 50));
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? (quick ? 0 : 10));
const ELEMS = 1 << 20;
const ROWS = 1024;
const COLS = 1024;
// Values that disagree with dlmath's by more than this (relative) are flagged.
const AGREE_TOL = 1e-3;

const log = (...a) => console.error('bench:', ...a);

// A full GC between measurements (never inside one), so the garbage of a
// "+transfer" column is not collected on the next column's clock.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

// ---- inputs ------------------------------------------------------------------

// Uniform in [-5, 5) from a multiplicative hash; same as FillInput() in
// bench/native.cc, so every column sees the same values.
function inputValues(n, seed = 0) {
  const x = new Float32Array(n);
  for (let i = 0; i < n; ++i) {
    const h = Math.imul((i + seed) | 0, 2654435761 | 0) >>> 0;
    x[i] = (h >>> 8) * (1 / 16777216) * 10 - 5;
  }
  return x;
}

// Integers in [0, below) from the same hash: class indices for an integer
// input. Same as FillInput() with `below` in bench/native.cc.
function inputIntegers(n, seed, below) {
  if (!(Number.isInteger(below) && below > 0 && below <= 1 << 29)) throw new Error(`bad integer range [0, ${below})`);
  const x = new Float32Array(n);
  for (let i = 0; i < n; ++i) {
    const h = Math.imul((i + seed) | 0, 2654435761 | 0) >>> 0;
    x[i] = Math.floor(((h >>> 8) * below) / 16777216); // exact: the product stays below 2^53
  }
  return x;
}

// General ops are timed only when listed here, with these inputs.
//   inputs: {name: shape | {shape, below}}, or (op) => that; {shape, below}
//           holds integers in [0, below) (class indices). An input left out
//           must be optional (it is then not passed at all); an input the
//           registry marks integer (op.inputs[k].integer) must give `below`.
//   elems:  what Melem/s counts per call (default: elements of the first input).
//   unit:   how the legend names that count.
const CE_ROWS = 4096; // cross_entropy and layer_norm: [4096, 1024]
const ATT_T = 256; // attention: sequence length T, head dimension D
const ATT_D = 64;
const GENERAL_SHAPES = {
  // One slope per channel (dimension 1).
  prelu: { inputs: { x: [ROWS, COLS], weight: [COLS] } },
  // Class-index targets, no class weights, reduction 'mean' (the default).
  cross_entropy: { inputs: { input: [CE_ROWS, COLS], target: { shape: [CE_ROWS], below: COLS } } },
  layer_norm: { inputs: { input: [CE_ROWS, COLS], weight: [COLS], bias: [COLS] } },
  // q, k, v: the first three inputs, [T, D] (or [1, T, D] if the op wants a
  // batch dimension); optional masks left out. Melem/s over T*T*D, the size of
  // each of its two matrix products (q k^T and p v), in every column.
  scaled_dot_product_attention: {
    inputs: (op) => {
      const qkv = op.inputs.slice(0, 3);
      if (qkv.length < 3 || qkv.some((i) => i.optional)) throw new Error('expected q, k, v as its first three inputs');
      return Object.fromEntries(qkv.map((i) => [i.name, i.minRank > 2 ? [1, ATT_T, ATT_D] : [ATT_T, ATT_D]]));
    },
    elems: ATT_T * ATT_T * ATT_D,
    unit: 'T·T·D',
  },
};

const numel = (shape) => shape.reduce((a, b) => a * b, 1);

function benched(op) {
  return op.form === 'elementwise' || op.form === 'rowwise' || (op.form === 'general' && op.id in GENERAL_SHAPES);
}

// A General op's inputs as {name: {shape, below?}}, only those passed.
function generalInputs(op) {
  const g = GENERAL_SHAPES[op.id];
  const given = typeof g.inputs === 'function' ? g.inputs(op) : g.inputs;
  const res = {};
  for (const [name, v] of Object.entries(given)) {
    const inp = op.inputs.find((i) => i.name === name);
    if (!inp) throw new Error(`GENERAL_SHAPES.${op.id}: the op has no input '${name}'`);
    res[name] = Array.isArray(v) ? { shape: v } : v;
    if (inp.integer && res[name].below === undefined)
      throw new Error(`GENERAL_SHAPES.${op.id}.${name}: integer input needs {shape, below}`);
  }
  for (const i of op.inputs)
    if (!(i.name in res) && !i.optional) throw new Error(`GENERAL_SHAPES.${op.id} has no shape for input '${i.name}'`);
  return res;
}

// The inputs of one op, in registry order, optional ones left out when not
// given: [{name, diff, shape, data, below?}]. Input k holds inputValues(n,
// 7919 k) (or inputIntegers), as FillInput() in bench/native.cc.
function inputSpecs(op) {
  const r = op.inputs[0];
  const same = op.form === 'rowwise' || r.minRank > 1 || r.maxRank < 1 ? [ROWS, COLS] : [ELEMS];
  const general = op.form === 'general' ? generalInputs(op) : null;
  const specs = [];
  op.inputs.forEach((inp, k) => {
    const g = general ? general[inp.name] : { shape: same };
    if (!g) return;
    const n = numel(g.shape);
    const data = g.below === undefined ? inputValues(n, k * 7919) : inputIntegers(n, k * 7919, g.below);
    specs.push({ name: inp.name, diff: inp.differentiable, shape: g.shape, data, below: g.below });
  });
  return specs;
}

// The --shapes argument of bench/native.cc for a General op:
// "id:name=AxB,name=C@below,...".
function nativeShapesArg(op) {
  const items = Object.entries(generalInputs(op)).map(
    ([name, g]) => `${name}=${g.shape.join('x')}${g.below === undefined ? '' : `@${g.below}`}`,
  );
  return `${op.id}:${items.join(',')}`;
}

// ---- timing ------------------------------------------------------------------

// Warm up for WARMUP_MS (at least one call), then count calls until TARGET_MS
// has elapsed (at least one). Melem/s over `elems` input elements per call.
// The clock is read once per batch of calls sized from the warm-up to last
// ~CLOCK_BATCH_MS: performance.now() costs ~60 ns in Node 20 here, which,
// read after every call, added 6 % to a 1 µs training step (and nothing
// measurable to a call of 20 µs or more, which runs alone in its batch).
const CLOCK_BATCH_MS = 0.2;
function measure(fn, elems) {
  let t0 = performance.now();
  let warm = 0;
  let ms;
  do {
    fn();
    ++warm;
    ms = performance.now() - t0;
  } while (ms < WARMUP_MS);
  const batch = Math.max(1, Math.floor((CLOCK_BATCH_MS * warm) / ms));
  let calls = 0;
  t0 = performance.now();
  do {
    for (let i = 0; i < batch; ++i) fn();
    calls += batch;
    ms = performance.now() - t0;
  } while (ms < TARGET_MS);
  return (elems * calls) / (ms * 1e3);
}

function median(xs) {
  const s = xs.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!s.length) return undefined;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// max |a - b| / max(1, |b|)
function maxRelDiff(a, b) {
  if (!a || !b || a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; ++i) {
    const d = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i]));
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

// [sum v, sum |v|, sum v_i ((i mod 17) - 8)] in double: what bench/native.cc
// reports as "check" (Sums()) for its output and gradients.
function checkSums(v) {
  let s = 0;
  let a = 0;
  let w = 0;
  for (let i = 0; i < v.length; ++i) {
    s += v[i];
    a += Math.abs(v[i]);
    w += v[i] * ((i % 17) - 8);
  }
  return [s, a, w];
}

// How far native's check sums are from the reference ones, relative to
// max(1, sum |v|).
function sumsDiff(got, ref) {
  if (!Array.isArray(got) || !ref) return Infinity;
  const d = Math.max(...ref.map((r, k) => Math.abs(got[k] - r)));
  return Number.isNaN(d) ? Infinity : d / Math.max(1, ref[1]);
}

// The largest maxRelDiff over the gradients of `names` ({name: Float32Array}).
function maxGradDiff(got, ref, names) {
  let m = 0;
  for (const k of names) m = Math.max(m, maxRelDiff(got?.[k], ref?.[k]));
  return m;
}

// ---- the engines ---------------------------------------------------------------

async function loadEngines() {
  const lib = path.join(root, 'web/dist/lib/index.js');
  if (!fs.existsSync(lib)) throw new Error(`${lib} is missing: run bash scripts/build.sh bench`);
  const { loadDlmath, Dlmath } = await import(pathToFileURL(lib).href);
  const dl = await loadDlmath();

  let nosimd = null;
  const ns = path.join(root, 'build/wasm-nosimd/wasm/dlmath_wasm');
  if (fs.existsSync(`${ns}.mjs`)) {
    const factory = (await import(pathToFileURL(`${ns}.mjs`).href)).default;
    const mod = await factory({ wasmBinary: fs.readFileSync(`${ns}.wasm`) });
    nosimd = new Dlmath(mod, dl.ops()); // the same registry: ops.json describes both modules
  } else log(`${ns}.mjs missing: no scalar-wasm column`);

  // TF.js: bundle the TF side (see bench/tfjs-side.mjs for why).
  const { side: tfside, info: tfInfo } = await loadTfjsSide(
    path.join(root, 'bench/tfjs-side.mjs'),
    path.join(out, 'tfjs.bundle.mjs'),
    log,
  );

  // Spawn a private copy: build/native is shared, and a rebuild in the middle
  // of a run would otherwise mix two binaries across rounds.
  let nativeBin = path.join(root, 'build/native/dlmath_bench');
  if (fs.existsSync(nativeBin)) {
    const copy = path.join(out, 'dlmath_bench');
    fs.copyFileSync(nativeBin, copy);
    fs.chmodSync(copy, 0o755);
    nativeBin = copy;
  } else {
    log(`${nativeBin} missing: no native columns (bash scripts/build.sh bench builds it)`);
    nativeBin = null;
  }
  return { dl, nosimd, tfside, tfInfo, nativeBin };
}

// ---- cases: one per (op), with a closure per (pass, column) ------------------------

// Columns, in table order. `native` ones come from bench/native.cc.
const COLUMNS = [
  'native_best',
  'native_sse4',
  'wasm_kernel',
  'wasm_transfer',
  'wasm_parts',
  'nosimd_kernel',
  'js',
  'tf_kernel',
  'tf_transfer',
];

function residentInputs(engine, specs) {
  return Object.fromEntries(specs.map((i) => [i.name, engine.tensor(i.data, i.shape)]));
}

function arrayInputs(specs) {
  return Object.fromEntries(
    specs.map((i) => [i.name, i.shape.length === 1 ? i.data : { shape: i.shape, data: i.data }]),
  );
}

function makeCase(env, op) {
  const c = { id: op.id, form: op.form, fns: { fwd: {}, fwdbwd: {} }, agree: {}, notes: [], disposers: [] };
  try {
    return fillCase(env, op, c);
  } catch (e) {
    c.disposers.forEach((d) => d());
    throw e;
  }
}

function fillCase(env, op, c) {
  const { dl, nosimd, tfside } = env;
  const specs = inputSpecs(op);
  const { shape, data: x } = specs[0];
  const n = numel(shape);
  const elems = (op.form === 'general' && GENERAL_SHAPES[op.id].elems) || n;
  const arrays = arrayInputs(specs);
  const params = Object.fromEntries(op.params.map((p) => [p.name, p.default]));
  const first = op.inputs[0].name;
  const grad = op.differentiable;
  Object.assign(c, { shapes: Object.fromEntries(specs.map((i) => [i.name, i.shape])), elems, grad });
  c.ints = Object.fromEntries(specs.filter((i) => i.below !== undefined).map((i) => [i.name, i.below]));
  if (op.form === 'general' && GENERAL_SHAPES[op.id].unit) c.unit = GENERAL_SHAPES[op.id].unit;

  // Reference values (dlmath wasm SIMD), for the agreement checks: the output
  // and the gradient of every differentiable input ({name: Float32Array}).
  const refY = dl.eval(op.id, arrays);
  const diffNames = specs.filter((i) => i.diff).map((i) => i.name);
  const refGrads = grad
    ? Object.fromEntries(Object.entries(dl.grad(op.id, arrays)).map(([k, v]) => [k, v?.data]))
    : undefined;
  const refDx = refGrads?.[first];
  // For native's check sums: output, then d_<input> for every gradient.
  c.refSums = { y: checkSums(refY.data) };
  if (grad) for (const k of diffNames) c.refSums[`d_${k}`] = checkSums(refGrads[k]);

  // dlmath wasm SIMD and scalar wasm.
  const dlCols = (engine, prefix, withTransfer) => {
    const res = residentInputs(engine, specs);
    const yOut = engine.tensor(null, refY.shape);
    const up = grad ? engine.tensor(null, refY.shape).set(new Float32Array(refY.data.length).fill(1)) : null;
    // Resident gradient outputs: dl.grad(..., upstream, {out: {name: t}})
    // writes them in place and leaves them out of its result. A facade
    // without that option ignores it and copies every gradient out instead.
    const dxOut = {};
    if (grad) for (const i of specs) if (i.diff) dxOut[i.name] = engine.tensor(null, i.shape);
    c.disposers.push(() => [...Object.values(res), ...Object.values(dxOut), yOut, up].forEach((t) => t?.dispose()));
    c.fns.fwd[`${prefix}_kernel`] = () => engine.eval(op.id, res, undefined, { out: yOut });
    if (grad) {
      const probe = engine.grad(op.id, res, undefined, up, { out: dxOut });
      const resident = !(first in probe);
      if (engine === dl) c.gradPath = resident ? 'resident' : 'copy';
      c.fns.fwdbwd[`${prefix}_kernel`] = resident
        ? () => engine.grad(op.id, res, undefined, up, { out: dxOut })
        : () => engine.grad(op.id, res, undefined, up);
      if (engine !== dl)
        c.agree[`${prefix}.fwdbwd`] = maxGradDiff(
          Object.fromEntries(diffNames.map((k) => [k, resident ? dxOut[k].data() : probe[k]?.data])),
          refGrads,
          diffNames,
        );
    }
    if (withTransfer) {
      c.fns.fwd[`${prefix}_transfer`] = () => engine.eval(op.id, arrays);
      if (grad) c.fns.fwdbwd[`${prefix}_transfer`] = () => engine.grad(op.id, arrays);
      // The array path's parts done by hand on resident buffers: copy every
      // input in, run the kernel, copy the result out (a new Float32Array,
      // as the array path returns). The array path should cost no more
      // than 1.5x this.
      const copyIn = () => specs.forEach((i) => res[i.name].set(i.data));
      c.fns.fwd[`${prefix}_parts`] = () => {
        copyIn();
        engine.eval(op.id, res, undefined, { out: yOut });
        return yOut.data();
      };
      if (grad && c.gradPath === 'resident')
        c.fns.fwdbwd[`${prefix}_parts`] = () => {
          copyIn();
          engine.grad(op.id, res, undefined, up, { out: dxOut });
          return Object.values(dxOut).map((t) => t.data());
        };
    }
    if (engine !== dl) {
      engine.eval(op.id, res, undefined, { out: yOut });
      c.agree[`${prefix}.fwd`] = maxRelDiff(yOut.data(), refY.data);
    }
  };
  dlCols(dl, 'wasm', true);
  // A stale scalar build (older than the op) leaves only its column empty.
  if (nosimd)
    try {
      dlCols(nosimd, 'nosimd', false);
    } catch (e) {
      c.notes.push(`wasm ${nosimd.target} ${op.id}: ${e?.message ?? e}`);
      delete c.fns.fwd.nosimd_kernel;
      delete c.fns.fwdbwd.nosimd_kernel;
    }

  // Plain JS loops (a few ops only).
  const js = PLAIN_JS[op.id];
  if (js && specs.length === 1) {
    const rows = shape.length === 1 ? 1 : n / shape[shape.length - 1];
    const cols = n / rows;
    const y = new Float32Array(n);
    const dx = new Float32Array(n);
    const ones = new Float32Array(n).fill(1);
    c.fns.fwd.js = () => js.fwd(x, y, rows, cols);
    js.fwd(x, y, rows, cols);
    c.agree['js.fwd'] = maxRelDiff(y, refY.data);
    if (grad) {
      c.fns.fwdbwd.js = () => {
        js.fwd(x, y, rows, cols);
        js.bwd(x, y, ones, dx, rows, cols);
      };
      c.fns.fwdbwd.js();
      c.agree['js.fwdbwd'] = maxRelDiff(dx, refDx);
    }
  }

  // TF.js peer.
  if (tfside) {
    try {
      const t = tfside.makeCase(op.id, specs, params, grad);
      if (t) {
        c.tfName = t.name;
        c.disposers.push(() => t.dispose());
        c.fns.fwd.tf_kernel = t.fwdKernel;
        c.fns.fwd.tf_transfer = t.fwdTransfer;
        c.agree['tf.fwd'] = maxRelDiff(t.fwdTransfer(), refY.data);
        if (grad) {
          c.fns.fwdbwd.tf_kernel = t.fbKernel;
          c.fns.fwdbwd.tf_transfer = t.fbTransfer;
          // Every gradient TF.js computes (t.wrt: dlmath's differentiable inputs).
          c.agree['tf.fwdbwd'] = maxGradDiff(t.fbTransfer(), refGrads, t.wrt);
        }
      }
    } catch (e) {
      c.notes.push(`TF.js ${op.id}: ${e?.message ?? e}`);
      delete c.fns.fwd.tf_kernel;
      delete c.fns.fwd.tf_transfer;
      delete c.fns.fwdbwd.tf_kernel;
      delete c.fns.fwdbwd.tf_transfer;
    }
  }
  return c;
}

// ---- native ---------------------------------------------------------------------

const nativeWarnings = new Set();
function runNative(bin, ops) {
  const args = ['--ms', String(TARGET_MS), '--warmup-ms', String(WARMUP_MS)];
  for (const op of ops)
    if (op.form === 'general') {
      args.push('--shapes', nativeShapesArg(op));
    }
  args.push(...ops.map((o) => o.id));
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${bin} exited with ${r.status}: ${r.stderr}`);
  for (const line of r.stderr.split('\n')) if (line && !nativeWarnings.has(line)) nativeWarnings.add(line) && log(line);
  return JSON.parse(r.stdout);
}

// ---- formatting -----------------------------------------------------------------

function fmt(v) {
  if (v === undefined) return '—';
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function ratio(a, b, goal) {
  if (a === undefined || b === undefined) return '—';
  const r = a / b;
  let s = r >= 10 ? r.toFixed(0) : r.toFixed(2);
  // Never print a miss as if it met the goal (0.996 -> "1.00").
  if (r < goal && Number(s) >= goal) s = (Math.floor(r * 1000) / 1000).toFixed(3);
  return r < goal ? `${s}× ✗` : `${s}×`;
}

// When each measured binary was built: the git state printed at run time
// may be newer than what was compiled (others commit while we measure).
function artifactTimes() {
  const files = {
    native: 'build/native/dlmath_bench',
    gemm_native: 'build/native/dlmath_gemm_bench',
    gemm_wasm: 'build/wasm/dlmath_gemm_bench.cjs',
    wasm: 'web/dist/lib/gen/dlmath_wasm.wasm',
    nosimd: 'build/wasm-nosimd/wasm/dlmath_wasm.wasm',
  };
  return Object.fromEntries(
    Object.entries(files).map(([k, f]) => {
      const p = path.join(root, f);
      return [k, fs.existsSync(p) ? fs.statSync(p).mtime.toISOString() : null];
    }),
  );
}

function gitDescribe() {
  try {
    const git = (...args) =>
      execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const sha = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no');
    return dirty ? `${sha} + uncommitted changes` : sha;
  } catch {
    return 'unknown';
  }
}

// ---- main ---------------------------------------------------------------------------

async function main() {
  // 'training' alone runs only the training rows (bench/train.mjs).
  const args = process.argv.slice(2);
  const trainingOnly = args.length === 1 && args[0] === 'training';
  const filter = trainingOnly ? [] : args;
  fs.mkdirSync(out, { recursive: true });
  const built = artifactTimes(); // what loadEngines is about to load / copy
  const env = await loadEngines();
  const { dl, nosimd, tfInfo } = env;

  const all = dl.ops().filter(benched);
  // "gemm" selects the GEMM rows (bench/gemm.mjs); no filter runs everything.
  const unknown = filter.filter((id) => id !== 'gemm' && !all.some((o) => o.id === id));
  if (unknown.length)
    throw new Error(
      `unknown or unbenched op(s): ${unknown.join(', ')}; available: gemm, training, ${all.map((o) => o.id).join(', ')}`,
    );
  const ops = trainingOnly ? [] : filter.length ? all.filter((o) => filter.includes(o.id)) : all;
  const withGemm = !trainingOnly && (!filter.length || filter.includes('gemm'));
  log(`${ops.length} ops (${ops.map((o) => o.id).join(', ')}); ${ROUNDS} round(s) of ${TARGET_MS} ms per measurement`);

  const heap0 = dl.heapUsed();
  const cases = ops.map((op) => {
    try {
      return makeCase(env, op);
    } catch (e) {
      log(`${op.id}: cannot set up (${e?.message ?? e}); its row stays empty`);
      const c = { id: op.id, form: op.form, shapes: {}, elems: 0, grad: op.differentiable, agree: {} };
      return Object.assign(c, {
        fns: { fwd: {}, fwdbwd: {} },
        notes: [`${op.id}: setup failed: ${e?.message ?? e}`],
        disposers: [],
      });
    }
  });

  // raw[key] = [one value per round], key = id|pass|column
  const raw = {};
  const push = (key, v) => (raw[key] ??= []).push(v);
  let nativeTargets = null;
  const loads = []; // 1-minute load average after each round: how shared the machine was
  const started = performance.now();
  for (let r = 0; r < ROUNDS; ++r) {
    const t0 = performance.now();
    // Alternate native first / JS first so neither always follows the other.
    const nativeRound = () => {
      if (!env.nativeBin || !ops.length) return;
      try {
        const nat = runNative(env.nativeBin, ops);
        nativeTargets = nat.targets;
        for (const o of nat.ops) {
          if (o.error) {
            log(`native ${o.id}: ${o.error}`);
            continue;
          }
          // native.cc counts elements of the first input; rescale to the
          // row's own count (GENERAL_SHAPES elems) so every column agrees.
          const c = cases.find((k) => k.id === o.id);
          const scale = c?.elems && o.elems ? c.elems / o.elems : 1;
          for (const [col, key] of [
            ['native_best', 'best'],
            ['native_sse4', 'sse4'],
          ]) {
            for (const pass of ['fwd', 'fwdbwd'])
              if (o[key]?.[pass] !== undefined) push(`${o.id}|${pass}|${col}`, o[key][pass] * scale);
            // Same values as dlmath wasm? (worst over rounds)
            const chk = o[key]?.check;
            if (c?.refSums && chk) {
              const worse = (k, d) => (c.agree[k] = Math.max(c.agree[k] ?? 0, d));
              worse(`${col}.fwd`, sumsDiff(chk.y, c.refSums.y));
              if (c.grad)
                worse(
                  `${col}.fwdbwd`,
                  Math.max(
                    0,
                    ...Object.keys(c.refSums)
                      .filter((k) => k !== 'y')
                      .map((k) => sumsDiff(chk[k], c.refSums[k])),
                  ),
                );
            }
          }
        }
      } catch (e) {
        log(`native round failed: ${e.message}`);
      }
    };
    if (r % 2 === 0) nativeRound();
    for (const c of cases)
      for (const pass of ['fwd', 'fwdbwd'])
        for (const col of COLUMNS) {
          const fn = c.fns[pass][col];
          if (!fn) continue;
          gc();
          push(`${c.id}|${pass}|${col}`, measure(fn, c.elems));
        }
    if (r % 2 === 1) nativeRound();
    const s = (performance.now() - t0) / 1e3;
    loads.push(os.loadavg()[0]);
    log(`round ${r + 1}/${ROUNDS}: ${s.toFixed(1)} s, load average ${loads.at(-1).toFixed(1)}`);
  }
  const gemm = withGemm
    ? gemmSection({
        root,
        out,
        tfside: env.tfside,
        rounds: ROUNDS,
        targetMs: TARGET_MS,
        warmupMs: WARMUP_MS,
        measure,
        median,
        gc,
        fmt,
        ratio,
        inputValues,
        checkSums,
        sumsDiff,
        agreeTol: AGREE_TOL,
        log,
      })
    : null;
  const totalS = (performance.now() - started) / 1e3;

  // Leak checks.
  for (const c of cases) c.disposers.forEach((d) => d());
  const leaks = [];
  if (dl.heapUsed() !== heap0) leaks.push(`dlmath wasm heap: ${dl.heapUsed() - heap0} bytes not freed`);
  if (env.tfside && env.tfside.numTensors() !== 0) leaks.push(`TF.js: ${env.tfside.numTensors()} tensors alive`);
  leaks.forEach((l) => log(`leak: ${l}`));
  const rebuilt = Object.entries(artifactTimes())
    .filter(([k, t]) => t !== built[k])
    .map(
      ([k]) => `${k} was rebuilt during the run; the measured one is the one loaded at the start (built ${built[k]})`,
    );
  rebuilt.forEach((r) => log(r));

  // Medians and the round-to-round spread.
  const med = {};
  const spreads = [];
  for (const [k, v] of Object.entries(raw)) {
    med[k] = median(v);
    if (v.length > 1) spreads.push((Math.max(...v) - Math.min(...v)) / med[k]);
  }
  const get = (id, pass, col) => med[`${id}|${pass}|${col}`];

  // ---- the table ----
  const tBest = nativeTargets?.best ?? 'n/a';
  const tSse4 = nativeTargets?.sse4 ?? 'n/a';
  const tfBin = tfInfo ? `${tfInfo.binary}, ${tfInfo.threadsCount ?? '?'} thread(s)` : 'not loaded';
  const lines = [];
  lines.push(`## dlmath throughput, Melem/s (higher is better)`);
  lines.push('');
  lines.push(
    `Median of ${ROUNDS} interleaved round(s), ~${TARGET_MS} ms per measurement; 2^20 float32 elementwise, [${ROWS}, ${COLS}] row-wise` +
      cases
        .filter((c) => c.form === 'general')
        .map(
          (c) =>
            `, ${c.id} ${Object.entries(c.shapes)
              .map(([k, v]) => `${k} [${v.join(', ')}]${c.ints?.[k] ? ` (integers in [0, ${c.ints[k]}))` : ''}`)
              .join(' ')}`,
        )
        .join('') +
      `; Melem/s counts elements of the first input per forward (or forward+backward) pass` +
      cases
        .filter((c) => c.unit)
        .map((c) => ` (${c.id}: ${c.unit} = ${c.elems} per pass, in every column)`)
        .join('') +
      `; params at their registry defaults.`,
  );
  lines.push(
    `Highway targets: native best = **${tBest}**, native forced = **${tSse4}**, wasm = **${dl.target}**, ` +
      `wasm without -msimd128 = **${nosimd?.target ?? 'n/a'}**. ` +
      `TF.js ${tfInfo?.version ?? '4.22'} wasm backend: **${tfBin}**.`,
  );
  lines.push(
    `${os.cpus()[0]?.model ?? 'cpu?'} × ${os.cpus().length}, Node ${process.version}, commit ${gitDescribe()}, ${new Date().toISOString()}; ` +
      `1-min load average after each round: ${loads.map((l) => l.toFixed(1)).join(', ')}.`,
  );
  lines.push(
    `Built: ${Object.entries(built)
      .map(([k, t]) => `${k} ${t ?? 'missing'}`)
      .join(', ')}.`,
  );
  lines.push('');
  const opTableStart = lines.length; // a GEMM-only run keeps only the lines above
  const head = [
    'op',
    'pass',
    `native ${tBest}`,
    `native ${tSse4}`,
    'wasm SIMD kernel',
    'wasm SIMD +transfer (array in, array out)',
    'wasm SIMD parts (copy in + kernel + copy out)',
    `wasm ${nosimd?.target ?? 'scalar'} kernel`,
    'plain JS',
    'TF.js kernel',
    'TF.js +transfer',
    'wasm/TF kernel (≥1)',
    'wasm/TF +transfer (≥1)',
    'array/parts (≥0.67)',
    `wasm/${tSse4} (≥0.9)`,
    'wasm/JS (≥8)',
  ];
  lines.push(`| ${head.join(' | ')} |`);
  lines.push(`|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`);
  const flagged = [];
  for (const c of cases) {
    for (const pass of c.grad ? ['fwd', 'fwdbwd'] : ['fwd']) {
      const g = (col) => get(c.id, pass, col);
      const mark = (col, who) => {
        const d = c.agree[`${who}.${pass}`];
        if (d !== undefined && !(d <= AGREE_TOL)) {
          flagged.push(`${c.id} ${pass} ${who}: max rel. difference ${d.toExponential(1)} vs dlmath wasm`);
          return `${fmt(g(col))} ≠`;
        }
        return fmt(g(col));
      };
      const tfName = c.tfName && c.tfName !== c.id ? ` (tf.${c.tfName})` : '';
      lines.push(
        `| ${c.id}${pass === 'fwd' ? tfName : ''} | ${pass === 'fwd' ? 'fwd' : 'fwd+bwd'} | ${mark('native_best', 'native_best')} | ${mark('native_sse4', 'native_sse4')} | ` +
          `${fmt(g('wasm_kernel'))} | ${fmt(g('wasm_transfer'))} | ${fmt(g('wasm_parts'))} | ${mark('nosimd_kernel', 'nosimd')} | ${mark('js', 'js')} | ` +
          `${mark('tf_kernel', 'tf')} | ${mark('tf_transfer', 'tf')} | ` +
          `${ratio(g('wasm_kernel'), g('tf_kernel'), 1)} | ${ratio(g('wasm_transfer'), g('tf_transfer'), 1)} | ` +
          `${ratio(g('wasm_transfer'), g('wasm_parts'), 0.67)} | ` +
          `${ratio(g('wasm_kernel'), g('native_sse4'), 0.9)} | ${ratio(g('wasm_kernel'), g('js'), 8)} |`,
      );
    }
  }
  lines.push('');
  lines.push('Columns:');
  lines.push(
    `- native: bench/native.cc, dlmath::Forward / Backward on preallocated buffers (fwd+bwd = Forward, zero dx, Backward with dy = ones); ` +
      `"${tSse4}" is the same binary with hwy::SetSupportedTargetsForTest(HWY_SSE4).`,
  );
  const paths = new Set(cases.map((c) => c.gradPath).filter(Boolean));
  lines.push(
    '- wasm kernel: input and output resident (`dl.tensor()`, `dl.eval(id, {x: t}, undefined, {out})`). fwd+bwd kernel: ' +
      (paths.has('copy')
        ? '**this facade has no resident gradient output**, so it is `dl.grad(id, {x: t}, undefined, upstream)` with resident input and ' +
          'upstream (ones), which copies dx out to JS each call; '
        : '`dl.grad(id, {x: t}, undefined, upstream, {out: {x: dx}})` with input, upstream (ones) and dx resident; ') +
      'the facade still allocates y (and zeroes dx) on the wasm heap per call.',
  );
  lines.push(
    '- wasm +transfer: Float32Array in, Float32Array out: `dl.eval(id, {x: array})`, `dl.grad(id, {x: array})` (upstream defaults to ones).',
  );
  lines.push(
    '- wasm parts: the same work by hand on resident buffers: `t.set(array)` per input, the kernel path above, `out.data()` (fwd+bwd: every `dx.data()`). ' +
      'array/parts is +transfer over parts in throughput; the array path should cost at most 1.5× its parts (≥0.67).',
  );
  lines.push(
    `- wasm ${nosimd?.target ?? 'scalar'}: the same module built without -msimd128 (build/wasm-nosimd), kernel-only paths as above.`,
  );
  lines.push(
    '- plain JS: the obvious Float32Array loops (bench/plain-js.mjs: Math.exp / Math.tanh), output preallocated; fwd+bwd = forward loop, then backward loop with dy = ones. Only for ' +
      `${Object.keys(PLAIN_JS).join(', ')}.`,
  );
  lines.push(
    '- TF.js kernel: input tensor created beforehand, `tf.tidy(() => op(x))`, output read through the backend heap view, disposed. ' +
      'dataSync() is left out: in the wasm backend it copies (readSync slices HEAPU8); the kernels run synchronously inside the op call. ' +
      'fwd+bwd: `tf.grads(op)([x, ...], dy)` (with respect to every input dlmath differentiates) with a resident dy of ones.',
  );
  const peerNotes = {
    cross_entropy:
      '`tf.losses.softmaxCrossEntropy(oneHot, logits)` (default reduction = mean over rows), one-hot labels made once beforehand (not timed, not uploaded by +transfer); gradient w.r.t. the logits',
    layer_norm:
      "tfjs-layers' LayerNormalization math in tfjs-core ops: `tf.moments(x, -1, true)`, `(x − mean) · rsqrt(var + eps) · gamma + beta`; gradients w.r.t. x, gamma, beta",
    scaled_dot_product_attention:
      '`tf.matMul(tf.softmax(tf.matMul(q, k, false, true) / sqrt(d)), v)`; gradients w.r.t. q, k, v',
  };
  const peers = cases.filter((c) => c.tfName && peerNotes[c.id]).map((c) => `${c.id}: ${peerNotes[c.id]}`);
  if (peers.length) lines.push(`- TF.js composite peers: ${peers.join('; ')}.`);
  lines.push(
    '- TF.js +transfer: `tf.tensor(array)` + op + `dataSync()` (fwd+bwd: `tf.tensor(array)` + `tf.grads(op)([t, ...], dy)` + `dataSync()` of every gradient).',
  );
  lines.push(
    `- Agreement: the forward output and every gradient dlmath returns (TF.js: every gradient it takes) are compared with dlmath wasm SIMD's; native reports [Σv, Σ|v|, Σ v_i·((i mod 17) − 8)] of its output and gradients, compared with the same sums of dlmath wasm's values (relative to max(1, Σ|v|)).`,
  );
  lines.push(
    `- Ratios use the kernel-only wasm SIMD column (except "+transfer"); ✗ marks a ratio below its goal. ≠ marks a column whose values differ ` +
      `from dlmath's by more than ${AGREE_TOL} (relative): not the same function, so the ratio is not comparable.`,
  );
  lines.push(
    `- Noise: round-to-round spread (max−min)/median, median over cells: ${spreads.length ? `${(median(spreads) * 100).toFixed(0)} %` : 'n/a (1 round)'}; ` +
      'a ratio within ±30 % is a tie on this shared machine.',
  );
  if (flagged.length) lines.push('', 'Disagreements:', ...flagged.map((f) => `- ${f}`));
  const notes = cases
    .flatMap((c) => c.notes)
    .concat(leaks.map((l) => `leak: ${l}`))
    .concat(rebuilt);
  if (notes.length) lines.push('', 'Notes:', ...notes.map((n) => `- ${n}`));
  if (!cases.length) lines.splice(opTableStart);
  if (gemm) lines.push(...gemm.lines);
  let training = null;
  if (!filter.length || trainingOnly) {
    training = trainingSection(env, {
      measure,
      median,
      fmt,
      ratio,
      gc,
      log,
      ROUNDS,
      TARGET_MS,
      WARMUP_MS,
      spawnNative: (nativeArgs) => {
        const r = spawnSync(env.nativeBin, nativeArgs, { encoding: 'utf8' });
        if (r.status === 0) return JSON.parse(r.stdout);
        log(`${env.nativeBin} ${nativeArgs.join(' ')} exited with ${r.status}: ${r.stderr}`);
        return null;
      },
    });
    lines.push(...training.lines);
  }
  lines.push('', `Run time: ${totalS.toFixed(0)} s${quick ? ' (BENCH_QUICK=1: smoke run, not for quoting)' : ''}.`);
  const table = lines.join('\n') + '\n';

  const suffix = quick || args.length || ROUNDS !== 7 ? '.partial' : '';
  const tableFile = path.join(out, `table${suffix}.md`);
  const jsonFile = path.join(out, `results${suffix}.json`);
  fs.writeFileSync(tableFile, table);
  fs.writeFileSync(
    jsonFile,
    JSON.stringify(
      {
        meta: {
          date: new Date().toISOString(),
          commit: gitDescribe(),
          node: process.version,
          cpu: os.cpus()[0]?.model,
          cpus: os.cpus().length,
          rounds: ROUNDS,
          targetMs: TARGET_MS,
          warmupMs: WARMUP_MS,
          quick,
          elems: ELEMS,
          rows: ROWS,
          cols: COLS,
          targets: { native: nativeTargets, wasm: dl.target, nosimd: nosimd?.target ?? null },
          tfjs: tfInfo,
          runSeconds: totalS,
          loadAverages: loads,
          built,
        },
        columns: COLUMNS,
        ops: cases.map((c) => ({
          id: c.id,
          form: c.form,
          shapes: c.shapes,
          tf: c.tfName ?? null,
          gradPath: c.gradPath ?? null,
          agree: c.agree,
          notes: c.notes,
        })),
        medians: med,
        raw,
        training: training && { raw: training.raw, targets: training.targets },
        gemm: gemm?.json ?? null,
        leaks,
      },
      null,
      1,
    ),
  );
  process.stdout.write(table);
  log(`wrote ${path.relative(root, tableFile)} and ${path.basename(jsonFile)}`);
}

main().catch((e) => {
  console.error(`bench: ${e?.stack ?? e}`);
  process.exit(1);
});
