// Helpers the format modules share: JSON parsing with file-named errors, cheap content
// sniffing for match() (the start of a JSON object, a key mentioned near the top), file names,
// and the limits on what one file may expand to. Magic numbers are in magic.ts, float16 in
// float16.ts. A leaf module: it imports nothing from the format modules or from the registries.

import { LoadError, RnnscopeError } from '../model/errors.js';

/** 2 GiB of float64: the most values one data array may expand to in memory. */
export const MAX_ELEMENTS = 2 ** 28;

/** The last component of a path ('/' or '\\' separated). */
export function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i >= 0 ? path.slice(i + 1) : path;
}

/** A file name without its extension (".npy"); a leading dot is not an extension. */
export function stripExt(name: string): string {
  const i = name.lastIndexOf('.');
  return i > 0 ? name.slice(0, i) : name;
}

/**
 * Largest model config (JSON) read: Keras 3 writes ~650 bytes per Dense layer, so 10^5 layers
 * take ~64 MB; parsing costs about four times the text in memory.
 */
export const MAX_CONFIG_BYTES = 64 << 20;

/** Parse JSON text (a model config: at most MAX_CONFIG_BYTES), turning syntax errors into a LoadError naming the file.
 * */
export function parseJson(bytes: Uint8Array | string, file: string, what = 'JSON'): unknown {
  if (bytes.length > MAX_CONFIG_BYTES) {
    throw new LoadError(
      `${file} holds ${bytes.length} ${typeof bytes === 'string' ? 'characters' : 'bytes'} of ${what}; expected a model config of at most ${MAX_CONFIG_BYTES} bytes (64 MiB); rnnscope does not load configs this large.`,
      { file },
    );
  }
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    throw new LoadError(`${file} is not UTF-8 text; expected ${what}; the file is binary or corrupted.`, {
      file,
      cause: e,
    });
  }
  try {
    // Python's json.dumps writes NaN/Infinity for non-finite floats (allow_nan=True); JSON.parse does not accept them.
    return JSON.parse(text.replace(/\bNaN\b|-?\bInfinity\b/g, 'null'));
  } catch (e) {
    throw new LoadError(
      `${file} is not valid ${what} (${e instanceof Error ? e.message : String(e)}); expected ${what}; the file is truncated or corrupted.`,
      { file, cause: e },
    );
  }
}

/** The first non-blank byte is `{` (a JSON object). */
export function looksLikeJsonObject(bytes: Uint8Array): boolean {
  return firstNonBlank(bytes) === 0x7b;
}

/** The first byte after a UTF-8 BOM and JSON whitespace, or undefined when there is none. */
export function firstNonBlank(bytes: Uint8Array): number | undefined {
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3; // UTF-8 BOM
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  return bytes[i];
}

/** Whether the first `limit` bytes of a JSON file mention `"key"`. Cheap sniffing for match(). */
export function jsonMentions(bytes: Uint8Array, key: string, limit = 1 << 16): boolean {
  const text = new TextDecoder().decode(bytes.subarray(0, limit));
  return text.includes(`"${key}"`);
}

/** `e`, naming `file` when it is a typed error that names none (the model stage speaks of layers and weights, not
 * files). */
export function withFile(e: unknown, file: string): unknown {
  if (!(e instanceof RnnscopeError) || e.file !== undefined) return e;
  const Cls = e.constructor as new (m: string, o: { file?: string; cause?: unknown }) => RnnscopeError;
  return new Cls(e.message, { file, cause: e.cause });
}

/** What one model file may expand to in memory (see ExpansionBudget). */
export interface ExpansionLimits {
  /** Multiple of the file's size on disk. */
  ratio: number;
  /** Allowance on top of the ratio, so that tiny files with ordinary content still open. */
  floorBytes: number;
  /** Absolute cap. */
  maxBytes: number;
}

/**
 * Trained float weights barely compress (deflate gains ~10 %), and Keras stores .keras members
 * uncompressed, so 32× the file covers real models with room to spare; decompression bombs
 * expand ~1000×. Loading costs about five bytes of memory per budgeted byte (the decoded array
 * in the wasm heap and in JS, then float64), so a 2 MB file stays well under 1 GiB.
 */
export const MODEL_EXPANSION: ExpansionLimits = { ratio: 32, floorBytes: 16 << 20, maxBytes: 2 ** 31 - 1 };

/**
 * The bytes one model file on disk may produce in memory: deflated zip members as they are
 * inflated, and every HDF5 dataset as it is read (compressed, sparse or not). Shared by the zip
 * and HDF5 readers of one file, and checked before anything is inflated or read.
 */
export class ExpansionBudget {
  readonly limit: number;
  private used = 0;

  constructor(
    readonly file: string,
    readonly fileBytes: number,
    readonly limits: ExpansionLimits = MODEL_EXPANSION,
  ) {
    this.limit = Math.min(limits.maxBytes, fileBytes * limits.ratio + limits.floorBytes);
  }

  get remaining(): number {
    return this.limit - this.used;
  }

  /** LoadError unless `bytes` more fit; `what` names them after the file name ("member config.json", "dataset /x of
   * model.weights.h5"). */
  check(bytes: number, what: string): void {
    if (bytes <= this.remaining) return;
    const l = this.limits;
    const used = this.used > 0 ? `, ${this.used} of them already used` : '';
    throw new LoadError(
      `${this.file} ${what} needs ${bytes} bytes in memory, but this ${this.fileBytes}-byte file may expand to at most ${this.limit} bytes in all (${l.ratio}× its size + ${l.floorBytes >> 20} MiB${used}); expected stored data about the size of the file; refusing a likely decompression bomb (if the model is real, save it uncompressed).`,
      { file: this.file },
    );
  }

  /** check(), then count the bytes as used. */
  take(bytes: number, what: string): void {
    this.check(bytes, what);
    this.used += bytes;
  }
}
