// MaxPooling1D / AveragePooling1D and GlobalMax/GlobalAveragePooling1D,
// channels_last, x (B, L, C).
//
// Pooling1D follows TF's pools (Keras 3 TF backend: tf.nn.max_pool / avg_pool):
// window extent = pool_size, output length and left padding as for a conv
// (window1D in conv1d.ts); padded positions are ignored — max over the valid
// elements, and 'same' average pooling divides by the number of valid
// elements in the window (tf.nn "Notes on padding": "In case of pools, the
// padded input values are ignored").
// Gradients: average pooling spreads dy/count over the window; max pooling
// gives dy to the first maximal element of the window (TF's CPU MaxPoolGrad
// uses the argmax of a strict `>` scan).
//
// Global pooling reduces the steps axis. GlobalAveragePooling1D is mask-aware
// (keras/src/layers/pooling/global_average_pooling1d.py: sum over valid steps /
// number of valid steps); GlobalMaxPooling1D ignores the mask. Neither outputs
// a mask; Pooling1D drops it. The gradient of the global max is split equally
// among tied maxima (TF's reduce_max gradient, math_grad.py _MinOrMaxGrad).
// Keras note: a sample whose steps are all masked gives 0/0 = NaN in Keras;
// rnnscope raises a DataError instead.
// data_format='channels_first' reduces the last axis instead: the input is
// swapped to (B, steps, channels) first and the gradient swapped back. Keras
// then reads a mask along that last axis, which no mask-producing layer gives,
// so a mask there is refused.

import type { LayerSpec } from '../../model/types.js';
import { DataError, ModelError } from '../../model/errors.js';
import type { LayerImpl } from '../layer.js';
import type { Mask, Tensor } from '../tensor.js';
import { alloc } from '../tensor.js';
import { checkMask, expectRank, fmtDims } from './basic-util.js';
import { window1D, type Window1D } from './conv1d.js';

type Pooling1D = Extract<LayerSpec, { type: 'Pooling1D' }>;
type GlobalPooling1D = Extract<LayerSpec, { type: 'GlobalPooling1D' }>;

interface PoolCache {
  inShape: number[];
  win: Window1D;
  /** max: flat input index chosen for each output element. */
  argmax: Int32Array | null;
}

export const pooling1dLayer: LayerImpl<Pooling1D> = {
  forward(ctx, layer, _params, inputs) {
    const x = inputs[0];
    expectRank(layer, x, [3], '(batch, steps, channels)');
    const [B, L, C] = x.shape;
    const k = layer.poolSize;
    const s = layer.strides;
    const win = window1D(layer.padding, L, k, s);
    const Lo = win.outLen;
    if (Lo <= 0) {
      throw new DataError(
        `${layer.className} '${layer.name}' got an input of shape ${fmtDims(x.shape)}, shorter than its pool size ${layer.poolSize}; expected at least that many steps, use longer sequences or padding='same'.`,
      );
    }
    const y = alloc(ctx.dtype, B * Lo * C);
    const argmax = layer.mode === 'max' ? new Int32Array(B * Lo * C) : null;
    const xd = x.data;
    for (let b = 0; b < B; b++) {
      for (let o = 0; o < Lo; o++) {
        // valid input range [a, e) of this window
        const a = Math.max(o * s - win.padL, 0);
        const e = Math.min(o * s - win.padL + k, L);
        const yo = (b * Lo + o) * C;
        for (let c = 0; c < C; c++) {
          let p = (b * L + a) * C + c;
          if (argmax !== null) {
            let best = p;
            for (let i = a + 1; i < e; i++) {
              p += C;
              if (xd[p] > xd[best]) best = p;
            }
            y[yo + c] = xd[best];
            argmax[yo + c] = best;
          } else {
            let sum = 0;
            for (let i = a; i < e; i++, p += C) sum += xd[p];
            y[yo + c] = sum / (e - a);
          }
        }
      }
    }
    const cache: PoolCache = { inShape: x.shape, win, argmax };
    return { outputs: [{ shape: [B, Lo, C], data: y }], masks: [null], cache };
  },

  backward(ctx, layer, _params, cache, dOutputs) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const { inShape, win, argmax } = cache as PoolCache;
    const [B, L, C] = inShape;
    const k = layer.poolSize;
    const s = layer.strides;
    const Lo = win.outLen;
    const g = dY.data;
    const dX = alloc(ctx.dtype, B * L * C);
    if (argmax !== null) {
      for (let i = 0; i < g.length; i++) dX[argmax[i]] += g[i];
    } else {
      for (let b = 0; b < B; b++) {
        for (let o = 0; o < Lo; o++) {
          const a = Math.max(o * s - win.padL, 0);
          const e = Math.min(o * s - win.padL + k, L);
          const yo = (b * Lo + o) * C;
          const inv = 1 / (e - a);
          for (let c = 0; c < C; c++) {
            const v = g[yo + c] * inv;
            for (let i = a, p = (b * L + a) * C + c; i < e; i++, p += C) dX[p] += v;
          }
        }
      }
    }
    return [{ shape: [...inShape], data: dX }];
  },
};

/** (B, A, C) → (B, C, A). */
function swapLast(dtype: Parameters<typeof alloc>[0], x: Tensor): Tensor {
  const [B, A, C] = x.shape;
  const out = alloc(dtype, B * A * C);
  const xd = x.data;
  for (let b = 0; b < B; b++)
    for (let a = 0; a < A; a++) for (let c = 0; c < C; c++) out[(b * C + c) * A + a] = xd[(b * A + a) * C + c];
  return { shape: [B, C, A], data: out };
}

interface GlobalCache {
  channelsFirst: boolean;
  inShape: number[];
  /** avg: valid-step mask (null = all valid) and 1/count per sample. */
  mask: Mask | null;
  invCount: Float64Array | null;
  /** max: the input, to find the tied maxima again. */
  x: Tensor | null;
  y: Tensor | null;
}

export const globalPooling1dLayer: LayerImpl<GlobalPooling1D> = {
  forward(ctx, layer, _params, inputs, masks) {
    const channelsFirst = layer.channelsFirst === true;
    expectRank(layer, inputs[0], [3], channelsFirst ? '(batch, channels, steps)' : '(batch, steps, channels)');
    if (channelsFirst && masks[0])
      throw new ModelError(
        `${layer.className} '${layer.name}' has data_format='channels_first' and gets a mask; rnnscope reads masks only along the steps axis of channels_last; remove the masking layer or re-save with channels_last.`,
      );
    const x = channelsFirst ? swapLast(ctx.dtype, inputs[0]) : inputs[0];
    const [B, T, C] = x.shape;
    const xd = x.data;
    const y = alloc(ctx.dtype, B * C);
    const out: Tensor = { shape: [B, C], data: y };
    if (layer.mode === 'max') {
      for (let b = 0; b < B; b++) {
        for (let c = 0; c < C; c++) {
          let m = -Infinity;
          for (let t = 0, p = b * T * C + c; t < T; t++, p += C) if (xd[p] > m || Number.isNaN(xd[p])) m = xd[p];
          y[b * C + c] = m;
        }
      }
      const cache: GlobalCache = { channelsFirst, inShape: x.shape, mask: null, invCount: null, x, y: out };
      return { outputs: [out], masks: [null], cache };
    }
    const mask = masks[0] ?? null;
    checkMask(layer, x, mask);
    const invCount = new Float64Array(B);
    for (let b = 0; b < B; b++) {
      let n = T;
      if (mask !== null) {
        n = 0;
        for (let t = 0; t < T; t++) n += mask.data[b * T + t];
        if (n === 0) {
          throw new DataError(
            `GlobalAveragePooling1D '${layer.name}' got sample ${b} with every step masked; expected at least one valid step (Keras would return NaN), drop empty sequences from the batch.`,
          );
        }
      }
      invCount[b] = 1 / n;
      for (let c = 0; c < C; c++) {
        let sum = 0;
        for (let t = 0, p = b * T * C + c; t < T; t++, p += C) if (mask === null || mask.data[b * T + t]) sum += xd[p];
        y[b * C + c] = sum / n;
      }
    }
    const cache: GlobalCache = { channelsFirst, inShape: x.shape, mask, invCount, x: null, y: null };
    return { outputs: [out], masks: [null], cache };
  },

  backward(ctx, _layer, _params, cache, dOutputs) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const c0 = cache as GlobalCache;
    const [B, T, C] = c0.inShape;
    const g = dY.data;
    const dX = alloc(ctx.dtype, B * T * C);
    if (c0.x !== null && c0.y !== null) {
      const xd = c0.x.data;
      const yd = c0.y.data;
      for (let b = 0; b < B; b++) {
        for (let c = 0; c < C; c++) {
          const m = yd[b * C + c];
          let ties = 0;
          for (let t = 0, p = b * T * C + c; t < T; t++, p += C) if (xd[p] === m) ties++;
          if (ties === 0) continue;
          const v = g[b * C + c] / ties;
          for (let t = 0, p = b * T * C + c; t < T; t++, p += C) if (xd[p] === m) dX[p] = v;
        }
      }
    } else {
      const mask = c0.mask;
      const inv = c0.invCount!;
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          if (mask !== null && !mask.data[b * T + t]) continue;
          const o = (b * T + t) * C;
          for (let c = 0; c < C; c++) dX[o + c] = g[b * C + c] * inv[b];
        }
      }
    }
    const dIn: Tensor = { shape: [...c0.inShape], data: dX };
    return [c0.channelsFirst ? swapLast(ctx.dtype, dIn) : dIn];
  },
};
