// Chart 5: per parameter tensor, mean and max |g| with the 10–90% spread of |g|
// (the plot_grad_flow view, with the spread it lacks).

import type { Histogram, ParamStats } from '../../analysis/schema.js';
import {
  BY_RUN,
  COLORS,
  base,
  layerKey,
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

/** Quantile q of |g| over finite non-zero elements, from the log10 histogram (bin-midpoint resolution); null if empty.
 * */
export function histQuantile(h: Histogram, q: number): number | null {
  const inRange = h.counts.reduce((s, c) => s + c, 0);
  const n = inRange + h.underflow + h.overflow;
  if (n === 0) return null;
  let target = q * n - h.underflow;
  if (target <= 0) return 10 ** h.edges[0];
  for (let i = 0; i < h.counts.length; i++) {
    target -= h.counts[i];
    if (target <= 0) return 10 ** ((h.edges[i] + h.edges[i + 1]) / 2);
  }
  return 10 ** h.edges[h.edges.length - 1];
}

export function paramKeyOf(run: number, p: ParamStats): string {
  return layerKey(run, p.direction ? `${p.layer}/${p.direction}` : p.layer);
}

export function paramNormsChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const rows: Record<string, unknown>[] = [];
  let maxTensors = 0;
  o.runs.forEach((a, run) => {
    maxTensors = Math.max(maxTensors, a.params.length);
    a.params.forEach((p, i) =>
      rows.push({
        run,
        order: i,
        tensor: p.key,
        lkey: paramKeyOf(run, p),
        shape: `(${p.shape.join(', ')})`,
        mean: r4(p.meanAbsGrad),
        max: r4(p.maxAbsGrad),
        norm: r4(p.gradNorm),
        ratio: r4(p.ratio),
        p10: r4(histQuantile(p.histogram, 0.1)),
        p90: r4(histQuantile(p.histogram, 0.9)),
        nonFinite: p.nan + p.inf,
      }),
    );
  });
  const y = { field: 'tensor', type: 'nominal', sort: { field: 'order' }, title: null };
  const x = {
    type: 'quantitative',
    scale: magnitudeScale(o.scale),
    axis: { format: magnitudeFormat(o.scale) },
    title: '|gradient| per element',
  };
  const hi = { condition: { test: 'datum.lkey === sel', value: COLORS.highlight }, value: COLORS.muted };
  const tooltip = [
    { field: 'tensor' },
    { field: 'shape' },
    { field: 'mean', title: 'mean |g|', format: '.4~g' },
    { field: 'max', title: 'max |g|', format: '.4~g' },
    { field: 'p10', title: '10% of |g| below', format: '.1e' },
    { field: 'p90', title: '90% of |g| below', format: '.1e' },
    { field: 'norm', title: '‖g‖', format: '.4~g' },
    { field: 'ratio', title: '‖g‖/‖W‖', format: '.4~g' },
    { field: 'nonFinite', title: 'NaN/Inf' },
  ];
  return vl({
    ...base(o, o.runs, { rows }),
    title: {
      text: 'Gradient size per parameter tensor',
      subtitle: {
        expr: "runLabels[run] + ' — bar: 10–90% of elements, dot: mean |g|, tick: max |g|; selected layer in blue'",
      },
    },
    width: o.width - 200,
    height: { step: 20 },
    data: { name: 'rows' },
    transform: [BY_RUN],
    layer: [
      {
        transform: [valid('p10', o.scale), valid('p90', o.scale)],
        mark: { type: 'rule', strokeWidth: 6, opacity: 0.35, strokeCap: 'round' },
        encoding: { y, x: { ...x, field: 'p10' }, x2: { field: 'p90' }, color: hi },
      },
      {
        transform: [valid('mean', o.scale)],
        mark: { type: 'point', filled: true, size: 60 },
        encoding: { y, x: { ...x, field: 'mean' }, color: hi, tooltip },
      },
      {
        transform: [valid('max', o.scale)],
        mark: { type: 'tick', thickness: 2, color: COLORS.accent, size: 14 },
        encoding: { y, x: { ...x, field: 'max' }, tooltip },
      },
    ],
  });
}
