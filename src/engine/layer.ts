// The contract between the graph executor and each layer implementation.
//
// A layer implementation is a pair forward/backward that mirror each other:
// forward returns its outputs, their masks and an explicit cache; backward gets
// that cache and the gradients of the outputs, ACCUMULATES (+=) into the
// parameter gradients (a shared layer is called more than once) and returns the
// gradients of its inputs (null for an input that is not differentiable, e.g.
// token ids).

import type { LayerSpec } from '../model/types.js';
import type { Kernels } from './kernels-js.js';
import type { DType, Mask, Tensor } from './tensor.js';
import type { TapRequest, TapSink } from './taps.js';

export interface Ctx {
  dtype: DType;
  kernels: Kernels;
  /** Which per-step quantities recurrent layers record during backward; null = none (no cost). */
  taps: TapRequest | null;
  sink: TapSink;
}

export interface ForwardResult {
  outputs: Tensor[];
  /** One per output; null = no mask. */
  masks: (Mask | null)[];
  cache: unknown;
}

export interface LayerImpl<L extends LayerSpec = LayerSpec> {
  forward(ctx: Ctx, layer: L, params: Tensor[], inputs: Tensor[], masks: (Mask | null)[]): ForwardResult;
  backward(
    ctx: Ctx,
    layer: L,
    params: Tensor[],
    cache: unknown,
    dOutputs: (Tensor | null)[],
    dParams: Tensor[],
  ): (Tensor | null)[];
}
