// The custom elements as files of the npm package (dist/elements): an ES
// module that defines them, its lazily loaded view chunks and KaTeX's fonts.
// The engine is not bundled: the elements import the package's own engine
// (dist/lib), so a page that also imports 'dlmath' loads one wasm, not two.
// A plain build rather than library mode, which would inline every font as
// base64; no CSS file is loaded (the elements adopt their sheets, see
// src/elements/styles.ts), so no view's CSS can leak into the host page.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { precompress, woff2Only } from './vite.config.js';

const root = fileURLToPath(new URL('.', import.meta.url));
const packagedEngine = path.join(root, 'dist/lib/index.js');

// Every import of src/engine/index.ts becomes an import of the packaged engine (a relative path in the output).
function engineFromPackage(): Plugin {
  return {
    name: 'dlmath-engine-from-package',
    enforce: 'pre',
    resolveId(source) {
      return /(^|\/)engine\/index\.js$/.test(source) ? { id: packagedEngine, external: true } : null;
    },
  };
}

export default defineConfig({
  root,
  base: './',
  // The package's wasm, its glue and ops.json get .br and .gz beside them for hosts that serve them as they are.
  plugins: [engineFromPackage(), woff2Only(), precompress([path.join(root, 'dist/lib/gen')])],
  build: {
    outDir: 'dist/elements',
    emptyOutDir: true,
    cssCodeSplit: false,
    modulePreload: false,
    copyPublicDir: false,
    rollupOptions: {
      input: { index: path.join(root, 'src/elements/index.ts') },
      preserveEntrySignatures: 'exports-only',
      makeAbsoluteExternalsRelative: false,
      // Every chunk sits beside index.js, so one relative path reaches the engine from all of them.
      output: {
        entryFileNames: '[name].js',
        chunkFileNames: '[name]-[hash].js',
        paths: { [packagedEngine]: '../lib/index.js' },
      },
    },
  },
});
