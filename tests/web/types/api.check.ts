// Type test (run by `tsc -p tests/web` in `npm test`): the op-id union, the
// per-op input and param names and the gradient names are generated from
// the registry, so typos fail to compile. Each @ts-expect-error must fire.
import { DlmathError, ErrorCode, loadDlmath, type EvalResult, type OpId, type Result } from 'dlmath';

const dl = await loadDlmath();

const ok: Result = dl.eval('sigmoid', { x: [1, 2] });
const viaConvenience: Result = dl.softmax([[1, 2, 3]]);
const g: { x: Result } = dl.grad('softmax', { x: [1, 2] });
const id: OpId = 'softmax';
const both: { value: EvalResult; grads: { x: Result } } = dl.evalWithGrad('softmax', { x: [1, 2] });
const code: 'aliased_output' = ErrorCode.aliasedOutput;

// @ts-expect-error: not a registry id
dl.eval('sigmoit', { x: [1] });
// @ts-expect-error: softmax has no param 'alpha'
dl.eval('softmax', { x: [1] }, { alpha: 1 });
// @ts-expect-error: softmax's input is 'x'
dl.eval('softmax', { y: [1] });
// @ts-expect-error: not an op id
const bad: OpId = 'nope';
// @ts-expect-error: a convenience that does not exist
dl.sigmoit([1]);
// @ts-expect-error: sigmoid's gradient has no 'beta'
dl.grad('sigmoid', { x: [1] }).beta;
// @ts-expect-error: nor from evalWithGrad
dl.evalWithGrad('sigmoid', { x: [1] }).grads.beta;
// @ts-expect-error: not an error code of the core's table
const noCode: ErrorCode = 'no_such_code';

export { ok, viaConvenience, g, id, both, code, bad, noCode, DlmathError };
