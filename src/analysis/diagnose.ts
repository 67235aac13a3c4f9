// Diagnosis: findings in plain language, each with the numbers behind it and a remedy.
// Every threshold is named here, documented in docs/analysis-schema.md, and can be
// changed through the library (AnalyzeOptions.thresholds); the command line has no flag for it.

import type { Analysis, Finding, RecurrentAnalysis } from './schema.js';

export interface Thresholds {
  /** Effective horizon: ‖∂L/∂h_t‖ within this fraction of its maximum. */
  horizonRatio: number;
  /** Vanishing when the horizon (or the Jacobian reach) covers less than this fraction of the steps. */
  vanishingFraction: number;
  /** Exploding when ‖∂L/∂h_t‖ grows by more than this factor going back in time from the last step. */
  explodingGrowth: number;
  /** LSTM forget gate closed when its mean activation is below this. */
  forgetClosed: number;
  /** A gate is saturated when more than this fraction of its activations are saturated (mean over steps). */
  gateSaturated: number;
  /** A unit is dead when |∂L/∂h| stays below this at every step and sample. */
  deadUnitGrad: number;
  /** Report dead units when more than this fraction of a layer's units are dead. */
  deadUnitFraction: number;
  /** Layers' gradient norms differ by more than this factor. */
  layerSpread: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  horizonRatio: 0.01,
  vanishingFraction: 0.5,
  explodingGrowth: 1e3,
  forgetClosed: 0.2,
  gateSaturated: 0.5,
  deadUnitGrad: 1e-8,
  deadUnitFraction: 0.1,
  layerSpread: 1e4,
};

const r3 = (x: number): number => Number(x.toPrecision(3));
const nums = (a: (number | null)[]): number[] => a.filter((v): v is number => v !== null && Number.isFinite(v));

/** Steps back from the end (processing order) until the running Jacobian product falls below ratio. */
function jacobianReach(ra: RecurrentAnalysis, ratio: number): number | null {
  const j = ra.jacobian;
  if (!j) return null;
  const T = ra.steps;
  for (let k = T - 1; k >= 0; k--) {
    const t = ra.goBackwards ? T - 1 - k : k;
    const v = j.log10ProductMedian[t];
    if (v !== null && v !== undefined && v < Math.log10(ratio)) return T - 1 - k;
  }
  return T;
}

/** Largest ‖∂L/∂h_t‖ over the last `steps` processed steps. */
function peakWithin(ra: RecurrentAnalysis, steps: number): number {
  const T = ra.steps;
  let m = 0;
  for (let k = T - steps; k < T; k++) m = Math.max(m, ra.dh.norm[ra.goBackwards ? T - 1 - k : k] ?? 0);
  return m;
}

/**
 * Vanishing and exploding are both read from ‖∂L/∂h_t‖ as it flows back from the last processed
 * step, so one layer's findings cannot contradict each other:
 *  - vanishing: going back, the gradient falls below horizonRatio of the peak it has reached so far
 *    (the horizon, recurrent.ts) within less than vanishingFraction of the steps. A layer that
 *    returns sequences gets gradient at every step, so there the reach is that of the running
 *    product of step-Jacobian norms, which bounds what travels from the end.
 *  - exploding: the measured norm grows going back by more than explodingGrowth over its value at
 *    the last processed step. With sequences, per-step losses alone can make it grow (a small
 *    last-step loss), so the step-Jacobian product must also reach that growth.
 */
function recurrentFindings(ra: RecurrentAnalysis, th: Thresholds): Finding[] {
  const out: Finding[] = [];
  const base = { layer: ra.layer, direction: ra.direction };
  const who = ra.direction ? `${ra.layer} (${ra.direction})` : ra.layer;
  const T = ra.steps;
  const dh = ra.dh.norm;
  const first = dh[ra.goBackwards ? T - 1 : 0] ?? null,
    last = dh[ra.goBackwards ? 0 : T - 1] ?? null;
  const vals = nums(dh);
  const max = vals.length ? Math.max(...vals) : 0;
  const seqs = ra.lossSteps === 'all';
  // The median over samples per step: a product of per-step maxima mixes samples and overstates growth.
  const jprod = ra.jacobian ? nums(ra.jacobian.log10ProductMedian) : [];
  const jmax = jprod.length ? Math.max(...jprod) : 0;
  if (T >= 10 && max > 0) {
    const reach = seqs ? jacobianReach(ra, th.horizonRatio) : ra.horizon.steps;
    if (reach !== null && reach < th.vanishingFraction * T) {
      // The peak the gradient reached before it vanished (the walked steps of the horizon).
      const peak = seqs ? max : peakWithin(ra, reach);
      out.push({
        code: 'vanishing',
        severity: 'warning',
        ...base,
        message: `Gradients vanish in ${who}: ${seqs ? 'the running product of step-Jacobian norms falls below 0.01' : '‖∂L/∂h_t‖ falls below 1% of the peak it reaches going back'} within ${reach} of ${T} steps, so the loss barely reaches the early inputs.`,
        evidence: {
          effectiveHorizon: reach,
          steps: T,
          firstStepNorm: r3(first ?? 0),
          maxNorm: r3(peak),
          log10Ratio: r3(Math.log10(Math.max(first ?? 0, 1e-300) / peak)),
        },
        remedy:
          ra.gates.length === 1
            ? 'Use an LSTM or GRU instead of SimpleRNN, shorten the sequences, or initialise the recurrent kernel orthogonally (or near identity with relu).'
            : 'Shorten the sequences or add skip/attention paths; for LSTM check the forget-gate bias (unit_forget_bias=True) and that gates are not saturated.',
        chart: 'dh',
      });
    }
  }
  const lastV = last ?? 0;
  const growth = lastV > 0 ? max / lastV : max > 0 ? Infinity : 0;
  // σ_max products only bound the growth (the gradient need not align with the top singular
  // vectors), so the finding needs the measured ‖∂L/∂h_t‖ to grow; the bound is evidence.
  if (growth > th.explodingGrowth && (!seqs || jmax >= Math.log10(th.explodingGrowth))) {
    out.push({
      code: 'exploding',
      severity: 'error',
      ...base,
      message: `Gradients explode in ${who}: going back in time ‖∂L/∂h_t‖ grows ${r3(growth)}× over its value at the last step, and the running product of (median) step-Jacobian norms reaches 10^${r3(jmax)}.`,
      evidence: {
        growth: r3(growth),
        firstStepNorm: r3(first ?? 0),
        lastStepNorm: r3(lastV),
        log10JacobianProductMedian: r3(jmax),
        maxNorm: r3(max),
      },
      remedy:
        "Clip gradients (clipnorm / global_clipnorm), lower the learning rate, and reduce the recurrent kernel's spectral radius (orthogonal initialisation, weight decay).",
      chart: 'jacobian',
    });
  }
  // Cells with a forget gate (LSTM and its variants).
  if (ra.gates.includes('f')) {
    const f = ra.gateStats.find((g) => g.gate === 'f');
    const m = f ? nums(f.mean) : [];
    const mean = m.length ? m.reduce((a, b) => a + b, 0) / m.length : NaN;
    if (mean < th.forgetClosed) {
      out.push({
        code: 'forget-gate-closed',
        severity: 'warning',
        ...base,
        message: `The forget gate of ${who} is almost closed (mean activation ${r3(mean)}), so the cell state is wiped at every step and the LSTM cannot carry information far.`,
        evidence: { meanForgetGate: r3(mean), threshold: th.forgetClosed },
        remedy:
          'Initialise the forget-gate bias to 1 (unit_forget_bias=True) or higher, and check that the bias was not driven negative by a too-large learning rate.',
        chart: 'gates',
      });
    }
  }
  for (const g of ra.gateStats) {
    const s = nums(g.saturated);
    const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : 0;
    if (mean > th.gateSaturated) {
      out.push({
        code: 'gate-saturated',
        severity: 'warning',
        ...base,
        message: `Gate ${g.gate} of ${who} is saturated ${Math.round(mean * 100)}% of the time (${g.activation} beyond its flat ends), where its gradient is nearly zero.`,
        evidence: { gate: g.gate, saturatedFraction: r3(mean) },
        remedy:
          'Normalise the inputs, lower the learning rate or the initial weight scale, or add LayerNormalization before the recurrent layer.',
        chart: 'gates',
      });
    }
  }
  const dead = ra.deadUnits.units.length;
  if (dead / ra.units > th.deadUnitFraction) {
    out.push({
      code: 'dead-units',
      severity: 'warning',
      ...base,
      message: `${dead} of ${ra.units} units of ${who} get no gradient (|∂L/∂h| < ${th.deadUnitGrad} at every step): they no longer learn.`,
      evidence: { deadUnits: dead, units: ra.units },
      remedy: 'Check for saturated gates or relu activations stuck at zero; reinitialise or reduce the learning rate.',
      chart: 'heatmap',
    });
  }
  return out;
}

export function diagnose(a: Analysis, th: Thresholds): Finding[] {
  const out: Finding[] = [];
  const nonFinite = a.params.reduce((s, p) => s + p.nan + p.inf, 0);
  if (nonFinite > 0) {
    const bad = a.params.filter((p) => p.nan + p.inf > 0).map((p) => p.key);
    out.push({
      code: 'non-finite',
      severity: 'error',
      layer: null,
      direction: null,
      message: `${nonFinite} gradient value(s) are NaN or Inf (in ${bad.slice(0, 3).join(', ')}${bad.length > 3 ? ', …' : ''}), so a training step would destroy the weights.`,
      evidence: { count: nonFinite, tensors: bad.length },
      remedy:
        'Look for inputs with NaN/Inf, a loss on probabilities of exactly 0 or 1, or exploding gradients; clip gradients and lower the learning rate.',
      chart: 'param-norms',
    });
  }
  for (const ra of a.recurrent) out.push(...recurrentFindings(ra, th));
  const norms = a.params
    .filter((p) => p.trainable && p.gradNorm !== null && p.gradNorm > 0)
    .map((p) => ({ key: p.key, n: p.gradNorm! / Math.sqrt(p.size) }));
  if (norms.length >= 2) {
    const hi = norms.reduce((x, y) => (y.n > x.n ? y : x)),
      lo = norms.reduce((x, y) => (y.n < x.n ? y : x));
    if (hi.n / lo.n > th.layerSpread) {
      out.push({
        code: 'layer-norm-spread',
        severity: 'warning',
        layer: null,
        direction: null,
        message: `Gradient sizes differ by ${r3(hi.n / lo.n)}× between ${hi.key} and ${lo.key} (root-mean-square per element), so one learning rate cannot suit both.`,
        evidence: { largest: hi.key, smallest: lo.key, ratio: r3(hi.n / lo.n) },
        remedy: 'Use an adaptive optimizer (Adam, RMSprop), normalisation layers, or per-layer learning rates.',
        chart: 'param-norms',
      });
    }
  }
  if (a.batches.suggestedClipnorm !== null) {
    out.push({
      code: 'suggested-clipnorm',
      severity: 'info',
      layer: null,
      direction: null,
      message: `The global gradient norm over ${a.batches.norms.length} batches has its 90th percentile at ${r3(a.batches.suggestedClipnorm)}; clipnorm=${r3(a.batches.suggestedClipnorm)} would cap only the largest 10% of batches.`,
      evidence: { suggestedClipnorm: r3(a.batches.suggestedClipnorm), batches: a.batches.norms.length },
      remedy: `Pass clipnorm=${r3(a.batches.suggestedClipnorm)} (or global_clipnorm) to the optimizer if training is unstable.`,
      chart: 'batches',
    });
  }
  return out;
}
