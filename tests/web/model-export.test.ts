// model.toPyTorch(): the exported source runs in Debian's python3-torch and
// reproduces model.predict within 1e-5. Setup installs python3-torch, so a
// missing torch is a failure, never a skip.
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDlmath, type Dlmath, type ModelSpec } from 'dlmath';
import { expectClose } from './expect.js';
import { exampleSpec, uniform } from './model-fixtures.js';

let dl: Dlmath;
let python: string;

// The first python3 that imports torch: the PATH's, else Debian's own (a
// version manager's python3 may shadow the one python3-torch installs into).
function findPython(): string {
  for (const exe of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(exe, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return exe;
  }
  throw new Error('no python3 with torch: run scripts/setup.sh (it installs python3-torch)');
}

beforeAll(async () => {
  dl = await loadDlmath();
  python = findPython();
});

// Runs every job's exported source and prints model(x) of each as flat
// numbers: one python3 for all (importing torch takes seconds).
const RUN = `
import json, sys, torch
outs = []
for job in json.load(sys.stdin):
    scope = {}
    exec(job['source'], scope)
    model = scope['model']
    assert not model.training, 'the exported model must be in eval mode'
    with torch.no_grad():
        out = model(torch.tensor(job['x'], dtype=torch.float32).reshape(job['rows'], -1))
    outs.append(out.reshape(-1).tolist())
print(json.dumps(outs))
`;

function torchPredict(jobs: { source: string; x: Float32Array; rows: number }[]): number[][] {
  const r = spawnSync(python, ['-c', RUN], {
    input: JSON.stringify(jobs.map((j) => ({ ...j, x: Array.from(j.x) }))),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`python3 failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as number[][];
}

function points(rows: number, cols: number, seed: number): Float32Array {
  const rand = uniform(seed);
  return new Float32Array(rows * cols).map(() => rand() * 4 - 2);
}

const CASES: [string, ModelSpec, 'classes' | 'values'][] = [
  ["the issue's example", exampleSpec(), 'classes'],
  [
    'every layer kind, trained',
    {
      input: 3,
      layers: [
        { type: 'linear', units: 8 },
        { type: 'batch_norm' },
        { type: 'activation', id: 'gelu_tanh' },
        { type: 'dropout', p: 0.3 },
        {
          type: 'residual',
          layers: [
            { type: 'layer_norm' },
            { type: 'linear', units: 8 },
            { type: 'activation', id: 'prelu', num_parameters: 8 },
          ],
        },
        { type: 'rms_norm' },
        { type: 'group_norm', num_groups: 4 },
        { type: 'activation', formula: 'a*x^2 - tanh(b*x)', a: 0.1, b: 2 },
        { type: 'activation', id: 'swish_beta', beta: 1.5 },
        { type: 'linear', units: 4, bias: false },
        { type: 'activation', id: 'log_softmax' },
      ],
      loss: { id: 'nll' },
      optimizer: { id: 'adam', lr: 0.01 },
      seed: 21,
    },
    'classes',
  ],
  [
    'regression with elu and softplus',
    {
      input: 2,
      layers: [
        { type: 'linear', units: 16, init: 'xavier_normal' },
        { type: 'activation', id: 'elu', alpha: 0.5 },
        { type: 'linear', units: 16, init: { id: 'orthogonal', gain: 1.2 } },
        { type: 'activation', id: 'softplus', beta: 2 },
        { type: 'linear', units: 2 },
      ],
      loss: { id: 'huber', delta: 0.5 },
      optimizer: { id: 'rmsprop', lr: 0.01 },
      seed: 4,
    },
    'values',
  ],
];

describe('model.toPyTorch', () => {
  // Every case: trained a little (running statistics and learned slopes are
  // then not their defaults), exported, and predicted on 50 new points.
  let results: { want: Float32Array; got: number[] }[];
  beforeAll(() => {
    const jobs = CASES.map(([, spec, kind]) => {
      using m = dl.model(spec);
      const n = 64;
      const x = points(n, m.inputs, 1);
      const rand = uniform(2);
      const y =
        kind === 'classes'
          ? new Float32Array(n).map(() => Math.floor(rand() * m.outputs))
          : new Float32Array(n * m.outputs).map(() => rand());
      m.fit(x, y, { epochs: 3, batchSize: 16 });
      const probe = points(50, m.inputs, 3);
      return { source: m.toPyTorch(), x: probe, rows: 50, want: m.predict(probe).data };
    });
    const outs = torchPredict(jobs);
    results = jobs.map((j, i) => ({ want: j.want, got: outs[i]! }));
  });

  CASES.forEach(([name], i) => {
    it(`reproduces predict within 1e-5 in python3-torch: ${name}`, () => {
      expectClose(results[i]!.got, results[i]!.want, 1e-5);
    });
  });
});
