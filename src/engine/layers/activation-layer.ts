// Activation layer: y = f(x) elementwise, or per row of the last axis for
// softmax / log_softmax. Mask passed through (supports_masking = True in
// keras/src/layers/activations/activation.py).

import type { LayerSpec } from '../../model/types.js';
import type { LayerImpl } from '../layer.js';
import { actBackward, actForward, actOf, copyOf, type ActState } from './basic-util.js';

type ActivationLayer = Extract<LayerSpec, { type: 'Activation' }>;

export const activationLayer: LayerImpl<ActivationLayer> = {
  forward(ctx, layer, _params, inputs, masks) {
    const x = inputs[0];
    const rank = x.shape.length;
    const fn = actOf(layer, layer.activation, rank);
    // actForward writes over its argument when the activation works in place (or is linear).
    const z = fn === null || fn.inPlace ? copyOf(ctx.dtype, x.data) : x.data;
    const st = actForward(fn, ctx.dtype, z, x.shape[rank - 1]);
    return { outputs: [{ shape: [...x.shape], data: st.y }], masks: [masks[0] ?? null], cache: st };
  },
  backward(ctx, _layer, _params, cache, dOutputs) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const st = cache as ActState;
    const dX = actBackward(st, ctx.dtype, dY.data);
    return [{ shape: [...dY.shape], data: st.fn === null ? copyOf(ctx.dtype, dX) : dX }];
  },
};
