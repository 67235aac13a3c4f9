// Conv2D, channels_last: x (B, H, W, C), kernel (kh, kw, C, F) and bias (F,) in
// Keras layout, y (B, Ho, Wo, F):
//   y[b, oy, ox, :] = act( Σ_{i,j} x[b, oy·sh + i·dh − padT, ox·sw + j·dw − padL, :] · K[i, j] + bias )
// (cross-correlation as TF's conv2d; taps outside the image read zeros). Each
// spatial axis is padded as TF pads it (window1D in conv1d.ts: 'same' puts the odd
// extra zero at the bottom / right).
//
// Speed: im2col + one gemm per chunk of images. The columns of a chunk are a
// (rows = images·Ho·Wo, kh·kw·C) matrix in the kernel's own flattening, so
//   Z = cols · K                     (forward)
//   dK += colsᵀ · dZ, dcols = dZ · Kᵀ  (backward; dcols is scattered back, col2im)
// The columns are rebuilt in the backward rather than kept: a chunk holds at most
// ~2M values, so memory stays bounded for long videos.
//
// Mask: dropped (Conv2D does not support masking in Keras).

import type { LayerSpec } from '../../model/types.js';
import { DataError } from '../../model/errors.js';
import type { LayerImpl } from '../layer.js';
import type { Arr, Tensor } from '../tensor.js';
import { alloc } from '../tensor.js';
import { actBackward, actForward, actOf, expectDim, expectRank, fmtDims, type ActState } from './basic-util.js';
import { window1D } from './conv1d.js';

type Conv2D = Extract<LayerSpec, { type: 'Conv2D' }>;

/** Geometry of a 2-D window op (conv or pooling) on one (H, W) image. */
export interface Geom2D {
  H: number;
  W: number;
  C: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  Ho: number;
  Wo: number;
  padT: number;
  padL: number;
}

export function geom2d(
  layer: LayerSpec,
  x: Tensor,
  k: [number, number],
  s: [number, number],
  d: [number, number],
  padding: 'valid' | 'same',
): Geom2D {
  const [, H, W, C] = x.shape;
  const eh = (k[0] - 1) * d[0] + 1;
  const ew = (k[1] - 1) * d[1] + 1;
  const wy = window1D(padding, H, eh, s[0]);
  const wx = window1D(padding, W, ew, s[1]);
  if (wy.outLen <= 0 || wx.outLen <= 0) {
    throw new DataError(
      `${layer.className} '${layer.name}' got an input of shape ${fmtDims(x.shape)}, smaller than its window (${eh}×${ew}); expected images at least that large, use larger inputs or padding='same'.`,
    );
  }
  return {
    H,
    W,
    C,
    kh: k[0],
    kw: k[1],
    sh: s[0],
    sw: s[1],
    dh: d[0],
    dw: d[1],
    Ho: wy.outLen,
    Wo: wx.outLen,
    padT: wy.padL,
    padL: wx.padL,
  };
}

const CHUNK_VALUES = 1 << 21;

/** Columns of images [b0, b0+n) into cols (n·Ho·Wo rows of kh·kw·C). */
function im2col(g: Geom2D, x: Arr, b0: number, n: number, cols: Arr): void {
  const { H, W, C, kh, kw, sh, sw, dh, dw, Ho, Wo, padT, padL } = g;
  const K = kh * kw * C;
  let r = 0;
  for (let b = b0; b < b0 + n; b++) {
    const xb = b * H * W * C;
    for (let oy = 0; oy < Ho; oy++) {
      for (let ox = 0; ox < Wo; ox++, r++) {
        let o = r * K;
        for (let i = 0; i < kh; i++) {
          const y = oy * sh + i * dh - padT;
          for (let j = 0; j < kw; j++, o += C) {
            const xx = ox * sw + j * dw - padL;
            if (y < 0 || y >= H || xx < 0 || xx >= W) cols.fill(0, o, o + C);
            else {
              const src = xb + (y * W + xx) * C;
              for (let c = 0; c < C; c++) cols[o + c] = x[src + c];
            }
          }
        }
      }
    }
  }
}

/** dx[images b0..] += scatter of dcols (the transpose of im2col). */
function col2im(g: Geom2D, dcols: Arr, b0: number, n: number, dx: Arr): void {
  const { H, W, C, kh, kw, sh, sw, dh, dw, Ho, Wo, padT, padL } = g;
  const K = kh * kw * C;
  let r = 0;
  for (let b = b0; b < b0 + n; b++) {
    const xb = b * H * W * C;
    for (let oy = 0; oy < Ho; oy++) {
      for (let ox = 0; ox < Wo; ox++, r++) {
        let o = r * K;
        for (let i = 0; i < kh; i++) {
          const y = oy * sh + i * dh - padT;
          for (let j = 0; j < kw; j++, o += C) {
            const xx = ox * sw + j * dw - padL;
            if (y < 0 || y >= H || xx < 0 || xx >= W) continue;
            const dst = xb + (y * W + xx) * C;
            for (let c = 0; c < C; c++) dx[dst + c] += dcols[o + c];
          }
        }
      }
    }
  }
}

interface ConvCache {
  x: Tensor;
  g: Geom2D;
  act: ActState;
}

/** Images per chunk so that a chunk's columns stay near CHUNK_VALUES. */
function chunkOf(g: Geom2D): number {
  return Math.max(1, Math.floor(CHUNK_VALUES / (g.Ho * g.Wo * g.kh * g.kw * g.C)));
}

export const conv2dLayer: LayerImpl<Conv2D> = {
  forward(ctx, layer, params, inputs) {
    const x = inputs[0];
    expectRank(layer, x, [4], '(batch, rows, cols, channels)');
    expectDim(layer, x, 3, params[0].shape[2], 'channels');
    const g = geom2d(layer, x, layer.kernelSize, layer.strides, layer.dilationRate, layer.padding);
    const B = x.shape[0];
    const F = layer.filters;
    const K = g.kh * g.kw * g.C;
    const P = g.Ho * g.Wo;
    const z = alloc(ctx.dtype, B * P * F);
    const step = chunkOf(g);
    const cols = alloc(ctx.dtype, Math.min(step, B) * P * K);
    for (let b0 = 0; b0 < B; b0 += step) {
      const n = Math.min(step, B - b0);
      im2col(g, x.data, b0, n, cols);
      ctx.kernels.gemm(false, false, n * P, F, K, cols, 0, K, params[0].data, 0, F, 0, z, b0 * P * F, F);
    }
    if (layer.useBias) {
      const bias = params[1].data;
      for (let o = 0; o < z.length; o += F) for (let f = 0; f < F; f++) z[o + f] += bias[f];
    }
    const act = actForward(actOf(layer, layer.activation, 4), ctx.dtype, z, F);
    const cache: ConvCache = { x, g, act };
    return { outputs: [{ shape: [B, g.Ho, g.Wo, F], data: act.y }], masks: [null], cache };
  },

  backward(ctx, layer, params, cache, dOutputs, dParams) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const { x, g, act } = cache as ConvCache;
    const B = x.shape[0];
    const F = layer.filters;
    const K = g.kh * g.kw * g.C;
    const P = g.Ho * g.Wo;
    const dZ = actBackward(act, ctx.dtype, dY.data);
    if (layer.useBias) {
      const db = dParams[1].data;
      for (let o = 0; o < dZ.length; o += F) for (let f = 0; f < F; f++) db[f] += dZ[o + f];
    }
    const dX = alloc(ctx.dtype, x.data.length);
    const step = chunkOf(g);
    const cols = alloc(ctx.dtype, Math.min(step, B) * P * K);
    const dcols = alloc(ctx.dtype, cols.length);
    for (let b0 = 0; b0 < B; b0 += step) {
      const n = Math.min(step, B - b0);
      im2col(g, x.data, b0, n, cols);
      ctx.kernels.gemm(true, false, K, F, n * P, cols, 0, K, dZ, b0 * P * F, F, 1, dParams[0].data, 0, F);
      ctx.kernels.gemm(false, true, n * P, K, F, dZ, b0 * P * F, F, params[0].data, 0, F, 0, dcols, 0, K);
      col2im(g, dcols, b0, n, dX);
    }
    return [{ shape: [...x.shape], data: dX }];
  },
};
