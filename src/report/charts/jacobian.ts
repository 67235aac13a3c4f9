// Chart 6: spectral norm of the step Jacobian per step (median and max over
// samples) with the line at 1, and its running product (log10) with the line at 0.

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

export function jacobianChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const rows: Record<string, unknown>[] = [];
  for (const { run, r, key } of eachLayer(o.runs)) {
    const j = r.jacobian;
    if (!j) continue;
    for (let t = 0; t < r.steps; t++) {
      rows.push({
        run,
        key,
        t,
        stat: 'median over samples',
        sigma: r4(j.median[t]),
        logprod: r4(j.log10ProductMedian[t]),
      });
      rows.push({ run, key, t, stat: 'max over samples', sigma: r4(j.max[t]), logprod: r4(j.log10ProductMax[t]) });
    }
  }
  const x = { field: 't', type: 'quantitative', title: 'step t (input position)', scale: { nice: false } };
  const color = {
    field: 'stat',
    type: 'nominal',
    title: null,
    scale: { domain: ['median over samples', 'max over samples'], range: [COLORS.h, COLORS.c] },
  };
  const h = 150;
  return vl({
    ...base(o, o.runs, { rows, one: [{ y: 1 }], zero: [{ y: 0 }] }),
    title: { text: 'Step Jacobian: how much one step scales the gradient', subtitle: { expr: 'labels[sel]' } },
    vconcat: [
      {
        width: o.width,
        height: h,
        layer: [
          {
            data: { name: 'one' },
            mark: { type: 'rule', color: COLORS.accent, strokeDash: [4, 3] },
            encoding: { y: { field: 'y', type: 'quantitative' } },
          },
          {
            data: { name: 'rows' },
            transform: [BY_LAYER, valid('sigma', o.scale)],
            params: zoom(o),
            mark: { type: 'line', strokeWidth: 1.6, point: { size: 12 } },
            encoding: {
              x,
              y: {
                field: 'sigma',
                type: 'quantitative',
                scale: magnitudeScale(o.scale),
                axis: { format: o.scale === 'log' ? '.2~g' : magnitudeFormat(o.scale) },
                title: 'σ_max(∂s_t/∂s_t−1)',
              },
              color,
              tooltip: [
                { field: 't', title: 'step' },
                { field: 'stat' },
                { field: 'sigma', title: 'σ_max', format: '.4~g' },
              ],
            },
          },
        ],
      },
      {
        width: o.width,
        height: h,
        layer: [
          {
            data: { name: 'zero' },
            mark: { type: 'rule', color: COLORS.accent, strokeDash: [4, 3] },
            encoding: { y: { field: 'y', type: 'quantitative' } },
          },
          {
            data: { name: 'rows' },
            transform: [BY_LAYER, { filter: 'isValid(datum.logprod)' }],
            mark: { type: 'line', strokeWidth: 1.6 },
            encoding: {
              x,
              y: { field: 'logprod', type: 'quantitative', title: 'log10 Π σ (steps after t)' },
              color,
              tooltip: [
                { field: 't', title: 'step' },
                { field: 'stat' },
                { field: 'logprod', title: 'log10 of product', format: '.3~g' },
              ],
            },
          },
        ],
      },
    ],
    resolve: { scale: { color: 'shared', x: 'shared' } },
  });
}
