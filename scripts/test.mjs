// Runs every test stage after `scripts/build.sh all` and ends with one
// summary line, "N passed, N failed". Stages: Catch2 native and wasm (CTest),
// type checks, format checks, Vitest (Node API + headless Chromium), examples.
// Exit code 1 if anything failed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const env = { ...process.env, NODE_PATH: '/usr/share/nodejs' };

let passed = 0;
let failed = 0;
const failures = [];

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: opts.capture ? 'pipe' : 'inherit', encoding: 'utf8', env, ...opts });
  if (opts.capture) {
    process.stdout.write(r.stdout ?? '');
    process.stderr.write(r.stderr ?? '');
  }
  return r;
}

function record(stage, ok, count = 1) {
  if (ok) passed += count;
  else {
    failed += count;
    failures.push(stage);
  }
}

// CTest: every registered Catch2 binary is one test.
function ctest(dir, label) {
  console.log(`\n== Catch2 ${label} (ctest) ==`);
  const r = run('ctest', ['--test-dir', dir, '--output-on-failure'], { capture: true });
  const m = /(\d+) tests failed out of (\d+)/.exec(r.stdout ?? '');
  if (!m) return record(`ctest ${label}: no summary`, false);
  const [nFail, nAll] = [Number(m[1]), Number(m[2])];
  if (nAll === 0) return record(`ctest ${label}: ran no test`, false);
  passed += nAll - nFail;
  if (nFail) {
    failed += nFail;
    failures.push(`ctest ${label}`);
  }
}

function stage(name, cmd, args) {
  console.log(`\n== ${name} ==`);
  const r = run(cmd, args);
  record(name, r.status === 0);
}

ctest('build/native', 'native');
ctest('build/wasm', 'wasm (node)');

stage('typecheck: JS package', 'npx', ['tsc', '--noEmit', '-p', 'web/tsconfig.lib.json']);
stage('typecheck: API types test', 'npx', ['tsc', '-p', 'tests/web/tsconfig.json']);
if (fs.existsSync('web/tsconfig.json'))
  stage('typecheck: web app', 'npx', ['tsc', '--noEmit', '-p', 'web/tsconfig.json']);

const cxx = run('git', ['ls-files', '*.cc', '*.h', '*.def'], { capture: false, stdio: 'pipe' })
  .stdout.split('\n')
  .filter((f) => f && !f.endsWith('.def'));
stage('format: clang-format (C++)', 'clang-format', ['--dry-run', '-Werror', ...cxx]);
stage('format: prettier (TS/JS)', 'npx', ['prettier', '--check', '.']);

console.log('\n== Vitest ==');
const report = path.join('build', 'vitest.json');
fs.mkdirSync('build', { recursive: true });
fs.rmSync(report, { force: true });
run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`]);
if (fs.existsSync(report)) {
  const j = JSON.parse(fs.readFileSync(report, 'utf8'));
  if (j.numTotalTests === 0) record('vitest: ran no test', false);
  passed += j.numPassedTests;
  failed += j.numFailedTests;
  if (j.numFailedTests || !j.success) failures.push('vitest');
  if (!j.success && j.numFailedTests === 0) failed += 1; // e.g. a file that failed to load
} else record('vitest: no report', false);

for (const f of fs.readdirSync('examples').filter((f) => f.endsWith('.mjs'))) {
  stage(`example: ${f}`, 'node', [path.join('examples', f)]);
}

if (failures.length) console.log(`\nFailed: ${failures.join('; ')}`);
console.log(`\ndlmath: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
