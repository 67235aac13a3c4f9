// Chart 10: distribution of the global gradient norm over batches (empirical
// CDF, one tick per batch) with the clipping thresholds and the fraction each clips.
// Left out with fewer than two batches; percentiles (and the suggested clipnorm) are drawn only from
// as many batches as the analysis asks before it suggests a clipnorm (older files drew them from 2).

import type { Analysis, RecurrentAnalysis } from '../../analysis/schema.js';
import { MIN_CLIP_BATCHES } from '../../analysis/batches.js';

import {
  BY_RUN,
  notedSubtitle,
  runLabel,
  COLORS,
  base,
  magnitudeFormat,
  magnitudeScale,
  r4,
  resolve,
  valid,
  type ChartOptions,
  type Input,
  type VegaLiteSpec,
  vl,
} from './common.js';

const HEIGHT = 220;

const finiteNorms = (a: Analysis) => a.batches.norms.filter((v) => v !== null && Number.isFinite(v)).length;

/** Fewest batches the analysis takes percentiles from (its own threshold, else the current default). */
function minClipBatches(a: Analysis): number {
  return a.thresholds?.clipnormMinBatches ?? MIN_CLIP_BATCHES;
}

export function batchesEmpty(a: Analysis, _r: RecurrentAnalysis | null): string | null {
  const n = finiteNorms(a);
  if (n >= 2) return null;
  return n === 1
    ? `there is one batch (all ${a.objective.samples} samples), and a distribution needs at least two: a smaller --batch-size gives more.`
    : 'no batch has a finite gradient norm.';
}

export function batchesChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const rows: Record<string, unknown>[] = [];
  const clips: Record<string, unknown>[] = [];
  const notes: Record<string, string> = {};
  o.runs.forEach((a, run) => {
    const b = a.batches;
    const few = finiteNorms(a) < minClipBatches(a);
    const finite = b.norms
      .map((v, i) => ({ v: r4(v), i }))
      .filter((x): x is { v: number; i: number } => x.v !== null)
      .sort((p, q) => p.v - q.v);
    finite.forEach((x, k) =>
      rows.push({ run, batch: x.i, norm: x.v, cdf: r4((k + 1) / finite.length), size: b.sizes[x.i] ?? null }),
    );
    // Thresholds that coincide (a quantile often equals the suggestion) share one line and label.
    const byValue = new Map<number, { kind: string; names: string[]; frac: number }>();
    const add = (v: number | null, kind: string, name: string, frac: number) => {
      if (v === null) return;
      const e = byValue.get(v) ?? { kind, names: [], frac };
      if (kind === 'suggested') e.kind = kind;
      e.names.push(name);
      byValue.set(v, e);
    };
    for (const c of b.clipping) {
      if (few && c.source === 'quantile') continue;
      add(
        r4(c.threshold),
        'threshold',
        c.source === 'model-clipnorm' ? "model's clipnorm" : `p${r4((c.quantile ?? 0) * 100)}`,
        c.fractionClipped,
      );
    }
    if (few && b.clipping.some((c) => c.source === 'quantile'))
      notes[String(run)] =
        `Percentile thresholds and a suggested clipnorm are not drawn: ${finiteNorms(a)} batches are too few (they need ${minClipBatches(a)}).`;
    const sug = few ? null : r4(b.suggestedClipnorm);
    if (sug !== null)
      add(
        sug,
        'suggested',
        'suggested',
        finite.length === 0 ? 0 : finite.filter((x) => x.v > sug).length / finite.length,
      );
    [...byValue]
      .sort((p, q) => p[0] - q[0])
      .forEach(([threshold, e], i) =>
        clips.push({
          run,
          threshold,
          kind: e.kind,
          i,
          clipped: r4(e.frac),
          label: `${e.names.join(' = ')}: ${Math.round(e.frac * 100)}% clipped`,
        }),
      );
  });
  const x = {
    type: 'quantitative',
    scale: { ...magnitudeScale(o.scale), nice: false, padding: 12 },
    axis: { format: o.scale === 'log' ? '.2~g' : magnitudeFormat(o.scale) },
    title: 'global gradient norm of a batch',
  };
  const what = ' — curve: fraction of batches at or below a norm; lines: clipping thresholds';
  const labels = o.runs.map(runLabel);
  const sub = notedSubtitle(notes, (k) => `${labels[Number(k)]}${what}`, 'run', `runLabels[run] + '${what}'`);
  const b = base(o, o.runs, { rows, clips });
  const hasClips = clips.some((c) => o.interactive || c.run === o.run);
  return vl({
    ...b,
    params: [...b.params, ...sub.params],
    title: { text: 'Gradient norm per batch, and what clipping would do', subtitle: sub.subtitle },
    width: o.width,
    height: HEIGHT,
    layer: [
      // Threshold lines only where there are some (a static image of a run without any would warn of an empty layer).
      ...(hasClips
        ? [
            {
              data: { name: 'clips' },
              transform: [BY_RUN, valid('threshold', o.scale)],
              mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1.5 },
              encoding: {
                x: { ...x, field: 'threshold' },
                color: {
                  field: 'kind',
                  type: 'nominal',
                  scale: { domain: ['threshold', 'suggested'], range: [COLORS.muted, COLORS.accent] },
                  legend: null,
                },
                tooltip: [
                  { field: 'label', title: 'threshold' },
                  { field: 'threshold', format: '.4~g' },
                  { field: 'clipped', title: 'batches clipped', format: '.0%' },
                ],
              },
            },
            // Labels read upwards from the bottom, alternately left and right of their line, so neighbours do not
            // overprint.
            ...[0, 1].map((parity) => ({
              data: { name: 'clips' },
              transform: [BY_RUN, valid('threshold', o.scale), { filter: `datum.i % 2 === ${parity}` }],
              mark: {
                type: 'text',
                angle: 270,
                align: 'left',
                baseline: parity === 0 ? 'bottom' : 'top',
                dx: 4,
                dy: parity === 0 ? -3 : 3,
                fontSize: 10,
                limit: HEIGHT - 8,
              },
              encoding: {
                x: { ...x, field: 'threshold' },
                y: { value: HEIGHT },
                text: { field: 'label' },
                color: {
                  field: 'kind',
                  type: 'nominal',
                  scale: { domain: ['threshold', 'suggested'], range: [COLORS.muted, COLORS.accent] },
                  legend: null,
                },
              },
            })),
          ]
        : []),
      {
        data: { name: 'rows' },
        transform: [BY_RUN, valid('norm', o.scale)],
        mark: {
          type: 'line',
          interpolate: 'step-after',
          color: COLORS.h,
          strokeWidth: 1.6,
          point: { filled: true, size: 30 },
        },
        encoding: {
          x: { ...x, field: 'norm' },
          y: {
            field: 'cdf',
            type: 'quantitative',
            title: 'fraction of batches ≤ norm',
            scale: { domain: [0, 1] },
            axis: { format: '.0%' },
          },
          tooltip: [
            { field: 'batch' },
            { field: 'norm', title: 'global norm', format: '.4~g' },
            { field: 'cdf', title: 'fraction ≤', format: '.0%' },
            { field: 'size', title: 'samples' },
          ],
        },
      },
    ],
  });
}
