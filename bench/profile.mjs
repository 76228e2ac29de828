// Where the wasm training step spends its time: samples V8's CPU profiler
// (node:inspector) while model.fit (or model.step) trains one of
// bench/train.mjs's workloads, and prints every function's share of the
// samples (self time), wasm functions by their C++ names.
//
//   node bench/profile.mjs [--module <prefix>] [--case 0|1] [--mode fit|step]
//                          [--seconds 5] [--top 40] [--out file.cpuprofile]
//
// --module: <prefix>.mjs and <prefix>.wasm, a module and its glue (default:
// the package's full module, web/dist/lib/gen/dlmath_wasm). The shipped
// module has no function names (V8 shows wasm-function[i]); for names, link a
// copy with --profiling-funcs, which keeps the name section and changes no
// code, e.g. configure a build directory with -DDLMATH_WASM_PROFILING=ON
// (wasm/CMakeLists.txt) and point --module at its wasm/dlmath_wasm.
// --callers <name>: also who calls the functions whose name contains <name>
// (mangled, e.g. memset), by samples.
// --out writes the raw profile for Chrome DevTools (Performance tab, load).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { TRAIN_CASES } from './train.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: {
    module: { type: 'string', default: path.join(root, 'web/dist/lib/gen/dlmath_wasm') },
    case: { type: 'string', default: '0' },
    mode: { type: 'string', default: 'fit' },
    seconds: { type: 'string', default: '5' },
    top: { type: 'string', default: '40' },
    out: { type: 'string' },
    callers: { type: 'string' },
  },
});
const workload = TRAIN_CASES[Number(opt.case)];
if (!workload) throw new Error(`--case ${opt.case}: there are ${TRAIN_CASES.length} workloads (0-based)`);
if (!['fit', 'step'].includes(opt.mode)) throw new Error(`--mode ${opt.mode}: fit or step`);

const lib = path.join(root, 'web/dist/lib/index.js');
if (!fs.existsSync(lib)) throw new Error(`${lib} is missing: run bash scripts/build.sh wasm`);
const { Dlmath, loadCatalogue } = await import(pathToFileURL(lib).href);
const factory = (await import(pathToFileURL(`${opt.module}.mjs`).href)).default;
const dl = new Dlmath(await factory({ wasmBinary: fs.readFileSync(`${opt.module}.wasm`) }), await loadCatalogue());

// The same data as bench/train.mjs: any fixed batch does for a profile.
const model = dl.model(workload.spec);
const x = new Float32Array(workload.batch * model.inputs).map((_, i) => Math.sin(i) / 2);
const y = model.classTargets
  ? new Float32Array(workload.batch).map((_, i) => i % model.outputs)
  : new Float32Array(workload.batch * model.outputs).map((_, i) => Math.cos(i) / 2);
const copies = 16;
const xs = new Float32Array(x.length * copies).map((_, i) => x[i % x.length]);
const ys = new Float32Array(y.length * copies).map((_, i) => y[i % y.length]);
let steps = 0;
const run = (ms) => {
  const t0 = performance.now();
  do {
    if (opt.mode === 'step') {
      model.step(x, y);
      steps += 1;
    } else steps += model.fit(xs, ys, { epochs: 8, batchSize: workload.batch, shuffle: false, logSteps: 0 }).steps;
  } while (performance.now() - t0 < ms);
  return performance.now() - t0;
};
run(1000); // JIT warm-up (V8 tiers the wasm up too)

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
await session.post('Profiler.start');
steps = 0;
const ms = run(Number(opt.seconds) * 1000);
const { profile } = await session.post('Profiler.stop');
session.disconnect();
model.dispose();
if (opt.out) fs.writeFileSync(opt.out, JSON.stringify(profile));

// Self samples per function name.
const self = new Map();
let total = 0;
for (const node of profile.nodes) {
  const name = node.callFrame.functionName || `(anonymous ${path.basename(node.callFrame.url)})`;
  self.set(name, (self.get(name) ?? 0) + node.hitCount);
  total += node.hitCount;
}
const idle = ['(idle)', '(program)', '(garbage collector)'].reduce((s, k) => s + (self.get(k) ?? 0), 0);
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(opt.top));
// The name section keeps C++'s mangled names: demangle them for the table.
const names = execFileSync('c++filt', { input: rows.map(([n]) => n).join('\n') })
  .toString()
  .split('\n');
console.log(
  `${workload.name}, ${opt.mode}: ${Math.round((steps * 1000) / ms).toLocaleString('en-US')} steps/s while profiled; ` +
    `${total} samples (${idle} idle/program/GC)`,
);
console.log('| share | samples | function |\n|--:|--:|---|');
rows.forEach(([, n], i) => console.log(`| ${((100 * n) / total).toFixed(1)} % | ${n} | ${names[i].slice(0, 140)} |`));

if (opt.callers) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const by = new Map();
  for (const n of profile.nodes)
    if (n.callFrame.functionName.includes(opt.callers)) {
      const p = parent.get(n.id) ?? byId.get(n.id);
      const key = `${p.callFrame.functionName} -> ${n.callFrame.functionName}`;
      by.set(key, (by.get(key) ?? 0) + n.hitCount);
    }
  const list = [...by].sort((a, b) => b[1] - a[1]);
  const demangled = execFileSync('c++filt', { input: list.map(([k]) => k.replace(' -> ', '\n')).join('\n') })
    .toString()
    .split('\n');
  console.log(`\nCallers of *${opt.callers}*:\n| samples | caller -> callee |\n|--:|---|`);
  list.forEach(([, n], i) =>
    console.log(`| ${n} | ${demangled[2 * i].slice(0, 90)} -> ${demangled[2 * i + 1].slice(0, 40)} |`),
  );
}
