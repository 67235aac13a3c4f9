// Shared pieces of the chart definitions: options, the selection parameters
// the page drives, rounding, and the visual config.
//
// Every chart is a function (analysis | set, options) → Vega-Lite spec. Data go in
// top-level `datasets` (so the page can keep one copy for the log and linear
// variants) and every row carries `run` (run index) and, for per-layer charts,
// `key` = "<run>|<recurrent id>". The page switches layer and run by setting
// the signals `sel` and `run`; the static renderer uses their initial values.

import type { TopLevelSpec, Config } from 'vega-lite';
import { OKABE_ITO } from './palette.js';
import { runsOf, type Analysis, type AnalysisSet, type Num, type RecurrentAnalysis } from '../../analysis/schema.js';
import { POW10_LABEL } from '../tick-labels.js';
import { textWidth } from '../text-metrics.js';

export type VegaLiteSpec = TopLevelSpec;
export type Input = Analysis | AnalysisSet;

export interface ChartOptions {
  /** Magnitude axis: log (default) or linear. */
  scale?: 'log' | 'linear';
  /** Run index within a set (default 0). */
  run?: number;
  /** Recurrent id within the run ("lstm_1", "bidi/forward"); default its first. */
  layer?: string;
  /** Plot width in pixels (default 640). */
  width?: number;
  /** Zoom/pan selections (default true); false for static SVG/PNG, which has no pointer. */
  interactive?: boolean;
}

export interface Resolved {
  runs: Analysis[];
  scale: 'log' | 'linear';
  run: number;
  /** Selected layer key "<run>|<id>", or "" when the run has no recurrent layer. */
  sel: string;
  width: number;
  interactive: boolean;
}

export const SCHEMA_URL = 'https://vega.github.io/schema/vega-lite/v6.json';

export function layerKey(run: number, id: string): string {
  return `${run}|${id}`;
}

export function resolve(input: Input, o: ChartOptions = {}): Resolved {
  const runs = runsOf(input);
  const run = Math.min(Math.max(0, o.run ?? 0), runs.length - 1);
  const recs = runs[run].recurrent;
  const rec = (o.layer !== undefined ? recs.find((r) => r.id === o.layer) : undefined) ?? recs[0];
  return {
    runs,
    scale: o.scale ?? 'log',
    run,
    sel: rec ? layerKey(run, rec.id) : '',
    width: o.width ?? 640,
    interactive: o.interactive ?? true,
  };
}

/** Human label of a recurrent entry, for selectors and subtitles. */
export function layerLabel(a: Analysis, r: RecurrentAnalysis): string {
  const where = r.direction ? `${r.layer} · ${r.direction}` : r.layer;
  const prefix = a.run.group !== null || a.run.index > 0 ? `${runLabel(a)}: ` : '';
  return `${prefix}${where} (${r.kind}, ${r.units} units, ${r.steps} steps)`;
}

export function runLabel(a: Analysis): string {
  const { group, label } = a.run;
  return group !== null && !label.startsWith(group) ? `${group} — ${label}` : label;
}

/** The run's label without its group ("SimpleRNN · initial" in group SimpleRNN → "initial"): what differs within a
 * group. */
export function stageLabel(a: Analysis): string {
  const { group, label } = a.run;
  if (group === null || !label.startsWith(group)) return label;
  return label.slice(group.length).replace(/^[\s·:—–-]+/, '') || label;
}

/** 4 significant digits; null for missing or non-finite (golden tests stay stable across float noise). */
export function r4(x: Num | undefined): number | null {
  if (x === null || x === undefined || !Number.isFinite(x)) return null;
  const y = Number(x.toPrecision(4));
  return y === 0 ? 0 : y;
}

/** Every (run, recurrent entry) pair with its key. */
export function eachLayer(runs: Analysis[]): { run: number; a: Analysis; r: RecurrentAnalysis; key: string }[] {
  return runs.flatMap((a, run) => a.recurrent.map((r) => ({ run, a, r, key: layerKey(run, r.id) })));
}

/** The selection signals: the page sets them, static rendering uses these values. */
export function selectionParams(o: Resolved, runs: Analysis[]): { name: string; value: unknown }[] {
  const labels: Record<string, string> = {};
  for (const { a, r, key } of eachLayer(runs)) labels[key] = layerLabel(a, r);
  const runLabels = runs.map(runLabel);
  return [
    { name: 'sel', value: o.sel },
    { name: 'run', value: o.run },
    { name: 'labels', value: labels },
    { name: 'runLabels', value: runLabels },
  ];
}

/** Filter a per-layer chart to the selected layer. */
export const BY_LAYER = { filter: 'datum.key === sel' };
/** Filter a per-run chart to the selected run. */
export const BY_RUN = { filter: 'datum.run === run' };

/** Keep only values the magnitude scale can draw (positive on a log scale). */
export function valid(field: string, scale: 'log' | 'linear'): { filter: string } {
  return {
    filter: scale === 'log' ? `isValid(datum['${field}']) && datum['${field}'] > 0` : `isValid(datum['${field}'])`,
  };
}

export function magnitudeScale(scale: 'log' | 'linear'): { type: 'log' | 'linear'; zero?: boolean } {
  return scale === 'log' ? { type: 'log' } : { type: 'linear', zero: true };
}

/** Axis number format for magnitudes. */
export function magnitudeFormat(scale: 'log' | 'linear'): string {
  return scale === 'log' ? '.0e' : '.2~g';
}

/** Horizontal zoom (Shift + wheel) and pan (drag; double-click resets), as the `params` of one unit view. A plain
 * wheel is not consumed, so it scrolls the page. */
export function zoom(o: Resolved): unknown[] {
  return o.interactive
    ? [{ name: 'zoom', select: { type: 'interval', encodings: ['x'], zoom: 'wheel![event.shiftKey]' }, bind: 'scales' }]
    : [];
}

/** The specs are built as plain objects (Vega-Lite's union types cost more than they check); tests compile every one.
 * */
export function vl(spec: object): VegaLiteSpec {
  return spec as VegaLiteSpec;
}

/** The step under the pointer in any step chart (the page sets it on every chart at once); null: none. */
export const HOVER_PARAM = { name: 'hoverT', value: null };

/** The width of a step-chart's invisible hover target: one step at any zoom (at least 4 px), so a pointer anywhere over
 * the plot is over the nearest step's target (a line's own tooltip fires only on its stroke). */
export const STEP_TARGET_WIDTH = { expr: "max(4, width / max(1, span(domain('x'))))" };

/** A thin rule at the hovered step, over the rows of the selected layer. */
export function hoverRule(x: object, data = 'rows'): object {
  return {
    data: { name: data },
    transform: [BY_LAYER, { filter: 'hoverT !== null && datum.t === hoverT' }],
    mark: { type: 'rule', color: '#666666', strokeWidth: 1 },
    encoding: { x },
  };
}

// Okabe & Ito's colour-blind-safe colours (palette.ts); the accent (horizon, the line at 1) is near-black.
export const COLORS = {
  h: OKABE_ITO[0],
  c: OKABE_ITO[4],
  x: OKABE_ITO[2],
  accent: '#333333',
  muted: '#8a8a8a',
  highlight: OKABE_ITO[0],
  /** Divergence, a diverged checkpoint: Okabe–Ito's vermillion, told apart from blue and orange by any reader. */
  alert: OKABE_ITO[1],
};

export const GATE_COLORS = [OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[2], OKABE_ITO[3]];

// DejaVu Sans first: it is what resvg finds on Debian, and the browser then matches the PNG.
export const CONFIG: Config = {
  font: 'DejaVu Sans, Verdana, Helvetica, Arial, sans-serif',
  background: 'white',
  padding: 8,
  view: { stroke: '#cfcfcf' },
  // Exponent-notation labels (the magnitude axes' '.0e') written as powers of ten: 10⁻¹⁴ (tick-labels.ts).
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 'normal',
    gridColor: '#ececec',
    labelOverlap: true,
    labelExpr: POW10_LABEL,
    // Long tensor names whole on a laptop; the page shortens them on a phone (page-script.ts fitWidth).
    labelLimit: 340,
  },
  legend: {
    labelFontSize: 11,
    titleFontSize: 11,
    titleFontWeight: 'normal',
    orient: 'bottom',
    direction: 'horizontal',
    labelLimit: 320,
  },
  title: { fontSize: 14, anchor: 'start', subtitleFontSize: 11, subtitleColor: '#555', offset: 8 },
  header: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' },
};

export function base(
  o: Resolved,
  runs: Analysis[],
  datasets: Record<string, unknown[]>,
): {
  $schema: string;
  config: Config;
  datasets: Record<string, unknown[]>;
  params: { name: string; value: unknown }[];
} {
  return {
    $schema: SCHEMA_URL,
    config: CONFIG,
    datasets: datasets as Record<string, never[]>,
    params: selectionParams(o, runs),
  };
}

/** Lines of at most `px` pixels at 11 px (a subtitle's size), so a note under a title fits a phone's column. */
export function wrapLines(text: string, px = 300): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const next = line === '' ? word : `${line} ${word}`;
    if (line !== '' && textWidth(next, 11, false) > px) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/**
 * A subtitle with a note under it for some layers or runs (`notes`: key → one sentence, e.g. which panels were left
 * out and why), wrapped into short lines: `first(key)` is the first line, `signal` the selection it follows ('sel' or
 * 'run'), `fallback` the subtitle expression of the others. Returns the title's subtitle and the param it reads.
 */
export function notedSubtitle(
  notes: Record<string, string>,
  first: (key: string) => string,
  signal: 'sel' | 'run',
  fallback: string,
): { subtitle: object; params: object[] } {
  const subs = Object.fromEntries(Object.entries(notes).map(([k, v]) => [k, [first(k), ...wrapLines(v)]]));
  return { subtitle: { expr: `subs[${signal}] || ${fallback}` }, params: [{ name: 'subs', value: subs }] };
}

/** Spread label positions so neighbours are at least `gap` apart, within [lo, hi] (as far as they fit). */
export function spread(ys: number[], gap: number, lo: number, hi: number): number[] {
  const order = ys.map((y, i) => [y, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(ys.length);
  let prev = lo - gap;
  for (const [y, i] of order) {
    prev = Math.max(y, prev + gap);
    out[i] = prev;
  }
  const over = prev - hi;
  if (over > 0) for (let i = 0; i < out.length; i++) out[i] = Math.max(lo, out[i] - over);
  return out;
}
