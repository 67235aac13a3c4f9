// AssemblyScript source of the float32 SIMD gemm (compiled by
// scripts/build-wasm.ts into gemm.wasm.ts; the `.as` extension keeps it out of
// the TypeScript program). Row-major, as src/engine/kernels.ts:
//     C[m×n] = beta·C + op(A)·op(B),   beta ∈ {0, 1}
// All pointers and leading dimensions arrive from JavaScript, which owns the
// memory layout (src/engine/kernels-wasm.ts); this module keeps no state and
// no static data.
//
// Goto/BLIS structure, sized for recurrent-network shapes:
//   for jc (nc columns)          B block  kb×nb packed once    → L2/L3
//     for pc (kc depth)
//       for ic (mc rows)          A block  mb×kb packed         → L2
//         for jr (NR columns)     B micro-panel kb×16 (16 KiB)  → stays in L1
//           for ir (MR rows)      A micro-panel kb×2 streams from L2
//             2×16 micro-kernel
// jr is outside ir because the streamed operand then costs 8 bytes per
// k-step (A) instead of 64 (B).
//
// Micro-kernel 2×16 (measured with bench/kernels.ts on Zen 5, V8 11.3):
// - x64 V8 gives wasm at most 15 xmm registers (xmm15 is its scratch), and
//   TurboFan issues all loads of a loop body before the arithmetic. 2×16 needs
//   8 accumulators + 4 B vectors + 2 broadcast A values + 1 product
//   temporary = 15: no spills. (4×12 or 6×8 spill; so does any unrolling.)
// - A values are broadcast with load32_splat (vbroadcastss). The broadcast
//   competes with the multiplies and adds for FP pipes: 4×8 (4 broadcasts per
//   16 mul+add) ran at ~75% of the f32x4 ceiling, and halving the broadcasts
//   gained 25%. 2×16 has 2 broadcasts per 16 mul+add.

const MR: i32 = 2;
const NR: i32 = 16;

/** c + a·b; fused (one rounding) when relaxed SIMD is compiled in and the CPU has FMA. */
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * C[2×16] (=, or += when `acc`) Ap·Bp over kb steps. Ap is packed [p][2],
 * Bp is packed [p][16]; ldc is in bytes. Not unrolled: see the header.
 */
function kernel2x16(kb: i32, pa: usize, pb: usize, pc: usize, ldc: usize, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
  for (let p = 0; p < kb; p++) {
    const b0 = v128.load(pb, 0), b1 = v128.load(pb, 16), b2 = v128.load(pb, 32), b3 = v128.load(pb, 48);
    let a = v128.load32_splat(pa, 0);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01); c02 = madd(a, b2, c02); c03 = madd(a, b3, c03);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11); c12 = madd(a, b2, c12); c13 = madd(a, b3, c13);
    pa += 8; pb += 64;
  }
  // beta = 0 never reads C, so NaN or garbage already in C does not leak (BLAS semantics).
  if (acc) {
    c00 = f32x4.add(c00, v128.load(pc, 0)); c01 = f32x4.add(c01, v128.load(pc, 16));
    c02 = f32x4.add(c02, v128.load(pc, 32)); c03 = f32x4.add(c03, v128.load(pc, 48));
    c10 = f32x4.add(c10, v128.load(pc + ldc, 0)); c11 = f32x4.add(c11, v128.load(pc + ldc, 16));
    c12 = f32x4.add(c12, v128.load(pc + ldc, 32)); c13 = f32x4.add(c13, v128.load(pc + ldc, 48));
  }
  v128.store(pc, c00, 0); v128.store(pc, c01, 16); v128.store(pc, c02, 32); v128.store(pc, c03, 48);
  pc += ldc;
  v128.store(pc, c10, 0); v128.store(pc, c11, 16); v128.store(pc, c12, 32); v128.store(pc, c13, 48);
}

/**
 * Packs X(r, p), r < w, p < kb, into panels of W rows (W = 2 or a multiple of 4):
 *   dst[(r / W)·kb·W + p·W + r % W] = X(r, p),  rows w..⌈w/W⌉·W zero.
 * `gather`: X(r, p) = src[r·ld + p] (the panel dimension is strided, so 4×4
 * blocks are transposed in registers); otherwise X(r, p) = src[p·ld + r]
 * (contiguous, plain vector copies). ld in bytes. Rows go in groups of 4: one
 * vector per p, which lands in one panel (W ≥ 4) or half in each of two (W = 2).
 */
function pack(src: usize, ld: usize, gather: bool, w: i32, kb: i32, W: i32, dst: usize): void {
  const panelBytes = <usize>(kb * W) << 2;
  const step = <usize>W << 2; // bytes from p to p + 1 within a panel
  const wPad = (w + W - 1) / W * W;
  for (let r = 0; r < wPad; r += 4) {
    const out = dst + <usize>(r / W) * panelBytes + (<usize>(r % W) << 2);
    if (r + 4 <= w) {
      if (gather) {
        let s = src + <usize>r * ld;
        let p = 0;
        for (; p + 4 <= kb; p += 4) {
          const x0 = v128.load(s), x1 = v128.load(s + ld);
          const x2 = v128.load(s + 2 * ld), x3 = v128.load(s + 3 * ld);
          const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
          const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
          const o = out + <usize>p * step;
          put(o, step, panelBytes, W, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
          put(o + step, step, panelBytes, W, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
          put(o + 2 * step, step, panelBytes, W, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
          put(o + 3 * step, step, panelBytes, W, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
          s += 16;
        }
        for (; p < kb; p++) {
          let v = v128.load32_zero(s);
          v = v128.load32_lane(s + ld, v, 1);
          v = v128.load32_lane(s + 2 * ld, v, 2);
          v = v128.load32_lane(s + 3 * ld, v, 3);
          put(out + <usize>p * step, step, panelBytes, W, v);
          s += 4;
        }
      } else {
        let s = src + (<usize>r << 2);
        for (let p = 0; p < kb; p++) {
          put(out + <usize>p * step, step, panelBytes, W, v128.load(s));
          s += ld;
        }
      }
    } else {
      // The last, partial group: rows r..min(r + 4, wPad), zero from w on.
      const rows = min(4, wPad - r);
      for (let p = 0; p < kb; p++) {
        for (let q = 0; q < rows; q++) {
          const rr = r + q;
          let v: f32 = 0;
          if (rr < w) v = gather ? load<f32>(src + <usize>rr * ld + (<usize>p << 2)) : load<f32>(src + <usize>p * ld + (<usize>rr << 2));
          store<f32>(dst + <usize>(rr / W) * panelBytes + <usize>p * step + (<usize>(rr % W) << 2), v);
        }
      }
    }
  }
}

/** Stores the values of 4 consecutive rows at one p: in one panel, or split over two when W = 2. */
@inline function put(o: usize, step: usize, panelBytes: usize, W: i32, v: v128): void {
  if (W >= 4) v128.store(o, v);
  else {
    v128.store64_lane(o, v, 0);
    v128.store64_lane(o + panelBytes, v, 1);
  }
}

/** Writes the valid mr×nr corner of an MR×NR tile (row stride NR·4 bytes) into C. */
function storeEdge(tile: usize, mr: i32, nr: i32, pc: usize, ldc: usize, acc: bool): void {
  for (let i = 0; i < mr; i++) {
    const t = tile + <usize>(i * NR) * 4;
    const c = pc + <usize>i * ldc;
    for (let j = 0; j < nr; j++) {
      const o = <usize>j << 2;
      const v = load<f32>(t + o);
      store<f32>(c + o, acc ? load<f32>(c + o) + v : v);
    }
  }
}

/**
 * Bytes of workspace gemm() needs for these sizes and blocking; JavaScript
 * calls this to place the workspace.
 */
export function workBytes(m: i32, n: i32, k: i32, mc: i32, kc: i32, nc: i32): usize {
  const mb = min(m, mc), kb = min(k, kc), nb = min(n, nc);
  const ma = (mb + MR - 1) / MR * MR, nbp = (nb + NR - 1) / NR * NR;
  return (<usize>(ma * kb) + <usize>(nbp * kb) + <usize>(MR * NR)) << 2;
}

/** Bytes packB writes for a k×n op(B). */
export function packedBBytes(k: i32, n: i32): usize {
  return <usize>((n + NR - 1) / NR * NR) * <usize>k << 2;
}

/**
 * Packs all of op(B) (k×n) once into full-depth panels, for gemm(bPacked = 1):
 *   dst[(j / NR)·k·NR + p·NR + j % NR] = op(B)(p, j),  ⌈n/NR⌉·NR·k floats.
 * Any depth block [pc, pc + kb) of a panel is then contiguous, so gemm reads
 * it in place whatever its blocking. Recurrent weights are the same at every
 * step: packing them once saves 10–30% of a per-step product (bench/kernels.ts).
 */
export function packB(transB: i32, k: i32, n: i32, b: usize, ldb: i32, dst: usize): void {
  pack(b, <usize>ldb << 2, transB != 0, n, k, NR, dst);
}

/**
 * C = beta·C + op(A)·op(B). Pointers in bytes, leading dimensions in
 * elements; `work` holds workBytes(m, n, k, mc, kc, nc) bytes (16-aligned).
 * With bPacked, `b` is the output of packB (ldb and transB unused).
 */
export function gemm(
  transA: i32, transB: i32, m: i32, n: i32, k: i32,
  a: usize, lda: i32, b: usize, ldb: i32, bPacked: i32,
  beta: i32, c: usize, ldc: i32,
  work: usize, mc: i32, kc: i32, nc: i32,
): void {
  const ldcB = <usize>ldc << 2, ldaB = <usize>lda << 2, ldbB = <usize>ldb << 2;
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (beta == 0) for (let i = 0; i < m; i++) memory.fill(c + <usize>i * ldcB, 0, <usize>n << 2);
    return;
  }
  // Packed B needs no column blocks (they only bound the B buffer), and its panel index needs jc = 0.
  if (bPacked) nc = n;
  const mb0 = min(m, mc), kb0 = min(k, kc), nb0 = min(n, nc);
  const packA = work;
  const packBuf = packA + (<usize>((mb0 + MR - 1) / MR * MR * kb0) << 2);
  // Within workBytes(…, nc) as JavaScript computed it: a packed B uses no B buffer.
  const tile = packBuf + (bPacked ? 0 : <usize>((nb0 + NR - 1) / NR * NR * kb0) << 2);
  for (let jc = 0; jc < n; jc += nc) {
    const nb = min(nc, n - jc);
    for (let pc = 0; pc < k; pc += kc) {
      const kb = min(kc, k - pc);
      // op(B)(p, j): B[p·ldb + j] when not transposed (contiguous along j), else B[j·ldb + p].
      if (!bPacked) {
        const bSrc = transB ? b + ((<usize>jc * ldb + pc) << 2) : b + ((<usize>pc * ldb + jc) << 2);
        pack(bSrc, ldbB, transB != 0, nb, kb, NR, packBuf);
      }
      const acc = beta != 0 || pc > 0;
      for (let ic = 0; ic < m; ic += mc) {
        const mb = min(mc, m - ic);
        const aSrc = transA ? a + ((<usize>pc * lda + ic) << 2) : a + ((<usize>ic * lda + pc) << 2);
        pack(aSrc, ldaB, transA == 0, mb, kb, MR, packA);
        for (let jr = 0; jr < nb; jr += NR) {
          const nr = min(NR, nb - jr);
          const pb = bPacked
            ? b + ((<usize>(jr / NR) * k + pc) * NR << 2)
            : packBuf + (<usize>(jr * kb) << 2);
          for (let ir = 0; ir < mb; ir += MR) {
            const mr = min(MR, mb - ir);
            const pa = packA + (<usize>(ir * kb) << 2);
            const pcC = c + ((<usize>(ic + ir) * ldc + jc + jr) << 2);
            if (mr == MR && nr == NR) kernel2x16(kb, pa, pb, pcC, ldcB, acc);
            else {
              kernel2x16(kb, pa, pb, tile, <usize>NR << 2, false);
              storeEdge(tile, mr, nr, pcC, ldcB, acc);
            }
          }
        }
      }
    }
  }
}
