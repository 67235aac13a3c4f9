// Deterministic test data (a tiny LCG: test inputs only, not the engine's RNG).
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export function randArr(rand: () => number, n: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}

/** max |a−b| / max(|b|, floor) over all elements. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-6): number {
  let m = 0;
  let scale = floor;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / scale);
  return m;
}
