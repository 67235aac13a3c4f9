// Per-sample drill-down (docs/analysis-schema.md#samples): the worst, median and best analysed sample
// by its own loss ℓ_n, each run alone (a batch of one, so its loss is ℓ_n) to record its input x,
// ∂ℓ_n/∂x_t of the model input, every recurrent layer's h_t and gate activations, and (when the
// analysis computes connectivity) its own connectivity map. Bounded (docs/analysis-schema.md#samples): at
// most MAX_SAMPLE_STEPS input positions (evenly spaced), MAX_SAMPLE_FEATURES features, and per layer the
// unitsShown() units with the largest mean |∂L/∂h| (the heatmap); values to 4 significant digits.

import { cellOf } from '../engine/cells/index.js';
import type { LayerTaps } from '../engine/taps.js';
import type { Tensor } from '../engine/tensor.js';
import type { ModelSpec } from '../model/types.js';
import { connectivity } from './connectivity.js';
import { objectiveGrads, type ObjectiveRun } from './grads.js';
import type { Num, RecurrentAnalysis, SampleLayer, SampleView } from './schema.js';

export const MAX_SAMPLE_UNITS = 16;
export const MIN_SAMPLE_UNITS = 4;
export const MAX_SAMPLE_FEATURES = 64;
export const MAX_SAMPLE_STEPS = 512;
/** Values (h and gates over steps × units, all layers) one sample may hold before fewer units are shown. */
export const SAMPLE_VALUE_BUDGET = 20_000;

/**
 * Units shown per layer: min(U, MAX_SAMPLE_UNITS, max(MIN_SAMPLE_UNITS, ⌊budget / Σ_layers steps·(1 + gates)⌋)),
 * the ones with the largest mean |∂L/∂h_{t,u}| over steps (read from the heatmap), in unit order.
 */
export function unitsShown(ra: RecurrentAnalysis, perUnitValues: number): number[] {
  const k = Math.min(
    ra.units,
    MAX_SAMPLE_UNITS,
    Math.max(MIN_SAMPLE_UNITS, Math.floor(SAMPLE_VALUE_BUDGET / Math.max(1, perUnitValues))),
  );
  const { values, unitBin } = ra.heatmap;
  const score = (u: number): number => {
    let s = 0;
    for (const row of values) s += row[Math.floor(u / unitBin)] ?? 0;
    return s;
  };
  const all = Array.from({ length: ra.units }, (_, u) => u);
  return all
    .sort((a, b) => score(b) - score(a) || a - b)
    .slice(0, k)
    .sort((a, b) => a - b);
}

/** 4 significant digits; null where not finite. */
export const r4 = (x: number): Num => (Number.isFinite(x) ? Number(x.toPrecision(4)) : null);

/** Worst (largest ℓ_n; a non-finite loss counts as worst), median and best sample; each index once. */
export function pickSamples(losses: readonly number[]): { role: SampleView['role']; index: number }[] {
  if (losses.length === 0) return [];
  const key = (i: number): number => (Number.isFinite(losses[i]!) ? losses[i]! : Infinity);
  const order = losses.map((_, i) => i).sort((a, b) => key(a) - key(b) || a - b);
  const picks = [
    { role: 'worst' as const, index: order[order.length - 1]! },
    { role: 'median' as const, index: order[Math.floor((order.length - 1) / 2)]! },
    { role: 'best' as const, index: order[0]! },
  ];
  return picks.filter((p, i) => picks.findIndex((q) => q.index === p.index) === i);
}

/** Input positions shown: all, or MAX_SAMPLE_STEPS evenly spaced ones (first and last included). */
export function shownSteps(T: number): number[] {
  if (T <= MAX_SAMPLE_STEPS) return Array.from({ length: T }, (_, t) => t);
  return Array.from({ length: MAX_SAMPLE_STEPS }, (_, i) => Math.round((i * (T - 1)) / (MAX_SAMPLE_STEPS - 1)));
}

/** Rows t ∈ steps of a (1, T, W) tensor (or (1, T) token ids as W = 1), the first `cols` columns. */
function rows(data: ArrayLike<number>, W: number, steps: number[], cols: number): Num[][] {
  return steps.map((t) => Array.from({ length: Math.min(W, cols) }, (_, j) => r4(data[t * W + j]!)));
}

/** The model input shown: the first with a time axis (samples, steps, …), else the first. */
function sequenceInput(xs: Tensor[]): number {
  const i = xs.findIndex((x) => x.shape.length >= 2 && x.shape[1]! > 1);
  return Math.max(0, i);
}

function layerView(tp: LayerTaps, steps: number[], backwards: boolean, units: number[]): SampleLayer {
  const { steps: T, units: U } = tp;
  const gates = cellOf(tp.kind).gates;
  const G = gates.length;
  const hPrev = tp.data.hPrev!,
    A = tp.data.gates!;
  // h_t is the state the next processed step receives (hPrev there); the last processed step's is not recorded.
  const h = steps.map((t) => {
    const next = backwards ? t - 1 : t + 1;
    return units.map((u) => (next >= 0 && next < T ? r4(hPrev[next * U + u]!) : null));
  });
  return {
    id: tp.direction ? `${tp.layer}/${tp.direction}` : tp.layer,
    steps,
    h,
    gates: gates.map((g, gi) => ({
      gate: g.name,
      values: steps.map((t) => units.map((u) => r4(A[t * G * U + gi * U + u]!))),
    })),
    units,
    connectivity: null,
  };
}

/**
 * The drill-down of the samples with per-sample losses `losses` (inputs and targets: all analysed samples).
 * `recurrent`: the analysis's layers (their connectivity says whether to map each sample's own).
 */
export function sampleViews(
  run: ObjectiveRun & { model: ModelSpec },
  inputs: Tensor[],
  targets: Tensor[] | null,
  losses: readonly number[],
  recurrent: readonly RecurrentAnalysis[],
  slice: (t: Tensor, from: number, to: number) => Tensor,
): SampleView[] {
  const withConn = recurrent.some((r) => r.connectivity !== null);
  const byId = new Map(recurrent.map((ra) => [ra.id, ra]));
  const perUnit = recurrent.reduce((n, ra) => n + shownSteps(ra.steps).length * (1 + cellOf(ra.kind).gates.length), 0);
  const shown = new Map(recurrent.map((ra) => [ra.id, unitsShown(ra, perUnit)]));
  return pickSamples(losses).map(({ role, index }) => {
    const xs = inputs.map((x) => slice(x, index, index + 1));
    const ts = targets ? targets.map((t) => slice(t, index, index + 1)) : null;
    const r = objectiveGrads(run, xs, ts, { gates: true, hPrev: true });
    const xi = sequenceInput(xs);
    const x = xs[xi]!;
    const T = x.shape.length >= 2 ? x.shape[1]! : 1;
    const W = x.data.length / T;
    const steps = shownSteps(T);
    const dx = r.dInputs[xi];
    const layers = r.taps.layers.flatMap((tp) => {
      const ra = byId.get(tp.direction ? `${tp.layer}/${tp.direction}` : tp.layer);
      return ra ? [layerView(tp, shownSteps(tp.steps), ra.goBackwards, shown.get(ra.id)!)] : [];
    });
    if (withConn) {
      const mine = recurrent.map((ra) => ({ ...ra, connectivity: null }) as RecurrentAnalysis);
      connectivity(run.model, xs, mine, run.params, run.objective, run.flavor, ts, run.dtype, run.kernels);
      for (const l of layers) {
        const c = mine.find((m) => m.id === l.id)?.connectivity;
        if (c) l.connectivity = c.values.map((row) => row.map((v) => (v === null ? null : r4(v))));
      }
    }
    // Layers in the analysis's order (taps arrive last layer first).
    const order = new Map(recurrent.map((ra, i) => [ra.id, i]));
    layers.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    return {
      role,
      index,
      loss: r4(r.perSample[0]!),
      steps,
      x: rows(x.data, W, steps, MAX_SAMPLE_FEATURES),
      dx: dx ? rows(dx.data, W, steps, MAX_SAMPLE_FEATURES) : [],
      layers,
    };
  });
}
