// Chart 2: per-step contributions to the parameter gradient, small multiples:
// rows = gates, columns = kernel / recurrent kernel / bias.

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

export const GROUP_LABELS: Record<string, string> = {
  kernel: 'kernel (input)',
  recurrent_kernel: 'recurrent kernel',
  bias: 'bias',
};

export function contributionsChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const rows: Record<string, unknown>[] = [];
  for (const { run, r, key } of eachLayer(o.runs)) {
    for (const c of r.contributions) {
      const gi = r.gates.indexOf(c.gate);
      const group = GROUP_LABELS[c.group] ?? c.group;
      for (let t = 0; t < r.steps; t++)
        rows.push({ run, key, gate: `gate ${c.gate}`, gi, group, t, v: r4(c.norm[t]), total: r4(c.total) });
    }
  }
  const cols = Math.max(1, ...eachLayer(o.runs).map(({ r }) => new Set(r.contributions.map((c) => c.group)).size));
  return vl({
    ...base(o, o.runs, { rows }),
    title: {
      text: 'Per-step contributions to the gradient, by gate and weight group',
      subtitle: { expr: 'labels[sel]' },
    },
    data: { name: 'rows' },
    transform: [BY_LAYER, valid('v', o.scale)],
    facet: {
      row: {
        field: 'gate',
        type: 'nominal',
        sort: { field: 'gi' },
        title: null,
        header: { labelAngle: 0, labelAlign: 'left', labelFontWeight: 'bold' },
      },
      column: { field: 'group', type: 'nominal', sort: Object.values(GROUP_LABELS), title: null },
    },
    spec: {
      width: Math.floor((o.width - 60) / cols),
      height: 70,
      params: zoom(o),
      mark: { type: 'line', color: COLORS.h, strokeWidth: 1.4 },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'step t', scale: { nice: false } },
        y: {
          field: 'v',
          type: 'quantitative',
          scale: magnitudeScale(o.scale),
          axis: { format: magnitudeFormat(o.scale), tickCount: 3 },
          title: '‖contribution‖',
        },
        tooltip: [
          { field: 'gate' },
          { field: 'group' },
          { field: 't', title: 'step' },
          { field: 'v', title: '‖step contribution‖', format: '.4~g' },
          { field: 'total', title: '‖total block gradient‖', format: '.4~g' },
        ],
      },
    },
    resolve: { scale: { y: 'shared' } },
  });
}
