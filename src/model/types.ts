// The internal model representation: what the engine runs.
//
// This is deliberately NOT the on-disk Keras format (see keras-format.ts for the
// snake_case shapes Keras writes). Every field here is explicit and was read from
// the file (or from the documented default of the writer's Keras version): units,
// activations, the hard_sigmoid variant, reset_after, gate order, weight shapes.
//
// A model is a DAG: `layers` hold configuration and parameters (a layer may be
// called more than once: shared layers), `nodes` are calls of a layer, in
// topological order, connecting tensor ids.

import type { ExtraLayerSpec } from './types-extra.js';

/** A dense n-d array; row-major (C order). Weights are kept in float64 (exact copies of the stored floats). */
export interface NDArray {
  shape: number[];
  data: Float64Array;
}

/** Static shape with `null` for unknown dims (batch, sometimes time). */
export type Shape = (number | null)[];

export type ActivationName =
  | 'linear'
  | 'relu'
  | 'sigmoid'
  | 'hard_sigmoid'
  | 'tanh'
  | 'softmax'
  | 'log_softmax'
  | 'elu'
  | 'selu'
  | 'softplus'
  | 'softsign'
  | 'swish'
  | 'gelu'
  | 'exponential'
  | 'leaky_relu'
  | 'relu6'
  | 'hard_swish'
  | 'mish';

/** An activation with every parameter resolved. */
export interface Activation {
  name: ActivationName;
  /** relu: max_value (null = none), negative_slope, threshold. leaky_relu uses negativeSlope. */
  maxValue?: number | null;
  negativeSlope?: number;
  threshold?: number;
  /** elu alpha */
  alpha?: number;
  /** gelu: tanh approximation (true) or exact erf form (false) */
  approximate?: boolean;
  /** hard_sigmoid / hard_swish slope: 0.2 (Keras 1/2, tf.keras, TF.js) or 1/6 (Keras 3). */
  hardSigmoidSlope?: number;
  /** softmax / log_softmax axis (default -1) */
  axis?: number;
}

/** A registered recurrent cell (src/engine/cells: SimpleRNN, LSTM, GRU, …); its gates, states and weights are there. */
export type RecurrentKind = string;

export interface RecurrentSpec {
  kind: RecurrentKind;
  units: number;
  inputDim: number;
  activation: Activation;
  /** The activation of the gates the cell marks recurrent_activation (linear when it has none). */
  recurrentActivation: Activation;
  useBias: boolean;
  returnSequences: boolean;
  returnState: boolean;
  goBackwards: boolean;
  stateful: boolean;
  /** GRU only: reset gate applied after the recurrent matmul (bias shape (2, 3U)). */
  resetAfter: boolean;
  /** Masked positions of the returned sequence are 0 instead of the carried output. */
  zeroOutputForMask: boolean;
  /** Convolutional recurrent layers (ConvLSTM1D/2D/3D): the convolutions' geometry; absent for dense cells. */
  conv?: ConvGeometry;
}

/**
 * The geometry of a ConvLSTM layer (channels_last). The input convolution has the layer's strides,
 * padding and dilation; the recurrent one stride 1, padding 'same', no dilation. The state of one
 * sample is (…outSpatial, filters), flattened to units; an input frame (…inSpatial, channels) to inputDim.
 * inSpatial, outSpatial and channels are filled at the layer's first call (empty / −1 until then).
 */
export interface ConvGeometry {
  rank: number;
  filters: number;
  kernelSize: number[];
  strides: number[];
  padding: 'valid' | 'same';
  dilationRate: number[];
  inSpatial: number[];
  outSpatial: number[];
  channels: number;
}

export interface LayerBase {
  /** Layer name as in the model file (unique within its model). */
  name: string;
  /** Keras class name as written in the file (e.g. "CuDNNLSTM", "LSTM"). */
  className: string;
}

export type Padding = 'valid' | 'same' | 'causal';
export type MergeKind = 'Concatenate' | 'Add' | 'Subtract' | 'Multiply' | 'Average' | 'Maximum' | 'Minimum';
export type BidiMerge = 'concat' | 'sum' | 'mul' | 'ave' | null;

export type LayerSpec =
  | (LayerBase & { type: 'InputLayer'; shape: Shape; dtype: 'float32' | 'int32' })
  | (LayerBase & { type: 'Dense'; units: number; activation: Activation; useBias: boolean })
  | (LayerBase & { type: 'Embedding'; inputDim: number; outputDim: number; maskZero: boolean })
  | (LayerBase & { type: 'Masking'; maskValue: number })
  | (LayerBase & { type: 'Recurrent'; rnn: RecurrentSpec })
  | (LayerBase & {
      type: 'Bidirectional';
      forward: RecurrentSpec;
      backward: RecurrentSpec;
      mergeMode: BidiMerge;
      forwardName: string;
      backwardName: string;
    })
  | (LayerBase & { type: 'TimeDistributed'; inner: LayerSpec })
  | (LayerBase & { type: 'RepeatVector'; n: number })
  | (LayerBase & { type: 'Flatten' })
  | (LayerBase & { type: 'Reshape'; targetShape: number[] })
  | (LayerBase & { type: 'Permute'; dims: number[] })
  | (LayerBase & {
      type: 'Conv1D';
      filters: number;
      kernelSize: number;
      strides: number;
      padding: Padding;
      dilationRate: number;
      activation: Activation;
      useBias: boolean;
    })
  | (LayerBase & {
      type: 'Pooling1D';
      mode: 'max' | 'avg';
      poolSize: number;
      strides: number;
      padding: 'valid' | 'same';
    })
  /** channelsFirst: data_format='channels_first', input (batch, features, steps), the last axis is reduced. */
  | (LayerBase & { type: 'GlobalPooling1D'; mode: 'max' | 'avg'; channelsFirst?: boolean })
  | (LayerBase & { type: 'BatchNormalization'; axis: number; epsilon: number; center: boolean; scale: boolean })
  | (LayerBase & { type: 'LayerNormalization'; axis: number[]; epsilon: number; center: boolean; scale: boolean })
  | (LayerBase & { type: 'Activation'; activation: Activation })
  /** Dropout, SpatialDropout1D, GaussianNoise, GaussianDropout, ActivityRegularization: identity at inference. */
  | (LayerBase & { type: 'Identity' })
  | (LayerBase & { type: 'Merge'; mode: MergeKind; axis: number })
  | ExtraLayerSpec;

export type LayerType = LayerSpec['type'];

/** One parameter of a layer, in Keras layout. `name` is the Keras short name (kernel, recurrent_kernel, bias,
 * embeddings, gamma, ...). */
export interface ParamSpec {
  /** Key in ModelSpec.weights: `<layer>/<name>`, or `<layer>/forward/<name>` inside a Bidirectional. */
  key: string;
  name: string;
  shape: number[];
  trainable: boolean;
}

export type TensorId = number;

export interface TensorInfo {
  id: TensorId;
  /** Static shape including the batch dim (null). */
  shape: Shape;
  dtype: 'float32' | 'int32';
}

export interface GraphNode {
  /** Index into ModelSpec.layers. */
  layer: number;
  inputs: TensorId[];
  outputs: TensorId[];
}

export interface LossConfig {
  /** Canonical Keras function name: mse, mae, binary_crossentropy, ... */
  name: string;
  fromLogits: boolean;
  labelSmoothing: number;
}

export interface OptimizerConfig {
  className: string;
  config: Record<string, unknown>;
}

/**
 * Which program's numerics a model follows (docs/keras-versions.md). A TF.js model.json is 'tfjs' whatever Keras
 * the converter read, since TF.js runs it.
 */
export type WriterFamily = 'keras1' | 'keras2' | 'tf.keras' | 'keras3' | 'tfjs';

/** A Keras top-level layer (model.layers order) and the ModelSpec layer indices it became; a nested model spans
 * several. */
export interface WeightGroup {
  name: string;
  className: string;
  layers: number[];
}

/** The class a recurrent layer's cell was saved as (CuDNNLSTM, LSTM, ...) and its Keras 1 consume_less. */
export interface CellInfo {
  className: string;
  consumeLess: string | null;
}

/** How the file saved the weights: what loaders need, beyond the params, to pair stored arrays with them. */
export interface SavedLayout {
  /** Keras top-level layers with their ModelSpec layer indices (nested models are one stored layer). */
  groups: WeightGroup[];
  /** Per ModelSpec layer: the saved cell of each recurrent half (forward, backward); [] for other layers. */
  cells: CellInfo[][];
}

export interface ModelMeta {
  /** Which loader produced this model: "keras-v3", "keras-h5", "keras-h5-weights", "tfjs-layers", "config" */
  format: string;
  /** Writer's Keras version as recorded ("1" when a Keras 1 file records none). */
  kerasVersion: string;
  /** Decided once from kerasVersion and format when the model is built (model/versions.ts writerFamily); losses,
   * mask handling and the saved weight layout follow it. */
  writer: WriterFamily;
  /** Set by buildModel; a ModelSpec made by hand has none (then every layer is its own group, saved as its class). */
  saved?: SavedLayout;
  backend: string | null;
  /** Per-output losses from training_config / compile_config, when present. */
  loss: LossConfig[] | null;
  optimizer: OptimizerConfig | null;
  metrics: unknown;
  /** Source file(s) for messages. */
  source: string;
}

export interface ModelSpec {
  name: string;
  layers: LayerSpec[];
  /** Parameters per layer (same index as `layers`), in Keras weight order. */
  params: ParamSpec[][];
  nodes: GraphNode[];
  tensors: TensorInfo[];
  inputs: TensorId[];
  /** Input names (from the InputLayer names), same order as `inputs`. */
  inputNames: string[];
  outputs: TensorId[];
  outputNames: string[];
  /** Parameter values by ParamSpec.key. Absent until weights are bound. */
  weights: Map<string, NDArray>;
  meta: ModelMeta;
  /** Warnings met while building (stateful layers, ignored options); data, shown by the CLI and the report. */
  warnings: Warning[];
}

export interface Warning {
  code: string;
  message: string;
  count: number;
}

/** Add a warning, de-duplicating by message. */
export function warn(list: Warning[], code: string, message: string): void {
  const w = list.find((x) => x.message === message);
  if (w) w.count++;
  else list.push({ code, message, count: 1 });
}
