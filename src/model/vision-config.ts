// Config parsing of the 2-D layers an LRCN (CNN + LSTM) video model wraps in
// TimeDistributed: Conv2D, MaxPooling2D / AveragePooling2D, GlobalMax/Average-
// Pooling2D, ZeroPadding2D, in the spellings of Keras 1 (Convolution2D nb_filter
// nb_row nb_col subsample border_mode dim_ordering), Keras 2 / tf.keras, Keras 3
// and TF.js. channels_last only.

import type { Activation, LayerSpec } from './types.js';
import type { Pair } from './types-extra.js';
import type { ConfigReader, BuildContext } from './config-reader.js';
import { parseActivationConfig } from './activation-config.js';

/** An (a, b) tuple written as n, [n] or [a, b]; Keras 1 spells it as two keys. */
export function pair(r: ConfigReader, keys: string[], dflt: Pair | null, min = 1): Pair {
  for (const k of keys) {
    const v = r.raw[k];
    if (v === undefined || v === null) continue;
    const a = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 1 ? [v[0], v[0]] : v;
    if (Array.isArray(a) && a.length === 2 && a.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= min))
      return a as Pair;
    throw r.bad(k, `an integer ≥ ${min} or a pair of them`);
  }
  if (dflt === null) throw r.bad(keys[0]!, 'an integer or a pair of integers');
  return dflt;
}

function channelsLast(r: ConfigReader): void {
  r.only('data_format', ['channels_last'], 'data_format=channels_last');
  r.only('dim_ordering', ['tf', 'default'], "dim_ordering='tf' (channels last)");
}

function padding2d(r: ConfigReader): 'valid' | 'same' {
  const p = r.str(['padding', 'border_mode'], 'valid');
  if (p !== 'valid' && p !== 'same') throw r.unsupported(r.has('padding') ? 'padding' : 'border_mode', 'valid, same');
  return p;
}

function act(r: ConfigReader, ctx: BuildContext): Activation {
  return parseActivationConfig(r.raw['activation'] ?? 'linear', {
    hardSigmoidSlope: ctx.writer.hardSigmoidSlope,
    where: `layer '${r.name}' (${r.cls})`,
  });
}

const CONV2D = new Set(['Conv2D', 'Convolution2D', 'AtrousConvolution2D']);
const POOL2D = new Set(['MaxPooling2D', 'MaxPool2D', 'AveragePooling2D', 'AvgPool2D']);
const GLOBAL2D = new Set(['GlobalMaxPooling2D', 'GlobalMaxPool2D', 'GlobalAveragePooling2D', 'GlobalAvgPool2D']);

/** The spec of a 2-D layer class, or null when `cls` is not one. */
export function parseVisionLayer(r: ConfigReader, ctx: BuildContext): LayerSpec | null {
  const base = { name: r.name, className: r.cls };
  if (CONV2D.has(r.cls)) {
    channelsLast(r);
    if (r.has('groups') && r.raw['groups'] !== 1) throw r.unsupported('groups', 'groups=1');
    if (r.has('lora_rank') && r.raw['lora_rank'] !== 0)
      throw r.unsupported('lora_rank', 'Conv2D without LoRA (merge the LoRA weights and re-save)');
    const k1 = r.has('nb_row') ? ([r.int1('nb_row'), r.int1('nb_col')] as Pair) : null;
    return {
      ...base,
      type: 'Conv2D',
      filters: r.int1(['filters', 'nb_filter']),
      kernelSize: k1 ?? pair(r, ['kernel_size'], null),
      strides: pair(r, ['strides', 'subsample'], [1, 1]),
      padding: padding2d(r),
      dilationRate: pair(r, ['dilation_rate', 'atrous_rate'], [1, 1]),
      activation: act(r, ctx),
      useBias: r.bool(['use_bias', 'bias'], true),
    };
  }
  if (POOL2D.has(r.cls)) {
    channelsLast(r);
    const poolSize = pair(r, ['pool_size'], [2, 2]);
    // strides=None means strides=pool_size.
    return {
      ...base,
      type: 'Pooling2D',
      mode: r.cls.startsWith('Max') ? 'max' : 'avg',
      poolSize,
      strides: pair(r, ['strides'], poolSize),
      padding: padding2d(r),
    };
  }
  if (GLOBAL2D.has(r.cls)) {
    channelsLast(r);
    if (r.bool('keepdims', false)) throw r.unsupported('keepdims', 'keepdims=false');
    return { ...base, type: 'GlobalPooling2D', mode: r.cls.startsWith('GlobalMax') ? 'max' : 'avg' };
  }
  if (r.cls === 'ZeroPadding2D') {
    channelsLast(r);
    const p = r.raw['padding'] ?? 1;
    const ok = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d >= 0;
    let pad: [Pair, Pair] | null = null;
    if (ok(p))
      pad = [
        [p, p],
        [p, p],
      ];
    else if (Array.isArray(p) && p.length === 2 && p.every(ok))
      pad = [
        [p[0], p[0]],
        [p[1], p[1]],
      ];
    else if (Array.isArray(p) && p.length === 2 && p.every((q) => Array.isArray(q) && q.length === 2 && q.every(ok)))
      pad = p as [Pair, Pair];
    if (pad === null) throw r.bad('padding', 'an integer, a pair, or ((top, bottom), (left, right))');
    return { ...base, type: 'ZeroPadding2D', padding: pad };
  }
  return null;
}
