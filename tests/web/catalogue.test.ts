// Every registry entry, called through the JS API in Node with inputs built
// from its own metadata: values fill their shapes, are finite on the sample,
// aux outputs and gradients come back under the registry's names and shapes.
import { beforeAll, expect, it } from 'vitest';
import { loadDlmath, type Dlmath } from 'dlmath';
import { checkCatalogue } from './catalogue-check.js';

let dl: Dlmath;
beforeAll(async () => {
  dl = await loadDlmath();
});

it('every entry is callable from Node with its sample inputs', () => {
  const reports = checkCatalogue(dl);
  expect(reports.length).toBe(dl.ops().length);
  const bad = reports.filter((r) => r.problems.length).map((r) => `${r.id}: ${r.problems.join('; ')}`);
  expect(bad).toEqual([]);
});

it('leaves the heap where it was', () => {
  checkCatalogue(dl); // warm-up: lasting runtime structures
  const before = dl.heapUsed();
  checkCatalogue(dl);
  expect(dl.heapUsed()).toBe(before);
});
