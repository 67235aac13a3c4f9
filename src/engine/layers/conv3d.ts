// Conv3D, MaxPooling3D / AveragePooling3D and GlobalMax/GlobalAveragePooling3D, channels_last,
// x (B, D, H, W, C) (docs/conv-lstm.md: the layers around ConvLSTM models).
//
// Conv3D: y[b, o] = act( Σ_taps x[b, o·s + j·d − pad] · K[j] + bias ), kernel (kd, kh, kw, C, F), taps
// outside the volume read zeros, 'same' padded as TF pads it. im2col (engine/cells/conv-nd.ts) + one gemm
// per chunk of volumes, as Conv2D (conv2d.ts): Z = cols·K, dK += colsᵀ·dZ, dcols = dZ·Kᵀ scattered back.
// The columns are rebuilt in the backward rather than kept (a chunk holds ~2M values).
//
// Pooling3D follows TF's pools as Pooling2D does (pooling2d.ts): padded positions ignored (max over the
// valid elements, 'same' average divides by the number of valid elements), the max's gradient to the first
// maximal element in row-major window order. Global pooling reduces the three spatial axes; the global
// max splits its gradient equally among tied maxima (TF's reduce_max gradient). No masks.

import type { LayerSpec } from '../../model/types.js';
import { DataError } from '../../model/errors.js';
import type { LayerImpl } from '../layer.js';
import type { Tensor } from '../tensor.js';
import { alloc } from '../tensor.js';
import { col2im, geomND, im2col, tapList, type GeomND, type TapList } from '../cells/conv-nd.js';
import { actBackward, actForward, actOf, expectDim, expectRank, fmtDims, type ActState } from './basic-util.js';

type Spec<K extends LayerSpec['type']> = Extract<LayerSpec, { type: K }>;

const CHUNK_VALUES = 1 << 21;
const VOLUME = '(batch, depth, rows, cols, channels)';

function geom(layer: LayerSpec, x: Tensor, k: number[], s: number[], d: number[], padding: 'valid' | 'same'): GeomND {
  const g = geomND(x.shape.slice(1, 4), x.shape[4]!, k, s, d, padding);
  if (g.P === 0)
    throw new DataError(
      `${layer.className} '${layer.name}' got an input of shape ${fmtDims(x.shape)}, smaller than its window (${k.join('×')}); expected volumes at least that large, use larger inputs or padding='same'.`,
    );
  return g;
}

interface ConvCache {
  x: Tensor;
  t: TapList;
  act: ActState;
}

export const conv3dLayer: LayerImpl<Spec<'Conv3D'>> = {
  forward(ctx, layer, params, inputs) {
    const x = inputs[0];
    expectRank(layer, x, [5], VOLUME);
    expectDim(layer, x, 4, params[0].shape[3], 'channels');
    const t = tapList(geom(layer, x, layer.kernelSize, layer.strides, layer.dilationRate, layer.padding));
    const { P, K, o } = t.g;
    const B = x.shape[0],
      F = layer.filters,
      Xv = x.data.length / Math.max(B, 1);
    const z = alloc(ctx.dtype, B * P * F);
    const step = Math.max(1, Math.floor(CHUNK_VALUES / (P * K)));
    const cols = alloc(ctx.dtype, Math.min(step, B) * P * K);
    for (let b0 = 0; b0 < B; b0 += step) {
      const n = Math.min(step, B - b0);
      for (let i = 0; i < n; i++) im2col(t, x.data, (b0 + i) * Xv, cols, i * P * K);
      ctx.kernels.gemm(false, false, n * P, F, K, cols, 0, K, params[0].data, 0, F, 0, z, b0 * P * F, F);
    }
    if (layer.useBias) {
      const bias = params[1].data;
      for (let q = 0; q < z.length; q += F) for (let f = 0; f < F; f++) z[q + f] += bias[f];
    }
    const act = actForward(actOf(layer, layer.activation, 5), ctx.dtype, z, F);
    const cache: ConvCache = { x, t, act };
    return { outputs: [{ shape: [B, ...o, F], data: act.y }], masks: [null], cache };
  },

  backward(ctx, layer, params, cache, dOutputs, dParams) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const { x, t, act } = cache as ConvCache;
    const { P, K } = t.g;
    const B = x.shape[0],
      F = layer.filters,
      Xv = x.data.length / Math.max(B, 1);
    const dZ = actBackward(act, ctx.dtype, dY.data);
    if (layer.useBias) {
      const db = dParams[1].data;
      for (let q = 0; q < dZ.length; q += F) for (let f = 0; f < F; f++) db[f] += dZ[q + f];
    }
    const dX = alloc(ctx.dtype, x.data.length);
    const step = Math.max(1, Math.floor(CHUNK_VALUES / (P * K)));
    const cols = alloc(ctx.dtype, Math.min(step, B) * P * K);
    const dcols = alloc(ctx.dtype, cols.length);
    for (let b0 = 0; b0 < B; b0 += step) {
      const n = Math.min(step, B - b0);
      for (let i = 0; i < n; i++) im2col(t, x.data, (b0 + i) * Xv, cols, i * P * K);
      ctx.kernels.gemm(true, false, K, F, n * P, cols, 0, K, dZ, b0 * P * F, F, 1, dParams[0].data, 0, F);
      ctx.kernels.gemm(false, true, n * P, K, F, dZ, b0 * P * F, F, params[0].data, 0, F, 0, dcols, 0, K);
      for (let i = 0; i < n; i++) col2im(t, dcols, i * P * K, dX, (b0 + i) * Xv);
    }
    return [{ shape: [...x.shape], data: dX }];
  },
};

interface PoolCache {
  inShape: number[];
  g: GeomND;
  argmax: Int32Array | null;
}

/** Valid window [a, e) of output o along axis a. */
function span(g: GeomND, a: number, o: number): [number, number] {
  const lo = o * g.s[a]! - g.pad[a]!;
  return [Math.max(lo, 0), Math.min(lo + g.k[a]!, g.n[a]!)];
}

/** Calls f(yOffset, [z0, z1, y0, y1, x0, x1]) for every output position of every volume (offsets without channels). */
function eachWindow(g: GeomND, B: number, f: (yo: number, xb: number, w: number[]) => void): void {
  const [D, H, W] = g.n,
    [Do, Ho, Wo] = g.o;
  let yo = 0;
  for (let b = 0; b < B; b++)
    for (let z = 0; z < Do; z++)
      for (let y = 0; y < Ho; y++)
        for (let x = 0; x < Wo; x++, yo++) f(yo, b * D * H * W, [...span(g, 0, z), ...span(g, 1, y), ...span(g, 2, x)]);
}

export const pooling3dLayer: LayerImpl<Spec<'Pooling3D'>> = {
  forward(ctx, layer, _params, inputs) {
    const x = inputs[0];
    expectRank(layer, x, [5], VOLUME);
    const g = geom(layer, x, layer.poolSize, layer.strides, [1, 1, 1], layer.padding);
    const [, H, W] = g.n,
      C = g.C,
      B = x.shape[0];
    const y = alloc(ctx.dtype, B * g.P * C);
    const argmax = layer.mode === 'max' ? new Int32Array(y.length) : null;
    const xd = x.data;
    eachWindow(g, B, (yo, xb, [z0, z1, y0, y1, x0, x1]) => {
      for (let c = 0; c < C; c++) {
        let best = -1,
          sum = 0;
        for (let i = z0!; i < z1!; i++)
          for (let j = y0!; j < y1!; j++)
            for (let l = x0!; l < x1!; l++) {
              const p = (xb + (i * H + j) * W + l) * C + c;
              if (best < 0 || xd[p] > xd[best]) best = p;
              sum += xd[p];
            }
        if (argmax) {
          y[yo * C + c] = xd[best];
          argmax[yo * C + c] = best;
        } else y[yo * C + c] = sum / ((z1! - z0!) * (y1! - y0!) * (x1! - x0!));
      }
    });
    const cache: PoolCache = { inShape: x.shape, g, argmax };
    return { outputs: [{ shape: [B, ...g.o, C], data: y }], masks: [null], cache };
  },

  backward(ctx, _layer, _params, cache, dOutputs) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const { inShape, g, argmax } = cache as PoolCache;
    const [, H, W] = g.n,
      C = g.C;
    const gd = dY.data;
    const dX = alloc(
      ctx.dtype,
      inShape.reduce((a, d) => a * d, 1),
    );
    if (argmax) {
      for (let i = 0; i < gd.length; i++) dX[argmax[i]!] += gd[i];
      return [{ shape: [...inShape], data: dX }];
    }
    eachWindow(g, inShape[0]!, (yo, xb, [z0, z1, y0, y1, x0, x1]) => {
      const inv = 1 / ((z1! - z0!) * (y1! - y0!) * (x1! - x0!));
      for (let i = z0!; i < z1!; i++)
        for (let j = y0!; j < y1!; j++)
          for (let l = x0!; l < x1!; l++) {
            const p = (xb + (i * H + j) * W + l) * C;
            for (let c = 0; c < C; c++) dX[p + c] += gd[yo * C + c] * inv;
          }
    });
    return [{ shape: [...inShape], data: dX }];
  },
};

interface GlobalCache {
  x: Tensor;
  y: Tensor;
}

export const globalPooling3dLayer: LayerImpl<Spec<'GlobalPooling3D'>> = {
  forward(ctx, layer, _params, inputs) {
    const x = inputs[0];
    expectRank(layer, x, [5], VOLUME);
    const [B, D, H, W, C] = x.shape as [number, number, number, number, number];
    const n = D * H * W,
      xd = x.data;
    const y = alloc(ctx.dtype, B * C);
    for (let b = 0; b < B; b++)
      for (let c = 0; c < C; c++) {
        let m = layer.mode === 'max' ? -Infinity : 0;
        for (let p = 0, q = b * n * C + c; p < n; p++, q += C) {
          if (layer.mode === 'avg') m += xd[q];
          else if (xd[q] > m || Number.isNaN(xd[q])) m = xd[q];
        }
        y[b * C + c] = layer.mode === 'avg' ? m / n : m;
      }
    const out: Tensor = { shape: [B, C], data: y };
    return { outputs: [out], masks: [null], cache: { x, y: out } satisfies GlobalCache };
  },

  backward(ctx, layer, _params, cache, dOutputs) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const { x, y } = cache as GlobalCache;
    const [B, D, H, W, C] = x.shape as [number, number, number, number, number];
    const n = D * H * W,
      xd = x.data,
      gd = dY.data;
    const dX = alloc(ctx.dtype, xd.length);
    for (let b = 0; b < B; b++)
      for (let c = 0; c < C; c++) {
        const base = b * n * C + c;
        if (layer.mode === 'avg') {
          for (let p = 0, q = base; p < n; p++, q += C) dX[q] = gd[b * C + c] / n;
          continue;
        }
        const m = y.data[b * C + c];
        let ties = 0;
        for (let p = 0, q = base; p < n; p++, q += C) if (xd[q] === m) ties++;
        if (ties === 0) continue;
        for (let p = 0, q = base; p < n; p++, q += C) if (xd[q] === m) dX[q] = gd[b * C + c] / ties;
      }
    return [{ shape: [...x.shape], data: dX }];
  },
};
