// .npy reader: one numeric array per file.
//
// Format facts (numpy/lib/format.py, numpy 1.24, the "NPY format" docstring):
//   bytes 0-5   magic "\x93NUMPY"
//   bytes 6-7   major, minor version: 1.0, 2.0 or 3.0
//   then        header length: uint16 LE (1.0) or uint32 LE (2.0, 3.0)
//   then        header text: latin1 (1.0, 2.0) or utf8 (3.0); a Python dict literal
//               {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with
//               spaces and '\n' so the data starts on a 64-byte boundary (ARRAY_ALIGN)
//   then        prod(shape) items of `descr`, in C order or, when fortran_order, Fortran order.
// numpy reads the header with ast.literal_eval after dropping Python 2 'L' suffixes
// (_filter_header), requires exactly the keys descr/fortran_order/shape, a tuple of ints as
// shape, and refuses headers over 10000 characters unless the file is trusted
// (_read_array_header, _MAX_HEADER_SIZE). We apply the same rules with a small literal
// parser (py-literal.ts) instead of an evaluator. Bytes after the data are ignored, as numpy does.

import { DataError, LoadError, fmtShape } from '../model/errors.js';
import type { NamedArray } from './data.js';
import { PyTuple, parsePyLiteral, pyRepr, type PyValue } from './py-literal.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** numpy's _MAX_HEADER_SIZE. */
const MAX_HEADER_CHARS = 10000;
/** 2 GiB of float64: the most one array may expand to in memory. */
export const MAX_ELEMENTS = 2 ** 28;

export function match(bytes: Uint8Array, name: string): boolean {
  return hasMagic(bytes) || /\.npy$/i.test(name);
}

export function hasMagic(bytes: Uint8Array): boolean {
  if (bytes.length < MAGIC.length) return false;
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) return false;
  return true;
}

/** Reads one .npy file. `label` names the file in messages (e.g. "x.npy", or "data.npz:x.npy"). */
export function readNpy(bytes: Uint8Array, label: string, name = stripExt(baseName(label))): NamedArray {
  if (!hasMagic(bytes)) {
    throw new LoadError(`${label} does not start with the .npy signature \\x93NUMPY; save the array with numpy.save, or check that the file is not damaged.`, { file: label });
  }
  if (bytes.length < 10) throw truncated(label, 'its header length', 10, bytes.length);
  const major = bytes[6];
  const minor = bytes[7];
  if (!((major === 1 || major === 2 || major === 3) && minor === 0)) {
    throw new LoadError(`${label} has .npy format version ${major}.${minor}; rnnscope reads versions 1.0, 2.0 and 3.0, so re-save the array with numpy.save.`, { file: label });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else {
    if (bytes.length < 12) throw truncated(label, 'its header length', 12, bytes.length);
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  }
  if (headerStart + headerLen > bytes.length) throw truncated(label, `its ${headerLen}-byte header`, headerStart + headerLen, bytes.length);
  if (headerLen > MAX_HEADER_CHARS * (major === 3 ? 4 : 1)) throw headerTooLarge(label, headerLen);
  const headerBytes = bytes.subarray(headerStart, headerStart + headerLen);
  // WHATWG 'latin1' is windows-1252; the two differ only in 0x80-0x9F, which can occur only inside field names.
  const text = major === 3 ? decodeUtf8(headerBytes, label) : new TextDecoder('latin1').decode(headerBytes);
  if (text.length > MAX_HEADER_CHARS) throw headerTooLarge(label, text.length);
  const header = parseHeader(text, label, major < 3);
  const dt = parseDescr(header.descr, label);

  // Zero dims are skipped so that (huge, ..., 0) cannot multiply out to NaN.
  let n = 1;
  for (const d of header.shape) {
    if (d !== 0) n *= d;
    if (n > MAX_ELEMENTS) {
      const total = header.shape.reduce((a, b) => a * b, 1);
      throw new DataError(`${label} has shape ${fmtShape(header.shape)}${total > 0 ? ` = ${total} elements` : ''}; rnnscope loads at most ${MAX_ELEMENTS} (2 GiB as float64), so pass a slice of the data.`, { file: label });
    }
  }
  if (header.shape.includes(0)) n = 0;
  const dataStart = headerStart + headerLen;
  const need = n * dt.size;
  if (dataStart + need > bytes.length) {
    throw new LoadError(`${label} is truncated: shape ${fmtShape(header.shape)} of '${dt.descr}' needs ${need} bytes of data but ${bytes.length - dataStart} follow the header; re-copy or re-save the file.`, { file: label });
  }
  let data = new Float64Array(n);
  decode(bytes, dataStart, dt, data, label, header.shape);
  if (header.fortranOrder && header.shape.length > 1) data = fortranToC(data, header.shape);
  return { name, shape: header.shape, dtype: dt.name, data, source: label };
}

// ---- header -----------------------------------------------------------------

interface Header { descr: PyValue; fortranOrder: boolean; shape: number[] }

function parseHeader(text: string, label: string, dropLongSuffix: boolean): Header {
  let value: PyValue;
  try {
    value = parsePyLiteral(text, dropLongSuffix);
  } catch (e) {
    const why = e instanceof SyntaxError ? e.message : String(e);
    throw new LoadError(`${label} has an unreadable .npy header (${why}); re-save the array with numpy.save.`, { file: label, cause: e });
  }
  if (!(value instanceof Map)) {
    throw new LoadError(`${label} has a .npy header that is not a dictionary; re-save the array with numpy.save.`, { file: label });
  }
  const keys = [...value.keys()].sort();
  if (keys.length !== 3 || keys[0] !== 'descr' || keys[1] !== 'fortran_order' || keys[2] !== 'shape') {
    throw new LoadError(`${label} has .npy header keys (${keys.join(', ')}); expected exactly descr, fortran_order and shape, so re-save the array with numpy.save.`, { file: label });
  }
  const shape = value.get('shape');
  if (!(shape instanceof PyTuple) || !shape.items.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new LoadError(`${label} has .npy shape ${pyRepr(shape)}; expected a tuple of non-negative integers, so re-save the array with numpy.save.`, { file: label });
  }
  const fortran = value.get('fortran_order');
  if (typeof fortran !== 'boolean') {
    throw new LoadError(`${label} has .npy fortran_order ${pyRepr(fortran)}; expected True or False, so re-save the array with numpy.save.`, { file: label });
  }
  return { descr: value.get('descr') ?? null, fortranOrder: fortran, shape: shape.items as number[] };
}

interface DType {
  descr: string;
  /** numpy name: float32, int64, bool, ... */
  name: string;
  kind: 'b' | 'i' | 'u' | 'f';
  size: number;
  little: boolean;
}

const KIND_NAMES: Record<string, string> = {
  c: 'complex numbers', m: 'time deltas', M: 'dates', S: 'byte strings', a: 'byte strings', U: 'unicode strings', V: 'raw bytes (void)',
};

function parseDescr(descr: PyValue, label: string): DType {
  if (typeof descr !== 'string') {
    if (Array.isArray(descr)) {
      const names = descr.map((f) => (f instanceof PyTuple && typeof f.items[0] === 'string' ? f.items[0] : '?'));
      const example = names.slice(0, 2).map((f) => `${f}=x['${f}']`).join(', ');
      throw new DataError(`${label} holds a structured array with fields (${names.join(', ')}); rnnscope reads plain numeric arrays, so save each field as its own array (numpy.savez('x.npz', ${example})).`, { file: label });
    }
    throw new DataError(`${label} has dtype descriptor ${pyRepr(descr)}; rnnscope reads plain bool, integer and float arrays, so save one with numpy.save(x.astype('float32')).`, { file: label });
  }
  if (descr === '|O' || descr === 'O' || /^[<>|=]?O\d*$/.test(descr)) {
    throw new DataError(`${label} holds Python objects (dtype 'O'); they are pickles that can run code, so rnnscope refuses them; save a numeric array instead.`, { file: label });
  }
  const m = /^([<>|=]?)([a-zA-Z?])(\d*)(\[[^\]]*\])?$/.exec(descr);
  if (m) {
    const order = m[1];
    const kind = m[2] === '?' ? 'b' : m[2];
    const size = m[3] === '' ? (kind === 'b' ? 1 : 0) : Number(m[3]);
    const little = order !== '>';
    const ok = (kind === 'b' && size === 1) || ((kind === 'i' || kind === 'u') && [1, 2, 4, 8].includes(size)) || (kind === 'f' && [2, 4, 8].includes(size));
    if (ok) {
      const name = kind === 'b' ? 'bool' : `${kind === 'i' ? 'int' : kind === 'u' ? 'uint' : 'float'}${size * 8}`;
      return { descr, name, kind: kind as DType['kind'], size, little };
    }
    if (kind === 'f' && size > 8) {
      throw new DataError(`${label} holds float${size * 8} (long double, '${descr}'); rnnscope computes in float64, so save x.astype('float64').`, { file: label });
    }
    if (KIND_NAMES[kind] !== undefined) {
      throw new DataError(`${label} holds ${KIND_NAMES[kind]} (dtype '${descr}'); rnnscope reads bool, integer and float arrays, so convert them to numbers first (x.astype('float32')).`, { file: label });
    }
  }
  throw new DataError(`${label} has unknown dtype '${descr}'; rnnscope reads bool, integer and float arrays, so save one with numpy.save(x.astype('float32')).`, { file: label });
}

// ---- data -------------------------------------------------------------------

const TWO32 = 4294967296;
const TWO21 = 2097152;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Speed: a typed-array view over the data and one Float64Array.set convert at memory speed
// (about 3x faster than per-element DataView reads in Node 20). The data bytes are copied first
// when they are unaligned (another writer may skip numpy's 64-byte padding) or need a byte
// swap; otherwise the view is taken in place.
function decode(bytes: Uint8Array, off: number, dt: DType, out: Float64Array, label: string, shape: number[]): void {
  const n = out.length;
  const size = dt.size;
  let raw = bytes.subarray(off, off + n * size);
  if (size > 1 && (dt.little !== LITTLE_ENDIAN_HOST || (bytes.byteOffset + off) % size !== 0)) {
    raw = raw.slice();
    if (dt.little !== LITTLE_ENDIAN_HOST) swapBytes(raw, size);
  }
  const buf = raw.buffer;
  const at = raw.byteOffset;
  if (dt.kind === 'b') {
    for (let i = 0; i < n; i++) out[i] = raw[i] !== 0 ? 1 : 0;
  } else if (dt.kind === 'f') {
    if (size === 8) out.set(new Float64Array(buf, at, n));
    else if (size === 4) out.set(new Float32Array(buf, at, n));
    else {
      const h = new Uint16Array(buf, at, n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(h[i]);
    }
  } else if (size === 1) out.set(dt.kind === 'i' ? new Int8Array(buf, at, n) : raw);
  else if (size === 2) out.set(dt.kind === 'i' ? new Int16Array(buf, at, n) : new Uint16Array(buf, at, n));
  else if (size === 4) out.set(dt.kind === 'i' ? new Int32Array(buf, at, n) : new Uint32Array(buf, at, n));
  else {
    // 64-bit integers as two 32-bit halves (now in host = little-endian order): no BigInt per element.
    const u = new Uint32Array(buf, at, 2 * n);
    const signed = dt.kind === 'i';
    for (let i = 0; i < n; i++) {
      const lo = u[2 * i];
      const hi = signed ? u[2 * i + 1] | 0 : u[2 * i + 1];
      // Exact in float64 iff -2^53 <= v <= 2^53.
      if (hi < -TWO21 || hi > TWO21 || (hi === TWO21 && lo !== 0)) {
        const big = (BigInt(hi) << 32n) + BigInt(lo);
        throw beyond53(label, big, i, shape, dt);
      }
      out[i] = hi * TWO32 + lo;
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

/** IEEE 754 binary16 → number (exact: every half is a double). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/** Fortran-order (first axis fastest) → C order (last axis fastest). */
function fortranToC(src: Float64Array, shape: number[]): Float64Array<ArrayBuffer> {
  const r = shape.length;
  const out = new Float64Array(src.length);
  if (src.length === 0) return out;
  const fStride = new Array<number>(r);
  let s = 1;
  for (let k = 0; k < r; k++) { fStride[k] = s; s *= shape[k]; }
  const idx = new Array<number>(r).fill(0);
  let f = 0;
  const n = out.length;
  for (let c = 0; c < n; c++) {
    out[c] = src[f];
    // Odometer over C order; f follows incrementally.
    for (let k = r - 1; k >= 0; k--) {
      idx[k]++;
      f += fStride[k];
      if (idx[k] < shape[k]) break;
      f -= fStride[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

// ---- messages and small helpers -----------------------------------------------

function truncated(label: string, what: string, need: number, have: number): LoadError {
  return new LoadError(`${label} is truncated: ${what} needs ${need} bytes but the file has ${have}; re-copy or re-save the file.`, { file: label });
}

function headerTooLarge(label: string, len: number): LoadError {
  return new LoadError(`${label} has a ${len}-character .npy header; numpy itself refuses headers over ${MAX_HEADER_CHARS} characters, so re-save the array with numpy.save.`, { file: label });
}

function beyond53(label: string, v: bigint, flat: number, shape: number[], dt: DType): DataError {
  return new DataError(`${label} holds ${dt.name} value ${v} at index ${fmtIndex(flat, shape)}, beyond 2^53 where float64 loses integers; rnnscope computes in float64, so reduce or re-encode the values.`, { file: label });
}

/** Flat C-order index → "[i, j, k]". */
export function fmtIndex(flat: number, shape: readonly number[]): string {
  const idx = new Array<number>(shape.length);
  let rest = flat;
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k] || 1;
    idx[k] = rest % d;
    rest = Math.floor(rest / d);
  }
  return `[${idx.join(', ')}]`;
}

export function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i >= 0 ? path.slice(i + 1) : path;
}

export function stripExt(name: string): string {
  const i = name.lastIndexOf('.');
  return i > 0 ? name.slice(0, i) : name;
}

function decodeUtf8(b: Uint8Array, label: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch (e) {
    throw new LoadError(`${label} has a version 3.0 .npy header that is not valid UTF-8; re-save the array with numpy.save.`, { file: label, cause: e });
  }
}
