// Values a run can use: finite everywhere, and within float32's range when the run computes in
// float32 (a float64 value beyond ±3.4028235e38 becomes ±Infinity when converted, and every
// gradient downstream of it NaN). Shared by the data files' check (io), the engine's entry points
// and the analysis, so they refuse the same values with the same words.

import { fmtIndex } from './errors.js';

/** float32's largest finite value, 2^128 − 2^104. */
export const FLOAT32_MAX = 3.4028234663852886e38;

export interface ValueIssues {
  /** NaN, +Infinity or −Infinity. */
  nonFinite: { count: number; first: number };
  /** Finite values that round to ±Infinity in float32 (counted only for float32 runs). */
  overflow: { count: number; first: number };
}

export function scanValues(data: ArrayLike<number>, dtype: 'float32' | 'float64'): ValueIssues {
  const out: ValueIssues = { nonFinite: { count: 0, first: -1 }, overflow: { count: 0, first: -1 } };
  const checkRange = dtype === 'float32' && !(data instanceof Float32Array);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) {
      if (out.nonFinite.count++ === 0) out.nonFinite.first = i;
    } else if (checkRange && !Number.isFinite(Math.fround(v))) {
      if (out.overflow.count++ === 0) out.overflow.first = i;
    }
  }
  return out;
}

/** Collects what is wrong with the values of several arrays, for one message (listProblems). */
export class ValueCheck {
  readonly problems: string[] = [];
  private nonFinite = false;
  private overflow = false;
  constructor(readonly dtype: 'float32' | 'float64') {}

  /** Scans one array; `label` names it in the message ("x.npy", "input 'x'"). */
  add(label: string, shape: readonly number[], data: ArrayLike<number>): void {
    const { nonFinite, overflow } = scanValues(data, this.dtype);
    const at = (i: number): string => `${data[i]} at ${fmtIndex(i, shape)}`;
    if (nonFinite.count > 0) {
      this.nonFinite = true;
      this.problems.push(`${label} holds ${nonFinite.count} NaN/Inf value(s) (first ${at(nonFinite.first)})`);
    }
    if (overflow.count > 0) {
      this.overflow = true;
      this.problems.push(
        `${label} holds ${overflow.count} value(s) beyond float32's range of ±3.4028235e+38 (first ${at(overflow.first)})`,
      );
    }
  }

  /** The advice that ends the message. */
  get hint(): string {
    if (this.nonFinite && this.overflow)
      return 'gradients would be NaN, so clean the data and rescale it (or compute in float64 with --dtype float64)';
    if (this.overflow)
      return 'float32 cannot hold them (they would become ±Infinity and the gradients NaN), so rescale the data or compute in float64 with --dtype float64';
    return 'gradients would be NaN, so clean or impute the data first';
  }
}
