// GEMM rows of `npm run bench` (bench/run.mjs calls gemmSection): GFLOP/s of
// dlmath's matrix product (core/src/gemm.h) beside TensorFlow.js's
// tf.matMul, in the orientations a linear layer uses. Columns:
//   native best / forced SSE4: build/native/dlmath_gemm_bench (bench/gemm.cc);
//   wasm SIMD: the same driver built for wasm (build/wasm/dlmath_gemm_bench.cjs),
//     run by Node: the kernel the browser runs, timed inside wasm;
//   TF.js: tf.matMul(a, b, transposeA, transposeB) on resident tensors, kernel only.
// Each round measures every (case, column) once; medians over the rounds.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// C[M, N] = op(A) op(B), op(A) [M, K], op(B) [K, N]; ab: N or T per operand.
// With W [out, in]: NT = forward x Wᵀ, NN = dx = dy W, TN = dW = dyᵀ x.
const ROLES = { NT: 'A·Bᵀ (forward)', NN: 'A·B (dx)', TN: 'Aᵀ·B (dW)' };
const SHAPES = [
  [128, 784, 128], // the goal shape
  [10, 8, 2], // MLP 2-8-8-1, batch 10
  [128, 128, 784], // MNIST 784-128-10, batch 128: first layer
  [128, 10, 128], // its second layer
];
export const GEMM_CASES = SHAPES.flatMap(([m, n, k]) => Object.keys(ROLES).map((ab) => ({ m, n, k, ab })));
const GOAL_GFLOPS = 20; // wasm SIMD, 128×784×128, every orientation

const caseName = (c) => `${c.m}x${c.n}x${c.k}:${c.ab}`;

// The private copies that a run spawns (a rebuild during the run must not mix binaries).
function copyDriver(from, to) {
  if (!fs.existsSync(from)) return null;
  fs.copyFileSync(from, to);
  fs.chmodSync(to, 0o755);
  return to;
}

function runDriver(cmd, args, h) {
  const r = spawnSync(cmd, [...args, '--ms', String(h.targetMs), '--warmup-ms', String(h.warmupMs)], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args[0] ?? ''} exited with ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * Measures the GEMM cases and returns the table's lines and the raw data.
 * @param h - bench/run.mjs's helpers and settings: {root, out, tfside, rounds, targetMs, warmupMs,
 *   measure, median, gc, fmt, ratio, inputValues, checkSums, sumsDiff, agreeTol, log}
 */
export function gemmSection(h) {
  const native = copyDriver(path.join(h.root, 'build/native/dlmath_gemm_bench'), path.join(h.out, 'dlmath_gemm_bench'));
  const wasm = copyDriver(
    path.join(h.root, 'build/wasm/dlmath_gemm_bench.cjs'),
    path.join(h.out, 'dlmath_gemm_bench.cjs'),
  );
  if (!native) h.log('build/native/dlmath_gemm_bench missing: no native GEMM columns (bash scripts/build.sh bench)');
  if (!wasm) h.log('build/wasm/dlmath_gemm_bench.cjs missing: no wasm GEMM column (bash scripts/build.sh bench)');
  const names = GEMM_CASES.map(caseName);

  // TF.js on the same stored operands: A [M, K] or [K, M], B [K, N] or [N, K].
  const tf = {};
  const notes = [];
  if (h.tfside)
    for (const c of GEMM_CASES) {
      const ta = c.ab[0] === 'T';
      const tb = c.ab[1] === 'T';
      const a = { data: h.inputValues(c.m * c.k, 0), shape: ta ? [c.k, c.m] : [c.m, c.k] };
      const b = { data: h.inputValues(c.k * c.n, 7919), shape: tb ? [c.n, c.k] : [c.k, c.n] };
      try {
        const t = h.tfside.makeMatMul(a, b, ta, tb);
        tf[caseName(c)] = { t, check: h.checkSums(t.values()) };
      } catch (e) {
        notes.push(`TF.js ${caseName(c)}: ${e?.message ?? e}`);
      }
    }

  const raw = {}; // `${case}|${column}` -> [GFLOP/s per round]
  const checks = {}; // `${case}|${column}` -> check sums of the last round
  const push = (key, v) => (raw[key] ??= []).push(v);
  let targets = {};
  const loads = []; // 1-minute load average after each round
  const drivers = [
    [native, (args) => runDriver(native, args, h), ['best', 'native_best'], ['sse4', 'native_sse4']],
    // --no-liftoff: TurboFan code from the first call, as a page has after its
    // first moments of training (a fresh process per round would otherwise
    // time V8's baseline compiler on the first cases).
    [
      wasm,
      (args) => runDriver(process.execPath, ['--no-experimental-fetch', '--no-liftoff', wasm, ...args], h),
      ['best', 'wasm'],
    ],
  ];
  for (let r = 0; r < h.rounds; ++r) {
    const spawned = () => {
      for (const [bin, run, ...cols] of drivers) {
        if (!bin) continue;
        try {
          const res = run(names);
          if (bin === native) targets = { ...targets, ...res.targets };
          else targets.wasm = res.targets.best;
          for (const g of res.gemm) {
            if (g.error) notes.push(`${g.case}: ${g.error}`);
            for (const [key, col] of cols)
              if (g[key]) {
                push(`${g.case}|${col}`, g[key].gflops);
                checks[`${g.case}|${col}`] = g[key].check;
              }
          }
        } catch (e) {
          h.log(`GEMM round ${r + 1}: ${e.message}`);
        }
      }
    };
    if (r % 2 === 0) spawned();
    for (const c of GEMM_CASES) {
      const entry = tf[caseName(c)];
      if (!entry) continue;
      h.gc();
      push(`${caseName(c)}|tf`, h.measure(entry.t.kernel, 2 * c.m * c.n * c.k) / 1e3);
    }
    if (r % 2 === 1) spawned();
    loads.push(os.loadavg()[0]);
    h.log(`GEMM round ${r + 1}/${h.rounds}, load average ${loads.at(-1).toFixed(1)}`);
  }
  for (const { t } of Object.values(tf)) t.dispose();

  const med = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, h.median(v)]));
  const flagged = [];
  const lines = ['', '## GEMM, GFLOP/s (higher is better)', ''];
  lines.push(
    `C[M, N] = op(A)·op(B), op(A) [M, K], op(B) [K, N], float32, accumulate off; 2·M·N·K flops per product. ` +
      `Median of ${h.rounds} interleaved round(s), ~${h.targetMs} ms per measurement. ` +
      `Targets: native best = **${targets.best ?? 'n/a'}**, forced = **${targets.sse4 ?? 'n/a'}**, wasm = **${targets.wasm ?? 'n/a'}**. ` +
      `1-min load average after each round: ${loads.map((l) => l.toFixed(1)).join(', ')}.`,
  );
  lines.push('');
  const head = [
    'M×N×K',
    'orientation',
    `native ${targets.best ?? 'best'}`,
    `native ${targets.sse4 ?? 'SSE4'}`,
    'wasm SIMD',
    'µs/product wasm / TF.js',
    'TF.js kernel',
    'wasm/TF (≥1)',
    `wasm/${targets.sse4 ?? 'SSE4'} (≥0.9)`,
    `wasm ≥ ${GOAL_GFLOPS}`,
  ];
  lines.push(`| ${head.join(' | ')} |`);
  lines.push(`|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`);
  for (const c of GEMM_CASES) {
    const name = caseName(c);
    const g = (col) => med[`${name}|${col}`];
    // Same numbers in every column? Compared with the wasm column's C (TF.js: its own product).
    const ref = checks[`${name}|wasm`];
    const mark = (col, check) => {
      const d = ref && check ? h.sumsDiff(check, ref) : 0;
      if (!(d <= h.agreeTol)) {
        flagged.push(`${name} ${col}: max rel. difference ${d.toExponential(1)} vs dlmath wasm`);
        return `${h.fmt(g(col))} ≠`;
      }
      return h.fmt(g(col));
    };
    const perProduct = (gflops) => (gflops ? h.fmt((2e-3 * c.m * c.n * c.k) / gflops) : '—');
    const goal =
      c.m === 128 && c.n === 784 && c.k === 128 && g('wasm') !== undefined
        ? g('wasm') >= GOAL_GFLOPS
          ? 'yes'
          : 'no ✗'
        : '';
    lines.push(
      `| ${c.m}×${c.n}×${c.k} | ${ROLES[c.ab]} | ${mark('native_best', checks[`${name}|native_best`])} | ` +
        `${mark('native_sse4', checks[`${name}|native_sse4`])} | ${h.fmt(g('wasm'))} | ` +
        `${perProduct(g('wasm'))} / ${perProduct(g('tf'))} | ${mark('tf', tf[name]?.check)} | ` +
        `${h.ratio(g('wasm'), g('tf'), 1)} | ${h.ratio(g('wasm'), g('native_sse4'), 0.9)} | ${goal} |`,
    );
  }
  lines.push('');
  lines.push(
    '- dlmath columns: bench/gemm.cc, `Gemm(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, false)` after `GemmReserve`, ' +
      'dense operands, the same hashed values as TF.js gets; wasm SIMD is that driver compiled with -msimd128 and run by Node, ' +
      'timed inside wasm in batches of at least 1 ms (no JS call in the loop; Node runs it with --no-liftoff, i.e. optimized code from the start).',
  );
  lines.push(
    '- TF.js kernel: `tf.matMul(a, b, transposeA, transposeB)` on tensors created beforehand, output read through the backend heap view, disposed.',
  );
  if (flagged.length) lines.push('', 'GEMM disagreements:', ...flagged.map((f) => `- ${f}`));
  if (notes.length) lines.push('', 'GEMM notes:', ...notes.map((n) => `- ${n}`));
  return { lines, json: { cases: names, targets, loads, medians: med, raw, checks, notes } };
}
