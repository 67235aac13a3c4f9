// .npy reader: one numeric array per file. The header (its format, numpy's rules) is read by
// npy-header.ts, the data by npy-decode.ts.

import { LoadError } from '../model/errors.js';
import type { NamedArray } from './types.js';
import { NpyDecoder, describeArray } from './npy-decode.js';
import { hasNpyMagic, readNpyHeader } from './npy-header.js';
import { baseName, stripExt } from './common.js';
import { isZip } from './magic.js';

export const name = 'npy';

/** By its signature; by a .npy name unless the content is a zip (an .npz misnamed). */
export function match(bytes: Uint8Array, fileName: string): boolean {
  return hasNpyMagic(bytes) || (/\.npy$/i.test(fileName) && !isZip(bytes));
}

/** The array of a .npy file (registry shape). */
export function read(bytes: Uint8Array, fileName: string): NamedArray[] {
  return [readNpy(bytes, fileName)];
}

/** Reads one .npy file. `label` names the file in messages (e.g. "x.npy", or "data.npz:x.npy"). */
export function readNpy(bytes: Uint8Array, label: string, name = stripExt(baseName(label))): NamedArray {
  const h = readNpyHeader(bytes, label);
  const need = h.count * h.dt.size;
  if (h.dataStart + need > bytes.length) {
    throw new LoadError(
      `${label} is truncated: ${describeArray(h.shape, h.dt)} needs ${need} bytes of data but ${bytes.length - h.dataStart} follow the header; re-copy or re-save the file.`,
      { file: label },
    );
  }
  const dec = new NpyDecoder(h.dt, h.shape, h.fortranOrder, label);
  dec.push(bytes.subarray(h.dataStart, h.dataStart + need));
  return { name, shape: h.shape, dtype: h.dt.name, data: dec.out, source: label };
}
