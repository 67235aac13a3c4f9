// Shared by test/io-*.test.ts: paths, loading through the Node entry, and the comparison of
// loaded parameters against the oracle written by scripts/make_io_fixtures.py (h5py + numpy).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { ModelSpec } from '../src/model/types.js';

export const FIX = path.join(import.meta.dirname, 'fixtures');
export const CORPUS = path.join(FIX, 'corpus');
export const IO = path.join(FIX, 'io');

interface ParamOracle {
  shape: number[];
  sum: number;
  abssum: number;
  samples: [number, number][];
}
interface Oracle {
  params: Record<string, ParamOracle>;
  paramCount: number;
  kerasVersion?: string;
  layers?: string[];
}

export const EXPECTED: Record<string, Oracle> = JSON.parse(readFileSync(path.join(IO, 'expected.json'), 'utf8'));

export function bytes(p: string): Uint8Array {
  return new Uint8Array(readFileSync(p));
}

export function paramCount(m: ModelSpec): number {
  let n = 0;
  for (const ps of m.params) for (const p of ps) n += p.shape.reduce((a, b) => a * b, 1);
  return n;
}

/**
 * Every oracle parameter is bound with the same shape, the sampled values are bit-identical
 * (float32 stored values held exactly in float64), and the float64 sums agree to rounding.
 * Returns the largest |sum difference| / abssum seen.
 */
export function expectWeights(
  m: ModelSpec,
  oracleName: string,
  opts: { only?: (key: string) => boolean } = {},
): number {
  const o = EXPECTED[oracleName];
  expect(o, `oracle ${oracleName}`).toBeDefined();
  let worst = 0;
  for (const [key, want] of Object.entries(o.params)) {
    if (opts.only && !opts.only(key)) continue;
    const got = m.weights.get(key);
    expect(got, `weight ${key}`).toBeDefined();
    expect(got!.shape, `shape of ${key}`).toEqual(want.shape);
    for (const [i, v] of want.samples) expect(got!.data[i], `${key}[${i}]`).toBe(v);
    let s = 0;
    for (const v of got!.data) s += v;
    const rel = Math.abs(s - want.sum) / Math.max(want.abssum, 1e-30);
    worst = Math.max(worst, rel);
    expect(rel, `sum of ${key}`).toBeLessThan(1e-12);
  }
  return worst;
}
