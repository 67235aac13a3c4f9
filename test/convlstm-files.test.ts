// ConvLSTM models saved the way real Keras files are (test/helpers/convlstm_h5_writer.py: the tf.keras 2.10
// and Keras 3.8 legacy-HDF5 layouts of the public action-recognition models listed in docs/conv-lstm.md, and
// the Keras 3 .keras zip of the same model, which must give the same numbers as its .h5),
// through `rnnscope analyze` as a child process, against an independent reference: PyTorch forward and
// autograd on the file's own weights (scripts/convlstm_h5_reference.py), which must give the same loss and
// the same norm of every parameter gradient. Every per-step quantity of the analysis must be finite.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasPython, PYTHON, ROOT, rnnscope, runProcess } from './helpers/cli-run.js';

const dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-convlstm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Ref {
  value: number;
  gradNorm: Record<string, number>;
  forgetBias: Record<string, number>;
}

const finite = (v: unknown): boolean =>
  Array.isArray(v) ? v.every(finite) : typeof v === 'number' ? Number.isFinite(v) : v === null;

describe.skipIf(!hasPython())('saved ConvLSTM2D video classifiers vs PyTorch on the same weights', () => {
  for (const dialect of ['keras2', 'keras3'] as const) {
    it(`${dialect === 'keras2' ? 'tf.keras 2.10 (hard_sigmoid 0.2, layer/kernel:0)' : 'Keras 3.8 (sequential/…/conv_lstm_cell/kernel)'}`, async () => {
      const out = path.join(dir, dialect);
      const w = await runProcess(PYTHON, [path.join(ROOT, 'test/helpers/convlstm_h5_writer.py'), dialect, out]);
      expect(w.code, w.stderr).toBe(0);
      const f = (n: string) => path.join(out, n);
      const r = await rnnscope([
        'analyze',
        f('model.h5'),
        '--data',
        f('x.npy'),
        '--targets',
        f('y.npy'),
        '--dtype',
        'float64',
        '--json',
        f('a.json'),
      ]);
      expect(r.code, r.stderr).toBe(0);
      const ref = await runProcess(PYTHON, [
        path.join(ROOT, 'scripts/convlstm_h5_reference.py'),
        f('model.h5'),
        f('x.npy'),
        f('y.npy'),
      ]);
      expect(ref.code, ref.stderr).toBe(0);
      const want = JSON.parse(ref.stdout) as Ref;
      const a = JSON.parse(readFileSync(f('a.json'), 'utf8'));
      expect(a.objective.loss).toBe('categorical_crossentropy');
      expect(Math.abs(a.objective.value - want.value) / want.value).toBeLessThan(1e-10);
      const keys = Object.keys(want.gradNorm).sort();
      expect(keys).toEqual(
        (a.params as { key: string }[])
          .map((p) => p.key)
          .filter((k) => k in want.gradNorm)
          .sort(),
      );
      expect(keys.length).toBe(8);
      for (const p of a.params as { key: string; gradNorm: number }[]) {
        const g = want.gradNorm[p.key];
        if (g === undefined) continue;
        expect(g, p.key).toBeGreaterThan(0);
        expect(Math.abs(p.gradNorm - g) / g, p.key).toBeLessThan(1e-9);
      }
      // Both ConvLSTM layers analysed, state = rows × cols × filters, every series finite.
      const rec = a.recurrent as Record<string, unknown>[];
      expect(rec.map((x) => [x['layer'], x['kind'], x['units'], x['steps']])).toEqual([
        ['conv_lstm2d', 'ConvLSTM', 10 * 8 * 4, 5],
        ['conv_lstm2d_1', 'ConvLSTM', 3 * 2 * 3, 5],
      ]);
      expect(rec.map((x) => x['stateShape'])).toEqual([
        [10, 8, 4],
        [3, 2, 3],
      ]);
      // The summary names a ConvLSTM's state by its feature map, not as 320 "units".
      expect(r.stdout).toMatch(/conv_lstm2d +ConvLSTM +state 10×8×4 /);
      for (const x of rec) {
        expect(finite((x['dh'] as { norm: unknown }).norm), 'dh').toBe(true);
        expect(finite((x['dc'] as { norm: unknown }).norm), 'dc').toBe(true);
        const c = x['contributions'] as { norm: number[]; total: number }[];
        expect(c.length).toBe(12);
        expect(c.every((q) => finite(q.norm) && Number.isFinite(q.total))).toBe(true);
        const j = x['jacobian'] as { max: unknown };
        expect(finite(j.max), 'jacobian').toBe(true);
        // The forget gate's mean bias over the filters (the bias is shared by every position).
        const fb = want.forgetBias[x['layer'] as string]!;
        expect(Math.abs((x['memory'] as { bias: number }).bias - fb)).toBeLessThan(1e-12);
      }
      if (dialect === 'keras3') {
        // The same model and weights as a Keras 3 .keras zip (layers/<snake>/cell/vars/<i>): the same numbers.
        const z = await rnnscope([
          'analyze',
          f('model.keras'),
          '--data',
          f('x.npy'),
          '--targets',
          f('y.npy'),
          '--dtype',
          'float64',
          '--json',
          f('k.json'),
        ]);
        expect(z.code, z.stderr).toBe(0);
        const k = JSON.parse(readFileSync(f('k.json'), 'utf8'));
        expect(k.objective.value).toBe(a.objective.value);
        expect(k.params.map((p: { gradNorm: number }) => p.gradNorm)).toEqual(
          a.params.map((p: { gradNorm: number }) => p.gradNorm),
        );
      }
    }, 120_000);
  }
});
