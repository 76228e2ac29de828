// Every bad spec and bad call of the training API is a DlmathError with a
// code, the place (layer and field) in `arg` and a message naming both, and
// the module keeps working after each: a canary model trained before and
// after every error gives bit-identical results.
import { beforeAll, describe, expect, it } from 'vitest';
import { DlmathError, loadDlmath, type Dlmath, type ModelSpec } from 'dlmath';
import { expectError } from './expect.js';
import { BATCH_X, BATCH_Y, exampleSpec } from './model-fixtures.js';

let dl: Dlmath;
let canary: number[];
beforeAll(async () => {
  dl = await loadDlmath();
  canary = runCanary();
});

const X = BATCH_X.slice(0, 3);
const Y = BATCH_Y.slice(0, 3);

// Three steps and a prediction of a fresh example model.
function runCanary(): number[] {
  const m = dl.model(exampleSpec());
  try {
    const losses = [0, 1, 2].map(() => m.step(X, Y).loss);
    return [...losses, ...m.predict(X).data];
  } finally {
    m.dispose();
  }
}

type Edit = (s: ModelSpec & Record<string, unknown>) => void;
const layer = (s: ModelSpec, i: number) => s.layers[i] as unknown as Record<string, unknown>;

// [what, edit of the example spec, code, arg, part of the message]
const BAD_SPECS: [string, Edit, string, string, string][] = [
  [
    'unknown layer type',
    (s) => (s.layers[1] = { type: 'activaton', id: 'tanh' } as never),
    'unknown_op',
    'layers[1].type',
    "did you mean 'activation'",
  ],
  ['unknown activation id', (s) => (layer(s, 1).id = 'tanhh'), 'unknown_op', 'layers[1].id', "'tanh'"],
  [
    'units 0',
    (s) => (layer(s, 0).units = 0),
    'bad_param',
    'layers[0].units',
    'must be an integer in [1, 65536], got 0',
  ],
  ['fractional units', (s) => (layer(s, 0).units = 2.5), 'bad_param', 'layers[0].units', 'got 2.5'],
  ['absurd units', (s) => (layer(s, 0).units = 1e6), 'bad_param', 'layers[0].units', 'got 1000000'],
  ['misspelt key', (s) => (layer(s, 0).unit = 3), 'unknown_param', 'layers[0]', "unknown key 'unit'"],
  ['missing units', (s) => delete layer(s, 0).units, 'missing_input', 'layers[0].units', 'missing'],
  ['unknown initializer', (s) => (layer(s, 0).init = 'kaiming'), 'unknown_op', 'layers[0].init', 'kaiming_uniform'],
  ['input width 0', (s) => (s.input = 0), 'bad_param', 'input', 'got 0'],
  ['no layers', (s) => (s.layers = []), 'bad_shape', 'layers', 'non-empty'],
  ['layers not a list', (s) => (s.layers = {} as never), 'bad_type', 'layers', 'got an object'],
  ['unknown loss', (s) => (s.loss = { id: 'crossentropy' } as never), 'unknown_op', 'loss.id', "'cross_entropy'"],
  [
    'a loss that is not (input, target)',
    (s) => (s.loss = { id: 'ctc' } as never),
    'unknown_op',
    'loss.id',
    'is not a loss',
  ],
  [
    'loss param out of range',
    (s) => (s.loss = { id: 'cross_entropy', label_smoothing: 2 }),
    'bad_param',
    'loss.label_smoothing',
    'must be in [0, 1], got 2',
  ],
  [
    'class weights of the wrong length',
    (s) => (s.loss = { id: 'cross_entropy', weight: [1, 2] }),
    'bad_shape',
    'loss.weight',
    'array of 3 numbers',
  ],
  ['unknown optimizer', (s) => (s.optimizer = { id: 'adamm' } as never), 'unknown_op', 'optimizer.id', "'adam'"],
  ['negative learning rate', (s) => (s.optimizer = { id: 'sgd', lr: -1 }), 'bad_param', 'optimizer.lr', 'got -1'],
  ['no optimizer', (s) => delete (s as Record<string, unknown>).optimizer, 'missing_input', 'optimizer', 'missing'],
  [
    'unknown schedule',
    (s) => (s.schedule = { id: 'cosine' } as never),
    'unknown_op',
    'schedule.id',
    'cosine_annealing_lr',
  ],
  [
    'a length for a schedule without one',
    (s) => (s.schedule = { id: 'step_lr', steps: 10 }),
    'bad_param',
    'schedule.steps',
    'no length',
  ],
  ['clip by norm and value', (s) => (s.clip = { norm: 1, value: 1 } as never), 'bad_param', 'clip', 'not both'],
  ['negative clip norm', (s) => (s.clip = { norm: -1 }), 'bad_param', 'clip.norm', 'got -1'],
  ['dropout p >= 1', (s) => s.layers.splice(1, 0, { type: 'dropout', p: 1.5 }), 'bad_param', 'layers[1].p', 'got 1.5'],
  [
    'groups that do not divide the width',
    (s) => s.layers.splice(1, 0, { type: 'group_norm', num_groups: 3 }),
    'bad_param',
    'layers[1].num_groups',
    'must divide',
  ],
  [
    'a residual block that changes the width',
    (s) => s.layers.splice(1, 0, { type: 'residual', layers: [{ type: 'linear', units: 5 }] }),
    'bad_shape',
    'layers[1]',
    'keep the width',
  ],
  [
    'an empty residual block',
    (s) => s.layers.splice(1, 0, { type: 'residual', layers: [] }),
    'bad_shape',
    'layers[1].layers',
    'non-empty',
  ],
  [
    'a formula that does not parse',
    (s) => (s.layers[1] = { type: 'activation', formula: 'x*(2+' }),
    'bad_formula',
    'layers[1].formula',
    'column 6',
  ],
  [
    "a formula's parameter without a value",
    (s) => (s.layers[1] = { type: 'activation', formula: 'a*x' }),
    'missing_input',
    'layers[1].a',
    "parameter 'a'",
  ],
  ['glu on an odd width', (s) => ((layer(s, 0).units = 3), (layer(s, 1).id = 'glu')), 'bad_shape', 'layers[1]', 'even'],
  [
    'activation param out of range',
    (s) => (s.layers[1] = { type: 'activation', id: 'elu', alpha: -1 }),
    'bad_param',
    'layers[1].alpha',
    'got -1',
  ],
  [
    'prelu slopes neither 1 nor the width',
    (s) => (s.layers[1] = { type: 'activation', id: 'prelu', num_parameters: 3 }),
    'bad_shape',
    'layers[1].num_parameters',
    'got 3',
  ],
  [
    'absurd parameter count',
    (s) => ((layer(s, 0).units = 65536), s.layers.splice(1, 0, { type: 'linear', units: 65536 })),
    'too_large',
    'layers[1]',
    'limit',
  ],
  ['negative seed', (s) => (s.seed = -1), 'bad_param', 'seed', 'got -1'],
  ['negative l2', (s) => (s.l2 = -1), 'bad_param', 'l2', 'got -1'],
  ['misspelt top-level key', (s) => (s.optimiser = {}), 'unknown_param', 'spec', "did you mean 'optimizer'"],
  ['a string where a number goes', (s) => (layer(s, 0).units = '8'), 'bad_type', 'layers[0].units', "got '8'"],
];

describe('bad specs', () => {
  it(`has at least 20 of them (${BAD_SPECS.length})`, () => {
    expect(BAD_SPECS.length).toBeGreaterThanOrEqual(20);
  });

  for (const [what, edit, code, arg, part] of BAD_SPECS) {
    it(`${what} -> ${code} at ${arg}`, () => {
      const spec = exampleSpec() as ModelSpec & Record<string, unknown>;
      edit(spec);
      const e = expectError(() => dl.model(spec), code, part);
      expect(e.arg.startsWith(arg), `arg '${e.arg}'`).toBe(true);
      expect(e.message.startsWith(e.arg), 'the message names the place first').toBe(true);
      expect(e.op).toBe('model');
      expect(runCanary()).toEqual(canary);
    });
  }

  it('refuses what is not a spec object before the core sees it', () => {
    for (const bad of [null, 'spec', 42, [1], new Map()])
      expectError(() => dl.model(bad as never), 'bad_type', 'the spec must be an object');
    expect(runCanary()).toEqual(canary);
  });
});

describe('bad calls', () => {
  const calls: [string, (m: ReturnType<Dlmath['model']>) => unknown, string, string, string][] = [
    ['a class index out of range', (m) => m.step(X, [0, 1, 3]), 'bad_value', 'y', 'not a class index in [0, 3)'],
    ['a fractional class index', (m) => m.step(X, [0, 1, 0.5]), 'bad_type', 'y', 'must be integers'],
    ['x of the wrong width', (m) => m.step([[1, 2, 3]], [0]), 'bad_shape', 'x', 'expected [rows, 2]'],
    ['x and y of different rows', (m) => m.step(X, [0, 1]), 'bad_shape', 'y', 'x has 3 rows but y has 2'],
    ['x that is not numbers', (m) => m.step('x' as never, Y), 'bad_type', 'x', 'got a string'],
    ['a ragged batch', (m) => m.predict([[1, 2], [3]]), 'bad_shape', 'x', 'ragged'],
    ['no rows', (m) => m.predict({ shape: [0, 2], data: [] }), 'bad_shape', 'x', 'no rows'],
    [
      'an unknown fit option',
      (m) => m.fit(X, Y, { epoch: 3 } as never),
      'unknown_param',
      'fit',
      "did you mean 'epochs'",
    ],
    [
      'a validation split of everything',
      (m) => m.fit(X, Y, { validationSplit: 1 }),
      'bad_param',
      'fit.validationSplit',
      'must be in [0, 1)',
    ],
    ['a negative learning rate', (m) => m.setLr(-1), 'bad_param', 'lr', 'finite number >= 0'],
    [
      'an unknown parameter',
      (m) => m.getParameter('layers.0.weights'),
      'unknown_param',
      'parameter',
      "did you mean 'layers.0.weight'",
    ],
    [
      'values of the wrong size',
      (m) => m.setParameter('layers.0.weight', [1, 2]),
      'bad_shape',
      'layers.0.weight',
      'has 16 values',
    ],
    [
      'a non-finite weight',
      (m) => m.setParameterValue('layers.0.bias', 0, NaN),
      'bad_value',
      'layers.0.bias',
      'not finite',
    ],
    ['a layer index out of range', (m) => m.layerOutput(7), 'bad_value', 'layer', 'must be in [0, 3)'],
    ['an output unit out of range', (m) => m.outputGradient(X, 5), 'bad_value', 'unit', 'must be in [0, 3)'],
  ];
  for (const [what, call, code, arg, part] of calls) {
    it(`${what} -> ${code} at ${arg}`, () => {
      const m = dl.model(exampleSpec());
      try {
        m.step(X, Y);
        const before = m.stateDict();
        const e = expectError(() => call(m), code, part);
        expect(e.arg).toBe(arg);
        expect(e).toBeInstanceOf(DlmathError);
        // A failed call changes nothing, and the model keeps training.
        expect(m.stateDict()).toEqual(before);
        expect(Number.isFinite(m.step(X, Y).loss)).toBe(true);
      } finally {
        m.dispose();
      }
      expect(runCanary()).toEqual(canary);
    });
  }
});
