// Chart 11: the same quantities compared across runs (checkpoints, or the
// demo's models before and after training): ‖∂L/∂h_t‖ normalised to its peak
// against input position t (most recent on the right, as in every chart), and each run's horizon
// below it (stacked, so the chart fits a phone's width).

import {
  runLabel,
  stageLabel,
  base,
  zoom,
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
import { OKABE_ITO } from './palette.js';
import { spread } from './common.js';

const HEIGHT = 260;
/** A label's height as a fraction of the plot's. */
const LABEL = 14 / HEIGHT;

export function compareChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const rows: Record<string, unknown>[] = [];
  const horizons: Record<string, unknown>[] = [];
  const starts: { run: number; series: string; group: string; t: number; v: number }[] = [];
  const multiLayer = o.runs.some((a) => a.recurrent.length > 1);
  const groups = [...new Set(o.runs.map((a) => a.run.group ?? a.run.label))];
  const labels = [...new Set(o.runs.map(stageLabel))];
  o.runs.forEach((a, run) => {
    for (const r of a.recurrent) {
      const series = runLabel(a) + (multiLayer ? ` · ${r.id}` : '');
      const group = a.run.group ?? a.run.label;
      let peak = 0;
      for (const v of r.dh.norm) if (v !== null && Number.isFinite(v) && v > peak) peak = v;
      for (let t = 0; t < r.steps; t++) {
        const v = r.dh.norm[t];
        rows.push({
          run,
          series,
          group,
          label: stageLabel(a),
          t,
          v: peak > 0 && v !== null ? r4(v / peak) : null,
        });
      }
      const first = rows.find((x) => x.series === series && typeof x.v === 'number' && (x.v as number) > 0);
      if (first) starts.push({ run, series, group, t: first.t as number, v: first.v as number });
      horizons.push({
        run,
        series,
        group,
        label: stageLabel(a),
        steps: r.horizon.steps,
        of: r.steps,
        loss: r4(a.objective.value),
      });
    }
  });
  // Each line named at its left end (where the lines are furthest apart), spread so labels do not overprint: in
  // decades for the log axis and in the value for the linear one (the page draws both from the same data).
  const logs = starts.map((e) => Math.log10(e.v));
  const lo = Math.min(0, ...logs);
  // Each label hangs below its point (the lines rise to the right, so below is clear), kept inside the plot.
  const yLog = spread(logs, -lo * LABEL, lo - lo * LABEL, 0);
  const yLin = spread(
    starts.map((e) => e.v),
    LABEL,
    LABEL,
    1,
  );
  const ends = starts.map((e, i) => ({ ...e, yLog: r4(10 ** yLog[i]!), yLin: r4(yLin[i]!) }));
  const color = {
    field: 'group',
    type: 'nominal',
    title: null,
    scale: { domain: groups, range: groups.map((_, i) => OKABE_ITO[i % OKABE_ITO.length]) },
  };
  const dash = {
    field: 'label',
    type: 'nominal',
    title: null,
    scale: {
      domain: labels,
      range: [
        [1, 0],
        [5, 3],
        [2, 2],
        [8, 2, 2, 2],
      ],
    },
  };
  return vl({
    ...base(o, o.runs, { rows, horizons, ends }),
    title: { text: 'Compared across runs: how far back the gradient reaches' },
    columns: 1,
    concat: [
      {
        width: o.width,
        height: HEIGHT,
        layer: [
          {
            data: { name: 'rows' },
            transform: [valid('v', o.scale)],
            params: zoom(o),
            mark: { type: 'line', strokeWidth: 1.8 },
            encoding: {
              x: {
                field: 't',
                type: 'quantitative',
                title: 'input position t (most recent →)',
                scale: { nice: false },
              },
              y: {
                field: 'v',
                type: 'quantitative',
                scale: magnitudeScale(o.scale),
                axis: { format: magnitudeFormat(o.scale) },
                title: '‖∂L/∂h_t‖ / its peak',
              },
              color: { ...color, legend: null },
              strokeDash: { ...dash, legend: null },
              detail: { field: 'series' },
              tooltip: [
                { field: 'series', title: 'run' },
                { field: 't', title: 'step t' },
                { field: 'v', title: 'relative norm', format: '.4~g' },
              ],
            },
          },
          {
            data: { name: 'ends' },
            mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, dy: 3, fontSize: 11, fontWeight: 'bold' },
            encoding: {
              x: { field: 't', type: 'quantitative' },
              y: { field: o.scale === 'log' ? 'yLog' : 'yLin', type: 'quantitative' },
              text: { field: 'series' },
              color: { ...color, legend: null },
            },
          },
        ],
      },
      {
        data: { name: 'horizons' },
        width: Math.floor(o.width * 0.5),
        height: { step: 18 },
        title: { text: 'effective horizon (steps)', fontSize: 12, fontWeight: 'normal' },
        mark: { type: 'bar' },
        encoding: {
          y: { field: 'series', type: 'nominal', title: null, sort: null, axis: {} },
          x: { field: 'steps', type: 'quantitative', title: 'steps within 1/100 of the peak' },
          color: { ...color, legend: null },
          opacity: {
            field: 'label',
            type: 'ordinal',
            sort: labels,
            scale: { domain: labels, range: labels.map((_, i) => (i % 2 === 0 ? 0.55 : 1)) },
            legend: null,
          },
          tooltip: [
            { field: 'series', title: 'run' },
            { field: 'steps', title: 'horizon' },
            { field: 'of', title: 'of steps' },
            { field: 'loss', title: 'loss L', format: '.4~g' },
          ],
        },
      },
    ],
    // One column (the general concat: only it takes `align`), whose line chart is not pushed right to line up with
    // the bar labels below it.
    align: 'none',
    resolve: { scale: { color: 'shared' }, legend: { strokeDash: 'independent', opacity: 'independent' } },
  });
}
