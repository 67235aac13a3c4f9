// The float32 SIMD sigmoid and tanh of the fused cell steps (src/engine/wasm/cells.as) against
// float64 Math on dense grids: the error bounds its header states.
import { describe, expect, it } from 'vitest';
import { createWasmKernels } from '../src/engine/kernels-wasm.js';

const wk = createWasmKernels({ relaxed: false });
const cx = wk.cellKernels();
const N = 1 << 18;
/** 2^−23: the spacing of float32 values in [1, 2). */
const EPS32 = 2 ** -23;

/** Worst error over the grid in units of EPS32·|f(x)| (a relative error; ≈ 1–2 float32 ulps per unit). */
function worst(which: 0 | 1, lo: number, hi: number, f: (x: number) => number): { rel: number; abs: number } {
  const x = wk.allocF32(N),
    y = wk.allocF32(N);
  for (let i = 0; i < N; i++) x[i] = lo + ((hi - lo) * i) / (N - 1);
  cx!.act(which, x.byteOffset, y.byteOffset, N);
  let rel = 0,
    abs = 0;
  for (let i = 0; i < N; i++) {
    const t = f(x[i]!),
      e = Math.abs(y[i]! - t);
    rel = Math.max(rel, e / (Math.max(Math.abs(t), 2 ** -126) * EPS32));
    abs = Math.max(abs, e);
  }
  wk.free(x);
  wk.free(y);
  return { rel, abs };
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

describe('wasm float32 sigmoid and tanh', () => {
  it('compiles on Node', () => {
    expect(cx).not.toBeNull();
  });
  // Measured (2026-12-02): sigmoid 1.58, tanh 1.18 units of 2^−23·|f(x)|; bounds leave a little room.
  for (const [lo, hi] of [
    [-87, 87],
    [-20, 20],
    [-1, 1],
    [-1e-3, 1e-3],
  ] as const) {
    it(`sigmoid on [${lo}, ${hi}]: relative error ≤ 2·2^−23`, () => {
      expect(worst(0, lo, hi, sigmoid).rel).toBeLessThanOrEqual(2);
    });
    it(`tanh on [${lo}, ${hi}]: relative error ≤ 1.5·2^−23`, () => {
      expect(worst(1, lo, hi, Math.tanh).rel).toBeLessThanOrEqual(1.5);
    });
  }
  it('tails, infinities and NaN', () => {
    const v = [-1e30, -200, -88, 88, 200, 1e30, -Infinity, Infinity, Number.NaN, 0, -0];
    const x = wk.allocF32(v.length),
      s = wk.allocF32(v.length),
      t = wk.allocF32(v.length);
    x.set(v);
    cx!.act(0, x.byteOffset, s.byteOffset, v.length);
    cx!.act(1, x.byteOffset, t.byteOffset, v.length);
    // exp's argument is clamped at −87.3: sigmoid of very negative x is ~1e-38, not 0 (absolute error < 2e-38).
    for (let i = 0; i < 3; i++) expect(s[i]).toBeLessThan(2e-38);
    expect(s[6]).toBeLessThan(2e-38);
    for (const i of [3, 4, 5, 7]) expect(s[i]).toBe(1);
    expect([...t.subarray(0, 8)]).toEqual([-1, -1, -1, 1, 1, 1, -1, 1]);
    expect(s[8]).toBeNaN();
    expect(t[8]).toBeNaN();
    expect([s[9], t[9]]).toEqual([0.5, 0]);
    expect(Object.is(t[10], -0)).toBe(true);
  });
});
