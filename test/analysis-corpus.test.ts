// The whole analysis on every real corpus model (random seeded inputs, the model's own objective):
// it runs, its numbers are finite where they must be, the per-step contributions add up to the
// gradient blocks, and the JSON validates against the schema.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../src/analysis/analyze.js';
import { validateAnalysis } from '../src/analysis/schema.js';
import { loadModelFile } from '../src/io/node.js';

const CORPUS = path.join(import.meta.dirname, 'fixtures', 'corpus');
const MODELS: Record<string, [string, string?]> = {
  k3_hatice_har_lstm: ['lstm_model.keras'],
  k3_asand_multiinput_embedding_lstm: ['rnn_model.keras'],
  h5_dl4j_simplernn_k2: ['simple_rnn_tf_keras_2_model.h5'],
  h5_dl4j_masking_lstm: ['masking_zero_lstm.h5'],
  k1_dl4j_simple_lstm_tf: ['simple_lstm_tf_keras_1_model.h5'],
  w_chen_sentiment_embedding_conv1d_lstm: ['wordvec_cnn_lstm_architecture.json', 'wordvec_cnn_lstm_weights.h5'],
  w_chen_ecg_bilstm_autoencoder: ['bidirectional-lstm-auto-encoder-architecture.json', 'bidirectional-lstm-auto-encoder-weights.h5'],
  w_dl4j_stacked_lstm_theano_with_predictions: ['lstm_th_keras_2_config.json', 'lstm_th_keras_2_weights.h5'],
  tfjs_reiinakano_textgen_lstm_legacy_format: ['model.json'],
};

describe('analysis of every corpus model', () => {
  for (const [name, [main, weights]] of Object.entries(MODELS)) {
    it(name, async () => {
      const dir = path.join(CORPUS, name);
      const m = await loadModelFile(path.join(dir, main), weights ? { weights: path.join(dir, weights) } : {});
      const { analysis } = analyzeModel(m, { inputs: null, targets: null }, { maxSamples: 6, batchSize: 4, randomSteps: 20, jacobianSamples: 2, jacobianIterations: 4 });
      validateAnalysis(JSON.parse(JSON.stringify(analysis)));
      expect(analysis.objective.warnings.map((w) => w.code)).toContain('random-data');
      expect(analysis.recurrent.length).toBeGreaterThan(0);
      for (const ra of analysis.recurrent) {
        expect(ra.dh.norm.every((v) => v !== null)).toBe(true);
        for (const c of ra.contributions) {
          const p = analysis.params.find((q) => q.layer === ra.layer && q.direction === ra.direction && q.name === c.group)!;
          const g = p.blocks!.find((b) => b.gate === c.gate)!.gradNorm!;
          if (g > 1e-20) expect(Math.abs(c.total! - g) / g).toBeLessThan(1e-4);
        }
      }
      expect(analysis.params.every((p) => p.nan === 0 && p.inf === 0)).toBe(true);
    });
  }
});
