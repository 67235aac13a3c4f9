// Chart 4: heatmap of |∂L/∂h_t| over step × unit, and the connectivity map
// (‖∂L_τ/∂x_t‖ over output step τ × input step t) when it was computed.

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

export function heatmapChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const rows: Record<string, unknown>[] = [];
  const conn: Record<string, unknown>[] = [];
  for (const { run, r, key } of eachLayer(o.runs)) {
    const { stepBin, unitBin, values } = r.heatmap;
    for (let i = 0; i < values.length; i++) {
      for (let j = 0; j < values[i].length; j++) {
        rows.push({
          run,
          key,
          t0: i * stepBin,
          t1: Math.min(r.steps, (i + 1) * stepBin),
          u0: j * unitBin,
          u1: Math.min(r.units, (j + 1) * unitBin),
          v: r4(values[i][j]),
        });
      }
    }
    const c = r.connectivity;
    if (c) {
      for (let i = 0; i < c.outputSteps.length; i++) {
        const tau = c.outputSteps[i];
        const tau1 = c.outputSteps[i + 1] ?? r.steps;
        for (let j = 0; j < c.inputSteps.length; j++) {
          const v = c.values[i][j];
          if (v === null) continue;
          conn.push({ run, key, t0: c.inputSteps[j], t1: c.inputSteps[j + 1] ?? r.steps, tau0: tau, tau1, v: r4(v) });
        }
      }
    }
  }
  // The page switches layer with one spec, so it keeps the map's view if any layer has one; a static image is of one
  // layer, and shows the map only if that layer has it (an empty view would only draw empty axes).
  const showConn = o.interactive ? conn.length > 0 : conn.some((row) => row.key === o.sel);
  const color = (title: string) => ({
    field: 'v',
    type: 'quantitative',
    title,
    legend: { orient: 'right', direction: 'vertical', format: '.0e' },
    scale: {
      type: o.scale === 'log' ? 'log' : 'linear',
      scheme: 'inferno',
      reverse: true,
      ...(o.scale === 'log' ? {} : { zero: true }),
    },
  });
  const validV = o.scale === 'log' ? 'isValid(datum.v) && datum.v > 0' : 'isValid(datum.v)';
  const heat = {
    data: { name: 'rows' },
    transform: [BY_LAYER, { filter: validV }],
    title: { text: 'mean |∂L/∂h| per step and unit (blank: 0)', fontSize: 12, fontWeight: 'normal' },
    width: showConn ? Math.floor(o.width * 0.55) : o.width,
    height: 220,
    mark: { type: 'rect' },
    encoding: {
      x: { field: 't0', type: 'quantitative', title: 'step t', scale: { nice: false, zero: true } },
      x2: { field: 't1' },
      y: { field: 'u0', type: 'quantitative', title: 'unit', scale: { nice: false, zero: true, reverse: true } },
      y2: { field: 'u1' },
      color: color('|∂L/∂h|'),
      tooltip: [
        { field: 't0', title: 'step from' },
        { field: 't1', title: 'step to (excl.)' },
        { field: 'u0', title: 'unit from' },
        { field: 'u1', title: 'unit to (excl.)' },
        { field: 'v', title: 'mean |∂L/∂h|', format: '.4~g' },
      ],
    },
  };
  const views: unknown[] = [heat];
  if (showConn) {
    views.push({
      data: { name: 'conn' },
      transform: [BY_LAYER, { filter: validV }],
      title: { text: 'connectivity ‖∂L_τ/∂x_t‖ (empty if not computed)', fontSize: 12, fontWeight: 'normal' },
      width: Math.floor(o.width * 0.4),
      height: 220,
      mark: { type: 'rect' },
      encoding: {
        x: { field: 't0', type: 'quantitative', title: 'input step t', scale: { nice: false, zero: true } },
        x2: { field: 't1' },
        y: {
          field: 'tau0',
          type: 'quantitative',
          title: 'output step τ',
          scale: { nice: false, zero: true, reverse: true },
        },
        y2: { field: 'tau1' },
        color: color('‖∂L_τ/∂x_t‖'),
        tooltip: [
          { field: 'tau0', title: 'output step τ' },
          { field: 't0', title: 'input step t' },
          { field: 'v', title: '‖∂L_τ/∂x_t‖', format: '.4~g' },
        ],
      },
    });
  }
  return vl({
    ...base(o, o.runs, { rows, conn }),
    title: { text: 'Where the gradient lands: step × unit', subtitle: { expr: 'labels[sel]' } },
    hconcat: views,
    resolve: { scale: { color: 'independent' } },
  });
}
