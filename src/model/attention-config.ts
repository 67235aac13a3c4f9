// Config parsing of the attention layers: Attention, AdditiveAttention,
// MultiHeadAttention and Dot.
//
// Attention / AdditiveAttention (tf.keras BaseDenseAttention, Keras 3
// keras/src/layers/attention/attention.py): `causal` is a config field in tf.keras
// up to 2.9 (deprecated but still read by later tf.keras), a call argument
// `use_causal_mask` since; `return_attention_scores` is a call argument. Call
// arguments are read per node by applyCallArgs. `dropout` acts in training only.

import type { LayerSpec } from './types.js';
import type { ConfigReader } from './config-reader.js';
import { ModelError } from './errors.js';
import { isRecord } from './keras-format.js';

type Spec<K extends LayerSpec['type']> = Extract<LayerSpec, { type: K }>;

/** The spec of an attention-family class, or null when `cls` is not one. */
export function parseAttentionLayer(r: ConfigReader): LayerSpec | null {
  const base = { name: r.name, className: r.cls };
  switch (r.cls) {
    case 'Attention': {
      const mode = r.str('score_mode', 'dot');
      if (mode !== 'dot' && mode !== 'concat') throw r.bad('score_mode', "'dot' or 'concat'");
      r.num('dropout', 0);
      return {
        ...base,
        type: 'Attention',
        score: mode,
        useScale: r.bool('use_scale', false),
        causal: r.bool('causal', false),
        returnScores: false,
      };
    }
    case 'AdditiveAttention':
      r.num('dropout', 0);
      return {
        ...base,
        type: 'Attention',
        score: 'additive',
        useScale: r.bool('use_scale', true),
        causal: r.bool('causal', false),
        returnScores: false,
      };
    case 'MultiHeadAttention': {
      const axes = r.raw['attention_axes'];
      if (axes !== undefined && axes !== null && !(Array.isArray(axes) && axes.length === 1 && axes[0] === 1)) {
        throw r.unsupported('attention_axes', 'attention_axes=None (attention over the steps axis)');
      }
      if (r.bool('use_gate', false)) throw r.unsupported('use_gate', 'use_gate=false');
      const keyDim = r.int1('key_dim');
      const out = r.raw['output_shape'];
      let outputDim: number | null = null;
      if (typeof out === 'number' && Number.isInteger(out) && out > 0) outputDim = out;
      else if (Array.isArray(out) && out.length === 1 && typeof out[0] === 'number') outputDim = out[0];
      else if (out !== undefined && out !== null)
        throw r.unsupported('output_shape', 'output_shape=None or one integer');
      return {
        ...base,
        type: 'MultiHeadAttention',
        numHeads: r.int1('num_heads'),
        keyDim,
        valueDim: r.int1('value_dim', keyDim),
        outputDim,
        useBias: r.bool('use_bias', true),
        causal: false,
        returnScores: false,
      };
    }
    case 'Dot': {
      const a = r.raw['axes'];
      const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);
      let axes: [number, number];
      if (isInt(a)) axes = [a, a];
      else if (Array.isArray(a) && a.length === 2 && a.every(isInt)) axes = [a[0], a[1]];
      else throw r.bad('axes', 'an integer or a pair of integers');
      if (axes.some((x) => x === 0)) throw r.bad('axes', 'axes other than the batch axis 0');
      return { ...base, type: 'Dot', axes, normalize: r.bool('normalize', false) };
    }
  }
  return null;
}

/** Layers called on several tensors besides Merge. */
export function takesSeveralInputs(spec: LayerSpec): boolean {
  return (
    spec.type === 'Merge' || spec.type === 'Attention' || spec.type === 'MultiHeadAttention' || spec.type === 'Dot'
  );
}

/** Tensor keyword arguments taken as extra inputs, in input order after the positional ones (MultiHeadAttention(query,
 * value=, key=)). */
export const TENSOR_KWARG_NAMES: readonly string[] = ['value', 'key'];

/**
 * Non-tensor call arguments of one node that change the layer's math or outputs
 * (return_attention_scores, use_causal_mask). They are fixed at the first call; a
 * shared layer called with different ones is refused.
 */
export function applyCallArgs(spec: LayerSpec, kwargs: unknown, first: boolean): void {
  if (spec.type !== 'Attention' && spec.type !== 'MultiHeadAttention') return;
  const kw = isRecord(kwargs) ? kwargs : {};
  const scores = kw['return_attention_scores'] === true;
  const causal = kw['use_causal_mask'] === true;
  const s = spec as Spec<'Attention'> | Spec<'MultiHeadAttention'>;
  if (first) {
    s.returnScores = scores;
    s.causal ||= causal;
    return;
  }
  if (s.returnScores !== scores || (causal && !s.causal)) {
    throw new ModelError(
      `Shared layer '${spec.name}' (${spec.className}) is called with different return_attention_scores / use_causal_mask arguments; rnnscope supports one setting per layer; use separate layers.`,
    );
  }
}
