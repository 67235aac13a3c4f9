// Findings over time, in words, each pointing at a timeline chart: diverged checkpoints, sharp
// falls of the horizon, the onset (and persistence) of each checkpoint's own findings, jumps of
// the global gradient norm. Thresholds are named here and documented in docs/analysis-schema.md.

import { describeCheckpoint } from './checkpoint-names.js';
import type { Thresholds } from './diagnose.js';
import type { ChartId, Severity } from './schema.js';
import type { Timeline, TimelineFinding, TimelineLayer, TimelinePoint } from './timeline.js';

/** A horizon "falls" between neighbouring checkpoints when it shrinks by this factor and by at least
 * HORIZON_FALL_STEPS_FRACTION of the steps (and 2 steps). */
export const HORIZON_FALL_FACTOR = 2;
export const HORIZON_FALL_STEPS_FRACTION = 0.1;
/** The global gradient norm "jumps" when it exceeds this multiple of the median of the checkpoints before it. */
export const NORM_JUMP_FACTOR = 100;
/** At most this many horizon falls are reported per layer (the sharpest). */
const MAX_FALLS = 3;

const r3 = (x: number): number => Number(x.toPrecision(3));
const when = (p: TimelinePoint): string => describeCheckpoint(p);
const who = (l: { layer: string; direction: string | null }): string =>
  l.direction ? `${l.layer} (${l.direction})` : l.layer;

function between(a: TimelinePoint, b: TimelinePoint): string {
  if (a.epoch !== null && b.epoch !== null && a.batch === null && b.batch === null)
    return `between epochs ${a.epoch} and ${b.epoch}`;
  return `between ${when(a)} and ${when(b)}`;
}

function diverged(t: Timeline): TimelineFinding[] {
  const bad = t.points.filter((p) => p.nonFiniteWeights > 0);
  if (bad.length === 0) return [];
  const first = bad[0]!;
  const lastGood = [...t.points].reverse().find((p) => p.index < first.index && p.nonFiniteWeights === 0);
  const tensors = first.nonFiniteTensors;
  return [
    {
      code: 'diverged',
      severity: 'error',
      layer: null,
      direction: null,
      at: first.index,
      chart: 'timeline-scalars',
      message:
        `Training diverged: ${when(first)} holds ${first.nonFiniteWeights} NaN/Inf weight value(s) ` +
        `(in ${tensors.slice(0, 3).join(', ')}${tensors.length > 3 ? ', …' : ''}); ` +
        `${lastGood ? `the last checkpoint before it with finite weights is ${when(lastGood)}` : 'no checkpoint before it has finite weights'}. ` +
        `${bad.length} of ${t.points.length} checkpoints ${bad.length === 1 ? 'is' : 'are'} diverged.`,
      evidence: {
        firstDiverged: first.label,
        nonFiniteWeights: first.nonFiniteWeights,
        divergedCheckpoints: bad.length,
        ...(lastGood ? { lastFinite: lastGood.label } : {}),
      },
      remedy: `Restart from ${lastGood ? lastGood.label : 'the initial weights'} with a lower learning rate and gradient clipping (clipnorm); the findings just before the divergence show which layer went first.`,
    },
  ];
}

function horizonFindings(t: Timeline, l: TimelineLayer, li: number): TimelineFinding[] {
  const pts = t.points.filter((p) => p.nonFiniteWeights === 0 && p.layers[li]?.horizon.steps != null);
  if (pts.length < 2) return [];
  const h = (p: TimelinePoint): number => p.layers[li]!.horizon.steps!;
  const out: TimelineFinding[] = [];
  const base = { layer: l.layer, direction: l.direction, chart: 'timeline-heatmap' as ChartId };
  const minDrop = Math.max(2, Math.ceil(HORIZON_FALL_STEPS_FRACTION * l.steps));
  const falls: { a: TimelinePoint; b: TimelinePoint; factor: number }[] = [];
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!,
      b = pts[i]!;
    if (h(a) >= HORIZON_FALL_FACTOR * h(b) && h(a) - h(b) >= minDrop) falls.push({ a, b, factor: h(a) / h(b) });
  }
  falls
    .sort((x, y) => y.factor - x.factor)
    .slice(0, MAX_FALLS)
    .sort((x, y) => x.b.index - y.b.index)
    .forEach(({ a, b }) =>
      out.push({
        code: 'horizon-fell',
        severity: 'warning',
        ...base,
        at: b.index,
        message: `The horizon of ${who(l)} fell from ${h(a)} to ${h(b)} steps ${between(a, b)}: the gradient reaches much less far back into the sequence after this update.`,
        evidence: { from: h(a), to: h(b), steps: l.steps, before: a.label, after: b.label },
        remedy:
          'Compare the gates and update ratios across this interval: a jump in the update ratio points at a too-large step (learning rate), a newly saturated gate at the cause inside the cell.',
      }),
    );
  const first = pts[0]!,
    last = pts[pts.length - 1]!;
  if (h(first) !== h(last)) {
    const lo = pts.reduce((m, p) => (h(p) < h(m) ? p : m)),
      hi = pts.reduce((m, p) => (h(p) > h(m) ? p : m));
    const fell = h(last) * HORIZON_FALL_FACTOR <= h(first);
    out.push({
      code: 'horizon-trend',
      severity: fell ? 'warning' : 'info',
      ...base,
      at: null,
      message: `Over training the horizon of ${who(l)} went from ${h(first)} to ${h(last)} of ${l.steps} steps (${when(first)} → ${when(last)}; shortest ${h(lo)} at ${when(lo)}, longest ${h(hi)} at ${when(hi)}).`,
      evidence: { first: h(first), last: h(last), min: h(lo), max: h(hi), steps: l.steps },
      remedy: fell
        ? 'The gradient reaches less far back as training goes on; check gate saturation over training and consider a lower learning rate or gradient clipping.'
        : '',
    });
  }
  return out;
}

/** How each per-checkpoint finding code reads over time, and the chart it points at. */
const ONSETS: Record<
  string,
  {
    chart: ChartId;
    start: string;
    subject: (w: string, gate: string | null) => string;
    always: (w: string, gate: string | null) => string;
    remedy: string;
  }
> = {
  exploding: {
    chart: 'timeline-heatmap',
    start: 'at',
    subject: (w) => `Gradients started to explode in ${w}`,
    always: (w) => `Gradients explode in ${w}`,
    remedy:
      'Clip gradients (clipnorm) and lower the learning rate; the checkpoint before the onset is the last one with a stable gradient.',
  },
  vanishing: {
    chart: 'timeline-heatmap',
    start: 'from',
    subject: (w) => `Gradients vanish in ${w}`,
    always: (w) => `Gradients vanish in ${w}`,
    remedy:
      'See “Gradient reach over training”: if the horizon was longer earlier, the cause is in training (saturating gates, learning rate); if it was always short, in the architecture or the sequence length.',
  },
  'forget-gate-closed': {
    chart: 'timeline-gates',
    start: 'from',
    subject: (w) => `The forget gate of ${w} closed`,
    always: (w) => `The forget gate of ${w} is closed`,
    remedy:
      'Initialise the forget-gate bias to 1 (unit_forget_bias=True) and lower the learning rate if training drove it down.',
  },
  'short-memory': {
    chart: 'timeline-gates',
    start: 'from',
    subject: (w, g) => `The keep gate ${g ?? ''} of ${w} started to forget within the horizon`,
    always: (w, g) => `The keep gate ${g ?? ''} of ${w} forgets within the horizon`,
    remedy:
      'Raise the keep gate bias (LSTM forget gate, GRU update gate) or lower the learning rate if training drove it down.',
  },
  'gate-saturated': {
    chart: 'timeline-gates',
    start: 'from',
    subject: (w, g) => `${g === 'f' ? 'The forget gate' : `Gate ${g ?? '?'}`} of ${w} saturated`,
    always: (w, g) => `${g === 'f' ? 'The forget gate' : `Gate ${g ?? '?'}`} of ${w} is saturated`,
    remedy:
      'Lower the learning rate, normalise the inputs or add LayerNormalization; a saturated gate passes almost no gradient.',
  },
  'dead-units': {
    chart: 'timeline-heatmap',
    start: 'from',
    subject: (w) => `${w} has dead units (no gradient)`,
    always: (w) => `${w} has dead units (no gradient)`,
    remedy: 'Reduce the learning rate; units that stop receiving gradient no longer learn.',
  },
  'non-finite': {
    chart: 'timeline-scalars',
    start: 'at',
    subject: () => 'Gradients became NaN or Inf',
    always: () => 'Gradients are NaN or Inf',
    remedy: 'Clip gradients and lower the learning rate; check the data for NaN/Inf.',
  },
};

/** Onsets are read over the checkpoints with finite weights (a diverged one's own findings are artefacts of NaN). */
function onsetFindings(t: Timeline): TimelineFinding[] {
  const pts = t.points.filter((p) => p.nonFiniteWeights === 0);
  const N = pts.length;
  const groups = new Map<
    string,
    {
      code: string;
      layer: string | null;
      direction: TimelineLayer['direction'];
      gate: string | null;
      present: boolean[];
      severity: Severity;
    }
  >();
  pts.forEach((p, i) => {
    for (const f of p.findings) {
      if (!ONSETS[f.code]) continue;
      const k = [f.code, f.layer, f.direction, f.gate].join('|');
      let g = groups.get(k);
      if (!g)
        groups.set(
          k,
          (g = {
            code: f.code,
            layer: f.layer,
            direction: f.direction,
            gate: f.gate,
            present: new Array(N).fill(false),
            severity: f.severity,
          }),
        );
      g.present[i] = true;
    }
  });
  const out: TimelineFinding[] = [];
  const of = N < t.points.length ? ' with finite weights' : '';
  for (const g of groups.values()) {
    const on = g.present.indexOf(true);
    let end = on;
    while (end + 1 < N && g.present[end + 1]) end++;
    const count = g.present.filter(Boolean).length;
    const def = ONSETS[g.code]!;
    const w = g.layer === null ? 'the model' : who({ layer: g.layer, direction: g.direction });
    const a = pts[on]!,
      b = pts[end]!,
      last = pts[N - 1]!;
    const subject = def.subject(w, g.gate);
    let message: string;
    if (N === 1) message = `${def.always(w, g.gate)} at ${when(a)}.`;
    else if (end === N - 1 && on === 0)
      message = `${def.always(w, g.gate)} at every checkpoint${of} (${when(a)} to ${when(last)}).`;
    else if (end === N - 1)
      message = `${subject} ${def.start} ${when(a)}${on < N - 1 ? `, and it persists through the last checkpoint (${when(last)})` : ' (the last checkpoint)'}.`;
    else
      message = `${subject} ${def.start} ${when(a)}${end > on ? ` until ${when(b)}` : ''}; seen in ${count} of ${N} checkpoints${of}${g.present[N - 1] ? ', including the last' : ', not in the last'}.`;
    out.push({
      code: `${g.code}-onset`,
      severity: g.severity,
      layer: g.layer,
      direction: g.direction,
      at: a.index,
      chart: def.chart,
      message,
      evidence: { onset: a.label, checkpoints: count, of: N, ...(g.gate ? { gate: g.gate } : {}) },
      remedy: def.remedy,
    });
  }
  return out;
}

function normJump(t: Timeline): TimelineFinding[] {
  const seen: number[] = [];
  for (const p of t.points) {
    const g = p.gradNorm;
    if (g === null || p.nonFiniteWeights > 0) continue;
    if (seen.length >= 2) {
      const med = [...seen].sort((x, y) => x - y)[Math.floor((seen.length - 1) / 2)]!;
      if (med > 0 && g > NORM_JUMP_FACTOR * med) {
        return [
          {
            code: 'norm-jump',
            severity: 'warning',
            layer: null,
            direction: null,
            at: p.index,
            chart: 'timeline-scalars',
            message: `The global gradient norm jumped to ${r3(g)} at ${when(p)}, ${r3(g / med)}× the median (${r3(med)}) of the checkpoints before it.`,
            evidence: { gradNorm: r3(g), medianBefore: r3(med), factor: r3(g / med) },
            remedy: 'Clip gradients (clipnorm / global_clipnorm) at about the median norm, or lower the learning rate.',
          },
        ];
      }
    }
    seen.push(g);
  }
  return [];
}

const ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** All findings over time: most severe first, then by the checkpoint they start at. */
export function timelineFindings(t: Timeline, _th: Thresholds): TimelineFinding[] {
  if (t.points.length === 0) return [];
  const out = [
    ...diverged(t),
    ...normJump(t),
    ...onsetFindings(t),
    ...t.layers.flatMap((l, i) => horizonFindings(t, l, i)),
  ];
  return out.sort((a, b) => ORDER[a.severity] - ORDER[b.severity] || (a.at ?? -1) - (b.at ?? -1));
}
