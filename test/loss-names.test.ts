// An unknown loss name is reported first, with the closest names of the one loss table (issue 10
// item 9). Before, `--loss categorical_crosentropy` with targets of another shape gave a target-shape
// error, and a loss spelt as a class name (CategoricalCrossentropy) was not recognised by the data check.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLoss } from '../src/engine/loss-config.js';
import { openData } from '../src/io/data.js';
import { fitDataToModel } from '../src/io/data-check.js';
import { encodeNpy } from '../src/io/npz-write.js';
import { loadModelFile } from '../src/io/node.js';
import { LOSS_NAMES, lossName } from '../src/model/loss-config.js';
import { ModelError } from '../src/model/errors.js';
import { closest, editDistance } from '../src/model/suggest.js';
import type { ModelSpec } from '../src/model/types.js';

const ROOT = join(import.meta.dirname, '..');
const HAR = join(ROOT, 'test/fixtures/corpus/k3_hatice_har_lstm/lstm_model.keras'); // output (None, 6), softmax
// Inputs that fit the HAR model, and targets of another model's shape (16, 210), as .npy files.
const dir = mkdtempSync(join(tmpdir(), 'rnnscope-loss-'));
const HAR_X = join(dir, 'x.npy');
const WRONG_Y = join(dir, 'y.npy');
writeFileSync(HAR_X, encodeNpy({ shape: [16, 100, 6], data: new Float32Array(16 * 600).fill(0.5) }));
writeFileSync(WRONG_Y, encodeNpy({ shape: [16, 210], data: new Float32Array(16 * 210) }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let har: ModelSpec;
beforeAll(async () => {
  har = await loadModelFile(HAR);
});

describe('edit distance and suggestions', () => {
  it('optimal string alignment distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('ab', 'ba')).toBe(1); // a swap of neighbours is one edit
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('mse', 'mse')).toBe(0);
  });

  it('only the nearest names, and none when nothing is near', () => {
    expect(closest('msee', ['mse', 'msle', 'mae'])).toEqual(['mse', 'msle']);
    expect(closest('focal', ['mse', 'poisson', 'hinge'])).toEqual([]);
  });
});

describe('loss names', () => {
  it('one table: every listed name resolves to itself', () => {
    for (const n of LOSS_NAMES) expect(lossName(n)).toBe(n);
    expect(lossName('ce')).toBe('crossentropy');
    expect(lossName('keras.losses.CategoricalCrossentropy')).toBe('categorical_crossentropy');
  });

  it('parseLoss suggests the closest spellings', () => {
    expect(() => parseLoss('categorical_crosentropy')).toThrow(ModelError);
    expect(() => parseLoss('categorical_crosentropy')).toThrow(
      /^Loss 'categorical_crosentropy' is not supported \(did you mean 'categorical_crossentropy'\?\); expected one of mse, .*; choose a supported loss with --loss\.$/,
    );
    expect(() => parseLoss('mean_squared_eror')).toThrow("(did you mean 'mean_squared_error'?)");
    expect(() => parseLoss('BinaryCrosentropy')).toThrow("(did you mean 'binary_crossentropy'?)");
    expect(() => parseLoss('focal')).toThrow(/^Loss 'focal' is not supported; expected one of/);
  });

  it('the data check names an unknown loss before the target shape it would cause', () => {
    const y = openData(new Uint8Array(readFileSync(WRONG_Y)), 'y.npy');
    expect(() => fitDataToModel(har, y, 'targets', { batch: 16, losses: ['categorical_crosentropy'] })).toThrow(
      ModelError,
    );
    expect(() => fitDataToModel(har, y, 'targets', { batch: 16, losses: ['categorical_crosentropy'] })).toThrow(
      /^Loss 'categorical_crosentropy' is not supported \(did you mean 'categorical_crossentropy'\?\)/,
    );
  });

  it('a loss given by its class name decides class-id targets like its canonical name', () => {
    const ids = [{ name: 'y', shape: [3], dtype: 'int64', data: Float64Array.from([5, 0, 2]), source: 'y.npy' }];
    const [fit] = fitDataToModel(har, ids, 'targets', { batch: 3, losses: ['CategoricalCrossentropy'] });
    expect(fit!.shape).toEqual([3, 6]);
    expect(Array.from(fit!.data.subarray(0, 6))).toEqual([0, 0, 0, 0, 0, 1]);
  });
});

describe('the command line (child process)', () => {
  it('--loss misspelt, with targets of another shape: the loss is named, with a suggestion', async () => {
    const r = await promisify(execFile)(
      process.execPath,
      [
        join(ROOT, 'bin/rnnscope.js'),
        'analyze',
        HAR,
        '--data',
        HAR_X,
        '--targets',
        WRONG_Y,
        '--loss',
        'categorical_crosentropy',
      ],
      { env: { ...process.env, RNNSCOPE_FROM_SOURCE: '1' } },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: Loss 'categorical_crosentropy' is not supported \(did you mean 'categorical_crossentropy'\?\); expected one of /,
    );
    expect(r.stderr).not.toContain('expects (None, 6)');
  }, 60_000);
});
