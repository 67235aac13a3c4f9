// A per-step gradient norm against t: per-sample p10–p90 band, per-sample median,
// the all-sample norm dashed, and the effective horizon shaded (charts 1 and 8).

import type { StepSeries } from '../../analysis/schema.js';
import {
  BY_LAYER,
  COLORS,
  zoom,
  base,
  eachLayer,
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
import type { RecurrentAnalysis } from '../../analysis/schema.js';

export interface SeriesQuantity {
  /** Legend label, e.g. "∂L/∂h_t". */
  label: string;
  color: string;
  pick: (r: RecurrentAnalysis) => StepSeries | null;
}

const STAT_LABELS = "datum.label === 'p50' ? 'per-sample median (band: p10–p90)' : 'norm over all samples'";

export function seriesChart(
  input: Input,
  opts: ChartOptions,
  spec: {
    title: string;
    yTitle: string;
    quantities: SeriesQuantity[];
    horizon: boolean;
  },
): VegaLiteSpec {
  const o = resolve(input, opts);
  const rows: Record<string, unknown>[] = [];
  const horizon: Record<string, unknown>[] = [];
  for (const { run, r, key } of eachLayer(o.runs)) {
    for (const q of spec.quantities) {
      const s = q.pick(r);
      if (!s) continue;
      for (let t = 0; t < r.steps; t++) {
        rows.push({
          run,
          key,
          q: q.label,
          t,
          norm: r4(s.norm[t]),
          p10: r4(s.p10[t]),
          p50: r4(s.p50[t]),
          p90: r4(s.p90[t]),
        });
      }
    }
    const h = r.horizon;
    if (spec.horizon && h.to !== null && h.from !== null && h.steps !== null) {
      horizon.push({
        run,
        key,
        lo: Math.min(h.from, h.to),
        hi: Math.max(h.from, h.to),
        to: h.to,
        label: `effective horizon: ${h.steps} of ${r.steps} steps`,
      });
    }
  }
  const color = {
    field: 'q',
    type: 'nominal' as const,
    title: null,
    scale: { domain: spec.quantities.map((q) => q.label), range: spec.quantities.map((q) => q.color) },
  };
  const x = {
    field: 't',
    type: 'quantitative' as const,
    title: 'step t (input position)',
    axis: { tickMinStep: 1 },
    scale: { nice: false },
  };
  const y = {
    type: 'quantitative' as const,
    scale: magnitudeScale(o.scale),
    axis: { format: magnitudeFormat(o.scale) },
    title: spec.yTitle,
  };
  const layers: unknown[] = [];
  if (spec.horizon) {
    layers.push(
      {
        data: { name: 'horizon' },
        transform: [BY_LAYER],
        mark: { type: 'rect', color: '#fff1cc', opacity: 0.55 },
        encoding: { x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } },
      },
      {
        data: { name: 'horizon' },
        transform: [BY_LAYER],
        mark: { type: 'rule', color: COLORS.accent, strokeDash: [5, 3], strokeWidth: 1.5 },
        encoding: { x: { field: 'to', type: 'quantitative' } },
      },
      {
        data: { name: 'horizon' },
        transform: [BY_LAYER],
        mark: { type: 'text', color: COLORS.accent, align: 'left', baseline: 'top', dx: 4, dy: 4, fontSize: 11 },
        encoding: { x: { field: 'to', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
      },
    );
  }
  layers.push(
    {
      data: { name: 'rows' },
      transform: [BY_LAYER, valid('p10', o.scale), valid('p90', o.scale)],
      params: zoom(o),
      mark: { type: 'area', opacity: 0.18 },
      encoding: { x, y: { ...y, field: 'p10' }, y2: { field: 'p90' }, color },
    },
    {
      data: { name: 'rows' },
      transform: [BY_LAYER, { fold: ['p50', 'norm'], as: ['stat', 'v'] }, valid('v', o.scale)],
      mark: { type: 'line', strokeWidth: 1.8 },
      encoding: {
        x,
        y: { ...y, field: 'v' },
        color,
        strokeDash: {
          field: 'stat',
          type: 'nominal',
          title: null,
          scale: {
            domain: ['p50', 'norm'],
            range: [
              [1, 0],
              [5, 3],
            ],
          },
          legend: { labelExpr: STAT_LABELS },
        },
        detail: { field: 'stat' },
      },
    },
    {
      data: { name: 'rows' },
      transform: [BY_LAYER, valid('p50', o.scale)],
      mark: { type: 'point', opacity: 0, size: 60 },
      encoding: {
        x,
        y: { ...y, field: 'p50' },
        color,
        tooltip: [
          { field: 'q', title: 'quantity' },
          { field: 't', title: 'step' },
          { field: 'norm', title: 'norm (all samples)', format: '.3e' },
          { field: 'p10', title: 'p10 per sample', format: '.3e' },
          { field: 'p50', title: 'median per sample', format: '.3e' },
          { field: 'p90', title: 'p90 per sample', format: '.3e' },
        ],
      },
    },
  );
  return vl({
    ...base(o, o.runs, { rows, horizon }),
    title: { text: spec.title, subtitle: { expr: 'labels[sel]' } },
    width: o.width,
    height: 260,
    layer: layers,
    resolve: { scale: { color: 'shared' } },
  });
}
