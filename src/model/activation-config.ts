// Activation as written in a config → Activation with every parameter resolved.
//
// Forms met in files:
//   "tanh", "hard_sigmoid", "linear", null            (every Keras: built-ins serialize to their name)
//   "hardSigmoid", "logSoftmax"                        (TF.js camelCase; tf.LayersModel.save snake-cases them)
//   {"module": "keras.activations", "class_name": "function", "config": "relu"}   (Keras 3 function envelope)
//   {"class_name": "ReLU", "config": {...}} and the other activation layers, whose options matter.
// The hard_sigmoid slope is the writer's (docs/keras-versions.md, 'hard_sigmoid'), passed in by the caller.

import type { Activation, ActivationName } from './types.js';
import { ModelError } from './errors.js';
import { isRecord, ownValue } from './keras-format.js';
import { msg } from './messages.js';

/** Accepted spellings (snake_case, underscores optional) → canonical name. */
const NAMES: Record<string, ActivationName> = {
  linear: 'linear',
  none: 'linear',
  identity: 'linear',
  relu: 'relu',
  sigmoid: 'sigmoid',
  hard_sigmoid: 'hard_sigmoid',
  tanh: 'tanh',
  softmax: 'softmax',
  log_softmax: 'log_softmax',
  elu: 'elu',
  selu: 'selu',
  softplus: 'softplus',
  softsign: 'softsign',
  swish: 'swish',
  silu: 'swish',
  gelu: 'gelu',
  gelu_new: 'gelu',
  exponential: 'exponential',
  leaky_relu: 'leaky_relu',
  relu6: 'relu6',
  hard_swish: 'hard_swish',
  hard_silu: 'hard_swish',
  mish: 'mish',
};

export const SUPPORTED_ACTIVATIONS: readonly string[] = Object.keys(NAMES).filter(
  (k) => k !== 'identity' && k !== 'none',
);

export interface ActivationOptions {
  /** 0.2 (Keras 1/2, tf.keras, TF.js) or 1/6 (Keras 3). */
  hardSigmoidSlope: number;
  /** For messages: "layer 'dense' (Dense)". */
  where?: string;
}

function snake(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function num(v: unknown, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}

function fromName(raw: string, opts: ActivationOptions): Activation {
  // A dotted path ("keras.activations.relu") names the function by its last part.
  const key = snake(raw.slice(raw.lastIndexOf('.') + 1));
  if (key === '') return { name: 'linear' };
  const name = ownValue(NAMES, key) ?? ownValue(NAMES, key.replace(/_/g, ''));
  if (name === undefined)
    throw new ModelError(msg.unknownActivation(`'${raw}'`, SUPPORTED_ACTIVATIONS, opts.where ?? ''));
  switch (name) {
    case 'hard_sigmoid':
      return { name, hardSigmoidSlope: opts.hardSigmoidSlope };
    // Keras 3 hard_silu(x) = x·relu6(x + 3)/6 (keras/src/activations/activations.py); only Keras 3 has it.
    case 'hard_swish':
      return { name, hardSigmoidSlope: 1 / 6 };
    // Keras 3 activations.leaky_relu(x, negative_slope=0.2); tf.nn.leaky_relu alpha=0.2.
    case 'leaky_relu':
      return { name, negativeSlope: 0.2 };
    case 'relu':
      return { name, negativeSlope: 0, maxValue: null, threshold: 0 };
    case 'elu':
      return { name, alpha: 1 };
    // activations.gelu(x, approximate=False) in Keras 3 and tf.keras; TF.js "gelu_new" is the tanh form.
    case 'gelu':
      return { name, approximate: key === 'gelu_new' };
    case 'softmax':
    case 'log_softmax':
      return { name, axis: -1 };
    default:
      return { name };
  }
}

/** Parse a config's activation value (string, null, function envelope or activation-layer object). */
export function parseActivationConfig(value: unknown, opts: ActivationOptions): Activation {
  if (value === null || value === undefined) return { name: 'linear' };
  if (typeof value === 'string') return fromName(value, opts);
  if (!isRecord(value))
    throw new ModelError(
      msg.unknownActivation(JSON.stringify(value) ?? String(value), SUPPORTED_ACTIVATIONS, opts.where ?? ''),
    );
  const cls = value['class_name'] ?? value['className'];
  const cfgRaw = value['config'];
  const cfg = isRecord(cfgRaw) ? cfgRaw : {};
  if (typeof cls !== 'string')
    throw new ModelError(msg.unknownActivation(JSON.stringify(value), SUPPORTED_ACTIVATIONS, opts.where ?? ''));
  if (cls === 'function' && typeof cfgRaw === 'string') return fromName(cfgRaw, opts);
  return activationLayer(cls, cfg, opts) ?? fromName(cls, opts);
}

/**
 * Activation layers whose config carries the function's options (Keras 2/3, TF.js):
 * ReLU(max_value=None, negative_slope=0, threshold=0), LeakyReLU(alpha | negative_slope = 0.3),
 * ELU(alpha=1), Softmax(axis=-1), ThresholdedReLU(theta=1) = relu with threshold θ.
 * Returns null for any other class.
 */
export function activationLayer(cls: string, cfg: Record<string, unknown>, opts: ActivationOptions): Activation | null {
  switch (cls) {
    case 'Activation':
      return parseActivationConfig(cfg['activation'], opts);
    case 'ReLU': {
      const mv = cfg['max_value'];
      return {
        name: 'relu',
        maxValue: typeof mv === 'number' ? mv : null,
        negativeSlope: num(cfg['negative_slope'], 0),
        threshold: num(cfg['threshold'], 0),
      };
    }
    case 'LeakyReLU':
      // Layer default 0.3 everywhere; Keras 3 calls it negative_slope, Keras 1/2/tf.keras/TF.js alpha.
      return { name: 'leaky_relu', negativeSlope: num(cfg['negative_slope'] ?? cfg['alpha'], 0.3) };
    case 'ELU':
      return { name: 'elu', alpha: num(cfg['alpha'], 1) };
    case 'Softmax': {
      const axis = Array.isArray(cfg['axis']) && cfg['axis'].length === 1 ? cfg['axis'][0] : cfg['axis'];
      return { name: 'softmax', axis: typeof axis === 'number' ? axis : -1 };
    }
    case 'ThresholdedReLU':
      return { name: 'relu', maxValue: null, negativeSlope: 0, threshold: num(cfg['theta'], 1) };
    default:
      return null;
  }
}
