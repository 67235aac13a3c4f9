// Model file loading: bytes in, ModelSpec (configuration + bound weights) out.
//
//   FileSet ──match()──► format module ──open()──► config JSON ─► buildModel (src/model)
//                                   └──────────► weight arrays ─► bindLayerWeights, checkAllBound
//
// One module per on-disk format, each exporting `name`, `match(bytes, fileName)`
// and `open(files)`:
//   keras-v3      .keras zip (or its unzipped folder): config.json + model.weights.h5/.npz
//   keras-h5      legacy full-model HDF5 (Keras 1.2 ... Keras 3 legacy h5)
//   keras-h5-weights to_json() architecture + weights-only HDF5 (legacy save_weights or Keras 3 .weights.h5)
//   tfjs-layers   TensorFlow.js model.json + binary shards
// Formats are recognised by content (magic bytes, JSON keys); the file name only
// breaks ties. A format module imports only shared io modules, never another format
// (test/io-leaf-modules.test.ts): the JSON and sniffing helpers (common.ts, magic.ts), the
// weight stores (legacy-store.ts, keras3-store.ts, keras-npz-store.ts), a separate weights file
// (weights-file.ts). Adding a format: docs/formats.md ('Adding a format'). Nothing here
// touches node:*; src/io/node.ts builds a FileSet from paths.

import { LoadError } from '../model/errors.js';
import type { ModelSpec } from '../model/types.js';
import type { FileSet, ModelFormat } from './types.js';
import * as kerasV3 from './keras-v3.js';
import * as kerasH5 from './keras-h5.js';
import * as kerasWeights from './keras-weights.js';
import * as tfjsLayers from './tfjs-layers.js';
import { withFile } from './common.js';
import { hexStart, lfsPointerNote } from './magic.js';

export type { FileSet, ModelFormat } from './types.js';

/** In the order they are tried; the first whose `match` is true opens the file. */
export const formats: readonly ModelFormat[] = [kerasH5, kerasV3, tfjsLayers, kerasWeights];

/** The format that opens a file with these bytes and this name, or null when none knows it (what the page asks). */
export function modelFormatOf(bytes: Uint8Array, fileName: string): ModelFormat | null {
  return formats.find((f) => f.match(bytes, fileName)) ?? null;
}

export interface OpenOptions {
  /** Name (for `files.get`) of a weights file: a weights-only .h5 / .weights.h5 for a to_json() architecture, or
   * weights replacing a full model's own. */
  weights?: string;
}

/** Pick the format of `files` and load it. Every failure is a LoadError or ModelError, never a crash. */
export async function openModel(files: FileSet, opts: OpenOptions = {}): Promise<ModelSpec> {
  const fs: FileSet = opts.weights !== undefined ? { ...files, weights: opts.weights } : files;
  const fmt = modelFormatOf(fs.bytes, fs.name);
  if (!fmt) {
    throw new LoadError(
      lfsPointerNote(fs.name, fs.bytes) ??
        `${fs.name} is not a model file rnnscope knows (${describeStart(fs.bytes)}); expected a .keras zip, a Keras .h5, a to_json() architecture with --weights, or a TF.js model.json; check the file.`,
      { file: fs.name },
    );
  }
  try {
    return await fmt.open(fs);
  } catch (e) {
    if (e instanceof Error && 'stage' in e) throw withFile(e, fs.name);
    // A bug or an exotic input reached a generic exception: still report it as a load failure of this file.
    throw new LoadError(
      `Loading ${fs.name} as ${fmt.name} failed (${e instanceof Error ? e.message : String(e)}); expected a well-formed ${fmt.name} file; the file is damaged or unusual, please report it.`,
      { file: fs.name, cause: e },
    );
  }
}

/** A FileSet over files already in memory (browser drops, tests). Names are matched exactly, then by base name. */
export function fileSetFromMap(mainName: string, files: Map<string, Uint8Array> | Record<string, Uint8Array>): FileSet {
  const map = files instanceof Map ? files : new Map(Object.entries(files));
  const main = map.get(mainName);
  if (!main)
    throw new LoadError(
      `No file named ${mainName} among ${[...map.keys()].join(', ') || 'no files'}; expected the main model file; add it.`,
      { file: mainName },
    );
  const base = (n: string) => n.slice(n.lastIndexOf('/') + 1);
  return {
    name: mainName,
    bytes: main,
    async get(name: string) {
      return (
        map.get(name) ??
        map.get(dirOf(mainName) + name) ??
        [...map.entries()].find(([k]) => base(k) === base(name))?.[1] ??
        null
      );
    },
  };
}

function dirOf(name: string): string {
  const i = name.lastIndexOf('/');
  return i < 0 ? '' : name.slice(0, i + 1);
}

function describeStart(bytes: Uint8Array): string {
  return bytes.length === 0 ? 'it is empty' : `it starts with bytes ${hexStart(bytes)}`;
}
