// Attention (Luong: score 'dot' / 'concat') and AdditiveAttention (Bahdanau:
// score 'additive'), as tf.keras BaseDenseAttention and Keras 3
// keras/src/layers/attention/attention.py compute them at inference. Inputs
// [query (B, Tq, D), value (B, Tv, Dv), key (B, Tv, D) = value when absent]:
//
//   dot       S_ij = s · q_i·k_j                     (s = the `scale` weight, 1 without use_scale)
//   concat    S_ij = w · Σ_d tanh(s·(q_id + k_jd))    (w = concat_score_weight)
//   additive  S_ij = Σ_d a_d · tanh(q_id + k_jd)     (a = the `scale` vector, 1s without use_scale)
//   S_ij −= 1e9 where the value mask is false at j, or (causal) j > i
//   A = softmax_j(S);  out_i = Σ_j A_ij v_j;  out_i ·= query mask_i
//
// Outputs: out, and A when the call asked for return_attention_scores. Output mask
// = the query's mask. Dropout acts only in training: identity here. The masks of
// the key input are not used (Keras reads mask[0] and mask[1] only).
//
// Speed: the dot scores and both attention products are gemm calls per sample; the
// concat/additive scores are elementwise (B·Tq·Tv·D tanh), recomputed in backward.

import type { LayerSpec } from '../../model/types.js';
import { DataError } from '../../model/errors.js';
import type { LayerImpl } from '../layer.js';
import { activation } from '../activations.js';
import type { Arr, Mask, Tensor } from '../tensor.js';
import { alloc } from '../tensor.js';
import { checkMask, expectRank, fmtDims } from './basic-util.js';

type Attention = Extract<LayerSpec, { type: 'Attention' }>;

const softmax = activation({ name: 'softmax' });
/** Keras subtracts this from masked scores (float16 aside). */
const MASKED = 1e9;

interface AttCache {
  q: Tensor;
  v: Tensor;
  k: Tensor;
  /** dot only: Q·Kᵀ before the scale */
  raw: Arr | null;
  A: Arr;
  qMask: Mask | null;
  hasKey: boolean;
}

/** The scalar / vector weights of the layer, by score mode (Keras weight order: scale, concat_score_weight). */
function weights(layer: Attention, params: Tensor[]): { scale: Arr | null; concatW: number } {
  const scale = layer.useScale ? params[0].data : null;
  const concatW = layer.score === 'concat' ? params[layer.useScale ? 1 : 0].data[0] : 1;
  return { scale, concatW };
}

export const attentionLayer: LayerImpl<Attention> = {
  forward(ctx, layer, params, inputs, masks) {
    const [q, v] = inputs;
    const k = inputs[2] ?? v;
    for (const t of [q, v, k]) expectRank(layer, t, [3], '(batch, steps, features)');
    const [B, Tq, D] = q.shape;
    const [, Tv, Dv] = v.shape;
    if (k.shape[0] !== B || v.shape[0] !== B || k.shape[1] !== Tv || k.shape[2] !== D) {
      throw new DataError(
        `${layer.className} '${layer.name}' got query ${fmtDims(q.shape)}, value ${fmtDims(v.shape)} and key ${fmtDims(k.shape)}; expected one batch, key steps = value steps and key features = query features, check the layers feeding it.`,
      );
    }
    const qMask = masks[0] ?? null;
    const vMask = masks[1] ?? null;
    checkMask(layer, q, qMask);
    checkMask(layer, v, vMask);
    const { scale, concatW } = weights(layer, params);
    const S = alloc(ctx.dtype, B * Tq * Tv);
    let raw: Arr | null = null;
    if (layer.score === 'dot') {
      raw = alloc(ctx.dtype, S.length);
      for (let b = 0; b < B; b++)
        ctx.kernels.gemm(false, true, Tq, Tv, D, q.data, b * Tq * D, D, k.data, b * Tv * D, D, 0, raw, b * Tq * Tv, Tv);
      const s = scale === null ? 1 : scale[0];
      for (let i = 0; i < S.length; i++) S[i] = raw[i] * s;
    } else {
      const s = layer.score === 'concat' && scale !== null ? scale[0] : 1;
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < Tq; i++) {
          const qo = (b * Tq + i) * D;
          for (let j = 0; j < Tv; j++) {
            const ko = (b * Tv + j) * D;
            let sum = 0;
            if (layer.score === 'concat')
              for (let d = 0; d < D; d++) sum += Math.tanh(s * (q.data[qo + d] + k.data[ko + d]));
            else
              for (let d = 0; d < D; d++)
                sum += (scale === null ? 1 : scale[d]) * Math.tanh(q.data[qo + d] + k.data[ko + d]);
            S[(b * Tq + i) * Tv + j] = layer.score === 'concat' ? concatW * sum : sum;
          }
        }
      }
    }
    if (vMask !== null || layer.causal) {
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < Tq; i++) {
          for (let j = 0; j < Tv; j++) {
            const keep = (vMask === null || vMask.data[b * Tv + j] === 1) && (!layer.causal || i >= j);
            if (!keep) S[(b * Tq + i) * Tv + j] -= MASKED;
          }
        }
      }
    }
    const A = S;
    for (let r = 0; r < B * Tq; r++) softmax.forward(S, r * Tv, A, r * Tv, Tv);
    const out = alloc(ctx.dtype, B * Tq * Dv);
    for (let b = 0; b < B; b++)
      ctx.kernels.gemm(false, false, Tq, Dv, Tv, A, b * Tq * Tv, Tv, v.data, b * Tv * Dv, Dv, 0, out, b * Tq * Dv, Dv);
    if (qMask !== null) {
      for (let r = 0; r < B * Tq; r++) if (!qMask.data[r]) out.fill(0, r * Dv, (r + 1) * Dv);
    }
    const outputs: Tensor[] = [{ shape: [B, Tq, Dv], data: out }];
    if (layer.returnScores) outputs.push({ shape: [B, Tq, Tv], data: A.slice() });
    const cache: AttCache = { q, v, k, raw, A, qMask, hasKey: inputs.length > 2 };
    return { outputs, masks: outputs.map(() => qMask), cache };
  },

  backward(ctx, layer, params, cache, dOutputs, dParams) {
    const c = cache as AttCache;
    const { q, v, k, A } = c;
    const [B, Tq, D] = q.shape;
    const [, Tv, Dv] = v.shape;
    const dOut = dOutputs[0];
    const dA = alloc(ctx.dtype, B * Tq * Tv);
    const dV = alloc(ctx.dtype, v.data.length);
    if (dOut !== null) {
      let g = dOut.data;
      if (c.qMask !== null) {
        g = g.slice();
        for (let r = 0; r < B * Tq; r++) if (!c.qMask.data[r]) g.fill(0, r * Dv, (r + 1) * Dv);
      }
      for (let b = 0; b < B; b++) {
        // dA = dOut·Vᵀ ; dV = Aᵀ·dOut
        ctx.kernels.gemm(false, true, Tq, Tv, Dv, g, b * Tq * Dv, Dv, v.data, b * Tv * Dv, Dv, 0, dA, b * Tq * Tv, Tv);
        ctx.kernels.gemm(true, false, Tv, Dv, Tq, A, b * Tq * Tv, Tv, g, b * Tq * Dv, Dv, 0, dV, b * Tv * Dv, Dv);
      }
    }
    const dScores = dOutputs[1];
    if (layer.returnScores && dScores) for (let i = 0; i < dA.length; i++) dA[i] += dScores.data[i];
    const dS = alloc(ctx.dtype, dA.length);
    for (let r = 0; r < B * Tq; r++) softmax.backward(A, r * Tv, A, r * Tv, dA, r * Tv, dS, r * Tv, Tv);
    const dQ = alloc(ctx.dtype, q.data.length);
    const dK = alloc(ctx.dtype, k.data.length);
    const { scale, concatW } = weights(layer, params);
    if (layer.score === 'dot') {
      const s = scale === null ? 1 : scale[0];
      if (scale !== null) {
        let ds = 0;
        for (let i = 0; i < dS.length; i++) ds += dS[i] * c.raw![i];
        dParams[0].data[0] += ds;
      }
      if (s !== 1) for (let i = 0; i < dS.length; i++) dS[i] *= s;
      for (let b = 0; b < B; b++) {
        // dQ = dS·K ; dK = dSᵀ·Q
        ctx.kernels.gemm(false, false, Tq, D, Tv, dS, b * Tq * Tv, Tv, k.data, b * Tv * D, D, 0, dQ, b * Tq * D, D);
        ctx.kernels.gemm(true, false, Tv, D, Tq, dS, b * Tq * Tv, Tv, q.data, b * Tq * D, D, 0, dK, b * Tv * D, D);
      }
    } else {
      const concat = layer.score === 'concat';
      const s = concat && scale !== null ? scale[0] : 1;
      let dW = 0;
      let dScal = 0;
      const dA_ = concat ? null : scale !== null ? dParams[0].data : null;
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < Tq; i++) {
          const qo = (b * Tq + i) * D;
          for (let j = 0; j < Tv; j++) {
            const g = dS[(b * Tq + i) * Tv + j];
            if (g === 0) continue;
            const ko = (b * Tv + j) * D;
            for (let d = 0; d < D; d++) {
              const u = q.data[qo + d] + k.data[ko + d];
              const t = Math.tanh(concat ? s * u : u);
              let du: number;
              if (concat) {
                dW += g * t;
                const dz = g * concatW * (1 - t * t);
                dScal += dz * u;
                du = dz * s;
              } else {
                const a = scale === null ? 1 : scale[d];
                if (dA_ !== null) dA_[d] += g * t;
                du = g * a * (1 - t * t);
              }
              dQ[qo + d] += du;
              dK[ko + d] += du;
            }
          }
        }
      }
      if (concat) {
        if (scale !== null) dParams[0].data[0] += dScal;
        dParams[scale !== null ? 1 : 0].data[0] += dW;
      }
    }
    const res: (Tensor | null)[] = [{ shape: [...q.shape], data: dQ }];
    if (c.hasKey) res.push({ shape: [...v.shape], data: dV }, { shape: [...k.shape], data: dK });
    else {
      for (let i = 0; i < dV.length; i++) dV[i] += dK[i];
      res.push({ shape: [...v.shape], data: dV });
    }
    return res;
  },
};
