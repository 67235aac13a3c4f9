// keras_contrib CRF (keras-contrib keras_contrib/layers/crf.py), reproduced
// operation by operation, its quirks included. x (B, T, I) → energies
//   U = act(x·kernel + bias)                                   (B, T, F)
//   boundaries: without a mask U[:, 0] += left, U[:, T−1] += right; with a mask
//     U += (m_t > m_{t−1})·left + (m_{t+1} > m_t)·right   (m_{−1} = m_T = 0; as written,
//     the right boundary lands only on masked steps, where the energies are not used)
// The recursion (CRF.recursion / step), over steps k in iteration order with
// m0 = mask at k, m1 = mask at k+1 (0 past the end; both 1 without a mask):
//   α_k[j] = logsumexp_i( α_{k−1}[i] − m0·U_k[i] − m0·m1·W[i, j] ),  α_{−1} = 0
// (W = chain_kernel: p(y) ∝ exp(−E), lower energy = likelier path).
//   crf_loss, learn_mode 'join' (crf_nll): nll = (α_{T−1}[0] + E(y)) / (Σ mask or T),
//     E(y) = Σ_t m_t·U_t·y_t + Σ_t m_t·m_{t+1}·y_tᵀ W y_{t+1}; averaged over the batch.
//     Without a mask α_{T−1}[0] keeps a chain term to label 0 after the last step, and
//     padded steps each add log F: constants of the data, as keras_contrib computes them.
//   test_mode 'marginal': softmax( −(α_{t−1} + m_t·U_t + β_{t+1}) ), β the same
//     recursion run backwards (go_backwards, then reversed to time order).
//   test_mode 'viterbi': the same recursion with min / argmin in place of logsumexp,
//     then the backtrack from argmin_{T−1}[0] as keras_contrib does it; a one-hot output.
// Outputs: 'join' → the viterbi (or marginal) decoding, which has no gradient: the
// loss crf_loss is a function of the energies, as keras_contrib's is (it reads the
// layer's input). The loss finds the layer's state by its output array (crfLoss) and
// leaves its gradient there for this layer's backward. 'marginal' → the marginals,
// differentiable, and crf_loss is the (sparse) categorical crossentropy of them.
// Output mask: 'marginal' keeps the input mask; 'join' reduces it to one flag per
// sample (K.any(mask, axis=1)), which weights the per-sample losses.

import type { LayerSpec, LossConfig } from '../../model/types.js';
import { DataError } from '../../model/errors.js';
import type { LayerImpl } from '../layer.js';
import type { Arr, Mask, Tensor } from '../tensor.js';
import { alloc } from '../tensor.js';
import { activation } from '../activations.js';
import { actBackward, actForward, actOf, checkMask, expectDim, expectRank, type ActState } from './basic-util.js';

type Crf = Extract<LayerSpec, { type: 'CRF' }>;

const softmax = activation({ name: 'softmax' });

interface Dims {
  B: number;
  T: number;
  F: number;
}

/** Step order and mask factors of one recursion direction. */
function schedule(
  d: Dims,
  mask: Mask | null,
  reverse: boolean,
): { order: Int32Array; m0: Float64Array; m1: Float64Array } {
  const { B, T } = d;
  const order = new Int32Array(T);
  for (let k = 0; k < T; k++) order[k] = reverse ? T - 1 - k : k;
  const m0 = new Float64Array(B * T).fill(1);
  const m1 = new Float64Array(B * T).fill(1);
  if (mask !== null) {
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < T; k++) {
        m0[b * T + k] = mask.data[b * T + order[k]];
        m1[b * T + k] = k + 1 < T ? mask.data[b * T + order[k + 1]] : 0;
      }
    }
  }
  return { order, m0, m1 };
}

interface Rec {
  alpha: Float64Array;
  order: Int32Array;
  m0: Float64Array;
  m1: Float64Array;
}

/** The log-sum-exp recursion; alpha (B, T, F) in iteration order. */
function recursion(d: Dims, U: Arr, W: Arr, mask: Mask | null, reverse: boolean): Rec {
  const { B, T, F } = d;
  const { order, m0, m1 } = schedule(d, mask, reverse);
  const alpha = new Float64Array(B * T * F);
  const a = new Float64Array(F);
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < T; k++) {
      const mu = m0[b * T + k];
      const mm = mu * m1[b * T + k];
      const uo = (b * T + order[k]) * F;
      const po = (b * T + k - 1) * F;
      for (let j = 0; j < F; j++) {
        let mx = -Infinity;
        for (let i = 0; i < F; i++) {
          a[i] = (k > 0 ? alpha[po + i] : 0) - mu * U[uo + i] - mm * W[i * F + j];
          if (a[i] > mx) mx = a[i];
        }
        let s = 0;
        for (let i = 0; i < F; i++) s += Math.exp(a[i] - mx);
        alpha[(b * T + k) * F + j] = mx + Math.log(s);
      }
    }
  }
  return { alpha, order, m0, m1 };
}

/** Reverse mode through recursion(): dAlpha (iteration order) is consumed; adds into dU (time order) and dW. */
function recursionBackward(
  d: Dims,
  U: Arr,
  W: Arr,
  r: Rec,
  dAlpha: Float64Array,
  dU: Float64Array,
  dW: Float64Array,
): void {
  const { B, T, F } = d;
  const a = new Float64Array(F);
  for (let b = 0; b < B; b++) {
    for (let k = T - 1; k >= 0; k--) {
      const mu = r.m0[b * T + k];
      const mm = mu * r.m1[b * T + k];
      const uo = (b * T + r.order[k]) * F;
      const po = (b * T + k - 1) * F;
      const ko = (b * T + k) * F;
      for (let j = 0; j < F; j++) {
        const g = dAlpha[ko + j];
        if (g === 0) continue;
        for (let i = 0; i < F; i++) {
          a[i] = (k > 0 ? r.alpha[po + i] : 0) - mu * U[uo + i] - mm * W[i * F + j];
          const dA = g * Math.exp(a[i] - r.alpha[ko + j]);
          if (k > 0) dAlpha[po + i] += dA;
          dU[uo + i] -= mu * dA;
          dW[i * F + j] -= mm * dA;
        }
      }
    }
  }
}

/** Viterbi decoding (min-energy recursion, then keras_contrib's backtrack) as one-hot rows. */
function viterbi(d: Dims, U: Arr, W: Arr, mask: Mask | null, out: Arr): void {
  const { B, T, F } = d;
  const { m0, m1 } = schedule(d, mask, false);
  const arg = new Int32Array(B * T * F);
  let prev = new Float64Array(F);
  let next = new Float64Array(F);
  for (let b = 0; b < B; b++) {
    prev.fill(0);
    for (let t = 0; t < T; t++) {
      const mu = m0[b * T + t];
      const mm = mu * m1[b * T + t];
      const uo = (b * T + t) * F;
      for (let j = 0; j < F; j++) {
        let best = 0;
        let bestE = Infinity;
        for (let i = 0; i < F; i++) {
          const e = mm * W[i * F + j] + (mu * U[uo + i] + prev[i]);
          if (e < bestE) {
            bestE = e;
            best = i;
          }
        }
        next[j] = bestE;
        arg[uo + j] = best;
      }
      [prev, next] = [next, prev];
    }
    let best = arg[(b * T + T - 1) * F];
    for (let t = T - 1; t >= 0; t--) {
      best = arg[(b * T + t) * F + best];
      out[(b * T + t) * F + best] = 1;
    }
  }
}

interface CrfState {
  layer: Crf;
  d: Dims;
  x: Tensor;
  act: ActState;
  /** energies after the boundaries */
  U: Arr;
  start: Float64Array | null;
  end: Float64Array | null;
  mask: Mask | null;
  W: Arr;
  /** marginal output: the two recursions and the softmax output */
  fwd: Rec | null;
  bwd: Rec | null;
  marg: Arr | null;
  /** d(loss)/dU and d(loss)/dW left by crfLoss ('join') */
  pendingU: Float64Array | null;
  pendingW: Float64Array | null;
}

/** Output array → the state of the CRF call that produced it (crfLoss reads the energies). */
const OUTPUTS = new WeakMap<Arr, CrfState>();

function slotOf(layer: Crf): { bias: number; left: number; right: number } {
  const bias = layer.useBias ? 2 : -1;
  const left = layer.useBoundary ? (layer.useBias ? 3 : 2) : -1;
  return { bias, left, right: left < 0 ? -1 : left + 1 };
}

export const crfLayer: LayerImpl<Crf> = {
  forward(ctx, layer, params, inputs, masks) {
    const x = inputs[0];
    expectRank(layer, x, [3], '(batch, steps, features)');
    const [B, T, I] = x.shape;
    const F = layer.units;
    expectDim(layer, x, 2, params[0].shape[0], 'features');
    const mask = masks[0] ?? null;
    checkMask(layer, x, mask);
    const s = slotOf(layer);
    const z = alloc(ctx.dtype, B * T * F);
    ctx.kernels.gemm(false, false, B * T, F, I, x.data, 0, I, params[0].data, 0, F, 0, z, 0, F);
    if (s.bias >= 0) for (let r = 0; r < B * T; r++) for (let j = 0; j < F; j++) z[r * F + j] += params[s.bias].data[j];
    const act = actForward(actOf(layer, layer.activation, 3), ctx.dtype, z, F);
    const U = act.y.slice();
    let start: Float64Array | null = null;
    let end: Float64Array | null = null;
    if (s.left >= 0) {
      start = new Float64Array(B * T);
      end = new Float64Array(B * T);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          if (mask === null) {
            start[b * T + t] = t === 0 ? 1 : 0;
            end[b * T + t] = t === T - 1 ? 1 : 0;
          } else {
            const m = (u: number): number => (u < 0 || u >= T ? 0 : mask.data[b * T + u]);
            start[b * T + t] = m(t) > m(t - 1) ? 1 : 0;
            end[b * T + t] = m(t + 1) > m(t) ? 1 : 0;
          }
          const o = (b * T + t) * F;
          for (let j = 0; j < F; j++)
            U[o + j] += start[b * T + t] * params[s.left].data[j] + end[b * T + t] * params[s.right].data[j];
        }
      }
    }
    const d: Dims = { B, T, F };
    const W = params[1].data;
    const out = alloc(ctx.dtype, B * T * F);
    const state: CrfState = {
      layer,
      d,
      x,
      act,
      U,
      start,
      end,
      mask,
      W,
      fwd: null,
      bwd: null,
      marg: null,
      pendingU: null,
      pendingW: null,
    };
    if (layer.testMode === 'viterbi') viterbi(d, U, W, mask, out);
    else {
      state.fwd = recursion(d, U, W, mask, false);
      state.bwd = recursion(d, U, W, mask, true);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          const o = (b * T + t) * F;
          const mt = mask === null ? 1 : mask.data[b * T + t];
          for (let j = 0; j < F; j++) {
            const al = t > 0 ? state.fwd.alpha[(b * T + t - 1) * F + j] : 0;
            const be = t < T - 1 ? state.bwd.alpha[(b * T + (T - 2 - t)) * F + j] : 0;
            out[o + j] = -(al + U[o + j] * mt + be);
          }
          softmax.forward(out, o, out, o, F);
        }
      }
      state.marg = out;
    }
    OUTPUTS.set(out, state);
    let outMask: Mask | null = mask;
    if (mask !== null && layer.learnMode === 'join') {
      // (B,) in Keras; kept as a (B, T) mask that is constant over t for the loss's weights.
      const data = new Uint8Array(B * T);
      for (let b = 0; b < B; b++)
        if (mask.data.subarray(b * T, (b + 1) * T).some((v) => v !== 0)) data.fill(1, b * T, (b + 1) * T);
      outMask = { b: B, t: T, data };
    }
    return { outputs: [{ shape: [B, T, F], data: out }], masks: [outMask], cache: state };
  },

  backward(ctx, layer, params, cache, dOutputs, dParams) {
    const st = cache as CrfState;
    const { B, T, F } = st.d;
    const dU = new Float64Array(B * T * F);
    const dW = dParams[1].data;
    if (st.pendingU !== null) {
      for (let i = 0; i < dU.length; i++) dU[i] += st.pendingU[i];
      for (let i = 0; i < dW.length; i++) dW[i] += st.pendingW![i];
      st.pendingU = st.pendingW = null;
    }
    const dY = dOutputs[0];
    if (dY !== null && st.marg !== null) {
      const dm = new Float64Array(F);
      const dFwd = new Float64Array(B * T * F);
      const dBwd = new Float64Array(B * T * F);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          const o = (b * T + t) * F;
          softmax.backward(st.marg, o, st.marg, o, dY.data, o, dm, 0, F);
          const mt = st.mask === null ? 1 : st.mask.data[b * T + t];
          for (let j = 0; j < F; j++) {
            // margin = −(α_{t−1} + m_t·U_t + β_{t+1})
            if (t > 0) dFwd[(b * T + t - 1) * F + j] -= dm[j];
            if (t < T - 1) dBwd[(b * T + (T - 2 - t)) * F + j] -= dm[j];
            dU[o + j] -= mt * dm[j];
          }
        }
      }
      const dW64 = new Float64Array(F * F);
      recursionBackward(st.d, st.U, st.W, st.fwd!, dFwd, dU, dW64);
      recursionBackward(st.d, st.U, st.W, st.bwd!, dBwd, dU, dW64);
      for (let i = 0; i < dW.length; i++) dW[i] += dW64[i];
    }
    const s = slotOf(layer);
    if (s.left >= 0) {
      const dl = dParams[s.left].data;
      const dr = dParams[s.right].data;
      for (let r = 0; r < B * T; r++) {
        for (let j = 0; j < F; j++) {
          dl[j] += st.start![r] * dU[r * F + j];
          dr[j] += st.end![r] * dU[r * F + j];
        }
      }
    }
    const dUa = alloc(ctx.dtype, dU.length);
    dUa.set(dU);
    const dZ = actBackward(st.act, ctx.dtype, dUa);
    const I = st.x.shape[2];
    ctx.kernels.gemm(true, false, I, F, B * T, st.x.data, 0, I, dZ, 0, F, 1, dParams[0].data, 0, F);
    if (s.bias >= 0) {
      const db = dParams[s.bias].data;
      for (let r = 0; r < B * T; r++) for (let j = 0; j < F; j++) db[j] += dZ[r * F + j];
    }
    const dX = alloc(ctx.dtype, st.x.data.length);
    ctx.kernels.gemm(false, true, B * T, I, F, dZ, 0, F, params[0].data, 0, F, 0, dX, 0, I);
    return [{ shape: [...st.x.shape], data: dX }];
  },
};

/** The CRF state behind a model output, or undefined when the output is not a CRF's. */
export function crfStateOf(y: Tensor): { layer: Crf } | undefined {
  return OUTPUTS.get(y.data);
}

/**
 * keras_contrib crf_loss for learn_mode 'join' (crf_nll): per-sample (logZ + E(y)) / steps, averaged
 * over the samples with a valid step. Leaves d(loss)/dU, d(loss)/dW in the layer's state; dPred is 0.
 * yTrue: one-hot (B, T, F), or class ids (B, T) / (B, T, 1) with sparse_target.
 */
export function crfNll(y: Tensor, yTrue: Tensor): { loss: number; perSample: Float64Array; dPred: Arr } {
  const st = OUTPUTS.get(y.data);
  if (!st)
    throw new DataError(
      "Loss crf_loss was given an output that is not a keras_contrib CRF layer's; expected the CRF as the output layer (keras_contrib requires it for learn_mode 'join'); choose another loss with --loss.",
    );
  const { B, T, F } = st.d;
  const dense = yTrue.data.length === B * T * F;
  if (!dense && yTrue.data.length !== B * T) {
    throw new DataError(
      `Targets for crf_loss have ${yTrue.data.length} values; expected one-hot tags (${B}, ${T}, ${F}) or tag ids (${B}, ${T}); check the target file against the CRF output.`,
    );
  }
  const yt = (b: number, t: number, j: number): number =>
    dense ? yTrue.data[(b * T + t) * F + j] : yTrue.data[b * T + t] === j ? 1 : 0;
  if (!dense) {
    for (let i = 0; i < B * T; i++) {
      const v = yTrue.data[i];
      if (!(Number.isInteger(v) && v >= 0 && v < F))
        throw new DataError(
          `Target tag id ${v} at row ${i} is not an integer in [0, ${F}); expected tag ids for ${F} tags; check the target encoding.`,
        );
    }
  }
  const fwd = recursion(st.d, st.U, st.W, st.mask, false);
  const m = (b: number, t: number): number => (st.mask === null ? 1 : st.mask.data[b * T + t]);
  const perSample = new Float64Array(B);
  const w = new Float64Array(B);
  let n = 0;
  for (let b = 0; b < B; b++) {
    let cnt = 0;
    for (let t = 0; t < T; t++) cnt += m(b, t);
    w[b] = cnt > 0 ? 1 : 0;
    n += w[b];
  }
  const dU = new Float64Array(B * T * F);
  const dW = new Float64Array(F * F);
  const dAlpha = new Float64Array(B * T * F);
  let total = 0;
  for (let b = 0; b < B; b++) {
    const cnt = st.mask === null ? T : Array.from({ length: T }, (_, t) => m(b, t)).reduce((a, c) => a + c, 0);
    if (cnt === 0) continue;
    let E = 0;
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * F;
      for (let j = 0; j < F; j++) E += m(b, t) * st.U[o + j] * yt(b, t, j);
      if (t < T - 1) {
        const mm = m(b, t) * m(b, t + 1);
        for (let i = 0; i < F; i++)
          for (let j = 0; j < F; j++) E += mm * yt(b, t, i) * st.W[i * F + j] * yt(b, t + 1, j);
      }
    }
    const nll = (fwd.alpha[(b * T + T - 1) * F] + E) / cnt;
    perSample[b] = nll;
    total += nll;
    // d(mean loss)/d nll_b = 1/n; d nll_b / d(logZ, E) = 1/cnt
    const g = 1 / (n * cnt);
    dAlpha[(b * T + T - 1) * F] = g;
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * F;
      for (let j = 0; j < F; j++) dU[o + j] += g * m(b, t) * yt(b, t, j);
      if (t < T - 1) {
        const mm = g * m(b, t) * m(b, t + 1);
        for (let i = 0; i < F; i++) for (let j = 0; j < F; j++) dW[i * F + j] += mm * yt(b, t, i) * yt(b, t + 1, j);
      }
    }
  }
  recursionBackward(st.d, st.U, st.W, fwd, dAlpha, dU, dW);
  if (st.pendingU === null) {
    st.pendingU = dU;
    st.pendingW = dW;
  } else {
    for (let i = 0; i < dU.length; i++) st.pendingU[i] += dU[i];
    for (let i = 0; i < dW.length; i++) st.pendingW![i] += dW[i];
  }
  return {
    loss: n > 0 ? total / n : 0,
    perSample,
    dPred: alloc(y.data instanceof Float32Array ? 'float32' : 'float64', y.data.length),
  };
}

/** crf_loss of learn_mode 'marginal': the (sparse) categorical crossentropy of the marginals (keras_contrib crf_loss).
 * */
export function crfMarginalLoss(y: Tensor): LossConfig | null {
  const st = OUTPUTS.get(y.data);
  if (st?.layer.learnMode !== 'marginal') return null;
  return {
    name: st.layer.sparseTarget ? 'sparse_categorical_crossentropy' : 'categorical_crossentropy',
    fromLogits: false,
    labelSmoothing: 0,
  };
}
