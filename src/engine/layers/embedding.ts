// Embedding: y[..., :] = E[id, :] with E (inputDim, outputDim) (Keras 3
// keras/src/layers/core/embedding.py: ops.take(embeddings, inputs, axis=0)).
// Token ids arrive as floats; the gradient scatter-adds dY rows into dE and the
// ids get no gradient (null).
//
// Mask: mask_zero=True produces mask = (ids != 0) (compute_mask); otherwise
// the output has no mask.
// Keras note: Keras casts float ids to int32 (truncation) and TF's gather
// rejects out-of-range ids on CPU but returns zeros on GPU; rnnscope rejects
// non-integer and out-of-range ids with a DataError instead.

import type { LayerSpec } from '../../model/types.js';
import { DataError } from '../../model/errors.js';
import type { LayerImpl } from '../layer.js';
import type { Mask, Tensor } from '../tensor.js';
import { alloc } from '../tensor.js';
import { fmtDims } from './basic-util.js';

type Embedding = Extract<LayerSpec, { type: 'Embedding' }>;

interface EmbeddingCache {
  ids: Int32Array;
  inShape: number[];
}

function badId(layer: Embedding, shape: readonly number[], i: number, v: number): DataError {
  const pos: number[] = [];
  for (let a = shape.length - 1, r = i; a >= 0; a--) {
    pos.unshift(r % shape[a]);
    r = Math.floor(r / shape[a]);
  }
  return new DataError(
    `Embedding '${layer.name}' got token id ${v} at [${pos.join(', ')}]; expected an integer in [0, ${layer.inputDim}), check the tokenizer or the vocabulary size.`,
  );
}

export const embeddingLayer: LayerImpl<Embedding> = {
  forward(ctx, layer, params, inputs) {
    const x = inputs[0];
    const n = x.data.length;
    const d = layer.outputDim;
    const E = params[0].data;
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = x.data[i];
      if (!(v >= 0 && v < layer.inputDim && Number.isInteger(v))) throw badId(layer, x.shape, i, v);
      ids[i] = v;
    }
    const y = alloc(ctx.dtype, n * d);
    for (let i = 0; i < n; i++) {
      const row = ids[i] * d;
      const dst = i * d;
      for (let j = 0; j < d; j++) y[dst + j] = E[row + j];
    }
    let mask: Mask | null = null;
    if (layer.maskZero) {
      if (x.shape.length !== 2) {
        throw new DataError(
          `Embedding '${layer.name}' with mask_zero got ids of shape ${fmtDims(x.shape)}; expected (batch, steps) so that the mask is per step, reshape the input.`,
        );
      }
      const m = new Uint8Array(n);
      for (let i = 0; i < n; i++) m[i] = ids[i] !== 0 ? 1 : 0;
      mask = { b: x.shape[0], t: x.shape[1], data: m };
    }
    const cache: EmbeddingCache = { ids, inShape: x.shape };
    const out: Tensor = { shape: [...x.shape, d], data: y };
    return { outputs: [out], masks: [mask], cache };
  },

  backward(_ctx, layer, _params, cache, dOutputs, dParams) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const { ids } = cache as EmbeddingCache;
    const d = layer.outputDim;
    const dE = dParams[0].data;
    const g = dY.data;
    for (let i = 0; i < ids.length; i++) {
      const row = ids[i] * d;
      const src = i * d;
      for (let j = 0; j < d; j++) dE[row + j] += g[src + j];
    }
    return [null];
  },
};
