// Streaming decoder for the data part of a .npy array: bytes in, float64 values out.
//
// The bytes may arrive in pieces of any length (an inflating .npz member), start at any byte
// offset (a member of an uncompressed .npz sits wherever its zip entry begins, and in Node a
// Buffer's subarray shares the file's memory), and be in either byte order. Whole aligned,
// host-order runs are read through a typed-array view in place; anything else is copied in
// bounded pieces into an aligned scratch buffer first, so memory stays at the output array
// plus a few kilobytes whatever the input. Fortran-order data is written straight to its C-order
// positions, without a second full array.

import { DataError, fmtIndex, fmtShape } from '../model/errors.js';
import { halfToNumber } from './float16.js';

export interface NpyDType {
  descr: string;
  /** numpy name: float32, int64, bool, ... */
  name: string;
  kind: 'b' | 'i' | 'u' | 'f';
  size: number;
  little: boolean;
}

const TWO32 = 4294967296;
const TWO21 = 2097152;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Bytes converted per scratch copy: large enough for memory speed, small enough to stay bounded. */
const SCRATCH_BYTES = 1 << 16;

export class NpyDecoder {
  /** The values, in C order, filled as bytes arrive. */
  readonly out: Float64Array<ArrayBuffer>;
  private readonly dt: NpyDType;
  private readonly label: string;
  private readonly shape: number[];
  /** Elements decoded so far (in storage order). */
  private done = 0;
  /** Bytes of an element split across two pushes. */
  private readonly carry: Uint8Array;
  private carried = 0;
  private scratch: Uint8Array | null = null;
  private tmp: Float64Array | null = null;
  private readonly fortran: FortranWalk | null;

  constructor(dt: NpyDType, shape: number[], fortranOrder: boolean, label: string) {
    let n = 1;
    for (const d of shape) n *= d;
    this.out = new Float64Array(n);
    this.dt = dt;
    this.shape = shape;
    this.label = label;
    this.carry = new Uint8Array(dt.size);
    this.fortran = fortranOrder && shape.length > 1 && n > 0 ? new FortranWalk(shape) : null;
  }

  /** Number of data bytes still expected. */
  get remaining(): number {
    return (this.out.length - this.done) * this.dt.size - this.carried;
  }

  /** Decode the next bytes of the data; bytes past the end of the array are ignored (as numpy ignores them). */
  push(bytes: Uint8Array): void {
    const size = this.dt.size;
    let p = 0;
    const end = Math.min(bytes.length, this.remaining);
    if (this.carried > 0) {
      const take = Math.min(size - this.carried, end);
      this.carry.set(bytes.subarray(0, take), this.carried);
      this.carried += take;
      p = take;
      if (this.carried < size) return;
      this.carried = 0;
      if (this.dt.little !== LITTLE_ENDIAN_HOST) swapBytes(this.carry, size);
      this.convert(this.carry, 1);
    }
    const whole = Math.floor((end - p) / size);
    if (whole > 0) {
      const run = bytes.subarray(p, p + whole * size);
      const inPlace = size === 1 || (this.dt.little === LITTLE_ENDIAN_HOST && run.byteOffset % size === 0);
      if (inPlace && this.fortran === null) this.convert(run, whole);
      else {
        // Bounded aligned copies: an unaligned or byte-swapped run never costs a full second copy.
        const per = Math.max(1, Math.floor(SCRATCH_BYTES / size));
        this.scratch ??= new Uint8Array(per * size);
        for (let k = 0; k < whole; k += per) {
          const m = Math.min(per, whole - k);
          const piece = this.scratch.subarray(0, m * size);
          if (inPlace) this.convert(run.subarray(k * size, (k + m) * size), m);
          else {
            piece.set(run.subarray(k * size, (k + m) * size));
            if (this.dt.little !== LITTLE_ENDIAN_HOST) swapBytes(piece, size);
            this.convert(piece, m);
          }
        }
      }
      p += whole * size;
    }
    if (p < end) {
      this.carry.set(bytes.subarray(p, end));
      this.carried = end - p;
    }
  }

  /** `raw` holds `m` whole elements in host byte order, aligned to the element size (or size 1). */
  private convert(raw: Uint8Array, m: number): void {
    if (this.fortran === null) {
      decodeRun(raw, m, this.dt, this.out, this.done, this);
    } else {
      if (this.tmp === null || this.tmp.length < m) this.tmp = new Float64Array(Math.max(m, SCRATCH_BYTES / 8));
      decodeRun(raw, m, this.dt, this.tmp, 0, this);
      this.fortran.scatter(this.tmp, m, this.out);
    }
    this.done += m;
  }

  /** Called by decodeRun for a 64-bit integer that float64 cannot hold exactly. */
  beyond53(v: bigint, at: number): never {
    const flat = this.fortran ? this.fortran.cIndexOf(this.done + at) : this.done + at;
    throw new DataError(
      `${this.label} holds ${this.dt.name} value ${v} at index ${fmtIndex(flat, this.shape)}, beyond 2^53 where float64 loses integers; rnnscope computes in float64, so reduce or re-encode the values.`,
      { file: this.label },
    );
  }
}

function decodeRun(raw: Uint8Array, n: number, dt: NpyDType, out: Float64Array, o: number, dec: NpyDecoder): void {
  const size = dt.size;
  const buf = raw.buffer;
  const at = raw.byteOffset;
  if (dt.kind === 'b') {
    for (let i = 0; i < n; i++) out[o + i] = raw[i] !== 0 ? 1 : 0;
  } else if (dt.kind === 'f') {
    if (size === 8) out.set(new Float64Array(buf, at, n), o);
    else if (size === 4) out.set(new Float32Array(buf, at, n), o);
    else {
      const h = new Uint16Array(buf, at, n);
      for (let i = 0; i < n; i++) out[o + i] = halfToNumber(h[i]);
    }
  } else if (size === 1) out.set(dt.kind === 'i' ? new Int8Array(buf, at, n) : raw.subarray(0, n), o);
  else if (size === 2) out.set(dt.kind === 'i' ? new Int16Array(buf, at, n) : new Uint16Array(buf, at, n), o);
  else if (size === 4) out.set(dt.kind === 'i' ? new Int32Array(buf, at, n) : new Uint32Array(buf, at, n), o);
  else {
    // 64-bit integers as two 32-bit halves (host = little-endian order here): no BigInt per element.
    const u = new Uint32Array(buf, at, 2 * n);
    const signed = dt.kind === 'i';
    for (let i = 0; i < n; i++) {
      const lo = u[2 * i];
      const hi = signed ? u[2 * i + 1] | 0 : u[2 * i + 1];
      // Exact in float64 iff -2^53 <= v <= 2^53.
      if (hi < -TWO21 || hi > TWO21 || (hi === TWO21 && lo !== 0)) dec.beyond53((BigInt(hi) << 32n) + BigInt(lo), i);
      out[o + i] = hi * TWO32 + lo;
    }
  }
}

function swapBytes(b: Uint8Array, size: number): void {
  for (let p = 0; p < b.length; p += size) {
    for (let i = 0, j = p + size - 1, k = p; i < size >> 1; i++, j--, k++) {
      const t = b[k];
      b[k] = b[j];
      b[j] = t;
    }
  }
}

/** Walks Fortran order (first axis fastest) and yields each element's C-order (last axis fastest) index. */
class FortranWalk {
  private readonly shape: number[];
  private readonly cStride: number[];
  private readonly idx: number[];
  private c = 0;

  constructor(shape: number[]) {
    this.shape = shape;
    const r = shape.length;
    this.cStride = new Array<number>(r);
    let s = 1;
    for (let k = r - 1; k >= 0; k--) {
      this.cStride[k] = s;
      s *= shape[k];
    }
    this.idx = new Array<number>(r).fill(0);
  }

  scatter(src: Float64Array, m: number, out: Float64Array): void {
    const { shape, cStride, idx } = this;
    const r = shape.length;
    let c = this.c;
    for (let i = 0; i < m; i++) {
      out[c] = src[i];
      // Odometer over Fortran order; c follows incrementally.
      for (let k = 0; k < r; k++) {
        idx[k]++;
        c += cStride[k];
        if (idx[k] < shape[k]) break;
        c -= cStride[k] * shape[k];
        idx[k] = 0;
      }
    }
    this.c = c;
  }

  /** C-order index of the Fortran-order element f (for messages). */
  cIndexOf(f: number): number {
    let c = 0;
    for (let k = 0; k < this.shape.length; k++) {
      c += (f % this.shape[k]) * this.cStride[k];
      f = Math.floor(f / this.shape[k]);
    }
    return c;
  }
}

/** "shape (2, 3) of '<f4'": for messages. */
export function describeArray(shape: number[], dt: NpyDType): string {
  return `shape ${fmtShape(shape)} of '${dt.descr}'`;
}
