// Writes .npy arrays and .npz archives (for `rnnscope analyze --dump`), readable by numpy.load.
// .npy format 1.0 (numpy/lib/format.py): magic "\x93NUMPY", version 1.0, little-endian uint16
// header length, an ASCII dict {'descr', 'fortran_order', 'shape'} padded with spaces and a
// final '\n' so that the data starts on a 64-byte boundary; data in C order.
// .npz = a zip of <name>.npy members, stored uncompressed (numpy.savez does the same).
//
// Streaming. Every member's size follows from its shape, so the whole file can be laid out before
// any data exists (layoutNpz): a writer with random access puts rows at their final offsets as
// they come, keeps the CRC-32 of each piece it wrote, and at the end writes the local headers and
// the central directory with each member's CRC combined from its pieces (crc32Combine). Members or
// archives past 4 GiB use the Zip64 extensions (APPNOTE.TXT 4.5.3). Layout and encoding are here;
// the file I/O is in src/dump-file.ts (Node).

export interface NpyArray {
  shape: number[];
  data: Float32Array | Float64Array;
}

export type NpyDType = 'float32' | 'float64';

const descrOf = (d: NpyDType): string => (d === 'float32' ? '<f4' : '<f8');
export const bytesOf = (d: NpyDType): number => (d === 'float32' ? 4 : 8);

/** The .npy header (magic, version, length, dict, padding) for an array of this shape and dtype. */
export function npyHeader(shape: number[], dtype: NpyDType): Uint8Array {
  const s = shape.length === 0 ? '()' : shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descrOf(dtype)}', 'fortran_order': False, 'shape': ${s}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += `${' '.repeat(pad % 64)}\n`;
  const out = new Uint8Array(10 + header.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}

const dtypeOf = (a: NpyArray): NpyDType => (a.data instanceof Float32Array ? 'float32' : 'float64');

/** Typed arrays are in platform byte order; every platform rnnscope runs on is little-endian. */
const bytesView = (d: Float32Array | Float64Array): Uint8Array => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

export function encodeNpy(a: NpyArray): Uint8Array {
  const h = npyHeader(a.shape, dtypeOf(a));
  const out = new Uint8Array(h.length + a.data.byteLength);
  out.set(h, 0);
  out.set(bytesView(a.data), h.length);
  return out;
}

// ---- CRC-32 (IEEE 802.3, as zip uses), slicing by 8 ----

const CRC_TABLES: Uint32Array[] = (() => {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[0]![n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++)
    for (let k = 1; k < 8; k++) t[k]![n] = (t[0]![t[k - 1]![n]! & 0xff]! ^ (t[k - 1]![n]! >>> 8)) >>> 0;
  return t;
})();

/** CRC-32 of `bytes`, continuing from `crc` (0 for a fresh start). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ];
  let c = ~crc >>> 0,
    i = 0;
  const n = bytes.length,
    n8 = n - (n % 8);
  for (; i < n8; i += 8) {
    const a = (c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0;
    c =
      t7[a & 0xff]! ^
      t6[(a >>> 8) & 0xff]! ^
      t5[(a >>> 16) & 0xff]! ^
      t4[a >>> 24]! ^
      t3[bytes[i + 4]!]! ^
      t2[bytes[i + 5]!]! ^
      t1[bytes[i + 6]!]! ^
      t0[bytes[i + 7]!]!;
  }
  for (; i < n; i++) c = t0[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// crc32Combine: zlib's crc32_combine (Mark Adler), with GF(2) 32×32 matrices as arrays of columns.
function gf2Times(mat: Uint32Array, vec: number): number {
  let sum = 0,
    i = 0;
  while (vec) {
    if (vec & 1) sum ^= mat[i]!;
    vec >>>= 1;
    i++;
  }
  return sum >>> 0;
}

function gf2Square(square: Uint32Array, mat: Uint32Array): void {
  for (let n = 0; n < 32; n++) square[n] = gf2Times(mat, mat[n]!);
}

/** CRC-32 of A‖B from crc(A), crc(B) and B's length in bytes. */
export function crc32Combine(crcA: number, crcB: number, lenB: number): number {
  if (lenB <= 0) return crcA >>> 0;
  const even = new Uint32Array(32),
    odd = new Uint32Array(32);
  odd[0] = 0xedb88320; // the operator for one zero bit
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row >>> 0;
  gf2Square(even, odd); // two zero bits
  gf2Square(odd, even); // four zero bits
  let crc = crcA >>> 0,
    len = lenB;
  do {
    gf2Square(even, odd);
    if (len % 2) crc = gf2Times(even, crc);
    len = Math.floor(len / 2);
    if (len === 0) break;
    gf2Square(odd, even);
    if (len % 2) crc = gf2Times(odd, crc);
    len = Math.floor(len / 2);
  } while (len !== 0);
  return (crc ^ crcB) >>> 0;
}

// ---- zip layout ----

const U32 = 0xffffffff;

export interface NpzMember {
  /** Array name; the member is `${name}.npy`. */
  name: string;
  shape: number[];
  dtype: NpyDType;
  /** Offset of the local header. */
  headerOffset: number;
  /** Offset of the first array byte (after the local header and the .npy header). */
  dataOffset: number;
  /** Bytes of array data (the .npy header excluded). */
  dataBytes: number;
  /** Bytes of one row along the first axis (the whole array for a scalar). */
  rowBytes: number;
  npy: Uint8Array;
  fileName: Uint8Array;
  /** Whether the member's size needs the Zip64 extra field. */
  zip64: boolean;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * Lays members out from `start` on (local header, .npy header, data, next member...); returns them and
 * the offset where the next member (or the central directory) goes.
 */
export function layoutNpz(
  arrays: { name: string; shape: number[]; dtype: NpyDType }[],
  start = 0,
): { members: NpzMember[]; end: number } {
  let at = start;
  const members = arrays.map((a) => {
    const npy = npyHeader(a.shape, a.dtype),
      fileName = utf8(`${a.name}.npy`);
    const count = a.shape.reduce((x, y) => x * y, 1),
      dataBytes = count * bytesOf(a.dtype);
    const rowBytes = a.shape.length ? a.shape.slice(1).reduce((x, y) => x * y, 1) * bytesOf(a.dtype) : dataBytes;
    const zip64 = npy.length + dataBytes >= U32;
    const headerOffset = at,
      dataOffset = at + 30 + fileName.length + (zip64 ? 20 : 0) + npy.length;
    at = dataOffset + dataBytes;
    return {
      name: a.name,
      shape: a.shape,
      dtype: a.dtype,
      headerOffset,
      dataOffset,
      dataBytes,
      rowBytes,
      npy,
      fileName,
      zip64,
    };
  });
  return { members, end: at };
}

// Stored members get a fixed timestamp (1980-01-01 00:00), so equal dumps are equal files.
const DOS_TIME = 0,
  DOS_DATE = (0 << 9) | (1 << 5) | 1;
// Bit 11: names are UTF-8 (layer names may not be ASCII).
const FLAGS = 0x0800;

function writer(n: number): {
  bytes: Uint8Array;
  u16(v: number): void;
  u32(v: number): void;
  u64(v: number): void;
  raw(b: Uint8Array): void;
} {
  const bytes = new Uint8Array(n),
    dv = new DataView(bytes.buffer);
  let p = 0;
  return {
    bytes,
    u16(v) {
      dv.setUint16(p, v, true);
      p += 2;
    },
    u32(v) {
      dv.setUint32(p, v >>> 0, true);
      p += 4;
    },
    u64(v) {
      dv.setBigUint64(p, BigInt(v), true);
      p += 8;
    },
    raw(b) {
      bytes.set(b, p);
      p += b.length;
    },
  };
}

/** The local header of a member followed by its .npy header (written at member.headerOffset). */
export function localHeader(m: NpzMember, crc: number): Uint8Array {
  const size = m.npy.length + m.dataBytes;
  const w = writer(30 + m.fileName.length + (m.zip64 ? 20 : 0) + m.npy.length);
  w.u32(0x04034b50);
  w.u16(m.zip64 ? 45 : 20);
  w.u16(FLAGS);
  w.u16(0);
  w.u16(DOS_TIME);
  w.u16(DOS_DATE);
  w.u32(crc);
  w.u32(m.zip64 ? U32 : size);
  w.u32(m.zip64 ? U32 : size);
  w.u16(m.fileName.length);
  w.u16(m.zip64 ? 20 : 0);
  w.raw(m.fileName);
  if (m.zip64) {
    w.u16(0x0001);
    w.u16(16);
    w.u64(size);
    w.u64(size);
  }
  w.raw(m.npy);
  return w.bytes;
}

/** Central directory and end records for members whose data ends at `cdOffset`. */
export function centralDirectory(members: NpzMember[], crcs: number[], cdOffset: number): Uint8Array {
  const parts = members.map((m, i) => {
    const size = m.npy.length + m.dataBytes,
      bigOff = m.headerOffset >= U32;
    const extra = (m.zip64 ? 16 : 0) + (bigOff ? 8 : 0);
    const w = writer(46 + m.fileName.length + (extra ? 4 + extra : 0));
    w.u32(0x02014b50);
    w.u16((3 << 8) | 45);
    w.u16(m.zip64 || bigOff ? 45 : 20);
    w.u16(FLAGS);
    w.u16(0);
    w.u16(DOS_TIME);
    w.u16(DOS_DATE);
    w.u32(crcs[i]!);
    w.u32(m.zip64 ? U32 : size);
    w.u32(m.zip64 ? U32 : size);
    w.u16(m.fileName.length);
    w.u16(extra ? 4 + extra : 0);
    w.u16(0);
    w.u16(0);
    w.u16(0);
    w.u32(0o100644 << 16);
    w.u32(bigOff ? U32 : m.headerOffset);
    w.raw(m.fileName);
    if (extra) {
      w.u16(0x0001);
      w.u16(extra);
      if (m.zip64) {
        w.u64(size);
        w.u64(size);
      }
      if (bigOff) w.u64(m.headerOffset);
    }
    return w.bytes;
  });
  const cdSize = parts.reduce((n, p) => n + p.length, 0);
  const z64 = members.length >= 0xffff || cdOffset >= U32 || cdSize >= U32 || cdOffset + cdSize >= U32;
  const w = writer(cdSize + (z64 ? 56 + 20 : 0) + 22);
  for (const p of parts) w.raw(p);
  if (z64) {
    const at = cdOffset + cdSize;
    w.u32(0x06064b50);
    w.u64(44);
    w.u16((3 << 8) | 45);
    w.u16(45);
    w.u32(0);
    w.u32(0);
    w.u64(members.length);
    w.u64(members.length);
    w.u64(cdSize);
    w.u64(cdOffset);
    w.u32(0x07064b50);
    w.u32(0);
    w.u64(at);
    w.u32(1);
  }
  w.u32(0x06054b50);
  w.u16(0);
  w.u16(0);
  w.u16(z64 ? 0xffff : members.length);
  w.u16(z64 ? 0xffff : members.length);
  w.u32(z64 ? U32 : cdSize);
  w.u32(z64 ? U32 : cdOffset);
  w.u16(0);
  return w.bytes;
}

/** A whole .npz in memory (small archives; `rnnscope analyze --dump` streams with src/dump-file.ts). */
export function encodeNpz(arrays: Map<string, NpyArray>): Uint8Array {
  const list = [...arrays].map(([name, a]) => ({ name, shape: a.shape, dtype: dtypeOf(a), data: a.data }));
  const { members, end } = layoutNpz(list);
  const crcs = members.map((m, i) => crc32(bytesView(list[i]!.data), crc32(m.npy)));
  const cd = centralDirectory(members, crcs, end);
  const out = new Uint8Array(end + cd.length);
  members.forEach((m, i) => {
    out.set(localHeader(m, crcs[i]!), m.headerOffset);
    out.set(bytesView(list[i]!.data), m.dataOffset);
  });
  out.set(cd, end);
  return out;
}
