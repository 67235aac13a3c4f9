// Which of the files a person picked is the model, and which are its weights.
//
// A browser gives a flat list of File objects (from <input type=file multiple> or a folder
// pick), not a path with siblings. The loaders (src/io/index.ts) want one main file plus
// siblings read by name, and a separate weights file for a to_json() architecture. This
// module chooses the main file by content, the same signals the format modules use:
//   model.json with "modelTopology"      TF.js layers model (shards are siblings)
//   zip (PK\x03\x04) / *.keras           Keras 3 .keras
//   config.json beside model.weights.*   an unzipped .keras folder
//   JSON with "class_name" + "config"    a to_json() architecture; weights = an HDF5 file
//   HDF5 (\x89HDF)                       a full-model .h5 (or a weights-only file, which the loader refuses by name)
// Pure: no DOM, no node:*, so the Node tests run it too.

import { fileSetFromMap, type FileSet } from '../src/io/index.js';
import { jsonMentions, looksLikeJsonObject, startsWith } from '../src/io/common.js';
import { HDF5_MAGIC } from '../src/io/hdf5.js';

export interface PickedFile {
  name: string;
  bytes: Uint8Array;
}

export type Role = 'tfjs' | 'keras-zip' | 'keras-folder' | 'architecture' | 'hdf5' | 'other';

export interface Choice {
  main: string;
  /** The separate weights file for an architecture JSON, when there is one. */
  weights: string | null;
  /** Role of every file, for display. */
  roles: Record<string, Role>;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const base = (n: string): string => n.slice(n.lastIndexOf('/') + 1);

export function roleOf(f: PickedFile): Role {
  const b = f.bytes;
  const n = base(f.name).toLowerCase();
  if (startsWith(b, HDF5_MAGIC)) return 'hdf5';
  if (startsWith(b, ZIP_MAGIC) || n.endsWith('.keras')) return 'keras-zip';
  if (looksLikeJsonObject(b)) {
    if (jsonMentions(b, 'modelTopology')) return 'tfjs';
    if (n === 'config.json' && jsonMentions(b, 'class_name')) return 'keras-folder';
    if (jsonMentions(b, 'class_name') && jsonMentions(b, 'config')) return 'architecture';
  }
  return 'other';
}

/** Order of preference for the main file (earlier wins). */
const MAIN_ORDER: Role[] = ['tfjs', 'keras-zip', 'keras-folder', 'architecture', 'hdf5'];

/**
 * Chooses the main file (and the weights of an architecture) among `files`. Returns null when no
 * file looks like a model; the page then hands the first file to the loaders, whose error says
 * what it found.
 */
export function chooseModelFiles(files: readonly PickedFile[]): Choice | null {
  const roles: Record<string, Role> = {};
  for (const f of files) roles[f.name] = roleOf(f);
  // A folder holding config.json and model.weights.* is an unzipped .keras even without the name hint.
  for (const f of files) {
    if (base(f.name) === 'config.json' && roles[f.name] === 'architecture' && files.some((g) => /^model\.weights\.(h5|npz)$/.test(base(g.name)))) roles[f.name] = 'keras-folder';
  }
  for (const role of MAIN_ORDER) {
    const cands = files.filter((f) => roles[f.name] === role);
    if (cands.length === 0) continue;
    const main = cands[0]!;
    let weights: string | null = null;
    if (role === 'architecture') {
      const h5 = files.filter((f) => roles[f.name] === 'hdf5');
      // Several HDF5 files (a full model, its weights, a data file): prefer one named like weights.
      weights = (h5.find((f) => /weight/i.test(base(f.name))) ?? h5[0])?.name ?? null;
    }
    return { main: main.name, weights, roles };
  }
  return null;
}

/** The FileSet the loaders read, over files held in memory; `weights` names the separate weights file. */
export function fileSetOf(files: readonly PickedFile[], main: string): FileSet {
  return fileSetFromMap(main, new Map(files.map((f) => [f.name, f.bytes])));
}
