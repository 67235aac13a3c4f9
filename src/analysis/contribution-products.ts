// The step products of the per-step contributions (contributions.ts): C_t's kernel, recurrent and bias blocks of one
// batch or of gathered batches, their norms and sums in one float64 pass, and the sketch's projections. Split from
// contributions.ts, which chooses the representation, folds batches in and finishes.

import type { Arr } from '../engine/tensor.js';
import type { Kernels } from '../engine/kernels-js.js';
import type { Contributions, Operands } from './contributions.js';

export interface Work {
  tmp: Arr;
  pa: Arr;
  pd: Arr;
}

export function workspace(c: Contributions, op: Operands): Work {
  const like = (n: number): Arr => (op.delta instanceof Float32Array ? new Float32Array(n) : new Float64Array(n));
  const k = c.sketch?.k ?? 0;
  return { tmp: like(Math.max(c.I, c.U) * c.G * c.U), pa: like(2 * op.B * k), pd: like((c.G + 1) * op.B * k) };
}

/**
 * Adds s·C_t of one batch into dst (kernel rows at dK[oK..], recurrent rows at dR[oR..], bias rows at dB[oB..]).
 * Each product runs in the operands' dtype on the run's kernels, then is added in float64.
 */
export function addStep(
  c: Contributions,
  op: Operands,
  t: number,
  w: Work,
  dK: Float64Array,
  oK: number,
  dR: Float64Array,
  oR: number,
  dB: Float64Array | null,
  oB: number,
  k: Kernels,
): void {
  const { I, U, G } = c,
    GU = G * U,
    { scale } = op,
    tmp = w.tmp;
  kernelProduct(c, op, t, tmp, k);
  for (let i = 0; i < I * GU; i++) dK[oK + i] += tmp[i]! * scale;
  recurrentProduct(c, op, t, tmp, k);
  for (let i = 0; i < U * GU; i++) dR[oR + i] += tmp[i]! * scale;
  if (dB) addBias(c, op, t, dB, oB);
}

/** tmp (I, GU) = Σ_b x_bᵀ δ_b of step t (unweighted). */
export function kernelProduct(c: Contributions, op: Operands, t: number, tmp: Arr, k: Kernels): void {
  const { T, I, U, G } = c,
    GU = G * U;
  k.gemm(true, false, I, GU, op.B, op.x, t * I, T * I, op.delta, t * GU, T * GU, 0, tmp, 0, GU);
}

/** tmp (U, GU) = Σ_b h_{t−1,b}ᵀ δ_b of step t (unweighted), with the cell's own block's operands. */
export function recurrentProduct(c: Contributions, op: Operands, t: number, tmp: Arr, k: Kernels): void {
  const { T, U, G } = c,
    GU = G * U,
    { B, hp, delta } = op;
  const cb = c.block;
  if (cb !== null && (op.rLeft || op.rRight)) {
    // h_{t−1}ᵀ·δ for the blocks before and after the cell's own block, then its own operands.
    if (cb > 0) k.gemm(true, false, U, cb * U, B, hp, t * U, T * U, delta, t * GU, T * GU, 0, tmp, 0, GU);
    if (cb < G - 1)
      k.gemm(
        true,
        false,
        U,
        (G - 1 - cb) * U,
        B,
        hp,
        t * U,
        T * U,
        delta,
        t * GU + (cb + 1) * U,
        T * GU,
        0,
        tmp,
        (cb + 1) * U,
        GU,
      );
    const left = op.rLeft ?? hp,
      right = op.rRight ?? delta;
    const rOff = op.rRight ? t * U : t * GU + cb * U,
      ldr = op.rRight ? T * U : T * GU;
    k.gemm(true, false, U, U, B, left, t * U, T * U, right, rOff, ldr, 0, tmp, cb * U, GU);
  } else k.gemm(true, false, U, GU, B, hp, t * U, T * U, delta, t * GU, T * GU, 0, tmp, 0, GU);
}

/**
 * One pass over a step's product tmp (rows × GU): v = s·tmp in float64, the squared norm of each gate
 * block into norms[(g·3 + grp)·T + t] (square-rooted), and v added into sum. The same sums, in the same
 * order, as adding into a zeroed float64 block and taking its norms and total after.
 */
export function normsAndSum(
  c: Contributions,
  tmp: Arr,
  rows: number,
  s: number,
  sum: Float64Array,
  norms: Float64Array,
  grp: number,
  t: number,
): void {
  const { T, U, G } = c,
    GU = G * U;
  const sq = new Float64Array(G);
  for (let r = 0; r < rows; r++)
    for (let g = 0; g < G; g++) {
      let q = sq[g]!;
      const o = r * GU + g * U;
      for (let u = 0; u < U; u++) {
        const v = tmp[o + u]! * s;
        q += v * v;
        sum[o + u] += v;
      }
      sq[g] = q;
    }
  for (let g = 0; g < G; g++) norms[(g * 3 + grp) * T + t] = Math.sqrt(sq[g]!);
}

/** Bias rows: Σ_b s·δ (and for a recurrent bias row, the recurrent side: δ with the cell's own block's right operand).
 * */
export function addBias(c: Contributions, op: Operands, t: number, dB: Float64Array, oB: number): void {
  const { T, U, G } = c,
    GU = G * U,
    { B, delta, scale } = op;
  const own = c.block !== null && op.rRight ? c.block * U : -1;
  for (let b = 0; b < B; b++) {
    const o = (b * T + t) * GU;
    for (let j = 0; j < GU; j++) dB[oB + j] += delta[o + j]! * scale;
    if (c.biasRows === 2) {
      for (let j = 0; j < GU; j++) {
        dB[oB + GU + j] +=
          (own >= 0 && j >= own && j < own + U ? op.rRight![(b * T + t) * U + j - own]! : delta[o + j]!) * scale;
      }
    }
  }
}

/** Sketch: y_j(t, g) += s Σ_b (ψ_jᵀ a_b)(ω_jᵀ δ_b^g) for kernel (a = x) and recurrent (a = h_{t−1}) rows. */
export function project(c: Contributions, op: Operands, t: number, w: Work, kern: Kernels): void {
  const { T, I, U, G } = c,
    GU = G * U,
    sk = c.sketch!,
    K = sk.k,
    { B, scale } = op;
  const PA = w.pa,
    PD = w.pd;
  // PA rows 0..B−1: x·ψ_K; rows B..2B−1: h·ψ_R. PD: (G, B, k) of δ^g·ω^g, then the cell's own block's operand.
  kern.gemm(false, false, B, K, I, op.x, t * I, T * I, sk.psiK, 0, K, 0, PA, 0, K);
  kern.gemm(false, false, B, K, U, op.hp, t * U, T * U, sk.psiR, 0, K, 0, PA, B * K, K);
  for (let g = 0; g < G; g++)
    kern.gemm(false, false, B, K, U, op.delta, t * GU + g * U, T * GU, sk.omega, g * U * K, K, 0, PD, g * B * K, K);
  const cb = c.block ?? -1,
    own = cb >= 0 && (op.rLeft || op.rRight);
  const accumulate = (y: Float64Array, g: number, pa: number, pd: number): void => {
    const o = (t * G + g) * K;
    for (let b = 0; b < B; b++)
      for (let j = 0; j < K; j++) y[o + j] += scale * PA[pa + b * K + j]! * PD[pd + b * K + j]!;
  };
  for (let g = 0; g < G; g++) {
    accumulate(sk.yK, g, 0, g * B * K);
    if (own && g === cb) continue;
    accumulate(sk.yR, g, B * K, g * B * K);
  }
  if (own && op.rLeft) {
    kern.gemm(false, false, B, K, U, op.rLeft, t * U, T * U, sk.psiR, 0, K, 0, PA, B * K, K);
    accumulate(sk.yR, cb, B * K, cb * B * K);
  } else if (own && op.rRight) {
    kern.gemm(false, false, B, K, U, op.rRight, t * U, T * U, sk.omega, cb * U * K, K, 0, PD, G * B * K, K);
    accumulate(sk.yR, cb, B * K, G * B * K);
  }
}
