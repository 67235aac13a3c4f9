// Chart 3: weight value against log10|gradient| per gate block, as a binned density.
// The JSON already holds the 2-D bins, so this stays fast for any tensor size. A block whose weights
// are all equal (a zero bias) has no weight axis to draw: it is named in a note instead of a panel
// over a made-up range, and a layer with only such blocks is left out.

import type { Analysis, Density2D as Density, RecurrentAnalysis } from '../../analysis/schema.js';

import {
  BY_LAYER,
  layerLabel,
  notedSubtitle,
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

/** Why a block has no panel: its weights all equal one value, or no weight has a non-zero gradient; else null. */
export function blockLeftOut(d: Density): string | null {
  const cols = new Set<number>();
  for (const row of d.counts) row.forEach((c, i) => c > 0 && cols.add(i));
  if (cols.size === 0) return `no weight of ${blockName(d)} has a non-zero gradient`;
  const x0 = d.xEdges[0];
  const x1 = d.xEdges[d.xEdges.length - 1];
  // The analysis widens a range of one value to ±0.5 around it (analysis/params.ts): that range is made up.
  if (cols.size === 1 && x0 !== null && x1 !== null && Math.abs(x1 - x0 - 1) < 1e-6) {
    const v = Number(((x0 + x1) / 2).toPrecision(3));
    return `all ${d.n} weights of ${blockName(d)} are ${v === 0 ? 0 : v}`;
  }
  return null;
}

function blockName(d: Density): string {
  return `gate ${d.gate} · ${GROUP_LABELS[d.group] ?? d.group}`;
}

function notesOf(r: RecurrentAnalysis): string | null {
  const out = r.density.map(blockLeftOut).filter((x): x is string => x !== null);
  if (out.length === 0) return null;
  return `Not drawn: ${out.join('; ')}.`;
}

export function densityEmpty(_a: Analysis, r: RecurrentAnalysis | null): string | null {
  if (r === null || r.density.length === 0 || r.density.some((d) => blockLeftOut(d) === null)) return null;
  return `every weight block is constant or has no non-zero gradient (${r.density.map(blockLeftOut).join('; ')}).`;
}

export function densityChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const rows: Record<string, unknown>[] = [];
  const notes: Record<string, string> = {};
  const labels: Record<string, string> = {};
  for (const { run, a, r, key } of eachLayer(o.runs)) {
    labels[key] = layerLabel(a, r);
    const note = notesOf(r);
    if (note) notes[key] = note;
    for (const d of r.density) {
      if (blockLeftOut(d) !== null) continue;
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
  const sub = notedSubtitle(notes, (k) => labels[k], 'sel', 'labels[sel]');
  const b = base(o, o.runs, { rows });
  return vl({
    ...b,
    params: [...b.params, ...sub.params],
    title: { text: 'Weight value (x) against |gradient| (y), per gate block', subtitle: sub.subtitle },
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
      width: Math.min(260, Math.floor((o.width - 140) / cols)),
      height: 110,
      mark: { type: 'rect' },
      encoding: {
        x: {
          field: 'x0',
          type: 'quantitative',
          // Said once, in the title: under each narrow panel it would set the panels' spacing.
          title: null,
          scale: { zero: false, nice: false },
          axis: { tickCount: 3 },
        },
        x2: { field: 'x1' },
        y: { field: 'y0', type: 'quantitative', title: 'log10 |gradient|', scale: { zero: false, nice: false } },
        y2: { field: 'y1' },
        color: {
          field: 'c',
          type: 'quantitative',
          title: 'elements',
          scale: { type: 'log', scheme: 'viridis' },
          // Below the panels: beside them it would need a phone's width.
          legend: { orient: 'bottom', direction: 'horizontal', gradientLength: 160 },
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
    // Panels close together, so three fit a phone's column.
    spacing: { column: 8, row: 12 },
    // Each panel its own weight range (a forget-gate bias near 1 would squeeze the others).
    resolve: { scale: { x: 'independent' } },
  });
}
