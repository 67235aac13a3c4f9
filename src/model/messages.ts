// Every message the model stage shows, in one place so tests assert exact text.
// Each is one sentence: what was found, what was expected, what to do.

import { fmtShape } from './errors.js';
import { cellClassNames } from '../engine/cells/index.js';

/** The recurrent layer and cell classes of the registered cells (engine/cells). */
const RNN_CLASSES = cellClassNames();

/** Keras class names rnnscope rebuilds (aliases included), for "supported: …" lists. */
export const SUPPORTED_LAYERS: readonly string[] = [
  'InputLayer',
  'Dense',
  'Embedding',
  'Masking',
  ...RNN_CLASSES.primary,
  ...RNN_CLASSES.layers.filter((c) => !RNN_CLASSES.primary.includes(c)),
  `RNN(${RNN_CLASSES.cells.join('|')})`,
  'Bidirectional',
  'TimeDistributed',
  'RepeatVector',
  'Flatten',
  'Reshape',
  'Permute',
  'Conv1D',
  'MaxPooling1D',
  'AveragePooling1D',
  'GlobalMaxPooling1D',
  'GlobalAveragePooling1D',
  'Conv2D',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalMaxPooling2D',
  'GlobalAveragePooling2D',
  'ZeroPadding2D',
  'SpatialDropout2D',
  'Conv3D',
  'MaxPooling3D',
  'AveragePooling3D',
  'GlobalMaxPooling3D',
  'GlobalAveragePooling3D',
  'SpatialDropout3D',
  'Attention',
  'AdditiveAttention',
  'MultiHeadAttention',
  'Dot',
  'CRF (keras_contrib)',
  'BatchNormalization',
  'LayerNormalization',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'Softmax',
  'ThresholdedReLU',
  'Dropout',
  'SpatialDropout1D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'ActivityRegularization',
  'Concatenate',
  'Add',
  'Subtract',
  'Multiply',
  'Average',
  'Maximum',
  'Minimum',
  'Sequential',
  'Functional',
];

const q = (s: unknown): string => `'${String(s)}'`;
const who = (name: string, cls: string): string => `Layer '${name}' (${cls})`;
const list = (xs: readonly (string | number)[]): string => `[${xs.join(',')}]`;
const orList = (xs: readonly string[]): string =>
  xs.length > 1 ? `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}` : xs.join('');

export const msg = {
  badKerasVersion: (v: string): string =>
    `Keras version ${q(v)} is not recognised; expected a version such as 1.2.2, 2.1.3, 2.13.1, 3.10.0 or 'tfjs-layers 4.22.0'; pass the writer's version from the file's keras_version.`,

  notAModelConfig: (what: string): string =>
    `The model config is ${what}; expected a {class_name, config} object for Sequential, Functional or Model (or a Keras 1 list of layers); check that the file holds a Keras model architecture.`,

  malformedConfig: (detail: string): string =>
    `The model config could not be read (${detail}); expected a Keras model config as Keras writes it; the file may be damaged or edited by hand.`,

  unsupportedModelClass: (cls: string): string =>
    `The model class ${q(cls)} is not supported; expected Sequential, Functional or Model; re-save the model as a Sequential or functional Keras model.`,

  lambdaLayer: (name: string, cls: string): string =>
    `${who(name, cls)} holds Python code that cannot run here; replace it with built-in layers (supported: ${SUPPORTED_LAYERS.join(', ')}) and re-save the model.`,

  customLayer: (name: string, cls: string): string =>
    `${who(name, cls)} is not a Keras layer; it is a class defined in Python outside Keras (by the project that saved the model or a library it used) and the file holds its configuration but not its code, so rnnscope cannot rebuild it; replace it with built-in layers (supported: ${SUPPORTED_LAYERS.join(', ')}).`,

  libraryLayer: (name: string, cls: string, library: string): string =>
    `${who(name, cls)} comes from the ${library} library, whose code is not in the file, so rnnscope cannot rebuild it; rnnscope rebuilds Keras's own layers and keras_contrib's CRF (supported: ${SUPPORTED_LAYERS.join(', ')}); replace it with built-in layers, or ask for support naming the library.`,

  blockers: (problems: readonly string[]): string =>
    `The model has ${problems.length} layers rnnscope cannot rebuild: ${problems.join('; ')}; replace or remove each of them (supported: ${SUPPORTED_LAYERS.join(', ')}), then re-save the model.`,

  unsupportedLayer: (name: string, cls: string): string =>
    `${who(name, cls)} is not supported by rnnscope; supported layers are ${SUPPORTED_LAYERS.join(', ')}; remove it or ask for support.`,

  unsupportedOption: (name: string, cls: string, option: string, value: unknown, supported: string): string =>
    `${who(name, cls)} has ${option}=${JSON.stringify(value)}; rnnscope supports ${supported}; re-save the model without this option.`,

  badOption: (name: string, cls: string, option: string, value: unknown, expected: string): string =>
    `${who(name, cls)} has ${option}=${JSON.stringify(value) ?? 'undefined'}; expected ${expected}; the config is damaged or from an unknown writer.`,

  timeDistributedInner: (name: string, inner: string): string =>
    `Layer '${name}' (TimeDistributed) wraps ${inner}; rnnscope runs TimeDistributed around one single-input, non-recurrent layer (Dense, Conv1D, Conv2D, pooling, Flatten, BatchNormalization, Dropout, …); a recurrent layer inside TimeDistributed cannot be analysed yet, ask for support with this model.`,

  bidiInner: (name: string, inner: string): string =>
    `Layer '${name}' (Bidirectional) wraps ${inner}; rnnscope supports Bidirectional around ${RNN_CLASSES.dense.join(', ')} or RNN(cell) only; re-save the model with a recurrent layer inside.`,

  customCell: (name: string, cls: string, cell: string): string =>
    `${who(name, cls)} runs the cell ${q(cell)}; rnnscope supports RNN with one ${orList(RNN_CLASSES.cells)}; use the ${orList(RNN_CLASSES.dense)} layer instead.`,

  keras1Merge: (name: string, mode: string): string =>
    `Layer '${name}' (Merge) has mode=${JSON.stringify(mode)}; rnnscope maps the Keras 1 modes sum, mul, concat, ave and max only; rebuild the merge with Add, Multiply, Concatenate, Average or Maximum.`,

  keras1MergeBranches: (name: string): string =>
    `Layer '${name}' (Merge) merges sub-models inside a Keras 1 Sequential; rnnscope supports Merge only in functional models; rebuild the model with the functional API.`,

  quantizedPolicy: (name: string, cls: string, policy: string): string =>
    `${who(name, cls)} uses the quantized dtype policy ${q(policy)}; rnnscope supports float weights only; save the model before quantizing it.`,

  unknownActivation: (value: string, supported: readonly string[], where: string): string =>
    `Activation ${value}${where ? ` of ${where}` : ''} is not supported; expected one of ${supported.join(', ')}; use a built-in activation.`,

  // ---- graph ----------------------------------------------------------------
  noInputShape: (model: string): string =>
    `Sequential model '${model}' records no input shape; expected an InputLayer or batch_input_shape on its first layer; re-save the model after building it (call it on data or give it an Input).`,

  unknownInbound: (layer: string, ref: string): string =>
    `Layer '${layer}' takes its input from ${ref}, which is not in the model; the config is damaged or incomplete; re-save the model.`,

  graphCycle: (layers: readonly string[]): string =>
    `The layers ${layers.map(q).join(', ')} cannot be connected (their inputs are never produced); expected a directed acyclic graph; re-save the model.`,

  unsupportedCallArg: (layer: string, arg: string): string =>
    `Layer '${layer}' is called with the tensor argument ${q(arg)}; rnnscope supports tensors passed as inputs and initial_state only; rebuild the model without it.`,

  constantInput: (layer: string): string =>
    `Layer '${layer}' is called on a constant value stored in the config; rnnscope supports layer inputs that are model tensors only; rebuild the model with an Input for it.`,

  sequentialMultiOutput: (model: string, layer: string, n: number): string =>
    `Layer '${layer}' in Sequential model '${model}' returns ${n} tensors; a Sequential layer must return one tensor; use the functional API for return_state or merge_mode=None.`,

  nestedInputCount: (model: string, got: number, expected: number): string =>
    `Nested model '${model}' is called on ${got} tensors; it has ${expected} inputs; the config is damaged.`,

  inputShapeMismatch: (layer: string, got: readonly (number | null)[], expected: readonly (number | null)[]): string =>
    `Layer '${layer}' receives shape ${fmtShape(got)}; expected ${fmtShape(expected)}; the config is inconsistent; re-save the model.`,

  badRank: (layer: string, cls: string, got: readonly (number | null)[], expected: string): string =>
    `${who(layer, cls)} receives shape ${fmtShape(got)}; expected ${expected}; the config is inconsistent; re-save the model.`,

  unknownDim: (layer: string, cls: string, got: readonly (number | null)[], what: string): string =>
    `${who(layer, cls)} receives shape ${fmtShape(got)} whose ${what} is unknown; rnnscope needs it to size the weights; give the model a fixed input shape.`,

  mergeShapes: (layer: string, cls: string, shapes: readonly (readonly (number | null)[])[]): string =>
    `${who(layer, cls)} receives shapes ${shapes.map((s) => fmtShape(s)).join(' and ')}; expected ${cls === 'Concatenate' ? 'equal shapes except on the concatenation axis' : 'equal shapes'}; rnnscope does not broadcast merge inputs; reshape the inputs to match.`,

  mergeCount: (layer: string, cls: string, n: number, expected: string): string =>
    `${who(layer, cls)} receives ${n} input${n === 1 ? '' : 's'}; expected ${expected}; the config is inconsistent; re-save the model.`,

  reshapeSize: (layer: string, from: readonly (number | null)[], target: readonly number[]): string =>
    `Layer '${layer}' (Reshape) cannot reshape ${fmtShape(from)} to target_shape ${list(target)}; expected the same number of elements; the config is inconsistent.`,

  bidiConv: (layer: string, cls: string): string =>
    `${who(layer, cls)} wraps a convolutional recurrent layer (ConvLSTM); rnnscope runs ConvLSTM layers on their own but not inside Bidirectional; analyse a model without the Bidirectional wrapper.`,

  sharedLayerMismatch: (layer: string, first: readonly (number | null)[], now: readonly (number | null)[]): string =>
    `Shared layer '${layer}' is called on ${fmtShape(now)} after being built on ${fmtShape(first)}; expected the same feature sizes on every call; the config is inconsistent.`,

  initialStateCount: (layer: string, got: number, expected: number): string =>
    `Layer '${layer}' receives ${got} initial state tensors; expected ${expected}; the config is inconsistent; re-save the model.`,

  // ---- weights ----------------------------------------------------------------
  weightShape: (key: string, got: readonly number[], expected: readonly number[], hint: string): string =>
    `Weight '${key}' has shape ${list(got)}; expected ${list(expected)}${hint ? ` (${hint})` : ''}.`,

  weightCount: (layer: string, cls: string, got: number, expected: string): string =>
    `${who(layer, cls)} has ${got} weight array${got === 1 ? '' : 's'} in the file; expected ${expected}; check that the weights file belongs to this architecture.`,

  weightDataLength: (key: string, got: number, shape: readonly number[]): string =>
    `Weight '${key}' has ${got} values for shape ${list(shape)}; expected ${shape.reduce((a, b) => a * b, 1)}; the weights file is damaged.`,

  nonFinite: (key: string, count: number, total: number): string =>
    `Weight '${key}' holds ${count} non-finite value${count === 1 ? '' : 's'} (NaN or Inf) out of ${total}; expected finite numbers; the model diverged in training or the file is damaged.`,

  cudnnGruToResetBefore: (key: string): string =>
    `Weight '${key}' comes from a CuDNNGRU (bias of 6 × units); it cannot run as GRU(reset_after=false); set reset_after=True in the layer config.`,

  missingWeights: (model: string, missing: readonly string[]): string =>
    `Model '${model}' has no values for ${missing.length} weight${missing.length === 1 ? '' : 's'}: ${missing.slice(0, 12).join(', ')}${missing.length > 12 ? ', …' : ''}; expected every parameter in the weights file; check that the weights file belongs to this architecture.`,

  noSuchLayer: (index: number, n: number): string =>
    `Layer index ${index} is out of range; the model has ${n} layers; this is a bug in the caller.`,

  // ---- warnings ---------------------------------------------------------------
  warnStateful: (layer: string): string =>
    `Layer '${layer}' is stateful; rnnscope starts every batch from a zero state, while Keras would carry the state over from the previous batch.`,

  warnDtypePolicy: (layer: string, policy: string): string =>
    `Layer '${layer}' uses dtype policy '${policy}'; rnnscope computes in float32/float64, so results differ from Keras by the rounding of that policy.`,

  warnUnknownLoss: (loss: string): string =>
    `Loss '${loss}' is not a built-in Keras loss; it is kept by name, and gradients of the loss need a built-in one (choose it with --loss).`,

  warnLossReduction: (loss: string, reduction: string): string =>
    `Loss '${loss}' uses reduction '${reduction}'; rnnscope uses Keras's default sum_over_batch_size.`,

  warnTfjsBackwardLayer: (layer: string): string =>
    `Layer '${layer}' (Bidirectional) has a backward_layer; TF.js ignores it and rebuilds the backward half from the forward config, and so does rnnscope for this tfjs-layers file.`,
};
