// Node-only entry: build a FileSet from paths on disk. The only io module that touches node:fs.
//
// A path may be a file (.keras, .h5, model.json, a to_json() architecture) or a folder (an
// unzipped .keras: config.json inside; or a TF.js model folder: model.json inside). Siblings
// (weight shards, folder members) are read on demand from the main file's folder and may not
// leave it; the --weights file is read from where the user points.

import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { LoadError } from '../model/errors.js';
import type { ModelSpec } from '../model/types.js';
import { openModel, type FileSet } from './index.js';

/** Largest file read from disk (also the zip/HDF5 readers' own limits apply). */
export const MAX_FILE_BYTES = 2 ** 31 - 1;

export async function loadModelFile(file: string, opts: { weights?: string } = {}): Promise<ModelSpec> {
  const files = await fileSetFromPath(file, opts.weights);
  return openModel(files, opts.weights !== undefined ? { weights: path.resolve(opts.weights) } : {});
}

/** A FileSet for `file` (or a folder), with `weights` readable by its resolved path. */
export async function fileSetFromPath(file: string, weights?: string): Promise<FileSet> {
  let main = path.resolve(file);
  const st = await statOrThrow(main, file);
  if (st.isDirectory()) {
    const inside = ['config.json', 'model.json'].map((n) => path.join(main, n));
    const found = [];
    for (const f of inside) if (await exists(f)) found.push(f);
    if (found.length === 0) {
      throw new LoadError(`${file} is a folder without config.json or model.json; expected an unzipped .keras folder or a TF.js model folder; pass the model file itself.`, { file });
    }
    main = found[0];
  }
  const dir = path.dirname(main);
  const weightsPath = weights !== undefined ? path.resolve(weights) : undefined;
  const bytes = await readLimited(main, file);
  return {
    name: main === path.resolve(file) ? file : path.join(file, path.basename(main)),
    bytes,
    async get(name: string) {
      const p = name === weightsPath ? name : path.resolve(dir, name);
      if (p !== weightsPath && path.relative(dir, p).split(path.sep)[0] === '..') {
        throw new LoadError(`${file} refers to ${name}, outside its folder ${dir}; expected sibling files only; move the files together.`, { file });
      }
      if (!(await exists(p))) return null;
      if (p !== weightsPath) await checkInside(p, dir, name, file);
      return readLimited(p, name);
    },
  };
}

/** A sibling that is a symbolic link (or sits in a linked folder) must still resolve inside the model folder. */
async function checkInside(p: string, dir: string, name: string, file: string): Promise<void> {
  const [real, realDir] = await Promise.all([realpath(p), realpath(dir)]);
  const rel = path.relative(realDir, real);
  if (rel === '' || rel.split(path.sep)[0] === '..' || path.isAbsolute(rel)) {
    throw new LoadError(`${file} refers to ${name}, a link to ${real}, outside the model folder ${realDir}; expected the file itself inside the folder; copy the file into the model folder instead of linking it.`, { file });
  }
}

async function statOrThrow(p: string, shown: string) {
  try {
    return await stat(p);
  } catch (e) {
    throw new LoadError(`${shown} does not exist or cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}); expected a model file or folder; check the path.`, { file: shown, cause: e });
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function readLimited(p: string, shown: string): Promise<Uint8Array> {
  const st = await statOrThrow(p, shown);
  if (!st.isFile()) throw new LoadError(`${shown} is not a regular file; expected a model file; check the path.`, { file: shown });
  if (st.size > MAX_FILE_BYTES) {
    throw new LoadError(`${shown} is ${st.size} bytes; expected at most ${MAX_FILE_BYTES}; rnnscope cannot load models this large.`, { file: shown });
  }
  const b = await readFile(p);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
