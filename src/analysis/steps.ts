// Per-step accumulators for one recurrent layer (or one direction of a Bidirectional),
// fed batch by batch from the engine's taps.
//
// Scaling as step-series.ts says. (With masked sequence outputs Keras averages over valid entries
// of the batch; then ℓ_n is that share of L_b.)
//
// Per-step contributions to the parameter gradient (Σ over samples, one matrix per step and
// gate block) live in contributions.ts: norms of sums are not sums of norms, and how they are
// kept depends on their size.

import type { RecurrentSpec } from '../model/types.js';
import { cellOf } from '../engine/cells/index.js';
import { gateActivation } from '../engine/cells/common.js';
import { jsKernels, type Kernels } from '../engine/kernels-js.js';
import { addInto } from '../engine/tensor.js';
import type { LayerTaps } from '../engine/taps.js';
import { addNorms } from './step-series.js';
import {
  addBatch,
  contributionNormOf,
  contributionTotalOf,
  mergeContributions,
  newContributions,
  operandsOf,
  type ContributionMode,
  type Contributions,
} from './contributions.js';

export interface StepAccumulator {
  spec: RecurrentSpec;
  layer: string;
  direction: 'forward' | 'backward' | null;
  T: number;
  U: number;
  I: number;
  G: number;
  N: number;
  /** Σ over samples of ‖∂L/∂h_{t,n}‖² etc. (global scaling), length T. */
  dhSq: Float64Array;
  dcSq: Float64Array | null;
  dxSq: Float64Array;
  /** Per-sample ‖∂ℓ_n/∂h_t‖, rows appended per batch: (samples, T). */
  dhPer: number[][];
  dcPer: number[][] | null;
  dxPer: number[][];
  /** Σ_n |∂L/∂h_{t,n,u}| (T × U) and max over n, t of |∂L/∂h_{t,n,u}| (U). */
  absDh: Float64Array;
  maxDh: Float64Array;
  /** Per-step contributions to the parameter gradient (contributions.ts). */
  contrib: Contributions;
  /** Gate activation sums and saturation counts per (gate, t); valid (unmasked) entry count per t. */
  gateSum: Float64Array;
  gateSat: Float64Array;
  valid: Float64Array;
}

export function newAccumulator(
  spec: RecurrentSpec,
  layer: string,
  direction: 'forward' | 'backward' | null,
  T: number,
  N: number,
  contrib: { mode: ContributionMode; k: number; seed: number; float32: boolean } = {
    mode: 'matrix',
    k: 0,
    seed: 1,
    float32: true,
  },
): StepAccumulator {
  const cell = cellOf(spec.kind),
    U = spec.units,
    I = spec.inputDim,
    G = cell.gates.length,
    hasC = cell.states.includes('c');
  return {
    spec,
    layer,
    direction,
    T,
    U,
    I,
    G,
    N,
    dhSq: new Float64Array(T),
    dcSq: hasC ? new Float64Array(T) : null,
    dxSq: new Float64Array(T),
    dhPer: [],
    dcPer: hasC ? [] : null,
    dxPer: [],
    absDh: new Float64Array(T * U),
    maxDh: new Float64Array(U),
    contrib: newContributions(spec, T, contrib.mode, contrib.k, contrib.seed, contrib.float32),
    gateSum: new Float64Array(G * T),
    gateSat: new Float64Array(G * T),
    valid: new Float64Array(T),
  };
}

const sigmoidLike = new Set(['sigmoid', 'hard_sigmoid']);

/** Is activation value a saturated for this gate's activation? (sigmoid-like: < 0.05 or > 0.95; tanh-like: |a| > 0.95)
 * */
export function saturated(actName: string, a: number): boolean {
  return sigmoidLike.has(actName) ? a < 0.05 || a > 0.95 : Math.abs(a) > 0.95;
}

/** The name of the activation gate g applies (the cell's definition says which config activation). */
export function gateActivationName(spec: RecurrentSpec, g: number): string {
  return gateActivation(cellOf(spec.kind), spec, g).name;
}

/** Feeds one batch's taps (requested: dh, dc, dx, gateGrad, gates, hPrev, x); `kern`: the run's kernels. */
export function accumulate(acc: StepAccumulator, taps: LayerTaps, kern: Kernels = jsKernels): void {
  const { T, U, I, G, N } = acc;
  const B = taps.batch;
  const d = taps.data;
  addNorms(acc.dhSq, acc.dhPer, d.dh!, B, T, U, B, N);
  if (acc.dcSq && d.dc) addNorms(acc.dcSq, acc.dcPer!, d.dc, B, T, U, B, N);
  addNorms(acc.dxSq, acc.dxPer, d.dx!, B, T, I, B, N);
  const scale = B / N;
  const dh = d.dh!,
    absDh = acc.absDh,
    maxDh = acc.maxDh;
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * U;
      for (let u = 0; u < U; u++) {
        const v = Math.abs(dh[o + u]!) * scale;
        absDh[t * U + u] += v;
        if (v > maxDh[u]!) maxDh[u] = v;
      }
    }
  addBatch(acc.contrib, operandsOf(acc.spec, taps, scale), kern);
  const gates = d.gates!,
    spec = acc.spec,
    GU = G * U;
  // saturated() per gate, as bounds: sigmoid-like a < lo or a > hi, tanh-like |a| > hi.
  const sig = Array.from({ length: G }, (_, g) => sigmoidLike.has(gateActivationName(spec, g)));
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      if (taps.mask && !taps.mask[b * T + t]) continue;
      acc.valid[t] += 1;
      for (let g = 0; g < G; g++) {
        const o = (b * T + t) * GU + g * U;
        let s = 0,
          n = 0;
        if (sig[g])
          for (let u = 0; u < U; u++) {
            const a = gates[o + u]!;
            s += a;
            if (a < 0.05 || a > 0.95) n++;
          }
        else
          for (let u = 0; u < U; u++) {
            const a = gates[o + u]!;
            s += a;
            if (Math.abs(a) > 0.95) n++;
          }
        acc.gateSum[g * T + t] += s / U;
        acc.gateSat[g * T + t] += n / U;
      }
    }
}

/** Frobenius norm of the per-step contribution of gate g, group, at step t. */
export function contributionNorm(
  acc: StepAccumulator,
  group: 'kernel' | 'recurrent_kernel' | 'bias',
  g: number,
  t: number,
): number {
  return contributionNormOf(acc.contrib, group, g, t);
}

/** ‖Σ_t C_t‖_F for one gate block and group: the norm of that block of the gradient. */
export function contributionTotal(
  acc: StepAccumulator,
  group: 'kernel' | 'recurrent_kernel' | 'bias',
  g: number,
): number {
  return contributionTotalOf(acc.contrib, group, g);
}

/** Adds the accumulator of another batch range into acc (sums, maxima, per-sample rows appended in order). */
export function mergeAccumulators(acc: StepAccumulator, o: StepAccumulator): void {
  for (const k of ['dhSq', 'dxSq', 'absDh', 'gateSum', 'gateSat', 'valid'] as const) addInto(acc[k], o[k]);
  if (acc.dcSq && o.dcSq) addInto(acc.dcSq, o.dcSq);
  mergeContributions(acc.contrib, o.contrib);
  for (let u = 0; u < acc.U; u++) acc.maxDh[u] = Math.max(acc.maxDh[u]!, o.maxDh[u]!);
  acc.dhPer.push(...o.dhPer);
  acc.dxPer.push(...o.dxPer);
  if (acc.dcPer && o.dcPer) acc.dcPer.push(...o.dcPer);
}
