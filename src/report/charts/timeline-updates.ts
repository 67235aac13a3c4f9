// Timeline view 4: the update ratio ‖W_k − W_k−1‖ / ‖W_k−1‖ between consecutive checkpoints, per
// gate × (kernel, recurrent kernel, bias) of the selected layer; the interval is in the subtitle.

import { GATE_COLORS, base, r4, resolve, type ChartOptions, type Input, type VegaLiteSpec, vl } from './common.js';
import {
  BY_TIMELINE_LAYER,
  SEL_ID,
  checkpointAxis,
  gateDomain,
  intervalText,
  layerLabels,
  pointFields,
  timelineOf,
} from './timeline-common.js';
import { describeCheckpoint } from '../../analysis/checkpoint-names.js';

const GROUPS = ['kernel', 'recurrent_kernel', 'bias'];

export function timelineUpdatesChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const t = timelineOf(input);
  const rows: Record<string, unknown>[] = [];
  const axis = checkpointAxis(t ?? ({ points: [] } as never));
  if (t) {
    const idOf = new Map(t.tensors.map((x) => [x.key, x.direction ? `${x.layer}/${x.direction}` : x.layer]));
    for (const p of t.points) {
      if (p.updates.from === null) continue;
      const f = pointFields(t, p),
        prev = t.points[p.updates.from]!;
      for (const u of p.updates.ratios) {
        if (u.gate === null || u.group === null) continue;
        rows.push({
          id: idOf.get(u.key),
          ...f,
          since: describeCheckpoint(prev),
          gate: u.gate,
          group: u.group,
          gi: GROUPS.indexOf(u.group),
          ratio: r4(u.ratio),
        });
      }
    }
  }
  const subtitle = t ? intervalText(t) : '';
  return vl({
    ...base(o, o.runs, { rows }),
    params: [...base(o, o.runs, {}).params, { name: 'layerLabels', value: t ? layerLabels(t) : {} }],
    title: {
      text: 'How much each weight block moved: ‖W_k − W_k−1‖ / ‖W_k−1‖',
      subtitle: { expr: `[layerLabels[${SEL_ID}] || '', ${JSON.stringify(`Measured ${subtitle}.`)}]` },
    },
    data: { name: 'rows' },
    transform: [BY_TIMELINE_LAYER, { filter: 'isValid(datum.ratio) && datum.ratio > 0' }],
    facet: { column: { field: 'group', type: 'nominal', title: null, sort: GROUPS, header: { labelFontSize: 12 } } },
    spec: {
      width: Math.floor((o.width - 40) / 3),
      height: 180,
      mark: { type: 'line', point: true, strokeWidth: 1.6 },
      encoding: {
        x: {
          field: 'x',
          type: 'quantitative',
          title: axis.title,
          scale: { nice: false, zero: false },
          axis: { tickMinStep: 1, format: 'd' },
        },
        y: {
          field: 'ratio',
          type: 'quantitative',
          title: 'relative change',
          scale: { type: 'log' },
          axis: { format: '.0e' },
        },
        color: { field: 'gate', type: 'nominal', title: 'gate', scale: { domain: gateDomain(t), range: GATE_COLORS } },
        tooltip: [
          { field: 'when', title: 'checkpoint' },
          { field: 'since', title: 'since' },
          { field: 'gate' },
          { field: 'group' },
          { field: 'ratio', title: 'relative change', format: '.3~e' },
        ],
      },
    },
    resolve: { scale: { y: 'shared' } },
  });
}
