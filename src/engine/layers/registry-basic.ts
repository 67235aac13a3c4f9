// The engine implementations of every non-recurrent layer type.
//
// TimeDistributed looks its inner layer up here; a registry that also holds the
// recurrent layers can build its own wrapper with makeTimeDistributed(lookup).

import type { LayerSpec } from '../../model/types.js';
import type { LayerImpl } from '../layer.js';
import { activationLayer } from './activation-layer.js';
import { conv1dLayer } from './conv1d.js';
import { denseLayer } from './dense.js';
import { embeddingLayer } from './embedding.js';
import { maskingLayer } from './masking.js';
import { mergeLayer } from './merge.js';
import { batchNormLayer, layerNormLayer } from './normalization.js';
import { globalPooling1dLayer, pooling1dLayer } from './pooling.js';
import { flattenLayer, identityLayer, inputLayer, permuteLayer, repeatVectorLayer, reshapeLayer } from './shape-ops.js';
import { makeTimeDistributed } from './time-distributed.js';
import { conv2dLayer } from './conv2d.js';
import { globalPooling2dLayer, pooling2dLayer, zeroPadding2dLayer } from './pooling2d.js';
import { attentionLayer } from './attention.js';
import { multiHeadAttentionLayer } from './multi-head-attention.js';
import { dotLayer } from './dot.js';
import { crfLayer } from './crf.js';
import { conv3dLayer, globalPooling3dLayer, pooling3dLayer } from './conv3d.js';

export type BasicLayerType = Exclude<LayerSpec['type'], 'Recurrent' | 'Bidirectional'>;

export const basicLayers: { [K in BasicLayerType]: LayerImpl<Extract<LayerSpec, { type: K }>> } = {
  InputLayer: inputLayer,
  Dense: denseLayer,
  Embedding: embeddingLayer,
  Masking: maskingLayer,
  TimeDistributed: makeTimeDistributed((inner) => basicLayerImpl(inner)),
  RepeatVector: repeatVectorLayer,
  Flatten: flattenLayer,
  Reshape: reshapeLayer,
  Permute: permuteLayer,
  Conv1D: conv1dLayer,
  Pooling1D: pooling1dLayer,
  GlobalPooling1D: globalPooling1dLayer,
  BatchNormalization: batchNormLayer,
  LayerNormalization: layerNormLayer,
  Activation: activationLayer,
  Identity: identityLayer,
  Merge: mergeLayer,
  Conv2D: conv2dLayer,
  Pooling2D: pooling2dLayer,
  GlobalPooling2D: globalPooling2dLayer,
  ZeroPadding2D: zeroPadding2dLayer,
  Attention: attentionLayer,
  MultiHeadAttention: multiHeadAttentionLayer,
  Dot: dotLayer,
  CRF: crfLayer,
  Conv3D: conv3dLayer,
  Pooling3D: pooling3dLayer,
  GlobalPooling3D: globalPooling3dLayer,
};

/** The implementation of a non-recurrent layer, or undefined for Recurrent / Bidirectional. */
export function basicLayerImpl(layer: LayerSpec): LayerImpl | undefined {
  if (layer.type === 'Recurrent' || layer.type === 'Bidirectional') return undefined;
  return basicLayers[layer.type] as LayerImpl;
}
