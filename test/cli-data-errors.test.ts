// Bad inputs and bad targets are reported together, in one error (src/io/data-check.ts fitInputsAndTargets), by
// `rnnscope analyze` as a child process on the corpus HAR LSTM with data written by numpy for other models; and
// by the library function, where the targets' sample count is compared only with good inputs.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openData } from '../src/io/data.js';
import { fitInputsAndTargets } from '../src/io/data-check.js';
import { loadModelFile } from '../src/io/node.js';
import { DataError } from '../src/model/errors.js';
import { CORPUS, USERDATA, rnnscope } from './helpers/cli-run.js';
import { readFileSync } from 'node:fs';

const HAR = path.join(CORPUS, 'k3_hatice_har_lstm', 'lstm_model.keras');
const u = (p: string) => path.join(USERDATA, p);
const npy = (p: string) => openData(readFileSync(u(p)), path.basename(p));

describe('inputs and targets are checked together', { timeout: 120_000 }, () => {
  it('rnnscope analyze with wrong --data and wrong --targets names both problems', async () => {
    const r = await rnnscope(['analyze', HAR, '--data', u('ecg/x.npy'), '--targets', u('masking/y.npy'), '-q']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The inputs and the targets have 2 problems. 1) ');
    expect(r.stderr).toMatch(/1\) .*x\.npy.*\(16, 210, 1\).* 2\) .*y\.npy.*\(6, 32\)/s);
    expect(r.stderr).not.toContain('    at '); // no stack trace
  });

  it('one bad role alone gives its own message; good inputs also bound the targets sample count', async () => {
    const m = await loadModelFile(HAR);
    const bad = () => fitInputsAndTargets(m, npy('ecg/x.npy'), npy('har/y.npy'));
    expect(bad).toThrow(DataError);
    expect(bad).not.toThrow('2 problems');
    expect(() => fitInputsAndTargets(m, npy('har/x.npy'), npy('masking/y.npy'))).toThrow(/y\.npy/);
    // The first 6 rows of HAR's own targets: the right width, too few samples for its 32 inputs.
    const y6 = npy('har/y.npy').map((a) => ({ ...a, shape: [6, 6], data: a.data.slice(0, 36) }));
    expect(() => fitInputsAndTargets(m, npy('har/x.npy'), y6)).toThrow('has 6 samples but the inputs have 32');
    const ok = fitInputsAndTargets(m, npy('har/x.npy'), npy('har/y.npy'));
    expect([ok.inputs[0]!.shape, ok.targets![0]!.shape]).toEqual([
      [32, 100, 6],
      [32, 6],
    ]);
  });
});
