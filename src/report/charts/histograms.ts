// Chart 9: histograms of log10|g| per parameter tensor (shared fixed bins, so
// rows compare directly), drawn as a ridgeline: one row per tensor, each row's
// bars scaled to its own tallest bin. One view rather than a facet per tensor,
// because switching runs changes the tensors and empty facet cells would have
// no scale.

import { BY_RUN, COLORS, base, resolve, type ChartOptions, type Input, type VegaLiteSpec, vl } from './common.js';
import { paramKeyOf } from './param-norms.js';

const ROW = 40;

export function histogramsChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const rows: Record<string, unknown>[] = [];
  const names: string[][] = [];
  o.runs.forEach((a, run) => {
    names.push(a.params.map((p) => p.key));
    a.params.forEach((p, order) => {
      const h = p.histogram;
      const peak = Math.max(...h.counts);
      for (let i = 0; i < h.counts.length; i++) {
        if (h.counts[i] === 0) continue;
        const rel = h.counts[i] / peak;
        // Reversed y (row 0 on top): a bar rises from order + 0.42 towards order − 0.42.
        rows.push({
          run,
          order,
          tensor: p.key,
          lkey: paramKeyOf(run, p),
          lo: h.edges[i],
          hi: h.edges[i + 1],
          c: h.counts[i],
          frac: Number((h.counts[i] / p.size).toPrecision(4)),
          base: order + 0.42,
          top: Number((order + 0.42 - 0.84 * rel).toFixed(4)),
        });
      }
    });
  });
  const n = Math.max(1, ...names.map((x) => x.length));
  const b = base(o, o.runs, { rows });
  return vl({
    ...b,
    params: [...b.params, { name: 'tensorNames', value: names }],
    title: {
      text: 'Distribution of log10 |gradient| per tensor',
      subtitle: { expr: "runLabels[run] + ' — each row scaled to its tallest bin; selected layer in blue'" },
    },
    width: o.width - 180,
    height: n * ROW,
    data: { name: 'rows' },
    transform: [BY_RUN],
    mark: { type: 'rect' },
    encoding: {
      x: {
        field: 'lo',
        type: 'quantitative',
        title: 'log10 |gradient|',
        scale: { nice: false },
        axis: { tickMinStep: 1 },
      },
      x2: { field: 'hi' },
      y: {
        field: 'base',
        type: 'quantitative',
        title: null,
        scale: { domain: [-0.5, n - 0.5], reverse: true, nice: false, zero: false },
        axis: {
          values: Array.from({ length: n }, (_, i) => i + 0.42),
          labelExpr: 'tensorNames[run][round(datum.value - 0.42)] || ""',
          grid: false,
          ticks: false,
        },
      },
      y2: { field: 'top' },
      color: { condition: { test: 'datum.lkey === sel', value: COLORS.highlight }, value: COLORS.muted },
      tooltip: [
        { field: 'tensor' },
        { field: 'lo', title: 'log10|g| from' },
        { field: 'hi', title: 'log10|g| to' },
        { field: 'c', title: 'elements' },
        { field: 'frac', title: 'fraction of tensor', format: '.1%' },
      ],
    },
  });
}
