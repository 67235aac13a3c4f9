// Per-step contributions C_t to a recurrent layer's parameter gradient, per gate block g:
//   kernel C_t = Σ_n s_n x_{t,n}ᵀ δ_{t,n},  recurrent_kernel C_t = Σ_n s_n h_{t−1,n}ᵀ δ_{t,n},  bias C_t = Σ_n s_n δ_{t,n}
// (s_n = B_b/N: the batch taps are of the batch's mean loss). Reported: ‖C_t‖_F per step and ‖Σ_t C_t‖_F.
//
// ‖C_t‖ is the norm of a sum over ALL samples, so batches cannot be reduced to per-batch norms. Three
// representations, chosen per layer from a memory budget (chooseContributionMode):
//   matrix   C_t itself for every t, (T, I+U+nb, GU) float64, summed batch by batch. Exact; used when it fits.
//   factors  the operands x, h_{t−1}, δ (B, T, ·) of every batch, kept as the taps gave them; at the end
//            each C_t is rebuilt one step at a time (the same products summed in float64 as `matrix`), or
//            for few samples its norm is taken from Gram forms over samples (contribution-gram.ts). Exact;
//            memory N·T·(I+U+GU) instead of T·(I+U)·GU.
//   sketch   beyond the budget: for k seeded Rademacher pairs (ψ_j, ω_j), y_j = ψ_jᵀ C_t ω_j, which is linear
//            in C_t and so sums over batches; ‖C_t‖² ≈ (1/k) Σ_j y_j². Unbiased, and since E[y⁴] ≤ 9‖C‖⁴ for
//            Rademacher vectors, the relative standard deviation of the estimate of ‖C_t‖² is at most √(8/k)
//            (the norm's relative error is at most its square's). Bias contributions and Σ_t C_t stay exact.
// docs/analysis-memory.md states the budget and the bound.

import { GATES, type RecurrentSpec } from '../model/types.js';
import { kernels } from '../engine/kernels.js';
import { makeRng } from '../engine/rng.js';
import type { LayerTaps } from '../engine/taps.js';
import type { Arr } from '../engine/tensor.js';
import { blockedTotals, gramIsCheaper, gramNorms } from './contribution-gram.js';

export type ContributionMode = 'matrix' | 'factors' | 'sketch';

/** The operands of one batch's per-step products, (B, T, ·) row-major as in the taps. */
export interface Operands {
  B: number;
  /** B_b / N. */
  scale: number;
  x: Arr; hp: Arr; delta: Arr;
  /** GRU reset_after: δ_h ⊙ r, the candidate block's recurrent-side gradient (B, T, U). */
  deltaRh: Arr | null;
  /** GRU reset_before: r ⊙ h_{t−1}, the candidate block's left operand (B, T, U). */
  hpH: Arr | null;
}

export interface Sketch {
  k: number;
  /** Rademacher ±1: ψ for the kernel rows (I × k) and recurrent rows (U × k), ω for the columns (GU × k). */
  psiK: Arr; psiR: Arr; omega: Arr;
  /** y_j per (t, gate): (T, G, k) for kernel and recurrent_kernel. */
  yK: Float64Array; yR: Float64Array;
}

export interface Contributions {
  mode: ContributionMode;
  /** Sketch pairs (0 unless sketch), and after finishing, the median over steps of the measured relative standard error of ‖C_t‖². */
  k: number; sketchError: number | null;
  T: number; U: number; I: number; G: number; biasRows: number; gru: boolean;
  /** matrix mode: C_t for every t, (T, I, GU), (T, U, GU); bias (T, nb, GU) also in sketch mode. */
  cK: Float64Array | null; cR: Float64Array | null; cB: Float64Array | null;
  /** factors mode: each batch's operands. */
  factors: Operands[];
  sketch: Sketch | null;
  /** Σ_t C_t (I, GU), (U, GU), (nb, GU): sketch mode accumulates them per batch, the others at the end. */
  sumK: Float64Array; sumR: Float64Array; sumB: Float64Array;
  /** Filled by finishContributions: ‖C_t‖ per (gate, group, t) as (G, 3, T) and ‖Σ_t C_t‖ per (gate, group) as (G, 3). */
  norms: Float64Array | null; totals: Float64Array | null;
}

export const GROUPS = ['kernel', 'recurrent_kernel', 'bias'] as const;
export type Group = (typeof GROUPS)[number];

/** Default memory for the contributions of all recurrent layers together, in bytes. */
export const DEFAULT_CONTRIBUTION_MEMORY = 512 * 2 ** 20;
const SKETCH_K_MIN = 16, SKETCH_K_MAX = 1024;

/**
 * The representation for one layer: `matrix` if its bytes (× threads, each holds its own) fit `budget`,
 * else `factors` if those fit (they split over threads), else `sketch` with as many pairs as fit (16..1024).
 */
export function chooseContributionMode(spec: RecurrentSpec, T: number, N: number, budget: number, threads: number, valueBytes: number): { mode: ContributionMode; k: number } {
  const U = spec.units, I = spec.inputDim, G = GATES[spec.kind].length, GU = G * U, nb = biasRowsOf(spec);
  const matrix = T * (I + U + nb) * GU * 8 * threads;
  if (matrix <= budget) return { mode: 'matrix', k: 0 };
  const factors = T * N * (I + U + GU + (spec.kind === 'GRU' ? U : 0)) * valueBytes;
  if (factors <= budget) return { mode: 'factors', k: 0 };
  const fixed = T * nb * GU * 8 * threads, perK = T * G * 2 * 8 * threads;
  const k = Math.max(SKETCH_K_MIN, Math.min(SKETCH_K_MAX, Math.floor((budget - fixed) / perK)));
  return { mode: 'sketch', k };
}

export function biasRowsOf(spec: RecurrentSpec): number {
  return spec.useBias ? (spec.kind === 'GRU' && spec.resetAfter ? 2 : 1) : 0;
}

export function newContributions(spec: RecurrentSpec, T: number, mode: ContributionMode, k: number, seed: number, float32: boolean): Contributions {
  const U = spec.units, I = spec.inputDim, G = GATES[spec.kind].length, GU = G * U, nb = biasRowsOf(spec);
  const like = (n: number): Arr => (float32 ? new Float32Array(n) : new Float64Array(n));
  let sketch: Sketch | null = null;
  if (mode === 'sketch') {
    // Independent signs matter for the bound: an LCG's low bits repeat (bit 15 every 2^16 draws).
    const rng = makeRng(seed);
    const sign = (a: Arr): Arr => {
      for (let i = 0; i < a.length; i += 32) {
        const r = rng.nextU32();
        for (let j = 0; j < 32 && i + j < a.length; j++) a[i + j] = (r >>> j) & 1 ? 1 : -1;
      }
      return a;
    };
    sketch = { k, psiK: sign(like(I * k)), psiR: sign(like(U * k)), omega: sign(like(GU * k)), yK: new Float64Array(T * G * k), yR: new Float64Array(T * G * k) };
  }
  return {
    mode, k: mode === 'sketch' ? k : 0, sketchError: null, T, U, I, G, biasRows: nb, gru: spec.kind === 'GRU',
    cK: mode === 'matrix' ? new Float64Array(T * I * GU) : null,
    cR: mode === 'matrix' ? new Float64Array(T * U * GU) : null,
    cB: mode !== 'factors' && nb ? new Float64Array(T * nb * GU) : null,
    factors: [], sketch,
    sumK: new Float64Array(I * GU), sumR: new Float64Array(U * GU), sumB: new Float64Array(nb * GU),
    norms: null, totals: null,
  };
}

/** The operands of a batch from its taps (gateGrad, hPrev, x, and gates for GRU). */
export function operandsOf(spec: RecurrentSpec, taps: LayerTaps, scale: number): Operands {
  const B = taps.batch, T = taps.steps, U = spec.units, GU = GATES[spec.kind].length * U, d = taps.data;
  const delta = d.gateGrad!, gates = d.gates!, hp = d.hPrev!;
  const like = (n: number): Arr => (delta instanceof Float32Array ? new Float32Array(n) : new Float64Array(n));
  let deltaRh: Arr | null = null, hpH: Arr | null = null;
  if (spec.kind === 'GRU' && spec.resetAfter) {
    // reset_after multiplies the candidate's recurrent term by r: it acts on r ⊙ (h·R_h + b_h).
    deltaRh = like(B * T * U);
    for (let bt = 0; bt < B * T; bt++) for (let u = 0; u < U; u++) deltaRh[bt * U + u] = delta[bt * GU + 2 * U + u]! * gates[bt * GU + U + u]!;
  } else if (spec.kind === 'GRU') {
    // reset_before: the candidate's recurrent product is (r ⊙ h_{t−1})·R_h.
    hpH = like(B * T * U);
    for (let bt = 0; bt < B * T; bt++) for (let u = 0; u < U; u++) hpH[bt * U + u] = gates[bt * GU + U + u]! * hp[bt * U + u]!;
  }
  return { B, scale, x: d.x!, hp, delta, deltaRh, hpH };
}

/** Folds one batch in. */
export function addBatch(c: Contributions, op: Operands): void {
  const { T, I, U, G, biasRows: nb } = c, GU = G * U;
  if (c.mode === 'factors') { c.factors.push(op); return; }
  const w = workspace(c, op);
  for (let t = 0; t < T; t++) {
    if (c.mode === 'matrix') addStep(c, op, t, w, c.cK!, t * I * GU, c.cR!, t * U * GU, c.cB, t * nb * GU);
    else {
      addStep(c, op, t, w, c.sumK, 0, c.sumR, 0, null, 0);
      if (c.cB) addBias(c, op, t, c.cB, t * nb * GU);
      project(c, op, t, w);
    }
  }
}

interface Work { tmp: Arr; pa: Arr; pd: Arr; }

function workspace(c: Contributions, op: Operands): Work {
  const like = (n: number): Arr => (op.delta instanceof Float32Array ? new Float32Array(n) : new Float64Array(n));
  const k = c.sketch?.k ?? 0;
  return { tmp: like(Math.max(c.I, c.U) * c.G * c.U), pa: like(2 * op.B * k), pd: like((c.G + 1) * op.B * k) };
}

/**
 * Adds s·C_t of one batch into dst (kernel rows at dK[oK..], recurrent rows at dR[oR..], bias rows at dB[oB..]).
 * Each product runs in the operands' dtype on the active kernels, then is added in float64.
 */
function addStep(c: Contributions, op: Operands, t: number, w: Work, dK: Float64Array, oK: number, dR: Float64Array, oR: number, dB: Float64Array | null, oB: number): void {
  const { T, I, U, G } = c, GU = G * U, { B, x, hp, delta, scale } = op, tmp = w.tmp;
  const k = kernels();
  k.gemm(true, false, I, GU, B, x, t * I, T * I, delta, t * GU, T * GU, 0, tmp, 0, GU);
  for (let i = 0; i < I * GU; i++) dK[oK + i] += tmp[i]! * scale;
  if (c.gru) {
    k.gemm(true, false, U, 2 * U, B, hp, t * U, T * U, delta, t * GU, T * GU, 0, tmp, 0, GU);
    const left = op.hpH ?? hp, right = op.deltaRh ?? delta;
    const rOff = op.deltaRh ? t * U : t * GU + 2 * U, ldr = op.deltaRh ? T * U : T * GU;
    k.gemm(true, false, U, U, B, left, t * U, T * U, right, rOff, ldr, 0, tmp, 2 * U, GU);
  } else k.gemm(true, false, U, GU, B, hp, t * U, T * U, delta, t * GU, T * GU, 0, tmp, 0, GU);
  for (let i = 0; i < U * GU; i++) dR[oR + i] += tmp[i]! * scale;
  if (dB) addBias(c, op, t, dB, oB);
}

/** Bias rows: Σ_b s·δ (and for GRU reset_after a second row with the candidate block's δ_h ⊙ r). */
function addBias(c: Contributions, op: Operands, t: number, dB: Float64Array, oB: number): void {
  const { T, U, G } = c, GU = G * U, { B, delta, scale } = op;
  for (let b = 0; b < B; b++) {
    const o = (b * T + t) * GU;
    for (let j = 0; j < GU; j++) dB[oB + j] += delta[o + j]! * scale;
    if (c.biasRows === 2) {
      for (let j = 0; j < 2 * U; j++) dB[oB + GU + j] += delta[o + j]! * scale;
      for (let u = 0; u < U; u++) dB[oB + GU + 2 * U + u] += op.deltaRh![(b * T + t) * U + u]! * scale;
    }
  }
}

/** Sketch: y_j(t, g) += s Σ_b (ψ_jᵀ a_b)(ω_jᵀ δ_b^g) for kernel (a = x) and recurrent (a = h_{t−1}) rows. */
function project(c: Contributions, op: Operands, t: number, w: Work): void {
  const { T, I, U, G } = c, GU = G * U, sk = c.sketch!, K = sk.k, { B, scale } = op;
  const kern = kernels();
  const PA = w.pa, PD = w.pd;
  // PA rows 0..B−1: x·ψ_K; rows B..2B−1: h·ψ_R. PD: (G, B, k) of δ^g·ω^g, then (r⊙h or δ_h⊙r) for the GRU candidate.
  kern.gemm(false, false, B, K, I, op.x, t * I, T * I, sk.psiK, 0, K, 0, PA, 0, K);
  kern.gemm(false, false, B, K, U, op.hp, t * U, T * U, sk.psiR, 0, K, 0, PA, B * K, K);
  for (let g = 0; g < G; g++) kern.gemm(false, false, B, K, U, op.delta, t * GU + g * U, T * GU, sk.omega, g * U * K, K, 0, PD, g * B * K, K);
  const cand = 2;
  const accumulate = (y: Float64Array, g: number, pa: number, pd: number): void => {
    const o = (t * G + g) * K;
    for (let b = 0; b < B; b++) for (let j = 0; j < K; j++) y[o + j] += scale * PA[pa + b * K + j]! * PD[pd + b * K + j]!;
  };
  for (let g = 0; g < G; g++) {
    accumulate(sk.yK, g, 0, g * B * K);
    if (c.gru && g === cand && (op.hpH || op.deltaRh)) continue;
    accumulate(sk.yR, g, B * K, g * B * K);
  }
  if (c.gru && op.hpH) {
    kern.gemm(false, false, B, K, U, op.hpH, t * U, T * U, sk.psiR, 0, K, 0, PA, B * K, K);
    accumulate(sk.yR, cand, B * K, cand * B * K);
  } else if (c.gru && op.deltaRh) {
    kern.gemm(false, false, B, K, U, op.deltaRh, t * U, T * U, sk.omega, cand * U * K, K, 0, PD, G * B * K, K);
    accumulate(sk.yR, cand, B * K, G * B * K);
  }
}

/** Merges another batch range's contributions (same mode: the choice depends only on the plan). */
export function mergeContributions(c: Contributions, o: Contributions): void {
  const add = (a: Float64Array | null, b: Float64Array | null): void => { if (a && b) for (let i = 0; i < a.length; i++) a[i] += b[i]!; };
  add(c.cK, o.cK); add(c.cR, o.cR); add(c.cB, o.cB);
  add(c.sumK, o.sumK); add(c.sumR, o.sumR); add(c.sumB, o.sumB);
  if (c.sketch && o.sketch) { add(c.sketch.yK, o.sketch.yK); add(c.sketch.yR, o.sketch.yR); }
  c.factors.push(...o.factors);
}

/** Computes the per-step norms and the totals once; frees the per-step storage. `factors` picks the cheaper way unless told. */
export function finishContributions(c: Contributions, factors: 'gram' | 'rebuild' | 'auto' = 'auto'): void {
  if (c.norms) return;
  const { T, I, U, G, biasRows: nb } = c, GU = G * U;
  const norms = new Float64Array(G * 3 * T);
  const blockNorms = (m: Float64Array, off: number, rows: number, grp: number, t: number): void => {
    for (let g = 0; g < G; g++) {
      let s = 0;
      for (let r = 0; r < rows; r++) for (let u = 0; u < U; u++) { const v = m[off + r * GU + g * U + u]!; s += v * v; }
      norms[(g * 3 + grp) * T + t] = Math.sqrt(s);
    }
  };
  const addTo = (dst: Float64Array, m: Float64Array, off: number): void => { for (let i = 0; i < dst.length; i++) dst[i] += m[off + i]!; };
  if (c.mode === 'matrix') {
    for (let t = 0; t < T; t++) {
      blockNorms(c.cK!, t * I * GU, I, 0, t); addTo(c.sumK, c.cK!, t * I * GU);
      blockNorms(c.cR!, t * U * GU, U, 1, t); addTo(c.sumR, c.cR!, t * U * GU);
      if (c.cB) { blockNorms(c.cB, t * nb * GU, nb, 2, t); addTo(c.sumB, c.cB, t * nb * GU); }
    }
  } else if (c.mode === 'factors' && (factors === 'gram' || (factors === 'auto' && gramIsCheaper(c)))) {
    gramNorms(c, norms);
    blockedTotals(c);
  } else if (c.mode === 'factors') {
    const sK = new Float64Array(I * GU), sR = new Float64Array(U * GU), sB = new Float64Array(nb * GU);
    const w = c.factors.length ? workspace(c, c.factors[0]!) : null;
    for (let t = 0; t < T; t++) {
      sK.fill(0); sR.fill(0); sB.fill(0);
      c.factors.forEach((op) => addStep(c, op, t, w!, sK, 0, sR, 0, nb ? sB : null, 0));
      blockNorms(sK, 0, I, 0, t); addTo(c.sumK, sK, 0);
      blockNorms(sR, 0, U, 1, t); addTo(c.sumR, sR, 0);
      if (nb) { blockNorms(sB, 0, nb, 2, t); addTo(c.sumB, sB, 0); }
    }
  } else {
    const sk = c.sketch!, K = sk.k, errors: number[] = [];
    // The estimate is a mean of K independent y_j²: its standard error is measured from their spread.
    const estimate = (y: Float64Array, o: number): number => {
      let m = 0, v = 0;
      for (let j = 0; j < K; j++) m += y[o + j]! ** 2;
      m /= K;
      for (let j = 0; j < K; j++) v += (y[o + j]! ** 2 - m) ** 2;
      if (m > 0) errors.push(Math.sqrt(v / (K - 1) / K) / m);
      return Math.sqrt(m);
    };
    for (let t = 0; t < T; t++) for (let g = 0; g < G; g++) {
      norms[(g * 3) * T + t] = estimate(sk.yK, (t * G + g) * K);
      norms[(g * 3 + 1) * T + t] = estimate(sk.yR, (t * G + g) * K);
    }
    errors.sort((a, b) => a - b);
    c.sketchError = errors.length ? errors[Math.floor(errors.length / 2)]! : null;
    if (c.cB) for (let t = 0; t < T; t++) { blockNorms(c.cB, t * nb * GU, nb, 2, t); addTo(c.sumB, c.cB, t * nb * GU); }
  }
  const totals = new Float64Array(G * 3);
  const blockTotal = (m: Float64Array, rows: number, grp: number): void => {
    for (let g = 0; g < G; g++) {
      let s = 0;
      for (let r = 0; r < rows; r++) for (let u = 0; u < U; u++) { const v = m[r * GU + g * U + u]!; s += v * v; }
      totals[g * 3 + grp] = Math.sqrt(s);
    }
  };
  blockTotal(c.sumK, I, 0); blockTotal(c.sumR, U, 1); blockTotal(c.sumB, nb, 2);
  c.norms = norms; c.totals = totals;
  c.cK = c.cR = c.cB = null; c.factors = []; c.sketch = null;
}

export function contributionNormOf(c: Contributions, group: Group, g: number, t: number): number {
  finishContributions(c);
  return c.norms![(g * 3 + GROUPS.indexOf(group)) * c.T + t]!;
}

export function contributionTotalOf(c: Contributions, group: Group, g: number): number {
  finishContributions(c);
  return c.totals![g * 3 + GROUPS.indexOf(group)]!;
}
