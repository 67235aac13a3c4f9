// The corpus models (test/fixtures/corpus, attribution in MANIFEST.md) and which file(s) open each:
// the model file, and the weights file for a to_json() architecture + weights-only .h5.
import path from 'node:path';

export const CORPUS = path.join(import.meta.dirname, '..', 'fixtures', 'corpus');

export const CORPUS_MAIN: Record<string, [string, string?]> = {
  k3_hatice_har_lstm: ['lstm_model.keras'],
  k3_asand_multiinput_embedding_lstm: ['rnn_model.keras'],
  h5_dl4j_simplernn_k2: ['simple_rnn_tf_keras_2_model.h5'],
  h5_dl4j_masking_lstm: ['masking_zero_lstm.h5'],
  k1_dl4j_simple_lstm_tf: ['simple_lstm_tf_keras_1_model.h5'],
  k1_dl4j_simple_lstm_theano: ['simple_lstm_th_keras_1_model.h5'],
  w_chen_sentiment_embedding_conv1d_lstm: ['wordvec_cnn_lstm_architecture.json', 'wordvec_cnn_lstm_weights.h5'],
  w_chen_ecg_bilstm_autoencoder: [
    'bidirectional-lstm-auto-encoder-architecture.json',
    'bidirectional-lstm-auto-encoder-weights.h5',
  ],
  w_dl4j_stacked_lstm_theano_with_predictions: ['lstm_th_keras_2_config.json', 'lstm_th_keras_2_weights.h5'],
  tfjs_reiinakano_textgen_lstm_legacy_format: ['model.json'],
};
