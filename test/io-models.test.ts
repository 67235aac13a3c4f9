// Model loaders end to end (src/io/node.ts → openModel → format module → src/model bind), on
// every corpus model and on the synthetic fixtures of scripts/make_io_fixtures.py.
// Oracles: MANIFEST.md / manifest.json (Keras's own parameter counts and layer lists) and
// test/fixtures/io/expected.json (h5py + numpy reads of the same files, including the Keras 1
// per-gate, CuDNN and tfjs-dequantization conversions done in numpy).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LoadError, ModelError } from '../src/model/errors.js';
import { buildModel } from '../src/model/build.js';
import { bindLayerWeights } from '../src/model/bind.js';
import { loadModelFile } from '../src/io/node.js';
import { CORPUS_MAIN } from './helpers/corpus.js';
import { fileSetFromMap, openModel } from '../src/io/index.js';
import { H5File } from '../src/io/hdf5.js';
import { readLayerGroups } from '../src/io/legacy-store.js';
import { CORPUS, EXPECTED, IO, bytes, expectWeights, paramCount } from './io-model-helpers.js';

interface ManifestEntry {
  name: string;
  param_check: string;
  model_files: string[];
  keras_version: string;
  layers: { name: string }[];
}
const MANIFEST: ManifestEntry[] = JSON.parse(readFileSync(path.join(CORPUS, 'manifest.json'), 'utf8'));

/** Main file and --weights file of each corpus model that has an architecture. */

const FORMAT: Record<string, string> = {
  k3_hatice_har_lstm: 'keras-v3',
  k3_asand_multiinput_embedding_lstm: 'keras-v3',
  h5_dl4j_simplernn_k2: 'keras-h5',
  h5_dl4j_masking_lstm: 'keras-h5',
  k1_dl4j_simple_lstm_tf: 'keras-h5',
  k1_dl4j_simple_lstm_theano: 'keras-h5',
  w_chen_sentiment_embedding_conv1d_lstm: 'keras-h5-weights',
  w_chen_ecg_bilstm_autoencoder: 'keras-h5-weights',
  w_dl4j_stacked_lstm_theano_with_predictions: 'keras-h5-weights',
  tfjs_reiinakano_textgen_lstm_legacy_format: 'tfjs-layers',
};

async function expectError<T extends Error>(p: Promise<unknown>, cls: new (...a: never[]) => T): Promise<T> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(cls);
    return e as T;
  }
  throw new Error(`expected a ${cls.name}`);
}

describe('every corpus model loads with the parameters Keras saved', () => {
  for (const entry of MANIFEST) {
    const main = CORPUS_MAIN[entry.name];
    if (!main) continue;
    it(entry.name, async () => {
      const dir = path.join(CORPUS, entry.name);
      const m = await loadModelFile(path.join(dir, main[0]), main[1] ? { weights: path.join(dir, main[1]) } : {});
      expect(m.meta.format).toBe(FORMAT[entry.name]);
      // manifest.json keras_version is the writer's version as recorded in the file.
      expect(m.meta.kerasVersion).toBe(entry.keras_version);
      // Keras's own count (MANIFEST "parameter check: OK (N params)").
      expect(paramCount(m)).toBe(Number(/\((\d+) params\)/.exec(entry.param_check)![1]));
      // Every layer of the saved config is in the model (an auto InputLayer may be added in front).
      const names = m.layers.map((l) => l.name);
      for (const l of entry.layers) expect(names).toContain(l.name);
      expect(m.weights.size).toBe(m.params.flat().length);
      expect(Object.keys(EXPECTED[`corpus:${entry.name}`].params).length).toBe(m.params.flat().length);
      expectWeights(m, `corpus:${entry.name}`);
    });
  }

  it('w_textgenrnn_cudnnlstm_attention: weights alone are refused because the architecture is not in the file', async () => {
    const f = path.join(CORPUS, 'w_textgenrnn_cudnnlstm_attention', 'textgenrnn_weights.hdf5');
    const e = await expectError(loadModelFile(f), LoadError);
    expect(e.message).toBe(
      `${f} holds only weights (written by save_weights), so the architecture is not in the file; expected a full model; pass the model.to_json() architecture file as the model and this file with --weights.`,
    );
  });

  it('w_textgenrnn_cudnnlstm_attention: its reconstructed architecture is refused at the custom AttentionWeightedAverage, by name', async () => {
    const e = await expectError(
      loadModelFile(path.join(IO, 'textgenrnn_architecture.json'), {
        weights: path.join(CORPUS, 'w_textgenrnn_cudnnlstm_attention', 'textgenrnn_weights.hdf5'),
      }),
      ModelError,
    );
    expect(e.message).toMatch(
      /^Layer 'attention' \(AttentionWeightedAverage\) is not a Keras layer; it is a class defined in Python outside Keras .*the file holds its configuration but not its code/,
    );
  });

  it('w_textgenrnn_cudnnlstm_attention: CuDNN LSTM weights (bias 8U) convert to the canonical LSTM layout numpy computes', async () => {
    const arch = JSON.parse(readFileSync(path.join(IO, 'textgenrnn_rnn_part.json'), 'utf8'));
    const m = buildModel(arch, {
      kerasVersion: arch.keras_version,
      format: 'keras-h5-weights',
      backend: 'tensorflow',
      source: 'textgenrnn_rnn_part.json',
    });
    const h5 = await H5File.open(
      bytes(path.join(CORPUS, 'w_textgenrnn_cudnnlstm_attention', 'textgenrnn_weights.hdf5')),
      'textgenrnn_weights.hdf5',
    );
    const stored = readLayerGroups(h5, '/');
    h5.close();
    expect(stored.map((l) => l.name)).toEqual([
      'input',
      'embedding',
      'rnn_1',
      'rnn_2',
      'rnn_concat',
      'attention',
      'output',
    ]);
    const rnn1 = stored.find((l) => l.name === 'rnn_1')!;
    expect(rnn1.arrays.map((a) => a.shape)).toEqual([[100, 512], [128, 512], [1024]]);
    for (const name of ['embedding', 'rnn_1', 'rnn_2']) {
      bindLayerWeights(
        m,
        m.layers.findIndex((l) => l.name === name),
        stored.find((l) => l.name === name)!.arrays,
      );
    }
    expectWeights(m, 'corpus:w_textgenrnn_cudnnlstm_attention');
  });
});

describe('synthetic fixtures (scripts/make_io_fixtures.py)', () => {
  it('Keras 1 GRU with 9 per-gate arrays and no keras_version anywhere → Keras "1", fused z,r,h', async () => {
    const m = await loadModelFile(path.join(IO, 'k1_gru_pergate.h5'));
    expect(m.meta.kerasVersion).toBe('1');
    expect(m.meta.loss?.[0]?.name).toBe('mse');
    const gru = m.layers.find((l) => l.name === 'gru_1')!;
    expect(gru.type === 'Recurrent' && gru.rnn.resetAfter).toBe(false);
    expectWeights(m, 'k1_gru_pergate');
  });

  it('chunked layer_names / weight_names attributes and mixed string storage', async () => {
    const m = await loadModelFile(path.join(IO, 'chunked_attrs.h5'));
    expect(m.meta.kerasVersion).toBe('2.2.4');
    expect(m.meta.backend).toBe('tensorflow');
    expectWeights(m, 'chunked_attrs');
  });

  it('tfjs quantized shards: uint8, uint16, float16 dequantized like tfjs-core', async () => {
    const m = await loadModelFile(path.join(IO, 'tfjs_quant', 'model.json'));
    expect(m.meta.format).toBe('tfjs-layers');
    expectWeights(m, 'tfjs_quant');
  });

  it('tfjs groups out of layer order, a shard without .bin, weights straddling shard boundaries', async () => {
    const m = await loadModelFile(path.join(IO, 'tfjs_groups'));
    expect(m.layers.map((l) => l.name)).toContain('bidirectional');
    expectWeights(m, 'tfjs_groups');
  });

  it('Keras 3 .weights.h5 with Bidirectional and TimeDistributed store paths, config names unlike store names', async () => {
    const m = await loadModelFile(path.join(IO, 'k3_bidi_td.json'), {
      weights: path.join(IO, 'k3_bidi_td.weights.h5'),
    });
    expect(m.meta.format).toBe('keras-h5-weights');
    expect(m.meta.kerasVersion).toBe('3');
    expectWeights(m, 'k3_bidi_td');
  });

  it('an unzipped .keras folder and a deflated .keras zip', async () => {
    for (const [p, o] of [
      [path.join(IO, 'k3_folder'), 'k3_folder'],
      [path.join(IO, 'k3_folder', 'config.json'), 'k3_folder'],
      [path.join(IO, 'k3_deflated.keras'), 'k3_deflated'],
    ]) {
      const m = await loadModelFile(p);
      expect(m.meta.format).toBe('keras-v3');
      expect(m.meta.kerasVersion).toBe('3.5.0');
      expect(m.meta.loss?.[0]?.name).toBe('mse');
      const g1 = m.layers.find((l) => l.name === 'g1')!;
      expect(g1.type === 'Recurrent' && g1.rnn.resetAfter).toBe(true);
      expectWeights(m, o);
    }
  });

  it('a .keras whose weights are model.weights.npz (pickled dicts read without executing them)', async () => {
    const m = await loadModelFile(path.join(IO, 'k3_npz.keras'));
    expect(m.meta.format).toBe('keras-v3');
    expectWeights(m, 'k3_npz');
  });

  it('in memory (browser path): openModel over a FileSet from a map of names to bytes', async () => {
    const dir = path.join(IO, 'tfjs_groups');
    const names = [
      'model.json',
      'group1-shard1of1.bin',
      'group2-shard1of3.bin',
      'group2-shard2of3',
      'group2-shard3of3.bin',
    ];
    const files = new Map(names.map((n) => [n, bytes(path.join(dir, n))]));
    const m = await openModel(fileSetFromMap('model.json', files));
    expectWeights(m, 'tfjs_groups');
    const arch = bytes(path.join(IO, 'k3_bidi_td.json'));
    const w = bytes(path.join(IO, 'k3_bidi_td.weights.h5'));
    const m2 = await openModel(fileSetFromMap('arch.json', { 'arch.json': arch, 'w.weights.h5': w }), {
      weights: 'w.weights.h5',
    });
    expectWeights(m2, 'k3_bidi_td');
  });

  it('--weights replaces the weights of a full model (same architecture, weights-only file)', async () => {
    const dir = path.join(CORPUS, 'h5_dl4j_simplernn_k2');
    const m = await loadModelFile(path.join(dir, 'simple_rnn_tf_keras_2_model.h5'), {
      weights: path.join(dir, 'simple_rnn_tf_keras_2_weights.h5'),
    });
    expectWeights(m, 'corpus:h5_dl4j_simplernn_k2');
  });
});
