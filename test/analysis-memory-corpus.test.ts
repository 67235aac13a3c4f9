// The keep-gate memory on a real model: the corpus's ECG Bidirectional(LSTM) autoencoder (Keras 2,
// hard_sigmoid gates, unit_forget_bias) on its user data (test/fixtures/userdata/ecg). The forget
// gate's mean and bias per direction come from an independent numpy float64 forward pass
// (test/helpers/lstm_forget_oracle.py, weights read with h5py); ln 0.01 / ln f̄ and the explains rule
// (docs/analysis-schema.md#memory) are restated here. Skipped, with the reason, when
// /usr/bin/python3 lacks numpy or h5py.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../src/analysis/analyze.js';
import { loadModelFile } from '../src/node.js';
import { npyArrays } from './helpers/cli-run.js';

const ROOT = path.join(import.meta.dirname, '..');
const DIR = path.join(ROOT, 'test/fixtures/corpus/w_chen_ecg_bilstm_autoencoder');
const WEIGHTS = path.join(DIR, 'bidirectional-lstm-auto-encoder-weights.h5');
const DATA = path.join(ROOT, 'test/fixtures/userdata/ecg');
const PY = '/usr/bin/python3';
const hasPython = spawnSync(PY, ['-c', 'import numpy, h5py'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!hasPython)('memory on the ECG BiLSTM autoencoder (needs numpy and h5py in /usr/bin/python3)', () => {
  it('forget-gate mean and bias per direction match numpy; steps and explains follow the documented rule', async () => {
    const r = spawnSync(
      PY,
      [path.join(ROOT, 'test/helpers/lstm_forget_oracle.py'), WEIGHTS, path.join(DATA, 'x.npy')],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const ref = JSON.parse(r.stdout) as Record<'forward' | 'backward', { mean: number; bias: number }>;
    const model = await loadModelFile(path.join(DIR, 'bidirectional-lstm-auto-encoder-architecture.json'), {
      weights: WEIGHTS,
    });
    const [x, y] = npyArrays([path.join(DATA, 'x.npy'), path.join(DATA, 'y.npy')]);
    const a = analyzeModel(model, { inputs: [x!], targets: [y!] }, { samples: false }).analysis;
    for (const ra of a.recurrent) {
      const want = ref[ra.direction as 'forward' | 'backward'];
      const m = ra.memory!;
      expect(m.gate).toBe('f');
      // float32 engine against float64 numpy.
      expect(Math.abs(m.mean! - want.mean)).toBeLessThan(1e-5);
      expect(Math.abs(m.bias! - want.bias)).toBeLessThan(1e-6);
      const steps = Math.log(0.01) / Math.log(want.mean);
      expect(Math.abs(m.steps! - steps)).toBeLessThan(1e-3);
      const h = ra.horizon.steps!;
      expect(m.explains).toBe(h >= ra.steps ? steps >= ra.steps / 2 : steps / h <= 2 && h / steps <= 2);
    }
    // The numbers the report quotes (measured): forward f̄ 0.72 with its bias still ≈ 1, about 14 steps.
    const fwd = a.recurrent.find((x) => x.direction === 'forward')!.memory!;
    expect(fwd.sentence).toContain('averages 0.72');
    expect(fwd.sentence).toContain('about 14 steps');
  });
});
