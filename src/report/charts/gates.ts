// Chart 7: gate activations per step (mean over samples × units) and the
// fraction saturated.

import {
  BY_LAYER,
  GATE_COLORS,
  zoom,
  base,
  eachLayer,
  r4,
  resolve,
  type ChartOptions,
  type Input,
  type VegaLiteSpec,
  vl,
} from './common.js';

export function gatesChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const rows: Record<string, unknown>[] = [];
  for (const { run, r, key } of eachLayer(o.runs)) {
    for (const g of r.gateStats) {
      const gi = r.gates.indexOf(g.gate);
      const gate = `${g.gate} (${g.activation})`;
      for (let t = 0; t < r.steps; t++)
        rows.push({ run, key, gate, gi, t, mean: r4(g.mean[t]), sat: r4(g.saturated[t]) });
    }
  }
  const x = { field: 't', type: 'quantitative', title: 'step t (input position)', scale: { nice: false } };
  const color = { field: 'gate', type: 'nominal', title: 'gate', sort: { field: 'gi' }, scale: { range: GATE_COLORS } };
  const tooltip = [
    { field: 'gate' },
    { field: 't', title: 'step' },
    { field: 'mean', title: 'mean activation', format: '.3f' },
    { field: 'sat', title: 'fraction saturated', format: '.1%' },
  ];
  return vl({
    ...base(o, o.runs, { rows }),
    title: { text: 'Gate activations and saturation', subtitle: { expr: 'labels[sel]' } },
    data: { name: 'rows' },
    transform: [BY_LAYER],
    vconcat: [
      {
        width: o.width,
        height: 140,
        params: zoom(o),
        transform: [{ filter: 'isValid(datum.mean)' }],
        mark: { type: 'line', strokeWidth: 1.6 },
        encoding: { x, y: { field: 'mean', type: 'quantitative', title: 'mean activation' }, color, tooltip },
      },
      {
        width: o.width,
        height: 120,
        transform: [{ filter: 'isValid(datum.sat)' }],
        mark: { type: 'line', strokeWidth: 1.6 },
        encoding: {
          x,
          y: {
            field: 'sat',
            type: 'quantitative',
            title: 'fraction saturated',
            scale: { domain: [0, 1] },
            axis: { format: '.0%' },
          },
          color,
          tooltip,
        },
      },
    ],
    resolve: { scale: { x: 'shared' } },
  });
}
