// The app page's sorting of dropped files (web/app-models.ts, app-data.ts, app-inspect.ts), run in
// Node on the real corpus models and numpy-written data: which file is the model, its weights, its
// parts, the data and the targets; what is asked; and that every refusal is the message the
// command line's own calls give for the same file (loadModelFile, openData, fitDataToModel).
// Also the report's SHA-256 shim against node:crypto.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Session, type Inspection } from '../web/app-inspect.js';
import type { InFile } from '../web/app-models.js';
import { createHash as shimHash } from '../web/node-crypto-shim.js';
import { loadModelFile } from '../src/io/node.js';
import { openData } from '../src/io/data.js';
import { fitDataToModel } from '../src/io/data-check.js';
import { CORPUS } from './helpers/corpus.js';

const USERDATA = path.join(import.meta.dirname, 'fixtures', 'userdata');
const c = (p: string) => path.join(CORPUS, p);
const u = (p: string) => path.join(USERDATA, p);

/** A file as the page gets it: picked alone (base name), or inside a dropped folder (folder/name). */
function file(p: string, as?: string): InFile {
  return {
    name: as ?? path.basename(p),
    bytes: new Uint8Array(readFileSync(p)),
    fromFolder: !!as?.includes('/'),
    lastModified: statSync(p).mtimeMs,
  };
}

function folder(dir: string): InFile[] {
  const out: InFile[] = [];
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = path.join(d, n);
      if (statSync(p).isDirectory()) walk(p, `${rel}/${n}`);
      else out.push(file(p, `${rel}/${n}`));
    }
  };
  walk(dir, path.basename(dir));
  return out;
}

const kinds = (ins: Inspection) => Object.fromEntries(ins.files.map((f) => [f.name, f.kind]));

async function errorOf(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('the models among the files', () => {
  it('a .keras with x.npy and y.npy: model, data, targets; nothing asked', async () => {
    const s = await Session.open([
      file(c('k3_hatice_har_lstm/lstm_model.keras')),
      file(u('har/x.npy')),
      file(u('har/y.npy')),
    ]);
    const ins = await s.inspect(undefined, {});
    expect(kinds(ins)).toEqual({ 'lstm_model.keras': 'model', 'x.npy': 'data', 'y.npy': 'targets' });
    expect(ins.runs.map((r) => [r.label, r.inputs, r.outputs])).toEqual([
      ['lstm_model.keras', ['input_layer_1 (None, 100, 6)'], ['dense_3 (None, 6)']],
    ]);
    expect([ins.data?.id, ins.targets?.id, ins.questions, ins.errors, ins.ready]).toEqual([
      'x.npy',
      'y.npy',
      [],
      [],
      true,
    ]);
    const input = s.input(undefined, {}, []);
    expect(input.inputs![0]!.shape).toEqual([32, 100, 6]);
    expect(input.targets![0]!.shape).toEqual([32, 6]);
    expect(input.dataSource).toBe('x.npy, y.npy');
  });

  it('a to_json() architecture pairs with the weights .h5 that binds to it', async () => {
    const dir = 'w_chen_ecg_bilstm_autoencoder/';
    const s = await Session.open([
      file(c(`${dir}bidirectional-lstm-auto-encoder-architecture.json`)),
      file(c(`${dir}bidirectional-lstm-auto-encoder-weights.h5`)),
      file(u('ecg/x.npy')),
      file(u('ecg/y.npy')),
    ]);
    const ins = await s.inspect(undefined, {});
    expect(kinds(ins)).toEqual({
      'bidirectional-lstm-auto-encoder-architecture.json': 'model',
      'bidirectional-lstm-auto-encoder-weights.h5': 'weights',
      'x.npy': 'data',
      'y.npy': 'targets',
    });
    expect(ins.runs[0]!.label).toBe('bidirectional-lstm-auto-encoder-weights.h5'); // as the command line labels a --weights run
    expect(ins.ready).toBe(true);
  });

  it('a TF.js folder: model.json reads its shards; the vocabulary beside it is listed, not refused', async () => {
    const s = await Session.open(folder(c('tfjs_reiinakano_textgen_lstm_legacy_format')));
    const ins = await s.inspect(undefined, {});
    const d = 'tfjs_reiinakano_textgen_lstm_legacy_format/';
    expect(kinds(ins)).toEqual({
      [`${d}char_indices.json`]: 'unused',
      [`${d}group1-shard1of1`]: 'part',
      [`${d}group2-shard1of1`]: 'part',
      [`${d}model.json`]: 'model',
    });
    expect(ins.errors).toEqual([]);
    expect(ins.ready).toBe(true);
    expect(ins.data).toBeNull();
  });

  it('a folder with a full .h5, its to_json() + weights twin and saved arrays: two runs, the arrays file listed', async () => {
    const ins = await (await Session.open(folder(c('k1_dl4j_simple_lstm_tf')))).inspect(undefined, {});
    const d = 'k1_dl4j_simple_lstm_tf/';
    expect(kinds(ins)).toEqual({
      [`${d}simple_lstm_tf_keras_1_config.json`]: 'model',
      [`${d}simple_lstm_tf_keras_1_inputs_and_outputs.h5`]: 'unused',
      [`${d}simple_lstm_tf_keras_1_model.h5`]: 'model',
      [`${d}simple_lstm_tf_keras_1_weights.h5`]: 'weights',
    });
    expect(ins.runs).toHaveLength(2);
  });

  it('several checkpoints are runs in the order of their epoch numbers', async () => {
    const p = c('k3_hatice_har_lstm/lstm_model.keras');
    const s = await Session.open([file(p, 'ckpt-10.keras'), file(p, 'ckpt-2.keras'), file(p, 'ckpt-1.keras')]);
    expect(s.found.runs.map((r) => r.label)).toEqual(['ckpt-1.keras', 'ckpt-2.keras', 'ckpt-10.keras']);
    expect(s.order).toBe('name');
  });
});

describe('the data among the files', () => {
  it('one file per input of a two-input model is the data together', async () => {
    const s = await Session.open([
      file(c('k3_asand_multiinput_embedding_lstm/rnn_model.keras')),
      file(u('asand/sequence_input.npy')),
      file(u('asand/numerical_input.npy')),
      file(u('asand/y.npy')),
    ]);
    const ins = await s.inspect(undefined, {});
    expect(ins.data?.files).toEqual(['sequence_input.npy', 'numerical_input.npy']);
    expect(ins.targets?.id).toBe('y.npy');
    expect(s.input(undefined, {}, []).dataSource).toBe('sequence_input.npy, numerical_input.npy, y.npy');
  });

  it('a data file holding x and y gives its own targets, as the command line does', async () => {
    const s = await Session.open([
      file(c('k1_dl4j_simple_lstm_tf/simple_lstm_tf_keras_1_model.h5')),
      file(u('lstm_tf/xy_compressed.npz')),
    ]);
    const ins = await s.inspect(undefined, {});
    expect(kinds(ins)).toEqual({ 'simple_lstm_tf_keras_1_model.h5': 'model', 'xy_compressed.npz': 'data+targets' });
    expect(ins.targets?.id).toBe('in:xy_compressed.npz');
    expect(s.input(undefined, {}, []).targets).not.toBeNull();
  });

  it('several files that fit the inputs: asked, not guessed; then the targets that fit that data', async () => {
    const s = await Session.open([
      file(c('k3_hatice_har_lstm/lstm_model.keras')),
      ...folder(path.join(USERDATA, 'har')),
    ]);
    const ins = await s.inspect(undefined, {});
    expect(ins.ready).toBe(false);
    expect(ins.data).toBeNull();
    expect(ins.questions.map((q) => [q.about, q.options.map((o) => o.id)])).toEqual([
      ['data', ['har/x.csv', 'har/x.json', 'har/x.npy', 'har/x.npz', 'har/x_compressed.npz']],
    ]);
    // The CSV holds the first 6 windows: then y.csv and y.json fit (6 samples) and y.npy (32) does not.
    const after = await s.inspect(undefined, { data: 'har/x.csv' });
    expect(after.questions.map((q) => [q.about, q.options.map((o) => o.id)])).toEqual([
      ['targets', ['har/y.csv', 'har/y.json', 'none']],
    ]);
    const done = await s.inspect(undefined, { data: 'har/x.csv', targets: 'har/y.json' });
    expect([done.data?.id, done.targets?.id, done.ready]).toEqual(['har/x.csv', 'har/y.json', true]);
    expect(kinds(done)['har/y.npy']).toBe('unused');
  });

  it('a file that fits the outputs but is not named like targets is asked about', async () => {
    const s = await Session.open([
      file(c('k3_hatice_har_lstm/lstm_model.keras')),
      file(u('har/x.npy')),
      file(u('har/y.npy'), 'answers.npy'),
    ]);
    const ins = await s.inspect(undefined, {});
    expect(ins.questions).toHaveLength(1);
    expect(ins.questions[0]!.text).toBe(
      "answers.npy fits the model's outputs but is not named like targets (y, targets, labels); use it as the targets?",
    );
    expect(ins.questions[0]!.options.map((o) => o.id)).toEqual(['answers.npy', 'none']);
    expect((await s.inspect(undefined, { targets: 'none' })).targets).toBeNull();
    expect((await s.inspect(undefined, { targets: 'answers.npy' })).targets?.id).toBe('answers.npy');
  });
});

describe("refusals are the command line's messages", () => {
  it('data of the wrong shape', async () => {
    const model = c('k3_hatice_har_lstm/lstm_model.keras');
    const ins = await (await Session.open([file(model), file(u('ecg/x.npy'))])).inspect(undefined, {});
    const m = await loadModelFile(model);
    const cli = await errorOf(() => fitDataToModel(m, openData(readFileSync(u('ecg/x.npy')), 'x.npy'), 'inputs'));
    expect(ins.errors.map((e) => e.message)).toEqual([cli]);
    expect(cli).toMatch(/^model input 'input_layer_1' expects \(None, 100, 6\)/);
    expect(ins.ready).toBe(false);
  });

  it('a truncated .keras', async () => {
    const p = c('k3_hatice_har_lstm/lstm_model.keras');
    const bytes = readFileSync(p).subarray(0, 100_000);
    const ins = await (
      await Session.open([
        { name: 'lstm_model.keras', bytes: new Uint8Array(bytes), fromFolder: false, lastModified: 0 },
      ])
    ).inspect(undefined, {});
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const tmp = path.join(
      mkdtempSync(path.join((await import('node:os')).tmpdir(), 'rnnscope-app-')),
      'lstm_model.keras',
    );
    writeFileSync(tmp, bytes);
    const cli = await errorOf(() => loadModelFile(tmp));
    expect(ins.errors.map((e) => e.message)).toEqual([cli.split(path.dirname(tmp) + path.sep).join('')]);
    expect(ins.runs).toEqual([]);
  });

  it('an architecture with weights of another model', async () => {
    const arch = c('w_chen_ecg_bilstm_autoencoder/bidirectional-lstm-auto-encoder-architecture.json');
    const weights = c('w_chen_sentiment_embedding_conv1d_lstm/wordvec_cnn_lstm_weights.h5');
    const ins = await (await Session.open([file(arch), file(weights)])).inspect(undefined, {});
    const cli = await errorOf(() => loadModelFile(arch, { weights }));
    expect(ins.errors.map((e) => e.message)).toEqual([
      cli
        .split(path.dirname(arch) + path.sep)
        .join('')
        .split(path.dirname(weights) + path.sep)
        .join(''),
    ]);
    expect(ins.ready).toBe(false);
  });

  it('a weights-only .h5 alone', async () => {
    const w = c('k1_dl4j_simple_lstm_tf/simple_lstm_tf_keras_1_weights.h5');
    const ins = await (await Session.open([file(w)])).inspect(undefined, {});
    const cli = await errorOf(() => loadModelFile(w));
    expect(ins.errors.map((e) => e.message)).toEqual([cli.split(path.dirname(w) + path.sep).join('')]);
  });

  it('targets without data', async () => {
    const ins = await (
      await Session.open([file(c('k3_hatice_har_lstm/lstm_model.keras')), file(u('har/y.npy'))])
    ).inspect(undefined, {});
    expect(ins.errors.map((e) => e.message)).toEqual([
      'y.npy holds targets, but no input data was given; expected inputs to go with the targets, so add the data file too or remove y.npy.',
    ]);
  });
});

describe('the report hash in the browser build', () => {
  it('node-crypto-shim.ts SHA-256 equals node:crypto on text of every padding length', () => {
    for (let n = 0; n < 300; n += 1) {
      const text = Array.from({ length: n }, (_, i) => String.fromCodePoint(32 + ((i * 7919) % 5000))).join('');
      expect(shimHash('sha256').update(text, 'utf8').digest('base64')).toBe(
        createHash('sha256').update(text, 'utf8').digest('base64'),
      );
    }
  });
});
