// Diagnosis: findings in plain language, each with the numbers behind it and a remedy.
// Every threshold is named here, documented in docs/analysis-schema.md, and can be
// changed through the library (AnalyzeOptions.thresholds); the command line has no flag for it.

import type { Analysis, Finding, RecurrentAnalysis } from './schema.js';
import { MIN_CLIP_BATCHES } from './batches.js';
import { attentionFindings } from './attention-finding.js';
import { clipRemedy, gatedCell, keepGateRemedy, say, shorterWindows, type Remedy } from './remedies.js';

export interface Thresholds {
  /** Effective horizon: ‖∂L/∂h_t‖ within this fraction of its maximum. */
  horizonRatio: number;
  /** Vanishing when the horizon (or the Jacobian reach) covers less than this fraction of the steps. */
  vanishingFraction: number;
  /** Exploding when ‖∂L/∂h_t‖ grows by more than this factor going back in time from the last step. */
  explodingGrowth: number;
  /** A keep gate (LSTM forget, GRU update) is closed when its mean keep fraction is below this. */
  forgetClosed: number;
  /** A gate is saturated when more than this fraction of its activations are saturated (mean over steps). */
  gateSaturated: number;
  /** A unit is dead when |∂L/∂h| stays below this at every step and sample. */
  deadUnitGrad: number;
  /** Report dead units when more than this fraction of a layer's units are dead. */
  deadUnitFraction: number;
  /** Layers' gradient norms differ by more than this factor. */
  layerSpread: number;
  /** Not learned when L is less than this fraction below its baseline ((baseline − L)/|baseline|); barely below
   * learnedBarely (baseline.ts). */
  learnedNo: number;
  learnedBarely: number;
  /** Suggest a clipnorm only from at least this many batches. */
  clipnormMinBatches: number;
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
  learnedNo: 0.05,
  learnedBarely: 0.2,
  clipnormMinBatches: MIN_CLIP_BATCHES,
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

/** Steps and words for one layer: "lstm (forward)". */
const whoOf = (ra: RecurrentAnalysis): string => (ra.direction ? `${ra.layer} (${ra.direction})` : ra.layer);
const pct = (x: number): string => `${Math.round(x * 100)} %`;

function withRemedy(f: Omit<Finding, 'remedy' | 'remedyId'>, r: Remedy): Finding {
  return { ...f, remedy: r.text, remedyId: r.id };
}

/**
 * Vanishing and exploding are both read from ‖∂L/∂h_t‖ as it flows back from the last processed
 * step, so one layer's findings cannot contradict each other:
 *  - vanishing: going back, the gradient falls below horizonRatio of the peak it has reached so far
 *    (the horizon, recurrent.ts) within less than vanishingFraction of the steps. A layer that
 *    returns sequences gets gradient at every step, so there the measured norm cannot show it; the
 *    finding then needs the running product of step-Jacobian norms (an upper bound on what travels
 *    from the end) to fall below the ratio: if even the bound falls, the gradient does.
 *  - exploding: the measured norm grows going back by more than explodingGrowth over its value at
 *    the last processed step. With sequences, per-step losses alone can make it grow (a small
 *    last-step loss), so the bound must also allow that growth.
 *  - short memory: the keep gate's memory (memory.ts) explains a short horizon, or the gate is
 *    closed (mean keep fraction below forgetClosed).
 */
function recurrentFindings(ra: RecurrentAnalysis, a: Analysis, th: Thresholds): Finding[] {
  const out: Finding[] = [];
  const base = { layer: ra.layer, direction: ra.direction };
  const who = whoOf(ra);
  const T = ra.steps;
  const dh = ra.dh.norm;
  const first = dh[ra.goBackwards ? T - 1 : 0] ?? null,
    last = dh[ra.goBackwards ? 0 : T - 1] ?? null;
  const vals = nums(dh);
  const max = vals.length ? Math.max(...vals) : 0;
  const seqs = ra.lossSteps === 'all';
  const mem = ra.memory ?? null;
  const keep = keepGateRemedy(ra);
  const memoryShort =
    mem !== null && mem.explains === true && ra.horizon.steps !== null && ra.horizon.steps < th.vanishingFraction * T;
  // The median over samples per step: a product of per-step maxima mixes samples and overstates growth.
  const jprod = ra.jacobian ? nums(ra.jacobian.log10ProductMedian) : [];
  const jmax = jprod.length ? Math.max(...jprod) : 0;
  let vanishing = false;
  if (T >= 10 && max > 0) {
    const reach = seqs ? jacobianReach(ra, th.horizonRatio) : ra.horizon.steps;
    if (reach !== null && reach < th.vanishingFraction * T) {
      vanishing = true;
      // The peak the gradient reached before it vanished (the walked steps of the horizon).
      const peak = seqs ? max : peakWithin(ra, reach);
      const ratio = Math.max(first ?? 0, 1e-300) / peak;
      const evidenceText = seqs
        ? `Even the upper bound on how much of the gradient survives from the last step (the product of the ` +
          `step Jacobians' largest singular values) falls below 1 % within ${reach} of ${T} steps.`
        : `Going back from the last step, the gradient falls below 1 % of its peak after ${reach} of ${T} steps; ` +
          `at the first step it is ${say(ratio)} of that peak.`;
      out.push(
        withRemedy(
          {
            code: 'vanishing',
            severity: 'warning',
            ...base,
            message: `Gradients vanish in ${who}: the loss reaches back about ${reach} of ${T} steps, so inputs before that barely affect training.`,
            evidence: {
              effectiveHorizon: reach,
              steps: T,
              firstStepNorm: r3(first ?? 0),
              maxNorm: r3(peak),
              log10Ratio: r3(Math.log10(ratio)),
            },
            evidenceText,
            chart: 'dh',
          },
          memoryShort && keep ? keep : keep ? shorterWindows(ra) : gatedCell(ra),
        ),
      );
    }
  }
  const lastV = last ?? 0;
  const growth = lastV > 0 ? max / lastV : max > 0 ? Infinity : 0;
  // σ_max products only bound the growth (the gradient need not align with the top singular
  // vectors), so the finding needs the measured ‖∂L/∂h_t‖ to grow; the bound is a condition, not the measure.
  if (growth > th.explodingGrowth && (!seqs || jmax >= Math.log10(th.explodingGrowth))) {
    out.push(
      withRemedy(
        {
          code: 'exploding',
          severity: 'error',
          ...base,
          message: `Gradients explode in ${who}: going back in time the gradient grows ${say(growth)} times over its value at the last step.`,
          evidence: {
            growth: r3(growth),
            firstStepNorm: r3(first ?? 0),
            lastStepNorm: r3(lastV),
            log10JacobianProductMedian: r3(jmax),
            maxNorm: r3(max),
          },
          evidenceText:
            `The gradient at the last step is ${say(lastV)}; going back it reaches ${say(max)}.` +
            (seqs ? ` The upper bound from the step Jacobians allows growth up to ${say(10 ** jmax)} times.` : ''),
          chart: 'dh',
        },
        clipRemedy(a.batches, th.clipnormMinBatches),
      ),
    );
  }
  if (mem && mem.mean !== null) {
    const closed = mem.mean < th.forgetClosed;
    if ((memoryShort && vanishing) || closed) {
      out.push(
        withRemedy(
          {
            code: 'short-memory',
            severity: 'warning',
            ...base,
            message: closed
              ? `The ${mem.gateName} of ${who} is almost closed (it keeps ${pct(mem.mean)} of the state per step), so the state is replaced at every step and cannot carry information far.`
              : `The ${mem.gateName} of ${who} forgets too fast for this window: it explains the short horizon.`,
            evidence: {
              gate: mem.gate,
              meanKeep: r3(mem.mean),
              memorySteps: mem.steps === null ? 'none' : r3(mem.steps),
              horizon: mem.horizon ?? 'none',
              steps: T,
              ...(mem.bias === null ? {} : { meanBias: r3(mem.bias) }),
            },
            evidenceText: mem.sentence,
            chart: 'gates',
          },
          keep!,
        ),
      );
    }
  }
  for (const g of ra.gateStats) {
    const s = nums(g.saturated);
    const mean = s.length ? s.reduce((x, y) => x + y, 0) / s.length : 0;
    if (mean > th.gateSaturated) {
      out.push({
        code: 'gate-saturated',
        severity: 'warning',
        ...base,
        message: `Gate ${g.gate} of ${who} is saturated ${pct(mean)} of the time (${g.activation} beyond its flat ends), where its gradient is nearly zero.`,
        evidence: { gate: g.gate, saturatedFraction: r3(mean) },
        evidenceText: `On average over steps, ${pct(mean)} of gate ${g.gate}'s activations lie in the flat ends of ${g.activation}.`,
        remedy:
          'Normalise the inputs, lower the learning rate or the initial weight scale, or add LayerNormalization before the recurrent layer.',
        remedyId: 'normalise-inputs',
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
      message: `${dead} of ${ra.units} units of ${who} get no gradient: they no longer learn.`,
      evidence: { deadUnits: dead, units: ra.units },
      evidenceText: `${dead} of ${ra.units} units get a gradient below ${say(th.deadUnitGrad)} at every step of every sample.`,
      remedy: 'Check for saturated gates or relu activations stuck at zero; reinitialise or reduce the learning rate.',
      remedyId: 'dead-units',
      chart: 'heatmap',
    });
  }
  return out;
}

export function diagnose(a: Analysis, th: Thresholds): Finding[] {
  const out: Finding[] = [];
  const bl = a.objective?.baseline ?? null;
  if (bl && (bl.learned === 'no' || bl.learned === 'barely')) {
    out.push({
      code: 'not-learned',
      severity: bl.learned === 'no' ? 'warning' : 'info',
      layer: null,
      direction: null,
      message: bl.sentence,
      evidence: { loss: r3(a.objective?.value ?? NaN), baseline: r3(bl.value ?? NaN), baselineKind: bl.kind },
      evidenceText: `${bl.description} The model's L is ${say(a.objective?.value ?? null)}.`,
      remedy:
        'Train longer or with another learning rate, and check that the targets belong to the inputs; until the model ' +
        'learns, the gradients below describe an untrained model.',
      remedyId: 'train-more',
      chart: null,
    });
  }
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
      evidenceText: `${nonFinite} gradient values in ${bad.length} weight tensor${bad.length === 1 ? '' : 's'} are not finite.`,
      remedy:
        'Look for inputs with NaN/Inf, a loss on probabilities of exactly 0 or 1, or exploding gradients; clip gradients and lower the learning rate.',
      remedyId: 'non-finite',
      chart: 'param-norms',
    });
  }
  for (const ra of a.recurrent) {
    const mine = recurrentFindings(ra, a, th);
    out.push(...mine, ...attentionFindings(ra, mine, th));
  }
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
        message: `Gradient sizes differ by ${say(hi.n / lo.n)} times between ${hi.key} and ${lo.key}, so one learning rate cannot suit both.`,
        evidence: { largest: hi.key, smallest: lo.key, ratio: r3(hi.n / lo.n) },
        evidenceText: `The root-mean-square gradient per weight is ${say(hi.n)} in ${hi.key} and ${say(lo.n)} in ${lo.key}.`,
        remedy: 'Use an adaptive optimizer (Adam, RMSprop), normalisation layers, or per-layer learning rates.',
        remedyId: 'adaptive-optimizer',
        chart: 'param-norms',
      });
    }
  }
  // A clipnorm is suggested only when the batches support it (batches.ts) and something calls for it.
  const unstable = out.some((f) => f.code === 'exploding' || f.code === 'non-finite');
  if (a.batches.suggestedClipnorm !== null && unstable) {
    const v = a.batches.suggestedClipnorm;
    const r = clipRemedy(a.batches, th.clipnormMinBatches);
    out.push({
      code: 'suggested-clipnorm',
      severity: 'info',
      layer: null,
      direction: null,
      message: `A clipnorm of ${say(v)} would cap only the largest 10 % of batch gradients.`,
      evidence: { suggestedClipnorm: r3(v), batches: a.batches.norms.length },
      evidenceText: `Over ${a.batches.norms.length} batches, 90 % of the global gradient norms are at most ${say(v)}.`,
      remedy: r.text,
      remedyId: r.id,
      chart: 'batches',
    });
  }
  return out;
}
