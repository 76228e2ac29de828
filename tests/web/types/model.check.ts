// Type test of the training spec (run by `tsc -p tests/web` in `npm test`):
// layer, loss, optimizer and schedule ids and their params come from the
// registry, so typos fail to compile. Each @ts-expect-error must fire.
import { loadDlmath, type ModelSpec, type StepResult, type FitHistory } from 'dlmath';

const dl = await loadDlmath();

const spec: ModelSpec = {
  input: 2,
  layers: [
    { type: 'linear', units: 8, init: { id: 'kaiming_normal', nonlinearity: 'relu' } },
    { type: 'activation', id: 'elu', alpha: 0.5 },
    { type: 'activation', id: 'prelu', num_parameters: 8 },
    { type: 'activation', formula: 'x*sigmoid(a*x)', a: 1.5 },
    { type: 'residual', layers: [{ type: 'layer_norm' }, { type: 'dropout', p: 0.1 }] },
    { type: 'linear', units: 3 },
  ],
  loss: { id: 'cross_entropy', label_smoothing: 0.1, weight: [1, 2, 1] },
  optimizer: { id: 'adamw', lr: 3e-3, weight_decay: 0.01 },
  schedule: { id: 'warmup_cosine', warmup: 100, steps: 2000 },
  clip: { norm: 1 },
  seed: 7,
};
const model = dl.model(spec);
const step: StepResult = model.step([[0, 1]], [2]);
const history: FitHistory = model.fit([[0, 1]], [2], { epochs: 2, earlyStopping: { patience: 3 } });

const bad: ModelSpec[] = [
  // @ts-expect-error: not an activation id
  { ...spec, layers: [{ type: 'activation', id: 'tanhh' }] },
  // @ts-expect-error: elu has no param 'beta'
  { ...spec, layers: [{ type: 'activation', id: 'elu', beta: 1 }] },
  // @ts-expect-error: not a layer type
  { ...spec, layers: [{ type: 'conv2d', units: 3 }] },
  // @ts-expect-error: a linear layer needs units
  { ...spec, layers: [{ type: 'linear' }] },
  // @ts-expect-error: not a training loss
  { ...spec, loss: { id: 'ctc' } },
  // @ts-expect-error: not an optimizer
  { ...spec, optimizer: { id: 'adamm' } },
  // @ts-expect-error: sgd has no param 'beta1'
  { ...spec, optimizer: { id: 'sgd', beta1: 0.9 } },
  // @ts-expect-error: not a schedule
  { ...spec, schedule: { id: 'cosine' } },
];

// @ts-expect-error: not a StepResult key
model.diagnosticsColumn('accuracy');

export { step, history, bad };
