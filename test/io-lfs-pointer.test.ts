// A clone without `git lfs pull` holds, in place of each large file, a Git LFS pointer: a text stub of ~130 bytes.
// A model file, a --weights file or a TF.js shard that is one gets a LoadError that says so and how to fetch the
// file (real case: SMU-ML-2017/Project8 gru_model.h5, a 134-byte pointer for a 160,769,840-byte file).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileSetFromMap, openModel } from '../src/io/index.js';
import { LoadError } from '../src/model/errors.js';
import { CORPUS } from './io-model-helpers.js';

const pointer = new TextEncoder().encode(
  'version https://git-lfs.github.com/spec/v1\n' +
    'oid sha256:b246702930b15f4fa5413b3da9f17ef3a4504f939d46989a0a84df9bbae41aa3\nsize 160769840\n',
);
const said = (name: string) =>
  `${name} is a Git LFS pointer (a 134-byte text stub for a 160,769,840-byte file), not the file itself; expected the real file; fetch it with git lfs pull, or download it from the repository's web page.`;

async function loadError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LoadError);
    return (e as Error).message;
  }
  throw new Error('expected a LoadError');
}

describe('Git LFS pointers instead of model files', () => {
  it('a model file', async () => {
    expect(pointer.length).toBe(134);
    const files = fileSetFromMap('gru_model.h5', { 'gru_model.h5': pointer });
    expect(await loadError(openModel(files))).toBe(said('gru_model.h5'));
  });

  it('a --weights file beside a to_json() architecture', async () => {
    const dir = path.join(CORPUS, 'k1_dl4j_simple_lstm_tf');
    const arch = readFileSync(path.join(dir, 'simple_lstm_tf_keras_1_config.json'));
    const files = fileSetFromMap('config.json', { 'config.json': arch, 'weights.h5': pointer });
    expect(await loadError(openModel(files, { weights: 'weights.h5' }))).toBe(said('weights.h5'));
  });

  it('a TF.js weight shard', async () => {
    const dir = path.join(CORPUS, 'tfjs_reiinakano_textgen_lstm_legacy_format');
    const json = readFileSync(path.join(dir, 'model.json'));
    const files = fileSetFromMap('model.json', {
      'model.json': json,
      'group1-shard1of1': pointer,
      'group2-shard1of1': readFileSync(path.join(dir, 'group2-shard1of1')),
    });
    const msg = await loadError(openModel(files));
    expect(msg).toContain('is a Git LFS pointer (a 134-byte text stub for a 160,769,840-byte file)');
    expect(msg).toContain('git lfs pull');
  });

  it('a text file that is no pointer keeps the general message', async () => {
    const files = fileSetFromMap('m.h5', { 'm.h5': new TextEncoder().encode('version 1\n') });
    expect(await loadError(openModel(files))).toContain('is not a model file rnnscope knows');
  });
});
