// TimeDistributed(inner): the inner layer applied to every step of a
// (B, T, ...) input, computed as one call of the inner implementation on the
// (B·T, ...) tensor (the data is already laid out that way; only the shape
// changes). The inner layer's parameters are the wrapper's parameters.
//
// Mask: the incoming (B, T) mask is passed through. Keras 3.0–3.15 set
// supports_masking = True with the default compute_mask
// (keras/src/layers/rnn/time_distributed.py); the inner layer is not given the
// mask (Keras passes it only to layers whose call takes `mask`, none of the
// layers rnnscope allows inside TimeDistributed does).
// Keras note: Keras 3.16-dev (commit a8b52ca11a, unreleased) sets
// supports_masking = False there, which drops the mask; we follow the released
// versions, as tf.keras and Keras 2 do.

import type { LayerSpec } from '../../model/types.js';
import { ModelError } from '../../model/errors.js';
import type { LayerImpl } from '../layer.js';
import type { Tensor } from '../tensor.js';
import { expectRank } from './basic-util.js';

type TimeDistributed = Extract<LayerSpec, { type: 'TimeDistributed' }>;

interface TdCache {
  inner: unknown;
  b: number;
  t: number;
  inShape: number[];
}

/** `lookup` returns the implementation of the inner layer (the full registry, so that any layer can be wrapped). */
export function makeTimeDistributed(lookup: (inner: LayerSpec) => LayerImpl | undefined): LayerImpl<TimeDistributed> {
  const implOf = (layer: TimeDistributed): LayerImpl => {
    const impl = lookup(layer.inner);
    if (impl === undefined) {
      throw new ModelError(
        `Layer '${layer.name}' (TimeDistributed) wraps a ${layer.inner.className} layer, which rnnscope cannot run inside TimeDistributed; remove the wrapper or report the model.`,
      );
    }
    return impl;
  };
  return {
    forward(ctx, layer, params, inputs, masks) {
      const x = inputs[0];
      expectRank(layer, x, [3, 4, 5], '(batch, steps, ...)');
      const [b, t] = x.shape;
      const merged: Tensor = { shape: [b * t, ...x.shape.slice(2)], data: x.data };
      const r = implOf(layer).forward(ctx, layer.inner, params, [merged], [null]);
      const y = r.outputs[0];
      const out: Tensor = { shape: [b, t, ...y.shape.slice(1)], data: y.data };
      const cache: TdCache = { inner: r.cache, b, t, inShape: x.shape };
      return { outputs: [out], masks: [masks[0] ?? null], cache };
    },

    backward(ctx, layer, params, cache, dOutputs, dParams) {
      const dY = dOutputs[0];
      if (dY === null) return [null];
      const c = cache as TdCache;
      const dMerged: Tensor = { shape: [c.b * c.t, ...dY.shape.slice(2)], data: dY.data };
      const [dX] = implOf(layer).backward(ctx, layer.inner, params, c.inner, [dMerged], dParams);
      return [dX === null ? null : { shape: [...c.inShape], data: dX.data }];
    },
  };
}
