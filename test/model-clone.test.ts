// A worker gets the ModelSpec as a structured clone: everything the analysis, the summary and the
// weight layout need must be in the ModelSpec itself (meta.writer, meta.saved), not beside it.
// Oracle: the same model used directly, in the same process.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../src/analysis/analyze.js';
import { loadModelFile } from '../src/io/node.js';
import { layerParamCount, savedWeightLayout, weightGroups } from '../src/model/build.js';
import { summary } from '../src/model/summary.js';
import type { ModelSpec } from '../src/model/types.js';
import { CORPUS, CORPUS_MAIN } from './helpers/corpus.js';

async function load(name: string): Promise<ModelSpec> {
  const [main, weights] = CORPUS_MAIN[name]!;
  const dir = path.join(CORPUS, name);
  return loadModelFile(path.join(dir, main), weights ? { weights: path.join(dir, weights) } : {});
}

/** What the model stage derives from build-time facts, per layer. */
function layoutFacts(m: ModelSpec) {
  return {
    writer: m.meta.writer,
    groups: weightGroups(m),
    counts: m.layers.map((_, i) => layerParamCount(m, i)),
    layouts: m.layers.map((_, i) => (m.params[i]!.length > 0 ? savedWeightLayout(m, i) : [])),
    keras1: m.layers.map((_, i) => (m.params[i]!.length > 0 ? savedWeightLayout(m, i, 'keras1') : [])),
    summary: summary(m),
  };
}

describe('a structuredClone of a ModelSpec (what a worker gets) is the same model', () => {
  it('every corpus model: writer, weight groups, parameter counts, saved layouts and summary survive the clone', async () => {
    const writers: Record<string, string> = {};
    for (const name of Object.keys(CORPUS_MAIN)) {
      const m = await load(name);
      const c = structuredClone(m);
      expect(layoutFacts(c), name).toEqual(layoutFacts(m));
      writers[name] = m.meta.writer;
    }
    // The writer family of each corpus file, decided once when it was built (docs/keras-versions.md).
    expect(writers).toEqual({
      k3_hatice_har_lstm: 'keras3',
      k3_asand_multiinput_embedding_lstm: 'tf.keras', // tf.keras 2.13.1's .keras writer
      h5_dl4j_simplernn_k2: 'keras2', // 2.1.3
      h5_dl4j_masking_lstm: 'keras2', // 2.2.0
      k1_dl4j_simple_lstm_tf: 'keras1',
      k1_dl4j_simple_lstm_theano: 'keras1',
      w_chen_sentiment_embedding_conv1d_lstm: 'keras2',
      w_chen_ecg_bilstm_autoencoder: 'keras2',
      w_dl4j_stacked_lstm_theano_with_predictions: 'keras2',
      tfjs_reiinakano_textgen_lstm_legacy_format: 'tfjs', // converted from Keras 2.1.5: TF.js runs it
    });
  });

  it('a nested model keeps its weight groups through the clone (not one group per layer)', async () => {
    const m = await load('w_chen_ecg_bilstm_autoencoder');
    const c = structuredClone(m);
    expect(c.meta.saved).toEqual(m.meta.saved);
    expect(weightGroups(c).length).toBe(m.meta.saved!.groups.length);
  });

  for (const name of ['k1_dl4j_simple_lstm_tf', 'tfjs_reiinakano_textgen_lstm_legacy_format', 'k3_hatice_har_lstm']) {
    it(`${name}: the clone analyses to the same JSON`, async () => {
      const m = await load(name);
      const opts = { maxSamples: 4, batchSize: 2, randomSteps: 12, jacobianSamples: 1, jacobianIterations: 3 };
      const a = analyzeModel(m, { inputs: null, targets: null }, opts).analysis;
      const b = analyzeModel(structuredClone(m), { inputs: null, targets: null }, opts).analysis;
      expect(JSON.stringify(b)).toBe(JSON.stringify(a));
      expect(a.objective).toBeDefined();
    });
  }
});
