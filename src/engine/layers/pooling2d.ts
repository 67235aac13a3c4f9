// MaxPooling2D / AveragePooling2D, GlobalMax/GlobalAveragePooling2D and
// ZeroPadding2D, channels_last, x (B, H, W, C).
//
// Pooling2D follows TF's pools as Pooling1D does (pooling.ts): window geometry as a
// conv's (geom2d in conv2d.ts), padded positions ignored (max over the valid
// elements, 'same' average divides by the number of valid elements); the max's
// gradient goes to the first maximal element in row-major window order (TF's CPU
// MaxPoolGrad argmax). Global pooling reduces rows and cols; the global max splits
// its gradient equally among tied maxima (TF's reduce_max gradient). No mask out.

import type { LayerSpec } from '../../model/types.js';
import type { LayerImpl } from '../layer.js';
import type { Tensor } from '../tensor.js';
import { alloc } from '../tensor.js';
import { expectRank } from './basic-util.js';
import { geom2d, type Geom2D } from './conv2d.js';

type Spec<K extends LayerSpec['type']> = Extract<LayerSpec, { type: K }>;

interface PoolCache {
  inShape: number[];
  g: Geom2D;
  argmax: Int32Array | null;
}

/** Valid window [a, e) of output o along one axis. */
function span(o: number, s: number, pad: number, k: number, len: number): [number, number] {
  return [Math.max(o * s - pad, 0), Math.min(o * s - pad + k, len)];
}

export const pooling2dLayer: LayerImpl<Spec<'Pooling2D'>> = {
  forward(ctx, layer, _params, inputs) {
    const x = inputs[0];
    expectRank(layer, x, [4], '(batch, rows, cols, channels)');
    const g = geom2d(layer, x, layer.poolSize, layer.strides, [1, 1], layer.padding);
    const { H, W, C, Ho, Wo } = g;
    const B = x.shape[0];
    const y = alloc(ctx.dtype, B * Ho * Wo * C);
    const argmax = layer.mode === 'max' ? new Int32Array(y.length) : null;
    const xd = x.data;
    for (let b = 0; b < B; b++) {
      for (let oy = 0; oy < Ho; oy++) {
        const [y0, y1] = span(oy, g.sh, g.padT, g.kh, H);
        for (let ox = 0; ox < Wo; ox++) {
          const [x0, x1] = span(ox, g.sw, g.padL, g.kw, W);
          const yo = ((b * Ho + oy) * Wo + ox) * C;
          for (let c = 0; c < C; c++) {
            if (argmax !== null) {
              let best = ((b * H + y0) * W + x0) * C + c;
              for (let i = y0; i < y1; i++) {
                for (let j = x0; j < x1; j++) {
                  const p = ((b * H + i) * W + j) * C + c;
                  if (xd[p] > xd[best]) best = p;
                }
              }
              y[yo + c] = xd[best];
              argmax[yo + c] = best;
            } else {
              let sum = 0;
              for (let i = y0; i < y1; i++) for (let j = x0; j < x1; j++) sum += xd[((b * H + i) * W + j) * C + c];
              y[yo + c] = sum / ((y1 - y0) * (x1 - x0));
            }
          }
        }
      }
    }
    const cache: PoolCache = { inShape: x.shape, g, argmax };
    return { outputs: [{ shape: [B, Ho, Wo, C], data: y }], masks: [null], cache };
  },

  backward(ctx, _layer, _params, cache, dOutputs) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const { inShape, g, argmax } = cache as PoolCache;
    const { H, W, C, Ho, Wo } = g;
    const B = inShape[0];
    const gd = dY.data;
    const dX = alloc(ctx.dtype, B * H * W * C);
    if (argmax !== null) {
      for (let i = 0; i < gd.length; i++) dX[argmax[i]] += gd[i];
      return [{ shape: [...inShape], data: dX }];
    }
    for (let b = 0; b < B; b++) {
      for (let oy = 0; oy < Ho; oy++) {
        const [y0, y1] = span(oy, g.sh, g.padT, g.kh, H);
        for (let ox = 0; ox < Wo; ox++) {
          const [x0, x1] = span(ox, g.sw, g.padL, g.kw, W);
          const inv = 1 / ((y1 - y0) * (x1 - x0));
          const yo = ((b * Ho + oy) * Wo + ox) * C;
          for (let i = y0; i < y1; i++) {
            for (let j = x0; j < x1; j++) {
              const p = ((b * H + i) * W + j) * C;
              for (let c = 0; c < C; c++) dX[p + c] += gd[yo + c] * inv;
            }
          }
        }
      }
    }
    return [{ shape: [...inShape], data: dX }];
  },
};

interface GlobalCache {
  x: Tensor;
  y: Tensor;
}

export const globalPooling2dLayer: LayerImpl<Spec<'GlobalPooling2D'>> = {
  forward(ctx, layer, _params, inputs) {
    const x = inputs[0];
    expectRank(layer, x, [4], '(batch, rows, cols, channels)');
    const [B, H, W, C] = x.shape;
    const n = H * W;
    const xd = x.data;
    const y = alloc(ctx.dtype, B * C);
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        let m = layer.mode === 'max' ? -Infinity : 0;
        for (let p = 0, q = b * n * C + c; p < n; p++, q += C) {
          if (layer.mode === 'avg') m += xd[q];
          else if (xd[q] > m || Number.isNaN(xd[q])) m = xd[q];
        }
        y[b * C + c] = layer.mode === 'avg' ? m / n : m;
      }
    }
    const out: Tensor = { shape: [B, C], data: y };
    const cache: GlobalCache = { x, y: out };
    return { outputs: [out], masks: [null], cache };
  },

  backward(ctx, layer, _params, cache, dOutputs) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const { x, y } = cache as GlobalCache;
    const [B, H, W, C] = x.shape;
    const n = H * W;
    const xd = x.data;
    const gd = dY.data;
    const dX = alloc(ctx.dtype, xd.length);
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        const base = b * n * C + c;
        if (layer.mode === 'avg') {
          const v = gd[b * C + c] / n;
          for (let p = 0, q = base; p < n; p++, q += C) dX[q] = v;
          continue;
        }
        const m = y.data[b * C + c];
        let ties = 0;
        for (let p = 0, q = base; p < n; p++, q += C) if (xd[q] === m) ties++;
        if (ties === 0) continue;
        const v = gd[b * C + c] / ties;
        for (let p = 0, q = base; p < n; p++, q += C) if (xd[q] === m) dX[q] = v;
      }
    }
    return [{ shape: [...x.shape], data: dX }];
  },
};

interface PadCache {
  inShape: number[];
}

export const zeroPadding2dLayer: LayerImpl<Spec<'ZeroPadding2D'>> = {
  forward(ctx, layer, _params, inputs) {
    const x = inputs[0];
    expectRank(layer, x, [4], '(batch, rows, cols, channels)');
    const [B, H, W, C] = x.shape;
    const [[t, bt], [l, r]] = layer.padding;
    const Ho = H + t + bt;
    const Wo = W + l + r;
    const y = alloc(ctx.dtype, B * Ho * Wo * C);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < H; i++) {
        const src = (b * H + i) * W * C;
        y.set(x.data.subarray(src, src + W * C), ((b * Ho + i + t) * Wo + l) * C);
      }
    }
    const cache: PadCache = { inShape: x.shape };
    return { outputs: [{ shape: [B, Ho, Wo, C], data: y }], masks: [null], cache };
  },

  backward(ctx, layer, _params, cache, dOutputs) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const { inShape } = cache as PadCache;
    const [B, H, W, C] = inShape;
    const [[t, bt], [l, r]] = layer.padding;
    const Ho = H + t + bt;
    const Wo = W + l + r;
    const dX = alloc(ctx.dtype, B * H * W * C);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < H; i++) {
        const src = ((b * Ho + i + t) * Wo + l) * C;
        dX.set(dY.data.subarray(src, src + W * C), (b * H + i) * W * C);
      }
    }
    return [{ shape: [...inShape], data: dX }];
  },
};
