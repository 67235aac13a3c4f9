// Masking: mask[b, t] = any_f(x[b, t, f] != mask_value), and masked steps are
// set to 0 (Keras 3 keras/src/layers/core/masking.py: ops.where(mask, x, 0); tfjs
// and Keras 2 multiply by the mask instead, which differs only for inf/NaN).
// The incoming mask is ignored: the output mask is computed from the values.
//
// Gradient: dX = dY at valid steps, 0 at masked steps (the gradient of `where`).
// The mask itself is piecewise constant in x and gets no gradient.

import type { LayerSpec } from '../../model/types.js';
import type { LayerImpl } from '../layer.js';
import type { Mask } from '../tensor.js';
import { alloc } from '../tensor.js';
import { expectRank } from './basic-util.js';

type Masking = Extract<LayerSpec, { type: 'Masking' }>;

export const maskingLayer: LayerImpl<Masking> = {
  forward(ctx, layer, _params, inputs) {
    const x = inputs[0];
    expectRank(layer, x, [3], '(batch, steps, features)');
    const [b, t, f] = x.shape;
    const mv = layer.maskValue;
    const m = new Uint8Array(b * t);
    const y = alloc(ctx.dtype, x.data.length);
    for (let s = 0; s < b * t; s++) {
      const o = s * f;
      let any = 0;
      for (let j = 0; j < f; j++)
        if (x.data[o + j] !== mv) {
          any = 1;
          break;
        }
      m[s] = any;
      if (any) for (let j = 0; j < f; j++) y[o + j] = x.data[o + j];
    }
    const mask: Mask = { b, t, data: m };
    return { outputs: [{ shape: [...x.shape], data: y }], masks: [mask], cache: mask };
  },

  backward(ctx, _layer, _params, cache, dOutputs) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const m = (cache as Mask).data;
    const f = dY.shape[2];
    const dX = alloc(ctx.dtype, dY.data.length);
    const g = dY.data;
    for (let s = 0, o = 0; s < m.length; s++, o += f) if (m[s]) for (let j = 0; j < f; j++) dX[o + j] = g[o + j];
    return [{ shape: [...dY.shape], data: dX }];
  },
};
