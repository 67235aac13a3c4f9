// Zip reading for .keras archives and .npz files (alone or inside a .keras): our own
// central-directory parser with strict bounds checks, fflate for DEFLATE.
//
// Zip-bomb limits: every member's declared (central directory) size is checked
// before anything is inflated: one member and the running total must stay
// under an absolute cap and under a multiple of the archive size, and, for a
// model archive, within the ExpansionBudget its HDF5 weights share. fflate
// inflates into a buffer of exactly the declared size (it never grows a
// caller-supplied buffer), and the CRC-32 then proves the declared size and
// content were honest.
//
// Format facts: PKWARE APPNOTE.TXT 6.3.x, sections 4.3.7 (local header),
// 4.3.12 (central directory header), 4.3.14-4.3.16 (zip64 end records and
// locator), 4.5.3 (zip64 extended information extra field, id 0x0001).

import { inflateSync } from 'fflate';
import { LoadError } from '../model/errors.js';
import type { ExpansionBudget } from './common.js';

/** What the caller reads the zip as, with its article, for messages ("...; expected a .keras zip; ..."). */
export type ZipKind = 'a .keras zip' | 'an .npz archive';

export interface ZipLimits {
  /** Total uncompressed bytes extracted from one archive may not exceed this multiple of its size (plus `floorBytes`).
   * */
  maxRatio: number;
  /** Allowance on top of the ratio so tiny archives with small JSON members still open. */
  floorBytes: number;
  /** Absolute cap on the total uncompressed bytes extracted from one archive. */
  maxTotalBytes: number;
  /** Most members an archive may list. */
  maxEntries: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxRatio: 100,
  floorBytes: 16 << 20,
  maxTotalBytes: 1 << 30,
  maxEntries: 10000,
};

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate */
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  localOffset: number;
}

export class ZipArchive {
  readonly file: string;
  readonly entries: Map<string, ZipEntry>;
  private readonly bytes: Uint8Array;
  private readonly limits: ZipLimits;
  private readonly budget: ExpansionBudget | null;
  private extracted = 0;

  private constructor(
    bytes: Uint8Array,
    file: string,
    entries: Map<string, ZipEntry>,
    limits: ZipLimits,
    budget: ExpansionBudget | null,
  ) {
    this.bytes = bytes;
    this.file = file;
    this.entries = entries;
    this.limits = limits;
    this.budget = budget;
  }

  /**
   * Parse the central directory. Throws LoadError on anything malformed; `expected` names the
   * archive in its messages. Inflated members also draw on `budget` when given (stored members
   * are views of `bytes`, not copies).
   */
  static open(
    bytes: Uint8Array,
    file: string,
    expected: ZipKind = 'a .keras zip',
    limits: ZipLimits = DEFAULT_ZIP_LIMITS,
    budget: ExpansionBudget | null = null,
  ): ZipArchive {
    const bad = (what: string): never => {
      throw new LoadError(
        `${file} is not a readable zip archive (${what}); expected ${expected}; the file is truncated or corrupted.`,
        { file },
      );
    };
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = bytes.length;
    // End of central directory record: 22 bytes + comment (<= 65535), searched backwards.
    let eocd = -1;
    for (let i = n - 22; i >= 0 && i >= n - 22 - 65535; i--) {
      if (dv.getUint32(i, true) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) bad('no end-of-central-directory record');
    let count = dv.getUint16(eocd + 10, true);
    let cdSize = dv.getUint32(eocd + 12, true);
    let cdOffset = dv.getUint32(eocd + 16, true);
    // Zip64: locator 20 bytes before the EOCD points at the zip64 EOCD record.
    if (eocd >= 20 && dv.getUint32(eocd - 20, true) === 0x07064b50) {
      const z = num64(dv, eocd - 20 + 8);
      if (z === null || z + 56 > n || dv.getUint32(z, true) !== 0x06064b50) bad('broken zip64 end record');
      const c64 = num64(dv, z! + 32);
      const s64 = num64(dv, z! + 40);
      const o64 = num64(dv, z! + 48);
      if (c64 === null || s64 === null || o64 === null) bad('zip64 sizes out of range');
      count = c64!;
      cdSize = s64!;
      cdOffset = o64!;
    }
    if (count > limits.maxEntries) bad(`${count} members, more than ${limits.maxEntries}`);
    if (cdOffset + cdSize > n) bad(`central directory at ${cdOffset}+${cdSize} past the end (${n} bytes)`);
    const entries = new Map<string, ZipEntry>();
    let p = cdOffset;
    const dec = new TextDecoder();
    for (let i = 0; i < count; i++) {
      if (p + 46 > n || dv.getUint32(p, true) !== 0x02014b50) bad(`central directory entry ${i} is damaged`);
      const method = dv.getUint16(p + 10, true);
      const crc = dv.getUint32(p + 16, true);
      let csize = dv.getUint32(p + 20, true);
      let usize = dv.getUint32(p + 24, true);
      const nameLen = dv.getUint16(p + 28, true);
      const extraLen = dv.getUint16(p + 30, true);
      const commentLen = dv.getUint16(p + 32, true);
      let local = dv.getUint32(p + 42, true);
      if (p + 46 + nameLen + extraLen + commentLen > n) bad(`central directory entry ${i} runs past the end`);
      const name = dec.decode(bytes.subarray(p + 46, p + 46 + nameLen));
      // Zip64 extra field: only the fields whose 32-bit value is 0xFFFFFFFF are present, in this order.
      let e = p + 46 + nameLen;
      const eEnd = e + extraLen;
      while (e + 4 <= eEnd) {
        const id = dv.getUint16(e, true);
        const len = dv.getUint16(e + 2, true);
        if (id === 0x0001) {
          let q = e + 4;
          const take = (): number => {
            const v = q + 8 <= e + 4 + len ? num64(dv, q) : null;
            if (v === null) bad(`zip64 field of ${name} is damaged`);
            q += 8;
            return v!;
          };
          if (usize === 0xffffffff) usize = take();
          if (csize === 0xffffffff) csize = take();
          if (local === 0xffffffff) local = take();
        }
        e += 4 + len;
      }
      if (method !== 0 && method !== 8)
        bad(`member ${name} uses compression method ${method}; only stored (0) and deflate (8) are supported`);
      if (method === 0 && csize !== usize) bad(`stored member ${name} has compressed size ${csize} but size ${usize}`);
      entries.set(name, { name, method, compressedSize: csize, size: usize, crc, localOffset: local });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return new ZipArchive(bytes, file, entries, limits, budget);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * A member's stored bytes (compressed when its method is 8) as a view into the archive, after
   * checking its local header and bounds; null when absent. For callers that inflate in pieces.
   */
  raw(name: string): { entry: ZipEntry; data: Uint8Array } | null {
    const en = this.entries.get(name);
    if (!en) return null;
    const file = this.file;
    const dv = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const lo = en.localOffset;
    if (lo + 30 > this.bytes.length || dv.getUint32(lo, true) !== 0x04034b50) {
      throw new LoadError(
        `${file} member ${name} has no local header at offset ${lo}; expected a zip local file header; the archive is corrupted.`,
        { file },
      );
    }
    const start = lo + 30 + dv.getUint16(lo + 26, true) + dv.getUint16(lo + 28, true);
    const end = start + en.compressedSize;
    if (end > this.bytes.length) {
      throw new LoadError(
        `${file} member ${name} needs bytes up to ${end}; expected them within the ${this.bytes.length}-byte archive; the file is truncated.`,
        { file },
      );
    }
    return { entry: en, data: this.bytes.subarray(start, end) };
  }

  /**
   * Extract one member, checking declared sizes against the limits first and the CRC after. Null
   * when absent. `own`: a cap of the member's own (e.g. a JSON config, whose memory cost is not the
   * weights'), in place of the expansion budget.
   */
  read(name: string, own?: { maxBytes: number; expected: string }): Uint8Array | null {
    const en = this.entries.get(name);
    if (!en) return null;
    const file = this.file;
    const lim = this.limits;
    const cap = Math.min(lim.maxTotalBytes, this.bytes.length * lim.maxRatio + lim.floorBytes);
    if (this.extracted + en.size > cap) {
      throw new LoadError(
        `${file} member ${name} declares ${en.size} uncompressed bytes; expected at most ${cap - this.extracted} more (in all ${lim.maxRatio}x the ${this.bytes.length}-byte archive, at most ${lim.maxTotalBytes}); refusing a likely zip bomb.`,
        { file },
      );
    }
    if (own && en.size > own.maxBytes) {
      throw new LoadError(
        `${file} member ${name} declares ${en.size} uncompressed bytes; expected ${own.expected} of at most ${own.maxBytes} bytes; rnnscope does not load members this large (nothing was inflated).`,
        { file },
      );
    }
    const { data } = this.raw(name)!;
    if (en.method !== 0 && !own) this.budget?.take(en.size, `member ${name}`);
    this.extracted += en.size;
    let out: Uint8Array;
    if (en.method === 0) {
      out = data;
    } else {
      const buf = new Uint8Array(en.size);
      try {
        out = inflateSync(data, { out: buf });
      } catch (e) {
        throw new LoadError(
          `${file} member ${name} does not inflate (${e instanceof Error ? e.message : String(e)}); expected valid DEFLATE data; the archive is corrupted.`,
          { file, cause: e },
        );
      }
      if (out.length !== en.size) {
        throw new LoadError(
          `${file} member ${name} inflates to ${out.length} bytes; expected the declared ${en.size}; the archive is corrupted.`,
          { file },
        );
      }
    }
    const c = crc32(out);
    if (c !== en.crc) {
      throw new LoadError(
        `${file} member ${name} has CRC-32 ${hex(c)}; expected ${hex(en.crc)}; the archive is corrupted or its declared sizes are false.`,
        { file },
      );
    }
    return out;
  }
}

/** A little-endian 64-bit count that fits a double exactly, else null. */
function num64(dv: DataView, at: number): number | null {
  if (at + 8 > dv.byteLength) return null;
  const lo = dv.getUint32(at, true);
  const hi = dv.getUint32(at + 4, true);
  if (hi > 0x1fffff) return null;
  return hi * 2 ** 32 + lo;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

let crcTable: Uint32Array | null = null;

/** CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320), as zip stores it; pass the previous result to continue over a
 * next piece. */
export function crc32(data: Uint8Array, previous = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
