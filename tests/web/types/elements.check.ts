// Type test of 'dlmath/elements' (run by `tsc -p tests/web` in `npm test`):
// the package's hand-written declarations give the tags their classes.
import { DlmathEntry, DlmathFormula, type ShownCall } from 'dlmath/elements';

const entry: DlmathEntry = document.createElement('dlmath-entry');
const formula: DlmathFormula = document.createElement('dlmath-formula');
const builds: number = entry.renders + formula.renders;
const calls: ShownCall[] = entry.shown();
const first: number | undefined = calls[0]?.values[0];
entry.setAttribute('p.delta', '0.5');

// @ts-expect-error: renders is read-only
entry.renders = 1;
// @ts-expect-error: shown() takes no argument
entry.shown('huber');

export { builds, first };
