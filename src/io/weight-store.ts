// Weight arrays as the loaders find them in a file, and the check that keeps a small file from
// costing gigabytes: every array's shape is known from metadata (an HDF5 dataset header, a zip
// member's declared size) before its values are read or decompressed, and the config says how
// many values each layer can use. So all layers are declared first, checked against their
// configs and the file's ExpansionBudget, and only then read and bound, one layer at a time.

import { LoadError, ModelError } from '../model/errors.js';
import type { ModelSpec } from '../model/types.js';
import { withFile, type ExpansionBudget } from './common.js';

/** One stored array with its values, in file order. */
export interface StoredArray {
  name: string;
  shape: number[];
  data: ArrayLike<number>;
}

/** One stored array whose shape is known and whose values are read on demand. */
export interface DeclaredArray {
  name: string;
  shape: number[];
  /** Bytes the read allocates (decoded). */
  bytes: number;
  read(): ArrayLike<number>;
}

export type WeightArray = StoredArray | DeclaredArray;

/** Where Keras 3 variables are read from: the HDF5 store, the npz store, a TF.js manifest. */
export interface VarStore {
  /** Child group names of a group path ('' = root); [] when absent. */
  children(path: string): string[];
  /**
   * The arrays of `<path>/vars` ordered 0..n-1, or null when there is no such group. `maxValues`
   * is the most values the caller can use: a store that must decompress a member to learn its
   * shapes refuses a larger member before inflating it.
   */
  vars(path: string, maxValues?: number): WeightArray[] | null;
  /** What reads of declared arrays draw on (checked for their total before any is read). */
  budget?: ExpansionBudget;
}

/** Dataset names 0..n-1 in numeric order; anything else in a vars group is an error. */
export function numbered(keys: string[], where: string, file: string): string[] {
  const nums = keys.map((k) => (/^(0|[1-9]\d{0,5})$/.test(k) ? Number(k) : -1)).sort((a, b) => a - b);
  if (nums.some((n, i) => n !== i)) {
    throw new LoadError(
      `${file} group ${where} holds [${keys.slice(0, 6).join(', ')}]; expected variables named 0, 1, 2, ...; the file was not written by Keras 3.`,
      { file },
    );
  }
  return nums.map(String);
}

/** The arrays of one Keras layer (several ModelSpec layers for a nested model) and how to bind them once read. */
export interface LayerWeights {
  /** Layer name and class, for messages. */
  name: string;
  className: string;
  /** ModelSpec layer indices whose parameters these arrays fill. */
  layers: number[];
  arrays: WeightArray[];
  bind(arrays: StoredArray[]): void;
}

const count = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function isDeclared(a: WeightArray): a is DeclaredArray {
  return typeof (a as DeclaredArray).read === 'function';
}

/** The values the config's parameters of `layers` hold. */
export function expectedValues(model: ModelSpec, layers: number[]): number {
  let n = 0;
  for (const i of layers) for (const p of model.params[i] ?? []) n += count(p.shape);
  return n;
}

/**
 * Most values a layer's stored arrays may declare: the config's count, doubled for cuDNN weights
 * (CuDNNLSTM/CuDNNGRU store a second bias; every other layout bind.ts converts holds exactly the
 * config's values), plus a little for tiny layers.
 */
export function allowedValues(expected: number): number {
  return 2 * expected + 64;
}

function shapeList(arrays: WeightArray[]): string {
  const shown = arrays
    .slice(0, 4)
    .map((a) => `[${a.shape.join(',')}]`)
    .join(', ');
  return arrays.length > 4 ? `${shown}, … (${arrays.length} arrays)` : shown;
}

/** ModelError when a layer's stored arrays declare more values than its config can use (nothing is read). */
export function checkDeclared(model: ModelSpec, lw: LayerWeights, file: string): void {
  const declared = lw.arrays.reduce((n, a) => n + count(a.shape), 0);
  const expected = expectedValues(model, lw.layers);
  if (declared <= allowedValues(expected)) return;
  const params = lw.layers.flatMap((i) => model.params[i] ?? []);
  const want =
    params
      .slice(0, 6)
      .map((p) => `[${p.shape.join(',')}]`)
      .join(', ') + (params.length > 6 ? ', …' : '');
  throw new ModelError(
    `${file} stores ${declared} values for layer ${lw.name} (${lw.className}) in arrays of shapes ${shapeList(lw.arrays)}; expected the ${expected} values of the weights its config declares (${want || 'none'}); check that the weights file belongs to this architecture (nothing was read).`,
    { file },
  );
}

/** The arrays with their values (declared ones are read now). */
export function readArrays(arrays: WeightArray[]): StoredArray[] {
  return arrays.map((a) => (isDeclared(a) ? { name: a.name, shape: a.shape, data: a.read() } : a));
}

/**
 * Check every layer's declared arrays against its config, then the total against `budget`, before
 * reading anything; then read and bind layer by layer (so at most one layer's raw arrays are alive
 * beside the bound float64 weights).
 */
export function bindAll(model: ModelSpec, items: LayerWeights[], file: string, budget: ExpansionBudget | null): void {
  let bytes = 0;
  let arrays = 0;
  for (const lw of items) {
    checkDeclared(model, lw, file);
    for (const a of lw.arrays)
      if (isDeclared(a)) {
        bytes += a.bytes;
        arrays++;
      }
  }
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  budget?.check(bytes, `weight data (${plural(arrays, 'array')} for ${plural(items.length, 'layer')})`);
  for (const lw of items) {
    try {
      lw.bind(readArrays(lw.arrays));
    } catch (e) {
      throw withFile(e, file);
    }
  }
}
