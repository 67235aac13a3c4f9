// Data that would falsely reassure (issue 10 item 8): zero samples, and float64 values that
// float32 cannot hold. Files are written by numpy, as a user writes them; the command line runs as
// a child process. Before, zero samples exited 0 with "gradient flow looks healthy by every check"
// and overflowing values were reported as NaN gradients and dead units, blaming the model.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openData } from '../src/io/data.js';
import { fitDataToModel } from '../src/io/data-check.js';
import { DataError } from '../src/model/errors.js';
import { loadModelFile } from '../src/io/node.js';
import type { ModelSpec } from '../src/model/types.js';

const ROOT = join(import.meta.dirname, '..');
const HAR = join(ROOT, 'test/fixtures/corpus/k3_hatice_har_lstm/lstm_model.keras'); // input (None, 100, 6), softmax over 6
const PY = '/usr/bin/python3';
let numpy = false;
try {
  execFileSync(PY, ['-c', 'import numpy'], { stdio: 'ignore' });
  numpy = true;
} catch {
  /* numpy absent */
}
const dir = mkdtempSync(join(tmpdir(), 'rnnscope-overflow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  if (!numpy) return;
  // float64 data as np.save writes it: x_big has two values past float32's range and one NaN;
  // x_f64_ok holds values float32 rounds but can hold (its largest finite value among them).
  execFileSync(PY, [
    '-c',
    `
import numpy as np
d = ${JSON.stringify(dir)}
rng = np.random.default_rng(0)
np.save(d + '/empty.npy', np.zeros((0, 100, 6), np.float32))
x = rng.standard_normal((4, 100, 6))
big = x.copy(); big[1, 2, 3] = 1e39; big[3, 99, 5] = -3.5e38; big[2, 0, 0] = np.nan
np.save(d + '/x_big.npy', big)
ok = x.copy(); ok[0, 0, 0] = float(np.finfo(np.float32).max); ok[0, 0, 1] = 1e-50
np.save(d + '/x_f64_ok.npy', ok)
y = np.eye(6)[[0, 1, 2, 3]]; y[2, 4] = np.inf; y[0, 0] = 1e40
np.save(d + '/y_bad.npy', y)
np.savez(d + '/xy_big.npz', x=big, y=y)
`,
  ]);
});

let har: ModelSpec;
beforeAll(async () => {
  har = await loadModelFile(HAR);
});

const load = (name: string) => openData(new Uint8Array(readFileSync(join(dir, name))), name);
const cli = (args: string[], cwd = ROOT) =>
  promisify(execFile)(process.execPath, [join(ROOT, 'bin/rnnscope.js'), ...args], {
    cwd,
    env: { ...process.env, RNNSCOPE_FROM_SOURCE: '1', NO_COLOR: '1' },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe.skipIf(!numpy)('data checks (numpy-written files; skipped without /usr/bin/python3 numpy)', () => {
  it('zero samples is a DataError naming the file', () => {
    expect(() => fitDataToModel(har, load('empty.npy'), 'inputs')).toThrow(DataError);
    expect(() => fitDataToModel(har, load('empty.npy'), 'inputs')).toThrow(
      'empty.npy has shape (0, 100, 6), that is 0 samples; expected at least one sample to analyse, so pass a file that holds data.',
    );
  });

  it('float64 values beyond float32 and NaN are refused in a float32 run, naming array, index, value and count', () => {
    expect(() => fitDataToModel(har, load('x_big.npy'), 'inputs')).toThrow(
      "x_big.npy holds 1 NaN/Inf value(s) (first NaN at [2, 0, 0]); x_big.npy holds 2 value(s) beyond float32's range of ±3.4028235e+38 (first 1e+39 at [1, 2, 3]); gradients would be NaN, so clean the data and rescale it (or compute in float64 with --dtype float64).",
    );
    // Targets: every problem of every target array at once.
    expect(() => fitDataToModel(har, load('y_bad.npy'), 'targets', { batch: 4 })).toThrow(
      "y_bad.npy holds 1 NaN/Inf value(s) (first Infinity at [2, 4]); y_bad.npy holds 1 value(s) beyond float32's range of ±3.4028235e+38 (first 1e+40 at [0, 0]);",
    );
  });

  it('in a float64 run only NaN/Inf is refused; values float32 can hold pass in float32', () => {
    expect(() => fitDataToModel(har, load('x_big.npy'), 'inputs', { dtype: 'float64' })).toThrow(
      /^x_big\.npy holds 1 NaN\/Inf value\(s\) \(first NaN at \[2, 0, 0\]\); gradients would be NaN, so clean or impute the data first\.$/,
    );
    const [fit] = fitDataToModel(har, load('x_f64_ok.npy'), 'inputs');
    expect(fit!.data[0]).toBe(3.4028234663852886e38);
  });
});

describe.skipIf(!numpy)('the command line (child process; skipped without numpy)', () => {
  it('zero samples exits 1 with one sentence, not a healthy report', async () => {
    const r = await cli(['analyze', HAR, '--data', join(dir, 'empty.npy')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: empty.npy has shape (0, 100, 6), that is 0 samples; expected at least one sample to analyse, so pass a file that holds data.\n',
    );
    expect(r.stdout).not.toContain('healthy');
  }, 60_000);

  it('float64 overflow exits 1 naming where, instead of NaN gradients blamed on the model', async () => {
    const r = await cli(['analyze', HAR, '--data', join(dir, 'xy_big.npz')]);
    expect(r.code).toBe(1);
    // The archive's x and y both hold bad values: one error names both (fitInputsAndTargets).
    expect(r.stderr).toMatch(
      /^error: The inputs and the targets have 2 problems\. 1\) xy_big\.npz:x(\.npy)? holds 1 NaN\/Inf value\(s\) \(first NaN at \[2, 0, 0\]\); xy_big\.npz:x(\.npy)? holds 2 value\(s\) beyond float32's range/,
    );
    expect(r.stderr).toMatch(
      / 2\) xy_big\.npz:y(\.npy)? holds 1 NaN\/Inf value\(s\) \(first Infinity at \[2, 4\]\); xy_big\.npz:y(\.npy)? holds 1 value\(s\) beyond float32's range/,
    );
    expect(r.stderr).not.toContain('bug');
    expect(r.stdout).not.toMatch(/dead|non-finite/);
  }, 60_000);
});
