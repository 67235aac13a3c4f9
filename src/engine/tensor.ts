// Engine tensors: a shape and a flat row-major typed array. The dtype of the
// array is the precision of the run: Float32Array reproduces Keras numerics
// (every stored intermediate is rounded to float32), Float64Array is used by
// the finite-difference checks.

export type Arr = Float32Array | Float64Array;
export type DType = 'float32' | 'float64';

export interface Tensor {
  shape: number[];
  data: Arr;
}

/** Per-(sample, step) mask, 1 = valid; shape (B, T). */
export interface Mask {
  b: number;
  t: number;
  data: Uint8Array;
}

export function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function alloc(dtype: DType, n: number): Arr {
  return dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

export function zeros(dtype: DType, shape: readonly number[]): Tensor {
  return { shape: [...shape], data: alloc(dtype, size(shape)) };
}

export function fromArray(dtype: DType, shape: readonly number[], values: ArrayLike<number>): Tensor {
  const t = zeros(dtype, shape);
  if (values.length !== t.data.length)
    throw new RangeError(`fromArray: ${values.length} values for shape [${shape.join(',')}]`);
  t.data.set(values);
  return t;
}

export function dtypeOf(a: Arr): DType {
  return a instanceof Float32Array ? 'float32' : 'float64';
}

/** dst += src elementwise. */
export function addInto(dst: Arr, src: Arr): void {
  for (let i = 0; i < dst.length; i++) dst[i] += src[i];
}

/**
 * dst[dOff..dOff+n) = src[sOff..sOff+n). Speed: used in per-step loops, where `dst.set(src.subarray(...))`
 * would allocate a view object per call.
 */
export function copyTo(dst: Arr, dOff: number, src: Arr, sOff: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dOff + i] = src[sOff + i]!;
}
