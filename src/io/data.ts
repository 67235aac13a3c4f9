// User data loading: bytes of a data file in, named float64 arrays out.
//
//   bytes ──sniff──► npy | npz | json | csv ──► NamedArray[] ──fitDataToModel (data-check.ts)──► model-ordered arrays
//
// Formats are recognised by content first (magic bytes, first character), then by
// extension. The file formats and the CSV layout are documented in docs/data-formats.md.
// Nothing here touches node:*; the CLI reads the file and the web page passes dropped bytes.

import { DataError, LoadError, RnnscopeError } from '../model/errors.js';
import type { Warning } from '../model/types.js';
import * as npy from './npy.js';
import * as npz from './npz.js';
import * as csv from './csv.js';
import * as json from './json-data.js';

/** One array read from a data file. Values are float64 whatever the stored dtype (integers are exact up to 2^53). */
export interface NamedArray {
  /** Array name: the file name without extension, the .npz member without `.npy`, or the JSON key. */
  name: string;
  shape: number[];
  /** Stored dtype in numpy's naming (float32, int64, bool, ...); text formats give float64, token lists int32. */
  dtype: string;
  /** Row-major (C order) values. */
  data: Float64Array;
  /** Where it came from, for messages: "x.npy", "data.npz:x.npy", "data.json:x". */
  source: string;
  /**
   * How `shape` relates to samples:
   * - undefined: shape is the array's own shape;
   * - 'rows': CSV rows without a `# shape:` line, shape (rows, values per row); each row is one sample
   *   flattened in C order and is reshaped to the model's sample shape;
   * - 'tokens': ragged integer sequences padded with 0 in front to the longest (see `lengths`).
   */
  layout?: 'rows' | 'tokens';
  /** layout 'tokens': the length of each sequence before padding. */
  lengths?: number[];
}

export interface DataOptions {
  /** Collects warnings (skipped header rows, ignored members, re-padding). */
  warnings?: Warning[];
}

/** V8's longest string (2^29 − 24 UTF-16 units on 64-bit): CSV and JSON text longer than this cannot be decoded. */
export const MAX_TEXT_BYTES = 2 ** 29 - 24;

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** Read a data file (.npy, .npz, .json, .csv/.tsv/.txt). Every failure is a LoadError or DataError. */
export function openData(bytes: Uint8Array, fileName: string, opts: DataOptions = {}): NamedArray[] {
  try {
    return dispatch(bytes, fileName, opts);
  } catch (e) {
    if (e instanceof RnnscopeError) throw e;
    // A bug or an exotic input reached a generic exception: still a load failure of this file.
    throw new LoadError(
      `Reading ${fileName} failed (${e instanceof Error ? e.message : String(e)}); expected a well-formed data file; the file is damaged or unusual, please report it.`,
      { file: fileName, cause: e },
    );
  }
}

function dispatch(bytes: Uint8Array, fileName: string, opts: DataOptions): NamedArray[] {
  if (npy.hasMagic(bytes)) return [npy.readNpy(bytes, fileName)];
  if (npz.match(bytes, '')) return npz.readNpz(bytes, fileName, opts);
  if (/\.npy$/i.test(fileName)) return [npy.readNpy(bytes, fileName)]; // throws the signature error
  if (/\.npz$/i.test(fileName)) return npz.readNpz(bytes, fileName, opts);
  if (startsWith(bytes, HDF5_MAGIC)) {
    throw new LoadError(
      `${fileName} is an HDF5 file; rnnscope reads data from .npy, .npz, .json and .csv/.tsv, so export the arrays first (with h5py: numpy.save('x.npy', f['inputs'][...])).`,
      { file: fileName },
    );
  }
  // Pickle protocol 2-5 starts with PROTO (0x80) and the protocol number.
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) {
    throw new DataError(
      `${fileName} is a Python pickle; pickles can run code, so rnnscope refuses them; save a numeric array with numpy.save instead.`,
      { file: fileName },
    );
  }
  if (isBinary(bytes)) {
    throw new LoadError(
      `${fileName} is a binary file of unknown kind (it starts with bytes ${hexStart(bytes)}); expected .npy, .npz, .json or .csv data, so convert the data to one of those.`,
      { file: fileName },
    );
  }
  if (bytes.length > MAX_TEXT_BYTES) {
    throw new LoadError(
      `${fileName} is ${bytes.length} bytes of text; CSV and JSON data are read as one string, at most ${MAX_TEXT_BYTES} characters (JavaScript's longest string); save the arrays with numpy.save or numpy.savez (.npy/.npz) instead.`,
      { file: fileName },
    );
  }
  if (json.match(bytes, fileName)) return json.readJsonData(bytes, fileName, opts);
  return [csv.readCsv(bytes, fileName, opts)];
}

/** NUL bytes do not occur in text files. */
function isBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 4096);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true;
  return false;
}

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  if (bytes.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic[i]) return false;
  return true;
}

function hexStart(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}
