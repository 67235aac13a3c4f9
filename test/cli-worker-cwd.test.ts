// From the sources, the command line's worker threads find tsx wherever it is run from (issue 10
// item 9). Before, with 16 batches (one worker) and the working directory outside the checkout, the
// worker resolved 'tsx' from the working directory: "Cannot find package 'tsx'", reported as a bug.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../src/io/npz-write.js';
import { lcg, randArr } from './helpers/rng.js';

const ROOT = join(import.meta.dirname, '..');
const HAR = join(ROOT, 'test/fixtures/corpus/k3_hatice_har_lstm/lstm_model.keras'); // input (None, 100, 6)
const cwd = mkdtempSync(join(tmpdir(), 'rnnscope-cwd-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

// The CLI adds a worker per 8 batches, up to the cores: one core means no worker to test.
describe.skipIf(availableParallelism() < 2)('worker threads started from outside the checkout (needs 2 cores)', () => {
  it('analyze with 16 batches, cwd in a temporary folder, exits 0', async () => {
    writeFileSync(
      join(cwd, 'x.npy'),
      encodeNpy({ shape: [16, 100, 6], data: Float32Array.from(randArr(lcg(5), 16 * 600)) }),
    );
    const r = await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'bin/rnnscope.js'), 'analyze', HAR, '--data', 'x.npy', '--batch-size', '1', '--max-samples', '16'],
      {
        cwd,
        env: { ...process.env, RNNSCOPE_FROM_SOURCE: '1', NO_COLOR: '1' },
      },
    ).then(
      (o) => ({ code: 0, ...o }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(r.stderr).not.toContain('tsx');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('over 16 samples in 16 batches of 1');
  }, 120_000);
});
