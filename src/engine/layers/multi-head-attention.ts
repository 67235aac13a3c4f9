// MultiHeadAttention (Keras 3 keras/src/layers/attention/multi_head_attention.py,
// tf.keras layers/attention/multi_head_attention.py) over the steps axis, at
// inference. Weights (EinsumDense, Keras layout and order):
//   query/kernel (Dq, H, dk) + bias (H, dk); key/kernel (Dk, H, dk) + bias;
//   value/kernel (Dv, H, dv) + bias (H, dv); attention_output/kernel (H, dv, O) + bias (O,)
// With q (B, Tq, Dq), v (B, Tv, Dv), k = v when absent:
//   Q = (q·Wq + bq) / sqrt(dk),  K = k·Wk + bk,  V = v·Wv + bv       (as (B, T, H, d))
//   S[b,h,i,j] = Q[b,i,h]·K[b,j,h];  S += −1e9 where the mask is false   (Softmax layer)
//   A = softmax_j(S);  C[b,i,h] = Σ_j A[b,h,i,j]·V[b,j,h];  out = C·Wo + bo
// Mask (Keras ≥ 2.10 / 3 _compute_attention_mask): query mask (rows) & value mask
// (columns) & causal (j ≤ i) when use_causal_mask. Dropout: training only.
// Keras note: tf.keras before 2.10 ignored the inputs' masks (only an explicit
// attention_mask counted); rnnscope applies them as the later versions do.
// Outputs: out, and A (B, H, Tq, Tv) with return_attention_scores. Output mask: the query's.
//
// Speed: the projections are one gemm each over all B·T rows; scores and context
// are one gemm per (sample, head) on strided views (leading dimension H·d).

import type { LayerSpec } from '../../model/types.js';
import { DataError } from '../../model/errors.js';
import type { LayerImpl } from '../layer.js';
import { activation } from '../activations.js';
import type { Arr, Mask, Tensor } from '../tensor.js';
import { alloc } from '../tensor.js';
import { checkMask, expectRank, fmtDims } from './basic-util.js';

type Mha = Extract<LayerSpec, { type: 'MultiHeadAttention' }>;

const softmax = activation({ name: 'softmax' });

interface Slots {
  wq: number;
  bq: number;
  wk: number;
  bk: number;
  wv: number;
  bv: number;
  wo: number;
  bo: number;
}

function slots(useBias: boolean): Slots {
  return useBias
    ? { wq: 0, bq: 1, wk: 2, bk: 3, wv: 4, bv: 5, wo: 6, bo: 7 }
    : { wq: 0, bq: -1, wk: 1, bk: -1, wv: 2, bv: -1, wo: 3, bo: -1 };
}

/** y (rows × n) = x (rows × k) · W (k × n) + b */
function affine(
  ctx: Parameters<LayerImpl['forward']>[0],
  x: Arr,
  rows: number,
  k: number,
  W: Arr,
  b: Arr | null,
  n: number,
): Arr {
  const y = alloc(ctx.dtype, rows * n);
  ctx.kernels.gemm(false, false, rows, n, k, x, 0, k, W, 0, n, 0, y, 0, n);
  if (b !== null) for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) y[r * n + j] += b[j];
  return y;
}

interface MhaCache {
  q: Tensor;
  v: Tensor;
  k: Tensor;
  hasKey: boolean;
  Q: Arr;
  K: Arr;
  V: Arr;
  A: Arr;
  C: Arr;
}

export const multiHeadAttentionLayer: LayerImpl<Mha> = {
  forward(ctx, layer, params, inputs, masks) {
    const [q, v] = inputs;
    const k = inputs[2] ?? v;
    for (const t of [q, v, k]) expectRank(layer, t, [3], '(batch, steps, features)');
    const [B, Tq, Dq] = q.shape;
    const [, Tv, Dvi] = v.shape;
    const Dki = k.shape[2];
    if (v.shape[0] !== B || k.shape[0] !== B || k.shape[1] !== Tv) {
      throw new DataError(
        `MultiHeadAttention '${layer.name}' got query ${fmtDims(q.shape)}, value ${fmtDims(v.shape)} and key ${fmtDims(k.shape)}; expected one batch and key steps = value steps, check the layers feeding it.`,
      );
    }
    const H = layer.numHeads,
      dk = layer.keyDim,
      dv = layer.valueDim;
    const s = slots(layer.useBias);
    const P = (i: number): Arr | null => (i < 0 ? null : params[i].data);
    const O = params[s.wo].shape[2];
    const Q = affine(ctx, q.data, B * Tq, Dq, P(s.wq)!, P(s.bq), H * dk);
    const inv = 1 / Math.sqrt(dk);
    for (let i = 0; i < Q.length; i++) Q[i] *= inv;
    const K = affine(ctx, k.data, B * Tv, Dki, P(s.wk)!, P(s.bk), H * dk);
    const V = affine(ctx, v.data, B * Tv, Dvi, P(s.wv)!, P(s.bv), H * dv);
    const qMask: Mask | null = masks[0] ?? null;
    const vMask: Mask | null = masks[1] ?? null;
    const kMask: Mask | null = inputs.length > 2 ? (masks[2] ?? null) : null;
    checkMask(layer, q, qMask);
    checkMask(layer, v, vMask);
    const A = alloc(ctx.dtype, B * H * Tq * Tv);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const ao = (b * H + h) * Tq * Tv;
        ctx.kernels.gemm(
          false,
          true,
          Tq,
          Tv,
          dk,
          Q,
          (b * Tq * H + h) * dk,
          H * dk,
          K,
          (b * Tv * H + h) * dk,
          H * dk,
          0,
          A,
          ao,
          Tv,
        );
        if (qMask !== null || vMask !== null || kMask !== null || layer.causal) {
          for (let i = 0; i < Tq; i++) {
            for (let j = 0; j < Tv; j++) {
              const keep =
                (qMask === null || qMask.data[b * Tq + i] === 1) &&
                (vMask === null || vMask.data[b * Tv + j] === 1) &&
                (kMask === null || kMask.data[b * Tv + j] === 1) &&
                (!layer.causal || j <= i);
              if (!keep) A[ao + i * Tv + j] += -1e9;
            }
          }
        }
        for (let i = 0; i < Tq; i++) softmax.forward(A, ao + i * Tv, A, ao + i * Tv, Tv);
      }
    }
    const C = alloc(ctx.dtype, B * Tq * H * dv);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        ctx.kernels.gemm(
          false,
          false,
          Tq,
          dv,
          Tv,
          A,
          (b * H + h) * Tq * Tv,
          Tv,
          V,
          (b * Tv * H + h) * dv,
          H * dv,
          0,
          C,
          (b * Tq * H + h) * dv,
          H * dv,
        );
      }
    }
    const out = affine(ctx, C, B * Tq, H * dv, P(s.wo)!, P(s.bo), O);
    const outputs: Tensor[] = [{ shape: [B, Tq, O], data: out }];
    if (layer.returnScores) outputs.push({ shape: [B, H, Tq, Tv], data: A.slice() });
    const cache: MhaCache = { q, v, k, hasKey: inputs.length > 2, Q, K, V, A, C };
    return { outputs, masks: outputs.map(() => qMask), cache };
  },

  backward(ctx, layer, params, cache, dOutputs, dParams) {
    const c = cache as MhaCache;
    const { q, v, k, Q, K, V, A, C } = c;
    const [B, Tq, Dq] = q.shape;
    const [, Tv, Dvi] = v.shape;
    const Dki = k.shape[2];
    const H = layer.numHeads,
      dk = layer.keyDim,
      dv = layer.valueDim;
    const s = slots(layer.useBias);
    const O = params[s.wo].shape[2];
    const dOut = dOutputs[0];
    const dC = alloc(ctx.dtype, C.length);
    if (dOut !== null) {
      ctx.kernels.gemm(true, false, H * dv, O, B * Tq, C, 0, H * dv, dOut.data, 0, O, 1, dParams[s.wo].data, 0, O);
      if (s.bo >= 0) {
        const db = dParams[s.bo].data;
        for (let r = 0; r < B * Tq; r++) for (let j = 0; j < O; j++) db[j] += dOut.data[r * O + j];
      }
      ctx.kernels.gemm(false, true, B * Tq, H * dv, O, dOut.data, 0, O, params[s.wo].data, 0, O, 0, dC, 0, H * dv);
    }
    const dA = alloc(ctx.dtype, A.length);
    if (layer.returnScores && dOutputs[1]) dA.set(dOutputs[1].data);
    const dV = alloc(ctx.dtype, V.length);
    const dQ = alloc(ctx.dtype, Q.length);
    const dK = alloc(ctx.dtype, K.length);
    const dS = alloc(ctx.dtype, Tq * Tv);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const ao = (b * H + h) * Tq * Tv;
        const co = (b * Tq * H + h) * dv;
        const vo = (b * Tv * H + h) * dv;
        // dA += dC·Vᵀ ; dV = Aᵀ·dC
        ctx.kernels.gemm(false, true, Tq, Tv, dv, dC, co, H * dv, V, vo, H * dv, 1, dA, ao, Tv);
        ctx.kernels.gemm(true, false, Tv, dv, Tq, A, ao, Tv, dC, co, H * dv, 0, dV, vo, H * dv);
        for (let i = 0; i < Tq; i++) softmax.backward(A, ao + i * Tv, A, ao + i * Tv, dA, ao + i * Tv, dS, i * Tv, Tv);
        // dQ = dS·K ; dK = dSᵀ·Q  (Q already scaled)
        ctx.kernels.gemm(
          false,
          false,
          Tq,
          dk,
          Tv,
          dS,
          0,
          Tv,
          K,
          (b * Tv * H + h) * dk,
          H * dk,
          0,
          dQ,
          (b * Tq * H + h) * dk,
          H * dk,
        );
        ctx.kernels.gemm(
          true,
          false,
          Tv,
          dk,
          Tq,
          dS,
          0,
          Tv,
          Q,
          (b * Tq * H + h) * dk,
          H * dk,
          0,
          dK,
          (b * Tv * H + h) * dk,
          H * dk,
        );
      }
    }
    const inv = 1 / Math.sqrt(dk);
    for (let i = 0; i < dQ.length; i++) dQ[i] *= inv;
    // The key bias adds q_i·b_k to every score of row i: softmax cancels it, its gradient is exactly 0
    // (left untouched rather than summed from rounding noise).
    const proj = (x: Tensor, rows: number, n: number, dZ: Arr, wi: number, bi: number, w: number): Arr => {
      ctx.kernels.gemm(true, false, n, w, rows, x.data, 0, n, dZ, 0, w, 1, dParams[wi].data, 0, w);
      if (bi >= 0) {
        const db = dParams[bi].data;
        for (let r = 0; r < rows; r++) for (let j = 0; j < w; j++) db[j] += dZ[r * w + j];
      }
      const dx = alloc(ctx.dtype, rows * n);
      ctx.kernels.gemm(false, true, rows, n, w, dZ, 0, w, params[wi].data, 0, w, 0, dx, 0, n);
      return dx;
    };
    const dq = proj(q, B * Tq, Dq, dQ, s.wq, s.bq, H * dk);
    const dk_ = proj(k, B * Tv, Dki, dK, s.wk, -1, H * dk);
    const dv_ = proj(v, B * Tv, Dvi, dV, s.wv, s.bv, H * dv);
    if (c.hasKey)
      return [
        { shape: [...q.shape], data: dq },
        { shape: [...v.shape], data: dv_ },
        { shape: [...k.shape], data: dk_ },
      ];
    for (let i = 0; i < dv_.length; i++) dv_[i] += dk_[i];
    return [
      { shape: [...q.shape], data: dq },
      { shape: [...v.shape], data: dv_ },
    ];
  },
};
