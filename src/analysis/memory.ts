// The "why" of a horizon (docs/analysis-schema.md#memory and #step-ratio):
//   - stepRatio: the measured factor by which each sample's gradient norm changes per step going back;
//   - memory: how long the cell's keep gate (the registry's CellDef.memory: LSTM forget gate, GRU
//     update gate) holds its state: with a mean keep fraction f̄ per step, f̄^k falls to 1 % after
//     k = ln 0.01 / ln f̄ steps; compared with the measured horizon.

import type { RecurrentSpec } from '../model/types.js';
import { cellOf } from '../engine/cells/index.js';
import type { Arr } from '../engine/tensor.js';
import type { Horizon, Memory, Num, StepRatio } from './schema.js';
import { quantile } from './quantile.js';

const fin = (x: number): Num => (Number.isFinite(x) ? x : null);

/** The state keeps this fraction of its memory at the horizon the gate's mean predicts. */
export const MEMORY_FLOOR = 0.01;
/** The gate's memory explains the measured horizon when they are within this factor of each other. */
export const EXPLAINS_FACTOR = 2;

/**
 * Per input position t: quantiles over samples of ‖∂ℓ_n/∂h_prev‖ / ‖∂ℓ_n/∂h_t‖, prev = the step
 * processed just before t. `per`: per-sample rows of ‖∂ℓ_n/∂h_t‖ (input order). A sample whose
 * ‖∂ℓ_n/∂h_t‖ is 0 or not finite has no ratio at t.
 */
export function stepRatio(per: readonly number[][], T: number, goBackwards: boolean): StepRatio {
  const out: StepRatio = { p10: [], p50: [], p90: [] };
  for (let t = 0; t < T; t++) {
    const prev = goBackwards ? t + 1 : t - 1;
    const col: number[] = [];
    if (prev >= 0 && prev < T)
      for (const r of per) {
        const a = r[prev]!,
          b = r[t]!;
        if (b > 0 && Number.isFinite(a) && Number.isFinite(b)) col.push(a / b);
      }
    col.sort((x, y) => x - y);
    out.p10.push(fin(quantile(col, 0.1)));
    out.p50.push(fin(quantile(col, 0.5)));
    out.p90.push(fin(quantile(col, 0.9)));
  }
  return out;
}

/** Steps for f̄^k to fall to MEMORY_FLOOR; null unless 0 < f̄ < 1. */
export function memorySteps(mean: number): number | null {
  return mean > 0 && mean < 1 ? Math.log(MEMORY_FLOOR) / Math.log(mean) : null;
}

/**
 * Does a memory of `steps` explain a measured horizon of `horizon` of T steps? Yes when they are within
 * EXPLAINS_FACTOR of each other; when the horizon spans the whole sequence (a lower bound only), yes when the
 * memory is at least T / EXPLAINS_FACTOR.
 */
export function explains(steps: number | null, horizon: number | null, T: number): boolean | null {
  if (steps === null || horizon === null || horizon <= 0) return null;
  if (horizon >= T) return steps >= T / EXPLAINS_FACTOR;
  return steps / horizon <= EXPLAINS_FACTOR && horizon / steps <= EXPLAINS_FACTOR;
}

const r2 = (x: number): string => x.toFixed(2);

/**
 * The memory of a layer (direction) from its keep gate: `gateSum`/`valid` as the step accumulator holds them
 * (Σ over samples of the mean activation over units, per gate and step; valid entries per step), `weights` the
 * direction's parameters in the cell's order. Null for cells without a keep gate.
 */
export function memoryOf(
  spec: RecurrentSpec,
  gateSum: Float64Array,
  valid: Float64Array,
  weights: readonly Arr[],
  hz: Horizon,
): Memory | null {
  const cell = cellOf(spec.kind);
  const mg = cell.memory;
  if (!mg) return null;
  const g = cell.gates.findIndex((x) => x.name === mg.gate);
  const T = valid.length,
    G = cell.gates.length;
  let s = 0,
    n = 0;
  for (let t = 0; t < T; t++) {
    s += gateSum[g * T + t]!;
    n += valid[t]!;
  }
  const a = n > 0 ? s / n : NaN;
  const mean = mg.keep === 'a' ? a : 1 - a;
  // The gate's bias: its column block, summed over the bias rows (GRU reset_after keeps an input and a recurrent row).
  // Blocks of W = units columns, or a ConvLSTM's filters (its bias is shared by every position).
  const defs = cell.params(spec);
  const bi = defs.findIndex((p) => p.name === 'bias');
  const b = bi >= 0 ? weights[bi] : undefined;
  let bias: number | null = null;
  if (b) {
    const shape = defs[bi]!.shape,
      W = shape[shape.length - 1]! / G,
      rows = b.length / (G * W);
    let sb = 0;
    for (let r = 0; r < rows; r++) for (let u = 0; u < W; u++) sb += b[r * G * W + g * W + u]!;
    bias = sb / W;
  }
  const steps = memorySteps(mean);
  const ex = explains(steps, hz.steps, T);
  const keepWord = mg.keep === 'a' ? 'averages' : 'leaves on average';
  let sentence: string;
  if (!Number.isFinite(mean)) sentence = `The ${mg.label} was not measured (no valid steps).`;
  else if (steps === null)
    sentence = `The ${mg.label} ${keepWord} ${r2(mean)}, so the state ${mean >= 1 ? 'is kept whole' : 'is replaced at every step'}.`;
  else {
    const base = `The ${mg.label} ${keepWord} ${r2(mean)}, so the state keeps 1 % of its memory after about ${Math.round(steps)} steps`;
    sentence =
      hz.steps === null
        ? `${base}.`
        : `${base}; the measured horizon is ${hz.steps} of ${T} steps, which this ${ex ? 'explains' : 'does not explain'}.`;
  }
  return {
    gate: mg.gate,
    gateName: mg.label,
    mean: fin(mean),
    steps: steps === null ? null : fin(steps),
    bias: bias === null ? null : fin(bias),
    horizon: hz.steps,
    explains: ex,
    sentence,
  };
}
