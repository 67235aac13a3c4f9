// The analysis on two threads equals the single-thread analysis up to summation order (the per-step
// contributions up to float32 rounding), and a data error inside a worker arrives as the same typed error.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../src/analysis/analyze.js';
import { analyzeModelParallel } from '../src/analyze-parallel.js';
import { DataError } from '../src/model/errors.js';
import { dense, recurrent, rnnSpec, sequential } from './helpers/models.js';
import { lcg, randArr } from './helpers/rng.js';

const rel = (a: (number | null)[], b: (number | null)[]): number =>
  Math.max(0, ...a.map((v, i) => Math.abs(v! - b[i]!) / Math.max(Math.abs(b[i]!), 1e-30)));

describe('analysis on worker threads', () => {
  it('two threads give the single-thread numbers (dh, contributions, grads, batch norms, per-sample quantiles)', async () => {
    const m = sequential(15, 3, [
      recurrent('gru', rnnSpec('GRU', 3, 6, { returnSequences: true })),
      recurrent('lstm', rnnSpec('LSTM', 6, 5)),
      dense('d', 2),
    ]);
    const x = { shape: [40, 15, 3], data: randArr(lcg(3), 40 * 15 * 3) },
      y = { shape: [40, 2], data: randArr(lcg(4), 80) };
    const opts = { loss: 'mse', batchSize: 6, keepRaw: true };
    const one = analyzeModel(m, { inputs: [x], targets: [y] }, opts);
    const two = await analyzeModelParallel(m, { inputs: [x], targets: [y] }, { ...opts, workers: 2 });
    const [a, b] = [one.analysis, two.analysis];
    expect(b.objective.batches).toBe(7);
    expect(b.batches.norms).toEqual(a.batches.norms);
    expect(Math.abs(b.objective.value! - a.objective.value!)).toBeLessThan(1e-12);
    a.recurrent.forEach((ra, i) => {
      const rb = b.recurrent[i]!;
      expect(rb.id).toBe(ra.id);
      expect(rel(rb.dh.norm, ra.dh.norm)).toBeLessThan(1e-9);
      expect(rel(rb.dh.p50, ra.dh.p50)).toBeLessThan(1e-9);
      // Contributions: each thread multiplies its own batches' samples together in float32 (contributions.ts
      // flushContributions), so they agree to float32 rounding, not to summation order alone.
      ra.contributions.forEach((c, j) => expect(rel(rb.contributions[j]!.norm, c.norm)).toBeLessThan(2e-6));
      expect(rb.jacobian!.median).toEqual(ra.jacobian!.median);
    });
    expect(
      rel(
        b.params.map((p) => p.gradNorm),
        a.params.map((p) => p.gradNorm),
      ),
    ).toBeLessThan(1e-9);
    expect([...two.raw!.keys()].sort()).toEqual([...one.raw!.keys()].sort());
    expect(Array.from(two.raw!.get('dh/lstm')!.data)).toEqual(Array.from(one.raw!.get('dh/lstm')!.data));
  });

  it('a typed error in a worker is re-thrown as the same class', async () => {
    const m = sequential(5, 2, [recurrent('r', rnnSpec('SimpleRNN', 2, 3)), dense('d', 3, 'softmax')]);
    const x = { shape: [8, 5, 2], data: randArr(lcg(1), 80) };
    // Class ids; the bad one (7, for 3 classes) is in the last batch, which a worker computes.
    const y = { shape: [8], data: Float64Array.from([0, 1, 2, 0, 1, 2, 0, 7]) };
    await expect(
      analyzeModelParallel(
        m,
        { inputs: [x], targets: [y] },
        { loss: 'sparse_categorical_crossentropy', batchSize: 2, workers: 2 },
      ),
    ).rejects.toThrow(DataError);
    await expect(
      analyzeModelParallel(
        m,
        { inputs: [x], targets: [y] },
        { loss: 'sparse_categorical_crossentropy', batchSize: 2, workers: 2 },
      ),
    ).rejects.toThrow(/class id 7/);
  });
});
