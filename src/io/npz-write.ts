// Writes .npy arrays and .npz archives (for `rnnscope analyze --dump`), readable by numpy.load.
// .npy format 1.0 (numpy/lib/format.py): magic "\x93NUMPY", version 1.0, little-endian uint16
// header length, an ASCII dict {'descr', 'fortran_order', 'shape'} padded with spaces and a
// final '\n' so that the data starts on a 64-byte boundary; data in C order.
// .npz = a zip of <name>.npy members (stored; numpy.savez does the same).

import { zipSync } from 'fflate';

export interface NpyArray {
  shape: number[];
  data: Float32Array | Float64Array;
}

export function encodeNpy(a: NpyArray): Uint8Array {
  const descr = a.data instanceof Float32Array ? '<f4' : '<f8';
  const shape = a.shape.length === 0 ? '()' : a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const bytes = a.data.byteLength;
  const out = new Uint8Array(10 + header.length + bytes);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  // Typed arrays are in platform byte order; every platform rnnscope runs on is little-endian.
  out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, bytes), 10 + header.length);
  return out;
}

export function encodeNpz(arrays: Map<string, NpyArray>): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 }]> = {};
  for (const [name, a] of arrays) files[`${name}.npy`] = [encodeNpy(a), { level: 0 }];
  return zipSync(files);
}
