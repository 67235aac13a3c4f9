// The training timeline: one small summary per checkpoint, each computed from that checkpoint's
// own Analysis (the same as `rnnscope analyze` of it alone) and its weights, plus the findings
// over time (timeline-findings.ts).
//
//   checkpoint k: ModelSpec + Analysis ─► summarizePoint ─► TimelinePoint (kept)
//                 weights W_k ─► update ratios against W_{k−1} (only W_{k−1} is held)
//   points ─► timelineFindings ─► Timeline
//
// Memory: a point holds per-step-bin numbers per recurrent layer (≤ 200 bins), a few numbers per
// gate and tensor, and nothing per sample; only the previous checkpoint's weights are kept.
// Types of the JSON are here; fields are defined in docs/analysis-schema.md ("Timeline").

import type { ModelSpec } from '../model/types.js';
import { ModelError } from '../model/errors.js';
import { blockIndex } from './params.js';
import { describeCheckpoint } from './checkpoint-names.js';
import { timelineFindings } from './timeline-findings.js';
import type { Analysis, Direction, Finding, Histogram, Horizon, Kind, Num, ParamGroup } from './schema.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from './diagnose.js';

export const TIMELINE_SCHEMA = 'rnnscope.timeline/1';

/** Percentiles of log10|g| drawn as nested bands: 1–99 %, ±2σ, ±1σ, ±½σ of a normal, and the median. */
export const BAND_PERCENTILES: readonly number[] = [0.01, 0.0228, 0.1587, 0.3085, 0.5, 0.6915, 0.8413, 0.9772, 0.99];

/** At most this many step bins per layer and point (longer sequences are binned by the maximum). */
export const MAX_STEP_BINS = 200;

export interface TimelineLayer {
  id: string;
  layer: string;
  direction: Direction;
  kind: Kind;
  steps: number;
  units: number;
  gates: string[];
  goBackwards: boolean;
  /** Steps per bin of `relLog10` (1 when steps ≤ MAX_STEP_BINS). */
  stepBin: number;
}

export interface TimelineTensor {
  key: string;
  layer: string;
  direction: Direction;
  name: string;
  shape: number[];
  trainable: boolean;
}

export interface LayerPoint {
  id: string;
  /** Per step bin: log10(max over the bin of ‖∂L/∂h_t‖ / max over all t); 0 at the peak, null where the norm is 0 or
   * not finite. */
  relLog10: Num[];
  /** max_t ‖∂L/∂h_t‖ (the row's reference). */
  peak: Num;
  horizon: Horizon;
  gates: { gate: string; share: Num; mean: Num; saturated: Num }[];
}

export interface UpdateRatio {
  key: string;
  /** Gate block of a recurrent kernel / recurrent_kernel / bias; null = the whole tensor. */
  gate: string | null;
  group: ParamGroup | null;
  /** ‖W_k − W_prev‖ / ‖W_prev‖ (Frobenius); null when ‖W_prev‖ = 0 or a value is not finite. */
  ratio: Num;
}

export interface TensorBands {
  key: string;
  /** log10|g| at BAND_PERCENTILES, read from the tensor's histogram (null when it has no finite element). */
  values: Num[];
  /** Fraction of elements with g = 0 exactly or |g| < 1e-16 (drawn at the floor, −16). */
  floorFraction: number;
}

export interface TimelinePoint {
  /** Position in the timeline (0-based, in checkpoint order). */
  index: number;
  label: string;
  epoch: number | null;
  batch: number | null;
  /** Loss L on the fixed data, global ‖∇L‖ over all trainable weights. */
  loss: Num;
  gradNorm: Num;
  /** NaN/±Inf weight values in the checkpoint (> 0: a diverged checkpoint) and the tensors holding them. */
  nonFiniteWeights: number;
  nonFiniteTensors: string[];
  /** NaN/±Inf gradient elements. */
  nonFiniteGrads: number;
  layers: LayerPoint[];
  /** Update ratios against the checkpoint before it (`from` = its index), or none (`from` null: the first, or one that
   * arrived out of order). */
  updates: { from: number | null; ratios: UpdateRatio[] };
  bands: TensorBands[];
  /** This checkpoint's own findings (the codes of its Analysis), for the onsets over time. */
  findings: {
    code: string;
    layer: string | null;
    direction: Direction;
    gate: string | null;
    severity: Finding['severity'];
  }[];
  /** Wall time of the analysis in seconds, when measured. */
  seconds: number | null;
}

export type TimelineFinding = Finding & {
  /** Index of the point the finding is about (its onset), or null for the whole run. */
  at: number | null;
};

export interface Timeline {
  schema: typeof TIMELINE_SCHEMA;
  model: string;
  /** How points were ordered: by the epoch/batch numbers in their names, by modification time, or as given. */
  order: 'name' | 'mtime' | 'given';
  layers: TimelineLayer[];
  tensors: TimelineTensor[];
  percentiles: number[];
  thresholds: Record<string, number>;
  points: TimelinePoint[];
  findings: TimelineFinding[];
}

const fin = (x: number): Num => (Number.isFinite(x) ? x : null);
/** Decades to 4 decimals: far below what the charts resolve, and it keeps the JSON small. */
const dec4 = (x: Num): Num => (x === null ? null : Math.round(x * 1e4) / 1e4 || 0);
const nums = (a: Num[]): number[] => a.filter((v): v is number => v !== null && Number.isFinite(v));
const mean = (a: number[]): Num => (a.length ? a.reduce((s, v) => s + v, 0) / a.length : null);

/** log10|g| at quantile q of a LOG10_GRAD_EDGES histogram: uniform within a bin, zero/underflow at the lowest edge,
 * overflow at the highest. */
export function histogramQuantile(h: Histogram, q: number): Num {
  const lo = h.edges[0]!,
    hi = h.edges[h.edges.length - 1]!;
  const floor = h.zero + h.underflow;
  const n = floor + h.counts.reduce((s, c) => s + c, 0) + h.overflow;
  if (n === 0) return null;
  let need = q * n;
  if (need <= floor) return lo;
  need -= floor;
  for (let i = 0; i < h.counts.length; i++) {
    const c = h.counts[i]!;
    if (c > 0 && need <= c) return h.edges[i]! + (need / c) * (h.edges[i + 1]! - h.edges[i]!);
    need -= c;
  }
  return hi;
}

/** Row of the epoch × step matrix: per bin, log10 of (bin max / overall peak). */
export function relativeLog10(norm: Num[], stepBin: number): { rel: Num[]; peak: Num } {
  let peak = 0;
  for (const v of norm) if (v !== null && Number.isFinite(v) && v > peak) peak = v;
  const rel: Num[] = [];
  for (let i = 0; i * stepBin < norm.length; i++) {
    let m = 0;
    for (let t = i * stepBin; t < Math.min(norm.length, (i + 1) * stepBin); t++) {
      const v = norm[t];
      if (v !== null && v !== undefined && Number.isFinite(v) && v > m) m = v;
    }
    rel.push(peak > 0 && m > 0 ? dec4(fin(Math.log10(m / peak))) : null);
  }
  return { rel, peak: peak > 0 ? peak : null };
}

/** The model's structure as the timeline names it; checkpoints of one run must agree on it. */
export function timelineStructure(a: Analysis): { layers: TimelineLayer[]; tensors: TimelineTensor[] } {
  return {
    layers: a.recurrent.map((r) => ({
      id: r.id,
      layer: r.layer,
      direction: r.direction,
      kind: r.kind,
      steps: r.steps,
      units: r.units,
      gates: [...r.gates],
      goBackwards: r.goBackwards,
      stepBin: Math.max(1, Math.ceil(r.steps / MAX_STEP_BINS)),
    })),
    tensors: a.params.map((p) => ({
      key: p.key,
      layer: p.layer,
      direction: p.direction,
      name: p.name,
      shape: [...p.shape],
      trainable: p.trainable,
    })),
  };
}

function sameStructure(
  a: ReturnType<typeof timelineStructure>,
  b: ReturnType<typeof timelineStructure>,
): string | null {
  const sig = (s: typeof a) => [
    ...s.layers.map((l) => `${l.id}:${l.kind}:${l.units}:${l.steps}`),
    ...s.tensors.map((t) => `${t.key}:${t.shape.join('x')}`),
  ];
  const x = sig(a),
    y = sig(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++)
    if (x[i] !== y[i]) return `${y[i] ?? 'nothing'} where the first checkpoint has ${x[i] ?? 'nothing'}`;
  return null;
}

/** A copy of the weights the update ratios need (float64, by param key). */
export type WeightSnapshot = Map<string, Float64Array>;

export function snapshotWeights(model: ModelSpec): WeightSnapshot {
  const out: WeightSnapshot = new Map();
  for (const ps of model.params)
    for (const p of ps) {
      const w = model.weights.get(p.key);
      if (w) out.set(p.key, Float64Array.from(w.data as ArrayLike<number>));
    }
  return out;
}

function ratio(now: ArrayLike<number>, prev: ArrayLike<number>, n: number, idx: (k: number) => number): Num {
  let d = 0,
    w = 0;
  for (let k = 0; k < n; k++) {
    const i = idx(k),
      p = prev[i]!;
    d += (now[i]! - p) ** 2;
    w += p * p;
  }
  return w > 0 ? fin(Math.sqrt(d / w)) : null;
}

/**
 * ‖W_k − W_prev‖/‖W_prev‖ per tensor, and per gate block of each recurrent kernel, recurrent kernel
 * and bias: the tensors and their gate blocks (column blocks of the fused weight) as the analysis lists them.
 */
export function updateRatios(params: Analysis['params'], now: WeightSnapshot, prev: WeightSnapshot): UpdateRatio[] {
  const out: UpdateRatio[] = [];
  for (const p of params) {
    const a = now.get(p.key),
      b = prev.get(p.key);
    if (!a || !b || a.length !== b.length) continue;
    out.push({ key: p.key, gate: null, group: null, ratio: ratio(a, b, a.length, (k) => k) });
    if (!p.blocks || !['kernel', 'recurrent_kernel', 'bias'].includes(p.name)) continue;
    const units = p.shape[p.shape.length - 1]! / p.blocks.length;
    p.blocks.forEach(({ gate }, g) => {
      const blk = blockIndex(p.shape, units, g);
      out.push({ key: p.key, gate, group: p.name as ParamGroup, ratio: ratio(a, b, blk.n, blk.idx) });
    });
  }
  return out;
}

function countNonFinite(w: WeightSnapshot): { count: number; tensors: string[] } {
  let count = 0;
  const tensors: string[] = [];
  for (const [k, a] of w) {
    let c = 0;
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) c++;
    if (c > 0) tensors.push(k);
    count += c;
  }
  return { count, tensors };
}

/** The summary of one checkpoint: everything from its Analysis, plus its weights' finiteness and update ratios. */
export function summarizePoint(
  a: Analysis,
  weights: WeightSnapshot,
  prev: { index: number; weights: WeightSnapshot } | null,
  id: { index: number; label: string; epoch: number | null; batch: number | null; seconds?: number | null },
): TimelinePoint {
  let sq = 0,
    nonFiniteGrads = 0;
  for (const p of a.params) {
    nonFiniteGrads += p.nan + p.inf;
    if (p.trainable && p.gradNorm !== null) sq += p.gradNorm * p.gradNorm;
  }
  const bad = countNonFinite(weights);
  const layers: LayerPoint[] = a.recurrent.map((r) => {
    const { rel, peak } = relativeLog10(r.dh.norm, Math.max(1, Math.ceil(r.steps / MAX_STEP_BINS)));
    let all = 0;
    const perGate = r.gates.map((g) => {
      let s = 0;
      for (const c of r.contributions) if (c.gate === g && c.total !== null) s += c.total * c.total;
      all += s;
      return s;
    });
    return {
      id: r.id,
      relLog10: rel,
      peak,
      horizon: { ...r.horizon },
      gates: r.gates.map((gate, i) => {
        const st = r.gateStats.find((s) => s.gate === gate);
        return {
          gate,
          share: all > 0 ? fin(perGate[i]! / all) : null,
          mean: st ? mean(nums(st.mean)) : null,
          saturated: st ? mean(nums(st.saturated)) : null,
        };
      }),
    };
  });
  return {
    index: id.index,
    label: id.label,
    epoch: id.epoch,
    batch: id.batch,
    loss: a.objective.value,
    gradNorm: nonFiniteGrads > 0 ? null : fin(Math.sqrt(sq)),
    nonFiniteWeights: bad.count,
    nonFiniteTensors: bad.tensors,
    nonFiniteGrads,
    layers,
    updates: { from: prev ? prev.index : null, ratios: prev ? updateRatios(a.params, weights, prev.weights) : [] },
    bands: a.params.map((p) => ({
      key: p.key,
      values: BAND_PERCENTILES.map((q) => dec4(histogramQuantile(p.histogram, q))),
      floorFraction: p.size > 0 ? (p.histogram.zero + p.histogram.underflow) / p.size : 0,
    })),
    findings: a.findings.map((f) => ({
      code: String(f.code),
      layer: f.layer,
      direction: f.direction,
      severity: f.severity,
      gate: typeof f.evidence['gate'] === 'string' ? f.evidence['gate'] : null,
    })),
    seconds: id.seconds ?? null,
  };
}

export interface AddCheckpoint {
  label: string;
  epoch: number | null;
  batch: number | null;
  seconds?: number | null;
}

type Key = [epoch: number, batch: number, seq: number];
const compareKeys = (a: Key, b: Key): number => a[0] - b[0] || (a[1] === b[1] ? a[2] - b[2] : a[1] < b[1] ? -1 : 1);

interface Entry {
  point: TimelinePoint;
  key: Key;
  from: Entry | null;
}

/**
 * Builds a timeline one checkpoint at a time, keeping summaries and the last checkpoint's weights.
 * Checkpoints should come in order; one that sorts before the last added is placed in order
 * but gets no update ratios (the weights before it are gone).
 */
export class TimelineBuilder {
  private readonly entries: Entry[] = [];
  private structure: ReturnType<typeof timelineStructure> | null = null;
  private last: { entry: Entry; weights: WeightSnapshot } | null = null;
  private seq = 0;
  private modelName = '';
  private readonly th: Thresholds;

  constructor(private readonly opts: { order?: Timeline['order']; thresholds?: Partial<Thresholds> } = {}) {
    this.th = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  }

  get size(): number {
    return this.entries.length;
  }

  /** Adds a checkpoint from its model (for the weights) and its Analysis; a ModelError when its architecture differs
   * from the first's. */
  add(model: ModelSpec, analysis: Analysis, id: AddCheckpoint): TimelinePoint {
    const s = timelineStructure(analysis);
    if (!this.structure) {
      this.structure = s;
      this.modelName = analysis.model.name;
    } else {
      const diff = sameStructure(this.structure, s);
      if (diff)
        throw new ModelError(
          `Checkpoint ${id.label} has ${diff}; expected every checkpoint of a timeline to have one architecture, so pass checkpoints of one model.`,
        );
    }
    // Ordered by name: (epoch, batch, arrival); otherwise by arrival alone.
    const byName = (this.opts.order ?? 'name') === 'name';
    const key: Key = byName ? [id.epoch ?? -1, id.batch ?? Infinity, this.seq] : [0, 0, this.seq];
    this.seq++;
    const inOrder = !this.last || compareKeys(key, this.last.entry.key) > 0;
    const weights = snapshotWeights(model);
    const prev = inOrder && this.last ? { index: -1, weights: this.last.weights } : null;
    const entry: Entry = {
      point: summarizePoint(analysis, weights, prev, { index: -1, ...id }),
      key,
      from: inOrder ? (this.last?.entry ?? null) : null,
    };
    const pos = this.entries.findIndex((e) => compareKeys(key, e.key) < 0);
    this.entries.splice(pos < 0 ? this.entries.length : pos, 0, entry);
    if (inOrder) this.last = { entry, weights };
    this.renumber();
    return entry.point;
  }

  /**
   * A checkpoint whose weights hold NaN/Inf (the loaders refuse to bind them, so it cannot be
   * analysed): a point with no measurements, its non-finite count and tensors. The next checkpoint's
   * update ratios are measured against the last one with finite weights.
   */
  addDiverged(id: AddCheckpoint, bad: { count: number; tensors: string[] }): TimelinePoint {
    const byName = (this.opts.order ?? 'name') === 'name';
    const key: Key = byName ? [id.epoch ?? -1, id.batch ?? Infinity, this.seq] : [0, 0, this.seq];
    this.seq++;
    const point: TimelinePoint = {
      index: -1,
      label: id.label,
      epoch: id.epoch,
      batch: id.batch,
      loss: null,
      gradNorm: null,
      nonFiniteWeights: bad.count,
      nonFiniteTensors: [...bad.tensors],
      nonFiniteGrads: 0,
      layers: [],
      updates: { from: null, ratios: [] },
      bands: [],
      findings: [],
      seconds: id.seconds ?? null,
    };
    const pos = this.entries.findIndex((e) => compareKeys(key, e.key) < 0);
    this.entries.splice(pos < 0 ? this.entries.length : pos, 0, { point, key, from: null });
    this.renumber();
    return point;
  }

  private renumber(): void {
    this.entries.forEach((e, i) => {
      e.point.index = i;
    });
    for (const e of this.entries) e.point.updates.from = e.from ? e.from.point.index : null;
  }

  /** The timeline so far (points are shared with the builder; findings are recomputed). */
  timeline(): Timeline {
    const st = this.structure ?? { layers: [], tensors: [] };
    // A diverged point has no measurements: one empty entry per layer (known once a checkpoint loaded).
    for (const { point } of this.entries) {
      if (point.layers.length === 0 && st.layers.length > 0) {
        point.layers = st.layers.map((l) => ({
          id: l.id,
          relLog10: new Array<Num>(Math.ceil(l.steps / l.stepBin)).fill(null),
          peak: null,
          horizon: { ratio: this.th.horizonRatio, steps: null, from: null, to: null },
          gates: l.gates.map((gate) => ({ gate, share: null, mean: null, saturated: null })),
        }));
      }
    }
    const t: Timeline = {
      schema: TIMELINE_SCHEMA,
      model: this.modelName,
      order: this.opts.order ?? 'name',
      layers: st.layers,
      tensors: st.tensors,
      percentiles: [...BAND_PERCENTILES],
      thresholds: { ...this.th },
      points: this.entries.map((e) => e.point),
      findings: [],
    };
    t.findings = timelineFindings(t, this.th);
    return t;
  }
}

export { describeCheckpoint };
