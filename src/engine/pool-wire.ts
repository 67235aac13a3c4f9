// What the gradient pool's threads share (pool.ts on the caller's thread, pool-worker.ts in each
// worker): a small control block of Int32 slots driven with Atomics, and one growable
// SharedArrayBuffer per worker holding the request (parameters, inputs, targets) and then the
// response (the worker's arrays, one after another, and a short JSON description of them).
//
//   caller: write request ─► postMessage(job: shapes and offsets only) ─► own share ─► Atomics.wait(STATE)
//   worker: read request ─► lossAndGrads on its samples ─► write response ─► STATE = DONE, Atomics.notify
//
// Arrays are copied in and out of the shared buffer (memcpy); no large array is structured-cloned
// per call. The model itself is posted once per model (pool.ts keeps track).

import type { Placement, TapLayout } from './pool-place.js';
import type { TapName, TapRequest } from './taps.js';
import type { DType } from './tensor.js';
import type { LossConfig } from '../model/types.js';
import type { LossFlavor } from './loss-config.js';

/** Int32 slots of the control block. */
export const STATE = 0,
  READY = 1,
  /** Response description (JSON): byte offset ÷ 8 and byte length, in the data buffer. */
  META_AT = 2,
  META_LEN = 3;
export const CTL_BYTES = 64;
/** STATE values. */
export const IDLE = 0,
  POSTED = 1,
  DONE = 2,
  FAILED = 3;

/** Largest data buffer a worker may grow to (address space only; reserved, not committed). */
export const MAX_DATA_BYTES = [2 ** 32, 2 ** 31, 2 ** 30];

export type WireKind = 'f32' | 'f64' | 'u8';
export type WireArray = Float32Array | Float64Array | Uint8Array;

/** A growable SharedArrayBuffer, or null where the runtime has none (or no growable ones). */
export function growableShared(initial: number): SharedArrayBuffer | null {
  if (typeof SharedArrayBuffer === 'undefined') return null;
  for (const maxByteLength of MAX_DATA_BYTES) {
    try {
      const b = new (
        SharedArrayBuffer as unknown as new (
          n: number,
          o: { maxByteLength: number },
        ) => SharedArrayBuffer
      )(initial, { maxByteLength });
      if ((b as unknown as { growable?: boolean }).growable) return b;
      return null;
    } catch {
      // try a smaller reservation
    }
  }
  return null;
}

/** Taps that are derivatives of the loss (docs/taps.md), hence scale with it; the others are forward values. */
export const GRADIENT_TAPS: ReadonlySet<TapName> = new Set<TapName>(['dh', 'dc', 'dx', 'gateGrad']);

export const kindOf = (a: WireArray): WireKind =>
  a instanceof Float32Array ? 'f32' : a instanceof Float64Array ? 'f64' : 'u8';
export const BYTES: Record<WireKind, number> = { f32: 4, f64: 8, u8: 1 };
const align8 = (n: number): number => (n + 7) & ~7;

/** Writes arrays one after another from byte `at` (8-aligned), growing the buffer as needed; returns the end. */
export function writeArrays(buf: SharedArrayBuffer, at: number, arrays: readonly WireArray[]): number {
  let end = at;
  for (const a of arrays) end = align8(end + a.byteLength);
  ensure(buf, end);
  let p = at;
  for (const a of arrays) {
    new Uint8Array(buf, p, a.byteLength).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    p = align8(p + a.byteLength);
  }
  return end;
}

/** A copy of the array of `len` elements of `kind` at byte `at`; returns it and the next offset. */
export function readArray(buf: SharedArrayBuffer, at: number, kind: WireKind, len: number): [WireArray, number] {
  const bytes = len * BYTES[kind];
  const out = kind === 'f32' ? new Float32Array(len) : kind === 'f64' ? new Float64Array(len) : new Uint8Array(len);
  new Uint8Array(out.buffer).set(new Uint8Array(buf, at, bytes));
  return [out, align8(at + bytes)];
}

/** A view (no copy) of `len` elements of `kind` at byte `at`: for TypedArray.set only (V8 11 runs
 * JavaScript loops over views of a growable buffer on a slow path). */
export function viewOf(buf: SharedArrayBuffer, at: number, kind: WireKind, len: number): WireArray {
  return kind === 'f32'
    ? new Float32Array(buf, at, len)
    : kind === 'f64'
      ? new Float64Array(buf, at, len)
      : new Uint8Array(buf, at, len);
}

export function ensure(buf: SharedArrayBuffer, end: number): void {
  if (buf.byteLength >= end) return;
  const max = (buf as unknown as { maxByteLength: number }).maxByteLength;
  if (end > max) {
    throw new RangeError(
      `gradient pool: a worker's share needs ${Math.ceil(end / 2 ** 20)} MiB of shared buffer; at most ${max / 2 ** 20} MiB can be reserved here. Use smaller batches or fewer taps.`,
    );
  }
  (buf as unknown as { grow(n: number): void }).grow(Math.min(max, Math.max(end, Math.ceil(buf.byteLength * 1.5))));
}

export function writeText(buf: SharedArrayBuffer, at: number, text: string): [number, number] {
  const bytes = new TextEncoder().encode(text);
  ensure(buf, at + bytes.length);
  new Uint8Array(buf, at, bytes.length).set(bytes);
  return [at, bytes.length];
}

export function readText(buf: SharedArrayBuffer, at: number, len: number): string {
  // TextDecoder refuses views of shared memory in browsers: copy first.
  return new TextDecoder().decode(new Uint8Array(buf, at, len).slice());
}

export interface WireTensor {
  shape: number[];
}

/** One gradient job as posted to a worker (only shapes and offsets: the arrays are in the data buffer). */
export interface Job {
  type: 'job';
  model: number;
  dtype: DType;
  /** 'js' for the JavaScript reference kernels, else the worker's wasm kernels (relaxed SIMD or not). */
  kernels: 'js' | 'wasm' | 'wasm-relaxed';
  taps: TapRequest | null;
  losses: LossConfig[];
  flavor: LossFlavor;
  inputs: WireTensor[];
  targets: WireTensor[];
  /** The share's part of the batch (its samples ÷ B): the worker weights its input gradients and gradient taps. */
  share: number;
  /** Byte offset where the worker writes its response. */
  respAt: number;
  /** The taps' result arrays (pool-place.ts) and this share's samples in them; the taps then stay out of
   * the response. */
  place?: { layout: TapLayout; placement: Placement; lo: number; hi: number };
}

/** The description of a response; the arrays follow in this order, their lengths in `arrays`. */
export interface ResponseMeta {
  ok: boolean;
  error?: { stage: string; message: string };
  loss?: number;
  /** [kind, length] of each array, in the order perSample, outputs, grads, dInputs (non-null), taps. */
  arrays?: [WireKind, number][];
  dInputsNull?: boolean[];
  /** The taps are in the job's result arrays (Job.place), not in the response. */
  placed?: boolean;
  taps?: { layer: string; direction: string | null; keys: TapName[]; mask: boolean }[];
}
