// The raw arrays of `--dump` (and of the library's keepRaw): per-sample taps, the gradient, the loss.
//
//   dh/<id> (N, T, U)   dc/<id> (N, T, U, LSTM)   dx/<id> (N, T, I)   gate_grad/<id>/<gate> (N, T, U)
//   attention/<id>/via_attention|via_recurrence|via_other (N, T, U; layers attention reads: dh by path)
//   grad/<layer>/<weight> (the weight's shape, float64)   loss () float64
// (<id> = layer, or layer/forward|backward.) Per-sample taps are ∂L/∂· of the mean loss over all N
// samples, in the analysis dtype. The names and shapes are known before the analysis (dumpEntries), so
// a sink can lay the file out in advance and take each batch's rows as they come (DumpSink).

import type { ModelSpec } from '../model/types.js';
import type { Params } from '../engine/graph.js';
import { gradsFromOutputs } from '../engine/run.js';
import type { LayerTaps } from '../engine/taps.js';
import { alloc, type Arr, type DType } from '../engine/tensor.js';
import { cellOf } from '../engine/cells/index.js';
import type { Kernels } from '../engine/kernels-js.js';
import { attentionWatches, type SplitHalf } from './attention-paths.js';

export interface DumpEntry {
  name: string;
  shape: number[];
  dtype: DType;
}

/** Receives the dump: rows [firstRow, firstRow + data rows) of array `name` (whole arrays with firstRow 0). */
export interface DumpSink {
  /** `shape` is the piece's own: (rows, ...the array's trailing dimensions). */
  write(name: string, firstRow: number, shape: number[], data: Float32Array | Float64Array): void;
}

/** Raw arrays in memory (keepRaw). */
export type RawArrays = Map<string, { shape: number[]; data: Float64Array | Float32Array }>;

const gatesOf = (kind: LayerTaps['kind']): string[] => cellOf(kind).gates.map((g) => g.name);
const idOf = (tp: { layer: string; direction: string | null }): string =>
  tp.direction ? `${tp.layer}/${tp.direction}` : tp.layer;

/**
 * Every array the dump of this analysis holds, in file order. The recurrent layers' step counts come
 * from a gradient pass over the first sample (they can differ from the input's after Conv1D/pooling).
 */
export function dumpEntries(
  model: ModelSpec,
  inputs: { shape: number[]; data: ArrayLike<number> }[],
  N: number,
  dtype: DType,
  params: Params,
  kernels?: Kernels,
): DumpEntry[] {
  const xs = inputs.map((x) => {
    const per = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const data = alloc(dtype, per);
    for (let i = 0; i < per; i++) data[i] = x.data[i]!;
    return { shape: [1, ...x.shape.slice(1)], data };
  });
  const probe = gradsFromOutputs(
    model,
    xs,
    (outs) => outs.map((y) => ({ shape: y.shape, data: alloc(dtype, y.data.length) })),
    {
      dtype,
      taps: { dh: true },
      params,
      kernels,
    },
  );
  const out: DumpEntry[] = [];
  const split = new Set(attentionWatches(model).flatMap((w) => w.halves.map((h) => h.id)));
  for (const tp of [...probe.taps.layers].reverse()) {
    const id = idOf(tp),
      T = tp.steps;
    out.push({ name: `dh/${id}`, shape: [N, T, tp.units], dtype });
    if (cellOf(tp.kind).states.includes('c')) out.push({ name: `dc/${id}`, shape: [N, T, tp.units], dtype });
    out.push({ name: `dx/${id}`, shape: [N, T, tp.inputDim], dtype });
    for (const g of gatesOf(tp.kind)) out.push({ name: `gate_grad/${id}/${g}`, shape: [N, T, tp.units], dtype });
    if (split.has(id))
      for (const part of PATH_PARTS) out.push({ name: `attention/${id}/${part[0]}`, shape: [N, T, tp.units], dtype });
  }
  model.params.forEach((ps) =>
    ps.forEach((p) => out.push({ name: `grad/${p.key}`, shape: [...p.shape], dtype: 'float64' })),
  );
  out.push({ name: 'loss', shape: [], dtype: 'float64' });
  return out;
}

/** Writes one batch's per-sample taps (samples lo.., input order), scaled to ∂L/∂· of the mean loss over N samples. */
export function writeBatchTaps(sink: DumpSink, tp: LayerTaps, lo: number, N: number): void {
  const id = idOf(tp),
    B = tp.batch,
    rows = B * tp.steps;
  const put = (name: string, a: Arr | undefined, col0: number, w: number, stride: number): void => {
    if (!a) return;
    const data = a instanceof Float64Array ? new Float64Array(rows * w) : new Float32Array(rows * w);
    for (let r = 0; r < rows; r++) for (let j = 0; j < w; j++) data[r * w + j] = (a[r * stride + col0 + j]! * B) / N;
    sink.write(name, lo, [B, tp.steps, w], data);
  };
  const gates = gatesOf(tp.kind);
  put(`dh/${id}`, tp.data.dh, 0, tp.units, tp.units);
  put(`dc/${id}`, tp.data.dc, 0, tp.units, tp.units);
  put(`dx/${id}`, tp.data.dx, 0, tp.inputDim, tp.inputDim);
  gates.forEach((g, gi) =>
    put(`gate_grad/${id}/${g}`, tp.data.gateGrad, gi * tp.units, tp.units, gates.length * tp.units),
  );
}

const PATH_PARTS = [
  ['via_attention', 'attention'],
  ['via_recurrence', 'recurrence'],
  ['via_other', 'other'],
] as const;

/** Writes one batch's split of ∂L/∂h (attention-paths.ts; samples lo..), scaled as writeBatchTaps scales dh. */
export function writeBatchPaths(sink: DumpSink, split: SplitHalf[], lo: number, N: number, dtype: DType): void {
  for (const s of split)
    for (const [name, k] of PATH_PARTS) {
      const data = alloc(dtype, s[k].length);
      for (let i = 0; i < data.length; i++) data[i] = (s[k][i]! * s.batch) / N;
      sink.write(`attention/${s.id}/${name}`, lo, [s.batch, s.steps, s.units], data);
    }
}

/** One piece of an array: rows firstRow.. of it, `shape` the piece's own. */
export interface RawChunk {
  name: string;
  firstRow: number;
  shape: number[];
  data: Float32Array | Float64Array;
}

/** An in-memory sink: chunks, mergeable across threads by concatenation, assembled at the end. */
export class ChunkSink implements DumpSink {
  readonly chunks: RawChunk[] = [];
  write(name: string, firstRow: number, shape: number[], data: Float32Array | Float64Array): void {
    this.chunks.push({ name, firstRow, shape, data });
  }
}

/** Assembles chunks into whole arrays, in the order their names first appear. */
export function assembleRaw(chunks: RawChunk[]): RawArrays {
  const byName = new Map<string, RawChunk[]>();
  for (const c of chunks) byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
  const out: RawArrays = new Map();
  for (const [name, cs] of byName) {
    cs.sort((a, b) => a.firstRow - b.firstRow);
    const rows = cs[0]!.shape.length ? cs.reduce((n, c) => n + c.shape[0]!, 0) : 0;
    const shape = cs[0]!.shape.length ? [rows, ...cs[0]!.shape.slice(1)] : [];
    const data =
      cs.length === 1
        ? cs[0]!.data
        : cs[0]!.data instanceof Float64Array
          ? new Float64Array(cs.reduce((n, c) => n + c.data.length, 0))
          : new Float32Array(cs.reduce((n, c) => n + c.data.length, 0));
    if (cs.length > 1) {
      let o = 0;
      for (const c of cs) {
        data.set(c.data, o);
        o += c.data.length;
      }
    }
    out.set(name, { shape, data });
  }
  return out;
}
