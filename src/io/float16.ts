// IEEE 754 binary16 ("half") decoding, for every reader that meets it: HDF5 float16 datasets,
// TF.js float16 quantization, .npy/.npz '<f2' arrays, Keras 3 .npz weights.

/** One half (its 16 bits) → number. Exact: every half is a double (and a float). */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/** Halves → float32 (exact). */
export function halfToFloat(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = halfToNumber(h[i]);
  return out;
}
