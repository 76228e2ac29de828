// Calls every registry entry once through the public JS API with inputs
// built from its metadata (the row's sample shapes and value ranges), and
// reports what is wrong. Shared by the Node test (catalogue.test.ts) and the
// headless-Chromium test (browser/catalogue.test.ts), so both environments
// exercise the same calls.
import type { Dlmath } from 'dlmath';
import { sampleInputs as inputsOf } from '../../web/src/engine/sample.js';

export interface EntryReport {
  id: string;
  kind: string;
  problems: string[];
}

function finite(data: Float32Array): boolean {
  return data.every((v) => Number.isFinite(v));
}

/**
 * Runs every entry of `dl.ops()` once and returns one report per entry.
 * @param dl - a loaded engine
 */
export function checkCatalogue(dl: Dlmath): EntryReport[] {
  const reports: EntryReport[] = [];
  const call = dl as unknown as {
    eval(id: string, i: object, p?: object): { shape: number[]; data: Float32Array; aux: Record<string, unknown> };
    grad(id: string, i: object, p?: object): Record<string, { shape: number[]; data: Float32Array }>;
    optimize(id: string, i: object): { shape: number[]; data: Float32Array };
    schedule(id: string, h: object, steps: number): Float32Array;
    init(id: string, shape: number[]): { shape: number[]; data: Float32Array };
  };
  for (const op of dl.ops()) {
    const problems: string[] = [];
    try {
      if (op.kind === 'schedule') {
        const lr = call.schedule(op.id, {}, 7);
        if (lr.length !== 7) problems.push(`schedule gave ${lr.length} values for 7 steps`);
        if (!finite(lr)) problems.push('schedule gave a non-finite learning rate');
      } else if (op.kind === 'init') {
        const w = call.init(op.id, [4, 3]);
        if (w.data.length !== w.shape.reduce((a, b) => a * b, 1)) problems.push('init: data does not fill its shape');
        if (!finite(w.data)) problems.push('init gave non-finite values');
      } else if (op.kind === 'optimizer') {
        const inputs = inputsOf(op);
        const r = call.optimize(op.id, inputs);
        const steps = inputs['grads']?.shape[0];
        if (r.shape[0] !== steps) problems.push(`optimize gave ${r.shape[0]} steps, expected ${steps}`);
        if (!finite(r.data)) problems.push('optimize gave non-finite parameters');
      } else {
        const inputs = inputsOf(op);
        const r = call.eval(op.id, inputs);
        if (r.data.length !== r.shape.reduce((a, b) => a * b, 1)) problems.push('eval: data does not fill its shape');
        if (!finite(r.data)) problems.push('eval gave non-finite values on its sample');
        const aux = Object.keys(r.aux).sort().join(',');
        if (aux !== [...op.aux].sort().join(',')) problems.push(`aux outputs [${aux}] differ from the registry's`);
        if (op.differentiable) {
          const g = call.grad(op.id, inputs);
          for (const spec of op.inputs) {
            const given = inputs[spec.name];
            if (!spec.differentiable || !given) continue;
            const gi = g[spec.name];
            if (!gi) problems.push(`grad has no '${spec.name}'`);
            else if (gi.shape.join() !== given.shape.join())
              problems.push(`grad '${spec.name}' has shape [${gi.shape}], the input [${given.shape}]`);
            else if (!finite(gi.data)) problems.push(`grad '${spec.name}' is not finite on the sample`);
          }
          for (const p of op.params) if (p.learnable && !g[p.name]) problems.push(`grad has no '${p.name}'`);
        }
      }
    } catch (e) {
      problems.push(`threw ${(e as Error).message}`);
    }
    reports.push({ id: op.id, kind: op.kind, problems });
  }
  return reports;
}
