// Timeline view 3: per gate of the selected layer, its share of the layer's squared gradient norm,
// its mean activation and the fraction of its activations saturated, per checkpoint.

import { GATE_COLORS, base, r4, resolve, type ChartOptions, type Input, type VegaLiteSpec, vl } from './common.js';
import {
  BY_TIMELINE_LAYER,
  SEL_ID,
  checkpointAxis,
  gateDomain,
  layerLabels,
  pointFields,
  timelineOf,
} from './timeline-common.js';

export function timelineGatesChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const t = timelineOf(input);
  const rows: Record<string, unknown>[] = [];
  const axis = checkpointAxis(t ?? ({ points: [] } as never));
  if (t) {
    for (const p of t.points) {
      const f = pointFields(t, p);
      if (f.diverged) continue;
      t.layers.forEach((l, li) =>
        p.layers[li]?.gates.forEach((g, gi) =>
          rows.push({
            id: l.id,
            ...f,
            gate: g.gate,
            gi,
            share: r4(g.share),
            mean: r4(g.mean),
            sat: r4(g.saturated),
          }),
        ),
      );
    }
  }
  const x = {
    field: 'x',
    type: 'quantitative',
    title: axis.title,
    scale: { nice: false, zero: false },
    axis: { tickMinStep: 1, format: 'd' },
  };
  const color = { field: 'gate', type: 'nominal', title: 'gate', scale: { domain: gateDomain(t), range: GATE_COLORS } };
  const tooltip = [
    { field: 'when', title: 'checkpoint' },
    { field: 'gate' },
    { field: 'share', title: 'share of ‖∇‖²', format: '.1%' },
    { field: 'mean', title: 'mean activation', format: '.3f' },
    { field: 'sat', title: 'saturated', format: '.1%' },
  ];
  const panel = (field: string, title: string, fmt: string, domain?: number[]) => ({
    width: o.width,
    height: 100,
    transform: [{ filter: `isValid(datum.${field})` }],
    mark: { type: 'line', point: true, strokeWidth: 1.6 },
    encoding: {
      x,
      y: { field, type: 'quantitative', title, axis: { format: fmt }, ...(domain ? { scale: { domain } } : {}) },
      color,
      tooltip,
    },
  });
  return vl({
    ...base(o, o.runs, { rows }),
    params: [...base(o, o.runs, {}).params, { name: 'layerLabels', value: t ? layerLabels(t) : {} }],
    title: { text: 'Gates over training', subtitle: { expr: `layerLabels[${SEL_ID}] || ''` } },
    data: { name: 'rows' },
    transform: [BY_TIMELINE_LAYER],
    vconcat: [
      panel('share', 'share of the gradient', '.0%', [0, 1]),
      panel('mean', 'mean activation', '.2f'),
      panel('sat', 'fraction saturated', '.0%', [0, 1]),
    ],
    resolve: { scale: { x: 'shared' } },
  });
}
