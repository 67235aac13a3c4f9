// One layer entry of a model config → LayerSpec (types.ts), for every layer
// class rnnscope rebuilds, in the spellings of Keras 1 (Convolution1D,
// output_dim, border_mode, pool_length, Merge), Keras 2 / tf.keras, Keras 3 and
// TF.js. Fields that depend on the incoming tensor (an RNN's input_dim, kernel
// shapes) are filled when the layer is first called (shapes.ts).
// Recurrent layers and Bidirectional are parsed in recurrent-config.ts.

import type { Activation, CellInfo, LayerSpec, MergeKind, Padding, Shape } from './types.js';
import { warn } from './types.js';
import { ModelError } from './errors.js';
import { ConfigReader, readShape, type BuildContext } from './config-reader.js';
import { activationLayer, parseActivationConfig } from './activation-config.js';
import { isRecurrentClass, parseBidirectional, parseRecurrent } from './recurrent-config.js';
import { isRecord, ownValue } from './keras-format.js';
import { msg } from './messages.js';
import { parseExtraLayer } from './extra-config.js';

export type { CellInfo } from './types.js';

export interface ParsedLayer {
  spec: LayerSpec;
  trainable: boolean;
  /** Input shape written on the layer itself (batch_input_shape, batch_shape, Keras 1 input_dim / input_length), batch
   * dim included. */
  inputHint: Shape | null;
  inputDtype: 'float32' | 'int32';
  /** Per recurrent sub-layer (forward, backward): the class that ran it and Keras 1 consume_less, for the saved weight
   * layout. */
  cells: CellInfo[];
}

/** Keras layer classes that exist but that rnnscope does not rebuild (a different message from custom classes). */
const KNOWN_KERAS = new Set([
  'Conv2D',
  'Conv3D',
  'Conv2DTranspose',
  'Conv3DTranspose',
  'Conv1DTranspose',
  'SeparableConv1D',
  'SeparableConv2D',
  'DepthwiseConv1D',
  'DepthwiseConv2D',
  'Convolution2D',
  'Convolution3D',
  'Deconvolution2D',
  'AtrousConvolution2D',
  'MaxPooling2D',
  'MaxPooling3D',
  'AveragePooling2D',
  'AveragePooling3D',
  'MaxPool2D',
  'AvgPool2D',
  'GlobalMaxPooling2D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling3D',
  'GlobalAveragePooling3D',
  'UpSampling1D',
  'UpSampling2D',
  'UpSampling3D',
  'ZeroPadding1D',
  'ZeroPadding2D',
  'ZeroPadding3D',
  'Cropping1D',
  'Cropping2D',
  'Cropping3D',
  'ConvLSTM1D',
  'ConvLSTM2D',
  'ConvLSTM3D',
  'ConvRNN2D',
  'Attention',
  'AdditiveAttention',
  'MultiHeadAttention',
  'GroupQueryAttention',
  'Dot',
  'Merge',
  'PReLU',
  'Highway',
  'MaxoutDense',
  'LocallyConnected1D',
  'LocallyConnected2D',
  'EinsumDense',
  'GroupNormalization',
  'UnitNormalization',
  'SpectralNormalization',
  'Normalization',
  'Discretization',
  'TextVectorization',
  'StringLookup',
  'IntegerLookup',
  'CategoryEncoding',
  'Hashing',
  'HashedCrossing',
  'SpatialDropout2D',
  'SpatialDropout3D',
  'CuDNNRNN',
  'StackedRNNCells',
  'PeepholeLSTMCell',
  'AbstractRNNCell',
  'Wrapper',
  'Rescaling',
  'Resizing',
  'CenterCrop',
  'RandomFlip',
  'RandomRotation',
  'RandomZoom',
  'RandomCrop',
  'Cropping',
  'TorchModuleWrapper',
  'JaxLayer',
  'FlaxLayer',
  'Embedding2D',
  'Pipeline',
]);

const LAMBDA_CLASSES = new Set(['Lambda', 'TFOpLambda', 'SlicingOpLambda', 'KerasLayer']);

const IDENTITY = new Set([
  'Dropout',
  'SpatialDropout1D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'ActivityRegularization',
  'Identity',
]);

const MERGES: Record<string, MergeKind> = {
  Concatenate: 'Concatenate',
  Add: 'Add',
  Subtract: 'Subtract',
  Multiply: 'Multiply',
  Average: 'Average',
  Maximum: 'Maximum',
  Minimum: 'Minimum',
};

/** Keras 1 Merge modes that have a Keras 2 layer (Keras 1.2.2 keras/engine/topology.py Merge;
 * docs/keras-versions.md, 'Defaults by version'). */
const KERAS1_MERGE: Record<string, MergeKind> = {
  sum: 'Add',
  mul: 'Multiply',
  concat: 'Concatenate',
  ave: 'Average',
  max: 'Maximum',
};

/** Quantized Keras 3 dtype policies store integer weights with scales (docs/formats.md, 'Serialized objects'). */
const QUANTIZED = /int8|int4|float8|gptq|awq|quantiz/i;

function dtypeOf(v: unknown): 'float32' | 'int32' {
  return typeof v === 'string' && /int/.test(v) ? 'int32' : 'float32';
}

/** Warn for float16/bfloat16/float64 policies, refuse quantized ones. */
function checkPolicy(name: string, cls: string, raw: Record<string, unknown>, ctx: BuildContext): void {
  const d = raw['dtype'];
  let policy: string | null = null;
  let policyCls = '';
  if (typeof d === 'string') policy = d;
  else if (isRecord(d)) {
    policyCls = typeof d['class_name'] === 'string' ? d['class_name'] : '';
    const c = d['config'];
    policy = isRecord(c) && typeof c['name'] === 'string' ? c['name'] : policyCls;
  }
  if (policy === null) return;
  if (QUANTIZED.test(policyCls) || QUANTIZED.test(policy)) throw new ModelError(msg.quantizedPolicy(name, cls, policy));
  // Decision: mixed_float16 / float16 / bfloat16 / float64 are run anyway, with a warning: the weights
  // are floats, only the rounding of Keras's computation differs from ours.
  // An integer dtype on a layer (Keras 1/2 Embedding configs) only names what its input is cast to.
  if (policy !== 'float32' && !/^(u?int|bool)/.test(policy))
    warn(ctx.warnings, 'dtype-policy', msg.warnDtypePolicy(name, policy));
}

/** The input shape a layer config records for itself (Keras 2/3 and TF.js spell it three ways, Keras 1 a fourth). */
function inputHint(cls: string, r: ConfigReader): Shape | null {
  const batch = readShape(r.raw['batch_shape']) ?? readShape(r.raw['batch_input_shape']);
  // Keras note: a fixed batch size (batch_input_shape [25, 1, 1]) is dropped: the engine runs any batch.
  if (batch) return [null, ...batch.slice(1)];
  const inp = readShape(r.raw['input_shape']);
  if (inp) return [null, ...inp];
  const dim = r.raw['input_dim'];
  const len = r.raw['input_length'];
  if (cls === 'Embedding') return typeof len === 'number' ? [null, len] : null;
  if (typeof dim !== 'number') return null;
  // Keras 1: input_dim (+ input_length) on the first layer stands for input_shape.
  if (cls === 'Dense') return [null, dim];
  return [null, typeof len === 'number' ? len : null, dim];
}

function activation(r: ConfigReader, ctx: BuildContext, key = 'activation'): Activation {
  return parseActivationConfig(r.raw[key] ?? 'linear', {
    hardSigmoidSlope: ctx.writer.hardSigmoidSlope,
    where: `layer '${r.name}' (${r.cls})`,
  });
}

function padding(r: ConfigReader, allowed: readonly string[]): Padding {
  const p = r.str(['padding', 'border_mode'], 'valid');
  if (!allowed.includes(p)) throw r.unsupported(r.has('padding') ? 'padding' : 'border_mode', allowed.join(', '));
  return p as Padding;
}

function channelsLast(r: ConfigReader): void {
  r.only('data_format', ['channels_last'], 'data_format=channels_last');
  r.only('dim_ordering', ['tf', 'default'], "dim_ordering='tf' (channels last)");
}

function denseSpec(r: ConfigReader, ctx: BuildContext): LayerSpec {
  if (r.has('lora_rank') && r.raw['lora_rank'] !== 0)
    throw r.unsupported('lora_rank', 'Dense without LoRA (merge the LoRA weights and re-save)');
  return {
    name: r.name,
    className: r.cls,
    type: 'Dense',
    units: r.int1(['units', 'output_dim']),
    activation: activation(r, ctx),
    useBias: r.bool(['use_bias', 'bias'], true),
  };
}

/** Parse one non-model layer entry. `name` is the layer name, `cls` its class_name, `raw` its config. */
export function parseLayer(
  name: string,
  cls: string,
  raw: Record<string, unknown>,
  ctx: BuildContext,
  registeredName?: string | null,
): ParsedLayer {
  const r = new ConfigReader(name, cls, raw);
  const base = { name, className: cls };
  const done = (spec: LayerSpec, cells: CellInfo[] = []): ParsedLayer => ({
    spec,
    trainable: r.bool('trainable', true),
    inputHint: inputHint(cls, r),
    inputDtype: dtypeOf(raw['input_dtype'] ?? raw['dtype']),
    cells,
  });
  if (cls !== 'InputLayer') checkPolicy(name, cls, raw, ctx);

  if (cls === 'InputLayer') {
    if (r.bool('sparse', false)) throw r.unsupported('sparse', 'dense inputs');
    if (r.bool('ragged', false)) throw r.unsupported('ragged', 'dense (padded) inputs');
    const shape = inputHint(cls, r);
    if (!shape) throw r.bad('batch_shape', 'the input shape (batch_shape, batch_input_shape or input_shape)');
    const dtype = dtypeOf(raw['dtype'] ?? raw['input_dtype']);
    return {
      spec: { ...base, type: 'InputLayer', shape, dtype },
      trainable: false,
      inputHint: shape,
      inputDtype: dtype,
      cells: [],
    };
  }
  if (isRecurrentClass(cls)) {
    const p = parseRecurrent(name, cls, raw, ctx);
    return done({ ...base, type: 'Recurrent', rnn: p.rnn }, [p]);
  }
  if (cls === 'Bidirectional') {
    const p = parseBidirectional(name, raw, ctx);
    const parsed = done(
      {
        ...base,
        type: 'Bidirectional',
        forward: p.forward.rnn,
        backward: p.backward.rnn,
        mergeMode: p.mergeMode,
        forwardName: p.forwardName,
        backwardName: p.backwardName,
      },
      [p.forward, p.backward],
    );
    // The input shape may sit on the wrapper (corpus w_chen_ecg_bilstm_autoencoder) or on the inner layer.
    parsed.inputHint ??= inputHint(
      String((raw['layer'] as Record<string, unknown>)['class_name']),
      new ConfigReader(name, cls, p.innerConfig),
    );
    return parsed;
  }
  const extra = parseExtraLayer(name, cls, raw, ctx, parseLayer, registeredName);
  if (extra) {
    const parsed = done(extra.spec);
    if (extra.innerHint) parsed.inputHint ??= extra.innerHint;
    return parsed;
  }
  switch (cls) {
    case 'Dense':
      return done(denseSpec(r, ctx));
    case 'TimeDistributedDense': // Keras 1: Dense applied at every step, weights W (input_dim, output_dim), b.
      return done({ ...base, type: 'TimeDistributed', inner: { ...denseSpec(r, ctx), name, className: 'Dense' } });
    case 'Embedding':
      if (r.has('lora_rank') && raw['lora_rank'] !== 0)
        throw r.unsupported('lora_rank', 'Embedding without LoRA (merge the LoRA weights and re-save)');
      return done({
        ...base,
        type: 'Embedding',
        inputDim: r.int1('input_dim'),
        outputDim: r.int1('output_dim'),
        maskZero: r.bool('mask_zero', false),
      });
    case 'Masking':
      return done({ ...base, type: 'Masking', maskValue: r.num('mask_value', 0) });
    case 'RepeatVector':
      return done({ ...base, type: 'RepeatVector', n: r.int1('n') });
    case 'Flatten':
      channelsLast(r);
      return done({ ...base, type: 'Flatten' });
    case 'Reshape': {
      const t = r.intList('target_shape');
      if (t.filter((d) => d === -1).length > 1 || t.some((d) => d < -1 || d === 0))
        throw r.bad('target_shape', 'positive sizes and at most one -1');
      return done({ ...base, type: 'Reshape', targetShape: t });
    }
    case 'Permute': {
      const dims = r.intList('dims');
      const sorted = [...dims].sort((a, b) => a - b);
      if (!sorted.every((d, i) => d === i + 1)) throw r.bad('dims', `a permutation of 1..${dims.length}`);
      return done({ ...base, type: 'Permute', dims });
    }
    case 'Conv1D':
    case 'Convolution1D':
    case 'AtrousConvolution1D': {
      channelsLast(r);
      if (r.has('groups') && r.raw['groups'] !== 1) throw r.unsupported('groups', 'groups=1');
      if (r.has('lora_rank') && raw['lora_rank'] !== 0) throw r.unsupported('lora_rank', 'Conv1D without LoRA');
      return done({
        ...base,
        type: 'Conv1D',
        filters: r.int1(['filters', 'nb_filter']),
        kernelSize: r.int1(['kernel_size', 'filter_length']),
        strides: r.int1(['strides', 'subsample_length'], 1),
        padding: padding(r, ['valid', 'same', 'causal']),
        dilationRate: r.int1(['dilation_rate', 'atrous_rate'], 1),
        activation: activation(r, ctx),
        useBias: r.bool(['use_bias', 'bias'], true),
      });
    }
    case 'MaxPooling1D':
    case 'MaxPool1D':
    case 'AveragePooling1D':
    case 'AvgPool1D': {
      channelsLast(r);
      const poolSize = r.int1(['pool_size', 'pool_length'], 2);
      return done({
        ...base,
        type: 'Pooling1D',
        mode: cls.startsWith('Max') ? 'max' : 'avg',
        poolSize,
        // strides=None means strides=pool_size (Keras 1 `stride` likewise).
        strides: r.int1(['strides', 'stride'], poolSize),
        padding: padding(r, ['valid', 'same']) as 'valid' | 'same',
      });
    }
    case 'GlobalMaxPooling1D':
    case 'GlobalMaxPool1D':
    case 'GlobalAveragePooling1D':
    case 'GlobalAvgPool1D': {
      // channels_first reduces the last axis (the Keras time-series Transformer example pools so).
      r.only('data_format', ['channels_last', 'channels_first'], 'data_format=channels_last or channels_first');
      r.only('dim_ordering', ['tf', 'default'], "dim_ordering='tf' (channels last)");
      if (r.bool('keepdims', false)) throw r.unsupported('keepdims', 'keepdims=false');
      const mode = cls.startsWith('GlobalMax') ? 'max' : 'avg';
      const channelsFirst = r.raw['data_format'] === 'channels_first';
      return done({ ...base, type: 'GlobalPooling1D', mode, ...(channelsFirst ? { channelsFirst } : {}) });
    }
    case 'BatchNormalization': {
      // Keras 1 modes 1 and 2 normalise with batch statistics even at inference.
      r.only('mode', [0], 'mode=0 (feature-wise, moving statistics at inference)');
      if (r.bool('renorm', false)) throw r.unsupported('renorm', 'renorm=false');
      let axis = raw['axis'] ?? -1;
      if (Array.isArray(axis)) {
        if (axis.length !== 1) throw r.unsupported('axis', 'one axis');
        axis = axis[0];
      }
      if (typeof axis !== 'number' || !Number.isInteger(axis)) throw r.bad('axis', 'an integer');
      return done({
        ...base,
        type: 'BatchNormalization',
        axis,
        epsilon: r.num('epsilon', 1e-3),
        center: r.bool('center', true),
        scale: r.bool('scale', true),
      });
    }
    case 'LayerNormalization': {
      if (r.bool('rms_scaling', false)) throw r.unsupported('rms_scaling', 'rms_scaling=false');
      const a = raw['axis'] ?? -1;
      const axis = Array.isArray(a) ? a : [a];
      if (axis.length === 0 || !axis.every((x) => typeof x === 'number' && Number.isInteger(x)))
        throw r.bad('axis', 'an integer or a list of integers');
      return done({
        ...base,
        type: 'LayerNormalization',
        axis: axis as number[],
        epsilon: r.num('epsilon', 1e-3),
        center: r.bool('center', true),
        scale: r.bool('scale', true),
      });
    }
    case 'Concatenate':
      return done({ ...base, type: 'Merge', mode: 'Concatenate', axis: r.int('axis', -1) });
    case 'Merge':
      return done({ ...base, type: 'Merge', ...keras1Merge(r) });
  }
  if (Object.hasOwn(MERGES, cls)) return done({ ...base, type: 'Merge', mode: MERGES[cls]!, axis: -1 });
  if (IDENTITY.has(cls)) return done({ ...base, type: 'Identity' }); // identity at inference
  const act = activationLayer(cls, raw, {
    hardSigmoidSlope: ctx.writer.hardSigmoidSlope,
    where: `layer '${name}' (${cls})`,
  });
  if (act) return done({ ...base, type: 'Activation', activation: act });
  if (LAMBDA_CLASSES.has(cls)) throw new ModelError(msg.lambdaLayer(name, cls));
  // A registered_name "Package>Name" or a module outside keras marks a custom class (docs/formats.md,
  // 'Serialized objects').
  if (KNOWN_KERAS.has(cls) && !registeredName?.includes('>')) throw new ModelError(msg.unsupportedLayer(name, cls));
  throw new ModelError(msg.customLayer(name, cls));
}

/** Keras 1 `Merge` layer (functional form). */
function keras1Merge(r: ConfigReader): { mode: MergeKind; axis: number } {
  if (Array.isArray(r.raw['layers']) && r.raw['layers'].length > 0)
    throw new ModelError(msg.keras1MergeBranches(r.name));
  if (r.raw['mode_type'] === 'lambda' || (r.has('mode') && typeof r.raw['mode'] !== 'string'))
    throw new ModelError(msg.lambdaLayer(r.name, 'Merge'));
  const mode = r.str('mode', 'sum');
  const kind = ownValue(KERAS1_MERGE, mode);
  if (!kind) throw new ModelError(msg.keras1Merge(r.name, mode));
  return { mode: kind, axis: kind === 'Concatenate' ? r.int('concat_axis', -1) : -1 };
}
