// Vite config of the explorer page: root is web/, servers bind 127.0.0.1
// only, `vite build` writes static files to web/dist/app.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs build script without type declarations
import { mnistBinary } from '../scripts/mnist.mjs';
import zlib from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The page's Content-Security-Policy. No 'unsafe-eval' anywhere: the module
 * is built with -sDYNAMIC_EXECUTION=0 and only needs 'wasm-unsafe-eval' to
 * compile. KaTeX writes style attributes and Vite's dev server injects
 * <style> tags, hence 'unsafe-inline' for styles only. The dev server also
 * needs its HMR websocket.
 * @param dev - true for `vite` (serve), false for `vite build`
 */
export function contentSecurityPolicy(dev: boolean): string {
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self'${dev ? ' ws://127.0.0.1:*' : ''}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
  ].join('; ');
}

// Adds the CSP <meta> first in <head>, in dev and in the build alike, so the
// dev page runs under the same policy as the shipped one.
function cspMeta(): Plugin {
  let dev = false;
  return {
    name: 'dlmath-csp-meta',
    configResolved(config) {
      dev = config.command === 'serve';
    },
    transformIndexHtml: {
      order: 'post',
      handler: () => [
        {
          tag: 'meta',
          attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy(dev) },
          injectTo: 'head-prepend',
        },
      ],
    },
  };
}

// The training page's digits (scripts/mnist.mjs): served at mnist.bin in dev,
// emitted as mnist.bin by the build; the page fetches it only in digits mode.
function mnistAsset(): Plugin {
  return {
    name: 'dlmath-mnist',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (!req.url?.split('?')[0]?.endsWith('/mnist.bin')) return next();
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(mnistBinary());
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'mnist.bin', source: mnistBinary() });
    },
  };
}

/**
 * KaTeX's CSS names three files per font (woff2, woff, ttf); every browser that runs the wasm reads woff2,
 * so the others are left out of the CSS and never copied into a build.
 */
export function woff2Only(): Plugin {
  return {
    name: 'dlmath-katex-woff2-only',
    // Before Vite's CSS plugin turns the url()s into assets.
    enforce: 'pre',
    transform(code, id) {
      if (!/katex(\.min)?\.css($|\?)/.test(id)) return null;
      return code.replace(
        /,\s*url\([^)]*\.woff\)\s*format\("woff"\)|,\s*url\([^)]*\.ttf\)\s*format\("truetype"\)/g,
        '',
      );
    },
  };
}

// The light wasm (the playground's main thread never trains) and the
// catalogue (ops.json) start downloading with the HTML,
// beside the scripts that will ask for them: preloads that the engine's
// fetch() calls (same origin, credentials 'same-origin', hence `crossorigin`)
// then find in the cache.
function preloadEngine(): Plugin {
  return {
    name: 'dlmath-preload-engine',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      // Only the playground: a documentation page loads the engine when an element comes into view.
      handler: (_html, ctx) =>
        Object.keys(ctx.path.endsWith('/index.html') ? (ctx.bundle ?? {}) : {})
          .filter((f) => /dlmath_lite.*\.wasm$|ops.*\.json$/.test(f))
          .map((f) => ({
            tag: 'link',
            attrs: { rel: 'preload', href: `./${f}`, as: 'fetch', crossorigin: '' },
            injectTo: 'head' as const,
          })),
    },
  };
}

/** Files a server sends compressed (fonts and images are compressed already). */
const COMPRESSIBLE = /\.(html|js|mjs|css|wasm|json|svg)$/;

/**
 * Writes `<file>.br` and `<file>.gz` beside each compressible file of the build, so a static host that
 * serves precompressed files (nginx's gzip_static and brotli_static, Caddy's precompressed) sends them
 * at the best ratio without compressing on every request. Node's own zlib: no dependency.
 * @param dirs - the folders to walk (default: the build's output folder)
 */
export function precompress(dirs?: string[]): Plugin {
  let outDir = '';
  return {
    name: 'dlmath-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const walk = (dir: string): string[] =>
        fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
          const p = path.join(dir, e.name);
          return e.isDirectory() ? walk(p) : COMPRESSIBLE.test(e.name) ? [p] : [];
        });
      for (const file of (dirs ?? [outDir]).flatMap(walk)) {
        const data = fs.readFileSync(file);
        const br = zlib.brotliCompressSync(data, {
          params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length },
        });
        fs.writeFileSync(`${file}.br`, br);
        fs.writeFileSync(`${file}.gz`, zlib.gzipSync(data, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [cspMeta(), mnistAsset(), woff2Only(), preloadEngine(), precompress()],
  server: { host: '127.0.0.1', port: 5173, strictPort: false },
  preview: { host: '127.0.0.1', port: 4173, strictPort: false },
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    // The playground, the tiny GPT, and the documentation example that embeds the custom elements.
    rollupOptions: {
      input: { index: `${root}index.html`, gpt: `${root}gpt.html`, embedding: `${root}embedding.html` },
    },
    // The wasm is fetched at run time; never inline it as a data: URL.
    assetsInlineLimit: (file) => (file.endsWith('.wasm') ? false : undefined),
  },
});
