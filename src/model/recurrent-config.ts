// Recurrent layer configs → RecurrentSpec: the layer classes the registered cells name
// (engine/cells: SimpleRNN, LSTM, GRU, CuDNNLSTM, CuDNNGRU, …) in the Keras 1, Keras 2/tf.keras,
// Keras 3 and TF.js spellings, RNN with a single registered cell, and the Bidirectional wrapper.
//
// Missing keys take the writer's defaults (docs/keras-versions.md, 'Defaults by version'): a Keras 2.1
// LSTM without recurrent_activation means hard_sigmoid, a Keras 3 GRU without
// reset_after means reset_after=True.
// Ignored on purpose (identity at inference or speed-only switches; docs/keras-versions.md, 'Dropout at inference'):
// dropout, recurrent_dropout (Keras 1 dropout_W / dropout_U), unroll,
// implementation, consume_less, use_cudnn.

import type { RecurrentSpec, BidiMerge } from './types.js';
import { warn } from './types.js';
import { ModelError } from './errors.js';
import { ConfigReader, type BuildContext } from './config-reader.js';
import { parseActivationConfig } from './activation-config.js';
import { isRecord } from './keras-format.js';
import { msg } from './messages.js';
import { cellOfCellClass, cellOfLayerClass } from '../engine/cells/index.js';
import type { CellDef, LayerClass } from '../engine/cells/types.js';

/** Is `cls` a recurrent layer class: one a registered cell names (engine/cells), or RNN(cell)? */
export function isRecurrentClass(cls: string): boolean {
  return cellOfLayerClass(cls) !== undefined || cls === 'RNN';
}

export interface RecurrentParse {
  rnn: RecurrentSpec;
  /** The class that ran the cell (LSTM, CuDNNLSTM, RNN, ...): decides the saved layout (CuDNNLSTM bias 8U). */
  className: string;
  /** Keras 1 consume_less ('cpu' | 'mem' | 'gpu'): decides the Keras 1 weight layout (per-gate or fused). */
  consumeLess: string | null;
}

/** Parse a recurrent layer's config. `inputDim` is -1 until the layer is called (shapes.ts fills it). */
export function parseRecurrent(
  name: string,
  cls: string,
  raw: Record<string, unknown>,
  ctx: BuildContext,
  wrapper?: string,
): RecurrentParse {
  const r = new ConfigReader(name, cls, raw);
  const byLayer = cellOfLayerClass(cls);
  let cell: CellDef | undefined = byLayer?.cell;
  const layerClass: LayerClass = byLayer?.layerClass ?? {};
  // Options of the cell live in the cell config for RNN(cell), in the layer config otherwise.
  let cellReader = r;
  if (cls === 'RNN') {
    const c = raw['cell'];
    const cellCls =
      isRecord(c) && typeof c['class_name'] === 'string'
        ? c['class_name']
        : Array.isArray(c)
          ? `[${c.length} cells]`
          : String(c);
    cell = cellOfCellClass(cellCls);
    if (cell === undefined || !isRecord(c) || !isRecord(c['config']))
      throw new ModelError(msg.customCell(name, cls, cellCls));
    cellReader = new ConfigReader(name, cls, c['config']);
  }
  if (cell === undefined) throw new ModelError(msg.unsupportedLayer(name, cls));

  if (r.bool('time_major', false))
    throw r.unsupported('time_major', 'time_major=false (inputs shaped batch, time, features)');
  if (r.has('num_constants') && r.num('num_constants', 0) !== 0)
    throw r.unsupported('num_constants', 'RNN layers without constants');
  const stateful = r.bool('stateful', false);
  if (stateful) warn(ctx.warnings, 'stateful', msg.warnStateful(wrapper ?? name));

  const where = `layer '${name}' (${cls})`;
  const slope = ctx.writer.hardSigmoidSlope;
  // A feature-map state (ConvLSTM) takes its width from the input at the first call.
  const units = cell.convolutional ? -1 : cellReader.int1(['units', 'output_dim']);
  let activation = parseActivationConfig('tanh', { hardSigmoidSlope: slope, where });
  const gated = cell.gates.some((g) => g.activation === 'recurrent_activation');
  const raDefault = cell.defaultRecurrentActivation?.(ctx.writer.family) ?? ctx.writer.defaultRecurrentActivation;
  let recurrentActivation = parseActivationConfig(gated ? raDefault : 'linear', {
    hardSigmoidSlope: slope,
    where,
  });
  let useBias = true;
  if (layerClass.cudnn) {
    // cuDNN kernels are fixed: tanh and sigmoid, always a bias.
    recurrentActivation = parseActivationConfig('sigmoid', { hardSigmoidSlope: slope, where });
  } else {
    const act = cellReader.pick('activation');
    if (act !== undefined) activation = parseActivationConfig(act, { hardSigmoidSlope: slope, where });
    if (gated) {
      const ra = cellReader.pick('recurrent_activation', 'inner_activation');
      if (ra !== undefined) recurrentActivation = parseActivationConfig(ra, { hardSigmoidSlope: slope, where });
    }
    useBias = cellReader.bool(['use_bias', 'bias'], true);
  }

  const rnn: RecurrentSpec = {
    kind: cell.kind,
    units,
    inputDim: -1,
    activation,
    recurrentActivation,
    useBias,
    returnSequences: r.bool('return_sequences', false),
    returnState: r.bool('return_state', false),
    goBackwards: r.bool('go_backwards', false),
    stateful,
    resetAfter: false,
    zeroOutputForMask: r.bool('zero_output_for_mask', false),
    ...cell.readOptions?.(cellReader, ctx, layerClass),
  };
  const cl = r.pick('consume_less');
  return { rnn, className: cls, consumeLess: typeof cl === 'string' ? cl : null };
}

export interface BidirectionalParse {
  forward: RecurrentParse;
  backward: RecurrentParse;
  mergeMode: BidiMerge;
  forwardName: string;
  backwardName: string;
  /** Inner layer config (for an input-shape hint given on the inner layer). */
  innerConfig: Record<string, unknown>;
}

const MERGE_MODES: readonly (string | null)[] = ['concat', 'sum', 'mul', 'ave', null];

function removePrefix(s: string, p: string): string {
  return s.startsWith(p) ? s.slice(p.length) : s;
}

/** Bidirectional(layer, merge_mode, backward_layer) (docs/masking.md, 'Bidirectional'). */
export function parseBidirectional(name: string, raw: Record<string, unknown>, ctx: BuildContext): BidirectionalParse {
  const r = new ConfigReader(name, 'Bidirectional', raw);
  const inner = raw['layer'];
  if (!isRecord(inner) || typeof inner['class_name'] !== 'string' || !isRecord(inner['config']))
    throw r.bad('layer', 'a serialized recurrent layer');
  const innerCls = inner['class_name'];
  if (!isRecurrentClass(innerCls)) throw new ModelError(msg.bidiInner(name, innerCls));
  const innerCfg = inner['config'];
  const innerName = typeof innerCfg['name'] === 'string' ? innerCfg['name'] : innerCls.toLowerCase();

  const mm = raw['merge_mode'] === undefined ? 'concat' : raw['merge_mode'];
  if (!MERGE_MODES.includes(mm as string | null)) throw r.bad('merge_mode', 'one of concat, sum, mul, ave or null');

  const w = ctx.writer;
  const forwardName = `forward_${w.bidiStripsPrefix ? removePrefix(innerName, 'forward_') : innerName}`;
  const forward = parseRecurrent(forwardName, innerCls, innerCfg, ctx, name);

  let back = raw['backward_layer'];
  if (back !== undefined && back !== null && w.family === 'tfjs') {
    // TFJS Bidirectional.fromConfig ignores backward_layer (wrappers.ts#L247-287).
    warn(ctx.warnings, 'tfjs-backward-layer', msg.warnTfjsBackwardLayer(name));
    back = undefined;
  }
  let backward: RecurrentParse;
  let backwardName: string;
  if (isRecord(back) && typeof back['class_name'] === 'string' && isRecord(back['config'])) {
    const bCls = back['class_name'];
    if (!isRecurrentClass(bCls)) throw new ModelError(msg.bidiInner(name, bCls));
    const bName = typeof back['config']['name'] === 'string' ? back['config']['name'] : bCls.toLowerCase();
    // Keras 3 keeps a given backward layer's name; tf.keras and Keras 2 prefix it (TK bidirectional.py).
    backwardName = w.bidiStripsPrefix ? bName : `backward_${bName}`;
    backward = parseRecurrent(backwardName, bCls, back['config'], ctx, name);
  } else if (back !== undefined && back !== null) {
    throw r.bad('backward_layer', 'a serialized recurrent layer or null');
  } else {
    backwardName = `backward_${w.bidiStripsPrefix ? removePrefix(innerName, 'backward_') : innerName}`;
    // Keras 3 sets go_backwards=True; Keras 1/2, tf.keras and TF.js flip the forward value.
    const cfg = { ...innerCfg, go_backwards: w.family === 'keras3' ? true : !(innerCfg['go_backwards'] === true) };
    backward = parseRecurrent(backwardName, innerCls, cfg, ctx, name);
  }
  for (const key of ['returnSequences', 'returnState', 'stateful'] as const) {
    if (forward.rnn[key] !== backward.rnn[key]) throw r.bad('backward_layer', `the same ${key} as the forward layer`);
  }
  if (w.bidiForcesZeroOutput) {
    // tf.keras and Keras 3 force zero_output_for_mask = return_sequences on both halves (docs/masking.md,
    // 'Bidirectional').
    forward.rnn.zeroOutputForMask = forward.rnn.returnSequences;
    backward.rnn.zeroOutputForMask = backward.rnn.returnSequences;
  }
  return { forward, backward, mergeMode: mm as BidiMerge, forwardName, backwardName, innerConfig: innerCfg };
}
