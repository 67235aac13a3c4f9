// What HDF5 bytes and h5wasm's answers mean, without calling h5wasm: the superblock check run
// before HDF5 sees a file (spec "Format Signature", "Superblock"), the dtype of a dataset, and
// raw dataset bytes and attribute values decoded into rnnscope's values. hdf5.ts, the h5wasm
// wrapper, uses these; nothing here needs the wasm module.

import { LoadError } from '../model/errors.js';
import { halfToFloat } from './float16.js';
import { HDF5_MAGIC } from './magic.js';

/** The typed array a numeric dataset decodes to. */
export type H5Data =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

/** The fields of h5wasm's Metadata that decide a dataset's dtype (H5T class id, byte size, signedness). */
export interface H5TypeInfo {
  type: number;
  size: number;
  signed: boolean;
}

/** Check the superblock before handing bytes to HDF5: signature, offset size, and end-of-file address within the bytes
 * given. */
export function checkSuperblock(bytes: Uint8Array, file: string): void {
  // The signature may sit at 0, 512, 1024, 2048, ... (spec "Superblock": user block sizes are powers of two >= 512).
  let base = -1;
  for (let off = 0; off + 8 <= bytes.length; off = off === 0 ? 512 : off * 2) {
    if (HDF5_MAGIC.every((b, i) => bytes[off + i] === b)) {
      base = off;
      break;
    }
  }
  if (base < 0)
    throw new LoadError(
      `${file} has no HDF5 signature; expected an HDF5 file (\\x89HDF\\r\\n\\x1a\\n); check that this is a Keras .h5 file.`,
      { file },
    );
  if (bytes.length < base + 16) {
    throw new LoadError(
      `${file} is ${bytes.length} bytes, too short for its HDF5 superblock; expected a complete file; it is truncated, re-download or re-save it.`,
      { file },
    );
  }
  const v = bytes[base + 8];
  // Field offsets from the HDF5 spec, "Superblock" versions 0/1 and 2/3.
  let sizeOffsets: number;
  let eofAt: number;
  if (v === 0 || v === 1) {
    sizeOffsets = bytes[base + 13];
    const fixed = base + 24 + (v === 1 ? 4 : 0);
    eofAt = fixed + 2 * sizeOffsets; // base address, free-space address, then EOF address
  } else if (v === 2 || v === 3) {
    sizeOffsets = bytes[base + 9];
    eofAt = base + 12 + 2 * sizeOffsets; // base address, superblock extension address, then EOF address
  } else {
    throw new LoadError(
      `${file} has HDF5 superblock version ${v}; expected 0 to 3; the file is corrupted or from an unsupported HDF5 release.`,
      { file },
    );
  }
  if (sizeOffsets !== 2 && sizeOffsets !== 4 && sizeOffsets !== 8) {
    throw new LoadError(
      `${file} declares ${sizeOffsets}-byte file offsets; expected 2, 4 or 8; the file is corrupted.`,
      { file },
    );
  }
  if (eofAt + sizeOffsets > bytes.length) {
    throw new LoadError(
      `${file} is ${bytes.length} bytes, too short for its HDF5 superblock; expected a complete file; it is truncated, re-download or re-save it.`,
      { file },
    );
  }
  let eof = 0;
  for (let i = sizeOffsets - 1; i >= 0; i--) eof = eof * 256 + bytes[eofAt + i];
  if (eof !== 2 ** (8 * sizeOffsets) - 1 && eof > bytes.length - base) {
    throw new LoadError(
      `${file} is ${bytes.length} bytes but its HDF5 superblock declares ${eof + base}; expected the whole file; it is truncated, re-download or re-save it.`,
      { file },
    );
  }
}

/** rnnscope's dtype name for a dataset's HDF5 type; 'unsupported' for anything not numeric. */
export function dtypeName(meta: H5TypeInfo, dtypeAttr: string | null): string {
  // H5T class ids: 0 integer, 1 float, 5 opaque (h5py_wasm metadata "type").
  if (meta.type === 1)
    return meta.size === 2 ? 'float16' : meta.size === 4 ? 'float32' : meta.size === 8 ? 'float64' : 'unsupported';
  if (meta.type === 0 && [1, 2, 4, 8].includes(meta.size)) return `${meta.signed ? 'int' : 'uint'}${meta.size * 8}`;
  // Keras 3 writes bfloat16 variables with a dataset attribute dtype="bfloat16"
  // (keras/src/saving/saving_lib.py H5Entry.__setitem__); h5py stores ml_dtypes.bfloat16 as a 2-byte opaque type.
  if (meta.size === 2 && dtypeAttr === 'bfloat16') return 'bfloat16';
  return 'unsupported';
}

const VIEWS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
} as const;

/** A dataset's raw (little-endian) bytes as a typed array of its dtype; 64-bit integers and bfloat16 are converted. */
export function decodeDataset(raw: Uint8Array, dtype: string): H5Data {
  const buf = raw.buffer as ArrayBuffer;
  if (dtype in VIEWS) {
    const V = VIEWS[dtype as keyof typeof VIEWS];
    return new V(buf, raw.byteOffset, raw.byteLength / V.BYTES_PER_ELEMENT);
  }
  if (dtype === 'int64' || dtype === 'uint64') {
    // Exact below 2^53, which covers every integer weight a recurrent model stores.
    const dv = new DataView(buf, raw.byteOffset, raw.byteLength);
    const out = new Float64Array(raw.byteLength / 8);
    for (let i = 0; i < out.length; i++)
      out[i] = Number(dtype === 'int64' ? dv.getBigInt64(i * 8, true) : dv.getBigUint64(i * 8, true));
    return out;
  }
  const u16 = new Uint16Array(buf, raw.byteOffset, raw.byteLength / 2);
  if (dtype === 'float16') return halfToFloat(u16);
  // bfloat16 is the upper half of a float32.
  const u32 = new Uint32Array(u16.length);
  for (let i = 0; i < u16.length; i++) u32[i] = u16[i] << 16;
  return new Float32Array(u32.buffer);
}

/** An attribute value as h5wasm returns it → string(s) or number(s); `scalar` unwraps one-element values. */
export function toPlain(v: unknown, scalar: boolean): string | string[] | number | number[] | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) return scalar && v.length === 1 ? (v[0] as string) : (v as string[]);
    return v.map((x) => Number(x));
  }
  if (ArrayBuffer.isView(v)) {
    const arr = Array.from(v as unknown as ArrayLike<number | bigint>, (x) => Number(x));
    return scalar && arr.length === 1 ? arr[0] : arr;
  }
  return null;
}

/** An attribute value that must be a list of strings (layer or weight names); LoadError otherwise. */
export function asStrings(v: unknown, where: string, file: string): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  // An empty list is stored by h5py as an empty float array (np.array([]) has dtype float64).
  if (Array.isArray(v) && v.length === 0) return [];
  throw new LoadError(
    `Attribute ${where} in ${file} is not a list of strings; expected layer or weight names; the file was not written by Keras.`,
    { file },
  );
}
