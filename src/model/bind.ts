// Weight arrays read from a file → model.weights, in Keras 2 canonical layout.
//
// Conversions (the ones Keras itself applies when loading,
// tf-keras saving/legacy/hdf5_format.py preprocess_weights_for_loading; docs/formats.md, 'Keras 1 weights'):
//   Keras 1 per-gate arrays (W_g, U_g, b_g per gate, in the order the cell's keras1Gates gives, e.g. LSTM
//                 i, c, f, o) → kernel [W_i W_f W_c W_o], recurrent [U_i …], bias [b_i …] in the cell's gate order
// CuDNNLSTM bias (8U,) = input ‖ recurrent biases → summed; per gate, kernel block k → kᵀ.reshape(k.shape, order F),
//                 recurrent block r → rᵀ (docs/formats.md, 'cuDNN weights')
//   CuDNNGRU      bias (6U,) → (2, 3U) for GRU(reset_after=True); kernels as above; refused for reset_after=False
//   Keras 1 Conv1D kernel (k, 1, in, f) or Keras 1.1 (f, in, k, 1) → (k, in, f)
//   Conv1D saved by the Theano backend → kernel flipped along the kernel axis (Theano convolves, TF correlates;
//                 Keras 2.2.4 keras/engine/saving.py _need_convert_kernel)
// Every array is checked against its ParamSpec shape and for NaN/Inf, then copied to float64.

import type { LayerSpec, ModelSpec, NDArray, ParamSpec, RecurrentSpec } from './types.js';
import { ModelError, NonFiniteWeightsError } from './errors.js';
import { msg } from './messages.js';
import { shapeHint } from './params.js';
import { cellOf } from '../engine/cells/index.js';

export interface FileArray {
  name: string;
  shape: number[];
  data: ArrayLike<number>;
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function arr(a: FileArray): NDArray {
  return { shape: [...a.shape], data: Float64Array.from(a.data) };
}

/** Concatenate along the last axis (1-D or 2-D arrays with equal leading dims). */
function concatLast(parts: NDArray[]): NDArray {
  if (parts[0]!.shape.length === 1) {
    const data = new Float64Array(parts.reduce((n, p) => n + p.data.length, 0));
    let o = 0;
    for (const p of parts) {
      data.set(p.data, o);
      o += p.data.length;
    }
    return { shape: [data.length], data };
  }
  const rows = parts[0]!.shape[0]!;
  if (!parts.every((p) => p.shape.length === 2 && p.shape[0] === rows))
    return { shape: [-1], data: new Float64Array(0) };
  const cols = parts.reduce((n, p) => n + p.shape[1]!, 0);
  const data = new Float64Array(rows * cols);
  for (let r = 0, off = 0; r < rows; r++) {
    for (const p of parts) {
      const c = p.shape[1]!;
      data.set(p.data.subarray(r * c, (r + 1) * c), off);
      off += c;
    }
  }
  return { shape: [rows, cols], data };
}

/**
 * cuDNN → canonical kernels, per gate block of width U: input block k (I×U) becomes kᵀ reshaped to (I, U) in
 * Fortran order, i.e. out[i,u] = flat_C(k)[i + I·u]; recurrent block r becomes rᵀ.
 * Why: Keras's CuDNNLSTM/GRU hand each block's C-order bytes to cuDNN as a (U×I) row-major matrix.
 */
function fromCudnnKernels(k: NDArray, rk: NDArray, gates: number): [NDArray, NDArray] {
  const [I, GU] = k.shape as [number, number];
  const U = GU / gates;
  const K = new Float64Array(I * GU);
  for (let g = 0; g < gates; g++) {
    for (let i = 0; i < I; i++) {
      for (let u = 0; u < U; u++) {
        const m = i + I * u; // index into the block's C-order flattening
        K[i * GU + g * U + u] = k.data[Math.floor(m / U) * GU + g * U + (m % U)]!;
      }
    }
  }
  const R = new Float64Array(U * GU);
  for (let g = 0; g < gates; g++) {
    for (let v = 0; v < U; v++) for (let u = 0; u < U; u++) R[v * GU + g * U + u] = rk.data[u * GU + g * U + v]!;
  }
  return [
    { shape: [I, GU], data: K },
    { shape: [U, GU], data: R },
  ];
}

function cellArrays(rnn: RecurrentSpec, arrays: FileArray[], key: string): NDArray[] {
  const a = arrays.map(arr);
  const cell = cellOf(rnn.kind),
    G = cell.gates.length;
  const k1 = cell.keras1Gates;
  if (k1 && a.length === 3 * k1.length) {
    // Keras 1 per-gate arrays W_g, U_g, b_g in the saved gate order → fused in the cell's gate order.
    const at = cell.gates.map((g) => k1.indexOf(g.name));
    return [0, 1, 2].map((w) => concatLast(at.map((s) => a[3 * s + w]!)));
  }
  if (a.length === 3 && cell.cudnnBias && a[0]!.shape.length === 2 && a[1]!.shape.length === 2) {
    const U = a[1]!.shape[0]!;
    const gu = G * U;
    const b = a[2]!;
    if (b.shape.length === 1 && b.shape[0] === 2 * gu && a[0]!.shape[1] === gu && a[1]!.shape[1] === gu) {
      const rows = cell.params(rnn).find((p) => p.name === 'bias')?.shape.length === 2;
      if (cell.cudnnBias === 'rows' && !rows) throw new ModelError(msg.cudnnGruToResetBefore(`${key}bias`));
      const [K, R] = fromCudnnKernels(a[0]!, a[1]!, G);
      if (cell.cudnnBias === 'rows') return [K, R, { shape: [2, gu], data: b.data }];
      // Keras sums the two float32 halves in float32 (np.sum on float32 arrays): round like it.
      const bias = new Float64Array(gu);
      for (let j = 0; j < gu; j++) bias[j] = Math.fround(b.data[j]! + b.data[gu + j]!);
      return [K, R, { shape: [gu], data: bias }];
    }
  }
  return a;
}

function conv1dKernel(layer: Extract<LayerSpec, { type: 'Conv1D' }>, a: NDArray, theano: boolean): NDArray {
  let k = a;
  if (k.shape.length === 4) {
    const [d0, d1, d2, d3] = k.shape as [number, number, number, number];
    if (
      !(d0 === layer.kernelSize && d1 === 1 && d3 === layer.filters) &&
      d0 === layer.filters &&
      d2 === layer.kernelSize &&
      d3 === 1
    ) {
      // Keras 1.1 (filters, input_dim, filter_length, 1) → (filter_length, 1, input_dim, filters).
      const data = new Float64Array(k.data.length);
      for (let f = 0; f < d0; f++)
        for (let c = 0; c < d1; c++)
          for (let t = 0; t < d2; t++) data[(t * d1 + c) * d0 + f] = k.data[(f * d1 + c) * d2 + t]!;
      k = { shape: [d2, 1, d1, d0], data };
    }
    if (k.shape[1] === 1) k = { shape: [k.shape[0]!, k.shape[2]!, k.shape[3]!], data: k.data };
  }
  if (theano && k.shape.length === 3) {
    const [K, C, F] = k.shape as [number, number, number];
    const data = new Float64Array(k.data.length);
    for (let t = 0; t < K; t++) data.set(k.data.subarray((K - 1 - t) * C * F, (K - t) * C * F), t * C * F);
    k = { shape: k.shape, data };
  }
  return k;
}

function expectedList(params: ParamSpec[], layer: LayerSpec): string {
  const base = `${params.length} (${params.map((p) => p.name).join(', ')})`;
  const k1 = layer.type === 'Recurrent' ? cellOf(layer.rnn.kind).keras1Gates : undefined;
  if (k1) return `${base}, or ${3 * k1.length} Keras 1 per-gate arrays`;
  return base;
}

const UNIQUE = new WeakSet<ModelSpec>();

/**
 * Refuse a model whose layers share a name. Keras refuses to build one ("All layer names should
 * be unique"), and every weight store keys weights by layer name, so the weights of such layers
 * cannot be told apart: binding them would report a shape mismatch or silently mix them up.
 */
export function checkUniqueLayerNames(model: ModelSpec, file = model.meta.source): void {
  if (UNIQUE.has(model)) return;
  const first = new Map<string, number>();
  const dups: string[] = [];
  model.layers.forEach((l, i) => {
    const j = first.get(l.name);
    if (j === undefined) first.set(l.name, i);
    else dups.push(`${l.name} (a ${model.layers[j]!.className} and a ${l.className})`);
  });
  if (dups.length > 0) {
    throw new ModelError(
      `${file}: ${dups.length === 1 ? 'two layers are' : 'several layers are each'} named ${dups.join(', ')}; expected unique layer names, as Keras requires (its weight files key weights by layer name, so they cannot be told apart); rename one of them in the model config and re-save the model.`,
      { file },
    );
  }
  UNIQUE.add(model);
}

/** Bind arrays read from a file for one layer (in the file's order) to the model's params (see the conversions above).
 * */
export function bindLayerWeights(
  model: ModelSpec,
  layerIndex: number,
  arrays: { name: string; shape: number[]; data: ArrayLike<number> }[],
): void {
  checkUniqueLayerNames(model);
  const layer = model.layers[layerIndex];
  if (!layer) throw new ModelError(msg.noSuchLayer(layerIndex, model.layers.length));
  const params = model.params[layerIndex] ?? [];
  for (let i = 0; i < arrays.length; i++) {
    const a = arrays[i]!;
    if (a.data.length !== size(a.shape))
      throw new ModelError(msg.weightDataLength(params[i]?.key ?? `${layer.name}/${a.name}`, a.data.length, a.shape));
  }
  let values: NDArray[];
  if (layer.type === 'Recurrent') values = cellArrays(layer.rnn, arrays, `${layer.name}/`);
  else if (layer.type === 'Bidirectional') {
    // Keras splits a Bidirectional's list in halves: forward, then backward (docs/formats.md, 'Bidirectional weights').
    const half = arrays.length / 2;
    values = Number.isInteger(half)
      ? [
          ...cellArrays(layer.forward, arrays.slice(0, half), `${layer.name}/forward/`),
          ...cellArrays(layer.backward, arrays.slice(half), `${layer.name}/backward/`),
        ]
      : arrays.map(arr);
  } else {
    values = arrays.map(arr);
    if (layer.type === 'Conv1D' && values[0])
      values[0] = conv1dKernel(layer, values[0], model.meta.backend === 'theano');
  }
  if (values.length !== params.length)
    throw new ModelError(msg.weightCount(layer.name, layer.className, arrays.length, expectedList(params, layer)));
  values.forEach((v, i) => {
    const p = params[i]!;
    if (v.shape.length !== p.shape.length || v.shape.some((d, j) => d !== p.shape[j])) {
      throw new ModelError(msg.weightShape(p.key, v.shape, p.shape, shapeHint(layer, p)));
    }
    let bad = 0;
    for (let j = 0; j < v.data.length; j++) if (!Number.isFinite(v.data[j]!)) bad++;
    if (bad > 0)
      throw new NonFiniteWeightsError(msg.nonFinite(p.key, bad, v.data.length), {
        cause: { key: p.key, count: bad, size: v.data.length },
      });
  });
  values.forEach((v, i) => model.weights.set(params[i]!.key, { shape: [...params[i]!.shape], data: v.data }));
}

/** After binding: every param present, else ModelError listing the missing ones. */
export function checkAllBound(model: ModelSpec): void {
  const missing = model.params
    .flat()
    .filter((p) => !model.weights.has(p.key))
    .map((p) => p.key);
  if (missing.length > 0) throw new ModelError(msg.missingWeights(model.name, missing), { file: model.meta.source });
}
