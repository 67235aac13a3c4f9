// Layer specs of the 2-D vision layers (the CNN half of an LRCN video model),
// the attention layers and keras_contrib's CRF. Joined to LayerSpec in types.ts;
// parsed in vision-config.ts / attention-config.ts / crf-config.ts, shapes and
// parameters in extra-shapes.ts.

import type { Activation, LayerBase } from './types.js';

export type Pair = [number, number];
export type Triple = [number, number, number];

export type ExtraLayerSpec =
  /** Conv2D, channels_last: kernel (kh, kw, C, F) in Keras layout. */
  | (LayerBase & {
      type: 'Conv2D';
      filters: number;
      kernelSize: Pair;
      strides: Pair;
      padding: 'valid' | 'same';
      dilationRate: Pair;
      activation: Activation;
      useBias: boolean;
    })
  | (LayerBase & { type: 'Pooling2D'; mode: 'max' | 'avg'; poolSize: Pair; strides: Pair; padding: 'valid' | 'same' })
  | (LayerBase & { type: 'GlobalPooling2D'; mode: 'max' | 'avg' })
  /** Conv3D, channels_last: kernel (kd, kh, kw, C, F) (vision3d-config.ts). */
  | (LayerBase & {
      type: 'Conv3D';
      filters: number;
      kernelSize: Triple;
      strides: Triple;
      padding: 'valid' | 'same';
      dilationRate: Triple;
      activation: Activation;
      useBias: boolean;
    })
  | (LayerBase & {
      type: 'Pooling3D';
      mode: 'max' | 'avg';
      poolSize: Triple;
      strides: Triple;
      padding: 'valid' | 'same';
    })
  | (LayerBase & { type: 'GlobalPooling3D'; mode: 'max' | 'avg' })
  /** ((top, bottom), (left, right)) zeros around the two spatial axes. */
  | (LayerBase & { type: 'ZeroPadding2D'; padding: [Pair, Pair] })
  /**
   * Attention (score 'dot' / 'concat', Luong) and AdditiveAttention (score 'additive', Bahdanau).
   * causal: the config's `causal` (tf.keras ≤ 2.9) or the call's use_causal_mask.
   */
  | (LayerBase & {
      type: 'Attention';
      score: 'dot' | 'concat' | 'additive';
      useScale: boolean;
      causal: boolean;
      returnScores: boolean;
    })
  /** MultiHeadAttention over the steps axis (attention_axes=None). outputDim null = the query's feature size. */
  | (LayerBase & {
      type: 'MultiHeadAttention';
      numHeads: number;
      keyDim: number;
      valueDim: number;
      outputDim: number | null;
      useBias: boolean;
      causal: boolean;
      returnScores: boolean;
    })
  /** Dot: batch dot product over axes (batch dim counted, resolved ≥ 1 at the first call when negative). */
  | (LayerBase & { type: 'Dot'; axes: Pair; normalize: boolean })
  /** keras_contrib.layers.CRF. */
  | (LayerBase & {
      type: 'CRF';
      units: number;
      learnMode: 'join' | 'marginal';
      testMode: 'viterbi' | 'marginal';
      sparseTarget: boolean;
      useBoundary: boolean;
      useBias: boolean;
      activation: Activation;
    });
