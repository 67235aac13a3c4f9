// Helpers the format modules share: JSON parsing with file-named errors, cheap content
// sniffing for match() (magic bytes, the start of a JSON object, a key mentioned near the top),
// and float16 decoding (HDF5 datasets, TF.js float16 quantization, Keras 3 .npz weights).
// A leaf module: it imports nothing from the format modules or from index.ts, which registers them.

import { LoadError } from '../model/errors.js';

/** Parse JSON text, turning syntax errors into a LoadError naming the file. */
export function parseJson(bytes: Uint8Array | string, file: string, what = 'JSON'): unknown {
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    throw new LoadError(`${file} is not UTF-8 text; expected ${what}; the file is binary or corrupted.`, { file, cause: e });
  }
  try {
    // Python's json.dumps writes NaN/Infinity for non-finite floats (allow_nan=True); JSON.parse does not accept them.
    return JSON.parse(text.replace(/\bNaN\b|-?\bInfinity\b/g, 'null'));
  } catch (e) {
    throw new LoadError(`${file} is not valid ${what} (${e instanceof Error ? e.message : String(e)}); expected ${what}; the file is truncated or corrupted.`, { file, cause: e });
  }
}

/** The first non-blank byte is `{` (a JSON object). */
export function looksLikeJsonObject(bytes: Uint8Array): boolean {
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3; // UTF-8 BOM
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  return bytes[i] === 0x7b;
}

/** Whether the first `limit` bytes of a JSON file mention `"key"`. Cheap sniffing for match(). */
export function jsonMentions(bytes: Uint8Array, key: string, limit = 1 << 16): boolean {
  const text = new TextDecoder().decode(bytes.subarray(0, limit));
  return text.includes(`"${key}"`);
}

/** Whether `bytes` begin with `magic`. */
export function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  if (bytes.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic[i]) return false;
  return true;
}

/** IEEE 754 binary16 → float32 (exact). */
export function halfToFloat(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const x = h[i];
    const s = x & 0x8000 ? -1 : 1;
    const e = (x >> 10) & 0x1f;
    const f = x & 0x3ff;
    out[i] = e === 0 ? s * f * 2 ** -24 : e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (e - 15);
  }
  return out;
}
