// TensorFlow.js side of `npm run bench`. Bundled by bench/run.mjs with
// esbuild into build/bench/tfjs.bundle.mjs (tfjs-core's gradient
// registrations are extension-less ESM that Node cannot import directly),
// then imported by run.mjs, which owns the timing loop.
//
// Backend: @tensorflow/tfjs-backend-wasm, single-threaded, SIMD on. Under
// Node tfjs reports no multithread support, so it loads the non-threaded
// SIMD binary; we also ask for one thread explicitly.
import * as tf from '@tensorflow/tfjs-core';
// Not part of tfjs-core's entry point: the union package @tensorflow/tfjs
// imports it. The bundler must resolve the ESM builds ("module") of both
// packages so that this and the backend share one engine/kernel registry.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';

/** Picks the first param present under any of `names`, else `def`. */
function pick(p, names, def) {
  for (const n of names) if (p[n] !== undefined) return p[n];
  return def;
}

// dlmath id -> TF.js peer. `f(x, p, t, a)` computes the op on tensor x (the
// first input) with dlmath's param values p (registry defaults, by name); t
// holds every input tensor by dlmath input name, a the same in registry
// order. Optional:
//   consts(inputs) -> {name: tensor}: tensors made once beforehand (never
//     timed, never uploaded by "+transfer") that replace those dlmath inputs
//     in t, e.g. one-hot labels for class-index targets.
//   wrt: the inputs tf.grads differentiates (default: dlmath's
//     differentiable inputs).
// Ids not listed have no TF.js peer and show "—". bench/run.mjs checks
// every peer's values (and every gradient) against dlmath and flags any
// mismatch.
const PEERS = [
  { ids: ['sigmoid'], name: 'sigmoid', f: (x) => tf.sigmoid(x) },
  { ids: ['tanh'], name: 'tanh', f: (x) => tf.tanh(x) },
  { ids: ['relu'], name: 'relu', f: (x) => tf.relu(x) },
  { ids: ['relu6'], name: 'relu6', f: (x) => tf.relu6(x) },
  {
    ids: ['leaky_relu', 'leakyrelu'],
    name: 'leakyRelu',
    f: (x, p) => tf.leakyRelu(x, pick(p, ['alpha', 'negative_slope', 'slope'], 0.01)),
  },
  // dlmath's weight is per channel = dimension 1; x is [N, C], so that is
  // the last dimension, which is where tf.prelu broadcasts alpha.
  { ids: ['prelu'], name: 'prelu', f: (x, p, t) => tf.prelu(x, t.weight ?? t.alpha ?? tf.scalar(0.25)) },
  { ids: ['elu'], name: 'elu', f: (x) => tf.elu(x) }, // TF.js: alpha fixed at 1
  { ids: ['selu'], name: 'selu', f: (x) => tf.selu(x) },
  { ids: ['softplus'], name: 'softplus', f: (x) => tf.softplus(x) },
  { ids: ['log_sigmoid', 'logsigmoid'], name: 'logSigmoid', f: (x) => tf.logSigmoid(x) },
  { ids: ['step', 'heaviside', 'binary_step'], name: 'step', f: (x) => tf.step(x, 0) },
  { ids: ['erf'], name: 'erf', f: (x) => tf.erf(x) },
  { ids: ['abs'], name: 'abs', f: (x) => tf.abs(x) },
  {
    ids: ['hardtanh', 'hard_tanh'],
    name: 'clipByValue',
    f: (x, p) => tf.clipByValue(x, pick(p, ['min_val', 'min', 'lo'], -1), pick(p, ['max_val', 'max', 'hi'], 1)),
  },
  { ids: ['softmax'], name: 'softmax', f: (x) => tf.softmax(x, -1) },
  { ids: ['log_softmax', 'logsoftmax'], name: 'logSoftmax', f: (x) => tf.logSoftmax(x, -1) },
  // dlmath cross_entropy with class-index targets, reduction 'mean': TF.js's
  // softmax cross-entropy on one-hot labels (made beforehand, not timed);
  // its default reduction SUM_BY_NONZERO_WEIGHTS without weights is the
  // mean over rows. Gradient with respect to the logits only.
  {
    ids: ['cross_entropy'],
    name: 'losses.softmaxCrossEntropy',
    consts: (inputs) => {
      const target = inputs.find((i) => i.name === 'target');
      const logits = inputs[0];
      if (!target || target.shape.length !== 1) throw new Error('expects class-index targets [N]');
      const classes = logits.shape[logits.shape.length - 1];
      return {
        // int32 one-hot, then cast: the wasm backend's OneHot kernel writes
        // int32 values even when asked for dtype float32 (4.22).
        target: tf.tidy(() =>
          tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(target.data), 'int32'), classes), 'float32'),
        ),
      };
    },
    wrt: ['input'],
    f: (x, p, t) => {
      if ((p.reduction ?? 0) !== 0) throw new Error('only reduction mean has a peer here');
      return tf.losses.softmaxCrossEntropy(t.target, x, undefined, p.label_smoothing ?? 0);
    },
  },
  // tfjs-layers' LayerNormalization math in tfjs-core ops, over the last axis.
  {
    ids: ['layer_norm'],
    name: 'moments+rsqrt',
    f: (x, p, t) => {
      const { mean, variance } = tf.moments(x, -1, true);
      let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, p.eps ?? 1e-5)));
      if (t.weight) y = tf.mul(y, t.weight);
      if (t.bias) y = tf.add(y, t.bias);
      return y;
    },
  },
  // softmax(q k^T * scale) v; the scale is 1/sqrt(d) unless dlmath's
  // registry default says otherwise (a positive 'scale' param).
  {
    ids: ['scaled_dot_product_attention'],
    name: 'matMul+softmax+matMul',
    f: (q, p, t, a) => {
      if (p.is_causal || p.causal) throw new Error('causal default: no peer here');
      const [, k, v] = a;
      const d = q.shape[q.shape.length - 1];
      const scale = p.scale > 0 ? p.scale : 1 / Math.sqrt(d);
      return tf.matMul(tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale), -1), v);
    },
  },
  // tfjs-core 4.22 has no gelu, silu/swish, mish, softsign, hardswish, ...
];
const byId = new Map(PEERS.flatMap((p) => p.ids.map((id) => [id, p])));

/** The TF.js op name that stands in for a dlmath id, or undefined. */
export function peerName(id) {
  return byId.get(id)?.name;
}

/**
 * Initializes the wasm backend: SIMD on, one thread.
 * @param wasmDir - absolute path of node_modules/@tensorflow/tfjs-backend-wasm/dist/
 * @returns what actually ran: versions, binary, threads
 */
export async function initTf(wasmDir) {
  tfwasm.setWasmPaths(wasmDir);
  if (typeof tfwasm.setThreadsCount === 'function') tfwasm.setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  // Same choice as getPathToWasmBinary() in tfjs-backend-wasm/backend_wasm.js.
  const binary =
    simd && threads
      ? 'tfjs-backend-wasm-threaded-simd.wasm'
      : simd
        ? 'tfjs-backend-wasm-simd.wasm'
        : 'tfjs-backend-wasm.wasm';
  return {
    version: tf.version_core,
    wasmVersion: tfwasm.version_wasm,
    backend: tf.getBackend(),
    binary,
    simd,
    threadsCount: typeof tfwasm.getThreadsCount === 'function' ? tfwasm.getThreadsCount() : null,
  };
}

/**
 * Reads a kernel's output through the backend's heap view (no copy): proves
 * the values exist without paying dataSync's copy, which is not a view in the
 * wasm backend (readSync slices HEAPU8). The kernels run synchronously inside
 * the op call anyway.
 * @param t - the output tensor
 */
function touch(t) {
  const backend = tf.backend();
  return typeof backend.typedArrayFromHeap === 'function' ? backend.typedArrayFromHeap(t)[0] : t.dataSync()[0];
}

/** Live tensors, for the leak check. */
export function numTensors() {
  return tf.memory().numTensors;
}

/**
 * Timing closures for one op on TF.js, or null when TF.js has no peer.
 * @param id - dlmath op id
 * @param inputs - [{name, shape, data}] in dlmath's input order (data: Float32Array)
 * @param params - dlmath param values by name (registry defaults)
 * @param wantGrad - also build the gradient closures
 */
export function makeCase(id, inputs, params, wantGrad) {
  const peer = byId.get(id);
  if (!peer) return null;
  const names = inputs.map((i) => i.name);
  const consts = peer.consts ? peer.consts(inputs) : {};
  const wrt = peer.wrt ?? inputs.filter((i) => i.diff).map((i) => i.name);
  for (const n of wrt) if (!names.includes(n) || n in consts) throw new Error(`cannot differentiate '${n}'`);
  const op = (t) => {
    const all = { ...t, ...consts };
    return peer.f(
      all[names[0]],
      params,
      all,
      names.map((n) => all[n]),
    );
  };
  // Only the inputs a TF.js user would upload per call (not the consts).
  const uploaded = inputs.filter((i) => !(i.name in consts));
  const upload = () => Object.fromEntries(uploaded.map((i) => [i.name, tf.tensor(i.data, i.shape, 'float32')]));
  const disposeAll = (t) => Object.values(t).forEach((v) => v.dispose());
  const resident = upload();

  let dy = null;
  const c = {
    name: peer.name,
    wrt,
    fwdKernel() {
      const y = tf.tidy(() => op(resident));
      touch(y);
      y.dispose();
    },
    fwdTransfer() {
      const t = upload();
      const y = tf.tidy(() => op(t));
      const out = y.dataSync();
      disposeAll(t);
      y.dispose();
      return out;
    },
    dispose() {
      disposeAll(resident);
      disposeAll(consts);
      dy?.dispose();
    },
  };
  if (wantGrad) {
    // tf.grads(f)(inputs, dy): the vector-Jacobian product with upstream dy
    // (ones, resident), as dlmath's grad, with respect to every input in
    // `wrt` (dlmath returns them all too); no sum() in the graph. Returns
    // the gradients in `wrt` order.
    dy = tf.tidy(() => tf.onesLike(op(resident)));
    const run = (t) =>
      tf.tidy(() =>
        tf.grads((...ts) => op({ ...t, ...Object.fromEntries(wrt.map((n, k) => [n, ts[k]])) }))(
          wrt.map((n) => t[n]),
          dy,
        ),
      );
    c.fbKernel = () => {
      const grads = run(resident);
      grads.forEach((d) => touch(d));
      grads.forEach((d) => d.dispose());
    };
    // All gradients copied out, as dlmath's dl.grad(id, arrays) returns them:
    // {name: Float32Array}.
    c.fbTransfer = () => {
      const t = upload();
      const grads = run(t);
      const out = Object.fromEntries(wrt.map((n, k) => [n, grads[k].dataSync()]));
      disposeAll(t);
      grads.forEach((d) => d.dispose());
      return out;
    };
  }
  return c;
}

/**
 * A training loop as TF.js users write it: the layers' weights as
 * tf.variable, the forward pass in tfjs-core ops, `optimizer.minimize` once
 * per step on a resident batch.
 * @param job - {layers: [{weight: {shape: [out, in], data}, bias: {data}}],
 *   activation: 'tanh' | 'relu' (hidden layers; the output is linear),
 *   loss: 'mse' | 'cross_entropy' (softmax cross-entropy on class indices),
 *   optimizer: {id: 'sgd' | 'adam', lr}, x: {shape, data}, y: {data, classes}}
 * @returns {step(wantLoss): number | undefined, dispose(), note}
 */
export function makeTrainCase({ layers, activation, loss, optimizer, x, y }) {
  const act = { tanh: tf.tanh, relu: tf.relu }[activation];
  if (!act) throw new Error(`no TF.js peer for activation '${activation}'`);
  const vars = layers.map(({ weight, bias }) => ({
    w: tf.variable(tf.tensor2d(weight.data, weight.shape)),
    b: tf.variable(tf.tensor1d(bias.data)),
  }));
  const xs = tf.tensor2d(x.data, x.shape);
  const ys =
    loss === 'mse'
      ? tf.tensor2d(y.data, [x.shape[0], y.data.length / x.shape[0]])
      : tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(y.data), 'int32'), y.classes), 'float32'));
  const opt =
    optimizer.id === 'sgd'
      ? tf.train.sgd(optimizer.lr)
      : optimizer.id === 'adam'
        ? tf.train.adam(optimizer.lr, 0.9, 0.999, 1e-8)
        : null;
  if (!opt) throw new Error(`no TF.js peer for optimizer '${optimizer.id}'`);
  const forward = () =>
    vars.reduce((h, v, i) => {
      const z = tf.add(tf.matMul(h, v.w, false, true), v.b);
      return i < vars.length - 1 ? act(z) : z;
    }, xs);
  const lossFn =
    loss === 'mse'
      ? () => tf.losses.meanSquaredError(ys, forward())
      : loss === 'cross_entropy'
        ? () => tf.losses.softmaxCrossEntropy(ys, forward())
        : null;
  if (!lossFn) throw new Error(`no TF.js peer for loss '${loss}'`);
  return {
    note:
      '`optimizer.minimize(() => loss(ys, forward(xs)))` with the weights as `tf.variable` ([out, in], `tf.matMul(h, W, false, true)`), ' +
      'x and y resident, `tf.train.sgd(lr)` / `tf.train.adam(lr, 0.9, 0.999, 1e-8)`, `tf.losses.meanSquaredError` / `softmaxCrossEntropy` on one-hot labels made once',
    step(wantLoss) {
      const cost = opt.minimize(lossFn, wantLoss);
      if (!cost) return undefined;
      const v = cost.dataSync()[0];
      cost.dispose();
      return v;
    },
    dispose() {
      for (const v of vars) {
        v.w.dispose();
        v.b.dispose();
      }
      xs.dispose();
      ys.dispose();
      opt.dispose();
    },
  };
}

/**
 * Kernel-only timing of `tf.matMul(a, b, transposeA, transposeB)` on
 * resident tensors (the GEMM rows of bench/gemm.mjs).
 * @param a - {data: Float32Array, shape: [rows, cols]} as stored
 * @param b - the same for the second operand
 * @param transposeA - multiply by the transpose of a
 * @param transposeB - multiply by the transpose of b
 */
export function makeMatMul(a, b, transposeA, transposeB) {
  const ta = tf.tensor(a.data, a.shape, 'float32');
  const tb = tf.tensor(b.data, b.shape, 'float32');
  const product = () => tf.matMul(ta, tb, transposeA, transposeB);
  return {
    kernel() {
      const y = product();
      touch(y);
      y.dispose();
    },
    /** The product, copied out. */
    values() {
      const y = product();
      const v = y.dataSync();
      y.dispose();
      return v;
    },
    dispose() {
      ta.dispose();
      tb.dispose();
    },
  };
}
