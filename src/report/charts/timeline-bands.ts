// Timeline view 5: the distribution of gradient values per tensor over checkpoints, as nested
// percentile bands of log10|g| (1–99 %, 2.3–97.7 %, 16–84 %, 31–69 %) and the median. The
// percentiles are read from each tensor's fixed-bin histogram (0.5 decade bins, linear inside).

import { COLORS, base, resolve, type ChartOptions, type Input, type VegaLiteSpec, vl } from './common.js';
import { checkpointAxis, pointFields, timelineOf } from './timeline-common.js';

/** Pairs of indices into BAND_PERCENTILES, outermost first, with their opacity. */
const BANDS: [number, number, number][] = [
  [0, 8, 0.18],
  [1, 7, 0.28],
  [2, 6, 0.42],
  [3, 5, 0.6],
];

export function timelineBandsChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const t = timelineOf(input);
  const rows: Record<string, unknown>[] = [];
  const axis = checkpointAxis(t ?? ({ points: [] } as never));
  const tensors = (t?.tensors ?? []).filter((x) => x.trainable);
  if (t) {
    for (const p of t.points) {
      const f = pointFields(t, p);
      for (const b of p.bands) {
        if (!tensors.some((x) => x.key === b.key) || b.values.some((v) => v === null)) continue;
        const v = b.values as number[];
        rows.push({ ...f, key: b.key, ...Object.fromEntries(v.map((x, i) => [`q${i}`, x])), floor: b.floorFraction });
      }
    }
  }
  const x = {
    field: 'x',
    type: 'quantitative',
    title: axis.title,
    scale: { nice: false, zero: false },
    axis: { tickMinStep: 1, format: 'd' },
  };
  const y = { type: 'quantitative', title: 'log10 |gradient|', scale: { zero: false } };
  const tooltip = [
    { field: 'when', title: 'checkpoint' },
    { field: 'key', title: 'tensor' },
    { field: 'q0', title: '1 %', format: '.2f' },
    { field: 'q4', title: 'median', format: '.2f' },
    { field: 'q8', title: '99 %', format: '.2f' },
    { field: 'floor', title: '≤ 1e-16', format: '.1%' },
  ];
  return vl({
    ...base(o, o.runs, { rows }),
    title: {
      text: 'Gradient distribution per tensor over training',
      subtitle: "Bands: 1–99 %, 2.3–97.7 %, 16–84 %, 31–69 % of the elements' log10 |gradient|; line: the median.",
    },
    data: { name: 'rows' },
    facet: {
      field: 'key',
      type: 'nominal',
      title: null,
      sort: tensors.map((x) => x.key),
      header: { labelFontSize: 11 },
    },
    columns: 3,
    spec: {
      width: Math.floor((o.width - 60) / 3),
      height: 110,
      layer: [
        ...BANDS.map(([lo, hi, op]) => ({
          mark: { type: 'area', color: COLORS.h, opacity: op },
          encoding: { x, y: { field: `q${lo}`, ...y }, y2: { field: `q${hi}` }, tooltip },
        })),
        {
          mark: { type: 'line', color: '#0b2e4f', strokeWidth: 1.4 },
          encoding: { x, y: { field: 'q4', ...y }, tooltip },
        },
      ],
    },
    resolve: { scale: { y: 'independent' }, axis: { x: 'independent' } },
  });
}
