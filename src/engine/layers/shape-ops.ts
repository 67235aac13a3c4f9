// Layers that only move data: InputLayer, Identity (Dropout & co. at
// inference), RepeatVector, Flatten, Reshape, Permute. Outputs and gradients
// are fresh copies, so no two tensors of the graph share a buffer.
//
// Masks (Keras 3): InputLayer and Identity pass the incoming mask through
// (Dropout, GaussianNoise, GaussianDropout, ActivityRegularization and
// SpatialDropout1D, a Dropout subclass, set supports_masking = True); Flatten,
// Reshape, Permute and RepeatVector do not support masking, so Keras drops the
// mask (keras/src/layers/layer.py warns "will therefore destroy the mask").

import type { LayerSpec } from '../../model/types.js';
import { DataError } from '../../model/errors.js';
import type { LayerImpl } from '../layer.js';
import type { Tensor } from '../tensor.js';
import { alloc, size } from '../tensor.js';
import { copyOf, expectRank, fmtDims } from './basic-util.js';

type Spec<K extends LayerSpec['type']> = Extract<LayerSpec, { type: K }>;

interface ReshapeCache {
  inShape: number[];
}

/** Same data, new shape (row-major order is unchanged). */
function reshaping<L extends LayerSpec>(outShape: (layer: L, x: Tensor) => number[]): LayerImpl<L> {
  return {
    forward(ctx, layer, _params, inputs) {
      const x = inputs[0];
      const cache: ReshapeCache = { inShape: x.shape };
      return { outputs: [{ shape: outShape(layer, x), data: copyOf(ctx.dtype, x.data) }], masks: [null], cache };
    },
    backward(ctx, _layer, _params, cache, dOutputs) {
      const dY = dOutputs[0];
      if (dY === null) return [null];
      return [{ shape: [...(cache as ReshapeCache).inShape], data: copyOf(ctx.dtype, dY.data) }];
    },
  };
}

/** InputLayer feeds the graph's input through; int32 inputs (token ids) get no gradient. */
export const inputLayer: LayerImpl<Spec<'InputLayer'>> = {
  forward(ctx, _layer, _params, inputs, masks) {
    const x = inputs[0];
    return {
      outputs: [{ shape: [...x.shape], data: copyOf(ctx.dtype, x.data) }],
      masks: [masks[0] ?? null],
      cache: null,
    };
  },
  backward(ctx, layer, _params, _cache, dOutputs) {
    const dY = dOutputs[0];
    if (dY === null || layer.dtype === 'int32') return [null];
    return [{ shape: [...dY.shape], data: copyOf(ctx.dtype, dY.data) }];
  },
};

export const identityLayer: LayerImpl<Spec<'Identity'>> = {
  forward(ctx, _layer, _params, inputs, masks) {
    const x = inputs[0];
    return {
      outputs: [{ shape: [...x.shape], data: copyOf(ctx.dtype, x.data) }],
      masks: [masks[0] ?? null],
      cache: null,
    };
  },
  backward(ctx, _layer, _params, _cache, dOutputs) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    return [{ shape: [...dY.shape], data: copyOf(ctx.dtype, dY.data) }];
  },
};

/** (B, ...) → (B, prod(...)) (keras/src/layers/reshaping/flatten.py; a (B,) input becomes (B, 1)). */
export const flattenLayer = reshaping<Spec<'Flatten'>>((_layer, x) => [x.shape[0], size(x.shape.slice(1))]);

/** Keras target_shape excludes the batch dim and may hold one -1 (inferred). */
export const reshapeLayer = reshaping<Spec<'Reshape'>>((layer, x) => {
  const total = size(x.shape.slice(1));
  const target = layer.targetShape;
  let known = 1;
  let free = -1;
  for (let i = 0; i < target.length; i++) {
    if (target[i] === -1 && free < 0) free = i;
    else known *= target[i];
  }
  const out = [x.shape[0], ...target];
  if (free >= 0 && known > 0 && total % known === 0) out[free + 1] = total / known;
  if (size(out.slice(1)) !== total || out.some((d) => d < 0)) {
    throw new DataError(
      `Reshape '${layer.name}' cannot reshape an input of shape ${fmtDims(x.shape)} to target (${target.join(', ')}); expected the same number of values per sample (${total}), check the input shape.`,
    );
  }
  return out;
});

interface RepeatCache {
  f: number;
}

/** (B, F) → (B, n, F); the gradient sums over the n copies. */
export const repeatVectorLayer: LayerImpl<Spec<'RepeatVector'>> = {
  forward(ctx, layer, _params, inputs) {
    const x = inputs[0];
    expectRank(layer, x, [2], '(batch, features)');
    const [b, f] = x.shape;
    const n = layer.n;
    const y = alloc(ctx.dtype, b * n * f);
    for (let i = 0; i < b; i++) {
      for (let k = 0; k < n; k++) {
        const o = (i * n + k) * f;
        for (let j = 0; j < f; j++) y[o + j] = x.data[i * f + j];
      }
    }
    const cache: RepeatCache = { f };
    return { outputs: [{ shape: [b, n, f], data: y }], masks: [null], cache };
  },
  backward(ctx, layer, _params, cache, dOutputs) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const { f } = cache as RepeatCache;
    const b = dY.shape[0];
    const n = layer.n;
    const dX = alloc(ctx.dtype, b * f);
    const g = dY.data;
    for (let i = 0; i < b; i++) {
      for (let k = 0; k < n; k++) {
        const o = (i * n + k) * f;
        for (let j = 0; j < f; j++) dX[i * f + j] += g[o + j];
      }
    }
    return [{ shape: [b, f], data: dX }];
  },
};

interface PermuteCache {
  inShape: number[];
  /** perm[a] = input axis that becomes output axis a (batch included). */
  perm: number[];
}

/**
 * Strides-based transpose: dst[out index] = src[in index]. Walks the output in
 * order with an odometer over its axes (no per-element allocation).
 */
function transpose(src: Tensor, perm: readonly number[], dst: Float32Array | Float64Array, inverse: boolean): void {
  const rank = perm.length;
  const inShape = src.shape;
  // Output shape and, for each output axis, the stride of the source axis it reads.
  const outShape = new Array<number>(rank);
  const stride = new Array<number>(rank);
  const inStride = new Array<number>(rank);
  for (let a = rank - 1, s = 1; a >= 0; a--) {
    inStride[a] = s;
    s *= inShape[a];
  }
  for (let a = 0; a < rank; a++) {
    const from = inverse ? perm.indexOf(a) : perm[a];
    outShape[a] = inShape[from];
    stride[a] = inStride[from];
  }
  const idx = new Int32Array(rank);
  const n = dst.length;
  const last = rank - 1;
  const lastN = outShape[last];
  const lastS = stride[last];
  let base = 0;
  for (let o = 0; o < n; o += lastN) {
    for (let j = 0, p = base; j < lastN; j++, p += lastS) dst[o + j] = src.data[p];
    for (let a = last - 1; a >= 0; a--) {
      idx[a]++;
      base += stride[a];
      if (idx[a] < outShape[a]) break;
      base -= idx[a] * stride[a];
      idx[a] = 0;
    }
  }
}

/** Keras dims are 1-based and exclude the batch: Permute((2, 1)) swaps steps and features. */
export const permuteLayer: LayerImpl<Spec<'Permute'>> = {
  forward(ctx, layer, _params, inputs) {
    const x = inputs[0];
    const perm = [0, ...layer.dims];
    const sorted = [...perm].sort((a, b) => a - b);
    if (perm.length !== x.shape.length || sorted.some((d, i) => d !== i)) {
      throw new DataError(
        `Permute '${layer.name}' with dims (${layer.dims.join(', ')}) got an input of shape ${fmtDims(x.shape)}; expected a permutation of 1..${x.shape.length - 1}, check the layer config and the input rank.`,
      );
    }
    const y = alloc(ctx.dtype, x.data.length);
    transpose(x, perm, y, false);
    const cache: PermuteCache = { inShape: x.shape, perm };
    return { outputs: [{ shape: perm.map((a) => x.shape[a]), data: y }], masks: [null], cache };
  },
  backward(ctx, _layer, _params, cache, dOutputs) {
    const dY = dOutputs[0];
    if (dY === null) return [null];
    const { inShape, perm } = cache as PermuteCache;
    const dX = alloc(ctx.dtype, dY.data.length);
    transpose(dY, perm, dX, true);
    return [{ shape: [...inShape], data: dX }];
  },
};
