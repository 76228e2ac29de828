// The plain-JS baseline of `npm run bench`: the obvious Float32Array loops
// anyone would write without a library (Math.exp, Math.tanh), keyed by
// registry id. fwd(x, y, rows, cols) writes y; bwd(x, y, dy, dx, rows, cols)
// writes dx = dL/dx from the saved y (rows x cols: rows = 1 for elementwise).

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export const PLAIN_JS = {
  sigmoid: {
    fwd(x, y) {
      for (let i = 0; i < x.length; ++i) y[i] = 1 / (1 + Math.exp(-x[i]));
    },
    bwd(x, y, dy, dx) {
      for (let i = 0; i < x.length; ++i) dx[i] = dy[i] * y[i] * (1 - y[i]);
    },
  },
  tanh: {
    fwd(x, y) {
      for (let i = 0; i < x.length; ++i) y[i] = Math.tanh(x[i]);
    },
    bwd(x, y, dy, dx) {
      for (let i = 0; i < x.length; ++i) dx[i] = dy[i] * (1 - y[i] * y[i]);
    },
  },
  gelu_tanh: {
    fwd(x, y) {
      for (let i = 0; i < x.length; ++i) {
        const v = x[i];
        y[i] = 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
      }
    },
    bwd(x, y, dy, dx) {
      for (let i = 0; i < x.length; ++i) {
        const v = x[i];
        const t = Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v));
        const du = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * v * v);
        dx[i] = dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du);
      }
    },
  },
  relu: {
    fwd(x, y) {
      for (let i = 0; i < x.length; ++i) y[i] = x[i] > 0 ? x[i] : 0;
    },
    bwd(x, y, dy, dx) {
      for (let i = 0; i < x.length; ++i) dx[i] = x[i] > 0 ? dy[i] : 0;
    },
  },
  softmax: {
    fwd(x, y, rows, cols) {
      for (let r = 0, o = 0; r < rows; ++r, o += cols) {
        let m = -Infinity;
        for (let j = 0; j < cols; ++j) m = Math.max(m, x[o + j]);
        let s = 0;
        for (let j = 0; j < cols; ++j) s += y[o + j] = Math.exp(x[o + j] - m);
        const inv = 1 / s;
        for (let j = 0; j < cols; ++j) y[o + j] *= inv;
      }
    },
    bwd(x, y, dy, dx, rows, cols) {
      for (let r = 0, o = 0; r < rows; ++r, o += cols) {
        let dot = 0;
        for (let j = 0; j < cols; ++j) dot += dy[o + j] * y[o + j];
        for (let j = 0; j < cols; ++j) dx[o + j] = y[o + j] * (dy[o + j] - dot);
      }
    },
  },
  log_softmax: {
    fwd(x, y, rows, cols) {
      for (let r = 0, o = 0; r < rows; ++r, o += cols) {
        let m = -Infinity;
        for (let j = 0; j < cols; ++j) m = Math.max(m, x[o + j]);
        let s = 0;
        for (let j = 0; j < cols; ++j) s += Math.exp(x[o + j] - m);
        const lse = m + Math.log(s);
        for (let j = 0; j < cols; ++j) y[o + j] = x[o + j] - lse;
      }
    },
    bwd(x, y, dy, dx, rows, cols) {
      for (let r = 0, o = 0; r < rows; ++r, o += cols) {
        let s = 0;
        for (let j = 0; j < cols; ++j) s += dy[o + j];
        for (let j = 0; j < cols; ++j) dx[o + j] = dy[o + j] - Math.exp(y[o + j]) * s;
      }
    },
  },
};

// ---- training: a TF-Playground-style network --------------------------------------

// As tensorflow/playground's Activations: der takes the total input and
// recomputes what it needs (its tanh' calls Math.tanh again); the output
// node of a regression is LINEAR, whose der is a call returning 1.
const ACTIVATIONS = {
  tanh: {
    f: (x) => Math.tanh(x),
    df: (x) => {
      const t = Math.tanh(x);
      return 1 - t * t;
    },
  },
  relu: { f: (x) => Math.max(0, x), df: (x) => (x <= 0 ? 0 : 1) },
  linear: { f: (x) => x, df: () => 1 },
};

/**
 * A multilayer perceptron as tensorflow/playground's nn.ts builds and trains
 * one (forwardProp, backProp, updateWeights): an object per neuron and per
 * link, forward and backward one example at a time, derivatives accumulated
 * with their counts, then the update divided by the count (the batch's mean),
 * with nn.ts's dead-link checks and regularization step (none here: its
 * derivative is 0). Hidden layers use `activation`, the output is LINEAR.
 * The error is dlmath's mse, (out - y)^2 with derivative 2 (out - y)
 * (Playground's SQUARE is half of it: the same work), so that the losses
 * agree with dlmath's.
 */
export class PlaygroundNet {
  /**
   * @param layers - [{weight: {shape: [out, in], data}, bias: {data}}] per linear layer
   * @param activation - 'tanh' or 'relu'
   * @param lr - SGD learning rate
   */
  constructor(layers, activation, lr) {
    this.lr = lr;
    this.regularizationRate = 0;
    const inputs = layers[0].weight.shape[1];
    this.inputs = Array.from({ length: inputs }, () => ({ output: 0, outputs: [] }));
    let previous = this.inputs;
    this.layers = layers.map(({ weight, bias }, l) => {
      const [out, inp] = weight.shape;
      const nodes = Array.from({ length: out }, (_, j) => {
        const node = {
          bias: bias.data[j],
          inputLinks: [],
          outputs: [],
          totalInput: 0,
          output: 0,
          outputDer: 0,
          inputDer: 0,
          accInputDer: 0,
          numAccumulatedDers: 0,
          activation: ACTIVATIONS[l === layers.length - 1 ? 'linear' : activation],
        };
        for (let i = 0; i < inp; ++i) {
          const link = {
            source: previous[i],
            dest: node,
            weight: weight.data[j * inp + i],
            isDead: false,
            errorDer: 0,
            accErrorDer: 0,
            numAccumulatedDers: 0,
            regularization: null,
          };
          node.inputLinks.push(link);
          previous[i].outputs.push(link);
        }
        return node;
      });
      previous = nodes;
      return nodes;
    });
  }

  /**
   * One SGD step on a batch: forwardProp and backProp per example, then
   * updateWeights, as Playground's oneStep does per batch.
   * @param x - [batch, inputs] row-major
   * @param y - [batch] targets
   * @param batch - rows
   * @returns the batch's mean squared error before the update
   */
  step(x, y, batch) {
    let loss = 0;
    const n = this.inputs.length;
    const layers = this.layers;
    const out = layers[layers.length - 1][0];
    for (let r = 0; r < batch; ++r) {
      // forwardProp
      for (let i = 0; i < n; ++i) this.inputs[i].output = x[r * n + i];
      for (const layer of layers)
        for (const node of layer) {
          node.totalInput = node.bias;
          for (const link of node.inputLinks) node.totalInput += link.weight * link.source.output;
          node.output = node.activation.f(node.totalInput);
        }
      const err = out.output - y[r];
      loss += err * err;
      // backProp
      out.outputDer = 2 * err;
      for (let l = layers.length - 1; l >= 0; --l) {
        const layer = layers[l];
        for (const node of layer) {
          node.inputDer = node.outputDer * node.activation.df(node.totalInput);
          node.accInputDer += node.inputDer;
          node.numAccumulatedDers++;
        }
        for (const node of layer)
          for (const link of node.inputLinks) {
            if (link.isDead) continue;
            link.errorDer = node.inputDer * link.source.output;
            link.accErrorDer += link.errorDer;
            link.numAccumulatedDers++;
          }
        if (l === 0) continue;
        for (const node of layers[l - 1]) {
          node.outputDer = 0;
          for (const output of node.outputs) node.outputDer += output.weight * output.dest.inputDer;
        }
      }
    }
    // updateWeights
    const lr = this.lr;
    for (const layer of layers)
      for (const node of layer) {
        if (node.numAccumulatedDers > 0) {
          node.bias -= (lr * node.accInputDer) / node.numAccumulatedDers;
          node.accInputDer = 0;
          node.numAccumulatedDers = 0;
        }
        for (const link of node.inputLinks) {
          if (link.isDead) continue;
          const regulDer = link.regularization ? link.regularization.der(link.weight) : 0;
          if (link.numAccumulatedDers > 0) {
            link.weight = link.weight - (lr / link.numAccumulatedDers) * link.accErrorDer;
            const newLinkWeight = link.weight - lr * this.regularizationRate * regulDer;
            if (link.regularization === 'L1' && link.weight * newLinkWeight < 0) {
              link.weight = 0;
              link.isDead = true;
            } else {
              link.weight = newLinkWeight;
            }
            link.accErrorDer = 0;
            link.numAccumulatedDers = 0;
          }
        }
      }
    return loss / batch;
  }
}
