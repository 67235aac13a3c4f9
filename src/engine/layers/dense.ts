// Dense on the last axis of a tensor of any rank (Keras 3
// keras/src/layers/core/dense.py: y = act(x·K + b), K (in, units) and b (units,)
// in Keras layout). A (B, T, in) input is one (B·T, in) matrix product, which is
// also what TimeDistributed(Dense) computes.
//
// Mask: passed through unchanged (Dense sets supports_masking = True).

import type { LayerSpec } from '../../model/types.js';
import type { LayerImpl } from '../layer.js';
import type { Arr, Tensor } from '../tensor.js';
import { alloc } from '../tensor.js';
import { actBackward, actForward, actOf, expectDim, type ActState } from './basic-util.js';

type Dense = Extract<LayerSpec, { type: 'Dense' }>;

interface DenseCache {
  x: Tensor;
  rows: number;
  act: ActState;
}

export const denseLayer: LayerImpl<Dense> = {
  forward(ctx, layer, params, inputs, masks) {
    const x = inputs[0];
    const rank = x.shape.length;
    const nIn = x.shape[rank - 1];
    const units = layer.units;
    expectDim(layer, x, rank - 1, params[0].shape[0], 'features');
    const rows = x.data.length / nIn;
    const z = alloc(ctx.dtype, rows * units);
    ctx.kernels.gemm(false, false, rows, units, nIn, x.data, 0, nIn, params[0].data, 0, units, 0, z, 0, units);
    if (layer.useBias) {
      const b = params[1].data;
      for (let r = 0, o = 0; r < rows; r++, o += units) for (let j = 0; j < units; j++) z[o + j] += b[j];
    }
    const act = actForward(actOf(layer, layer.activation, rank), ctx.dtype, z, units);
    const cache: DenseCache = { x, rows, act };
    return { outputs: [{ shape: [...x.shape.slice(0, -1), units], data: act.y }], masks: [masks[0] ?? null], cache };
  },

  backward(ctx, layer, params, cache, dOutputs, dParams) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const { x, rows, act } = cache as DenseCache;
    const nIn = x.shape[x.shape.length - 1];
    const units = layer.units;
    const dZ: Arr = actBackward(act, ctx.dtype, dY.data);
    // dK += Xᵀ·dZ ; db += Σ_rows dZ ; dX = dZ·Kᵀ
    ctx.kernels.gemm(true, false, nIn, units, rows, x.data, 0, nIn, dZ, 0, units, 1, dParams[0].data, 0, units);
    if (layer.useBias) {
      const db = dParams[1].data;
      for (let r = 0, o = 0; r < rows; r++, o += units) for (let j = 0; j < units; j++) db[j] += dZ[o + j];
    }
    const dX = alloc(ctx.dtype, x.data.length);
    ctx.kernels.gemm(false, true, rows, nIn, units, dZ, 0, units, params[0].data, 0, units, 0, dX, 0, nIn);
    return [{ shape: [...x.shape], data: dX }];
  },
};
