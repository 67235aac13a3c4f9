// .npz reader: a zip archive of .npy members.
//
// Format facts (numpy/lib/npyio.py, numpy 1.24): numpy.savez writes members STORED and
// numpy.savez_compressed DEFLATED (_savez: zipfile ZIP_STORED / ZIP_DEFLATED, every member
// with force_zip64=True); a member is named '<key>.npy', positional arrays 'arr_0', 'arr_1', ...
// after the keyword ones, in call order. NpzFile strips the '.npy' suffix to name the arrays
// and returns the raw bytes of members that are not .npy files.
//
// Zip parsing, size limits and CRC checks are src/io/zip.ts (shared with .keras archives).

import { LoadError } from '../model/errors.js';
import type { NamedArray, DataOptions } from './data.js';
import { readNpy } from './npy.js';
import { ZipArchive, ZIP_MAGIC } from './zip.js';
import { startsWith } from './common.js';
import { warn } from '../model/types.js';

const EMPTY_ZIP = [0x50, 0x4b, 0x05, 0x06]; // end-of-central-directory first: a zip with no members

export function match(bytes: Uint8Array, name: string): boolean {
  return startsWith(bytes, ZIP_MAGIC) || startsWith(bytes, EMPTY_ZIP) || /\.npz$/i.test(name);
}

export function readNpz(bytes: Uint8Array, label: string, opts: DataOptions = {}): NamedArray[] {
  if (!startsWith(bytes, ZIP_MAGIC) && !startsWith(bytes, EMPTY_ZIP)) {
    throw new LoadError(`${label} does not start with the zip signature PK\\x03\\x04; expected an .npz written by numpy.savez, so re-save the arrays or check that the file is not damaged.`, { file: label });
  }
  const zip = ZipArchive.open(bytes, label, 'an .npz archive');
  const out: NamedArray[] = [];
  const skipped: string[] = [];
  for (const member of zip.names()) {
    if (member.endsWith('/')) continue; // directory entry
    if (!/\.npy$/.test(member)) {
      skipped.push(member);
      continue;
    }
    const data = zip.read(member);
    if (data === null) continue;
    out.push(readNpy(data, `${label}:${member}`, member.slice(0, -4)));
  }
  if (skipped.length > 0 && opts.warnings) {
    warn(opts.warnings, 'npz-non-npy', `${label}: ignored ${skipped.length} member(s) that are not .npy arrays (${skipped.slice(0, 3).join(', ')}${skipped.length > 3 ? ', …' : ''}).`);
  }
  if (out.length === 0) {
    throw new LoadError(`${label} holds no .npy arrays${skipped.length ? ` (only ${skipped.slice(0, 3).join(', ')})` : ''}; expected arrays saved with numpy.savez('${label}', x=...), so re-save them.`, { file: label });
  }
  return out;
}
