// Typed reads of one layer's config dict, with the layer named in every error.
// Keras writes tuples as JSON arrays, so `kernel_size: [5]` and `kernel_size: 5`
// both occur (Keras 1 `filter_length: 5`); `int1` accepts both.

import { ModelError } from './errors.js';
import type { WriterProfile } from './versions.js';
import type { Warning } from './types.js';
import { isRecord } from './keras-format.js';
import { msg } from './messages.js';

export interface BuildContext {
  writer: WriterProfile;
  warnings: Warning[];
  format: string;
}

export class ConfigReader {
  constructor(
    readonly name: string,
    readonly cls: string,
    readonly raw: Record<string, unknown>,
  ) {}

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  /** First key present (Keras 2 name first, then older spellings). */
  pick(...keys: string[]): unknown {
    for (const k of keys) if (this.raw[k] !== undefined) return this.raw[k];
    return undefined;
  }

  bad(key: string, expected: string): ModelError {
    return new ModelError(msg.badOption(this.name, this.cls, key, this.raw[key], expected));
  }

  unsupported(key: string, supported: string): ModelError {
    return new ModelError(msg.unsupportedOption(this.name, this.cls, key, this.raw[key], supported));
  }

  bool(keys: string | string[], dflt: boolean): boolean {
    for (const k of typeof keys === 'string' ? [keys] : keys) {
      const v = this.raw[k];
      if (v === undefined || v === null) continue;
      if (typeof v === 'boolean') return v;
      // Keras 1 configs sometimes hold 0/1.
      if (v === 0 || v === 1) return v === 1;
      throw this.bad(k, 'true or false');
    }
    return dflt;
  }

  num(keys: string | string[], dflt?: number): number {
    for (const k of typeof keys === 'string' ? [keys] : keys) {
      const v = this.raw[k];
      if (v === undefined || v === null) continue;
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      throw this.bad(k, 'a finite number');
    }
    if (dflt === undefined) throw this.bad(typeof keys === 'string' ? keys : keys[0]!, 'a number');
    return dflt;
  }

  /** A positive integer, given as n or [n] (tuples of length 1). */
  int1(keys: string | string[], dflt?: number, min = 1): number {
    for (const k of typeof keys === 'string' ? [keys] : keys) {
      let v = this.raw[k];
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) {
        if (v.length !== 1) throw this.bad(k, 'one integer (a 1-D layer)');
        v = v[0];
      }
      if (typeof v === 'number' && Number.isInteger(v) && v >= min) return v;
      throw this.bad(k, `an integer ≥ ${min}`);
    }
    if (dflt === undefined) throw this.bad(typeof keys === 'string' ? keys : keys[0]!, `an integer ≥ ${min}`);
    return dflt;
  }

  /** Any integer (an axis), given as n or [n]. */
  int(key: string, dflt: number): number {
    let v = this.raw[key];
    if (v === undefined || v === null) return dflt;
    if (Array.isArray(v) && v.length === 1) v = v[0];
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    throw this.bad(key, 'an integer');
  }

  str(keys: string | string[], dflt: string): string {
    for (const k of typeof keys === 'string' ? [keys] : keys) {
      const v = this.raw[k];
      if (v === undefined || v === null) continue;
      if (typeof v === 'string') return v;
      throw this.bad(k, 'a string');
    }
    return dflt;
  }

  intList(key: string): number[] {
    const v = this.raw[key];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isInteger(x)))
      throw this.bad(key, 'a list of integers');
    return v as number[];
  }

  /** Refuse a present option whose value is not one of `allowed`. */
  only(key: string, allowed: readonly unknown[], supported: string): void {
    const v = this.raw[key];
    if (v === undefined || v === null) return;
    if (!allowed.includes(v)) throw this.unsupported(key, supported);
  }

  sub(key: string): Record<string, unknown> | null {
    const v = this.raw[key];
    return isRecord(v) ? v : null;
  }
}

/** A static shape from a config (list of ints / nulls), or null when absent. */
export function readShape(v: unknown): (number | null)[] | null {
  if (!Array.isArray(v)) return null;
  if (!v.every((d) => d === null || (typeof d === 'number' && Number.isInteger(d) && d >= 0))) return null;
  return v as (number | null)[];
}
