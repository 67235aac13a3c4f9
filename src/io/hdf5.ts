// A thin, defensive wrapper over h5wasm (the HDF5 C library compiled to
// WebAssembly): open a file from bytes, read attributes (fixed- and
// variable-length strings, Keras' chunked `name0, name1, ...` attributes) and
// numeric datasets as typed arrays, refusing anything that would allocate more
// than the file could hold or its ExpansionBudget allows (checked from metadata,
// before HDF5 decompresses anything). What needs no wasm (the superblock check run before
// HDF5 sees the bytes, dtype names, decoding values) is in hdf5-format.ts.
//
// One import for Node and the browser: the package's ESM build ('h5wasm')
// embeds its wasm binary and keeps files in an in-memory FS, so it runs
// unchanged in Node 20 and in a bundle. ('h5wasm/node' also works in Node, but
// its exit handler sets process.exitCode when the wasm aborts; the ESM build
// only throws.) This file is the only place that imports h5wasm.
//
// HDF5 reports errors by printing a diagnostic stack to stderr and returning a
// negative id. We point the wasm module's stderr (fd 2) at a capture device so
// nothing reaches the terminal, and turn each failure into a one-sentence
// LoadError whose cause is the last line of the diagnostic.

import type * as H5 from 'h5wasm';
import { LoadError } from '../model/errors.js';
import { asStrings, checkSuperblock, decodeDataset, dtypeName, toPlain, type H5Data } from './hdf5-format.js';
import { ExpansionBudget } from './common.js';

type H5Lib = typeof H5;
type Module = H5Lib['Module'];

/** Limits on what a dataset read may allocate (the total is the file's ExpansionBudget). */
export interface H5Limits {
  /** Largest single dataset, in bytes. */
  maxDatasetBytes: number;
}

export const DEFAULT_H5_LIMITS: H5Limits = { maxDatasetBytes: 1 << 30 };

/** What a dataset read costs, known from metadata alone. */
export interface H5DatasetInfo {
  shape: number[];
  dtype: string;
  /** Bytes of the decoded array (the memory a read allocates). */
  nbytes: number;
  /** Stored through a filter (compression): its size in the file says nothing about nbytes. */
  filtered: boolean;
}

/** A numeric dataset, decoded (little-endian) to a typed array. */
export interface H5Array {
  shape: number[];
  /** float16/float32/float64/int8/.../uint64/bfloat16 */
  dtype: string;
  data: H5Data;
}

export type H5Kind = 'group' | 'dataset' | 'missing' | 'external-link' | 'broken-link' | 'other';

let lib: H5Lib | null = null;
let loading: Promise<H5Lib> | null = null;
let stderrText = '';
/**
 * Wasm traps seen (e.g. "memory access out of bounds" in h5wasm's glue after HDF5 rejected a
 * corrupted header). The trap unwinds one call; mutation runs (600 damaged files, then a clean
 * file read bit-exactly) show the instance stays usable, so we count instead of giving up.
 */
export let trapCount = 0;
let fileCounter = 0;

async function h5lib(): Promise<H5Lib> {
  if (lib) return lib;
  if (!loading) {
    loading = (async () => {
      const m = (await import('h5wasm')) as H5Lib;
      await m.ready;
      captureStderr(m);
      lib = m;
      return m;
    })();
  }
  return loading;
}

/** Replace the wasm module's fd 2 by a device that appends to `stderrText` (bounded). */
function captureStderr(m: H5Lib): void {
  // Emscripten FS API (not in h5wasm's typings): makedev/registerDevice/mkdev/getStream/close/open.
  const fs = m.FS as unknown as {
    makedev(ma: number, mi: number): number;
    registerDevice(dev: number, ops: object): void;
    mkdev(path: string, dev: number): void;
    getStream(fd: number): unknown;
    close(stream: unknown): void;
    open(path: string, flags: string): { fd: number };
  };
  try {
    const dev = fs.makedev(65, 17);
    const decoder = new TextDecoder();
    fs.registerDevice(dev, {
      open() {},
      close() {},
      read() {
        return 0;
      },
      write(_s: unknown, buf: Uint8Array, off: number, len: number) {
        if (stderrText.length < 65536) stderrText += decoder.decode(buf.subarray(off, off + len));
        return len;
      },
    });
    fs.mkdev('/dev/rnnscope-h5err', dev);
    const old = fs.getStream(2);
    if (old) fs.close(old);
    fs.open('/dev/rnnscope-h5err', 'w');
  } catch {
    // If the FS layout differs, diagnostics still go to the console; reading works the same.
  }
}

/** The most specific line of the last HDF5 diagnostic ("... truncated file: eof = 100, ..."). */
function lastDiag(): string {
  const lines = stderrText.split('\n').filter((l) => /^\s*#\d+:/.test(l));
  const last = lines.length ? lines[lines.length - 1] : (stderrText.trim().split('\n').pop() ?? '');
  const m = /\bin [\w]+\(\): (.*)$/.exec(last);
  return (m ? m[1] : last).trim().slice(0, 300);
}

function isTrap(e: unknown): boolean {
  return e instanceof WebAssembly.RuntimeError || (e instanceof Error && /^(Aborted|RuntimeError)/.test(e.message));
}

export class H5File {
  readonly name: string;
  private readonly m: H5Lib;
  private readonly file: H5.File;
  private readonly memPath: string;
  private readonly size: number;
  private readonly limits: H5Limits;
  /** What dataset reads may still allocate; shared with the zip archive the file came from, if any. */
  readonly budget: ExpansionBudget;

  private constructor(
    m: H5Lib,
    file: H5.File,
    memPath: string,
    name: string,
    size: number,
    limits: H5Limits,
    budget: ExpansionBudget,
  ) {
    this.m = m;
    this.file = file;
    this.memPath = memPath;
    this.name = name;
    this.size = size;
    this.limits = limits;
    this.budget = budget;
  }

  /**
   * Open HDF5 bytes; `name` is used in messages. Throws LoadError on anything HDF5 cannot open.
   * Every dataset read draws on `budget` (by default one for these bytes alone). The bytes are
   * lent to the in-memory FS, not copied: they must not change while the file is open.
   */
  static async open(
    bytes: Uint8Array,
    name: string,
    limits: H5Limits = DEFAULT_H5_LIMITS,
    budget?: ExpansionBudget,
  ): Promise<H5File> {
    checkSuperblock(bytes, name);
    const m = await h5lib();
    const memPath = `/rnnscope-${++fileCounter}.h5`;
    stderrText = '';
    let file: H5.File | null = null;
    let cause: unknown;
    try {
      // canOwn: Emscripten's MEMFS keeps a view of the bytes instead of a copy (the file is opened read-only).
      (m.FS!.writeFile as (p: string, d: Uint8Array, o: { canOwn: boolean }) => void)(memPath, bytes, { canOwn: true });
      file = new m.File(memPath, 'r');
    } catch (e) {
      if (isTrap(e)) trapCount++;
      cause = e;
    }
    if (!file || file.file_id < 0n) {
      unlink(m, memPath);
      throw new LoadError(
        `HDF5 cannot open ${name} (${lastDiag() || String(cause ?? 'unknown error')}); expected a valid HDF5 file; the file is corrupted or truncated.`,
        { file: name, cause },
      );
    }
    return new H5File(m, file, memPath, name, bytes.length, limits, budget ?? new ExpansionBudget(name, bytes.length));
  }

  close(): void {
    try {
      this.file.close();
    } catch {
      // Closing a half-broken file must not mask the original error.
    }
    unlink(this.m, this.memPath);
  }

  /** Run an h5wasm call, turning any failure into a LoadError about `what`. */
  private guard<T>(what: string, fn: () => T): T {
    stderrText = '';
    try {
      return fn();
    } catch (e) {
      if (e instanceof LoadError) throw e;
      if (isTrap(e)) trapCount++;
      throw new LoadError(
        `Reading ${what} from ${this.name} failed (${lastDiag() || (e instanceof Error ? e.message.slice(0, 200) : String(e))}); expected a readable HDF5 object; the file is corrupted.`,
        { file: this.name, cause: e },
      );
    }
  }

  private get mod(): Module {
    return this.m.Module;
  }

  /** What `path` is. External links are reported, never followed; soft links are followed at most 16 deep. */
  kind(path: string, depth = 0): H5Kind {
    const p = normalize(path);
    if (p === '/') return 'group';
    const target = this.guard(p, () => this.mod.get_symbolic_link(this.file.file_id, p) as string | null);
    if (typeof target === 'string') {
      if (depth >= 16) return 'broken-link';
      return this.kind(target.startsWith('/') ? target : `${p.slice(0, p.lastIndexOf('/'))}/${target}`, depth + 1);
    }
    // get_type reports an external link as H5G_UDLINK when its target cannot be opened;
    // the in-memory FS holds no other files.
    return this.guard(p, () => {
      const t = this.mod.get_type(this.file.file_id, p);
      if (t === this.mod.H5G_GROUP) return 'group';
      if (t === this.mod.H5G_DATASET) return 'dataset';
      if (t === this.mod.H5G_LINK) return 'broken-link';
      if (t === this.mod.H5G_UDLINK) return 'external-link';
      if (t < 0) return 'missing';
      return 'other';
    });
  }

  /** Child names of a group, sorted as HDF5 lists them (name order unless creation order is tracked). */
  keys(path: string): string[] {
    if (this.kind(path) !== 'group') return [];
    return this.guard(path, () => this.mod.get_names(this.file.file_id, normalize(path), false));
  }

  attrNames(path: string): string[] {
    const p = normalize(path);
    const k = this.kind(p);
    if (k !== 'group' && k !== 'dataset') return [];
    return this.guard(`attributes of ${p}`, () => this.mod.get_attribute_names(this.file.file_id, p));
  }

  /** An attribute value: string, string[], number, number[], or null when absent. Sizes are checked against the file
   * size first. */
  attr(path: string, name: string): string | string[] | number | number[] | null {
    const p = normalize(path);
    if (!this.attrNames(p).includes(name)) return null;
    return this.guard(`attribute ${name} of ${p}`, () => {
      const meta = this.mod.get_attribute_metadata(this.file.file_id, p, name);
      if (!meta.shape) return null;
      // Fixed-size values are stored in the object header; a vlen string costs at least a byte of heap.
      const need = meta.vlen ? meta.total_size : meta.size * meta.total_size;
      if (!(need <= this.size)) {
        throw new LoadError(
          `Attribute ${name} of ${p} in ${this.name} declares ${meta.total_size} values (${need} bytes); expected at most the file's ${this.size} bytes; the file is corrupted.`,
          { file: this.name },
        );
      }
      return toPlain(new this.m.Attribute(this.file.file_id, p, name).value, meta.shape.length === 0);
    });
  }

  /**
   * A list-of-strings attribute, joining Keras' chunks `name0`, `name1`, ... when the plain
   * attribute is absent (tf-keras hdf5_format.py save_attributes_to_hdf5_group: attributes over
   * HDF5_OBJECT_HEADER_LIMIT = 64512 bytes are split). Null when neither form exists.
   */
  stringList(path: string, name: string): string[] | null {
    const names = this.attrNames(path);
    if (names.includes(name)) return asStrings(this.attr(path, name), `${path}@${name}`, this.name);
    if (!names.includes(`${name}0`)) return null;
    const out: string[] = [];
    const have = new Set(names);
    for (let i = 0; have.has(`${name}${i}`); i++)
      for (const v of asStrings(this.attr(path, `${name}${i}`), `${path}@${name}${i}`, this.name)) out.push(v);
    return out;
  }

  /** A scalar string attribute (fixed- or variable-length, bytes or str), or null. */
  stringAttr(path: string, name: string): string | null {
    const v = this.attr(path, name);
    if (v === null) return null;
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
    throw new LoadError(
      `Attribute ${name} of ${path} in ${this.name} is not a string; expected a string; the file was not written by Keras.`,
      { file: this.name },
    );
  }

  /** Shape, dtype, byte size and filter count of a dataset, without reading it. */
  datasetInfo(path: string): H5DatasetInfo {
    const p = normalize(path);
    const k = this.kind(p);
    if (k === 'external-link' || k === 'broken-link') {
      throw new LoadError(
        `${this.name} has ${k === 'external-link' ? 'an external link' : 'a dangling or cyclic soft link'} at ${p}; expected the weight array itself; save the weights without links.`,
        { file: this.name },
      );
    }
    if (k !== 'dataset') {
      throw new LoadError(
        `${this.name} has no dataset ${p} (found ${k === 'missing' ? 'nothing' : `a ${k}`}); expected a weight array there; the file is incomplete or not a Keras weights file.`,
        { file: this.name },
      );
    }
    return this.guard(p, () => {
      const meta = this.mod.get_dataset_metadata(this.file.file_id, p);
      const shape = meta.shape ?? [];
      const dtypeAttr = this.attr(p, 'dtype');
      const dtype = dtypeName(meta, typeof dtypeAttr === 'string' ? dtypeAttr : null);
      const filters = this.mod.get_dataset_filters(this.file.file_id, p);
      return { shape, dtype, nbytes: meta.size * meta.total_size, filtered: filters.length > 0 };
    });
  }

  /**
   * datasetInfo(), refusing a dataset no read may allocate: a non-numeric type, more bytes than
   * the file holds (unless compressed), more than the per-array cap. Reads nothing.
   */
  checkDataset(path: string): H5DatasetInfo {
    const p = normalize(path);
    const info = this.datasetInfo(p);
    if (info.dtype === 'unsupported') {
      throw new LoadError(
        `Dataset ${p} in ${this.name} has a non-numeric type; expected float or integer weights; the file is not a Keras weights file.`,
        { file: this.name },
      );
    }
    const cap = this.limits.maxDatasetBytes;
    if (!info.filtered && !(info.nbytes <= Math.min(cap, this.size))) {
      // Unallocated (never written) storage reads as the fill value: honest data is in the file.
      throw new LoadError(
        `Dataset ${p} in ${this.name} declares shape [${info.shape.join(',')}] (${info.nbytes} bytes); expected at most ${Math.min(cap, this.size)} bytes in a ${this.size}-byte file; the file is corrupted.`,
        { file: this.name },
      );
    }
    if (!(info.nbytes <= cap)) {
      throw new LoadError(
        `Dataset ${p} in ${this.name} declares shape [${info.shape.join(',')}] (${info.nbytes} bytes, compressed); expected at most ${cap} bytes per weight array; rnnscope cannot load arrays this large.`,
        { file: this.name },
      );
    }
    return info;
  }

  /** Read a numeric dataset. Refuses (checkDataset, then the budget) before allocating or decompressing anything. */
  dataset(path: string): H5Array {
    const p = normalize(path);
    const info = this.checkDataset(p);
    this.budget.take(info.nbytes, `dataset ${p}${this.budget.file === this.name ? '' : ` of ${this.name}`}`);
    const raw = this.guard(p, () => {
      if (info.nbytes === 0) return new Uint8Array(0);
      const mod = this.mod;
      const ptr = mod._malloc(info.nbytes);
      if (!ptr)
        throw new LoadError(
          `Cannot allocate ${info.nbytes} bytes for ${p} of ${this.name}; expected enough memory; use a smaller model.`,
          { file: this.name },
        );
      try {
        const st = mod.get_dataset_data(this.file.file_id, p, null, null, null, BigInt(ptr));
        if (st < 0) throw new Error(lastDiag() || `status ${st}`);
        return mod.HEAPU8.slice(ptr, ptr + info.nbytes);
      } finally {
        mod._free(ptr);
      }
    });
    return { shape: info.shape, dtype: info.dtype, data: decodeDataset(raw, info.dtype) };
  }
}

function normalize(path: string): string {
  const p = `/${path.split('/').filter(Boolean).join('/')}`;
  return p;
}

function unlink(m: H5Lib, memPath: string): void {
  try {
    m.FS!.unlink(memPath);
  } catch {
    // Already gone.
  }
}
