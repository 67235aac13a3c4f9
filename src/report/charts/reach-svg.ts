// The first screen's figure, drawn here as inline SVG so it shows before any script runs: for every
// recurrent layer or direction of one run, ‖∂L/∂h_t‖ relative to its peak (log axis) against input
// position (most recent on the right), the 1 % line, and where each line last crosses it (the horizon),
// labelled directly in the line's colour.
//
// Two layouts of the same figure: a wide one, and a narrow one drawn at about its own size on a phone
// (CSS shows one), so that its text is as large there as on a laptop. Labels are placed by their
// measured widths (text-metrics.ts) where they overlap no other label and as few line points as possible.

import type { Analysis, RecurrentAnalysis } from '../../analysis/schema.js';
import { esc } from '../escape.js';
import { human, pow10 } from '../human.js';
import { textWidth } from '../text-metrics.js';
import { OKABE_ITO } from './palette.js';
import { spread } from './common.js';

interface Layout {
  cls: 'wide' | 'narrow';
  W: number;
  H: number;
  M: { l: number; r: number; t: number; b: number };
  /** Font sizes in the SVG's units: tick labels, axis titles, the 1 % note, line and horizon labels. */
  f: { tick: number; axis: number; note: number; label: number };
}

const WIDE: Layout = {
  cls: 'wide',
  W: 560,
  H: 250,
  M: { l: 66, r: 124, t: 14, b: 40 },
  f: { tick: 11, axis: 12, note: 11, label: 12 },
};
// Drawn about 1:1 in a 390 px screen's column (348 px), so 13 units are 13 px.
const NARROW: Layout = {
  cls: 'narrow',
  W: 340,
  H: 250,
  M: { l: 62, r: 104, t: 14, b: 42 },
  f: { tick: 12.5, axis: 13, note: 12.5, label: 13 },
};

/** Short line label: the layer, with an arrow for a direction. */
export function shortName(r: RecurrentAnalysis, max = 15): string {
  const name = r.layer.length > max ? `${r.layer.slice(0, max - 1)}…` : r.layer;
  return r.direction === 'forward' ? `${name} →` : r.direction === 'backward' ? `${name} ←` : name;
}

/** Relative norms (value / peak) per step; null where missing, zero or not finite. */
function relative(r: RecurrentAnalysis): (number | null)[] {
  const v = r.dh.norm.map((x) => (typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : null));
  const peak = Math.max(0, ...v.filter((x): x is number => x !== null));
  return v.map((x) => (x === null || peak === 0 ? null : x / peak));
}

/** Decades shown below the peak: enough for the data, at least 3 (past the 1 % line), at most 12. */
function decades(rels: (number | null)[][]): number {
  let lo = 1;
  for (const s of rels) for (const x of s) if (x !== null && x < lo) lo = x;
  return Math.min(12, Math.max(3, Math.ceil(-Math.log10(lo) - 1e-9)));
}

function niceSteps(n: number, ticks: number): number[] {
  const last = n - 1;
  if (last <= 0) return [0];
  const raw = last / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = 0; t <= last; t += step) out.push(t);
  if (last - out[out.length - 1] > step / 2) out.push(last);
  return out;
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const overlaps = (a: Box, b: Box) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

/** The box of a text at (x, y) (baseline) with the given anchor; a 2-unit margin keeps neighbours apart. */
function boxOf(text: string, size: number, bold: boolean, x: number, y: number, anchor: 'start' | 'end'): Box {
  const w = textWidth(text, size, bold);
  const x0 = anchor === 'start' ? x : x - w;
  return { x0: x0 - 2, y0: y - size * 0.8 - 1, x1: x0 + w + 2, y1: y + size * 0.25 + 1 };
}

interface Candidate {
  x: number;
  y: number;
  anchor: 'start' | 'end';
}

/** The candidate overlapping no placed label and inside `area`, over the fewest line points and nearest `near`. */
function place(
  text: string,
  size: number,
  bold: boolean,
  candidates: Candidate[],
  placed: Box[],
  points: [number, number][],
  area: Box,
  near: [number, number],
): { c: Candidate; box: Box } {
  let best: { c: Candidate; box: Box; cost: number } | null = null;
  candidates.forEach((c, k) => {
    const box = boxOf(text, size, bold, c.x, c.y, c.anchor);
    const out = box.x0 < area.x0 || box.x1 > area.x1 || box.y0 < area.y0 || box.y1 > area.y1;
    const hits = placed.filter((p) => overlaps(p, box)).length;
    const crossed = points.filter(([px, py]) => px >= box.x0 && px <= box.x1 && py >= box.y0 && py <= box.y1).length;
    // A label over another label or outside the figure is worst; then one over a line; then one far from its mark.
    const dx = Math.max(0, box.x0 - near[0], near[0] - box.x1);
    const dy = Math.max(0, box.y0 - near[1], near[1] - box.y1);
    const cost = (out ? 1e6 : 0) + hits * 1e4 + crossed * 10 + Math.hypot(dx, dy) / 2 + k * 1e-3;
    if (!best || cost < best.cost) best = { c, box, cost };
  });
  const b = best as unknown as { c: Candidate; box: Box };
  placed.push(b.box);
  return b;
}

export interface ReachFigure {
  svg: string;
  /** One line per layer: colour, label and horizon, for the text beside the figure. */
  lines: { id: string; color: string; label: string; horizon: number | null; steps: number }[];
}

function draw(a: Analysis, title: string, L: Layout, rels: (number | null)[][]): string {
  const { W, H, M, f } = L;
  const PW = W - M.l - M.r;
  const PH = H - M.t - M.b;
  const recs = a.recurrent;
  const D = decades(rels);
  const T = Math.max(...recs.map((r) => r.steps));
  const x = (t: number) => M.l + (T <= 1 ? PW / 2 : (t / (T - 1)) * PW);
  const y = (rel: number) => M.t + (Math.min(D, Math.max(0, -Math.log10(rel))) / D) * PH;
  const parts: string[] = [];
  const text = (s: string, tx: number, ty: number, size: number, attrs: string) =>
    `<text x="${tx.toFixed(1)}" y="${ty.toFixed(1)}" font-size="${size}" ${attrs}>${esc(s)}</text>`;
  // Grid and y ticks (every decade, or every second one when there are many).
  const every = D > 6 ? 2 : 1;
  for (let d = 0; d <= D; d += every) {
    const yy = y(10 ** -d);
    parts.push(`<line x1="${M.l}" x2="${M.l + PW}" y1="${yy}" y2="${yy}" stroke="#ececec"/>`);
    const lab = d === 0 ? 'peak' : `${d === D ? '≤' : ''}${pow10(-d)}`;
    parts.push(text(lab, M.l - 6, yy + 4, f.tick, 'text-anchor="end" class="tick"'));
  }
  for (const t of niceSteps(T, L.cls === 'wide' ? 5 : 4)) {
    const xx = x(t);
    parts.push(`<line x1="${xx}" x2="${xx}" y1="${M.t + PH}" y2="${M.t + PH + 4}" stroke="#888"/>`);
    parts.push(text(String(t), xx, M.t + PH + 4 + f.tick, f.tick, 'text-anchor="middle" class="tick"'));
  }
  parts.push(
    text('input position t (most recent →)', M.l + PW / 2, H - 6, f.axis, 'text-anchor="middle" class="axis"'),
    `<text transform="translate(${f.axis + 2} ${M.t + PH / 2}) rotate(-90)" font-size="${f.axis}" \
text-anchor="middle" class="axis">‖∂L/∂hₜ‖ ÷ peak</text>`,
  );
  const y1 = y(0.01);
  parts.push(`<line x1="${M.l}" x2="${M.l + PW}" y1="${y1}" y2="${y1}" stroke="#555" stroke-dasharray="4 3"/>`);
  const points: [number, number][] = [];
  const colors = recs.map((_, i) => OKABE_ITO[i % OKABE_ITO.length]);
  const ends: number[] = [];
  recs.forEach((r, i) => {
    let d = '';
    let pen = false;
    rels[i].forEach((v, t) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)} ${y(v).toFixed(1)}`;
      points.push([x(t), y(v)]);
      pen = true;
    });
    parts.push(`<path d="${d}" fill="none" stroke="${colors[i]}" stroke-width="2" stroke-linejoin="round"/>`);
    const lastT = rels[i].map((v, t) => (v === null ? -1 : t)).reduce((m, t) => Math.max(m, t), -1);
    ends.push(lastT < 0 ? y1 : y(rels[i][lastT] as number));
    const h = r.horizon;
    if (h.to !== null && h.steps !== null) {
      const hx = x(h.to);
      parts.push(
        `<line x1="${hx}" x2="${hx}" y1="${M.t}" y2="${M.t + PH}" stroke="${colors[i]}" stroke-width="1.2" stroke-dasharray="2 3"/>`,
        `<circle cx="${hx}" cy="${y1}" r="3.5" fill="${colors[i]}"/>`,
      );
    }
  });
  // Line labels at the right end of each line, spread apart; then the 1 % note and the horizon labels where they
  // overlap none of these and cross the fewest line points.
  const placed: Box[] = [];
  const labels: string[] = [];
  const ly = spread(ends, f.label + 2, M.t + 4, M.t + PH);
  recs.forEach((r, i) => {
    const s = shortName(r, L.cls === 'wide' ? 15 : 11);
    const yy = ly[i] + f.label * 0.35;
    placed.push(boxOf(s, f.label, true, M.l + PW + 6, yy, 'start'));
    labels.push(text(s, M.l + PW + 6, yy, f.label, `fill="${colors[i]}" font-weight="600" class="label"`));
  });
  const plot: Box = { x0: M.l, y0: M.t, x1: M.l + PW, y1: M.t + PH };
  const fig: Box = { x0: 0, y0: 0, x1: W, y1: M.t + PH };
  const note = '1 % of peak';
  const noteCands: Candidate[] = [
    { x: M.l + 4, y: y1 - 4, anchor: 'start' },
    { x: M.l + PW - 4, y: y1 - 4, anchor: 'end' },
    { x: M.l + 4, y: y1 + f.note + 3, anchor: 'start' },
    { x: M.l + PW - 4, y: y1 + f.note + 3, anchor: 'end' },
    { x: M.l + PW / 2, y: y1 - 4, anchor: 'start' },
    { x: M.l + PW / 2, y: y1 + f.note + 3, anchor: 'start' },
  ];
  const n = place(note, f.note, false, noteCands, placed, points, fig, [M.l, y1]);
  labels.push(text(note, n.c.x, n.c.y, f.note, `text-anchor="${n.c.anchor}" class="note"`));
  recs.forEach((r, i) => {
    const h = r.horizon;
    if (h.to === null || h.steps === null) return;
    const hx = x(h.to);
    const s = `reach ${h.steps} of ${r.steps} steps`;
    const cands: Candidate[] = [];
    for (let k = 0; k < 6; k++) {
      const below = y1 + f.label + 4 + k * (f.label + 3);
      const above = y1 - 6 - k * (f.label + 3);
      cands.push({ x: hx + 5, y: below, anchor: 'start' }, { x: hx - 5, y: below, anchor: 'end' });
      cands.push({ x: hx + 5, y: above, anchor: 'start' }, { x: hx - 5, y: above, anchor: 'end' });
    }
    // Where the mark is too near an edge for the label to fit beside it: against the plot's edge.
    for (let k = 0; k < 6; k++)
      for (const yy of [y1 + f.label + 4 + k * (f.label + 3), y1 - 6 - k * (f.label + 3)])
        cands.push({ x: M.l + 3, y: yy, anchor: 'start' }, { x: M.l + PW - 3, y: yy, anchor: 'end' });
    const p = place(s, f.label, true, cands, placed, points, plot, [hx, y1]);
    labels.push(
      text(
        s,
        p.c.x,
        p.c.y,
        f.label,
        `text-anchor="${p.c.anchor}" fill="${colors[i]}" font-weight="600" \
class="mark"`,
      ),
    );
  });
  const desc = recs
    .map((r) => {
      const where = shortName(r);
      return `${where}: ${r.horizon.steps === null ? 'no horizon' : `reaches back ${r.horizon.steps} of ${r.steps} steps`}`;
    })
    .join('; ');
  return `<svg class="reach ${L.cls}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`${title}. ${desc}.`)}" \
xmlns="http://www.w3.org/2000/svg"><title>${esc(`${title}. ${desc}.`)}</title>\
<rect x="${M.l}" y="${M.t}" width="${PW}" height="${PH}" fill="none" stroke="#cfcfcf"/>${parts.join('')}\
${labels.join('')}</svg>`;
}

/** The figure of one run (its wide and narrow layouts), or null when it has no recurrent layer. */
export function reachFigure(a: Analysis, title: string): ReachFigure | null {
  const recs = a.recurrent;
  if (recs.length === 0) return null;
  const rels = recs.map(relative);
  const lines = recs.map((r, i) => ({
    id: r.id,
    color: OKABE_ITO[i % OKABE_ITO.length],
    label: shortName(r),
    horizon: r.horizon.steps,
    steps: r.steps,
  }));
  return { svg: draw(a, title, WIDE, rels) + draw(a, title, NARROW, rels), lines };
}

/** A one-line reading of the figure's lowest value, e.g. "falls to 3.2 × 10⁻⁹ of its peak". */
export function lowest(r: RecurrentAnalysis): string {
  const rel = relative(r).filter((v): v is number => v !== null);
  return rel.length === 0 ? 'no gradient' : `falls to ${human(Math.min(...rel), 2)} of its peak`;
}
