// JSON data (layout also in docs/data-formats.md):
//
//   [[...], ...]                nested lists of numbers: one array named after the file; the nesting
//                               must be rectangular (every list at a depth has the same length)
//   {"x": [...], "y": [...]}    one array per key whose value is a list; other members (strings,
//                               numbers, objects) are ignored with a warning
//   [[3, 7, 1], [4, 2]]         ragged lists of integers are token sequences (Embedding inputs):
//                               padded with 0 in front to the longest, as Keras pad_sequences does by
//                               default (padding='pre', value=0), and marked layout 'tokens' so
//                               data-check can re-pad them to the model's sequence length.
//
// Values must be numbers. Python's json.dump writes NaN / Infinity / -Infinity, which are not JSON;
// they are accepted (as bare words or strings) and reported later by data-check.

import { DataError, LoadError } from '../model/errors.js';
import { warn } from '../model/types.js';
import type { NamedArray, DataOptions } from './types.js';
import { MAX_ELEMENTS, baseName, firstNonBlank, stripExt } from './common.js';

/** numpy's own limit on the number of dimensions (NPY_MAXDIMS, numpy 1.x). */
const MAX_RANK = 32;

export const name = 'json';

/** A .json name, or text whose first non-blank character opens a list or an object. */
export function match(bytes: Uint8Array, fileName: string): boolean {
  if (/\.json$/i.test(fileName)) return true;
  const c = firstNonBlank(bytes);
  return c === 0x5b /* [ */ || c === 0x7b /* { */;
}

/** The arrays of a JSON data file (registry shape). */
export function read(bytes: Uint8Array, fileName: string, opts: DataOptions = {}): NamedArray[] {
  return readJsonData(bytes, fileName, opts);
}

export function readJsonData(bytes: Uint8Array, label: string, opts: DataOptions = {}): NamedArray[] {
  const root = parse(bytes, label);
  const fileName = stripExt(baseName(label));
  if (Array.isArray(root)) return [toArray(root, fileName, label, opts)];
  if (root !== null && typeof root === 'object') {
    const out: NamedArray[] = [];
    const ignored: string[] = [];
    for (const [key, value] of Object.entries(root as Record<string, unknown>)) {
      if (Array.isArray(value)) out.push(toArray(value, key, `${label}:${key}`, opts));
      else ignored.push(key);
    }
    if (out.length === 0) {
      throw new DataError(
        `${label} is a JSON object without lists (keys: ${ignored.slice(0, 5).join(', ') || 'none'}); expected nested lists of numbers or {"x": [...], "y": [...]}, so check that this is the data file and not a model file.`,
        { file: label },
      );
    }
    if (ignored.length > 0 && opts.warnings) {
      warn(
        opts.warnings,
        'json-ignored',
        `${label}: ignored ${ignored.length} member(s) that are not lists (${ignored.slice(0, 3).join(', ')}${ignored.length > 3 ? ', …' : ''}).`,
      );
    }
    return out;
  }
  throw new DataError(
    `${label} holds a single JSON ${root === null ? 'null' : typeof root}; expected nested lists of numbers or {"x": [...], "y": [...]}, so save the data as lists.`,
    { file: label },
  );
}

function parse(bytes: Uint8Array, label: string): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    throw new LoadError(`${label} is not UTF-8 text; expected JSON data, so check that the file is not damaged.`, {
      file: label,
      cause: e,
    });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (e) {
    // Python's json.dump writes bare NaN/Infinity (allow_nan=True): quote them and read them as numbers.
    if (/\bNaN\b|\bInfinity\b/.test(text)) {
      try {
        return JSON.parse(text.replace(/-?\bInfinity\b|\bNaN\b/g, '"$&"'));
      } catch {
        // fall through to the original error
      }
    }
    const why = e instanceof Error ? e.message : String(e);
    throw new LoadError(
      `${label} is not valid JSON (${why}); expected nested lists of numbers, so check that the file is complete.`,
      { file: label, cause: e },
    );
  }
}

/** Shape from the first element at each depth, then a full rectangularity check before allocating. */
function toArray(root: unknown[], name: string, source: string, opts: DataOptions): NamedArray {
  const shape: number[] = [];
  let v: unknown = root;
  while (Array.isArray(v)) {
    if (shape.length >= MAX_RANK) {
      throw new DataError(
        `${source} nests lists deeper than ${MAX_RANK} levels; expected an array of at most ${MAX_RANK} dimensions, so check the data.`,
        { file: source },
      );
    }
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0];
  }
  const problem = checkRect(root, shape, 0, '');
  if (problem !== null) {
    const tokens = raggedTokens(root);
    if (tokens) return padTokens(tokens, name, source, opts);
    throw new DataError(
      `${source} ${problem}; expected rectangular nested lists of numbers (or lists of integer token ids), so fix that entry.`,
      { file: source },
    );
  }
  let n = 1;
  for (const d of shape) n *= d;
  if (n > MAX_ELEMENTS) {
    throw new DataError(
      `${source} has ${n} values; rnnscope loads at most ${MAX_ELEMENTS}, so pass a slice of the data.`,
      { file: source },
    );
  }
  const data = new Float64Array(n);
  fill(root, shape.length, 0, data, 0);
  return { name, shape, dtype: 'float64', data, source };
}

/** null when `node` has exactly `shape` below `depth` with numbers at the leaves; else a description of the first
 * mismatch. */
function checkRect(node: unknown, shape: number[], depth: number, path: string): string | null {
  if (depth === shape.length) {
    if (toNumber(node) !== undefined) return null;
    return Array.isArray(node)
      ? `is not rectangular: ${path} is a list but ${firstPath(depth)} is a number`
      : `has ${describe(node)} at ${path} where a number is expected`;
  }
  if (!Array.isArray(node))
    return `has ${describe(node)} at ${path || 'the top'} where a list of ${shape[depth]} is expected`;
  if (node.length !== shape[depth])
    return `is not rectangular: ${path || 'the top list'} has ${node.length} elements but ${firstPath(depth)} has ${shape[depth]}`;
  for (let i = 0; i < node.length; i++) {
    const p = checkRect(node[i], shape, depth + 1, `${path}[${i}]`);
    if (p !== null) return p;
  }
  return null;
}

function fill(node: unknown, rank: number, depth: number, out: Float64Array, k: number): number {
  if (depth === rank) {
    out[k] = toNumber(node) as number;
    return k + 1;
  }
  const list = node as unknown[];
  for (let i = 0; i < list.length; i++) k = fill(list[i], rank, depth + 1, out, k);
  return k;
}

/** A list of lists of integers (of different lengths), else null. */
function raggedTokens(root: unknown[]): number[][] | null {
  if (root.length === 0) return null;
  for (const seq of root) {
    if (!Array.isArray(seq)) return null;
    for (const t of seq) if (typeof t !== 'number' || !Number.isInteger(t)) return null;
  }
  return root as number[][];
}

function padTokens(seqs: number[][], name: string, source: string, opts: DataOptions): NamedArray {
  let len = 0;
  let shortest = Infinity;
  let total = 0;
  for (const s of seqs) {
    len = Math.max(len, s.length);
    shortest = Math.min(shortest, s.length);
    total += s.length;
  }
  if (seqs.length * len > MAX_ELEMENTS) {
    throw new DataError(
      `${source} pads to ${seqs.length} × ${len} token ids; rnnscope loads at most ${MAX_ELEMENTS}, so pass fewer or shorter sequences.`,
      { file: source },
    );
  }
  const data = new Float64Array(seqs.length * len);
  const lengths = seqs.map((s, i) => {
    data.set(s, i * len + len - s.length);
    return s.length;
  });
  if (opts.warnings) {
    warn(
      opts.warnings,
      'json-tokens',
      `${source}: read ${seqs.length} token sequences of lengths ${shortest}–${len} (${total} ids) and padded them with 0 in front to length ${len}.`,
    );
  }
  return { name, shape: [seqs.length, len], dtype: 'int32', data, source, layout: 'tokens', lengths };
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN' || v === 'nan') return NaN;
    if (v === 'Infinity' || v === 'inf') return Infinity;
    if (v === '-Infinity' || v === '-inf') return -Infinity;
  }
  return undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `the string "${v.length > 20 ? `${v.slice(0, 20)}…` : v}"`;
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

function firstPath(depth: number): string {
  return depth === 0 ? 'the top list' : '[0]'.repeat(depth);
}
