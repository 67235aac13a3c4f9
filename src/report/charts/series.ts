// A per-step gradient norm against t: per-sample p10–p90 band, per-sample median,
// the all-sample norm dashed, and the effective horizon shaded (charts 1 and 8).

import type { StepSeries } from '../../analysis/schema.js';
import {
  BY_LAYER,
  COLORS,
  zoom,
  base,
  HOVER_PARAM,
  hoverRule,
  selectionParams,
  STEP_TARGET_WIDTH,
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

const HEIGHT = 260;

export interface SeriesQuantity {
  /** Legend label, e.g. "∂L/∂h_t". */
  label: string;
  color: string;
  pick: (r: RecurrentAnalysis) => StepSeries | null;
}

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
        label: `horizon: ${h.steps} of ${r.steps} steps`,
      });
    }
  }
  const color = {
    field: 'q',
    type: 'nominal' as const,
    title: null,
    legend: null,
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
    title: `${spec.yTitle} per sample (median, 10–90 %)`,
  };
  // A static image shows one layer: only the label layers that have rows for it, as an empty layer makes Vega warn.
  // The page keeps them all (the layer selector may switch to one that has rows).
  const drawn =
    <T>(has: (row: Record<string, unknown>, item: T) => boolean, data: Record<string, unknown>[]) =>
    (item: T) =>
      o.interactive || data.some((row) => row.key === o.sel && has(row, item));
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
      // At the bottom of the band beside its dashed edge, where the line (above 1 % of its peak there) is not.
      ...([true, false] as const)
        .filter(drawn((h, right: boolean) => (h.to as number) <= (h.lo as number) === right, horizon))
        .map((right) => ({
          data: { name: 'horizon' },
          transform: [BY_LAYER, { filter: right ? 'datum.to <= datum.lo' : 'datum.to > datum.lo' }],
          mark: {
            type: 'text',
            color: COLORS.accent,
            align: right ? 'left' : 'right',
            baseline: 'bottom',
            dx: right ? 4 : -4,
            dy: -4,
            fontSize: 11,
          },
          encoding: { x: { field: 'to', type: 'quantitative' }, y: { value: HEIGHT }, text: { field: 'label' } },
        })),
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
      // One scale on the axis: the per-sample median and its band (the all-sample norm, about p50/√N, is in the
      // tooltip only).
      data: { name: 'rows' },
      transform: [BY_LAYER, valid('p50', o.scale)],
      mark: { type: 'line', strokeWidth: 1.8 },
      encoding: { x, y: { ...y, field: 'p50' }, color },
    },
    // Direct labels at each line's last step instead of a legend (only the series present are named): the first
    // above its line, the second below, so two lines ending together keep apart labels.
    ...spec.quantities.filter(drawn((row, q) => row.q === q.label, rows)).map((q, i) => ({
      data: { name: 'rows' },
      transform: [
        BY_LAYER,
        { filter: `datum.q === ${JSON.stringify(q.label)}` },
        valid('p50', o.scale),
        { joinaggregate: [{ op: 'max', field: 't', as: 'tmax' }] },
        { filter: 'datum.t === datum.tmax' },
      ],
      mark: {
        type: 'text',
        align: 'right',
        dx: -2,
        dy: i === 0 ? -10 : 12,
        fontSize: 11,
        fontWeight: 'bold',
        clip: false,
      },
      encoding: { x, y: { ...y, field: 'p50' }, color, text: { field: 'q' } },
    })),
    ...(o.interactive ? [hoverRule(x)] : []),
    {
      // Nearest step: an invisible full-height rule per step whose tooltip lists every series at that step.
      data: { name: 'rows' },
      transform: [
        BY_LAYER,
        { calculate: "datum.q + ' median (p10–p90)'", as: 'name' },
        {
          calculate:
            "isValid(datum.p50) ? format(datum.p50, '.3~g') + ' (' + format(datum.p10, '.2~g') + '–' + format(datum.p90, '.2~g') + ')' : 'n/a'",
          as: 'text',
        },
        { pivot: 'name', value: 'text', groupby: ['t'], op: 'max' }, // not the default sum: the values are text
      ],
      mark: { type: 'rule', strokeWidth: STEP_TARGET_WIDTH, opacity: 0 },
      encoding: {
        x,
        tooltip: [
          { field: 't', title: 'step' },
          ...spec.quantities.map((q) => ({ field: `${q.label} median (p10–p90)` })),
        ],
      },
    },
  );
  return vl({
    ...base(o, o.runs, { rows, horizon }),
    title: { text: spec.title, subtitle: { expr: 'labels[sel]' } },
    params: [...selectionParams(o, o.runs), ...(o.interactive ? [HOVER_PARAM] : [])],
    width: o.width,
    height: HEIGHT,
    layer: layers,
    resolve: { scale: { color: 'shared' } },
  });
}
