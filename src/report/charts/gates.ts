// Chart 7: gate activations per step (mean over samples × units) and the fraction saturated, each
// line labelled at its last step (no legend). A SimpleRNN has no gates: the chart is left out for it.
// A layer whose gates are never saturated gets one line saying so instead of flat lines at 0 %.

import type { Analysis, RecurrentAnalysis } from '../../analysis/schema.js';
import {
  BY_LAYER,
  STEP_TARGET_WIDTH,
  GATE_COLORS,
  zoom,
  base,
  eachLayer,
  r4,
  resolve,
  spread,
  type ChartOptions,
  type Input,
  type VegaLiteSpec,
  vl,
} from './common.js';

const MEAN_H = 140;
const SAT_H = 120;
/** Vertical room of one label, as a fraction of a panel's height. */
const LABEL_PX = 13;
/** Room right of the plots for the line labels. */
const LABELS_W = 130;

/** Nothing to show for a cell without gates (SimpleRNN: its one activation is the new state itself). */
export function gatesEmpty(_a: Analysis, r: RecurrentAnalysis | null): string | null {
  if (r === null || r.gates.length >= 2) return null;
  return `a ${r.kind} has no gates (its state is the activation of one sum), so there are no gate activations to show.`;
}

const finite = (xs: (number | null)[]) => xs.filter((v): v is number => v !== null && Number.isFinite(v));

export function gatesChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const rows: Record<string, unknown>[] = [];
  const ends: Record<string, unknown>[] = [];
  const never: Record<string, unknown>[] = [];
  for (const { run, a, r, key } of eachLayer(o.runs)) {
    if (gatesEmpty(a, r) !== null) continue;
    const stats = r.gateStats.map((g) => ({
      g,
      gi: r.gates.indexOf(g.gate),
      gate: `${g.gate} (${g.activation})`,
      mean: g.mean.map(r4),
      sat: g.saturated.map(r4),
    }));
    const noSat = stats.every((s) => finite(s.sat).every((v) => v === 0));
    for (const s of stats)
      for (let t = 0; t < r.steps; t++)
        rows.push({ run, key, gate: s.gate, gi: s.gi, t, mean: s.mean[t], sat: noSat ? null : s.sat[t] });
    if (noSat)
      never.push({ run, key, text: 'No unit of any gate is saturated at any step (the fraction is 0 % throughout).' });
    // Direct labels at each line's last step, spread so they do not overprint (in data units of each panel).
    const last = (xs: (number | null)[]) => {
      for (let t = xs.length - 1; t >= 0; t--) if (xs[t] !== null) return { t, v: xs[t] as number };
      return null;
    };
    const means = finite(stats.flatMap((s) => s.mean));
    const lo = Math.min(...means);
    const hi = Math.max(...means);
    const m = stats.map((s) => last(s.mean));
    const my = spread(
      m.map((e) => e?.v ?? lo),
      ((hi - lo) * LABEL_PX) / MEAN_H,
      lo,
      hi,
    );
    const sv = stats.map((s) => last(s.sat));
    const sy = spread(
      sv.map((e) => e?.v ?? 0),
      LABEL_PX / SAT_H,
      0,
      1,
    );
    stats.forEach((s, i) => {
      if (m[i]) ends.push({ run, key, gate: s.gate, gi: s.gi, panel: 'mean', t: m[i]!.t, y: r4(my[i]) });
      if (sv[i] && !noSat) ends.push({ run, key, gate: s.gate, gi: s.gi, panel: 'sat', t: sv[i]!.t, y: r4(sy[i]) });
    });
  }
  const x = { field: 't', type: 'quantitative', title: 'step t (input position)', scale: { nice: false } };
  const gates = [...new Set(rows.map((row) => row.gate as string))];
  const color = {
    field: 'gate',
    type: 'nominal',
    legend: null,
    scale: { domain: gates, range: gates.map((g) => GATE_COLORS[gateIndex(g, o.runs)] ?? GATE_COLORS[0]) },
  };
  const tooltip = [
    { field: 'gate' },
    { field: 't', title: 'step' },
    { field: 'mean', title: 'mean activation', format: '.3f' },
    { field: 'sat', title: 'fraction saturated', format: '.1%' },
  ];
  // Nearest step: an invisible rule per step whose tooltip lists every gate (mean, and the fraction saturated).
  const target = {
    data: { name: 'rows' },
    transform: [
      BY_LAYER,
      {
        calculate:
          "format(datum.mean, '.3f') + (isValid(datum.sat) ? ' (' + format(datum.sat, '.0%') + ' saturated)' : '')",
        as: 'text',
      },
      // Pivoted on the gate's place in the chart's list of gates, not its name: a name from the file is no safe
      // field name (Vega reads '.', '[' and quotes in one as a path).
      { calculate: "'g' + indexof(gateNames, datum.gate)", as: 'gk' },
      { pivot: 'gk', value: 'text', groupby: ['t'], op: 'max' },
    ],
    mark: { type: 'rule', strokeWidth: STEP_TARGET_WIDTH, opacity: 0 },
    encoding: {
      x,
      tooltip: [{ field: 't', title: 'step' }, ...gates.map((g, i) => ({ field: `g${i}`, title: `gate ${g}` }))],
    },
  };
  const label = (panel: string) => ({
    data: { name: 'ends' },
    transform: [BY_LAYER, { filter: `datum.panel === '${panel}'` }],
    mark: { type: 'text', align: 'left', dx: 6, baseline: 'middle', fontSize: 11, fontWeight: 'bold', clip: false },
    encoding: { x, y: { field: 'y', type: 'quantitative' }, color, text: { field: 'gate' } },
  });
  const b = base(o, o.runs, { rows, ends, never });
  return vl({
    ...b,
    params: [...b.params, { name: 'gateNames', value: gates }],
    title: { text: 'Gate activations and saturation', subtitle: { expr: 'labels[sel]' } },
    vconcat: [
      {
        width: o.width - LABELS_W,
        height: MEAN_H,
        layer: [
          {
            data: { name: 'rows' },
            transform: [BY_LAYER, { filter: 'isValid(datum.mean)' }],
            params: zoom(o),
            mark: { type: 'line', strokeWidth: 1.6 },
            encoding: {
              x,
              y: { field: 'mean', type: 'quantitative', title: 'mean activation', scale: { zero: false } },
              color,
              tooltip,
            },
          },
          label('mean'),
          ...(o.interactive ? [target] : []),
        ],
      },
      {
        width: o.width - LABELS_W,
        height: SAT_H,
        layer: [
          {
            data: { name: 'rows' },
            transform: [BY_LAYER, { filter: 'isValid(datum.sat)' }],
            mark: { type: 'line', strokeWidth: 1.6 },
            encoding: {
              x,
              y: {
                field: 'sat',
                type: 'quantitative',
                title: 'fraction saturated',
                scale: { domain: [0, 1] },
                axis: { format: '.0%' },
              },
              color,
              tooltip,
            },
          },
          label('sat'),
          {
            data: { name: 'never' },
            transform: [BY_LAYER],
            mark: { type: 'text', align: 'left', baseline: 'middle', fontSize: 12, color: '#444', x: 8, y: SAT_H / 2 },
            encoding: { text: { field: 'text' } },
          },
          ...(o.interactive ? [target] : []),
        ],
      },
    ],
    resolve: { scale: { x: 'shared' } },
  });
}

/** A gate's colour: by its position in its cell's gate list (i f c o, z r h), the same in every layer. */
function gateIndex(label: string, runs: Analysis[]): number {
  const gate = label.split(' ')[0];
  for (const a of runs) for (const r of a.recurrent) if (r.gates.includes(gate)) return r.gates.indexOf(gate);
  return 0;
}
