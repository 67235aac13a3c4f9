// The .npy header: signature, version, and the Python dict literal that declares dtype, order and
// shape, read and checked before any data is allocated. Shared by the .npy and .npz readers and
// the Keras 3 .npz weight store.
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
import { PyTuple, parsePyLiteral, pyRepr, type PyValue } from './py-literal.js';
import type { NpyDType } from './npy-decode.js';
import { MAX_ELEMENTS } from './common.js';
import { NPY_MAGIC, startsWith } from './magic.js';

const MAGIC = NPY_MAGIC;
/** numpy's _MAX_HEADER_SIZE. */
const MAX_HEADER_CHARS = 10000;

/** The bytes begin with the .npy signature. */
export function hasNpyMagic(bytes: Uint8Array): boolean {
  return startsWith(bytes, MAGIC);
}

/** What a .npy header declares, and where its data starts. */
export interface NpyHeader {
  dt: NpyDType;
  shape: number[];
  fortranOrder: boolean;
  /** Offset of the first data byte. */
  dataStart: number;
  /** Number of elements (0 when any dimension is 0). */
  count: number;
}

/**
 * Bytes needed to hold the whole header of the .npy that `start` begins (its first 12 bytes
 * or more), or null when `start` is still too short to tell. Throws on a bad signature or version.
 */
export function npyHeaderEnd(start: Uint8Array, label: string): number | null {
  if (start.length < 10) return null;
  const { headerStart, headerLen } = headerSpan(start, label, false);
  return headerStart < 0 ? null : headerStart + headerLen;
}

/** Parse and check the header of the .npy in `bytes` (at least the header's bytes, see npyHeaderEnd). */
export function readNpyHeader(bytes: Uint8Array, label: string): NpyHeader {
  const { major, headerStart, headerLen } = headerSpan(bytes, label, true);
  if (headerStart + headerLen > bytes.length)
    throw truncated(label, `its ${headerLen}-byte header`, headerStart + headerLen, bytes.length);
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
      throw new DataError(
        `${label} has shape ${fmtShape(header.shape)}${total > 0 ? ` = ${total} elements` : ''}; rnnscope loads at most ${MAX_ELEMENTS} (2 GiB as float64), so pass a slice of the data.`,
        { file: label },
      );
    }
  }
  if (header.shape.includes(0)) n = 0;
  return { dt, shape: header.shape, fortranOrder: header.fortranOrder, dataStart: headerStart + headerLen, count: n };
}

/** Signature, version and header length. headerStart is -1 when `bytes` is too short and `strict` is false. */
function headerSpan(
  bytes: Uint8Array,
  label: string,
  strict: boolean,
): { major: number; headerStart: number; headerLen: number } {
  if (!hasNpyMagic(bytes)) {
    if (bytes.length < MAGIC.length && bytes.every((b, i) => b === MAGIC[i])) {
      if (!strict) return { major: 0, headerStart: -1, headerLen: 0 };
      throw truncated(label, 'its signature', MAGIC.length, bytes.length);
    }
    throw new LoadError(
      `${label} does not start with the .npy signature \\x93NUMPY; save the array with numpy.save, or check that the file is not damaged.`,
      { file: label },
    );
  }
  if (bytes.length < 10) {
    if (!strict) return { major: 0, headerStart: -1, headerLen: 0 };
    throw truncated(label, 'its header length', 10, bytes.length);
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (!((major === 1 || major === 2 || major === 3) && minor === 0)) {
    throw new LoadError(
      `${label} has .npy format version ${major}.${minor}; rnnscope reads versions 1.0, 2.0 and 3.0, so re-save the array with numpy.save.`,
      { file: label },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else {
    if (bytes.length < 12) {
      if (!strict) return { major, headerStart: -1, headerLen: 0 };
      throw truncated(label, 'its header length', 12, bytes.length);
    }
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  }
  if (headerLen > MAX_HEADER_CHARS * (major === 3 ? 4 : 1)) throw headerTooLarge(label, headerLen);
  return { major, headerStart, headerLen };
}

// ---- header -----------------------------------------------------------------

interface Header {
  descr: PyValue;
  fortranOrder: boolean;
  shape: number[];
}

function parseHeader(text: string, label: string, dropLongSuffix: boolean): Header {
  let value: PyValue;
  try {
    value = parsePyLiteral(text, dropLongSuffix);
  } catch (e) {
    const why = e instanceof SyntaxError ? e.message : String(e);
    throw new LoadError(`${label} has an unreadable .npy header (${why}); re-save the array with numpy.save.`, {
      file: label,
      cause: e,
    });
  }
  if (!(value instanceof Map)) {
    throw new LoadError(`${label} has a .npy header that is not a dictionary; re-save the array with numpy.save.`, {
      file: label,
    });
  }
  const keys = [...value.keys()].sort();
  if (keys.length !== 3 || keys[0] !== 'descr' || keys[1] !== 'fortran_order' || keys[2] !== 'shape') {
    throw new LoadError(
      `${label} has .npy header keys (${keys.join(', ')}); expected exactly descr, fortran_order and shape, so re-save the array with numpy.save.`,
      { file: label },
    );
  }
  const shape = value.get('shape');
  if (
    !(shape instanceof PyTuple) ||
    !shape.items.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
  ) {
    throw new LoadError(
      `${label} has .npy shape ${pyRepr(shape)}; expected a tuple of non-negative integers, so re-save the array with numpy.save.`,
      { file: label },
    );
  }
  const fortran = value.get('fortran_order');
  if (typeof fortran !== 'boolean') {
    throw new LoadError(
      `${label} has .npy fortran_order ${pyRepr(fortran)}; expected True or False, so re-save the array with numpy.save.`,
      { file: label },
    );
  }
  return { descr: value.get('descr') ?? null, fortranOrder: fortran, shape: shape.items as number[] };
}

const KIND_NAMES: Record<string, string> = {
  c: 'complex numbers',
  m: 'time deltas',
  M: 'dates',
  S: 'byte strings',
  a: 'byte strings',
  U: 'unicode strings',
  V: 'raw bytes (void)',
};

function parseDescr(descr: PyValue, label: string): NpyDType {
  if (typeof descr !== 'string') {
    if (Array.isArray(descr)) {
      const names = descr.map((f) => (f instanceof PyTuple && typeof f.items[0] === 'string' ? f.items[0] : '?'));
      const example = names
        .slice(0, 2)
        .map((f) => `${f}=x['${f}']`)
        .join(', ');
      throw new DataError(
        `${label} holds a structured array with fields (${names.join(', ')}); rnnscope reads plain numeric arrays, so save each field as its own array (numpy.savez('x.npz', ${example})).`,
        { file: label },
      );
    }
    throw new DataError(
      `${label} has dtype descriptor ${pyRepr(descr)}; rnnscope reads plain bool, integer and float arrays, so save one with numpy.save(x.astype('float32')).`,
      { file: label },
    );
  }
  if (descr === '|O' || descr === 'O' || /^[<>|=]?O\d*$/.test(descr)) {
    throw new DataError(
      `${label} holds Python objects (dtype 'O'); they are pickles that can run code, so rnnscope refuses them; save a numeric array instead.`,
      { file: label },
    );
  }
  const m = /^([<>|=]?)([a-zA-Z?])(\d*)(\[[^\]]*\])?$/.exec(descr);
  if (m) {
    const order = m[1];
    const kind = m[2] === '?' ? 'b' : m[2];
    const size = m[3] === '' ? (kind === 'b' ? 1 : 0) : Number(m[3]);
    const little = order !== '>';
    const ok =
      (kind === 'b' && size === 1) ||
      ((kind === 'i' || kind === 'u') && [1, 2, 4, 8].includes(size)) ||
      (kind === 'f' && [2, 4, 8].includes(size));
    if (ok) {
      const name = kind === 'b' ? 'bool' : `${kind === 'i' ? 'int' : kind === 'u' ? 'uint' : 'float'}${size * 8}`;
      return { descr, name, kind: kind as NpyDType['kind'], size, little };
    }
    if (kind === 'f' && size > 8) {
      throw new DataError(
        `${label} holds float${size * 8} (long double, '${descr}'); rnnscope computes in float64, so save x.astype('float64').`,
        { file: label },
      );
    }
    if (KIND_NAMES[kind] !== undefined) {
      throw new DataError(
        `${label} holds ${KIND_NAMES[kind]} (dtype '${descr}'); rnnscope reads bool, integer and float arrays, so convert them to numbers first (x.astype('float32')).`,
        { file: label },
      );
    }
  }
  throw new DataError(
    `${label} has unknown dtype '${descr}'; rnnscope reads bool, integer and float arrays, so save one with numpy.save(x.astype('float32')).`,
    { file: label },
  );
}

// ---- messages and small helpers -----------------------------------------------

function truncated(label: string, what: string, need: number, have: number): LoadError {
  return new LoadError(
    `${label} is truncated: ${what} needs ${need} bytes but the file has ${have}; re-copy or re-save the file.`,
    { file: label },
  );
}

function headerTooLarge(label: string, len: number): LoadError {
  return new LoadError(
    `${label} has a ${len}-character .npy header; numpy itself refuses headers over ${MAX_HEADER_CHARS} characters, so re-save the array with numpy.save.`,
    { file: label },
  );
}

function decodeUtf8(b: Uint8Array, label: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch (e) {
    throw new LoadError(
      `${label} has a version 3.0 .npy header that is not valid UTF-8; re-save the array with numpy.save.`,
      { file: label, cause: e },
    );
  }
}
