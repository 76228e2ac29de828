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
