// TensorFlow.js column of the GPT benchmark (bench/gpt.mjs): the same network
// as dlmath's gptSpec and PyTorch's fixture, written from tfjs-core 4.22
// primitives and trained on its wasm backend (SIMD, one thread). Bundled by
// bench/tfjs-bundle.mjs.
//
// What TF.js core lacks, written here by hand:
//   - embedding: a one-hot matMul ([B·T, V] × [V, C]), not tf.gather: the
//     gradient of gather (unsortedSegmentSum) has no wasm kernel in 4.22;
//   - layer norm from mean / sub / rsqrt, GELU (tanh form) from tanh;
//   - AdamW: Adam's moments by hand with decoupled weight decay on matrices
//     (tf.train.adam has no decay), clipping by global norm, warmup + cosine.
// Causal and key-padding masks are one additive [B, 1, T, T] constant.
import * as tf from '@tensorflow/tfjs-core';

export { initTf, numTensors } from './tfjs-side.mjs';

const EPS = 1e-5; // layer norm
const GELU_C = Math.sqrt(2 / Math.PI);

function layerNorm(x, weight, bias) {
  const mean = tf.mean(x, -1, true);
  const d = tf.sub(x, mean);
  const variance = tf.mean(tf.square(d), -1, true);
  return tf.add(tf.mul(tf.mul(d, tf.rsqrt(tf.add(variance, EPS))), weight), bias);
}

function geluTanh(x) {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), GELU_C);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

// x [N, in] times PyTorch's weight [out, in], plus bias.
const linear = (x, w, b) => (b ? tf.add(tf.matMul(x, w, false, true), b) : tf.matMul(x, w, false, true));

// The registry's warmup_cosine at step t (0-based), as dlmath and the PyTorch
// fixture (tests/fixtures/train_torch.py) apply it.
function warmupCosine(t, lr, warmup, total, final) {
  if (t < warmup) return (lr * t) / warmup;
  const frac = Math.min(1, (t - warmup) / Math.max(1, total - warmup));
  return final + 0.5 * (lr - final) * (1 + Math.cos(Math.PI * frac));
}

/**
 * A GPT trainer on one resident batch.
 * @param c - vocab, block, dim, layers, heads, hidden, lr, beta1, beta2, weightDecay, warmup, steps,
 *   finalLr (absolute), clip, pad (the start/pad token)
 * @param weights - initial parameters by dlmath's names ({shape, data}), e.g. dlmath's stateDict()
 * @param x - tokens [B·T] (Float32Array), y - target tokens [B·T]
 * @returns step() (the loss of one training step), dispose()
 */
export function gptTrainer(c, weights, x, y) {
  const { vocab: V, block: T, dim: C, heads: H } = c;
  const B = x.length / T;
  const D = C / H;
  const vars = {};
  for (const [name, t] of Object.entries(weights))
    if (!name.endsWith('.pe')) vars[name] = tf.variable(tf.tensor(t.data, t.shape), true, name);
  const names = Object.keys(vars);
  const m = names.map((n) => tf.variable(tf.zerosLike(vars[n]), false));
  const v = names.map((n) => tf.variable(tf.zerosLike(vars[n]), false));
  const decays = names.map((n) => vars[n].shape.length >= 2);

  const ids = Int32Array.from(x);
  const onehotX = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(ids, 'int32'), V), 'float32'));
  const onehotY = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(y), 'int32'), V), 'float32'));
  // 0 where a query may see a key, -1e9 where not: keys after the query, and
  // pad tokens after position 0.
  const maskData = new Float32Array(B * T * T);
  for (let b = 0; b < B; ++b)
    for (let i = 0; i < T; ++i)
      for (let j = 0; j < T; ++j)
        if (j > i || (j > 0 && ids[b * T + j] === c.pad)) maskData[(b * T + i) * T + j] = -1e9;
  const mask = tf.tensor(maskData, [B, 1, T, T]);

  const p = (name) => vars[name];
  function loss() {
    const wte = p('layers.0.weight');
    let h = tf.add(tf.reshape(tf.matMul(onehotX, wte), [B, T, C]), p('layers.1.weight'));
    for (let l = 0; l < c.layers; ++l) {
      const ap = `layers.${2 + 2 * l}.layers`;
      const a = tf.reshape(layerNorm(h, p(`${ap}.0.weight`), p(`${ap}.0.bias`)), [B * T, C]);
      const qkv = linear(a, p(`${ap}.1.in_proj_weight`), p(`${ap}.1.in_proj_bias`));
      const heads = (k) => tf.transpose(tf.reshape(tf.slice(qkv, [0, k * C], [B * T, C]), [B, T, H, D]), [0, 2, 1, 3]);
      const scores = tf.add(tf.mul(tf.matMul(heads(0), heads(1), false, true), 1 / Math.sqrt(D)), mask);
      const att = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), heads(2)), [0, 2, 1, 3]), [B * T, C]);
      const o = linear(att, p(`${ap}.1.out_proj.weight`), p(`${ap}.1.out_proj.bias`));
      h = tf.add(h, tf.reshape(o, [B, T, C]));
      const mp = `layers.${3 + 2 * l}.layers`;
      const n = tf.reshape(layerNorm(h, p(`${mp}.0.weight`), p(`${mp}.0.bias`)), [B * T, C]);
      const u = geluTanh(linear(n, p(`${mp}.1.weight`), p(`${mp}.1.bias`)));
      h = tf.add(h, tf.reshape(linear(u, p(`${mp}.3.weight`), p(`${mp}.3.bias`)), [B, T, C]));
    }
    const f = `layers.${2 + 2 * c.layers}`;
    const out = tf.reshape(layerNorm(h, p(`${f}.weight`), p(`${f}.bias`)), [B * T, C]);
    const logits = tf.matMul(out, wte, false, true); // tied head
    return tf.neg(tf.mean(tf.sum(tf.mul(onehotY, tf.logSoftmax(logits)), -1)));
  }

  let t = 0;
  function step() {
    const lr = warmupCosine(t, c.lr, c.warmup, c.steps, c.finalLr);
    ++t;
    const value = tf.tidy(() => {
      const { value: l, grads } = tf.variableGrads(
        loss,
        names.map((n) => vars[n]),
      );
      const g = names.map((n) => grads[n]);
      const norm = tf.sqrt(tf.addN(g.map((x) => tf.sum(tf.square(x)))));
      const scale = tf.minimum(tf.div(c.clip, tf.add(norm, 1e-6)), 1);
      const c1 = 1 - c.beta1 ** t;
      const c2 = 1 - c.beta2 ** t;
      names.forEach((n, i) => {
        const gi = tf.mul(g[i], scale);
        m[i].assign(tf.add(tf.mul(m[i], c.beta1), tf.mul(gi, 1 - c.beta1)));
        v[i].assign(tf.add(tf.mul(v[i], c.beta2), tf.mul(tf.square(gi), 1 - c.beta2)));
        const update = tf.div(tf.div(m[i], c1), tf.add(tf.sqrt(tf.div(v[i], c2)), 1e-8));
        const w = decays[i] ? tf.mul(vars[n], 1 - lr * c.weightDecay) : vars[n];
        vars[n].assign(tf.sub(w, tf.mul(update, lr)));
      });
      return l;
    });
    const r = value.dataSync()[0];
    value.dispose();
    return r;
  }

  function dispose() {
    tf.dispose([...Object.values(vars), ...m, ...v, onehotX, onehotY, mask]);
  }
  return { step, dispose };
}
