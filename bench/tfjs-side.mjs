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

// dlmath id -> TF.js peer. `f(x, p, t)` computes the op on tensor x (the
// first input) with dlmath's param values p (registry defaults, by name); t
// holds every input tensor by dlmath input name. Ids not listed have no
// TF.js peer and show "—". bench/run.mjs checks every peer's values (and
// gradient) against dlmath and flags any mismatch.
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
  const op = (t) => peer.f(t[names[0]], params, t);
  const upload = () => Object.fromEntries(inputs.map((i) => [i.name, tf.tensor(i.data, i.shape, 'float32')]));
  const disposeAll = (t) => Object.values(t).forEach((v) => v.dispose());
  const resident = upload();
  const backend = tf.backend();
  // Reads the output through the backend's heap view (no copy): proves the
  // values exist without paying dataSync's copy, which is not a view in the
  // wasm backend (readSync slices HEAPU8). The kernels run synchronously
  // inside the op call anyway.
  const touch = (t) =>
    typeof backend.typedArrayFromHeap === 'function' ? backend.typedArrayFromHeap(t)[0] : t.dataSync()[0];

  let dy = null;
  const c = {
    name: peer.name,
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
      dy?.dispose();
    },
  };
  if (wantGrad) {
    // tf.grads(f)(inputs, dy): the vector-Jacobian product with upstream dy
    // (ones, resident), as dlmath's grad, with respect to every input (dlmath
    // returns them all too); no sum() in the graph. Returns dL/d(first input).
    const g = tf.grads((...ts) => op(Object.fromEntries(names.map((n, k) => [n, ts[k]]))));
    dy = tf.tidy(() => tf.onesLike(op(resident)));
    const run = (t) => {
      const grads = tf.tidy(() =>
        g(
          names.map((n) => t[n]),
          dy,
        ),
      );
      grads.slice(1).forEach((d) => d.dispose());
      return grads[0];
    };
    c.fbKernel = () => {
      const dx = run(resident);
      touch(dx);
      dx.dispose();
    };
    c.fbTransfer = () => {
      const t = upload();
      const dx = run(t);
      const out = dx.dataSync();
      disposeAll(t);
      dx.dispose();
      return out;
    };
  }
  return c;
}
