// Chart 3: weight value against log10|gradient| per gate block, as a binned density.
// The JSON already holds the 2-D bins, so this stays fast for any tensor size.

import {
  BY_LAYER,
  base,
  eachLayer,
  r4,
  resolve,
  type ChartOptions,
  type Input,
  type VegaLiteSpec,
  vl,
} from './common.js';
import { GROUP_LABELS } from './contributions.js';

export function densityChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const rows: Record<string, unknown>[] = [];
  for (const { run, r, key } of eachLayer(o.runs)) {
    for (const d of r.density) {
      const gi = r.gates.indexOf(d.gate);
      const group = GROUP_LABELS[d.group] ?? d.group;
      for (let j = 0; j < d.counts.length; j++) {
        for (let i = 0; i < d.counts[j].length; i++) {
          const c = d.counts[j][i];
          if (c > 0)
            rows.push({
              run,
              key,
              gate: `gate ${d.gate}`,
              gi,
              group,
              // Edges to 4 significant digits: the bins are drawn, not read to 17 digits.
              // Widths, not right edges: equal bins repeat one width, which the page stores once.
              x0: r4(d.xEdges[i]),
              xw: r4(d.xEdges[i + 1] - d.xEdges[i]),
              y0: r4(d.yEdges[j]),
              yw: r4(d.yEdges[j + 1] - d.yEdges[j]),
              c,
              n: d.n,
            });
        }
      }
    }
  }
  const cols = Math.max(1, ...eachLayer(o.runs).map(({ r }) => new Set(r.density.map((d) => d.group)).size));
  return vl({
    ...base(o, o.runs, { rows }),
    title: { text: 'Weight value against |gradient|, per gate block', subtitle: { expr: 'labels[sel]' } },
    data: { name: 'rows' },
    transform: [
      BY_LAYER,
      { calculate: 'datum.x0 + datum.xw', as: 'x1' },
      { calculate: 'datum.y0 + datum.yw', as: 'y1' },
    ],
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
      width: Math.min(260, Math.floor((o.width - 80) / cols)),
      height: 110,
      mark: { type: 'rect' },
      encoding: {
        x: {
          field: 'x0',
          type: 'quantitative',
          title: 'weight value',
          scale: { zero: false, nice: false },
          axis: { tickCount: 5 },
        },
        x2: { field: 'x1' },
        y: { field: 'y0', type: 'quantitative', title: 'log10 |gradient|', scale: { zero: false, nice: false } },
        y2: { field: 'y1' },
        color: {
          field: 'c',
          type: 'quantitative',
          title: 'elements',
          scale: { type: 'log', scheme: 'viridis' },
          legend: { orient: 'right', direction: 'vertical' },
        },
        tooltip: [
          { field: 'gate' },
          { field: 'group' },
          { field: 'x0', title: 'weight from', format: '.3~g' },
          { field: 'x1', title: 'weight to', format: '.3~g' },
          { field: 'y0', title: 'log10|g| from', format: '.2f' },
          { field: 'y1', title: 'log10|g| to', format: '.2f' },
          { field: 'c', title: 'elements' },
        ],
      },
    },
    // Each panel its own weight range (a forget-gate bias near 1 would squeeze the others).
    resolve: { scale: { x: 'independent' } },
  });
}
