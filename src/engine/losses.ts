// Keras losses: value and exact gradient with respect to y_pred. Which loss, and which
// Keras's formulas (the LossFlavor), is decided in loss-config.ts.
//
// Per row (the last axis, C values) a per-sample loss L_r is computed as the
// writer's Keras computes it (docs/losses.md, 'Per-sample formulas'); rows are then reduced with
// sum_over_batch_size: Σ w_r·L_r / N, where w_r is the (B,T) mask for sequence
// outputs and N the number of valid rows (keras/src/losses/loss.py apply_mask:
// weights total/valid, divide_no_nan → 0 when every row is masked).
//
// Gradients are the derivative of the formula Keras evaluates, with TensorFlow's
// gradient conventions at the edges (tensorflow/python/ops/clip_ops.py, math_grad.py):
//   clip_by_value(x, lo, hi)  passes the gradient for lo ≤ x ≤ hi, 0 outside;
//   maximum(x, y)             gives it to x where x ≥ y;  abs'(0) = sign(0) = 0;
//   reduce_max                splits it evenly between tied maxima.
// ε = backend.epsilon() = 1e-7 (keras/src/backend/config.py); for float32 runs the
// clip bounds are the float32 constants TF uses (fround(1e-7), fround(1 − fround(1e-7))),
// which matters for saturated predictions: log(1 − 0.9999999) vs log(1 − 0.99999988).
// Keras note: Keras-TF computes BCE/CCE from the pre-activation when y_pred comes straight
// from a sigmoid/softmax (docs/losses.md, 'Per-sample formulas'); a caller reproducing that passes the
// logits with fromLogits = true. The numpy/jax/torch backends never do this.

import type { LossConfig } from '../model/types.js';
import { DataError, fmtShape } from '../model/errors.js';
import type { Arr, Mask, Tensor } from './tensor.js';
import { alloc, dtypeOf, size } from './tensor.js';
import { sigmoid, softplus } from './activations.js';
import { unknownLoss, type LossFlavor } from './loss-config.js';
import { crfMarginalLoss, crfNll } from './layers/crf.js';

// ---------------------------------------------------------------------------
// Row kernels: L_r for one row of C predictions, and dL_r/dp into g[0..C).

interface Ctx {
  flavor: LossFlavor;
  lo: number; // ε (clip lower bound)
  hi: number; // 1 − ε
  eps: number;
  ls: number; // label smoothing
  hingeConvert: boolean;
  cosCapSq: number; // below this Σx², the l2-normalisation is capped (constant scale)
}

/** p: predictions row at po; t: targets (row at to, or the class id at to for sparse). */
type RowLoss = (c: Ctx, p: Arr, po: number, t: Arr, to: number, C: number, g: Float64Array) => number;

const LN2 = Math.LN2;
const sgn = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : 0);

// Elementwise losses, averaged over the row. Each returns the element's value and leaves
// its derivative in D (a module slot rather than a returned pair: no allocation per element).
let D = 0;
type Elem = (c: Ctx, x: number, y: number) => number;
function meanOf(f: Elem): RowLoss {
  return (c, p, po, t, to, C, g) => {
    let s = 0;
    for (let j = 0; j < C; j++) {
      s += f(c, p[po + j], t[to + j]);
      g[j] = D / C;
    }
    return s / C;
  };
}

const mse = meanOf((_c, x, y) => {
  const d = x - y;
  D = 2 * d;
  return d * d;
});
const mae = meanOf((_c, x, y) => {
  D = sgn(x - y);
  return Math.abs(x - y);
});
// 100·|y − x| / max(|y|, ε)
const mape = meanOf((c, x, y) => {
  const m = Math.max(Math.abs(y), c.eps);
  D = (100 * sgn(x - y)) / m;
  return (100 * Math.abs(x - y)) / m;
});
// (log(max(x, ε) + 1) − log(max(y, ε) + 1))²
const msle = meanOf((c, x, y) => {
  const xm = Math.max(x, c.eps);
  const d = Math.log(xm + 1) - Math.log(Math.max(y, c.eps) + 1);
  D = x >= c.eps ? (2 * d) / (xm + 1) : 0;
  return d * d;
});
const huber = meanOf((_c, x, y) => {
  const e = x - y;
  const a = Math.abs(e);
  D = a <= 1 ? e : sgn(e);
  return a <= 1 ? 0.5 * e * e : a - 0.5;
});
// Keras: x + softplus(−2x) − log 2; d/dx = 1 − 2σ(−2x) = tanh x.
const logCosh = meanOf((_c, x, y) => {
  const e = x - y;
  D = Math.tanh(e);
  return e + softplus(-2 * e) - LN2;
});
const poisson = meanOf((c, x, y) => {
  D = 1 - y / (x + c.eps);
  return x - y * Math.log(x + c.eps);
});
// max(1 − y·x, 0); TF's maximum gives the gradient to 1 − y·x at the tie.
const hinge = meanOf((c, x, y0) => {
  const y = c.hingeConvert ? 2 * y0 - 1 : y0;
  const m = 1 - y * x;
  D = m >= 0 ? -y : 0;
  return Math.max(m, 0);
});
const squaredHinge = meanOf((c, x, y0) => {
  const y = c.hingeConvert ? 2 * y0 - 1 : y0;
  const h = Math.max(1 - y * x, 0);
  D = -2 * y * h;
  return h * h;
});

const bce = meanOf((c, x, y0) => {
  const y = y0 * (1 - c.ls) + 0.5 * c.ls;
  const pc = Math.min(Math.max(x, c.lo), c.hi);
  const inside = x >= c.lo && x <= c.hi;
  if (c.flavor === 'tf.keras') {
    // tf_keras/backend.py binary_crossentropy adds ε again inside both logs.
    D = inside ? -(y / (pc + c.eps) - (1 - y) / (1 - pc + c.eps)) : 0;
    return -(y * Math.log(pc + c.eps) + (1 - y) * Math.log(1 - pc + c.eps));
  }
  D = inside ? (pc - y) / (pc * (1 - pc)) : 0;
  if (c.flavor === 'keras3') return -(y * Math.log(pc) + (1 - y) * Math.log(1 - pc));
  // Keras 1/2 and TF.js: back to logits, log(p'/(1 − p')), then sigmoid cross-entropy.
  const z = Math.log(pc / (1 - pc));
  return Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
});
// tf.nn.sigmoid_cross_entropy_with_logits: max(x,0) − x·y + log(1 + e^{−|x|}); gradient σ(x) − y.
const bceLogits = meanOf((c, x, y0) => {
  const y = y0 * (1 - c.ls) + 0.5 * c.ls;
  D = sigmoid(x) - y;
  return Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
});

/** −Σ y·log clip(q) for q given in g (overwritten by dL/dq); returns the loss. `t` null → one-hot of class k. */
function clippedXent(
  c: Ctx,
  q: Float64Array,
  t: Arr | null,
  to: number,
  k: number,
  C: number,
  smooth: boolean,
): number {
  let s = 0;
  for (let j = 0; j < C; j++) {
    let y = t === null ? (j === k ? 1 : 0) : t[to + j];
    if (smooth) y = y * (1 - c.ls) + c.ls / C;
    const qc = Math.min(Math.max(q[j], c.lo), c.hi);
    if (y !== 0) s -= y * Math.log(qc);
    q[j] = q[j] >= c.lo && q[j] <= c.hi ? -y / qc : 0;
  }
  return s;
}

/** Backprop dL/dq (in g) through q = v/Σv (into g), v = the row at p[po..]. */
function normaliseBack(p: Arr, po: number, C: number, g: Float64Array, sum: number): void {
  let dot = 0;
  for (let j = 0; j < C; j++) dot += g[j] * p[po + j];
  const qdot = dot / sum;
  for (let j = 0; j < C; j++) g[j] = (g[j] - qdot) / sum;
}

/** Softmax of a row into g; returns log Σ exp. */
function softmaxInto(p: Arr, po: number, C: number, g: Float64Array): number {
  let m = -Infinity;
  for (let j = 0; j < C; j++) if (p[po + j] > m) m = p[po + j];
  let s = 0;
  for (let j = 0; j < C; j++) {
    g[j] = Math.exp(p[po + j] - m);
    s += g[j];
  }
  for (let j = 0; j < C; j++) g[j] /= s;
  return m + Math.log(s);
}

/** dL/dq in g → dL/dx for q = softmax(x); q recomputed in scratch. */
function softmaxBack(p: Arr, po: number, C: number, g: Float64Array, q: Float64Array): void {
  softmaxInto(p, po, C, q);
  let dot = 0;
  for (let j = 0; j < C; j++) dot += g[j] * q[j];
  for (let j = 0; j < C; j++) g[j] = q[j] * (g[j] - dot);
}

// Row scratch buffers, grown on demand and reused (no allocation per row).
let scratchA = new Float64Array(16);
let scratchB = new Float64Array(16);
function scratchOf(C: number, second = false): Float64Array {
  if (scratchA.length < C) {
    scratchA = new Float64Array(C);
    scratchB = new Float64Array(C);
  }
  return second ? scratchB : scratchA;
}

const cce: RowLoss = (c, p, po, t, to, C, g) => {
  let sum = 0;
  for (let j = 0; j < C; j++) sum += p[po + j];
  for (let j = 0; j < C; j++) g[j] = p[po + j] / sum;
  const L = clippedXent(c, g, t, to, -1, C, true);
  normaliseBack(p, po, C, g, sum);
  return L;
};
const cceLogits: RowLoss = (c, p, po, t, to, C, g) => {
  if (c.flavor === 'tfjs') {
    // tfjs categoricalCrossentropy(fromLogits): softmax, then clip, then −Σ y·log.
    softmaxInto(p, po, C, g);
    const L = clippedXent(c, g, t, to, -1, C, true);
    softmaxBack(p, po, C, g, scratchOf(C, true));
    return L;
  }
  // −Σ y·log_softmax(x); d/dx = softmax·Σy − y. Keras note: TF's kernel returns softmax − y,
  // identical when the (smoothed) labels sum to 1.
  const lse = softmaxInto(p, po, C, g);
  let L = 0;
  let ysum = 0;
  for (let j = 0; j < C; j++) {
    const y = t[to + j] * (1 - c.ls) + c.ls / C;
    ysum += y;
    L += y * (lse - p[po + j]);
  }
  for (let j = 0; j < C; j++) g[j] = g[j] * ysum - (t[to + j] * (1 - c.ls) + c.ls / C);
  return L;
};
const sparse =
  (fromLogits: boolean): RowLoss =>
  (c, p, po, t, to, C, g) => {
    const k = t[to];
    if (c.flavor === 'tfjs') {
      // tfjs sparseCategoricalCrossentropy: clip (even logits), one-hot, then categoricalCrossentropy.
      const v = scratchOf(C);
      for (let j = 0; j < C; j++) v[j] = Math.min(Math.max(p[po + j], c.lo), c.hi);
      let L: number;
      if (fromLogits) {
        softmaxInto(v, 0, C, g);
        L = clippedXent(c, g, null, 0, k, C, false);
        softmaxBack(v, 0, C, g, scratchOf(C, true));
      } else {
        let sum = 0;
        for (let j = 0; j < C; j++) sum += v[j];
        for (let j = 0; j < C; j++) g[j] = v[j] / sum;
        L = clippedXent(c, g, null, 0, k, C, false);
        normaliseBack(v, 0, C, g, sum);
      }
      for (let j = 0; j < C; j++) if (p[po + j] < c.lo || p[po + j] > c.hi) g[j] = 0;
      return L;
    }
    if (fromLogits) {
      const lse = softmaxInto(p, po, C, g);
      g[k] -= 1;
      return lse - p[po + k];
    }
    // TF: sparse_softmax_cross_entropy_with_logits(log clip(p)) = −log p'_k + log Σ p'_j.
    let sum = 0;
    for (let j = 0; j < C; j++) sum += Math.min(Math.max(p[po + j], c.lo), c.hi);
    const pk = Math.min(Math.max(p[po + k], c.lo), c.hi);
    for (let j = 0; j < C; j++) {
      const x = p[po + j];
      const inside = x >= c.lo && x <= c.hi;
      g[j] = inside ? 1 / sum - (j === k ? 1 / pk : 0) : 0;
    }
    return Math.log(sum) - Math.log(pk);
  };
const kld: RowLoss = (c, p, po, t, to, C, g) => {
  let s = 0;
  for (let j = 0; j < C; j++) {
    const y = Math.min(Math.max(t[to + j], c.lo), 1);
    const x = p[po + j];
    const pc = Math.min(Math.max(x, c.lo), 1);
    s += y * Math.log(y / pc);
    g[j] = x >= c.lo && x <= 1 ? -y / pc : 0;
  }
  return s;
};
// max(neg − pos + 1, 0), pos = Σ y·p, neg = max_j (1 − y_j)·p_j.
const catHinge: RowLoss = (_c, p, po, t, to, C, g) => {
  let pos = 0;
  let neg = -Infinity;
  for (let j = 0; j < C; j++) {
    pos += t[to + j] * p[po + j];
    const v = (1 - t[to + j]) * p[po + j];
    if (v > neg) neg = v;
  }
  let ties = 0;
  for (let j = 0; j < C; j++) if ((1 - t[to + j]) * p[po + j] === neg) ties++;
  const m = neg - pos + 1;
  for (let j = 0; j < C; j++) {
    const isMax = (1 - t[to + j]) * p[po + j] === neg;
    g[j] = m >= 0 ? -t[to + j] + (isMax ? (1 - t[to + j]) / ties : 0) : 0;
  }
  return Math.max(m, 0);
};
// −Σ ŷ·p̂ with x̂ = x·min(1/‖x‖, cap) (Keras 3 normalize) or x/max(‖x‖, √ε) (tf.l2_normalize, tfjs).
const cosine: RowLoss = (c, p, po, t, to, C, g) => {
  let a = 0;
  let b = 0;
  let d = 0;
  for (let j = 0; j < C; j++) {
    a += t[to + j] ** 2;
    b += p[po + j] ** 2;
    d += t[to + j] * p[po + j];
  }
  const ny = a < c.cosCapSq ? 1 / Math.sqrt(c.cosCapSq) : 1 / Math.sqrt(a);
  const capped = b < c.cosCapSq;
  const np = capped ? 1 / Math.sqrt(c.cosCapSq) : 1 / Math.sqrt(b);
  for (let j = 0; j < C; j++) g[j] = -ny * np * (t[to + j] - (capped ? 0 : d * np * np * p[po + j]));
  return -ny * np * d;
};

function rowLoss(name: string, fromLogits: boolean): RowLoss {
  switch (name) {
    case 'mse':
      return mse;
    case 'mae':
      return mae;
    case 'mape':
      return mape;
    case 'msle':
      return msle;
    case 'huber':
      return huber;
    case 'log_cosh':
      return logCosh;
    case 'binary_crossentropy':
      return fromLogits ? bceLogits : bce;
    case 'categorical_crossentropy':
      return fromLogits ? cceLogits : cce;
    case 'sparse_categorical_crossentropy':
      return sparse(fromLogits);
    case 'kl_divergence':
      return kld;
    case 'poisson':
      return poisson;
    case 'hinge':
      return hinge;
    case 'squared_hinge':
      return squaredHinge;
    case 'categorical_hinge':
      return catHinge;
    case 'cosine_similarity':
      return cosine;
  }
  throw unknownLoss(`'${name}'`);
}

export interface LossResult {
  loss: number;
  dPred: Arr /** per-sample loss (mean over that sample's elements) for spread statistics */;
  perSample: Float64Array;
}

/**
 * yPred (B, ..., C); yTrue same shape (or class ids (B, ...) / (B, ..., 1) for sparse_categorical_crossentropy).
 * mask (B,T) applies to sequence outputs (B,T,C): masked rows get weight 0 and the mean is over valid rows
 * (Keras note: TF.js ignores masks in the loss, so the tfjs flavor averages over every row).
 * perSample[b] is the mean of L_r over sample b's valid rows (0 when all are masked).
 */
export function computeLoss(
  cfg: LossConfig,
  flavor: LossFlavor,
  yPred: Tensor,
  yTrue: Tensor,
  mask: Mask | null,
): LossResult {
  if (cfg.name === 'crf_loss') {
    // keras_contrib: the CRF's negative log-likelihood ('join'), or crossentropy of its marginals.
    const marginal = crfMarginalLoss(yPred);
    return marginal ? computeLoss(marginal, flavor, yPred, yTrue, mask) : crfNll(yPred, yTrue);
  }
  const shape = yPred.shape;
  const n = size(shape);
  const C = shape.length >= 2 ? shape[shape.length - 1] : 1;
  const B = shape.length >= 1 ? shape[0] : 1;
  const rows = C === 0 ? 0 : n / C;
  let name = cfg.name;
  const nTrue = yTrue.data.length;
  if (name === 'crossentropy') {
    name =
      C === 1 ? 'binary_crossentropy' : nTrue === rows ? 'sparse_categorical_crossentropy' : 'categorical_crossentropy';
  }
  const isSparse = name === 'sparse_categorical_crossentropy';
  if (isSparse ? nTrue !== rows : nTrue !== n) {
    throw new DataError(
      `Targets for loss ${name} have shape ${fmtShape(yTrue.shape)} but predictions have shape ${fmtShape(shape)}; expected ${isSparse ? `class ids of shape ${fmtShape(shape.slice(0, -1))}` : 'the same shape'}; check the target file against the model output.`,
    );
  }
  if (isSparse) {
    for (let r = 0; r < rows; r++) {
      const k = yTrue.data[r];
      if (!(Number.isInteger(k) && k >= 0 && k < C)) {
        throw new DataError(
          `Target class id ${k} at row ${r} is not an integer in [0, ${C}); expected class ids for ${C} classes; check the target encoding.`,
        );
      }
    }
  }
  const f32 = yPred.data instanceof Float32Array;
  const eps = f32 ? Math.fround(1e-7) : 1e-7;
  let hingeConvert = false;
  if (name === 'hinge' || name === 'squared_hinge') {
    // Keras 3 / tf.keras convert all-{0,1} labels to ±1 (losses.py convert_binary_labels_to_hinge); Keras 1/2 and TF.js
    // do not.
    hingeConvert = flavor === 'keras3' || flavor === 'tf.keras';
    for (let i = 0; i < nTrue && hingeConvert; i++)
      if (yTrue.data[i] !== 0 && yTrue.data[i] !== 1) hingeConvert = false;
  }
  const ctx: Ctx = {
    flavor,
    eps,
    lo: eps,
    hi: f32 ? Math.fround(1 - eps) : 1 - eps,
    ls: cfg.labelSmoothing,
    hingeConvert,
    cosCapSq: flavor === 'keras3' ? 1e-14 : flavor === 'tfjs' ? eps : 1e-12,
  };
  const kernel = rowLoss(name, cfg.fromLogits);

  // Row weights from the mask (rows are (b, t, ...) in row-major order).
  const useMask = mask !== null && flavor !== 'tfjs';
  const perRowMask = rows / Math.max(B, 1);
  if (useMask && mask !== null) {
    if (shape.length < 3 || mask.b !== B || mask.t !== shape[1]) {
      throw new DataError(
        `A mask of shape (${mask.b}, ${mask.t}) was given for predictions of shape ${fmtShape(shape)}; expected a sequence output (B, T, C) with the same B and T; pass the mask only for return_sequences outputs.`,
      );
    }
  }
  const stepRows = useMask && mask !== null ? rows / (mask.b * mask.t) : 1;
  const rowValid = (r: number): boolean => !useMask || mask === null || mask.data[Math.floor(r / stepRows)] !== 0;
  let valid = 0;
  for (let r = 0; r < rows; r++) if (rowValid(r)) valid++;
  const scale = valid > 0 ? 1 / valid : 0;

  const dPred = alloc(dtypeOf(yPred.data), n);
  const perSample = new Float64Array(B);
  const sampleCount = new Float64Array(B);
  const g = new Float64Array(C);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    if (!rowValid(r)) continue;
    const L = kernel(ctx, yPred.data, r * C, yTrue.data, isSparse ? r : r * C, C, g);
    total += L;
    const b = Math.floor(r / perRowMask);
    perSample[b] += L;
    sampleCount[b]++;
    for (let j = 0; j < C; j++) dPred[r * C + j] = g[j] * scale;
  }
  for (let b = 0; b < B; b++) perSample[b] = sampleCount[b] > 0 ? perSample[b] / sampleCount[b] : 0;
  return { loss: total * scale, dPred, perSample };
}
