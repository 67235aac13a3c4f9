// keras_contrib.layers.CRF (keras-contrib keras_contrib/layers/crf.py), the
// linear-chain CRF of the classic BiLSTM-CRF tagger. Recognised by its class name
// and a config that holds its own keys (units, learn_mode, sparse_target, ...);
// a class named CRF without them is some other project's layer.
//
// Defaults as in keras_contrib: learn_mode 'join', test_mode 'viterbi' for join and
// 'marginal' for marginal, sparse_target false, use_boundary true, use_bias true,
// activation linear.

import type { LayerSpec, ModelSpec } from './types.js';
import { msg } from './messages.js';
import type { ConfigReader, BuildContext } from './config-reader.js';
import { parseActivationConfig } from './activation-config.js';

/** The class was written by keras_contrib (its config keys), not by some other project's CRF. */
export function isKerasContribCrf(cls: string, raw: Record<string, unknown>): boolean {
  return cls === 'CRF' && 'units' in raw && 'learn_mode' in raw && 'sparse_target' in raw;
}

export function parseCrf(r: ConfigReader, ctx: BuildContext): LayerSpec {
  const learnMode = r.str('learn_mode', 'join');
  if (learnMode !== 'join' && learnMode !== 'marginal') throw r.bad('learn_mode', "'join' or 'marginal'");
  const testMode = r.str('test_mode', learnMode === 'join' ? 'viterbi' : 'marginal');
  if (testMode !== 'viterbi' && testMode !== 'marginal') throw r.bad('test_mode', "'viterbi' or 'marginal'");
  return {
    name: r.name,
    className: r.cls,
    type: 'CRF',
    units: r.int1('units'),
    learnMode,
    testMode,
    sparseTarget: r.bool('sparse_target', false),
    useBoundary: r.bool('use_boundary', true),
    useBias: r.bool('use_bias', true),
    activation: parseActivationConfig(r.raw['activation'] ?? 'linear', {
      hardSigmoidSlope: ctx.writer.hardSigmoidSlope,
      where: `layer '${r.name}' (CRF)`,
    }),
  };
}

/**
 * keras_contrib's CRF.loss_function (the way its README compiled the model before crf_loss
 * existed) returns an inner function named `loss` (or `crf_nll`), which is the name the file
 * stores. For an output produced by a keras_contrib CRF, such a stored name is crf_loss.
 */
const CRF_LOSS_NAMES = new Set(['loss', 'loss_function', 'crf_nll', 'crf_loss']);

export function adoptCrfLoss(model: ModelSpec): void {
  const loss = model.meta.loss;
  if (!loss) return;
  model.outputs.forEach((t, i) => {
    const l = loss[i];
    const node = model.nodes.find((n) => n.outputs.includes(t));
    if (!l || !node || model.layers[node.layer]!.type !== 'CRF' || !CRF_LOSS_NAMES.has(l.name)) return;
    const stored = l.name;
    loss[i] = { name: 'crf_loss', fromLogits: false, labelSmoothing: 0 };
    const k = model.warnings.findIndex((w) => w.message === msg.warnUnknownLoss(stored));
    if (k >= 0) model.warnings.splice(k, 1);
  });
}
