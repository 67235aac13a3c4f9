// Turns a layer's accumulators into its RecurrentAnalysis (schema.ts): per-step norms and
// quantiles, contributions, Jacobian spectra, gate statistics, dead units, heatmap, horizon.

import { cellOf } from '../engine/cells/index.js';
import type { LayerTaps } from '../engine/taps.js';
import type { Arr } from '../engine/tensor.js';
import { jsKernels, type Kernels } from '../engine/kernels-js.js';
import { stepJacobianNorms } from './jacobian.js';
import { finishContributions } from './contributions.js';
import { contributionNorm, contributionTotal, gateActivationName, type StepAccumulator } from './steps.js';
import type { Contribution, Horizon, JacobianStats, Num, ParamGroup, RecurrentAnalysis } from './schema.js';
import type { Thresholds } from './diagnose.js';
import { quantile } from './quantile.js';
import { memoryOf, stepRatio } from './memory.js';
import { series } from './step-series.js';

const fin = (x: number): Num => (Number.isFinite(x) ? x : null);

export { quantile };

/**
 * Effective horizon: from the last loss-carrying step (the last processed step when the layer
 * returns only its last output; the last processed step as well when it returns sequences, since
 * every step carries loss there and the farthest reach is measured from the end), walk back in
 * processing order while ‖∂L/∂h_t‖ ≥ ratio · (the peak of ‖∂L/∂h‖ over the steps already walked).
 * The peak is the running one, as the gradient flows back: a gradient that grows going back
 * (exploding) keeps its whole reach; one that decays stops where it falls below ratio of its peak.
 */
export function horizon(norm: Num[], goBackwards: boolean, ratio: number): Horizon {
  const T = norm.length;
  const at = (k: number): number => norm[goBackwards ? T - 1 - k : k] ?? 0;
  let max = 0;
  for (let k = 0; k < T; k++) max = Math.max(max, at(k));
  if (!(max > 0)) return { ratio, steps: null, from: null, to: null };
  let k = T - 1,
    peak = at(k);
  while (k > 0 && at(k - 1) >= ratio * peak) {
    k--;
    peak = Math.max(peak, at(k));
  }
  const pos = (kk: number): number => (goBackwards ? T - 1 - kk : kk);
  return { ratio, steps: T - 1 - k + 1, from: pos(T - 1), to: pos(k) };
}

/** `weights`: the layer's (direction's) parameters in the cell's order; `kern`: the run's kernels. */
export function finishRecurrent(
  acc: StepAccumulator,
  weights: readonly Arr[],
  taps: LayerTaps,
  th: Thresholds,
  jopt: { samples: number; iterations: number; seed: number },
  kern: Kernels = jsKernels,
): RecurrentAnalysis {
  const { spec, T, U } = acc;
  finishContributions(acc.contrib, 'auto', kern);
  const cell = cellOf(spec.kind);
  const gates = cell.gates.map((g) => g.name);
  const groups: ParamGroup[] = spec.useBias ? ['kernel', 'recurrent_kernel', 'bias'] : ['kernel', 'recurrent_kernel'];
  const contributions: Contribution[] = [];
  gates.forEach((gate, g) =>
    groups.forEach((group) => {
      const norm: Num[] = [];
      for (let t = 0; t < T; t++) norm.push(fin(contributionNorm(acc, group, g, t)));
      // Total block = Σ_t contributions; its norm is the block's gradient norm.
      const sum = sumOverSteps(acc, group, g);
      contributions.push({ gate, group, norm, total: fin(sum) });
    }),
  );

  // Jacobian on a subsample of the first batch.
  const nS = Math.min(jopt.samples, taps.batch);
  const samples = Array.from({ length: nS }, (_, i) => Math.floor((i * taps.batch) / nS));
  const jr = stepJacobianNorms(spec, weights, taps, samples, jopt.iterations, jopt.seed, kern);
  const med: Num[] = [],
    mx: Num[] = [];
  for (let t = 0; t < T; t++) {
    const v = jr.sigma
      .map((s) => s[t]!)
      .filter((x) => !Number.isNaN(x))
      .sort((a, b) => a - b);
    med.push(v.length ? fin(quantile(v, 0.5)) : null);
    mx.push(v.length ? fin(v[v.length - 1]!) : null);
  }
  const prodMed: Num[] = new Array(T).fill(null),
    prodMax: Num[] = new Array(T).fill(null);
  let lm = 0,
    lx = 0;
  for (let k = T - 1; k >= 0; k--) {
    const t = spec.goBackwards ? T - 1 - k : k;
    prodMed[t] = lm;
    prodMax[t] = lx;
    const m = med[t],
      x = mx[t];
    if (m !== null && m !== undefined) lm += Math.log10(Math.max(m, 1e-300));
    if (x !== null && x !== undefined) lx += Math.log10(Math.max(x, 1e-300));
  }
  const jacobian: JacobianStats = {
    state: cell.states.join(','),
    median: med,
    max: mx,
    log10ProductMedian: prodMed.map((v) => (v === null ? null : fin(v))),
    log10ProductMax: prodMax.map((v) => (v === null ? null : fin(v))),
    samples: nS,
    iterations: jopt.iterations,
  };

  const gateStats = gates.map((gate, g) => ({
    gate,
    activation: gateActivationName(spec, g),
    mean: Array.from({ length: T }, (_, t) =>
      acc.valid[t]! > 0 ? fin(acc.gateSum[g * T + t]! / acc.valid[t]!) : null,
    ),
    saturated: Array.from({ length: T }, (_, t) =>
      acc.valid[t]! > 0 ? fin(acc.gateSat[g * T + t]! / acc.valid[t]!) : null,
    ),
  }));
  const dead: number[] = [];
  for (let u = 0; u < U; u++) if (acc.maxDh[u]! < th.deadUnitGrad) dead.push(u);

  // Heatmap, downsampled to at most 200 steps × 128 units.
  const stepBin = Math.max(1, Math.ceil(T / 200)),
    unitBin = Math.max(1, Math.ceil(U / 128));
  const values: Num[][] = [];
  for (let i = 0; i * stepBin < T; i++) {
    const row: Num[] = [];
    for (let j = 0; j * unitBin < U; j++) {
      let s = 0,
        n = 0;
      for (let t = i * stepBin; t < Math.min(T, (i + 1) * stepBin); t++)
        for (let u = j * unitBin; u < Math.min(U, (j + 1) * unitBin); u++) {
          s += acc.absDh[t * U + u]!;
          n++;
        }
      row.push(fin(s / n));
    }
    values.push(row);
  }
  const dh = series(acc.dhSq, acc.dhPer, T);
  const hz = horizon(dh.norm, spec.goBackwards, th.horizonRatio);
  return {
    id: acc.direction ? `${acc.layer}/${acc.direction}` : acc.layer,
    layer: acc.layer,
    direction: acc.direction,
    kind: spec.kind,
    goBackwards: spec.goBackwards,
    steps: T,
    units: U,
    ...(spec.conv ? { stateShape: [...spec.conv.outSpatial, spec.conv.filters] } : {}),
    inputDim: spec.inputDim,
    gates,
    lossSteps: spec.returnSequences ? 'all' : 'last',
    dh,
    dc: acc.dcSq ? series(acc.dcSq, acc.dcPer!, T) : null,
    dx: series(acc.dxSq, acc.dxPer, T),
    contributions,
    jacobian,
    gateStats,
    deadUnits: { threshold: th.deadUnitGrad, units: dead },
    heatmap: { stepBin, unitBin, values },
    connectivity: null,
    horizon: hz,
    density: [],
    stepRatio: stepRatio(acc.dhPer, T, spec.goBackwards),
    memory: memoryOf(spec, acc.gateSum, acc.valid, weights, hz),
  };
}

/** ‖Σ_t C_t‖_F for one gate block and group. */
export function sumOverSteps(acc: StepAccumulator, group: ParamGroup, g: number): number {
  return contributionTotal(acc, group, g);
}
