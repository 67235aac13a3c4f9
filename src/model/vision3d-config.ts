// Config parsing and shapes of the 3-D layers around ConvLSTM models (the classic next-frame model ends in
// Conv3D; video classifiers pool with MaxPooling3D): Conv3D, MaxPooling3D / AveragePooling3D,
// GlobalMax/GlobalAveragePooling3D, in the spellings of Keras 2 / tf.keras, Keras 3 and TF.js
// (Keras 1's Convolution3D kernel_dim1..3 too). channels_last only. Input (batch, d1, d2, d3, channels).

import type { Activation, LayerSpec, Shape } from './types.js';
import type { Triple } from './types-extra.js';
import type { ConfigReader, BuildContext } from './config-reader.js';
import { parseActivationConfig } from './activation-config.js';
import { convLength } from './shape-math.js';
import { ModelError } from './errors.js';
import { msg } from './messages.js';

/** An (a, b, c) tuple written as n, [n] or [a, b, c]. */
function triple(r: ConfigReader, key: string, dflt: Triple | null): Triple {
  const v = r.raw[key];
  if (v === undefined || v === null) {
    if (dflt === null) throw r.bad(key, 'an integer or three integers');
    return dflt;
  }
  const a = typeof v === 'number' ? [v, v, v] : Array.isArray(v) && v.length === 1 ? [v[0], v[0], v[0]] : v;
  if (Array.isArray(a) && a.length === 3 && a.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 1))
    return a as Triple;
  throw r.bad(key, 'an integer ≥ 1 or three of them');
}

function channelsLast(r: ConfigReader): void {
  r.only('data_format', ['channels_last'], 'data_format=channels_last (volumes shaped …, depth, rows, cols, channels)');
  r.only('dim_ordering', ['tf', 'default'], "dim_ordering='tf' (channels last)");
}

function padding3d(r: ConfigReader): 'valid' | 'same' {
  const p = r.str(['padding', 'border_mode'], 'valid');
  if (p !== 'valid' && p !== 'same') throw r.unsupported(r.has('padding') ? 'padding' : 'border_mode', 'valid, same');
  return p;
}

const CONV3D = new Set(['Conv3D', 'Convolution3D']);
const POOL3D = new Set(['MaxPooling3D', 'MaxPool3D', 'AveragePooling3D', 'AvgPool3D']);
const GLOBAL3D = new Set(['GlobalMaxPooling3D', 'GlobalMaxPool3D', 'GlobalAveragePooling3D', 'GlobalAvgPool3D']);

/** The spec of a 3-D layer class, or null when `cls` is not one. */
export function parseVision3dLayer(r: ConfigReader, ctx: BuildContext): LayerSpec | null {
  const base = { name: r.name, className: r.cls };
  if (CONV3D.has(r.cls)) {
    channelsLast(r);
    if (r.has('groups') && r.raw['groups'] !== 1) throw r.unsupported('groups', 'groups=1');
    const k1 = r.has('kernel_dim1')
      ? ([r.int1('kernel_dim1'), r.int1('kernel_dim2'), r.int1('kernel_dim3')] as Triple)
      : null;
    const activation: Activation = parseActivationConfig(r.raw['activation'] ?? 'linear', {
      hardSigmoidSlope: ctx.writer.hardSigmoidSlope,
      where: `layer '${r.name}' (${r.cls})`,
    });
    const strides = triple(r, r.has('subsample') ? 'subsample' : 'strides', [1, 1, 1]);
    const dilationRate = triple(r, 'dilation_rate', [1, 1, 1]);
    if (strides.some((s) => s > 1) && dilationRate.some((d) => d > 1))
      throw r.unsupported('dilation_rate', 'dilation_rate=1 when strides > 1 (Keras refuses both together)');
    return {
      ...base,
      type: 'Conv3D',
      filters: r.int1(['filters', 'nb_filter']),
      kernelSize: k1 ?? triple(r, 'kernel_size', null),
      strides,
      padding: padding3d(r),
      dilationRate,
      activation,
      useBias: r.bool(['use_bias', 'bias'], true),
    };
  }
  if (POOL3D.has(r.cls)) {
    channelsLast(r);
    const poolSize = triple(r, 'pool_size', [2, 2, 2]);
    // strides=None means strides=pool_size.
    return {
      ...base,
      type: 'Pooling3D',
      mode: r.cls.startsWith('Max') ? 'max' : 'avg',
      poolSize,
      strides: triple(r, 'strides', poolSize),
      padding: padding3d(r),
    };
  }
  if (GLOBAL3D.has(r.cls)) {
    channelsLast(r);
    if (r.bool('keepdims', false)) throw r.unsupported('keepdims', 'keepdims=false');
    return { ...base, type: 'GlobalPooling3D', mode: r.cls.startsWith('GlobalMax') ? 'max' : 'avg' };
  }
  return null;
}

const RANK5 = 'rank 5 (batch, depth, rows, cols, channels)';

/** Output shape of a 3-D layer call, or null for other layers. */
export function infer3d(layer: LayerSpec, x: Shape): Shape | null {
  if (layer.type !== 'Conv3D' && layer.type !== 'Pooling3D' && layer.type !== 'GlobalPooling3D') return null;
  if (x.length !== 5) throw new ModelError(msg.badRank(layer.name, layer.className, x, RANK5));
  if (layer.type === 'GlobalPooling3D') return [x[0]!, x[4]!];
  if (layer.type === 'Conv3D' && x[4] === null)
    throw new ModelError(msg.unknownDim(layer.name, layer.className, x, 'channel count (last axis)'));
  const k = layer.type === 'Conv3D' ? layer.kernelSize : layer.poolSize;
  const d = layer.type === 'Conv3D' ? layer.dilationRate : [1, 1, 1];
  const out = [1, 2, 3].map((a) => convLength(x[a]!, k[a - 1]!, layer.strides[a - 1]!, layer.padding, d[a - 1]!));
  if (out.some((n) => n === 0))
    throw new ModelError(msg.badRank(layer.name, layer.className, x, `volumes at least as large as ${k.join('×')}`));
  return [x[0]!, ...out, layer.type === 'Conv3D' ? layer.filters : x[4]!];
}
