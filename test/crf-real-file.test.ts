// A real BiLSTM-CRF tagger (keras_contrib CRF, Keras 2.3.1, Apache-2.0: test/fixtures/corpus-extra/MANIFEST.md)
// through `rnnscope analyze` as a child process, against an independent reference: PyTorch forward and
// autograd on the file's own weights (scripts/reference_keras_graph.py, keras_contrib's forward recursion
// written from its formulas). The loss and the norm of every parameter gradient must agree, in float64 to
// roundoff and in the default float32 run within float32's reach; every analysis series must be finite.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, ROOT, rnnscope, runProcess } from './helpers/cli-run.js';

const FIX = path.join(ROOT, 'test/fixtures/corpus-extra/lyssym_bilstm_crf');
const dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-crf-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hasTorch = spawnSync(PYTHON, ['-c', 'import torch, h5py, numpy'], { stdio: 'ignore' }).status === 0;

interface Ref {
  loss: string;
  value: number;
  gradNorm: Record<string, number>;
}

const finite = (v: unknown): boolean =>
  Array.isArray(v)
    ? v.every(finite)
    : typeof v === 'number'
      ? Number.isFinite(v)
      : v !== null && typeof v === 'object'
        ? Object.values(v).every(finite)
        : true;

const args = (dtype: string, out: string) => [
  'analyze',
  path.join(FIX, 'crf.h5'),
  '--data',
  path.join(FIX, 'x.npy'),
  '--targets',
  path.join(FIX, 'y.npy'),
  '--dtype',
  dtype,
  '--json',
  out,
];

// Skipped only when /usr/bin/python3 lacks torch, h5py or numpy (Debian python3-torch, python3-h5py).
describe.skipIf(!hasTorch)('lyssym/TF_Serving_example model/crf.h5 (BiLSTM + keras_contrib CRF) vs PyTorch', () => {
  let ref: Ref;
  beforeAll(async () => {
    const r = await runProcess(PYTHON, [
      path.join(ROOT, 'scripts/reference_keras_graph.py'),
      path.join(FIX, 'crf.h5'),
      path.join(FIX, 'x.npy'),
      path.join(FIX, 'y.npy'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    ref = JSON.parse(r.stdout) as Ref;
  }, 120_000);

  for (const [dtype, lossTol, gradTol] of [
    ['float64', 1e-10, 1e-8],
    ['float32', 1e-5, 1e-3],
  ] as const) {
    it(`${dtype}: crf_loss and every gradient norm agree; the transitions' gradient is reported; all finite`, async () => {
      const out = path.join(dir, `${dtype}.json`);
      const r = await rnnscope(args(dtype, out));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Keras 2.3.1');
      const a = JSON.parse(readFileSync(out, 'utf8'));
      expect(a.objective.loss).toBe('crf_loss');
      expect(ref.loss).toBe('crf_loss');
      expect(Math.abs(a.objective.value - ref.value) / ref.value).toBeLessThan(lossTol);
      const params = a.params as { key: string; gradNorm: number }[];
      expect(params.map((p) => p.key).sort()).toEqual(Object.keys(ref.gradNorm).sort());
      expect(params.map((p) => p.key)).toContain('crf_1/chain_kernel');
      for (const p of params) {
        const want = ref.gradNorm[p.key]!;
        expect(want, p.key).toBeGreaterThan(0);
        expect(Math.abs(p.gradNorm - want) / want, p.key).toBeLessThan(gradTol);
      }
      expect(a.recurrent.map((x: { layer: string; direction: string }) => `${x.layer}/${x.direction}`)).toEqual([
        'bidirectional_1/forward',
        'bidirectional_1/backward',
      ]);
      expect(finite(a.recurrent)).toBe(true);
      expect(finite(params.map((p) => p.gradNorm))).toBe(true);
    }, 120_000);
  }
});
