// User data loading: bytes of a data file in, named float64 arrays out.
//
//   bytes ──match()──► npy | npz | json | csv ──read()──► NamedArray[] ──fitDataToModel (data-check.ts)──► arrays
//
// A registry like the model formats' (index.ts): each data format module exports `name`,
// `match(bytes, fileName)` and `read(bytes, fileName, opts)`, and the first whose match is
// true reads the file. Content decides first (magic bytes, first character); a name decides
// only what the content leaves open, which each match() says. Files rnnscope refuses (HDF5,
// pickles, other binaries, text too long to decode) are entries of the same shape whose
// read() throws the refusal. The file formats and the CSV layout are documented in
// docs/data-formats.md. Nothing here touches node:*; the CLI reads the file and the web page
// passes dropped bytes.

import { DataError, LoadError, RnnscopeError } from '../model/errors.js';
import type { DataFormat, DataOptions, NamedArray } from './types.js';
import * as npy from './npy.js';
import * as npz from './npz.js';
import * as csv from './csv.js';
import * as json from './json-data.js';
import { HDF5_MAGIC, hexStart, isPickle, startsWith } from './magic.js';

export type { DataFormat, DataOptions, NamedArray } from './types.js';

/** V8's longest string (2^29 − 24 UTF-16 units on 64-bit): CSV and JSON text longer than this cannot be decoded. */
export const MAX_TEXT_BYTES = 2 ** 29 - 24;

const hdf5: DataFormat = {
  name: 'hdf5 (refused)',
  match: (bytes) => startsWith(bytes, HDF5_MAGIC),
  read(_bytes, fileName) {
    throw new LoadError(
      `${fileName} is an HDF5 file; rnnscope reads data from .npy, .npz, .json and .csv/.tsv, so export the arrays first (with h5py: numpy.save('x.npy', f['inputs'][...])).`,
      { file: fileName },
    );
  },
};

const pickle: DataFormat = {
  name: 'pickle (refused)',
  match: isPickle,
  read(_bytes, fileName) {
    throw new DataError(
      `${fileName} is a Python pickle; pickles can run code, so rnnscope refuses them; save a numeric array with numpy.save instead.`,
      { file: fileName },
    );
  },
};

const binary: DataFormat = {
  name: 'binary (refused)',
  // NUL bytes do not occur in text files.
  match: (bytes) => bytes.subarray(0, 4096).includes(0),
  read(bytes, fileName) {
    throw new LoadError(
      `${fileName} is a binary file of unknown kind (it starts with bytes ${hexStart(bytes)}); expected .npy, .npz, .json or .csv data, so convert the data to one of those.`,
      { file: fileName },
    );
  },
};

const longText: DataFormat = {
  name: 'text too long (refused)',
  match: (bytes) => bytes.length > MAX_TEXT_BYTES,
  read(bytes, fileName) {
    throw new LoadError(
      `${fileName} is ${bytes.length} bytes of text; CSV and JSON data are read as one string, at most ${MAX_TEXT_BYTES} characters (JavaScript's longest string); save the arrays with numpy.save or numpy.savez (.npy/.npz) instead.`,
      { file: fileName },
    );
  },
};

/** In the order they are tried; csv, last, takes any text. */
export const dataFormats: readonly DataFormat[] = [npy, npz, hdf5, pickle, binary, longText, json, csv];

/** The data format (or refusal) that reads a file with these bytes and this name (what the page asks). */
export function dataFormatOf(bytes: Uint8Array, fileName: string): DataFormat {
  return dataFormats.find((f) => f.match(bytes, fileName)) ?? csv;
}

/** Read a data file (.npy, .npz, .json, .csv/.tsv/.txt). Every failure is a LoadError or DataError. */
export function openData(bytes: Uint8Array, fileName: string, opts: DataOptions = {}): NamedArray[] {
  try {
    return dataFormatOf(bytes, fileName).read(bytes, fileName, opts);
  } catch (e) {
    if (e instanceof RnnscopeError) throw e;
    // A bug or an exotic input reached a generic exception: still a load failure of this file.
    throw new LoadError(
      `Reading ${fileName} failed (${e instanceof Error ? e.message : String(e)}); expected a well-formed data file; the file is damaged or unusual, please report it.`,
      { file: fileName, cause: e },
    );
  }
}
