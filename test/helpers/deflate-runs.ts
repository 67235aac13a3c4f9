// Deflate bombs made cheaply for io-fuzz.test.ts: a DEFLATE stream for data that is mostly long
// runs of one byte, written directly (no compressor runs over the expanded bytes), and a zip
// holding such streams. Compressing 80 MiB of zeros with a real compressor takes seconds on a busy
// machine; writing its stream takes milliseconds.
//
// RFC 1951 §3.2.6 (fixed Huffman codes): literals 0–143 are the 8-bit codes 0x30 + v, 144–255 the
// 9-bit codes 0x190 + (v − 144); end of block (256) is 7 zero bits; length 258 is symbol 285, the
// 8-bit code 0xC5 with no extra bits; distance 1 is the 5-bit code 0. Huffman codes are packed
// most-significant bit first, header fields least-significant bit first (§3.1.1).

import { Zip, ZipPassThrough } from 'fflate';
import { crc32 } from '../../src/io/zip.js';

/** A piece of the data: bytes as they are, or `count` copies of `byte`. */
export type Segment = Uint8Array | { byte: number; count: number };

class Bits {
  private out: number[] = [];
  private acc = 0;
  private n = 0;
  /** `len` bits of `v`, least significant first. */
  lsb(v: number, len: number): void {
    for (let i = 0; i < len; i++) this.bit((v >> i) & 1);
  }
  /** A Huffman code of `len` bits, most significant first. */
  code(v: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) this.bit((v >> i) & 1);
  }
  private bit(b: number): void {
    this.acc |= b << this.n++;
    if (this.n === 8) {
      this.out.push(this.acc);
      this.acc = 0;
      this.n = 0;
    }
  }
  bytes(): Uint8Array<ArrayBuffer> {
    return Uint8Array.from(this.n > 0 ? [...this.out, this.acc] : this.out);
  }
}

function literal(w: Bits, v: number): void {
  if (v < 144) w.code(0x30 + v, 8);
  else w.code(0x190 + v - 144, 9);
}

/** One final fixed-Huffman block: literals, and each run as one literal then matches of 258 at distance 1. */
export function deflateSegments(segments: Segment[]): Uint8Array<ArrayBuffer> {
  const w = new Bits();
  w.lsb(1, 1); // BFINAL
  w.lsb(1, 2); // BTYPE = 01, fixed Huffman codes
  for (const s of segments) {
    if (s instanceof Uint8Array) {
      for (const v of s) literal(w, v);
      continue;
    }
    if (s.count === 0) continue;
    literal(w, s.byte);
    let left = s.count - 1;
    for (; left >= 258; left -= 258) {
      w.code(0xc5, 8);
      w.code(0, 5);
    }
    for (; left > 0; left--) literal(w, s.byte);
  }
  w.code(0, 7); // end of block
  return w.bytes();
}

/**
 * CRC-32 of `count` copies of `byte` appended to data whose CRC is `previous`, in O(log count).
 * In the register c (the CRC before its final inversion) a byte b maps c to L(c) ⊕ T[b], where
 * T is the CRC table and L(c) = T[c & 0xff] ⊕ (c >>> 8) is linear over GF(2) (T[x ⊕ y] = T[x] ⊕ T[y]);
 * so a run is the affine map (L, T[b]) applied `count` times, raised by repeated squaring.
 */
export function crc32Run(byte: number, count: number, previous = 0): number {
  const T = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    T[i] = c >>> 0;
  }
  type Affine = { cols: Uint32Array; v: number }; // x ↦ Σ cols[i]·x_i ⊕ v
  const apply = (m: Affine, x: number): number => {
    let y = m.v;
    for (let i = 0; x !== 0; i++, x >>>= 1) if (x & 1) y ^= m.cols[i]!;
    return y >>> 0;
  };
  // (a ∘ b)(x) = a(b(x)): columns a.lin(b.cols[i]), vector a(b.v).
  const compose = (a: Affine, b: Affine): Affine => {
    const lin: Affine = { cols: a.cols, v: 0 };
    return { cols: b.cols.map((c) => apply(lin, c)), v: apply(a, b.v) };
  };
  let step: Affine = {
    cols: Uint32Array.from({ length: 32 }, (_, i) => (T[(2 ** i) & 0xff]! ^ ((2 ** i) >>> 8)) >>> 0),
    v: T[byte]!,
  };
  let acc: Affine = { cols: Uint32Array.from({ length: 32 }, (_, i) => 2 ** i), v: 0 };
  for (let n = count; n > 0; n = Math.floor(n / 2)) {
    if (n % 2 === 1) acc = compose(step, acc);
    step = compose(step, step);
  }
  return (apply(acc, (previous ^ 0xffffffff) >>> 0) ^ 0xffffffff) >>> 0;
}

/** Length and CRC-32 of the data the segments describe. */
export function segmentsInfo(segments: Segment[]): { size: number; crc: number } {
  let size = 0,
    crc = 0;
  for (const s of segments) {
    if (s instanceof Uint8Array) {
      crc = crc32(s, crc);
      size += s.length;
    } else {
      crc = crc32Run(s.byte, s.count, crc);
      size += s.count;
    }
  }
  return { size, crc };
}

/** A member whose DEFLATE stream is given (the Zip writes it as it is, with the given size and CRC). */
class Deflated extends ZipPassThrough {
  constructor(name: string, size: number, crc: number) {
    super(name);
    this.compression = 8;
    this.size = size;
    this.crc = crc;
  }
  /** The whole stream at once; push() would count it as uncompressed data (size, CRC). */
  send(stream: Uint8Array<ArrayBuffer>): void {
    this.process(stream, true);
  }
}

/** A zip archive: stored members (bytes) and deflated ones (segments, written by deflateSegments). */
export function zipOf(members: [string, Uint8Array | Segment[]][]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const zip = new Zip((err, chunk) => {
    if (err) throw err;
    chunks.push(chunk);
  });
  for (const [name, data] of members) {
    if (data instanceof Uint8Array) {
      const f = new ZipPassThrough(name);
      zip.add(f);
      f.push(data, true);
    } else {
      const { size, crc } = segmentsInfo(data);
      const f = new Deflated(name, size, crc);
      zip.add(f);
      f.send(deflateSegments(data));
    }
  }
  zip.end();
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
