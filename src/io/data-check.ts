// Matching loaded data arrays to a model's inputs or outputs.
//
//   NamedArray[] ──select (by input/output name, x/y convention, or order)──► one array per model tensor
//                ──shape (reshape CSV rows, re-pad tokens, 1-D → (N, 1), class ids)──► checked values
//                ──values (NaN/Inf, beyond float32, token ids for an Embedding)──► FittedArray[] in model order
//
// Every mismatch is a DataError whose message says what the model expects, what the file
// holds and how to fix it (transposed axes, a missing batch axis, a vocabulary mismatch).

import { DataError, ModelError, fmtIndex, fmtShape, listProblems } from '../model/errors.js';
import { lossName, unknownLossMessage } from '../model/loss-config.js';
import { ValueCheck } from '../model/value-check.js';
import { warn } from '../model/types.js';
import type { LayerSpec, ModelSpec, NDArray, Shape, TensorId, Warning } from '../model/types.js';
import type { NamedArray } from './data.js';

export interface FittedArray extends NDArray {
  /** The model input or output name this array feeds. */
  name: string;
  /** The data array it came from, for messages ("x.npy"). */
  source: string;
  /** Targets only: class ids (shape of the output without its class axis, or with a trailing 1) instead of one value
   * per output unit. */
  sparse: boolean;
}

export interface FitOptions {
  warnings?: Warning[];
  /** Number of samples the other role had (inputs' batch when fitting targets); a mismatch is an error. */
  batch?: number;
  /** Loss name per output (targets only), overriding model.meta.loss: decides what class-id targets become. */
  losses?: (string | null)[];
  /** Precision of the run the data is for (default float32): float32 refuses values beyond its range. */
  dtype?: 'float32' | 'float64';
}

type Role = 'inputs' | 'targets';

const TARGET_NAME = /^(y|y_.+|targets?|labels?|outputs?|predictions)$/i;
const INPUT_NAME = /^(x|x_.+|inputs?|features?)$/i;
/** Losses that compare targets of the output's own shape: class ids are one-hot encoded for them. */
const ONE_HOT_LOSSES = new Set(['categorical_crossentropy', 'kl_divergence', 'categorical_hinge']);
/** Losses that take class ids as they are (crossentropy: Keras 3 picks sparse from the shapes). */
// crf_loss takes tag ids with a sparse_target CRF, one-hot tags otherwise (the engine reads both).
const SPARSE_LOSSES = new Set(['sparse_categorical_crossentropy', 'crossentropy', 'crf_loss']);

/**
 * Inputs and targets fitted together, so that bad inputs and bad targets are reported in one error: each is
 * checked even when the other fails (the targets' sample count is compared with the inputs' only when the
 * inputs are good). `targets` null: no targets.
 */
export function fitInputsAndTargets(
  model: ModelSpec,
  inputs: NamedArray[],
  targets: NamedArray[] | null,
  opts: Omit<FitOptions, 'batch'> = {},
): { inputs: FittedArray[]; targets: FittedArray[] | null } {
  const { losses, ...rest } = opts;
  const errors: DataError[] = [];
  const attempt = <T>(f: () => T): T | null => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      errors.push(e);
      return null;
    }
  };
  const xs = attempt(() => fitDataToModel(model, inputs, 'inputs', rest));
  const ys = targets
    ? attempt(() => fitDataToModel(model, targets, 'targets', { ...rest, losses, batch: xs?.[0]?.shape[0] }))
    : null;
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1)
    throw new DataError(
      `The inputs and the targets have 2 problems. 1) ${errors[0]!.message} 2) ${errors[1]!.message}`,
    );
  return { inputs: xs!, targets: ys };
}

/** Arrays for the model's inputs (or outputs), in model order, with shapes and values checked. */
export function fitDataToModel(
  model: ModelSpec,
  arrays: NamedArray[],
  role: Role,
  opts: FitOptions = {},
): FittedArray[] {
  const ids = role === 'inputs' ? model.inputs : model.outputs;
  const names = role === 'inputs' ? model.inputNames : model.outputNames;
  // The loss decides what class-id targets become, so a misspelt one is named before any shape error it would cause.
  for (const l of opts.losses ?? [])
    if (l !== null && lossName(l) === null) throw new ModelError(unknownLossMessage(`'${l}'`, l));
  const chosen = selectArrays(model, arrays, role);
  const out = chosen.map((arr, i) => {
    const expected = model.tensors[ids[i]].shape;
    const what = `model ${role === 'inputs' ? 'input' : 'output'} '${names[i]}'`;
    if (role === 'inputs') return fitInput(arr, expected, what, names[i], opts);
    return fitTarget(arr, expected, what, names[i], lossFor(model, i, opts), opts);
  });
  if (role === 'inputs' && out.length > 0 && out.every((a) => a.shape[0] === 0)) {
    throw new DataError(
      `${out.map((a) => `${a.source} has shape ${fmtShape(a.shape)}`).join(' and ')}, that is 0 samples; expected at least one sample to analyse, so pass a file that holds data.`,
    );
  }
  checkBatch(out, opts.batch, role);
  const values = new ValueCheck(opts.dtype ?? 'float32');
  for (const a of out) values.add(a.source, a.shape, a.data);
  if (values.problems.length > 0) throw new DataError(listProblems(null, values.problems, values.hint));
  if (role === 'inputs') {
    out.forEach((a, i) => {
      const emb = embeddingFor(model, ids[i]);
      if (emb) checkTokens(a, a.source, emb, `model input '${names[i]}'`);
    });
  }
  for (let i = 0; i < out.length; i++) {
    const fixed = model.tensors[ids[i]].shape[0];
    if (fixed !== null && fixed !== undefined && fixed !== out[i].shape[0] && opts.warnings) {
      warn(
        opts.warnings,
        'data-batch',
        `${out[i].source}: the model was saved with a fixed batch size of ${fixed}; rnnscope runs the ${out[i].shape[0]} samples given (layers are not stateful here).`,
      );
    }
  }
  return out;
}

// ---- selection ------------------------------------------------------------------

function selectArrays(model: ModelSpec, arrays: NamedArray[], role: Role): NamedArray[] {
  const names = role === 'inputs' ? model.inputNames : model.outputNames;
  const others = role === 'inputs' ? model.outputNames : model.inputNames;
  const byName = names.map((n) => arrays.find((a) => a.name === n));
  if (byName.every((a) => a !== undefined)) return byName as NamedArray[];
  const mine = role === 'inputs' ? INPUT_NAME : TARGET_NAME;
  const theirs = role === 'inputs' ? TARGET_NAME : INPUT_NAME;
  let cands = arrays.filter((a) => !theirs.test(a.name) && !others.includes(a.name));
  if (names.length === 1 && cands.filter((a) => mine.test(a.name)).length === 1)
    cands = cands.filter((a) => mine.test(a.name));
  // numpy.savez(f, a, b) names positional arrays arr_0, arr_1, ...: keep their numeric order.
  if (cands.length > 0 && cands.every((a) => /^arr_\d+$/.test(a.name)))
    cands = [...cands].sort((a, b) => Number(a.name.slice(4)) - Number(b.name.slice(4)));
  if (cands.length === names.length) return cands;
  if (names.length === 1 && arrays.length === 1) return arrays;
  const kind = role === 'inputs' ? 'input' : 'output';
  const have =
    arrays.length === 0 ? 'no arrays' : `${arrays.length} array(s) (${arrays.map((a) => a.name).join(', ')})`;
  const files = [...new Set(arrays.map((a) => a.source.split(':')[0]))].join(', ') || 'the data';
  const example = names.every((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n))
    ? names.map((n) => `${n}=...`).join(', ')
    : `**{${names.map((n) => `'${n}': ...`).join(', ')}}`;
  throw new DataError(
    `The model has ${names.length} ${kind}(s) (${names.join(', ')}) but ${files} gives ${have} for them; name the arrays after the ${kind}s, e.g. numpy.savez('data.npz', ${example}).`,
  );
}

// ---- shapes ---------------------------------------------------------------------

function fitInput(arr: NamedArray, expected: Shape, what: string, name: string, opts: FitOptions): FittedArray {
  const base = { name, source: arr.source, sparse: false };
  if (arr.layout === 'tokens') return { ...base, ...repadTokens(arr, expected, what, opts) };
  const shape = rowsToSamples(arr, expected, what);
  if (matches(shape, expected)) return { ...base, shape, data: arr.data };
  if (shape.length === 1 && expected.length === 2 && expected[1] === 1)
    return { ...base, shape: [shape[0], 1], data: arr.data };
  throw shapeError(what, expected, arr.source, shape);
}

function fitTarget(
  arr: NamedArray,
  expected: Shape,
  what: string,
  name: string,
  loss: string | null,
  opts: FitOptions,
): FittedArray {
  const base = { name, source: arr.source };
  const shape = rowsToSamples(arr, expected, what, true);
  if (matches(shape, expected)) return { ...base, sparse: false, shape, data: arr.data };
  const classes = expected[expected.length - 1];
  const lead = expected.slice(0, -1);
  const isIds = expected.length >= 2 && (matches(shape, lead) || matches(shape, [...lead, 1]));
  if (isIds && classes === 1)
    return { ...base, sparse: false, shape: [...shape.slice(0, lead.length), 1], data: arr.data };
  if (isIds && classes !== null && classes > 1) {
    const { data } = arr;
    for (let i = 0; i < data.length; i++) {
      const k = data[i];
      if (!(Number.isInteger(k) && k >= 0 && k < classes)) {
        throw new DataError(
          `${what} has ${classes} classes, so ${arr.source} of shape ${fmtShape(shape)} would be class ids, but it holds ${k} at ${fmtIndex(i, shape)}; pass integer class ids in [0, ${classes}) or one-hot targets of shape ${fmtShape(expected)}.`,
        );
      }
    }
    if (loss === null || SPARSE_LOSSES.has(loss)) return { ...base, sparse: true, shape, data };
    if (ONE_HOT_LOSSES.has(loss)) {
      // Keras note: Keras rejects class ids for categorical_crossentropy; we one-hot encode them, which is what the
      // user meant.
      const rows = data.length;
      const oneHot = new Float64Array(rows * classes);
      for (let r = 0; r < rows; r++) oneHot[r * classes + data[r]] = 1;
      if (opts.warnings)
        warn(
          opts.warnings,
          'data-one-hot',
          `${arr.source}: class ids one-hot encoded to ${fmtShape([...shape.slice(0, lead.length), classes])} for the loss ${loss}.`,
        );
      return { ...base, sparse: false, shape: [...shape.slice(0, lead.length), classes], data: oneHot };
    }
    throw new DataError(
      `${arr.source} of shape ${fmtShape(shape)} looks like class ids, but the loss ${loss} of ${what} ${fmtShape(expected)} needs targets of that shape; pass targets of shape ${fmtShape(expected)} (or use --loss sparse_categorical_crossentropy).`,
    );
  }
  throw shapeError(what, expected, arr.source, shape);
}

/** CSV rows (one flattened sample each) → (rows, ...sample shape) when the counts allow it; other arrays keep their
 * shape. */
function rowsToSamples(arr: NamedArray, expected: Shape, what: string, ids = false): number[] {
  if (arr.layout !== 'rows' || expected.length < 2) return arr.shape;
  const [rows, cols] = arr.shape;
  if (matches(arr.shape, expected)) return arr.shape;
  const sample = expected.slice(1);
  let known = 1;
  let free = -1;
  for (let k = 0; k < sample.length; k++) {
    const d = sample[k];
    if (d === null) {
      if (free >= 0) return arr.shape; // two unknown dims: cannot infer; the caller reports the mismatch
      free = k;
    } else known *= d;
  }
  if (free < 0 && known === cols) return [rows, ...(sample as number[])];
  if (free >= 0 && known > 0 && cols % known === 0)
    return [rows, ...sample.map((d) => (d === null ? cols / known : d))];
  // One value per row may be a class id or a 1-D target; leave that to the caller.
  if (cols === 1) return arr.shape;
  // Targets: a row of class ids, one per position of the output without its class axis.
  const last = sample[sample.length - 1];
  if (ids && free < 0 && last !== null && last > 0 && known / last === cols)
    return [rows, ...(sample.slice(0, -1) as number[])];
  throw new DataError(
    `${what} expects ${fmtShape(expected)}, ${free < 0 ? `${known} values` : `a multiple of ${known} values`} per sample, but ${arr.source} has ${cols} values per row; each row must hold one sample flattened in C order (or add a '# shape:' line).`,
  );
}

function repadTokens(arr: NamedArray, expected: Shape, what: string, opts: FitOptions): NDArray {
  if (expected.length !== 2) {
    throw new DataError(
      `${what} expects ${fmtShape(expected)}, but ${arr.source} holds token sequences of different lengths; pass a rectangular array of that shape.`,
    );
  }
  const L = expected[1];
  const [n, len] = arr.shape;
  if (L === null || L === len) return { shape: arr.shape, data: arr.data };
  // Keras pad_sequences defaults: padding='pre' and truncating='pre' (keep the last L ids).
  const lengths = arr.lengths ?? new Array<number>(n).fill(len);
  const data = new Float64Array(n * L);
  let cut = 0;
  for (let i = 0; i < n; i++) {
    const keep = Math.min(lengths[i], L);
    if (lengths[i] > L) cut++;
    const src = i * len + len - keep;
    data.set(arr.data.subarray(src, src + keep), i * L + L - keep);
  }
  if (opts.warnings) {
    warn(
      opts.warnings,
      'data-repad',
      `${arr.source}: token sequences padded with 0 in front to the model's length ${L}${cut ? `; ${cut} longer sequence(s) lost their first ids` : ''} (Keras pad_sequences defaults).`,
    );
  }
  return { shape: [n, L], data };
}

/** Same rank and every fixed dim equal; the batch dim (0) and null dims match anything. */
function matches(shape: readonly number[], expected: Shape): boolean {
  if (shape.length !== expected.length) return false;
  for (let k = 1; k < shape.length; k++) if (expected[k] !== null && expected[k] !== shape[k]) return false;
  return true;
}

function shapeError(what: string, expected: Shape, source: string, shape: number[]): DataError {
  const head = `${what} expects ${fmtShape(expected)}; ${source} has shape ${fmtShape(shape)}`;
  const sample = expected.slice(1);
  if (shape.length === sample.length && matchesAll(shape, sample)) {
    return new DataError(
      `${head}, which looks like one sample; add a batch axis (x[None]) to pass it as a batch of 1.`,
    );
  }
  const perm = findPermutation(shape, expected);
  if (perm) {
    const fixed = perm.map((k) => shape[k]);
    return new DataError(
      `${head}: is it transposed? numpy.transpose(x, (${perm.join(', ')})) gives ${fmtShape(fixed)}.`,
    );
  }
  if (shape.length === expected.length - 1 && expected[expected.length - 1] === 1 && matches([...shape, 1], expected)) {
    return new DataError(`${head}, without the trailing feature axis of size 1; add it with x[..., None].`);
  }
  if (shape.length === expected.length + 1 && shape[shape.length - 1] === 1 && matches(shape.slice(0, -1), expected)) {
    return new DataError(`${head}, with an extra trailing axis of size 1; remove it with x[..., 0].`);
  }
  return new DataError(
    `${head}; check that the data belongs to this model and has one sample per row of the first axis.`,
  );
}

function matchesAll(shape: readonly number[], expected: Shape): boolean {
  return shape.length === expected.length && expected.every((d, k) => d === null || d === shape[k]);
}

/** A non-identity axis order p with shape[p[k]] fitting expected[k] (batch and null dims fit anything). Ranks up to 6.
 * */
function findPermutation(shape: readonly number[], expected: Shape): number[] | null {
  const r = shape.length;
  if (r !== expected.length || r < 2 || r > 6) return null;
  const perm: number[] = [];
  const used = new Array<boolean>(r).fill(false);
  const rec = (k: number): boolean => {
    if (k === r) return perm.some((p, i) => p !== i);
    for (let j = 0; j < r; j++) {
      if (used[j]) continue;
      const e = k === 0 ? null : expected[k];
      // The batch position must take an axis whose size no fixed dim claims, unless that is the only way.
      if (e !== null && e !== shape[j]) continue;
      used[j] = true;
      perm.push(j);
      if (rec(k + 1)) return true;
      perm.pop();
      used[j] = false;
    }
    return false;
  };
  return rec(0) ? perm : null;
}

function checkBatch(arrays: FittedArray[], batch: number | undefined, role: Role): void {
  const n = batch ?? arrays[0]?.shape[0];
  for (const a of arrays) {
    if (a.shape[0] !== n) {
      const other = batch !== undefined ? 'the inputs have' : `${arrays[0].source} has`;
      throw new DataError(
        `${a.source} has ${a.shape[0]} samples but ${other} ${n}; the ${role} must hold one entry per sample, so pass matching files.`,
      );
    }
  }
}

// ---- values ---------------------------------------------------------------------

interface EmbeddingRef {
  name: string;
  inputDim: number;
}

/** The Embedding layer that consumes tensor `id` directly (Keras: input → Embedding), if any. */
function embeddingFor(model: ModelSpec, id: TensorId): EmbeddingRef | null {
  for (const node of model.nodes) {
    if (!node.inputs.includes(id)) continue;
    let layer: LayerSpec | undefined = model.layers[node.layer];
    if (layer?.type === 'TimeDistributed') layer = layer.inner;
    if (layer?.type === 'Embedding') return { name: layer.name, inputDim: layer.inputDim };
  }
  return null;
}

function checkTokens(a: FittedArray, source: string, emb: EmbeddingRef, what: string): void {
  const d = a.data;
  let fractional = 0;
  let firstFrac = -1;
  let outside = 0;
  let firstOut = -1;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (!Number.isInteger(v)) {
      if (firstFrac < 0) firstFrac = i;
      fractional++;
    } else if (v < 0 || v >= emb.inputDim) {
      if (firstOut < 0) firstOut = i;
      outside++;
    }
  }
  if (fractional > 0) {
    // Keras note: Keras casts float inputs of an Embedding to int (truncating); we refuse, because it is almost always
    // the wrong file.
    throw new DataError(
      `${what} feeds Embedding '${emb.name}', which needs integer token ids, but ${source} holds ${fractional} non-integer value(s) (first ${d[firstFrac]} at ${fmtIndex(firstFrac, a.shape)}); pass token ids, not features (Keras would silently truncate them).`,
    );
  }
  if (outside > 0) {
    throw new DataError(
      `${source} holds ${outside} token id(s) outside [0, ${emb.inputDim}) (first ${d[firstOut]} at ${fmtIndex(firstOut, a.shape)}), but Embedding '${emb.name}' has input_dim=${emb.inputDim}; tokenize with this model's vocabulary.`,
    );
  }
}

/** Canonical loss name of output i (the option's spelling resolved; a stored unknown name kept as is), or null. */
function lossFor(model: ModelSpec, i: number, opts: FitOptions): string | null {
  const given = opts.losses?.[i];
  if (given !== undefined) return given === null ? null : (lossName(given) ?? given);
  const l = model.meta.loss;
  if (!l || l.length === 0) return null;
  return (l.length === 1 ? l[0] : l[i])?.name ?? null;
}
