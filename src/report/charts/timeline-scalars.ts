// Timeline view 2: per checkpoint, the horizon of every recurrent layer, the loss on the fixed
// data and the global gradient norm; diverged checkpoints (NaN/Inf weights) are marked in red.

import {
  COLORS,
  GATE_COLORS,
  base,
  r4,
  resolve,
  type ChartOptions,
  type Input,
  type VegaLiteSpec,
  vl,
} from './common.js';
import { checkpointAxis, pointFields, timelineOf } from './timeline-common.js';

export function timelineScalarsChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const t = timelineOf(input);
  const horizons: Record<string, unknown>[] = [];
  const points: Record<string, unknown>[] = [];
  const diverged: Record<string, unknown>[] = [];
  const axis = checkpointAxis(t ?? ({ points: [] } as never));
  if (t) {
    for (const p of t.points) {
      const f = pointFields(t, p);
      if (f.diverged) diverged.push(f);
      points.push({ ...f, loss: r4(p.loss), norm: r4(p.gradNorm) });
      t.layers.forEach((l, li) => {
        const h = p.layers[li]?.horizon.steps ?? null;
        if (h !== null && !f.diverged) horizons.push({ ...f, layer: l.id, steps: h, of: l.steps });
      });
    }
  }
  const x = {
    field: 'x',
    type: 'quantitative',
    title: axis.title,
    scale: { nice: false, zero: false },
    axis: { tickMinStep: 1, format: 'd' },
  };
  const w = o.width;
  const redRule = {
    data: { name: 'diverged' },
    mark: { type: 'rule', color: COLORS.alert, strokeDash: [4, 3] },
    encoding: {
      x,
      tooltip: [
        { field: 'when', title: 'diverged (NaN/Inf weights)' },
        { field: 'ckpt', title: 'file' },
      ],
    },
  };
  const tip = [
    { field: 'when', title: 'checkpoint' },
    { field: 'ckpt', title: 'file' },
    { field: 'loss', title: 'loss', format: '.4~g' },
    { field: 'norm', title: 'global ‖∇L‖', format: '.3~e' },
  ];
  const positive = (f: string) => ({ filter: `isValid(datum.${f}) && datum.${f} > 0` });
  return vl({
    ...base(o, o.runs, { horizons, points, diverged }),
    title: {
      text: 'Horizon, loss and gradient norm per checkpoint',
      subtitle: 'On the same fixed data at every checkpoint. Red dashes: diverged checkpoints (NaN/Inf weights).',
    },
    vconcat: [
      {
        width: w,
        height: 130,
        layer: [
          {
            data: { name: 'horizons' },
            mark: { type: 'line', point: true, strokeWidth: 1.8 },
            encoding: {
              x,
              y: { field: 'steps', type: 'quantitative', title: 'horizon (steps)', scale: { zero: true } },
              color: {
                field: 'layer',
                type: 'nominal',
                title: null,
                scale: { range: GATE_COLORS },
                legend: { orient: 'top' },
              },
              tooltip: [
                { field: 'when', title: 'checkpoint' },
                { field: 'layer' },
                { field: 'steps', title: 'horizon' },
                { field: 'of', title: 'of steps' },
              ],
            },
          },
          redRule,
        ],
      },
      {
        width: w,
        height: 110,
        layer: [
          {
            data: { name: 'points' },
            transform: [positive('loss')],
            mark: { type: 'line', point: true, color: '#444', strokeWidth: 1.6 },
            encoding: {
              x,
              y: {
                field: 'loss',
                type: 'quantitative',
                title: 'loss L',
                scale: { type: 'log' },
                axis: { format: '.2~g' },
              },
              tooltip: tip,
            },
          },
          redRule,
        ],
      },
      {
        width: w,
        height: 110,
        layer: [
          {
            data: { name: 'points' },
            transform: [positive('norm')],
            mark: { type: 'line', point: true, color: COLORS.alert, strokeWidth: 1.6 },
            encoding: {
              x,
              y: {
                field: 'norm',
                type: 'quantitative',
                title: 'global ‖∇L‖',
                scale: { type: 'log' },
                axis: { format: '.0e' },
              },
              tooltip: tip,
            },
          },
          redRule,
        ],
      },
    ],
    resolve: { scale: { x: 'shared' } },
  });
}
