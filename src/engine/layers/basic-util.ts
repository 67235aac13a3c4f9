// Helpers shared by the non-recurrent layers (registry-basic.ts): axis
// resolution, the activation applied after an affine map, shape checks and
// their error messages.

import type { Activation, LayerSpec } from '../../model/types.js';
import { DataError, EngineError, ModelError } from '../../model/errors.js';
import { activation, type ActFn } from '../activations.js';
import type { Arr, DType, Mask, Tensor } from '../tensor.js';
import { alloc } from '../tensor.js';

/** Keras axis (counting the batch dim, negative from the end) → index in 0..rank-1. */
export function resolveAxis(layer: LayerSpec, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new ModelError(
      `Layer '${layer.name}' (${layer.className}) uses axis ${axis} on a rank-${rank} tensor; expected an axis in [${-rank}, ${rank - 1}], check the layer config.`,
    );
  }
  return a;
}

export function fmtDims(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

export function expectRank(layer: LayerSpec, x: Tensor, ranks: readonly number[], what: string): void {
  if (!ranks.includes(x.shape.length)) {
    throw new DataError(
      `Layer '${layer.name}' (${layer.className}) got an input of shape ${fmtDims(x.shape)}; expected rank ${ranks.join(' or ')} (${what}), check what feeds this layer.`,
    );
  }
}

export function expectDim(layer: LayerSpec, x: Tensor, axis: number, n: number, what: string): void {
  if (x.shape[axis] !== n) {
    throw new DataError(
      `Layer '${layer.name}' (${layer.className}) got an input of shape ${fmtDims(x.shape)}; expected ${n} ${what} on axis ${axis}, check the input data or the weights.`,
    );
  }
}

/** A mask is (B, T): it must match the first two dims of the tensor it belongs to. */
export function checkMask(layer: LayerSpec, x: Tensor, m: Mask | null): void {
  if (m === null) return;
  if (x.shape.length < 2 || m.b !== x.shape[0] || m.t !== x.shape[1]) {
    throw new EngineError(
      `Layer '${layer.name}' (${layer.className}) got a (${m.b}, ${m.t}) mask with an input of shape ${fmtDims(x.shape)}; expected the mask to match (batch, steps), this is an engine bug.`,
    );
  }
}

export function copyOf(dtype: DType, src: Arr): Arr {
  const a = alloc(dtype, src.length);
  a.set(src);
  return a;
}

// Activation objects are closures built once per Activation spec (a layer's
// spec object lives as long as the model), not once per call.
const actCache = new WeakMap<Activation, ActFn>();

/** The activation to apply, or null for linear (skipped entirely). */
export function actOf(layer: LayerSpec, spec: Activation, rank: number): ActFn | null {
  if (spec.name === 'linear') return null;
  let fn = actCache.get(spec);
  if (fn === undefined) {
    fn = activation(spec);
    actCache.set(spec, fn);
  }
  if (fn.rowwise && spec.axis !== undefined && spec.axis !== -1 && spec.axis !== rank - 1) {
    throw new ModelError(
      `Layer '${layer.name}' (${layer.className}) applies ${spec.name} over axis ${spec.axis} of a rank-${rank} tensor; only the last axis is supported, move the axis last with a Permute layer.`,
    );
  }
  return fn;
}

/**
 * Activation state after an affine map: `y` is the layer output; `z` the
 * pre-activation, kept only when the activation's backward needs it (null when
 * the activation is linear or works from y alone, in which case y was computed
 * in place over z).
 */
export interface ActState {
  fn: ActFn | null;
  z: Arr | null;
  y: Arr;
  width: number;
}

/** Applies fn to `z` (rows of `width`, the last axis). Reuses z as the output when the backward does not need it. */
export function actForward(fn: ActFn | null, dtype: DType, z: Arr, width: number): ActState {
  if (fn === null) return { fn, z: null, y: z, width };
  const y = fn.inPlace ? z : alloc(dtype, z.length);
  if (fn.rowwise) for (let o = 0; o < z.length; o += width) fn.forward(z, o, y, o, width);
  else fn.forward(z, 0, y, 0, z.length);
  return { fn, z: fn.inPlace ? null : z, y, width };
}

/** dZ from dY through the activation; returns dy itself when linear. */
export function actBackward(s: ActState, dtype: DType, dy: Arr): Arr {
  const fn = s.fn;
  if (fn === null) return dy;
  const dz = alloc(dtype, dy.length);
  const z = s.z ?? s.y;
  if (fn.rowwise) for (let o = 0; o < dy.length; o += s.width) fn.backward(z, o, s.y, o, dy, o, dz, o, s.width);
  else fn.backward(z, 0, s.y, 0, dy, 0, dz, 0, dy.length);
  return dz;
}
