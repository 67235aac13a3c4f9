// Dot (keras/src/layers/merging/dot.py, tf.keras merging/dot.py): the batch dot
// product of two inputs of rank 2 or 3 over one axis each, optionally after
// l2-normalising both along that axis. Seen per sample as matrices X1' (M1×K) and
// X2' (M2×K) with the contracted axis last, y = X1'·X2'ᵀ (one gemm per sample,
// transposing the stored layout when the contracted axis is not the last);
// output shape (Keras batch_dot): x1 without its axis, then x2 without batch and
// its axis; (B, 1) when that leaves one dim.
//
// normalize: x·rsqrt(max(Σx², 1e-12)) as tf.math.l2_normalize.
// Keras note: Keras 3 caps 1/‖x‖ at 1e7 instead (ops.normalize, epsilon 1e-7); the
// two differ only for ‖x‖ < 1e-6.
// Mask: none out (Dot does not support masking).

import type { LayerSpec } from '../../model/types.js';
import { DataError } from '../../model/errors.js';
import type { LayerImpl } from '../layer.js';
import type { Arr, Tensor } from '../tensor.js';
import { alloc } from '../tensor.js';
import { expectRank, fmtDims, resolveAxis } from './basic-util.js';

type Dot = Extract<LayerSpec, { type: 'Dot' }>;

/** One input as (M×K) per sample: `last` = the contracted axis is the stored last axis. */
interface View {
  M: number;
  K: number;
  last: boolean;
}

function view(x: Tensor, axis: number): View {
  if (x.shape.length === 2) return { M: 1, K: x.shape[1], last: true };
  return axis === 2 ? { M: x.shape[1], K: x.shape[2], last: true } : { M: x.shape[2], K: x.shape[1], last: false };
}

interface DotCache {
  xs: Tensor[];
  /** the (normalized) inputs the product used, and 1/‖x‖ per contracted vector (null without normalize) */
  used: Arr[];
  inv: (Float64Array | null)[];
  views: View[];
}

/** Vectors along the contracted axis: callback(offset, stride) for each of the M·B vectors. */
function eachVector(x: Tensor, v: View, f: (o: number, stride: number, idx: number) => void): void {
  const B = x.shape[0];
  let idx = 0;
  for (let b = 0; b < B; b++) {
    const base = b * v.M * v.K;
    for (let m = 0; m < v.M; m++, idx++) f(v.last ? base + m * v.K : base + m, v.last ? 1 : v.M, idx);
  }
}

export const dotLayer: LayerImpl<Dot> = {
  forward(ctx, layer, _params, inputs) {
    const [x1, x2] = inputs;
    for (const x of [x1, x2]) expectRank(layer, x, [2, 3], '(batch, features) or (batch, steps, features)');
    const a0 = resolveAxis(layer, layer.axes[0], x1.shape.length);
    const a1 = resolveAxis(layer, layer.axes[1], x2.shape.length);
    const views = [view(x1, a0), view(x2, a1)];
    if (x1.shape[0] !== x2.shape[0] || views[0].K !== views[1].K) {
      throw new DataError(
        `Dot '${layer.name}' got inputs ${fmtDims(x1.shape)} and ${fmtDims(x2.shape)}; expected one batch and equal sizes on axes ${a0} and ${a1}, check the layers feeding it.`,
      );
    }
    const used: Arr[] = [];
    const inv: (Float64Array | null)[] = [];
    [x1, x2].forEach((x, i) => {
      if (!layer.normalize) {
        used.push(x.data);
        inv.push(null);
        return;
      }
      const v = views[i];
      const u = alloc(ctx.dtype, x.data.length);
      const r = new Float64Array(x.shape[0] * v.M);
      eachVector(x, v, (o, st, idx) => {
        let s = 0;
        for (let k = 0; k < v.K; k++) s += x.data[o + k * st] ** 2;
        r[idx] = 1 / Math.sqrt(Math.max(s, 1e-12));
        for (let k = 0; k < v.K; k++) u[o + k * st] = x.data[o + k * st] * r[idx];
      });
      used.push(u);
      inv.push(r);
    });
    const B = x1.shape[0];
    const [v1, v2] = views;
    const y = alloc(ctx.dtype, B * v1.M * v2.M);
    for (let b = 0; b < B; b++) {
      ctx.kernels.gemm(
        !v1.last,
        v2.last,
        v1.M,
        v2.M,
        v1.K,
        used[0],
        b * v1.M * v1.K,
        v1.last ? v1.K : v1.M,
        used[1],
        b * v2.M * v2.K,
        v2.last ? v2.K : v2.M,
        0,
        y,
        b * v1.M * v2.M,
        v2.M,
      );
    }
    const rest = [...x1.shape.filter((_, i) => i !== a0), ...x2.shape.filter((_, i) => i !== 0 && i !== a1)];
    const cache: DotCache = { xs: [x1, x2], used, inv, views };
    return { outputs: [{ shape: rest.length === 1 ? [B, 1] : rest, data: y }], masks: [null], cache };
  },

  backward(ctx, _layer, _params, cache, dOutputs) {
    const dY = dOutputs[0];
    if (dY === null) return [null, null];
    const { xs, used, inv, views } = cache as DotCache;
    const [v1, v2] = views;
    const B = xs[0].shape[0];
    const d1 = alloc(ctx.dtype, xs[0].data.length);
    const d2 = alloc(ctx.dtype, xs[1].data.length);
    for (let b = 0; b < B; b++) {
      const yo = b * v1.M * v2.M;
      // dX1' = dY·X2' (M1×K) ; dX2' = dYᵀ·X1' (M2×K), written in each input's stored layout.
      if (v1.last)
        ctx.kernels.gemm(
          false,
          !v2.last,
          v1.M,
          v1.K,
          v2.M,
          dY.data,
          yo,
          v2.M,
          used[1],
          b * v2.M * v2.K,
          v2.last ? v2.K : v2.M,
          0,
          d1,
          b * v1.M * v1.K,
          v1.K,
        );
      else
        ctx.kernels.gemm(
          v2.last,
          true,
          v1.K,
          v1.M,
          v2.M,
          used[1],
          b * v2.M * v2.K,
          v2.last ? v2.K : v2.M,
          dY.data,
          yo,
          v2.M,
          0,
          d1,
          b * v1.M * v1.K,
          v1.M,
        );
      if (v2.last)
        ctx.kernels.gemm(
          true,
          !v1.last,
          v2.M,
          v2.K,
          v1.M,
          dY.data,
          yo,
          v2.M,
          used[0],
          b * v1.M * v1.K,
          v1.last ? v1.K : v1.M,
          0,
          d2,
          b * v2.M * v2.K,
          v2.K,
        );
      else
        ctx.kernels.gemm(
          v1.last,
          false,
          v2.K,
          v2.M,
          v1.M,
          used[0],
          b * v1.M * v1.K,
          v1.last ? v1.K : v1.M,
          dY.data,
          yo,
          v2.M,
          0,
          d2,
          b * v2.M * v2.K,
          v2.M,
        );
    }
    const grads = [d1, d2];
    grads.forEach((g, i) => {
      const r = inv[i];
      if (r === null) return;
      const u = used[i];
      // y = x·r: dx = r·(dy − y·(y·dy))
      eachVector(xs[i], views[i], (o, st, idx) => {
        let dot = 0;
        for (let k = 0; k < views[i].K; k++) dot += u[o + k * st] * g[o + k * st];
        for (let k = 0; k < views[i].K; k++) g[o + k * st] = r[idx] * (g[o + k * st] - u[o + k * st] * dot);
      });
    });
    return [
      { shape: [...xs[0].shape], data: d1 },
      { shape: [...xs[1].shape], data: d2 },
    ];
  },
};
