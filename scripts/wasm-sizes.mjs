// Where a wasm module's bytes are: its sections, and its functions' code by
// size and grouped by the namespace they come from, read from the function
// names that `--emit-symbol-map` writes beside the build's module
// (<module>.mjs.symbols, wasm/CMakeLists.txt). Gzip sizes are of each group's bytes alone, so they
// only rank the groups (gzip finds repeats across groups too).
//   cmake --preset wasm -DDLMATH_WASM_SYMBOL_MAP=ON && cmake --build build/wasm --target dlmath_lite
//   node scripts/wasm-sizes.mjs build/wasm/wasm/dlmath_lite.wasm [top]
// (then configure with -DDLMATH_WASM_SYMBOL_MAP=OFF again before measuring what ships).
import fs from 'node:fs';
import zlib from 'node:zlib';

const [file, top = '25'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/wasm-sizes.mjs <module.wasm> [top]');
  process.exit(2);
}
const bytes = fs.readFileSync(file);
const symbols = new Map(
  fs
    .readFileSync(file.replace(/\.wasm$/, '.mjs.symbols'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const at = line.indexOf(':');
      // Emscripten escapes the demangled name's punctuation as \XX (hex).
      const name = line.slice(at + 1).replace(/\\([0-9a-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
      return [Number(line.slice(0, at)), name];
    }),
);

let pos = 8; // magic and version
const leb = () => {
  let v = 0;
  for (let shift = 0; ; shift += 7) {
    const b = bytes[pos++];
    v += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return v;
  }
};
const NAMES = [
  'custom',
  'type',
  'import',
  'function',
  'table',
  'memory',
  'global',
  'export',
  'start',
  'element',
  'code',
  'data',
  'datacount',
];
const sections = [];
const functions = [];
let imported = 0;
while (pos < bytes.length) {
  const id = bytes[pos++];
  const size = leb();
  const end = pos + size;
  sections.push({ name: NAMES[id] ?? `#${id}`, size });
  if (id === 2) {
    for (let n = leb(); n > 0; --n) {
      for (let k = 0; k < 2; ++k) pos += leb(); // module and field names
      const kind = bytes[pos++];
      if (kind === 0) (++imported, leb());
      else if (kind === 1) (pos++, bytes[pos++] & 1 ? (leb(), leb()) : leb());
      else if (kind === 2) bytes[pos++] & 1 ? (leb(), leb()) : leb();
      else pos += 2; // global: type and mutability
    }
  } else if (id === 10) {
    const n = leb();
    for (let i = 0; i < n; ++i) {
      const len = leb();
      functions.push({ name: symbols.get(imported + i) ?? `#${imported + i}`, start: pos, size: len });
      pos += len;
    }
  }
  pos = end;
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const gz = (parts) => zlib.gzipSync(Buffer.concat(parts), { level: 9 }).length;
console.log(`${file}: ${kb(bytes.length)} raw, ${kb(gz([bytes]))} gzip`);
for (const s of sections) console.log(`  section ${s.name.padEnd(10)} ${kb(s.size).padStart(10)}`);

// A function's group: its demangled name's leading namespace or class (dlmath::hwy_wasm::..., Eigen::...).
const group = (name) => {
  const m = /^(?:[\w:<> ,*&]*? )?((?:[A-Za-z_]\w*::){1,2})/.exec(name.replace(/^(?:void|bool|int|float|double) /, ''));
  return m ? m[1].replace(/::$/, '') : name.startsWith('$') || /^[a-z_]\w*$/.test(name) ? '(C library)' : '(other)';
};
const groups = new Map();
for (const f of functions) {
  const g = group(f.name);
  const e = groups.get(g) ?? { size: 0, count: 0, parts: [] };
  e.size += f.size;
  e.count += 1;
  e.parts.push(bytes.subarray(f.start, f.start + f.size));
  groups.set(g, e);
}
console.log(`\ncode by group (${functions.length} functions):`);
for (const [g, e] of [...groups].sort((a, b) => b[1].size - a[1].size).slice(0, Number(top)))
  console.log(`  ${kb(e.size).padStart(10)} ${kb(gz(e.parts)).padStart(9)} gzip ${String(e.count).padStart(5)}  ${g}`);
console.log(`\nlargest functions:`);
for (const f of [...functions].sort((a, b) => b.size - a.size).slice(0, Number(top)))
  console.log(`  ${kb(f.size).padStart(10)}  ${f.name.slice(0, 140)}`);
