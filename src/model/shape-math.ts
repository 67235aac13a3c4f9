// Small shape arithmetic shared by shapes.ts and extra-shapes.ts.

/** Normalise a possibly negative axis against a rank (batch dim included). */
export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/**
 * Keras conv_output_length (keras/src/ops/operation_utils.py compute_conv_output_shape):
 * "same"/"causal" keep L, "valid" keeps L − (k−1)·d; then ceil(·/stride).
 */
export function convLength(
  len: number | null,
  k: number,
  stride: number,
  padding: string,
  dilation: number,
): number | null {
  if (len === null) return null;
  const dk = (k - 1) * dilation + 1;
  const out = padding === 'valid' ? len - dk + 1 : len;
  return out <= 0 ? 0 : Math.floor((out + stride - 1) / stride);
}
