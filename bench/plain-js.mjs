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

const ACTIVATIONS = {
  tanh: { f: Math.tanh, df: (x, y) => 1 - y * y },
  relu: { f: (x) => (x > 0 ? x : 0), df: (x) => (x > 0 ? 1 : 0) },
};

/**
 * A multilayer perceptron as tensorflow/playground's nn.ts builds one: an
 * object per neuron and per link, forward and backward one example at a
 * time, gradients accumulated over the batch, then an SGD update. Hidden
 * layers use `activation`, the output is linear; the loss is dlmath's mse
 * (mean over the batch of (out - y)^2, one output).
 */
export class PlaygroundNet {
  /**
   * @param layers - [{weight: {shape: [out, in], data}, bias: {data}}] per linear layer
   * @param activation - 'tanh' or 'relu'
   * @param lr - SGD learning rate
   */
  constructor(layers, activation, lr) {
    this.act = ACTIVATIONS[activation];
    this.lr = lr;
    const inputs = layers[0].weight.shape[1];
    this.inputs = Array.from({ length: inputs }, () => ({ output: 0, outputs: [] }));
    let previous = this.inputs;
    this.layers = layers.map(({ weight, bias }, l) => {
      const [out, inp] = weight.shape;
      const nodes = Array.from({ length: out }, (_, j) => {
        const node = {
          bias: bias.data[j],
          links: [],
          outputs: [],
          total: 0,
          output: 0,
          outputDer: 0,
          inputDer: 0,
          accInputDer: 0,
          linear: l === layers.length - 1,
        };
        for (let i = 0; i < inp; ++i) {
          const link = { source: previous[i], dest: node, weight: weight.data[j * inp + i], accErrorDer: 0 };
          node.links.push(link);
          previous[i].outputs.push(link);
        }
        return node;
      });
      previous = nodes;
      return nodes;
    });
  }

  /**
   * One SGD step on a batch.
   * @param x - [batch, inputs] row-major
   * @param y - [batch] targets
   * @param batch - rows
   * @returns the batch's mean squared error before the update
   */
  step(x, y, batch) {
    let loss = 0;
    const n = this.inputs.length;
    const out = this.layers[this.layers.length - 1][0];
    for (let r = 0; r < batch; ++r) {
      for (let i = 0; i < n; ++i) this.inputs[i].output = x[r * n + i];
      for (const layer of this.layers)
        for (const node of layer) {
          let total = node.bias;
          for (const link of node.links) total += link.weight * link.source.output;
          node.total = total;
          node.output = node.linear ? total : this.act.f(total);
        }
      const err = out.output - y[r];
      loss += err * err;
      out.outputDer = (2 * err) / batch;
      for (let l = this.layers.length - 1; l >= 0; --l) {
        for (const node of this.layers[l]) {
          node.inputDer = node.linear ? node.outputDer : node.outputDer * this.act.df(node.total, node.output);
          node.accInputDer += node.inputDer;
          for (const link of node.links) link.accErrorDer += node.inputDer * link.source.output;
        }
        if (l === 0) break;
        for (const node of this.layers[l - 1]) {
          let der = 0;
          for (const link of node.outputs) der += link.weight * link.dest.inputDer;
          node.outputDer = der;
        }
      }
    }
    for (const layer of this.layers)
      for (const node of layer) {
        node.bias -= this.lr * node.accInputDer;
        node.accInputDer = 0;
        for (const link of node.links) {
          link.weight -= this.lr * link.accErrorDer;
          link.accErrorDer = 0;
        }
      }
    return loss / batch;
  }
}
