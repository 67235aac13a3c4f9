// Conv1D, channels_last: x (B, L, C), kernel (k, C, F) and bias (F,) in Keras
// layout, y (B, Lo, F):
//   y[b, o, :] = act( Σ_j x[b, o·s + j·d − padL, :] · K[j] + bias )
// (cross-correlation, as TF's conv; taps reading outside [0, L) read zeros).
//
// Padding (TF, tensorflow/core/framework/kernel_shape_util.cc
// GetWindowedOutputSizeVerbose; tf.nn "Notes on padding"), with the dilated
// kernel extent e = (k−1)·d + 1:
//   valid   Lo = ceil((L − e + 1) / s), padL = 0
//   same    Lo = ceil(L / s), total = max((Lo−1)·s + e − L, 0), padL = floor(total/2)
//           (the odd extra zero goes on the right)
//   causal  Keras pads (k−1)·d zeros on the left, then runs 'valid'
//           (keras/src/layers/convolutional/conv1d.py _compute_causal_padding):
//           Lo = ceil(L / s), padL = (k−1)·d
//
// Speed: one gemm per (sample, tap): the rows o·s + j·d − padL of one sample
// are evenly spaced, so they are a matrix with leading dimension s·C; no
// im2col buffer is needed.
//
// Mask: dropped (Conv1D does not support masking in Keras).

import type { LayerSpec, Padding } from '../../model/types.js';
import { DataError } from '../../model/errors.js';
import type { LayerImpl } from '../layer.js';
import type { Tensor } from '../tensor.js';
import { alloc } from '../tensor.js';
import { actBackward, actForward, actOf, expectDim, expectRank, fmtDims, type ActState } from './basic-util.js';

type Conv1D = Extract<LayerSpec, { type: 'Conv1D' }>;

export interface Window1D {
  outLen: number;
  padL: number;
}

/** Output length and left padding of a 1-D window op (conv or pooling) with extent `e` (dilated kernel or pool size).
 * */
export function window1D(padding: Padding, len: number, e: number, s: number): Window1D {
  switch (padding) {
    case 'valid':
      return { outLen: Math.max(0, Math.ceil((len - e + 1) / s)), padL: 0 };
    case 'same': {
      const outLen = Math.ceil(len / s);
      return { outLen, padL: Math.floor(Math.max((outLen - 1) * s + e - len, 0) / 2) };
    }
    case 'causal':
      return { outLen: Math.ceil(len / s), padL: e - 1 };
  }
}

/** Range of outputs o whose tap at input offset `shift` (= j·d − padL) lands inside [0, len): o ∈ [lo, hi). */
function tapRange(shift: number, s: number, len: number, outLen: number): [number, number] {
  const lo = shift >= 0 ? 0 : Math.ceil(-shift / s);
  const hi = Math.min(outLen, Math.floor((len - 1 - shift) / s) + 1);
  return [lo, Math.max(lo, hi)];
}

interface ConvCache {
  x: Tensor;
  win: Window1D;
  act: ActState;
}

export const conv1dLayer: LayerImpl<Conv1D> = {
  forward(ctx, layer, params, inputs) {
    const x = inputs[0];
    expectRank(layer, x, [3], '(batch, steps, channels)');
    const [B, L, C] = x.shape;
    const k = layer.kernelSize;
    const F = layer.filters;
    const s = layer.strides;
    const d = layer.dilationRate;
    expectDim(layer, x, 2, params[0].shape[1], 'channels');
    const win = window1D(layer.padding, L, (k - 1) * d + 1, s);
    const Lo = win.outLen;
    if (Lo <= 0) {
      throw new DataError(
        `Conv1D '${layer.name}' got an input of shape ${fmtDims(x.shape)}, shorter than its dilated kernel (${(k - 1) * d + 1} steps); expected at least that many steps, use longer sequences or padding='same'.`,
      );
    }
    const K = params[0].data;
    const z = alloc(ctx.dtype, B * Lo * F);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < k; j++) {
        const shift = j * d - win.padL;
        const [lo, hi] = tapRange(shift, s, L, Lo);
        if (hi <= lo) continue;
        ctx.kernels.gemm(
          false,
          false,
          hi - lo,
          F,
          C,
          x.data,
          (b * L + lo * s + shift) * C,
          s * C,
          K,
          j * C * F,
          F,
          1,
          z,
          (b * Lo + lo) * F,
          F,
        );
      }
    }
    if (layer.useBias) {
      const bias = params[1].data;
      for (let r = 0, o = 0; r < B * Lo; r++, o += F) for (let f = 0; f < F; f++) z[o + f] += bias[f];
    }
    const act = actForward(actOf(layer, layer.activation, 3), ctx.dtype, z, F);
    const cache: ConvCache = { x, win, act };
    return { outputs: [{ shape: [B, Lo, F], data: act.y }], masks: [null], cache };
  },

  backward(ctx, layer, params, cache, dOutputs, dParams) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const { x, win, act } = cache as ConvCache;
    const [B, L, C] = x.shape;
    const k = layer.kernelSize;
    const F = layer.filters;
    const s = layer.strides;
    const d = layer.dilationRate;
    const Lo = win.outLen;
    const dZ = actBackward(act, ctx.dtype, dY.data);
    if (layer.useBias) {
      const db = dParams[1].data;
      for (let r = 0, o = 0; r < B * Lo; r++, o += F) for (let f = 0; f < F; f++) db[f] += dZ[o + f];
    }
    const K = params[0].data;
    const dK = dParams[0].data;
    const dX = alloc(ctx.dtype, x.data.length);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < k; j++) {
        const shift = j * d - win.padL;
        const [lo, hi] = tapRange(shift, s, L, Lo);
        if (hi <= lo) continue;
        const xo = (b * L + lo * s + shift) * C;
        const yo = (b * Lo + lo) * F;
        // dK[j] += X_rowsᵀ·dZ_rows ; dX_rows += dZ_rows·K[j]ᵀ
        ctx.kernels.gemm(true, false, C, F, hi - lo, x.data, xo, s * C, dZ, yo, F, 1, dK, j * C * F, F);
        ctx.kernels.gemm(false, true, hi - lo, C, F, dZ, yo, F, K, j * C * F, F, 1, dX, xo, s * C);
      }
    }
    return [{ shape: [B, L, C], data: dX }];
  },
};
