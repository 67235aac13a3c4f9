// Which loss the engine computes, and as which Keras computes it.
//
//   parseLoss   a loss as stored (or given with --loss) → LossConfig, strictly: anything
//               computeLoss cannot reproduce exactly is refused with a ModelError.
//   lossFlavor  the writer's Keras → the formulas computeLoss uses (docs/losses.md).
//
// Spellings come from the model stage's alias table (src/model/loss-config.ts lossName,
// LOSS_NAMES), the one list of loss names, Keras 3 compile's "crossentropy"/"ce" shortcuts
// included (resolved from the shapes in computeLoss); the model stage warns about what it
// cannot read, this module refuses it.

import type { LossConfig } from '../model/types.js';
import { ModelError } from '../model/errors.js';
import { isRecord } from '../model/keras-format.js';
import { lossName, unknownLossMessage } from '../model/loss-config.js';
import { writerFamily, type WriterFamily } from '../model/versions.js';

/** The writer family (ModelMeta.writer): decides the loss formulas and mask handling (docs/losses.md). */
export type LossFlavor = WriterFamily;

/** The writer family of a model from `format` recording `kerasVersion` (model/versions.ts writerFamily, the one rule;
 * a built model carries it as meta.writer). */
export function lossFlavor(kerasVersion: string, format: string): LossFlavor {
  return writerFamily(kerasVersion, format);
}

/** Unknown loss → ModelError listing the supported names (the model stage's one table) and the closest spellings. */
export function unknownLoss(what: string, raw?: string): ModelError {
  return new ModelError(unknownLossMessage(what, raw));
}

/** Canonicalise a Keras loss as stored into LossConfig; unknown → ModelError. */
export function parseLoss(value: unknown): LossConfig {
  if (typeof value === 'string') {
    // Dotted paths ("keras.losses.mse") and camelCase TF.js names ("meanSquaredError") both normalise here.
    const name = lossName(value);
    if (name === null) throw unknownLoss(`'${value}'`, value);
    return { name, fromLogits: false, labelSmoothing: 0 };
  }
  if (Array.isArray(value) || (isRecord(value) && !('class_name' in value) && !('className' in value))) {
    throw new ModelError(
      `The stored loss is a per-output ${Array.isArray(value) ? 'list' : 'dict'}; expected one loss; pass the losses of a multi-output model one at a time.`,
    );
  }
  if (!isRecord(value)) throw unknownLoss(JSON.stringify(value) ?? String(value));
  const cls = String(value['class_name'] ?? value['className']);
  const raw = value['config'];
  // {"module": "builtins", "class_name": "function", "config": "mean_squared_error"} (Keras 3; docs/formats.md,
  // 'Serialized objects').
  if (cls === 'function' && typeof raw === 'string') return parseLoss(raw);
  const cfg = isRecord(raw) ? raw : {};
  if (cls === 'LossFunctionWrapper' && cfg['fn'] !== undefined) return parseLoss(cfg['fn']);
  const base = parseLoss(cls);
  const red = cfg['reduction'];
  if (red !== undefined && red !== null && !['auto', 'sum_over_batch_size', 'mean'].includes(String(red))) {
    throw new ModelError(
      `Loss ${cls} has reduction '${String(red)}'; expected 'sum_over_batch_size' (Keras's default); recompile the model with the default reduction.`,
    );
  }
  if (typeof cfg['delta'] === 'number' && cfg['delta'] !== 1) {
    throw new ModelError(
      `Loss ${cls} has delta=${cfg['delta']}; only delta=1.0 is supported; recompile with the default delta.`,
    );
  }
  if (cfg['ignore_class'] !== undefined && cfg['ignore_class'] !== null) {
    throw new ModelError(
      `Loss ${cls} has ignore_class=${String(cfg['ignore_class'])}; ignore_class is not supported; mask those steps instead.`,
    );
  }
  if (typeof cfg['axis'] === 'number' && cfg['axis'] !== -1) {
    throw new ModelError(`Loss ${cls} reduces axis ${cfg['axis']}; expected axis -1; recompile with the default axis.`);
  }
  return {
    name: base.name,
    fromLogits: cfg['from_logits'] === true,
    labelSmoothing: typeof cfg['label_smoothing'] === 'number' ? cfg['label_smoothing'] : 0,
  };
}
