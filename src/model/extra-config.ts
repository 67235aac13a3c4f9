// The layer classes added beside layers-config.ts: the 2-D vision layers,
// TimeDistributed around any layer, the attention family, keras_contrib's CRF and
// the identity-at-inference 2-D/3-D dropouts. parseLayer asks here first.

import type { LayerSpec } from './types.js';
import { ModelError } from './errors.js';
import { ConfigReader, type BuildContext } from './config-reader.js';
import { isRecord } from './keras-format.js';
import { parseVisionLayer } from './vision-config.js';
import { parseVision3dLayer } from './vision3d-config.js';
import { parseAttentionLayer } from './attention-config.js';
import { isKerasContribCrf, parseCrf } from './crf-config.js';
import { msg } from './messages.js';

const IDENTITY_2D = new Set(['SpatialDropout2D', 'SpatialDropout3D']);

/** Layer classes of libraries often used with recurrent models, recognised by class name (and config, where Keras has a
 * class of that name). */
const LIBRARY: Record<string, string> = {
  SeqSelfAttention: 'keras-self-attention',
  SeqWeightedAttention: 'keras-self-attention',
  ScaledDotProductAttention: 'keras-self-attention',
  ResidualScaledDotProductAttention: 'keras-self-attention',
  MultiHead: 'keras-multi-head',
  PositionEmbedding: 'keras-pos-embd',
  TrigPosEmbedding: 'keras-pos-embd',
  TCN: 'keras-tcn',
  InstanceNormalization: 'keras_contrib',
  SReLU: 'keras_contrib',
  PELU: 'keras_contrib',
  SineReLU: 'keras_contrib',
  CosineDense: 'keras_contrib',
  CosineConvolution2D: 'keras_contrib',
  SubPixelUpscaling: 'keras_contrib',
};

/**
 * Config keys of Keras's own class of that name (it writes at least one of them in every version): a config with
 * none of them is another class of the same name. Keys that projects' own classes also use (num_heads) are left out.
 */
const KERAS_KEYS: Record<string, string[]> = {
  Attention: ['use_scale', 'score_mode'],
  AdditiveAttention: ['use_scale'],
  MultiHeadAttention: ['key_dim'],
  Dot: ['axes'],
};

type ParseInner = (
  name: string,
  cls: string,
  raw: Record<string, unknown>,
  ctx: BuildContext,
) => { spec: LayerSpec; inputHint: (number | null)[] | null };

/**
 * The spec of an added class, or null when `cls` is handled by layers-config.ts.
 * `parseInner` parses TimeDistributed's inner layer (parseLayer, passed in to keep imports one way).
 */
export function parseExtraLayer(
  name: string,
  cls: string,
  raw: Record<string, unknown>,
  ctx: BuildContext,
  parseInner: ParseInner,
  registeredName?: string | null,
): { spec: LayerSpec; innerHint?: (number | null)[] | null } | null {
  const r = new ConfigReader(name, cls, raw);
  if (IDENTITY_2D.has(cls)) return { spec: { name, className: cls, type: 'Identity' } };
  if (cls === 'CRF' && isKerasContribCrf(cls, raw)) return { spec: parseCrf(r, ctx) };
  if (cls === 'MultiHeadAttention' && 'head_num' in raw)
    throw new ModelError(msg.libraryLayer(name, cls, 'keras-multi-head'));
  const keys = Object.hasOwn(KERAS_KEYS, cls) ? KERAS_KEYS[cls] : undefined;
  // A Keras 3 registered_name "Package>Name", or a config with none of the keys Keras writes, marks a project's own
  // class (projects often name their own attention class Attention).
  if (keys && ((registeredName ?? '').includes('>') || !keys.some((k) => k in raw)))
    throw new ModelError(msg.customLayer(name, cls));
  if (Object.hasOwn(LIBRARY, cls) && !(registeredName ?? '').includes('>'))
    throw new ModelError(msg.libraryLayer(name, cls, LIBRARY[cls]!));
  const v = parseVisionLayer(r, ctx) ?? parseVision3dLayer(r, ctx) ?? parseAttentionLayer(r);
  if (v) return { spec: v };
  if (cls === 'TimeDistributed') {
    const inner = raw['layer'];
    const innerCls = isRecord(inner) && typeof inner['class_name'] === 'string' ? inner['class_name'] : String(inner);
    if (!isRecord(inner) || !isRecord(inner['config'])) throw new ModelError(msg.timeDistributedInner(name, innerCls));
    const ic = inner['config'];
    const innerName = typeof ic['name'] === 'string' ? ic['name'] : innerCls.toLowerCase();
    const p = parseInner(innerName, innerCls, ic, ctx);
    const t = p.spec.type;
    if (
      t === 'InputLayer' ||
      t === 'Recurrent' ||
      t === 'Bidirectional' ||
      t === 'CRF' ||
      t === 'Attention' ||
      t === 'MultiHeadAttention' ||
      t === 'Dot' ||
      t === 'Merge'
    ) {
      throw new ModelError(msg.timeDistributedInner(name, innerCls));
    }
    // An input shape written on the inner layer stands for the wrapper's.
    return { spec: { name, className: cls, type: 'TimeDistributed', inner: p.spec }, innerHint: p.inputHint };
  }
  return null;
}
