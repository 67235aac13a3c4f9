// Chart 2: per-step contributions to the parameter gradient, small multiples:
// rows = gates, columns = kernel / recurrent kernel / bias. Panels that all follow one course (within a
// small part of the shared log axis at every step) are drawn overlaid in one panel, with a note saying so.

import type { RecurrentAnalysis } from '../../analysis/schema.js';

import {
  BY_LAYER,
  layerLabel,
  notedSubtitle,
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

export const GROUP_LABELS: Record<string, string> = {
  kernel: 'kernel (input)',
  recurrent_kernel: 'recurrent kernel',
  bias: 'bias',
};

/** Panels are drawn as one when at every step they lie within this fraction of the log axis of each other. */
export const SAME_COURSE = 0.1;

/**
 * Whether a layer's contribution panels follow one course: the largest spread between them at any step, as a factor
 * and as a fraction of the decades the shared log axis spans; null when they do not (or there is one panel).
 */
export function sameCourse(r: RecurrentAnalysis): { factor: number; fraction: number } | null {
  const cs = r.contributions;
  if (cs.length < 2) return null;
  let lo = Infinity;
  let hi = -Infinity;
  let widest = 0;
  for (let t = 0; t < r.steps; t++) {
    let a = Infinity;
    let b = -Infinity;
    for (const c of cs) {
      const v = c.norm[t];
      if (v === null || !Number.isFinite(v) || v <= 0) continue;
      const l = Math.log10(v);
      a = Math.min(a, l);
      b = Math.max(b, l);
    }
    if (a > b) continue;
    lo = Math.min(lo, a);
    hi = Math.max(hi, b);
    widest = Math.max(widest, b - a);
  }
  if (!(hi > lo)) return null;
  const fraction = widest / (hi - lo);
  return fraction <= SAME_COURSE ? { factor: 10 ** widest, fraction } : null;
}

export function contributionsChart(input: Input, opts: ChartOptions = {}): VegaLiteSpec {
  const o = resolve(input, opts);
  const rows: Record<string, unknown>[] = [];
  const notes: Record<string, string> = {};
  const labels: Record<string, string> = {};
  for (const { run, a, r, key } of eachLayer(o.runs)) {
    const same = sameCourse(r);
    labels[key] = layerLabel(a, r);
    if (same) {
      const f = same.factor < 10 ? same.factor.toPrecision(2) : String(Math.round(same.factor));
      notes[key] =
        `The ${r.contributions.length} panels (gate × weight group) lie within a factor of ${f} of each other at every step, ` +
        `${Math.max(1, Math.round(same.fraction * 100))} % of the log axis: drawn overlaid in one panel.`;
    }
    for (const c of r.contributions) {
      const gi = same ? 0 : r.gates.indexOf(c.gate);
      const group = same ? `all ${r.contributions.length} panels` : (GROUP_LABELS[c.group] ?? c.group);
      const gate = same ? 'all' : `gate ${c.gate}`;
      const block = `gate ${c.gate} · ${GROUP_LABELS[c.group] ?? c.group}`;
      for (let t = 0; t < r.steps; t++)
        rows.push({ run, key, gate, gi, group, block, t, v: r4(c.norm[t]), total: r4(c.total) });
    }
  }
  const sub = notedSubtitle(notes, (k) => labels[k], 'sel', 'labels[sel]');
  const b = base(o, o.runs, { rows });
  const cols = Math.max(1, ...eachLayer(o.runs).map(({ r }) => new Set(r.contributions.map((c) => c.group)).size));
  return vl({
    ...b,
    params: [...b.params, ...sub.params],
    title: { text: 'Per-step contributions to the gradient, by gate and weight group', subtitle: sub.subtitle },
    data: { name: 'rows' },
    transform: [BY_LAYER, valid('v', o.scale)],
    facet: {
      row: {
        field: 'gate',
        type: 'nominal',
        sort: { field: 'gi' },
        title: null,
        header: { labelAngle: 0, labelAlign: 'left', labelFontWeight: 'bold' },
      },
      column: { field: 'group', type: 'nominal', sort: Object.values(GROUP_LABELS), title: null },
    },
    spec: {
      width: Math.floor((o.width - 90) / cols),
      height: 70,
      params: zoom(o),
      mark: { type: 'line', color: COLORS.h, strokeWidth: 1.4 },
      encoding: {
        detail: { field: 'block' },
        x: { field: 't', type: 'quantitative', title: 'step t', scale: { nice: false } },
        y: {
          field: 'v',
          type: 'quantitative',
          scale: magnitudeScale(o.scale),
          axis: { format: magnitudeFormat(o.scale), tickCount: 3 },
          title: '‖contribution‖',
        },
        tooltip: [
          { field: 'block', title: 'panel' },
          { field: 't', title: 'step' },
          { field: 'v', title: '‖step contribution‖', format: '.4~g' },
          { field: 'total', title: '‖total block gradient‖', format: '.4~g' },
        ],
      },
    },
    resolve: { scale: { y: 'shared' } },
  });
}
