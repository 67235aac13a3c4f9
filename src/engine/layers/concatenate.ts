// Concatenate along `axis` (Keras axis: counts the batch dim, negative from the
// end). All inputs have the same rank and agree on every other dim.
//
// Mask (Keras 3 keras/src/layers/merging/concatenate.py compute_mask): None if
// no input has a mask; otherwise each input's mask is broadcast to the input's
// shape (all true for an unmasked input), the results are concatenated along
// `axis` and reduced with any() over the last axis. For (B, T, F) inputs that
// is: axis = 1 → the (B, Tᵢ) masks side by side; axis = 2 → OR of the masks,
// and all true as soon as one input is unmasked; axis = 0 → masks stacked.

import type { LayerSpec } from '../../model/types.js';
import { DataError, ModelError } from '../../model/errors.js';
import type { LayerImpl } from '../layer.js';
import type { Mask, Tensor } from '../tensor.js';
import { alloc } from '../tensor.js';
import { checkMask, fmtDims, resolveAxis } from './basic-util.js';

type Merge = Extract<LayerSpec, { type: 'Merge' }>;

interface ConcatCache {
  shapes: number[][];
  ax: number;
}

function concatMask(
  layer: Merge,
  inputs: Tensor[],
  masks: (Mask | null)[],
  ax: number,
  outShape: number[],
): Mask | null {
  if (masks.every((m) => m === null)) return null;
  if (outShape.length !== 3) {
    throw new ModelError(
      `Concatenate '${layer.name}' got masked inputs of rank ${outShape.length}; rnnscope supports masks on (batch, steps, features) tensors only, remove the mask (Masking / mask_zero) or report the model.`,
    );
  }
  const [B, T] = outShape;
  const out = new Uint8Array(B * T);
  if (ax === 2) {
    for (const m of masks) {
      if (m === null) return { b: B, t: T, data: out.fill(1) };
      for (let i = 0; i < out.length; i++) out[i] |= m.data[i];
    }
    return { b: B, t: T, data: out };
  }
  // ax = 0 (stack rows) or ax = 1 (steps side by side): copy each input's mask block.
  let off = 0;
  for (let k = 0; k < inputs.length; k++) {
    const [bk, tk] = inputs[k].shape;
    const m = masks[k];
    for (let b = 0; b < bk; b++) {
      for (let t = 0; t < tk; t++) {
        const dst = ax === 0 ? (off + b) * T + t : b * T + off + t;
        out[dst] = m === null ? 1 : m.data[b * tk + t];
      }
    }
    off += ax === 0 ? bk : tk;
  }
  return { b: B, t: T, data: out };
}

export const concatenateLayer: LayerImpl<Merge> = {
  forward(ctx, layer, _params, inputs, masks) {
    const rank = inputs[0].shape.length;
    const ax = resolveAxis(layer, layer.axis, rank);
    const outShape = [...inputs[0].shape];
    outShape[ax] = 0;
    for (let k = 0; k < inputs.length; k++) {
      const s = inputs[k].shape;
      if (s.length !== rank || s.some((d, a) => a !== ax && d !== outShape[a])) {
        throw new DataError(
          `Concatenate '${layer.name}' got inputs of shapes ${inputs.map((x) => fmtDims(x.shape)).join(' and ')}; expected equal shapes except on axis ${ax}, check the layers feeding it.`,
        );
      }
      checkMask(layer, inputs[k], masks[k] ?? null);
      outShape[ax] += s[ax];
    }
    let outer = 1;
    for (let a = 0; a < ax; a++) outer *= outShape[a];
    let inner = 1;
    for (let a = ax + 1; a < rank; a++) inner *= outShape[a];
    const rowOut = outShape[ax] * inner;
    const y = alloc(ctx.dtype, outer * rowOut);
    let col = 0;
    for (const x of inputs) {
      const w = x.shape[ax] * inner;
      const xd = x.data;
      for (let o = 0; o < outer; o++) {
        const dst = o * rowOut + col;
        const src = o * w;
        for (let j = 0; j < w; j++) y[dst + j] = xd[src + j];
      }
      col += w;
    }
    const mask = concatMask(
      layer,
      inputs,
      masks.map((m) => m ?? null),
      ax,
      outShape,
    );
    const cache: ConcatCache = { shapes: inputs.map((x) => x.shape), ax };
    return { outputs: [{ shape: outShape, data: y }], masks: [mask], cache };
  },

  backward(ctx, _layer, _params, cache, dOutputs) {
    const { shapes, ax } = cache as ConcatCache;
    const dY = dOutputs[0];
    if (dY === null) return shapes.map(() => null);
    const rank = dY.shape.length;
    let outer = 1;
    for (let a = 0; a < ax; a++) outer *= dY.shape[a];
    let inner = 1;
    for (let a = ax + 1; a < rank; a++) inner *= dY.shape[a];
    const rowOut = dY.shape[ax] * inner;
    const g = dY.data;
    let col = 0;
    return shapes.map((shape) => {
      const w = shape[ax] * inner;
      const dX = alloc(ctx.dtype, outer * w);
      for (let o = 0; o < outer; o++) {
        const src = o * rowOut + col;
        const dst = o * w;
        for (let j = 0; j < w; j++) dX[dst + j] = g[src + j];
      }
      col += w;
      return { shape: [...shape], data: dX };
    });
  },
};
