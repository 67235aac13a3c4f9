// The `factors` representation of contributions.ts, finished without rebuilding each C_t when there are
// few samples: with C_t = Σ_n s_n a_nᵀ b_n (a = x or h_{t−1}, b = δ's gate block),
//   ‖C_t‖²_F = Σ_{n,m} s_n s_m (a_n·a_m)(b_n·b_m),
// a Gram form over samples: O(N²·(I+U+GU)) per step instead of O(N·(I+U)·GU), summed in float64 from
// the exact float32 (or float64) operands. Σ_t C_t, which needs the matrix, is taken over blocks of
// steps per sample (one product per block, then added in float64).

import type { Kernels } from '../engine/kernels-js.js';
import type { Arr } from '../engine/tensor.js';
import type { Contributions, Operands } from './contributions.js';

/** Relative cost of the Gram form vs rebuilding each C_t (chosen in finishContributions). */
export function gramIsCheaper(c: Contributions): boolean {
  const { I, U, G, biasRows: nb } = c,
    GU = G * U;
  const N = c.factors.reduce((n, op) => n + op.B, 0);
  const gram = (N * N * (I + 2 * U + GU)) / 2;
  const rebuild = c.factors.length * (I + U + nb) * GU * 3 + (N * (I + U) * GU) / 16;
  return gram <= rebuild;
}

/** Fills norms (G, 3, T) for kernel, recurrent_kernel and bias from the factors by Gram forms. */
export function gramNorms(c: Contributions, norms: Float64Array): void {
  const { T, I, U, G, biasRows: nb } = c,
    GU = G * U;
  const ops = c.factors,
    N = ops.reduce((n, op) => n + op.B, 0);
  const own = c.block ?? -1;
  const hasHH = ops.some((op) => op.rLeft),
    hasDR = ops.some((op) => op.rRight);
  const s = new Float64Array(N),
    X = new Float64Array(N * I),
    H = new Float64Array(N * U),
    D = new Float64Array(N * GU);
  const HH = hasHH ? new Float64Array(N * U) : null,
    DR = hasDR ? new Float64Array(N * U) : null;
  {
    let n = 0;
    for (const op of ops) for (let b = 0; b < op.B; b++) s[n++] = op.scale;
  }
  const gather = (dst: Float64Array, pick: (op: Operands) => Arr | null, w: number, t: number): void => {
    let n = 0;
    for (const op of ops) {
      const a = pick(op)!;
      for (let b = 0; b < op.B; b++, n++) for (let j = 0; j < w; j++) dst[n * w + j] = a[(b * T + t) * w + j]!;
    }
  };
  const dot = (A: Float64Array, w: number, n: number, m: number, off = 0, len = w): number => {
    let v = 0;
    for (let j = 0; j < len; j++) v += A[n * w + off + j]! * A[m * w + off + j]!;
    return v;
  };
  const aK = new Float64Array(G),
    aR = new Float64Array(G),
    aB = new Float64Array(G);
  for (let t = 0; t < T; t++) {
    gather(X, (op) => op.x, I, t);
    gather(H, (op) => op.hp, U, t);
    gather(D, (op) => op.delta, GU, t);
    if (HH) gather(HH, (op) => op.rLeft, U, t);
    if (DR) gather(DR, (op) => op.rRight, U, t);
    aK.fill(0);
    aR.fill(0);
    aB.fill(0);
    for (let n = 0; n < N; n++)
      for (let m = 0; m <= n; m++) {
        const w = s[n]! * s[m]! * (m < n ? 2 : 1);
        const gx = dot(X, I, n, m),
          gh = dot(H, U, n, m);
        for (let g = 0; g < G; g++) {
          const gd = dot(D, GU, n, m, g * U, U);
          aK[g] += w * gx * gd;
          aB[g] += w * gd * (nb === 2 && !(g === own && (HH || DR)) ? 2 : 1);
          if (g === own && (HH || DR)) {
            const left = HH ? dot(HH, U, n, m) : gh,
              right = DR ? dot(DR, U, n, m) : gd;
            aR[g] += w * left * right;
            if (nb === 2) aB[g] += w * right;
          } else aR[g] += w * gh * gd;
        }
      }
    for (let g = 0; g < G; g++) {
      norms[g * 3 * T + t] = Math.sqrt(Math.max(0, aK[g]!));
      norms[(g * 3 + 1) * T + t] = Math.sqrt(Math.max(0, aR[g]!));
      norms[(g * 3 + 2) * T + t] = nb ? Math.sqrt(Math.max(0, aB[g]!)) : 0;
    }
  }
}

/** Steps per product in blockedTotals (float32 sums over at most this many terms, as a batch of 32 does per step). */
const BLOCK = 32;

/** Σ_t C_t into c.sumK, c.sumR, c.sumB from the factors, on the run's kernels. */
export function blockedTotals(c: Contributions, k: Kernels): void {
  const { T, I, U, G, biasRows: nb } = c,
    GU = G * U,
    cb = c.block;
  for (const op of c.factors) {
    const tmp =
      op.delta instanceof Float32Array ? new Float32Array(Math.max(I, U) * GU) : new Float64Array(Math.max(I, U) * GU);
    const add = (dst: Float64Array, n: number): void => {
      for (let i = 0; i < n; i++) dst[i] += tmp[i]! * op.scale;
    };
    for (let b = 0; b < op.B; b++)
      for (let t0 = 0; t0 < T; t0 += BLOCK) {
        const n = Math.min(BLOCK, T - t0),
          r = b * T + t0;
        k.gemm(true, false, I, GU, n, op.x, r * I, I, op.delta, r * GU, GU, 0, tmp, 0, GU);
        add(c.sumK, I * GU);
        if (cb !== null && (op.rLeft || op.rRight)) {
          // h_{t−1}ᵀ·δ for the blocks before and after the cell's own block, then its own operands.
          if (cb > 0) k.gemm(true, false, U, cb * U, n, op.hp, r * U, U, op.delta, r * GU, GU, 0, tmp, 0, GU);
          if (cb < G - 1)
            k.gemm(
              true,
              false,
              U,
              (G - 1 - cb) * U,
              n,
              op.hp,
              r * U,
              U,
              op.delta,
              r * GU + (cb + 1) * U,
              GU,
              0,
              tmp,
              (cb + 1) * U,
              GU,
            );
          const left = op.rLeft ?? op.hp;
          if (op.rRight) k.gemm(true, false, U, U, n, left, r * U, U, op.rRight, r * U, U, 0, tmp, cb * U, GU);
          else k.gemm(true, false, U, U, n, left, r * U, U, op.delta, r * GU + cb * U, GU, 0, tmp, cb * U, GU);
        } else k.gemm(true, false, U, GU, n, op.hp, r * U, U, op.delta, r * GU, GU, 0, tmp, 0, GU);
        add(c.sumR, U * GU);
      }
    if (!nb) continue;
    for (let bt = 0; bt < op.B * T; bt++) {
      for (let j = 0; j < GU; j++) c.sumB[j] += op.delta[bt * GU + j]! * op.scale;
      if (nb === 2) {
        const own = cb !== null && op.rRight ? cb * U : -1;
        for (let j = 0; j < GU; j++)
          c.sumB[GU + j] +=
            (own >= 0 && j >= own && j < own + U ? op.rRight![bt * U + j - own]! : op.delta[bt * GU + j]!) * op.scale;
      }
    }
  }
}
