// The first bytes that identify a file, for the formats' match() functions and the readers'
// checks. Byte layouts: docs/formats.md ('Magic numbers').

/** HDF5 superblock signature "\x89HDF\r\n\x1a\n" (at offset 0, 512, 1024, ... when a user block precedes it). */
export const HDF5_MAGIC: readonly number[] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
/** A zip local file header "PK\x03\x04": a zip with at least one member (.keras, .npz). */
export const ZIP_MAGIC: readonly number[] = [0x50, 0x4b, 0x03, 0x04];
/** A zip that starts with its end-of-central-directory record "PK\x05\x06": a zip with no members. */
export const EMPTY_ZIP_MAGIC: readonly number[] = [0x50, 0x4b, 0x05, 0x06];
/** "\x93NUMPY": a .npy array. */
export const NPY_MAGIC: readonly number[] = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** Whether `bytes` begin with `magic`. */
export function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  if (bytes.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic[i]) return false;
  return true;
}

/** A zip archive, with members or empty. */
export function isZip(bytes: Uint8Array): boolean {
  return startsWith(bytes, ZIP_MAGIC) || startsWith(bytes, EMPTY_ZIP_MAGIC);
}

/** A Python pickle of protocol 2 to 5: PROTO (0x80) and the protocol number. */
export function isPickle(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5;
}

/** The first eight bytes in hex, for messages about files of unknown kind. */
export function hexStart(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

const LFS_PREFIX = 'version https://git-lfs.github.com/spec/';

/**
 * If `bytes` are a Git LFS pointer (the text stub a clone holds in place of a large file until `git lfs pull`), a
 * message about `name` saying so; else null.
 */
export function lfsPointerNote(name: string, bytes: Uint8Array): string | null {
  if (bytes.length < LFS_PREFIX.length || bytes.length > 1024) return null;
  const text = new TextDecoder().decode(bytes);
  if (!text.startsWith(LFS_PREFIX)) return null;
  const size = /^size (\d+)\s*$/m.exec(text)?.[1];
  const of = size ? ` for a ${Number(size).toLocaleString('en-US')}-byte file` : '';
  return `${name} is a Git LFS pointer (a ${bytes.length}-byte text stub${of}), not the file itself; expected the real file; fetch it with git lfs pull, or download it from the repository's web page.`;
}
