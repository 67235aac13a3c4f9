// The WebAssembly gemm against the float64 JavaScript reference: every
// transpose case, odd sizes, offsets and padded leading dimensions, beta 0/1,
// NaN/Inf propagation, each kernel variant (SIMD, relaxed-SIMD FMA, shared and
// unshared memory, tiny odd cache blocks that force every edge path), the
// zero-copy arena, and the generated module's freshness.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { jsKernels, kernels, setKernels } from '../src/engine/kernels.js';
import { createWasmKernels, relaxedSimdSupported, type WasmKernelsOptions } from '../src/engine/kernels-wasm.js';
import { Arena, ALIGN } from '../src/engine/wasm/arena.js';
import { SOURCE_HASH } from '../src/engine/wasm/gemm.wasm.js';

// Node 20 validates relaxed SIMD only behind this flag (Node ≥ 22 ships it),
// so the FMA variant is exercised here whatever the Node version.
if (!relaxedSimdSupported()) setFlagsFromString('--experimental-wasm-relaxed-simd');

const SIZES = [1, 3, 5, 17, 33, 130];
const CASES: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];
/** Unit roundoff of float32. */
const U = 2 ** -24;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Operand {
  data: Float32Array;
  off: number;
  ld: number;
}

/** rows×cols values in [-1, 1) at `off` with leading dimension ld; every other element is `fill`. */
function operand(rows: number, cols: number, extraLd: number, off: number, fill: number, r: () => number): Operand {
  const ld = cols + extraLd;
  const data = new Float32Array(off + Math.max(0, rows - 1) * ld + cols + 3).fill(fill);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[off + i * ld + j] = 2 * r() - 1;
  return { data, off, ld };
}

interface Problem {
  tA: boolean;
  tB: boolean;
  m: number;
  n: number;
  k: number;
  beta: 0 | 1;
  A: Operand;
  B: Operand;
  C: Operand;
}

function problem(tA: boolean, tB: boolean, m: number, n: number, k: number, beta: 0 | 1, seed: number): Problem {
  const r = rng(seed);
  const pad = () => [0, 1, 3][Math.floor(r() * 3)];
  const offs = () => Math.floor(r() * 6);
  // Gaps of A and B hold NaN so that any read outside the operand shows; C's hold a sentinel checked afterwards.
  const A = tA ? operand(k, m, pad(), offs(), NaN, r) : operand(m, k, pad(), offs(), NaN, r);
  const B = tB ? operand(n, k, pad(), offs(), NaN, r) : operand(k, n, pad(), offs(), NaN, r);
  const C = operand(m, n, pad(), offs(), -12345.5, r);
  return { tA, tB, m, n, k, beta, A, B, C };
}

function run(
  kern: { gemm: typeof jsKernels.gemm },
  p: Problem,
  C: Float32Array | Float64Array,
  A: Float32Array | Float64Array = p.A.data,
  B: Float32Array | Float64Array = p.B.data,
): void {
  kern.gemm(p.tA, p.tB, p.m, p.n, p.k, A, p.A.off, p.A.ld, B, p.B.off, p.B.ld, p.beta, C, p.C.off, p.C.ld);
}

/**
 * Float64 reference and the elementwise float32 error bound
 * (k + 2)·2u·(|op(A)|·|op(B)| + |C₀|) — twice the classical γ_k bound.
 */
function reference(p: Problem): { ref: Float64Array; tol: Float64Array } {
  // Problems are deterministic in their arguments, so the variants share one reference.
  const key = [p.tA, p.tB, p.m, p.n, p.k, p.beta, p.A.data.length, p.A.data[p.A.off], p.C.off].join();
  let hit = refCache.get(key);
  if (!hit) refCache.set(key, (hit = computeReference(p)));
  return hit;
}
const refCache = new Map<string, { ref: Float64Array; tol: Float64Array }>();

function computeReference(p: Problem): { ref: Float64Array; tol: Float64Array } {
  const ref = Float64Array.from(p.C.data);
  run(jsKernels, p, ref, Float64Array.from(p.A.data), Float64Array.from(p.B.data));
  const abs = (x: Float32Array) => Float64Array.from(x, (v) => Math.abs(v));
  const tol = abs(p.C.data).map((v) => (p.beta ? v : 0));
  run(jsKernels, { ...p, beta: 1 }, tol, abs(p.A.data), abs(p.B.data));
  for (let i = 0; i < tol.length; i++) tol[i] *= (p.k + 2) * 2 * U;
  return { ref, tol };
}

/** Describes the first element of C outside the bound, or of C's gaps that changed; '' when all is well. */
function check(p: Problem, got: Float32Array, ref: Float64Array, tol: Float64Array): string {
  const inside = new Uint8Array(got.length);
  for (let i = 0; i < p.m; i++) {
    for (let j = 0; j < p.n; j++) {
      const x = p.C.off + i * p.C.ld + j;
      inside[x] = 1;
      if (!(Math.abs(got[x] - ref[x]) <= tol[x] + 1e-30))
        return `C[${i},${j}] = ${got[x]}, reference ${ref[x]} ± ${tol[x]}`;
    }
  }
  for (let x = 0; x < got.length; x++)
    if (!inside[x] && got[x] !== -12345.5) return `C's gap element ${x} was overwritten with ${got[x]}`;
  return '';
}

interface Variant {
  label: string;
  opts: WasmKernelsOptions;
  relaxed: boolean;
  shared: boolean;
}
const VARIANTS: Variant[] = [
  { label: 'SIMD, shared memory', opts: { relaxed: false, shared: true }, relaxed: false, shared: true },
  { label: 'SIMD, unshared memory', opts: { relaxed: false, shared: false }, relaxed: false, shared: false },
  { label: 'relaxed-SIMD FMA', opts: { relaxed: true }, relaxed: true, shared: true },
  {
    label: 'odd tiny blocks (mc 7, kc 13, nc 11)',
    opts: { relaxed: false, blocking: { mc: 7, kc: 13, nc: 11 } },
    relaxed: false,
    shared: true,
  },
  {
    label: 'relaxed, odd tiny blocks (mc 5, kc 3, nc 9)',
    opts: { relaxed: true, blocking: { mc: 5, kc: 3, nc: 9 } },
    relaxed: true,
    shared: true,
  },
];

describe.each(VARIANTS)('wasm gemm: $label', (v) => {
  const wk = createWasmKernels(v.opts);

  it('is the variant asked for', () => {
    expect(wk.relaxedSimd).toBe(v.relaxed);
    expect(wk.sharedMemory).toBe(v.shared);
    expect(wk.name).toBe(v.relaxed ? 'wasm-relaxed-simd' : 'wasm-simd');
  });

  it.each(CASES)(
    'transA %s, transB %s: all sizes in {1,3,5,17,33,130}³, beta 0 and 1, offsets and padded lds',
    (tA, tB) => {
      const calls = wk.stats.wasmCalls;
      let seed = 1,
        count = 0;
      for (const m of SIZES)
        for (const n of SIZES)
          for (const k of SIZES)
            for (const beta of [0, 1] as const) {
              const p = problem(tA, tB, m, n, k, beta, seed++);
              const { ref, tol } = reference(p);
              const got = p.C.data.slice();
              run(wk, p, got);
              const bad = check(p, got, ref, tol);
              if (bad) expect(bad, `m=${m} n=${n} k=${k} beta=${beta}`).toBe('');
              count++;
            }
      // Every call went through WebAssembly (nothing silently fell back to JavaScript).
      expect(wk.stats.wasmCalls - calls).toBe(count);
    },
  );

  it('crosses the default blocks (m 130 > mc, n 1030 > nc, k 260 > kc) and RNN-step shapes', () => {
    for (const [tA, tB] of CASES) {
      for (const [m, n, k] of [
        [32, 512, 128],
        [130, 1030, 260],
        [32, 130, 520],
      ]) {
        const p = problem(tA, tB, m, n, k, 1, m + n + k);
        const { ref, tol } = reference(p);
        const got = p.C.data.slice();
        run(wk, p, got);
        expect(check(p, got, ref, tol)).toBe('');
      }
    }
  });

  it.each(CASES)(
    'packB + gemmPacked, transA %s, transB %s: sizes in {1,3,5,17,33,130}³ and across blocks',
    (tA, tB) => {
      let seed = 1;
      for (const m of SIZES)
        for (const n of SIZES)
          for (const k of SIZES)
            for (const beta of [0, 1] as const) {
              const p = problem(tA, tB, m, n, k, beta, seed++);
              check1(p);
            }
      check1(problem(tA, tB, 130, 1030, 260, 1, 130 + 1030 + 260));

      function check1(p: Problem): void {
        const { ref, tol } = reference(p);
        const packed = wk.packB(p.tB, p.k, p.n, p.B.data, p.B.off, p.B.ld);
        const got = p.C.data.slice();
        wk.gemmPacked(p.tA, p.m, p.n, p.k, p.A.data, p.A.off, p.A.ld, packed, p.beta, got, p.C.off, p.C.ld);
        wk.freePacked(packed);
        const bad = check(p, got, ref, tol);
        if (bad) expect(bad, `packed m=${p.m} n=${p.n} k=${p.k} beta=${p.beta}`).toBe('');
      }
    },
  );

  it('k = 0: beta 0 zeroes C, beta 1 leaves it', () => {
    const C = new Float32Array([1, 2, 3, 4, 5, 6]);
    wk.gemm(false, false, 2, 2, 0, new Float32Array(0), 0, 1, new Float32Array(0), 0, 2, 1, C, 1, 3);
    expect(Array.from(C)).toEqual([1, 2, 3, 4, 5, 6]);
    wk.gemm(false, false, 2, 2, 0, new Float32Array(0), 0, 1, new Float32Array(0), 0, 2, 0, C, 1, 3);
    expect(Array.from(C)).toEqual([1, 0, 0, 4, 0, 0]);
  });
});

describe('wasm gemm: NaN and Inf', () => {
  const wk = createWasmKernels({ relaxed: false });

  it.each(CASES)('transA %s, transB %s: a NaN in A fills its row of C, a NaN in B its column', (tA, tB) => {
    const m = 9,
      n = 11,
      k = 13;
    for (const where of ['A', 'B'] as const) {
      const p = problem(tA, tB, m, n, k, 0, 77);
      const [i, pp, j] = [4, 6, 9];
      if (where === 'A') p.A.data[p.A.off + (tA ? pp * p.A.ld + i : i * p.A.ld + pp)] = NaN;
      else p.B.data[p.B.off + (tB ? j * p.B.ld + pp : pp * p.B.ld + j)] = NaN;
      const got = p.C.data.slice();
      run(wk, p, got);
      for (let r = 0; r < m; r++) {
        for (let c = 0; c < n; c++) {
          const nan = where === 'A' ? r === i : c === j;
          expect(Number.isNaN(got[p.C.off + r * p.C.ld + c]), `${where}: C[${r},${c}]`).toBe(nan);
        }
      }
    }
  });

  it('0 · Inf is NaN (IEEE; the JS reference skips zeros of A, so it gives 0 there)', () => {
    const A = new Float32Array([0, 1]); // 1×2
    const B = new Float32Array([Infinity, 2]); // 2×1
    const C = new Float32Array(1);
    wk.gemm(false, false, 1, 1, 2, A, 0, 2, B, 0, 1, 0, C, 0, 1);
    expect(C[0]).toBeNaN();
  });

  it('beta 0 never reads C (NaN in C is overwritten); beta 1 keeps it', () => {
    const A = Float32Array.from({ length: 6 * 5 }, (_, i) => i / 7);
    const B = Float32Array.from({ length: 5 * 10 }, (_, i) => 1 - i / 9);
    const C = new Float32Array(60).fill(NaN);
    wk.gemm(false, false, 6, 10, 5, A, 0, 5, B, 0, 10, 0, C, 0, 10);
    expect(C.every(Number.isFinite)).toBe(true);
    C[17] = NaN;
    wk.gemm(false, false, 6, 10, 5, A, 0, 5, B, 0, 10, 1, C, 0, 10);
    expect(C.map((x) => (Number.isNaN(x) ? 1 : 0)).reduce((a, b) => a + b)).toBe(1);
    expect(C[17]).toBeNaN();
  });
});

describe('wasm kernels: memory, fallbacks, errors', () => {
  it('operands allocated inside wasm memory are used in place, also after the memory grows', () => {
    const wk = createWasmKernels({ shared: true });
    expect(wk.inPlace).toBe(true);
    const p = problem(false, true, 33, 130, 17, 1, 5);
    const { ref, tol } = reference(p);
    const A = wk.allocF32(p.A.data.length),
      B = wk.allocF32(p.B.data.length),
      C = wk.allocF32(p.C.data.length);
    A.set(p.A.data);
    B.set(p.B.data);
    C.set(p.C.data);
    // Force growth (and, for a shared memory, a new buffer object) after the arrays exist.
    const pagesBefore = wk.memory.buffer.byteLength / 65536;
    const big = wk.allocF32((64 << 20) >> 2);
    expect(wk.memory.buffer.byteLength / 65536).toBeGreaterThan(pagesBefore);
    // V8 also swaps a shared memory's buffer object without a size change (grow(0) does it on demand).
    const old = wk.memory.buffer;
    wk.memory.grow(0);
    expect(wk.memory.buffer).not.toBe(old);
    const D = wk.allocF32(8);
    expect(wk.owns(A) && wk.owns(A.subarray(3)) && wk.owns(C) && wk.owns(D)).toBe(true);
    wk.free(D);
    const before = { ...wk.stats };
    run(wk, p, C, A, B);
    expect(wk.stats.bytesCopiedIn).toBe(before.bytesCopiedIn);
    expect(wk.stats.bytesCopiedOut).toBe(before.bytesCopiedOut);
    expect(check(p, C, ref, tol)).toBe('');
    // Mixed: A in wasm memory, B and C outside.
    const C2 = p.C.data.slice();
    run(wk, p, C2, A, p.B.data);
    expect(wk.stats.bytesCopiedIn).toBeGreaterThan(before.bytesCopiedIn);
    expect(check(p, C2, ref, tol)).toBe('');
    expect(wk.owns(big) && wk.owns(A) && !wk.owns(p.A.data)).toBe(true);
    // Freed space is reused.
    const at = big.byteOffset;
    wk.free(big);
    expect(wk.allocF32(1000).byteOffset).toBe(at);
    expect(() => wk.free(new Float32Array(4))).toThrow(/not allocated by these kernels/);
    expect(() => wk.free(A.subarray(1))).toThrow(/not allocated by these kernels/);
    expect(() => wk.free(A.subarray(0, 16))).toThrow(/not allocated by these kernels/);
  });

  it('a packed B is a snapshot, is checked against the product, and dies with freePacked', () => {
    const wk = createWasmKernels(),
      other = createWasmKernels();
    const p = problem(false, false, 5, 17, 33, 0, 21);
    const { ref, tol } = reference(p);
    // From an array in wasm memory (no copy) and from an ordinary one.
    const Bw = wk.allocF32(p.B.data.length);
    Bw.set(p.B.data);
    for (const src of [p.B.data, Bw]) {
      const packed = wk.packB(false, p.k, p.n, src, p.B.off, p.B.ld);
      const saved = src[p.B.off];
      src[p.B.off] = 1e6; // changes after packing are not seen
      const got = p.C.data.slice();
      wk.gemmPacked(false, p.m, p.n, p.k, p.A.data, p.A.off, p.A.ld, packed, 0, got, p.C.off, p.C.ld);
      src[p.B.off] = saved;
      expect(check(p, got, ref, tol)).toBe('');
      expect(() =>
        wk.gemmPacked(false, p.m, p.n + 1, p.k, p.A.data, p.A.off, p.A.ld, packed, 0, got, p.C.off, p.C.ld),
      ).toThrow('gemmPacked: B was packed as 33×17; this product needs 33×18 (k×n).');
      expect(() =>
        other.gemmPacked(false, p.m, p.n, p.k, p.A.data, p.A.off, p.A.ld, packed, 0, got, p.C.off, p.C.ld),
      ).toThrow(/not packed by these kernels/);
      wk.freePacked(packed);
      expect(() =>
        wk.gemmPacked(false, p.m, p.n, p.k, p.A.data, p.A.off, p.A.ld, packed, 0, got, p.C.off, p.C.ld),
      ).toThrow(/or was freed/);
      expect(() => wk.freePacked(packed)).toThrow(/already freed/);
    }
  });

  it('an unshared memory hands out ordinary arrays (copied per call) and still computes', () => {
    const wk = createWasmKernels({ shared: false });
    expect(wk.inPlace).toBe(false);
    const a = wk.allocF32(4);
    expect(wk.owns(a)).toBe(false);
    wk.free(a);
    expect(() => wk.free(a)).toThrow(/or was already freed/);
    const p = problem(true, false, 130, 33, 130, 0, 9);
    const { ref, tol } = reference(p);
    const got = p.C.data.slice();
    run(wk, p, got);
    expect(check(p, got, ref, tol)).toBe('');
  });

  it('Float64Array operands use the JavaScript reference, bit for bit', () => {
    const wk = createWasmKernels();
    const p = problem(true, true, 17, 5, 33, 1, 3);
    const A = Float64Array.from(p.A.data),
      B = Float64Array.from(p.B.data);
    const got = Float64Array.from(p.C.data),
      want = Float64Array.from(p.C.data);
    const js = wk.stats.jsCalls;
    run(wk, p, got, A, B);
    run(jsKernels, p, want, A, B);
    expect(wk.stats.jsCalls).toBe(js + 1);
    expect(got).toEqual(want);
  });

  it('a Float64Array B is packed for the JavaScript kernels, bit for bit', () => {
    const wk = createWasmKernels();
    for (const [tA, tB] of CASES) {
      const p = problem(tA, tB, 17, 33, 5, 1, 8);
      const A = Float64Array.from(p.A.data),
        B = Float64Array.from(p.B.data);
      const packed = wk.packB(tB, p.k, p.n, B, p.B.off, p.B.ld);
      const got = Float64Array.from(p.C.data),
        want = Float64Array.from(p.C.data);
      wk.gemmPacked(tA, p.m, p.n, p.k, A, p.A.off, p.A.ld, packed, 1, got, p.C.off, p.C.ld);
      run(jsKernels, p, want, A, B);
      expect(got).toEqual(want);
      wk.freePacked(packed);
      expect(() => wk.freePacked(packed)).toThrow(/already freed/);
    }
    const p32 = wk.packB(false, 2, 2, new Float32Array(4), 0, 2);
    expect(() => wk.gemmPacked(false, 1, 2, 2, new Float64Array(2), 0, 2, p32, 0, new Float64Array(2), 0, 2)).toThrow(
      /must be Float32Arrays too/,
    );
  });

  it('rejects operands that do not fit their arrays, naming the operand', () => {
    const wk = createWasmKernels();
    const A = new Float32Array(10),
      B = new Float32Array(12),
      C = new Float32Array(12);
    expect(() => wk.gemm(false, false, 3, 4, 4, A, 0, 4, B, 0, 4, 0, C, 0, 4)).toThrow(
      'gemm: A needs elements [0, 12) (3×4, ld 4); the array has 10. Check the offset and leading dimension.',
    );
    expect(() => wk.gemm(false, false, 2, 4, 3, A, 0, 2, B, 0, 4, 0, C, 0, 4)).toThrow(
      'gemm: leading dimension of A is 2; expected at least 3 (its stored width).',
    );
  });

  it('plugs in with setKernels', () => {
    const wk = createWasmKernels();
    const prev = setKernels(wk);
    try {
      const C = new Float32Array(1);
      kernels().gemm(false, false, 1, 1, 2, new Float32Array([2, 3]), 0, 2, new Float32Array([5, 7]), 0, 1, 0, C, 0, 1);
      expect(C[0]).toBe(31);
    } finally {
      setKernels(prev);
    }
  });

  it('the check itself rejects a result with one product term missing', () => {
    const p = problem(false, false, 17, 33, 130, 0, 11);
    const { ref, tol } = reference(p);
    const got = Float32Array.from(ref);
    expect(check(p, got, ref, tol)).toBe('');
    const i = 3,
      j = 5,
      q = 77;
    got[p.C.off + i * p.C.ld + j] -= p.A.data[p.A.off + i * p.A.ld + q] * p.B.data[p.B.off + q * p.B.ld + j];
    expect(check(p, got, ref, tol)).toMatch(/^C\[3,5\]/);
  });

  it('gemm.wasm.ts was generated from the current gemm.as (else run npm run build:wasm)', () => {
    const src = readFileSync(new URL('../src/engine/wasm/gemm.as', import.meta.url), 'utf8');
    expect(createHash('sha256').update(src).digest('hex').slice(0, 16)).toBe(SOURCE_HASH);
  });
});

describe('Arena', () => {
  it('allocates aligned blocks, reuses and coalesces freed ones, and grows at the top', () => {
    const ends: number[] = [];
    const a = new Arena(10, (end) => ends.push(end));
    const x = a.alloc(100),
      y = a.alloc(1),
      z = a.alloc(64);
    expect([x, y, z]).toEqual([64, 192, 256]);
    expect(ends.at(-1)).toBe(320);
    a.free(y);
    expect(a.alloc(64)).toBe(192); // exact fit reuses the hole
    a.free(192);
    a.free(x);
    // x (128 bytes) and y's hole (64) coalesce into 192 bytes at 64.
    expect(a.alloc(192)).toBe(64);
    a.free(64);
    a.free(z);
    // Everything is free again and merges with the top: a large block starts at the base.
    expect(a.alloc(1000)).toBe(64);
    expect(a.liveBytes).toBe(1024);
    expect(a.end).toBe(64 + 1024);
    expect(() => a.free(65)).toThrow(/not the start of a live block/);
    expect(ALIGN).toBe(64);
  });
});
