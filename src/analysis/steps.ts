// Per-step accumulators for one recurrent layer (or one direction of a Bidirectional),
// fed batch by batch from the engine's taps.
//
// Scaling. The taps of a batch are derivatives of that batch's mean loss L_b. The analysed
// objective is L = mean over all N samples = Σ_b (B_b/N)·L_b, so ∂L/∂· = (B_b/N)·tap, and
// sample n's own loss ℓ_n (L_b = mean_n ℓ_n) has ∂ℓ_n/∂· = B_b·tap_n. (With masked sequence
// outputs Keras averages over valid entries of the batch; then ℓ_n is that share of L_b.)
//
// Per-step contributions to the parameter gradient (Σ over samples, one matrix per step and
// gate block) are accumulated as matrices across batches, because norms of sums are not sums
// of norms; they add up over t to the total gradient block.

import { GATES, type RecurrentSpec } from '../model/types.js';
import { kernels } from '../engine/kernels.js';
import { addInto } from '../engine/tensor.js';
import type { LayerTaps } from '../engine/taps.js';

export interface StepAccumulator {
  spec: RecurrentSpec;
  layer: string;
  direction: 'forward' | 'backward' | null;
  T: number; U: number; I: number; G: number;
  N: number;
  /** Σ over samples of ‖∂L/∂h_{t,n}‖² etc. (global scaling), length T. */
  dhSq: Float64Array; dcSq: Float64Array | null; dxSq: Float64Array;
  /** Per-sample ‖∂ℓ_n/∂h_t‖, rows appended per batch: (samples, T). */
  dhPer: number[][]; dcPer: number[][] | null; dxPer: number[][];
  /** Σ_n |∂L/∂h_{t,n,u}| (T × U) and max over n, t of |∂L/∂h_{t,n,u}| (U). */
  absDh: Float64Array; maxDh: Float64Array;
  /** Per-step contribution matrices, (T, I, GU), (T, U, GU), (T, nb, GU) with nb = bias rows. */
  cK: Float64Array; cR: Float64Array; cB: Float64Array | null; biasRows: number;
  /** Gate activation sums and saturation counts per (gate, t); valid (unmasked) entry count per t. */
  gateSum: Float64Array; gateSat: Float64Array; valid: Float64Array;
}

export function newAccumulator(spec: RecurrentSpec, layer: string, direction: 'forward' | 'backward' | null, T: number, N: number): StepAccumulator {
  const U = spec.units, I = spec.inputDim, G = GATES[spec.kind].length, GU = G * U;
  const biasRows = spec.useBias ? (spec.kind === 'GRU' && spec.resetAfter ? 2 : 1) : 0;
  return {
    spec, layer, direction, T, U, I, G, N,
    dhSq: new Float64Array(T), dcSq: spec.kind === 'LSTM' ? new Float64Array(T) : null, dxSq: new Float64Array(T),
    dhPer: [], dcPer: spec.kind === 'LSTM' ? [] : null, dxPer: [],
    absDh: new Float64Array(T * U), maxDh: new Float64Array(U),
    cK: new Float64Array(T * I * GU), cR: new Float64Array(T * U * GU), cB: biasRows ? new Float64Array(T * biasRows * GU) : null, biasRows,
    gateSum: new Float64Array(G * T), gateSat: new Float64Array(G * T), valid: new Float64Array(T),
  };
}

const sigmoidLike = new Set(['sigmoid', 'hard_sigmoid']);

/** Is activation value a saturated for this gate's activation? (sigmoid-like: < 0.05 or > 0.95; tanh-like: |a| > 0.95) */
export function saturated(actName: string, a: number): boolean {
  return sigmoidLike.has(actName) ? a < 0.05 || a > 0.95 : Math.abs(a) > 0.95;
}

export function gateActivationName(spec: RecurrentSpec, g: number): string {
  if (spec.kind === 'SimpleRNN') return spec.activation.name;
  return g === 2 ? spec.activation.name : spec.recurrentActivation.name;
}

function addNorms(sq: Float64Array, per: number[][], tap: Float64Array | Float32Array, B: number, T: number, W: number, Bb: number, N: number): void {
  const g = Bb / N;
  for (let b = 0; b < B; b++) {
    const row: number[] = new Array(T);
    for (let t = 0; t < T; t++) {
      let s = 0;
      const o = (b * T + t) * W;
      for (let j = 0; j < W; j++) s += tap[o + j]! * tap[o + j]!;
      sq[t] += s * g * g;
      row[t] = Math.sqrt(s) * Bb;
    }
    per.push(row);
  }
}

/** Feeds one batch's taps (requested: dh, dc, dx, gateGrad, gates, hPrev, x). */
export function accumulate(acc: StepAccumulator, taps: LayerTaps): void {
  const { T, U, I, G, N } = acc;
  const B = taps.batch, GU = G * U;
  const d = taps.data;
  addNorms(acc.dhSq, acc.dhPer, d.dh!, B, T, U, B, N);
  if (acc.dcSq && d.dc) addNorms(acc.dcSq, acc.dcPer!, d.dc, B, T, U, B, N);
  addNorms(acc.dxSq, acc.dxPer, d.dx!, B, T, I, B, N);
  const scale = B / N;
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let u = 0; u < U; u++) {
    const v = Math.abs(d.dh![(b * T + t) * U + u]!) * scale;
    acc.absDh[t * U + u] += v;
    if (v > acc.maxDh[u]!) acc.maxDh[u] = v;
  }
  // Gate gradients δ (B, T, GU) and the recurrent-side forms for GRU, in the taps' own dtype so the
  // per-step products below run on the active (fast) kernels; each step's product is then added,
  // scaled by B_b/N, into the float64 accumulators.
  const delta = d.gateGrad!, hp = d.hPrev!, x = d.x!, gates = d.gates!;
  const spec = acc.spec;
  const like = (n: number): Float32Array | Float64Array => (delta instanceof Float32Array ? new Float32Array(n) : new Float64Array(n));
  // Recurrent-side gradient: GRU reset_after multiplies the candidate block by r (it acts on r ⊙ (h·R_h + b_h)).
  let deltaR = delta;
  if (spec.kind === 'GRU' && spec.resetAfter) {
    deltaR = delta.slice();
    for (let bt = 0; bt < B * T; bt++) for (let u = 0; u < U; u++) deltaR[bt * GU + 2 * U + u] = delta[bt * GU + 2 * U + u]! * gates[bt * GU + U + u]!;
  }
  // GRU reset_before: the candidate block's left operand is r ⊙ h_{t−1}.
  let hpH: Float32Array | Float64Array | null = null;
  if (spec.kind === 'GRU' && !spec.resetAfter) {
    hpH = like(B * T * U);
    for (let bt = 0; bt < B * T; bt++) for (let u = 0; u < U; u++) hpH[bt * U + u] = gates[bt * GU + U + u]! * hp[bt * U + u]!;
  }
  const k = kernels();
  const tmp = like(Math.max(I, U) * GU);
  const addScaled = (dst: Float64Array, off: number, n: number): void => {
    for (let i = 0; i < n; i++) dst[off + i] += tmp[i]! * scale;
  };
  for (let t = 0; t < T; t++) {
    k.gemm(true, false, I, GU, B, x, t * I, T * I, delta, t * GU, T * GU, 0, tmp, 0, GU);
    addScaled(acc.cK, t * I * GU, I * GU);
    if (hpH) {
      k.gemm(true, false, U, 2 * U, B, hp, t * U, T * U, deltaR, t * GU, T * GU, 0, tmp, 0, GU);
      k.gemm(true, false, U, U, B, hpH, t * U, T * U, deltaR, t * GU + 2 * U, T * GU, 0, tmp, 2 * U, GU);
    } else {
      k.gemm(true, false, U, GU, B, hp, t * U, T * U, deltaR, t * GU, T * GU, 0, tmp, 0, GU);
    }
    addScaled(acc.cR, t * U * GU, U * GU);
    if (acc.cB) {
      const o = t * acc.biasRows * GU;
      for (let b = 0; b < B; b++) for (let j = 0; j < GU; j++) {
        acc.cB[o + j] += delta[(b * T + t) * GU + j]! * scale;
        if (acc.biasRows === 2) acc.cB[o + GU + j] += deltaR[(b * T + t) * GU + j]! * scale;
      }
    }
  }
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
    if (taps.mask && !taps.mask[b * T + t]) continue;
    acc.valid[t] += 1;
    for (let g = 0; g < G; g++) {
      const name = gateActivationName(spec, g);
      let s = 0, n = 0;
      for (let u = 0; u < U; u++) {
        const a = gates[(b * T + t) * GU + g * U + u]!;
        s += a;
        if (saturated(name, a)) n++;
      }
      acc.gateSum[g * T + t] += s / U;
      acc.gateSat[g * T + t] += n / U;
    }
  }
}

/** Frobenius norm of the per-step contribution of gate g, group, at step t. */
export function contributionNorm(acc: StepAccumulator, group: 'kernel' | 'recurrent_kernel' | 'bias', g: number, t: number): number {
  const { U, I, G } = acc, GU = G * U;
  let s = 0;
  const block = (m: Float64Array, rows: number, off: number): void => {
    for (let r = 0; r < rows; r++) for (let u = 0; u < U; u++) { const v = m[off + r * GU + g * U + u]!; s += v * v; }
  };
  if (group === 'kernel') block(acc.cK, I, t * I * GU);
  else if (group === 'recurrent_kernel') block(acc.cR, U, t * U * GU);
  else if (acc.cB) block(acc.cB, acc.biasRows, t * acc.biasRows * GU);
  return Math.sqrt(s);
}

/** Adds the accumulator of another batch range into acc (sums, maxima, per-sample rows appended in order). */
export function mergeAccumulators(acc: StepAccumulator, o: StepAccumulator): void {
  for (const k of ['dhSq', 'dxSq', 'absDh', 'cK', 'cR', 'gateSum', 'gateSat', 'valid'] as const) addInto(acc[k], o[k]);
  if (acc.dcSq && o.dcSq) addInto(acc.dcSq, o.dcSq);
  if (acc.cB && o.cB) addInto(acc.cB, o.cB);
  for (let u = 0; u < acc.U; u++) acc.maxDh[u] = Math.max(acc.maxDh[u]!, o.maxDh[u]!);
  acc.dhPer.push(...o.dhPer);
  acc.dxPer.push(...o.dxPer);
  if (acc.dcPer && o.dcPer) acc.dcPer.push(...o.dcPer);
}
