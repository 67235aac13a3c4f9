// BatchNormalization (inference) and LayerNormalization. Both pass the mask
// through (supports_masking = True in keras/src/layers/normalization/).
//
// BatchNormalization at inference uses the moving statistics
// (keras/src/layers/normalization/batch_normalization.py → tf.nn.batch_normalization):
//   inv = γ / sqrt(moving_variance + ε),  y = x·inv + (β − moving_mean·inv)
// per channel of `axis`. Parameters in Keras order: gamma (if scale), beta (if
// center), moving_mean, moving_variance. The moving statistics are
// non-trainable: their gradient arrays are left untouched (zeros).
//
// LayerNormalization (Keras 3 keras/src/ops/nn.py _layer_normalization, without
// rms_scaling): over the sorted `axis` set,
//   μ = mean(x), σ² = mean((x − μ)²) (tf.nn.moments, two passes), r = 1/sqrt(σ² + ε)
//   x̂ = (x − μ)·r,  y = x̂·γ + β          (γ, β shaped like the normalized dims)
// Backward, with g = dy·γ and means over the normalized group of N values:
//   dx = r·(g − mean(g) − x̂·mean(g·x̂)),  dγ += Σ dy·x̂,  dβ += Σ dy.

import type { LayerSpec } from '../../model/types.js';
import type { LayerImpl } from '../layer.js';
import type { Arr, Tensor } from '../tensor.js';
import { alloc } from '../tensor.js';
import { expectDim, resolveAxis } from './basic-util.js';

type BatchNorm = Extract<LayerSpec, { type: 'BatchNormalization' }>;
type LayerNorm = Extract<LayerSpec, { type: 'LayerNormalization' }>;

/** Index of each parameter in `params` (−1 when absent). */
function bnSlots(layer: BatchNorm): { gamma: number; beta: number; mean: number; variance: number } {
  let i = 0;
  const gamma = layer.scale ? i++ : -1;
  const beta = layer.center ? i++ : -1;
  return { gamma, beta, mean: i, variance: i + 1 };
}

interface BnCache {
  x: Tensor;
  ax: number;
  /** 1/sqrt(var + ε) per channel (without γ). */
  r: Float64Array;
  /** γ·r per channel, in the run's dtype (rounded as TF rounds it). */
  inv: Arr;
}

export const batchNormLayer: LayerImpl<BatchNorm> = {
  forward(ctx, layer, params, inputs, masks) {
    const x = inputs[0];
    const ax = resolveAxis(layer, layer.axis, x.shape.length);
    const slot = bnSlots(layer);
    const C = params[slot.mean].shape[0];
    expectDim(layer, x, ax, C, 'channels');
    const mu = params[slot.mean].data;
    const v = params[slot.variance].data;
    const r = new Float64Array(C);
    const inv = alloc(ctx.dtype, C);
    const shift = alloc(ctx.dtype, C);
    for (let c = 0; c < C; c++) {
      r[c] = 1 / Math.sqrt(v[c] + layer.epsilon);
      inv[c] = slot.gamma >= 0 ? r[c] * params[slot.gamma].data[c] : r[c];
      shift[c] = (slot.beta >= 0 ? params[slot.beta].data[c] : 0) - mu[c] * inv[c];
    }
    let inner = 1;
    for (let a = ax + 1; a < x.shape.length; a++) inner *= x.shape[a];
    const y = alloc(ctx.dtype, x.data.length);
    const xd = x.data;
    for (let o = 0; o < xd.length; o += C * inner) {
      for (let c = 0; c < C; c++) {
        const base = o + c * inner;
        const ic = inv[c];
        const sc = shift[c];
        for (let i = 0; i < inner; i++) y[base + i] = xd[base + i] * ic + sc;
      }
    }
    const cache: BnCache = { x, ax, r, inv };
    return { outputs: [{ shape: [...x.shape], data: y }], masks: [masks[0] ?? null], cache };
  },

  backward(ctx, layer, params, cache, dOutputs, dParams) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const { x, ax, r, inv } = cache as BnCache;
    const slot = bnSlots(layer);
    const C = r.length;
    let inner = 1;
    for (let a = ax + 1; a < x.shape.length; a++) inner *= x.shape[a];
    const mu = params[slot.mean].data;
    const g = dY.data;
    const xd = x.data;
    const dX = alloc(ctx.dtype, xd.length);
    const dGamma = slot.gamma >= 0 ? dParams[slot.gamma].data : null;
    const dBeta = slot.beta >= 0 ? dParams[slot.beta].data : null;
    for (let o = 0; o < xd.length; o += C * inner) {
      for (let c = 0; c < C; c++) {
        const base = o + c * inner;
        const ic = inv[c];
        let sg = 0;
        let sgx = 0;
        for (let i = 0; i < inner; i++) {
          const gi = g[base + i];
          dX[base + i] = gi * ic;
          sg += gi;
          sgx += gi * (xd[base + i] - mu[c]);
        }
        if (dGamma !== null) dGamma[c] += sgx * r[c];
        if (dBeta !== null) dBeta[c] += sg;
      }
    }
    return [{ shape: [...x.shape], data: dX }];
  },
};

interface LnCache {
  x: Tensor;
  /** Normalization group of each element, and its index into γ/β. */
  grp: Int32Array;
  pidx: Int32Array;
  mean: Float64Array;
  r: Float64Array;
  /** values per group */
  n: number;
}

/** For each flat index: its group (index over the kept axes) and its parameter index (over the normalized axes). */
function groupMaps(
  shape: readonly number[],
  axes: readonly number[],
): { grp: Int32Array; pidx: Int32Array; groups: number; n: number } {
  const rank = shape.length;
  const pStride = new Array<number>(rank).fill(0);
  const gStride = new Array<number>(rank).fill(0);
  let ps = 1;
  let gs = 1;
  for (let a = rank - 1; a >= 0; a--) {
    if (axes.includes(a)) {
      pStride[a] = ps;
      ps *= shape[a];
    } else {
      gStride[a] = gs;
      gs *= shape[a];
    }
  }
  let total = 1;
  for (const d of shape) total *= d;
  const grp = new Int32Array(total);
  const pidx = new Int32Array(total);
  const idx = new Int32Array(rank);
  let gOff = 0;
  let pOff = 0;
  for (let i = 0; i < total; i++) {
    grp[i] = gOff;
    pidx[i] = pOff;
    for (let a = rank - 1; a >= 0; a--) {
      idx[a]++;
      gOff += gStride[a];
      pOff += pStride[a];
      if (idx[a] < shape[a]) break;
      gOff -= idx[a] * gStride[a];
      pOff -= idx[a] * pStride[a];
      idx[a] = 0;
    }
  }
  return { grp, pidx, groups: gs, n: ps };
}

export const layerNormLayer: LayerImpl<LayerNorm> = {
  forward(ctx, layer, params, inputs, masks) {
    const x = inputs[0];
    const rank = x.shape.length;
    const axes = [...new Set(layer.axis.map((a) => resolveAxis(layer, a, rank)))].sort((a, b) => a - b);
    const { grp, pidx, groups, n } = groupMaps(x.shape, axes);
    let k = 0;
    const gamma = layer.scale ? params[k++].data : null;
    const beta = layer.center ? params[k++].data : null;
    if (gamma !== null || beta !== null) {
      const p = params[0];
      for (let i = 0; i < axes.length; i++)
        expectDim(layer, x, axes[i], p.shape[i], 'values (the shape of gamma/beta)');
    }
    const xd = x.data;
    const mean = new Float64Array(groups);
    const r = new Float64Array(groups);
    for (let i = 0; i < xd.length; i++) mean[grp[i]] += xd[i];
    for (let q = 0; q < groups; q++) mean[q] /= n;
    for (let i = 0; i < xd.length; i++) {
      const dv = xd[i] - mean[grp[i]];
      r[grp[i]] += dv * dv;
    }
    for (let q = 0; q < groups; q++) r[q] = 1 / Math.sqrt(r[q] / n + layer.epsilon);
    const y = alloc(ctx.dtype, xd.length);
    for (let i = 0; i < xd.length; i++) {
      const q = grp[i];
      const p = pidx[i];
      const xh = (xd[i] - mean[q]) * r[q];
      y[i] = (gamma !== null ? xh * gamma[p] : xh) + (beta !== null ? beta[p] : 0);
    }
    const cache: LnCache = { x, grp, pidx, mean, r, n };
    return { outputs: [{ shape: [...x.shape], data: y }], masks: [masks[0] ?? null], cache };
  },

  backward(ctx, layer, params, cache, dOutputs, dParams) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const { x, grp, pidx, mean, r, n } = cache as LnCache;
    let k = 0;
    const gi = layer.scale ? k++ : -1;
    const bi = layer.center ? k++ : -1;
    const gamma = gi >= 0 ? params[gi].data : null;
    const dGamma = gi >= 0 ? dParams[gi].data : null;
    const dBeta = bi >= 0 ? dParams[bi].data : null;
    const xd = x.data;
    const dy = dY.data;
    const groups = mean.length;
    // Per group: mean(g) and mean(g·x̂), g = dy·γ.
    const mg = new Float64Array(groups);
    const mgx = new Float64Array(groups);
    for (let i = 0; i < xd.length; i++) {
      const q = grp[i];
      const p = pidx[i];
      const xh = (xd[i] - mean[q]) * r[q];
      const g = gamma !== null ? dy[i] * gamma[p] : dy[i];
      mg[q] += g;
      mgx[q] += g * xh;
      if (dGamma !== null) dGamma[p] += dy[i] * xh;
      if (dBeta !== null) dBeta[p] += dy[i];
    }
    for (let q = 0; q < groups; q++) {
      mg[q] /= n;
      mgx[q] /= n;
    }
    const dX = alloc(ctx.dtype, xd.length);
    for (let i = 0; i < xd.length; i++) {
      const q = grp[i];
      const xh = (xd[i] - mean[q]) * r[q];
      const g = gamma !== null ? dy[i] * gamma[pidx[i]] : dy[i];
      dX[i] = r[q] * (g - mg[q] - xh * mgx[q]);
    }
    return [{ shape: [...x.shape], data: dX }];
  },
};
