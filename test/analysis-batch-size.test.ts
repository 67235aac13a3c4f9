// The default batch size keeps one batch's per-step taps within TAP_MEMORY for long sequences
// (W-long: LSTM 32→256 over 10,000 steps, measured at 0.88 GiB with 2 samples a batch and 1.08 GB with 4 in
// analysis-memory runs),
// and is Keras's 32 otherwise; a given batch size is always kept.

import { describe, expect, it } from 'vitest';
import { planAnalysis } from '../src/analysis/analyze.js';
import { TAP_MEMORY, defaultBatchSize, tapValuesPerSample } from '../src/analysis/batch-size.js';
import { buildBenchModel, workload } from '../bench/workloads.js';

const zeros = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

describe('default batch size', () => {
  it('W-long: 3 samples a batch in float32, 1 in float64; W: 32', () => {
    const long = buildBenchModel(workload('W-long'));
    // LSTM(256) over 32 inputs: 10,000 × (5·256 + 3·4·256 + 2·32) values a sample.
    expect(tapValuesPerSample(long, 10_000)).toBe(10_000 * (5 * 256 + 12 * 256 + 64));
    expect(defaultBatchSize(long, 10_000, 4)).toBe(Math.floor(TAP_MEMORY / (10_000 * 4416 * 4)));
    expect(defaultBatchSize(long, 10_000, 4)).toBe(3);
    expect(defaultBatchSize(long, 10_000, 8)).toBe(1);
    const w = buildBenchModel(workload('W'));
    expect(defaultBatchSize(w, 100, 4)).toBe(32);
  });

  it('planAnalysis lowers the default with a warning and keeps a given batch size', () => {
    const long = buildBenchModel(workload('W-long'));
    const x = zeros([8, 10_000, 32]);
    const plan = planAnalysis(long, { inputs: [x], targets: null });
    expect(plan.batchSize).toBe(3);
    expect(plan.nBatches).toBe(3);
    expect(plan.warnings.map((w) => w.code)).toContain('batch-size');
    const given = planAnalysis(long, { inputs: [x], targets: null }, { batchSize: 8 });
    expect(given.batchSize).toBe(8);
    expect(given.warnings.map((w) => w.code)).not.toContain('batch-size');
  });
});
