// Float64 central finite differences: the independent oracle for the engine's
// numeric primitives. Step h·max(1, |x|) keeps the relative truncation error
// (O(h²)) and the cancellation error (O(ε/h)) both near 1e-10.

/** d f / d x at x by central differences. */
export function fdScalar(f: (x: number) => number, x: number, h = 1e-6): number {
  const s = h * Math.max(1, Math.abs(x));
  return (f(x + s) - f(x - s)) / (2 * s);
}

/** Gradient of a scalar function of a vector, by central differences on each coordinate (x is restored). */
export function fdGrad(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const s = h * Math.max(1, Math.abs(xi));
    x[i] = xi + s;
    const fp = f(x);
    x[i] = xi - s;
    const fm = f(x);
    x[i] = xi;
    g[i] = (fp - fm) / (2 * s);
  }
  return g;
}

/** max_i |a_i − b_i| / max(|b_i|, floor). */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor);
    if (Number.isNaN(e)) return Infinity;
    if (e > m) m = e;
  }
  return m;
}

/** Deterministic pseudo-random numbers in [lo, hi) for test inputs (LCG; tests must not depend on src/engine/rng). */
export function testValues(n: number, lo: number, hi: number, seed = 1): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return out;
}
