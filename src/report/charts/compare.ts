// Chart 11: the same quantities compared across runs (checkpoints, or the
// demo's models before and after training): ‖∂L/∂h_t‖ normalised to its peak
// against steps back from the last loss-carrying step, and each run's horizon.

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

export function compareChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const rows: Record<string, unknown>[] = [];
  const horizons: Record<string, unknown>[] = [];
  const multiLayer = o.runs.some((a) => a.recurrent.length > 1);
  const groups = [...new Set(o.runs.map((a) => a.run.group ?? a.run.label))];
  const labels = [...new Set(o.runs.map(stageLabel))];
  o.runs.forEach((a, run) => {
    for (const r of a.recurrent) {
      const series = runLabel(a) + (multiLayer ? ` · ${r.id}` : '');
      const group = a.run.group ?? a.run.label;
      let peak = 0;
      for (const v of r.dh.norm) if (v !== null && Number.isFinite(v) && v > peak) peak = v;
      const from = r.horizon.from ?? (r.goBackwards ? 0 : r.steps - 1);
      for (let t = 0; t < r.steps; t++) {
        const v = r.dh.norm[t];
        rows.push({
          run,
          series,
          group,
          label: stageLabel(a),
          back: Math.abs(from - t),
          t,
          v: peak > 0 && v !== null ? r4(v / peak) : null,
        });
      }
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
  const color = { field: 'group', type: 'nominal', title: null, scale: { domain: groups, scheme: 'tableau10' } };
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
    ...base(o, o.runs, { rows, horizons }),
    title: { text: 'Compared across runs: how far back the gradient reaches' },
    hconcat: [
      {
        data: { name: 'rows' },
        transform: [valid('v', o.scale)],
        width: Math.floor(o.width * 0.62),
        height: 260,
        params: zoom(o),
        mark: { type: 'line', strokeWidth: 1.8 },
        encoding: {
          x: {
            field: 'back',
            type: 'quantitative',
            title: 'steps back from the last loss-carrying step',
            scale: { nice: false },
          },
          y: {
            field: 'v',
            type: 'quantitative',
            scale: magnitudeScale(o.scale),
            axis: { format: magnitudeFormat(o.scale) },
            title: '‖∂L/∂h_t‖ / its peak',
          },
          color,
          strokeDash: dash,
          detail: { field: 'series' },
          tooltip: [
            { field: 'series', title: 'run' },
            { field: 'back', title: 'steps back' },
            { field: 't', title: 'step t' },
            { field: 'v', title: 'relative norm', format: '.4~g' },
          ],
        },
      },
      {
        data: { name: 'horizons' },
        width: Math.floor(o.width * 0.3),
        height: { step: 18 },
        title: { text: 'effective horizon (steps)', fontSize: 12, fontWeight: 'normal' },
        mark: { type: 'bar' },
        encoding: {
          y: { field: 'series', type: 'nominal', title: null, sort: null, axis: { labelLimit: 200 } },
          x: { field: 'steps', type: 'quantitative', title: 'steps within 1/100 of the peak' },
          color,
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
    resolve: { scale: { color: 'shared' }, legend: { strokeDash: 'independent', opacity: 'independent' } },
  });
}
