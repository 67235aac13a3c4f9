// .npz reader: a zip archive of .npy members.
//
// Format facts (numpy/lib/npyio.py, numpy 1.24): numpy.savez writes members STORED and
// numpy.savez_compressed DEFLATED (_savez: zipfile ZIP_STORED / ZIP_DEFLATED, every member
// with force_zip64=True); a member is named '<key>.npy', positional arrays 'arr_0', 'arr_1', ...
// after the keyword ones, in call order. NpzFile strips the '.npy' suffix to name the arrays
// and returns the raw bytes of members that are not .npy files. A STORED member's data starts
// wherever its local header ends, so it is usually not aligned (docs/formats.md).
//
// Memory: each member's .npy header is read first (for a DEFLATED member, by inflating only its
// first bytes), its declared shape × item size is checked against the member's declared size and
// against the archive's budget, and only then is the output allocated; the rest is inflated in
// small pieces straight into the float64 output (npy-decode.ts). Nothing holds a whole member's
// bytes: peak memory is the archive, the float64 arrays, and a few megabytes.
//
// Zip parsing is src/io/zip.ts (shared with .keras archives); the CRC-32 is checked as we go.

import { Inflate } from 'fflate';
import { DataError, LoadError } from '../model/errors.js';
import type { NamedArray, DataOptions } from './types.js';
import { npyHeaderEnd, readNpyHeader, type NpyHeader } from './npy-header.js';
import { NpyDecoder, describeArray } from './npy-decode.js';
import { ZipArchive, crc32, type ZipEntry } from './zip.js';
import { MAX_ELEMENTS } from './common.js';
import { isZip } from './magic.js';
import { warn } from '../model/types.js';

/**
 * How much float64 data one archive may expand to. Stored members always fit (a value takes at
 * most 8× its stored bytes); compressed ones are held to `ratio` × the archive's size plus
 * `floorBytes`, so a small file cannot claim gigabytes (a zip bomb within the zip's own limits).
 */
export interface NpzLimits {
  floorBytes: number;
  ratio: number;
  /** Absolute cap on the float64 bytes of one archive (as .npy's per-array limit). */
  maxBytes: number;
}

export const DEFAULT_NPZ_LIMITS: NpzLimits = { floorBytes: 64 << 20, ratio: 32, maxBytes: MAX_ELEMENTS * 8 };

/** Compressed bytes handed to the inflater at a time: DEFLATE expands at most ~1032×, so one step yields ≤ 17 MB. */
const INFLATE_STEP = 1 << 14;

export const name = 'npz';

/** Any zip (with members or empty), or an .npz name. */
export function match(bytes: Uint8Array, fileName: string): boolean {
  return isZip(bytes) || /\.npz$/i.test(fileName);
}

/** The arrays of an .npz file (registry shape). */
export function read(bytes: Uint8Array, fileName: string, opts: DataOptions = {}): NamedArray[] {
  return readNpz(bytes, fileName, opts);
}

export function readNpz(
  bytes: Uint8Array,
  label: string,
  opts: DataOptions = {},
  limits: NpzLimits = DEFAULT_NPZ_LIMITS,
): NamedArray[] {
  if (!isZip(bytes)) {
    throw new LoadError(
      `${label} does not start with the zip signature PK\\x03\\x04; expected an .npz written by numpy.savez, so re-save the arrays or check that the file is not damaged.`,
      { file: label },
    );
  }
  const zip = ZipArchive.open(bytes, label, 'an .npz archive');
  const budget = new Budget(label, bytes.length, limits);
  const out: NamedArray[] = [];
  const skipped: string[] = [];
  for (const member of zip.names()) {
    if (member.endsWith('/')) continue; // directory entry
    if (!/\.npy$/.test(member)) {
      skipped.push(member);
      continue;
    }
    const raw = zip.raw(member)!;
    const where = `${label}:${member}`;
    const dec =
      raw.entry.method === 0
        ? readStored(raw.entry, raw.data, where, budget)
        : readDeflated(raw.entry, raw.data, where, budget);
    out.push({ name: member.slice(0, -4), shape: dec.shape, dtype: dec.dtype, data: dec.data, source: where });
  }
  if (skipped.length > 0 && opts.warnings) {
    warn(
      opts.warnings,
      'npz-non-npy',
      `${label}: ignored ${skipped.length} member(s) that are not .npy arrays (${skipped.slice(0, 3).join(', ')}${skipped.length > 3 ? ', …' : ''}).`,
    );
  }
  if (out.length === 0) {
    throw new LoadError(
      `${label} holds no .npy arrays${skipped.length ? ` (only ${skipped.slice(0, 3).join(', ')})` : ''}; expected arrays saved with numpy.savez('${label}', x=...), so re-save them.`,
      { file: label },
    );
  }
  return out;
}

interface Decoded {
  shape: number[];
  dtype: string;
  data: Float64Array;
}

function readStored(en: ZipEntry, data: Uint8Array, where: string, budget: Budget): Decoded {
  checkCrc(crc32(data), en, where);
  const h = readNpyHeader(data, where);
  checkDeclared(h, en, where);
  budget.charge(h, en, where);
  const dec = new NpyDecoder(h.dt, h.shape, h.fortranOrder, where);
  dec.push(data.subarray(h.dataStart, h.dataStart + h.count * h.dt.size));
  return { shape: h.shape, dtype: h.dt.name, data: dec.out };
}

function readDeflated(en: ZipEntry, data: Uint8Array, where: string, budget: Budget): Decoded {
  const st: { head: Uint8Array; h: NpyHeader | null; dec: NpyDecoder | null; produced: number; crc: number } = {
    head: new Uint8Array(0),
    h: null,
    dec: null,
    produced: 0,
    crc: 0,
  };
  const inflater = new Inflate((chunk) => {
    st.produced += chunk.length;
    if (st.produced > en.size) {
      throw new LoadError(
        `${where} inflates past its declared ${en.size} bytes; expected the declared size; the archive is corrupted or a zip bomb.`,
        { file: where },
      );
    }
    st.crc = crc32(chunk, st.crc);
    if (st.dec !== null) {
      st.dec.push(chunk);
      return;
    }
    st.head = concat(st.head, chunk);
    const end = npyHeaderEnd(st.head, where);
    if (end === null || st.head.length < end) return;
    // The header is complete: check what it declares before allocating anything.
    const h = readNpyHeader(st.head, where);
    checkDeclared(h, en, where);
    budget.charge(h, en, where);
    st.h = h;
    st.dec = new NpyDecoder(h.dt, h.shape, h.fortranOrder, where);
    st.dec.push(st.head.subarray(h.dataStart));
    st.head = new Uint8Array(0);
  });
  try {
    let p = 0;
    do {
      const next = Math.min(p + INFLATE_STEP, data.length);
      inflater.push(data.subarray(p, next), next === data.length);
      p = next;
    } while (p < data.length);
  } catch (e) {
    if (e instanceof LoadError || e instanceof DataError) throw e;
    throw new LoadError(
      `${where} does not inflate (${e instanceof Error ? e.message : String(e)}); expected valid DEFLATE data; the archive is corrupted.`,
      { file: where, cause: e },
    );
  }
  if (st.produced !== en.size) {
    throw new LoadError(
      `${where} inflates to ${st.produced} bytes; expected the declared ${en.size}; the archive is corrupted.`,
      { file: where },
    );
  }
  checkCrc(st.crc, en, where);
  if (st.dec === null || st.h === null) {
    readNpyHeader(st.head, where); // throws the precise signature/truncation message
    throw new LoadError(`${where} ends inside its .npy header; re-copy or re-save the file.`, { file: where });
  }
  return { shape: st.h.shape, dtype: st.h.dt.name, data: st.dec.out };
}

/** The member's declared (uncompressed) size must hold the header and every element it declares. */
function checkDeclared(h: NpyHeader, en: ZipEntry, where: string): void {
  const need = h.dataStart + h.count * h.dt.size;
  if (en.size < need) {
    throw new LoadError(
      `${where} is truncated: ${describeArray(h.shape, h.dt)} needs ${need} bytes with its header but the member holds ${en.size}; re-copy or re-save the file.`,
      { file: where },
    );
  }
}

function checkCrc(c: number, en: ZipEntry, where: string): void {
  if (c !== en.crc) {
    throw new LoadError(
      `${where} has CRC-32 ${hex(c)}; expected ${hex(en.crc)}; the archive is corrupted or its declared sizes are false.`,
      { file: where },
    );
  }
}

/** Float64 bytes allotted to one archive, charged per member before its output is allocated. */
class Budget {
  private used = 0;
  private readonly cap: number;

  constructor(
    private readonly label: string,
    private readonly archiveBytes: number,
    private readonly limits: NpzLimits,
  ) {
    this.cap = Math.min(limits.maxBytes, limits.floorBytes + limits.ratio * archiveBytes);
  }

  charge(h: NpyHeader, en: ZipEntry, where: string): void {
    // A member that inflates beyond its array (trailing bytes) costs time, so it counts too.
    const cost = Math.max(h.count * 8, en.method === 0 ? 0 : en.size);
    const left = this.cap - this.used;
    if (cost > left) {
      const what = `${describeArray(h.shape, h.dt)} = ${mb(h.count * 8)} as float64`;
      if (this.used + cost > this.limits.maxBytes) {
        throw new DataError(
          `${where} holds ${what}; rnnscope loads at most ${mb(this.limits.maxBytes)} from one file (${mb(this.used)} already read), so pass a slice of the data.`,
          { file: where },
        );
      }
      throw new DataError(
        `${where} holds ${what} from ${mb(en.compressedSize)} compressed; rnnscope expands a ` +
          `${mb(this.archiveBytes)} .npz to at most ${mb(this.cap)} (${this.limits.ratio}× its size plus ` +
          `${mb(this.limits.floorBytes)}; ${mb(left)} left), to stay safe from zip bombs; if the data is ` +
          `real, save it uncompressed with numpy.savez.`,
        { file: this.label },
      );
    }
    this.used += cost;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function mb(n: number): string {
  return n >= 1 << 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${n} bytes`;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
