// Per-step contributions C_t to a recurrent layer's parameter gradient, per gate block g:
// kernel C_t = Σ_n s_n x_{t,n}ᵀ δ_{t,n}, recurrent_kernel C_t = Σ_n s_n h_{t−1,n}ᵀ δ_{t,n}, bias C_t = Σ_n s_n δ_{t,n}
// (s_n = B_b/N: the batch taps are of the batch's mean loss). Reported: ‖C_t‖_F per step and ‖Σ_t C_t‖_F.
//
// ‖C_t‖ is the norm of a sum over ALL samples, so batches cannot be reduced to per-batch norms. Three
// representations, chosen per layer from a memory budget (chooseContributionMode):
//   factors  the operands x, h_{t−1}, δ (B, T, ·) of every batch, kept as the taps gave them; at the end
//            each C_t is rebuilt one step at a time, one product over all samples (contribution-gather.ts),
//            or for few samples its norm is taken from Gram forms over samples (contribution-gram.ts).
//            Memory N·T·(I+U+GU) values; chosen when within the budget and smaller than `matrix`.
//   matrix   C_t itself for every t, (T, I+U+nb, GU) float64 per thread, batches added a few at a time
//            (flushContributions). Used when it fits and the factors do not (many samples).
// Both are exact up to float32 rounding of the products (which samples share one product).
//   sketch   beyond the budget: for k seeded Rademacher pairs (ψ_j, ω_j), y_j = ψ_jᵀ C_t ω_j, which is linear
//            in C_t and so sums over batches; ‖C_t‖² ≈ (1/k) Σ_j y_j². Unbiased, and since E[y⁴] ≤ 9‖C‖⁴ for
//            Rademacher vectors, the relative standard deviation of the estimate of ‖C_t‖² is at most √(8/k)
//            (the norm's relative error is at most its square's). Bias contributions and Σ_t C_t stay exact.
// docs/analysis-memory.md states the budget and the bound.

import type { RecurrentSpec } from '../model/types.js';
import { cellOf } from '../engine/cells/index.js';
import { jsKernels, type Kernels } from '../engine/kernels-js.js';
import { makeRng } from '../engine/rng.js';
import type { LayerTaps } from '../engine/taps.js';
import type { Arr } from '../engine/tensor.js';
import { blockedTotals, gramIsCheaper, gramNorms } from './contribution-gram.js';
import { addConvBatch, convOperands, type ConvOperands } from './conv-contributions.js';
import { gatherer } from './contribution-gather.js';
import {
  workspace,
  addStep,
  kernelProduct,
  recurrentProduct,
  normsAndSum,
  addBias,
  project,
} from './contribution-products.js';

export type ContributionMode = 'matrix' | 'factors' | 'sketch';

/** The operands of one batch's per-step products, (B, T, ·) row-major as in the taps. */
export interface Operands {
  B: number;
  /** B_b / N. */
  scale: number;
  x: Arr;
  hp: Arr;
  delta: Arr;
  /**
   * The cell's one gate block whose recurrent product differs (engine/cells ContributionOperands):
   * its right operand (GRU reset_after: δ_h ⊙ r, also the recurrent bias row's) or left operand
   * (GRU reset_before: r ⊙ h_{t−1}), (B, T, U); null where h_{t−1} and δ serve.
   */
  rRight: Arr | null;
  rLeft: Arr | null;
}

export interface Sketch {
  k: number;
  /** Rademacher ±1: ψ for the kernel rows (I × k) and recurrent rows (U × k), ω for the columns (GU × k). */
  psiK: Arr;
  psiR: Arr;
  omega: Arr;
  /** y_j per (t, gate): (T, G, k) for kernel and recurrent_kernel. */
  yK: Float64Array;
  yR: Float64Array;
}

export interface Contributions {
  mode: ContributionMode;
  /** Sketch pairs (0 unless sketch), and after finishing, the median over steps of the measured relative standard error
   * of ‖C_t‖². */
  k: number;
  sketchError: number | null;
  T: number;
  /** Columns per gate block (units; a ConvLSTM's filters), rows of the kernel, rows of the recurrent kernel. */
  U: number;
  I: number;
  Ur: number;
  G: number;
  biasRows: number;
  /** ConvLSTM: the convolutions whose columns are the left operands (conv-contributions.ts); null for dense cells. */
  conv: ConvOperands | null;
  /** The gate block whose recurrent operands the cell replaces (Operands.rLeft/rRight), or null. */
  block: number | null;
  /** matrix mode: C_t for every t, (T, I, GU), (T, U, GU); bias (T, nb, GU) also in sketch mode. */
  cK: Float64Array | null;
  cR: Float64Array | null;
  cB: Float64Array | null;
  /** factors mode: each batch's operands. */
  factors: Operands[];
  /** matrix mode: batches not yet added to cK, cR, cB (flushContributions multiplies their rows together). */
  pending: Operands[];
  sketch: Sketch | null;
  /** Σ_t C_t (I, GU), (U, GU), (nb, GU): sketch mode accumulates them per batch, the others at the end. */
  sumK: Float64Array;
  sumR: Float64Array;
  sumB: Float64Array;
  /** Filled by finishContributions: ‖C_t‖ per (gate, group, t) as (G, 3, T) and ‖Σ_t C_t‖ per (gate, group) as (G, 3).
   * */
  norms: Float64Array | null;
  totals: Float64Array | null;
}

export const GROUPS = ['kernel', 'recurrent_kernel', 'bias'] as const;
export type Group = (typeof GROUPS)[number];

/** Default memory for the contributions of all recurrent layers together, in bytes. */
export const DEFAULT_CONTRIBUTION_MEMORY = 512 * 2 ** 20;
const SKETCH_K_MIN = 16,
  SKETCH_K_MAX = 1024;

/**
 * The representation for one layer: `matrix` if its bytes (× threads, each holds its own) fit `budget`,
 * else `factors` if those fit (they split over threads), else `sketch` with as many pairs as fit (16..1024).
 */
export function chooseContributionMode(
  spec: RecurrentSpec,
  T: number,
  N: number,
  budget: number,
  threads: number,
  valueBytes: number,
): { mode: ContributionMode; k: number } {
  const cell = cellOf(spec.kind),
    U = spec.units,
    I = spec.inputDim,
    G = cell.gates.length,
    GU = G * U,
    nb = biasRowsOf(spec);
  // A ConvLSTM's C_t is (kernel positions × channels, 4·filters), small beside its taps: always a matrix.
  if (spec.conv) return { mode: 'matrix', k: 0 };
  const matrix = T * (I + U + nb) * GU * 8 * threads;
  const factors = T * N * (I + U + GU + (cell.contributions ? U : 0)) * valueBytes;
  // Factors when smaller: they are the taps themselves (no new memory to touch), multiplied once at the end.
  if (factors <= budget && factors <= matrix) return { mode: 'factors', k: 0 };
  if (matrix <= budget) return { mode: 'matrix', k: 0 };
  if (factors <= budget) return { mode: 'factors', k: 0 };
  const fixed = T * nb * GU * 8 * threads,
    perK = T * G * 2 * 8 * threads;
  const k = Math.max(SKETCH_K_MIN, Math.min(SKETCH_K_MAX, Math.floor((budget - fixed) / perK)));
  return { mode: 'sketch', k };
}

/** Rows of the cell's bias: 0 without one, 2 for an input and a recurrent row (GRU reset_after), else 1. */
export function biasRowsOf(spec: RecurrentSpec): number {
  const b = cellOf(spec.kind)
    .params(spec)
    .find((p) => p.name === 'bias');
  return b ? (b.shape.length === 2 ? b.shape[0]! : 1) : 0;
}

export function newContributions(
  spec: RecurrentSpec,
  T: number,
  mode: ContributionMode,
  k: number,
  seed: number,
  float32: boolean,
): Contributions {
  const cell = cellOf(spec.kind),
    conv = spec.conv ? convOperands(spec.conv) : null,
    U = conv ? conv.F : spec.units,
    I = conv ? conv.ti.g.K : spec.inputDim,
    Ur = conv ? conv.tr.g.K : U,
    G = cell.gates.length,
    GU = G * U,
    nb = biasRowsOf(spec);
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
    sketch = {
      k,
      psiK: sign(like(I * k)),
      psiR: sign(like(U * k)),
      omega: sign(like(GU * k)),
      yK: new Float64Array(T * G * k),
      yR: new Float64Array(T * G * k),
    };
  }
  return {
    mode,
    k: mode === 'sketch' ? k : 0,
    sketchError: null,
    T,
    U,
    I,
    Ur,
    G,
    biasRows: nb,
    conv,
    block: cell.contributions?.block ?? null,
    cK: mode === 'matrix' ? new Float64Array(T * I * GU) : null,
    cR: mode === 'matrix' ? new Float64Array(T * Ur * GU) : null,
    cB: mode !== 'factors' && nb ? new Float64Array(T * nb * GU) : null,
    factors: [],
    pending: [],
    sketch,
    sumK: new Float64Array(I * GU),
    sumR: new Float64Array(Ur * GU),
    sumB: new Float64Array(nb * GU),
    norms: null,
    totals: null,
  };
}

/** The operands of a batch from its taps (gateGrad, hPrev, x, and what the cell's own operands read). */
export function operandsOf(spec: RecurrentSpec, taps: LayerTaps, scale: number): Operands {
  const d = taps.data;
  const own = cellOf(spec.kind).contributions?.operands(spec, taps) ?? { left: null, right: null };
  return { B: taps.batch, scale, x: d.x!, hp: d.hPrev!, delta: d.gateGrad!, rRight: own.right, rLeft: own.left };
}

/** Folds one batch in; `kern`: the run's kernels. */
export function addBatch(c: Contributions, op: Operands, kern: Kernels = jsKernels): void {
  const { T, U, G, biasRows: nb } = c,
    GU = G * U;
  if (c.conv) {
    addConvBatch(c, c.conv, op, kern);
    return;
  }
  if (c.mode === 'factors') {
    c.factors.push(op);
    return;
  }
  if (c.mode === 'matrix') {
    // Batches wait, so that each C_t gets one product over all their samples and one pass of float64
    // adds over the (large) matrices instead of one per batch.
    c.pending.push(op);
    let rows = 0,
      bytes = 0;
    for (const o of c.pending) {
      rows += o.B;
      bytes += o.x.byteLength + o.hp.byteLength + o.delta.byteLength;
    }
    if (rows >= PENDING_SAMPLES || bytes >= PENDING_BYTES) flushContributions(c, kern);
    return;
  }
  const w = workspace(c, op);
  for (let t = 0; t < T; t++) {
    addStep(c, op, t, w, c.sumK, 0, c.sumR, 0, null, 0, kern);
    if (c.cB) addBias(c, op, t, c.cB, t * nb * GU);
    project(c, op, t, w, kern);
  }
}

/** matrix mode: samples and operand bytes of waiting batches beyond which they are added. */
const PENDING_SAMPLES = 256,
  PENDING_BYTES = 96 * 2 ** 20;

/**
 * matrix mode: adds the waiting batches (addBatch) into C_t. Per step, their rows are gathered into one
 * operand of all their samples (each batch's weight s folded into its δ rows, unless all share one),
 * so C_t += s·(Xᵀ·Δ) is one product and one float64 pass.
 */
export function flushContributions(c: Contributions, kern: Kernels = jsKernels): void {
  const ops = c.pending;
  if (!ops.length) return;
  c.pending = [];
  const { T, I, U, G, biasRows: nb } = c,
    GU = G * U;
  if (ops.length === 1) {
    const w = workspace(c, ops[0]!);
    for (let t = 0; t < T; t++)
      addStep(c, ops[0]!, t, w, c.cK!, t * I * GU, c.cR!, t * U * GU, c.cB, t * nb * GU, kern);
    return;
  }
  const g = gatherer(c, ops);
  const w = workspace(c, g.op);
  for (let t = 0; t < T; t++) {
    g.step(t);
    addStep(g.one, g.op, 0, w, c.cK!, t * I * GU, c.cR!, t * U * GU, c.cB, t * nb * GU, kern);
  }
}

/** Merges another batch range's contributions (same mode: the choice depends only on the plan); waiting
 * batches are added first (on the JavaScript kernels unless told). */
export function mergeContributions(c: Contributions, o: Contributions, kern: Kernels = jsKernels): void {
  flushContributions(c, kern);
  flushContributions(o, kern);
  const add = (a: Float64Array | null, b: Float64Array | null): void => {
    if (a && b) for (let i = 0; i < a.length; i++) a[i] += b[i]!;
  };
  add(c.cK, o.cK);
  add(c.cR, o.cR);
  add(c.cB, o.cB);
  add(c.sumK, o.sumK);
  add(c.sumR, o.sumR);
  add(c.sumB, o.sumB);
  if (c.sketch && o.sketch) {
    add(c.sketch.yK, o.sketch.yK);
    add(c.sketch.yR, o.sketch.yR);
  }
  c.factors.push(...o.factors);
}

/** Computes the per-step norms and the totals once; frees the per-step storage. `factors` picks the cheaper way unless
 * told; `kern`: the run's kernels. */
export function finishContributions(
  c: Contributions,
  factors: 'gram' | 'rebuild' | 'auto' = 'auto',
  kern: Kernels = jsKernels,
): void {
  if (c.norms) return;
  flushContributions(c, kern);
  const { T, I, U, G, biasRows: nb } = c,
    GU = G * U;
  const norms = new Float64Array(G * 3 * T);
  const blockNorms = (m: Float64Array, off: number, rows: number, grp: number, t: number): void => {
    for (let g = 0; g < G; g++) {
      let s = 0;
      for (let r = 0; r < rows; r++)
        for (let u = 0; u < U; u++) {
          const v = m[off + r * GU + g * U + u]!;
          s += v * v;
        }
      norms[(g * 3 + grp) * T + t] = Math.sqrt(s);
    }
  };
  const addTo = (dst: Float64Array, m: Float64Array, off: number): void => {
    for (let i = 0; i < dst.length; i++) dst[i] += m[off + i]!;
  };
  if (c.mode === 'matrix') {
    for (let t = 0; t < T; t++) {
      blockNorms(c.cK!, t * I * GU, I, 0, t);
      addTo(c.sumK, c.cK!, t * I * GU);
      blockNorms(c.cR!, t * c.Ur * GU, c.Ur, 1, t);
      addTo(c.sumR, c.cR!, t * c.Ur * GU);
      if (c.cB) {
        blockNorms(c.cB, t * nb * GU, nb, 2, t);
        addTo(c.sumB, c.cB, t * nb * GU);
      }
    }
  } else if (c.mode === 'factors' && (factors === 'gram' || (factors === 'auto' && gramIsCheaper(c)))) {
    gramNorms(c, norms);
    blockedTotals(c, kern);
  } else if (c.mode === 'factors') {
    const sB = new Float64Array(nb * GU);
    // All batches' samples of a step in one product (contribution-gather.ts), its norms and sum in one pass.
    const g = c.factors.length > 1 ? gatherer(c, c.factors) : null;
    const op = g ? g.op : c.factors[0],
      cc = g ? g.one : c,
      at = g ? 0 : -1;
    const w = op ? workspace(c, op) : null;
    for (let t = 0; t < T; t++) {
      sB.fill(0);
      if (op) {
        g?.step(t);
        const tt = at < 0 ? t : at;
        kernelProduct(cc, op, tt, w!.tmp, kern);
        normsAndSum(c, w!.tmp, I, op.scale, c.sumK, norms, 0, t);
        recurrentProduct(cc, op, tt, w!.tmp, kern);
        normsAndSum(c, w!.tmp, U, op.scale, c.sumR, norms, 1, t);
        if (nb) addBias(cc, op, tt, sB, 0);
      }
      if (nb) {
        blockNorms(sB, 0, nb, 2, t);
        addTo(c.sumB, sB, 0);
      }
    }
  } else {
    const sk = c.sketch!,
      K = sk.k,
      errors: number[] = [];
    // The estimate is a mean of K independent y_j²: its standard error is measured from their spread.
    const estimate = (y: Float64Array, o: number): number => {
      let m = 0,
        v = 0;
      for (let j = 0; j < K; j++) m += y[o + j]! ** 2;
      m /= K;
      for (let j = 0; j < K; j++) v += (y[o + j]! ** 2 - m) ** 2;
      if (m > 0) errors.push(Math.sqrt(v / (K - 1) / K) / m);
      return Math.sqrt(m);
    };
    for (let t = 0; t < T; t++)
      for (let g = 0; g < G; g++) {
        norms[g * 3 * T + t] = estimate(sk.yK, (t * G + g) * K);
        norms[(g * 3 + 1) * T + t] = estimate(sk.yR, (t * G + g) * K);
      }
    errors.sort((a, b) => a - b);
    c.sketchError = errors.length ? errors[Math.floor(errors.length / 2)]! : null;
    if (c.cB)
      for (let t = 0; t < T; t++) {
        blockNorms(c.cB, t * nb * GU, nb, 2, t);
        addTo(c.sumB, c.cB, t * nb * GU);
      }
  }
  const totals = new Float64Array(G * 3);
  const blockTotal = (m: Float64Array, rows: number, grp: number): void => {
    for (let g = 0; g < G; g++) {
      let s = 0;
      for (let r = 0; r < rows; r++)
        for (let u = 0; u < U; u++) {
          const v = m[r * GU + g * U + u]!;
          s += v * v;
        }
      totals[g * 3 + grp] = Math.sqrt(s);
    }
  };
  blockTotal(c.sumK, I, 0);
  blockTotal(c.sumR, c.Ur, 1);
  blockTotal(c.sumB, nb, 2);
  c.norms = norms;
  c.totals = totals;
  c.cK = c.cR = c.cB = null;
  c.factors = [];
  c.pending = [];
  c.sketch = null;
}

export function contributionNormOf(c: Contributions, group: Group, g: number, t: number): number {
  finishContributions(c);
  return c.norms![(g * 3 + GROUPS.indexOf(group)) * c.T + t]!;
}

export function contributionTotalOf(c: Contributions, group: Group, g: number): number {
  finishContributions(c);
  return c.totals![g * 3 + GROUPS.indexOf(group)]!;
}
