// Node-only entry: build a FileSet from paths on disk. The only io module that touches node:fs.
//
// A path may be a file (.keras, .h5, model.json, a to_json() architecture) or a folder (an
// unzipped .keras: config.json inside; or a TF.js model folder: model.json inside). Siblings
// (weight shards, folder members) are read on demand from the main file's folder and may not
// leave it; the --weights file is read from where the user points.
//
// Every file is read by readInputFile: only regular files, at most MAX_FILE_BYTES, checked on
// the open handle before anything is read (loadDataFile does the same for data files).

import { constants } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { LoadError } from '../model/errors.js';
import type { ModelSpec } from '../model/types.js';
import { openModel, type FileSet } from './index.js';
import { openData, type DataOptions, type NamedArray } from './data.js';

/** Largest file read from disk: 2 GiB − 1, the most Node reads into one buffer (the zip/HDF5 readers' own limits also
 * apply). */
export const MAX_FILE_BYTES = 2 ** 31 - 1;

export interface ReadInputOptions {
  /** The path as shown in messages (default: the path given). */
  shown?: string;
  /** What a good file is, for messages: "a model file", "a .npy, .npz, CSV or JSON data file". */
  expected?: string;
  /** Largest size accepted, bytes (default and most: MAX_FILE_BYTES). */
  maxBytes?: number;
}

/**
 * A whole input file, refused before anything is read when it is not a regular file (a folder, a
 * device such as /dev/zero, a FIFO, a socket) or is larger than `maxBytes`. It is opened without
 * blocking (opening a FIFO would wait for a writer) and checked on the open handle, so what is
 * checked is what is read.
 */
export async function readInputFile(p: string, opts: ReadInputOptions = {}): Promise<Uint8Array> {
  const shown = opts.shown ?? p;
  const expected = opts.expected ?? 'a regular file';
  const maxBytes = Math.min(opts.maxBytes ?? MAX_FILE_BYTES, MAX_FILE_BYTES);
  let fh;
  try {
    fh = await open(p, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EISDIR')
      throw new LoadError(`${shown} is a folder; expected ${expected}; pass the file itself.`, {
        file: shown,
        cause: e,
      });
    throw new LoadError(
      `${shown} does not exist or cannot be read (${code ?? String(e)}); expected ${expected}; check the path.`,
      { file: shown, cause: e },
    );
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      const kind = st.isDirectory()
        ? 'a folder'
        : st.isCharacterDevice() || st.isBlockDevice()
          ? 'a device'
          : st.isFIFO()
            ? 'a pipe (FIFO)'
            : st.isSocket()
              ? 'a socket'
              : 'not a regular file';
      throw new LoadError(`${shown} is ${kind}, not a regular file; expected ${expected}; pass the file itself.`, {
        file: shown,
      });
    }
    if (st.size > maxBytes) {
      const why = maxBytes === MAX_FILE_BYTES ? ' (2 GiB, the most Node reads into one buffer)' : '';
      throw new LoadError(
        `${shown} is ${st.size} bytes, more than the ${maxBytes} bytes rnnscope reads${why}; expected ${expected} of at most that size; nothing was read.`,
        { file: shown },
      );
    }
    const buf = new Uint8Array(st.size);
    let at = 0;
    while (at < buf.length) {
      const { bytesRead } = await fh.read(buf, at, buf.length - at, at);
      if (bytesRead === 0) break; // the file shrank meanwhile
      at += bytesRead;
    }
    return at === buf.length ? buf : buf.subarray(0, at);
  } finally {
    await fh.close();
  }
}

/** A data file (.npy, .npz, CSV/TSV, JSON) from disk: readInputFile, then openData (data.ts). */
export async function loadDataFile(
  file: string,
  opts: DataOptions & { maxBytes?: number } = {},
): Promise<NamedArray[]> {
  const bytes = await readInputFile(file, { expected: 'a .npy, .npz, CSV or JSON data file', maxBytes: opts.maxBytes });
  return openData(bytes, path.basename(file), opts);
}

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
      throw new LoadError(
        `${file} is a folder without config.json or model.json; expected an unzipped .keras folder or a TF.js model folder; pass the model file itself.`,
        { file },
      );
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
        throw new LoadError(
          `${file} refers to ${name}, outside its folder ${dir}; expected sibling files only; move the files together.`,
          { file },
        );
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
    throw new LoadError(
      `${file} refers to ${name}, a link to ${real}, outside the model folder ${realDir}; expected the file itself inside the folder; copy the file into the model folder instead of linking it.`,
      { file },
    );
  }
}

async function statOrThrow(p: string, shown: string) {
  try {
    return await stat(p);
  } catch (e) {
    throw new LoadError(
      `${shown} does not exist or cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}); expected a model file or folder; check the path.`,
      { file: shown, cause: e },
    );
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

function readLimited(p: string, shown: string): Promise<Uint8Array> {
  return readInputFile(p, { shown, expected: 'a model file' });
}
