// What the format modules share with their registries (index.ts for models, data.ts for data):
// the input a model format opens, the arrays a data format reads, and the shape of a format.
// Type-only, so that a format module needs nothing from the registry that lists it.

import type { ModelSpec, Warning } from '../model/types.js';

/** The main file plus its siblings (weights shards, a separate weights file, folder members), read lazily by name. */
export interface FileSet {
  /** Name or path of the main file, as shown in messages. */
  name: string;
  /** Content of the main file. */
  bytes: Uint8Array;
  /** A sibling by the name the main file uses for it (relative to the main file's folder), or null when absent. */
  get(name: string): Promise<Uint8Array | null>;
  /** Name (for `get`) of a separate weights file given by the user (`--weights`), if any. */
  weights?: string;
}

/** A model file format: src/io/<name>.ts exports these three. */
export interface ModelFormat {
  name: string;
  /** Whether the file is this format: by content (magic bytes, JSON keys); the name only breaks ties. */
  match(bytes: Uint8Array, fileName: string): boolean;
  open(files: FileSet): Promise<ModelSpec>;
}

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

/**
 * A data file format: src/io/<name>.ts exports these three (data.ts also lists the files it refuses in this shape,
 * their `read` throwing the refusal). The registry tries them in order; the first whose `match` is true reads.
 */
export interface DataFormat {
  name: string;
  /** Whether the file is this format: by content first; the name decides only what content leaves open. */
  match(bytes: Uint8Array, fileName: string): boolean;
  read(bytes: Uint8Array, fileName: string, opts?: DataOptions): NamedArray[];
}
