// The first screen's figure, drawn here as inline SVG so it shows before any script runs: for every
// recurrent layer or direction of one run, ‖∂L/∂h_t‖ relative to its peak (log axis) against input
// position (most recent on the right), the 1 % line, and where each line last crosses it (the horizon),
// labelled directly in the line's colour.

import type { Analysis, RecurrentAnalysis } from '../../analysis/schema.js';
import { esc } from '../escape.js';
import { human, pow10 } from '../human.js';
import { OKABE_ITO } from './palette.js';

const W = 560;
const H = 250;
const M = { l: 66, r: 124, t: 14, b: 40 };
const PW = W - M.l - M.r;
const PH = H - M.t - M.b;

/** Short line label: the layer, with an arrow for a direction. */
export function shortName(r: RecurrentAnalysis): string {
  const name = r.layer.length > 15 ? `${r.layer.slice(0, 14)}…` : r.layer;
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

function niceSteps(n: number): number[] {
  const last = n - 1;
  if (last <= 0) return [0];
  const raw = last / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = 0; t <= last; t += step) out.push(t);
  if (last - out[out.length - 1] > step / 2) out.push(last);
  return out;
}

/** Spread label positions so neighbours are at least `gap` apart, within [lo, hi]. */
function spread(ys: number[], gap: number, lo: number, hi: number): number[] {
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

export interface ReachFigure {
  svg: string;
  /** One line per layer: colour, label and horizon, for the text beside the figure. */
  lines: { id: string; color: string; label: string; horizon: number | null; steps: number }[];
}

/** The figure of one run, or null when it has no recurrent layer. */
export function reachFigure(a: Analysis, title: string): ReachFigure | null {
  const recs = a.recurrent;
  if (recs.length === 0) return null;
  const rels = recs.map(relative);
  const D = decades(rels);
  const T = Math.max(...recs.map((r) => r.steps));
  const x = (t: number) => M.l + (T <= 1 ? PW / 2 : (t / (T - 1)) * PW);
  const y = (rel: number) => M.t + (Math.min(D, Math.max(0, -Math.log10(rel))) / D) * PH;
  const parts: string[] = [];
  // Grid and y ticks (every decade, or every second one when there are many).
  const every = D > 6 ? 2 : 1;
  for (let d = 0; d <= D; d += every) {
    const yy = y(10 ** -d);
    parts.push(`<line x1="${M.l}" x2="${M.l + PW}" y1="${yy}" y2="${yy}" stroke="#ececec"/>`);
    const lab = d === 0 ? 'peak' : `${d === D ? '≤' : ''}${pow10(-d)}`;
    parts.push(`<text x="${M.l - 6}" y="${yy + 4}" text-anchor="end" class="tick">${lab}</text>`);
  }
  for (const t of niceSteps(T)) {
    const xx = x(t);
    parts.push(`<line x1="${xx}" x2="${xx}" y1="${M.t + PH}" y2="${M.t + PH + 4}" stroke="#888"/>`);
    parts.push(`<text x="${xx}" y="${M.t + PH + 16}" text-anchor="middle" class="tick">${t}</text>`);
  }
  parts.push(
    `<text x="${M.l + PW / 2}" y="${H - 6}" text-anchor="middle" class="axis">input position t (most recent →)</text>`,
    `<text transform="translate(14 ${M.t + PH / 2}) rotate(-90)" text-anchor="middle" class="axis">‖∂L/∂hₜ‖ ÷ peak</text>`,
  );
  // The 1 % line the horizon is measured against.
  const y1 = y(0.01);
  parts.push(
    `<line x1="${M.l}" x2="${M.l + PW}" y1="${y1}" y2="${y1}" stroke="#555" stroke-dasharray="4 3"/>`,
    `<text x="${M.l + 4}" y="${y1 - 4}" class="note">1 % of peak</text>`,
  );
  const lines: ReachFigure['lines'] = [];
  const ends: number[] = [];
  recs.forEach((r, i) => {
    const color = OKABE_ITO[i % OKABE_ITO.length];
    let d = '';
    let pen = false;
    rels[i].forEach((v, t) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)} ${y(v).toFixed(1)}`;
      pen = true;
    });
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"/>`);
    const lastT = rels[i].map((v, t) => (v === null ? -1 : t)).reduce((m, t) => Math.max(m, t), -1);
    ends.push(lastT < 0 ? y1 : y(rels[i][lastT] as number));
    const h = r.horizon;
    lines.push({ id: r.id, color, label: shortName(r), horizon: h.steps, steps: r.steps });
    if (h.to !== null && h.steps !== null) {
      const hx = x(h.to);
      parts.push(
        `<line x1="${hx}" x2="${hx}" y1="${M.t}" y2="${M.t + PH}" stroke="${color}" stroke-width="1.2" stroke-dasharray="2 3"/>`,
        `<circle cx="${hx}" cy="${y1}" r="3.5" fill="${color}"/>`,
      );
    }
  });
  // Horizon labels: beside each horizon mark, stacked so they do not overlap.
  const marks = recs
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => r.horizon.to !== null && r.horizon.steps !== null)
    .map(({ r, i }) => ({ i, x: x(r.horizon.to as number), text: `reach ${r.horizon.steps} of ${r.steps} steps` }));
  marks.forEach((m, k) => {
    const left = m.x > M.l + PW * 0.55;
    const yy = y1 + 16 + k * 14;
    parts.push(
      `<text x="${m.x + (left ? -5 : 5)}" y="${yy}" text-anchor="${left ? 'end' : 'start'}" fill="${lines[m.i].color}" class="mark">${esc(m.text)}</text>`,
    );
  });
  // Direct labels at the right end of each line.
  const ly = spread(ends, 14, M.t + 4, M.t + PH);
  lines.forEach((l, i) => {
    parts.push(`<text x="${M.l + PW + 6}" y="${ly[i] + 4}" fill="${l.color}" class="label">${esc(l.label)}</text>`);
  });
  const desc = lines
    .map((l) => `${l.label}: ${l.horizon === null ? 'no horizon' : `reaches back ${l.horizon} of ${l.steps} steps`}`)
    .join('; ');
  const svg = `<svg class="reach" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`${title}. ${desc}.`)}" \
xmlns="http://www.w3.org/2000/svg"><title>${esc(`${title}. ${desc}.`)}</title>\
<rect x="${M.l}" y="${M.t}" width="${PW}" height="${PH}" fill="none" stroke="#cfcfcf"/>${parts.join('')}</svg>`;
  return { svg, lines };
}

/** A one-line reading of the figure's lowest value, e.g. "falls to 3.2 × 10⁻⁹ of its peak". */
export function lowest(r: RecurrentAnalysis): string {
  const rel = relative(r).filter((v): v is number => v !== null);
  return rel.length === 0 ? 'no gradient' : `falls to ${human(Math.min(...rel), 2)} of its peak`;
}
