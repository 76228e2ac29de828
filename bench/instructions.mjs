// Exact cost of the wasm training step: x86 instructions per model.step() of
// one of bench/train.mjs's workloads, in total and per function (wasm
// functions, JS functions, V8 builtins), counted by valgrind's callgrind.
// Wall clock on a shared 2-core machine swings +-30 % minute to minute; this
// count repeats to the instruction, so an A/B of two builds is one run each.
//
//   node bench/instructions.mjs [--case 0] [--steps 1000,6000] [--top 40]
//                               [--root <package root>] [--module <prefix>]
//                               [--fit]
//
// --fit counts the bench's fit() column instead (train.mjs fitCall, FIT_STEPS
// = 128 steps a call whose per-call cost they share), per step: the step
// counts must be multiples of 128, e.g. --steps 1280,7680.
// Two runs of S1 and S2 steps after the same warm-up: per step = (cost(S2) -
// cost(S1)) / (S2 - S1), so start-up, compilation and warm-up cancel. Node
// runs with --no-liftoff (TurboFan code only) and --predictable; V8's
// --perf-basic-prof map names the JIT code callgrind sees. --root measures
// another checkout's package (its web/dist); --module a module of kept names
// (a build configured with -DDLMATH_WASM_PROFILING=ON: <dir>/wasm/dlmath_wasm)
// so wasm functions show their C++ names instead of wasm-function[i].
// A garbage collection in only one of the runs moves the total by ~100
// instructions a step; the per-function rows are not affected.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const self = fileURLToPath(import.meta.url);
const { values: opt } = parseArgs({
  options: {
    case: { type: 'string', default: '0' },
    steps: { type: 'string', default: '1000,6000' },
    top: { type: 'string', default: '40' },
    root: { type: 'string', default: path.resolve(path.dirname(self), '..') },
    module: { type: 'string' },
    fit: { type: 'boolean', default: false },
    child: { type: 'string' }, // internal: run this many steps and exit
  },
});

const { TRAIN_CASES, FIT_STEPS, fitCall } = await import(pathToFileURL(path.join(opt.root, 'bench/train.mjs')).href);

// A fixed batch from an integer hash: the same bits in every run.
function fill(n, seed, classes = 0) {
  const v = new Float32Array(n);
  for (let i = 0; i < n; ++i) {
    const h = Math.imul((i + seed) | 0, 2654435761 | 0) >>> 0;
    v[i] = classes > 0 ? Math.floor(((h >>> 8) * classes) / 16777216) : ((h >>> 8) / 16777216) * 2 - 1;
  }
  return v;
}

async function runSteps(steps) {
  const lib = await import(pathToFileURL(path.join(opt.root, 'web/dist/lib/index.js')).href);
  let dl;
  if (opt.module) {
    const factory = (await import(pathToFileURL(`${opt.module}.mjs`).href)).default;
    dl = new lib.Dlmath(
      await factory({ wasmBinary: fs.readFileSync(`${opt.module}.wasm`) }),
      await lib.loadCatalogue(),
    );
  } else {
    dl = await lib.loadDlmath();
  }
  const workload = TRAIN_CASES[Number(opt.case)];
  const model = dl.model(workload.spec);
  const x = fill(workload.batch * model.inputs, 1);
  const y = fill(workload.batch * (model.classTargets ? 1 : model.outputs), 2, model.classTargets ? model.outputs : 0);
  const warm = Number(opt.case) === 0 ? 3000 : 30; // TurboFan has compiled the facade by then
  if (opt.fit) {
    // fit()'s facade runs once a call: warmed up by calls (the bench's
    // second of warm-up makes ~700 of case 0's).
    const call = fitCall(model, x, y, workload.batch);
    const calls = (Number(opt.case) === 0 ? 200 : 1) + steps / FIT_STEPS;
    for (let i = 0; i < calls; ++i) call();
  } else {
    for (let i = 0; i < warm + steps; ++i) model.step(x, y);
  }
  model.dispose();
}

// Self cost per function name of one callgrind profile (--dump-instr=yes),
// JIT code named through the perf map (start, size, name per line).
function selfCosts(outFile, mapFile) {
  const ranges = fs
    .readFileSync(mapFile, 'utf8')
    .split('\n')
    .map((line) => line.match(/^([0-9a-f]+) ([0-9a-f]+) (.*)$/))
    .filter(Boolean)
    .map((m) => [parseInt(m[1], 16), parseInt(m[2], 16), m[3].replace(/^JS:/, '').replace(/-\d+-turbofan$/, '')])
    .sort((a, b) => a[0] - b[0]);
  const jitName = (addr) => {
    let lo = 0,
      hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ranges[mid][0] <= addr) lo = mid + 1;
      else hi = mid - 1;
    }
    const r = ranges[hi];
    return r && addr < r[0] + r[1] ? r[2] : null;
  };
  // Positions are "address line" with callgrind's compression: +n / -n
  // relative to the previous address, * the same; names come as "(id) name"
  // once, then "(id)" alone. The cost line after calls= is the callee's
  // inclusive cost, not this function's.
  const names = new Map();
  const cost = new Map();
  const add = (name, n) => cost.set(name, (cost.get(name) ?? 0) + n);
  const num = (s) => (s.startsWith('0x') ? parseInt(s, 16) : Number(s));
  let fn = '?';
  let last = 0;
  let callCost = false;
  for (const line of fs.readFileSync(outFile, 'utf8').split('\n')) {
    const c = line[0];
    if (c === '+' || c === '-' || c === '*' || (c >= '0' && c <= '9')) {
      const [pos, , ir] = line.split(' ');
      last =
        pos === '*' ? last : c === '+' ? last + num(pos.slice(1)) : c === '-' ? last - num(pos.slice(1)) : num(pos);
      if (callCost) callCost = false;
      else if (ir !== undefined)
        add(/^(0x[0-9a-f]+|\?\?\?)$/.test(fn) ? (jitName(last) ?? 'JIT (unnamed)') : fn, Number(ir));
    } else if (line.startsWith('fn=') || line.startsWith('cfn=')) {
      const m = line.slice(line.indexOf('=') + 1).match(/^\((\d+)\)(?: (.*))?$/);
      const name = m ? (m[2] !== undefined ? (names.set(m[1], m[2]), m[2]) : names.get(m[1])) : line.slice(3);
      // A call at recursion depth N is named name'N (callgrind's --separate-recs): one function.
      if (c === 'f') fn = name.replace(/'\d+$/, '');
    } else if (line.startsWith('calls=')) {
      callCost = true;
    }
  }
  return cost;
}

function profile(steps, dir) {
  const out = path.join(dir, `callgrind.${steps}.out`);
  const args = ['--tool=callgrind', '--dump-instr=yes', `--callgrind-out-file=${out}`, process.execPath];
  args.push('--perf-basic-prof', '--no-liftoff', '--predictable', '--no-experimental-fetch', self);
  args.push('--child', String(steps), '--case', opt.case, '--root', opt.root);
  if (opt.module) args.push('--module', opt.module);
  if (opt.fit) args.push('--fit');
  const run = spawnSync('valgrind', args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
  if (run.error) throw new Error(`valgrind: ${run.error.message} (Debian: apt-get install valgrind)`);
  if (run.status !== 0) throw new Error(`the profiled run failed:\n${run.stderr.toString().slice(-2000)}`);
  // Node 20's V8 writes the map into the system's temporary directory under a
  // fixed name, whatever TMPDIR says (its PerfBasicLogger); valgrind keeps
  // node's pid.
  const map = path.join(path.sep, 'tmp', `perf-${run.pid}.map`);
  try {
    return selfCosts(out, map);
  } finally {
    fs.rmSync(map, { force: true });
  }
}

if (opt.child) {
  await runSteps(Number(opt.child));
} else {
  const [s1, s2] = opt.steps.split(',').map(Number);
  if (!(s2 > s1 && s1 >= 0)) throw new Error(`--steps ${opt.steps}: two step counts S1,S2 with S2 > S1`);
  if (opt.fit && (s1 % FIT_STEPS || s2 % FIT_STEPS))
    throw new Error(`--fit --steps ${opt.steps}: multiples of ${FIT_STEPS} (steps a fit call)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlmath-instructions-'));
  try {
    const [a, b] = [profile(s1, dir), profile(s2, dir)];
    const per = new Map();
    for (const name of new Set([...a.keys(), ...b.keys()]))
      per.set(name, ((b.get(name) ?? 0) - (a.get(name) ?? 0)) / (s2 - s1));
    const total = [...per.values()].reduce((s, v) => s + v, 0);
    const fmt = (v) => Math.round(v).toLocaleString('en-US').padStart(9);
    console.log(`case ${opt.case}, ${opt.root}${opt.module ? `, module ${opt.module}` : ''}`);
    console.log(`per step${opt.fit ? ' of fit()' : ''}: ${fmt(total).trim()} x86 instructions`);
    const rows = [...per].sort((p, q) => Math.abs(q[1]) - Math.abs(p[1])).slice(0, Number(opt.top));
    for (const [name, v] of rows)
      console.log(`${fmt(v)} ${((100 * v) / total).toFixed(1).padStart(5)} %  ${name.slice(0, 130)}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
