// Timeline view 1: checkpoint × step heatmap of log10 ‖∂L/∂h_t‖ relative to that checkpoint's
// peak, with each checkpoint's horizon drawn over it: how far back the gradient reaches, and how
// that changes over training.

import { COLORS, base, resolve, type ChartOptions, type Input, type VegaLiteSpec, vl } from './common.js';
import { BY_TIMELINE_LAYER, SEL_ID, checkpointAxis, layerLabels, pointFields, timelineOf } from './timeline-common.js';

/** Colour floor: relative values below 10^FLOOR draw as the darkest colour. */
const FLOOR = -6;

export function timelineHeatmapChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const t = timelineOf(input);
  const cells: Record<string, unknown>[] = [];
  const horizon: Record<string, unknown>[] = [];
  const diverged: Record<string, unknown>[] = [];
  const axis = checkpointAxis(t ?? ({ points: [] } as never));
  if (t) {
    const xs = t.points.map((p) => axis.x(p));
    // Each row spans halfway to its neighbours, so uneven checkpoint spacing shows as taller rows.
    const edge = (i: number, side: -1 | 1): number => {
      const j = i + side;
      if (j >= 0 && j < xs.length) return (xs[i]! + xs[j]!) / 2;
      const k = i - side;
      return xs[i]! + (side * (k >= 0 && k < xs.length ? Math.abs(xs[i]! - xs[k]!) : 1)) / 2;
    };
    t.points.forEach((p, i) => {
      const f = pointFields(t, p);
      const y0 = edge(i, -1),
        y1 = edge(i, 1);
      if (f.diverged) diverged.push({ ...f, y0, y1, ids: t.layers.map((l) => l.id) });
      t.layers.forEach((l, li) => {
        const lp = p.layers[li];
        if (!lp) return;
        lp.relLog10.forEach((v, b) => {
          if (v === null) return;
          cells.push({
            id: l.id,
            ...f,
            y0,
            y1,
            t0: b * l.stepBin,
            t1: Math.min(l.steps, (b + 1) * l.stepBin),
            v,
            c: Math.max(FLOOR, v),
          });
        });
        const h = lp.horizon;
        if (h.steps !== null && h.to !== null)
          horizon.push({ id: l.id, ...f, ym: (y0 + y1) / 2, t: h.to + 0.5, steps: h.steps, of: l.steps });
      });
    });
  }
  const T = Math.max(1, ...(t?.layers.map((l) => l.steps) ?? [1]));
  const height = Math.max(160, Math.min(420, 14 * (t?.points.length ?? 0)));
  const y = {
    field: 'y0',
    type: 'quantitative',
    title: axis.title,
    scale: { nice: false, zero: false, reverse: true },
    axis: { tickMinStep: 1, format: 'd' },
  };
  const tooltip = [
    { field: 'when', title: 'checkpoint' },
    { field: 'ckpt', title: 'file' },
    { field: 't0', title: 'step from' },
    { field: 't1', title: 'to (excl.)' },
    { field: 'v', title: 'log10 of ‖∂L/∂h_t‖ / peak', format: '.2f' },
  ];
  return vl({
    ...base(o, o.runs, { cells, horizon, diverged }),
    title: {
      text: 'How far back the gradient reaches, over training',
      subtitle: {
        expr: `[layerLabels[${SEL_ID}] || '', 'Colour: ‖∂L/∂h_t‖ relative to that checkpoint\\'s peak (log10). White line: the horizon, the earliest step still within 1/100 of the peak.']`,
      },
    },
    params: [...base(o, o.runs, {}).params, { name: 'layerLabels', value: t ? layerLabels(t) : {} }],
    width: o.width,
    height,
    layer: [
      {
        data: { name: 'cells' },
        transform: [BY_TIMELINE_LAYER],
        mark: { type: 'rect', tooltip: true },
        encoding: {
          x: {
            field: 't0',
            type: 'quantitative',
            title: 'step t (input position)',
            scale: { domain: [0, T], nice: false },
          },
          x2: { field: 't1' },
          y,
          y2: { field: 'y1' },
          color: {
            field: 'c',
            type: 'quantitative',
            title: 'log10 ‖∂L/∂h_t‖ / peak',
            scale: { scheme: 'inferno', domain: [FLOOR, 0] },
            legend: { orient: 'right', direction: 'vertical', gradientLength: 160 },
          },
          tooltip,
        },
      },
      {
        data: { name: 'diverged' },
        transform: [{ filter: `indexof(datum.ids, ${SEL_ID}) >= 0` }],
        mark: { type: 'rect', color: COLORS.alert, opacity: 0.35 },
        encoding: {
          x: { datum: 0 },
          x2: { datum: T },
          y,
          y2: { field: 'y1' },
          tooltip: [
            { field: 'when', title: 'diverged (NaN/Inf weights)' },
            { field: 'ckpt', title: 'file' },
          ],
        },
      },
      {
        data: { name: 'diverged' },
        transform: [
          { filter: `indexof(datum.ids, ${SEL_ID}) >= 0` },
          { calculate: '(datum.y0 + datum.y1) / 2', as: 'ym' },
        ],
        mark: { type: 'text', color: '#7b1d12', fontSize: 11, baseline: 'middle' },
        encoding: {
          x: { datum: T / 2 },
          y: { field: 'ym', type: 'quantitative' },
          text: { value: 'diverged: NaN/Inf weights' },
        },
      },
      {
        data: { name: 'horizon' },
        transform: [BY_TIMELINE_LAYER],
        mark: {
          type: 'line',
          color: 'white',
          strokeWidth: 2,
          point: { filled: true, color: 'white', size: 18, stroke: '#222', strokeWidth: 0.5 },
        },
        encoding: {
          x: { field: 't', type: 'quantitative' },
          y: { field: 'ym', type: 'quantitative' },
          order: { field: 'x' },
          tooltip: [
            { field: 'when', title: 'checkpoint' },
            { field: 'steps', title: 'horizon (steps)' },
            { field: 'of', title: 'of steps' },
          ],
        },
      },
    ],
  });
}
