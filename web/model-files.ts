// Which of the files a person picked is the model, and which are its weights.
//
// A browser gives a flat list of File objects (from <input type=file multiple> or a folder
// pick), not a path with siblings. The loaders (src/io/index.ts) want one main file plus
// siblings read by name, and a separate weights file for a to_json() architecture. What each
// file is, the io format registry says (src/io/index.ts modelFormatOf: the formats' match(), in order):
//   tfjs-layers        a TF.js model.json (shards are siblings)
//   keras-v3           a .keras zip, or the config.json of an unzipped .keras folder
//   keras-h5-weights   a to_json() architecture; its weights = an HDF5 file
//   keras-h5           any HDF5: a full-model .h5 (or a weights-only file, which the loader refuses by name)
// Pure: no DOM, no node:*, so the Node tests run it too. The app page (web/app-models.ts) goes
// further and opens the candidates; this lab page shows what the formats say.

import { fileSetFromMap, modelFormatOf, type FileSet } from '../src/io/index.js';

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

const base = (n: string): string => n.slice(n.lastIndexOf('/') + 1);

const ROLE_OF_FORMAT: Record<string, Role> = {
  'tfjs-layers': 'tfjs',
  'keras-h5-weights': 'architecture',
  'keras-h5': 'hdf5',
};

export function roleOf(f: PickedFile): Role {
  const format = modelFormatOf(f.bytes, f.name)?.name;
  if (format === undefined) return 'other';
  if (format === 'keras-v3') return base(f.name) === 'config.json' ? 'keras-folder' : 'keras-zip';
  return ROLE_OF_FORMAT[format] ?? 'other';
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
