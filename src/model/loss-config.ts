// The loss (and optimizer) a model was compiled with, from training_config (.h5),
// compile_config (.keras) or trainingConfig (TF.js) → LossConfig per output.
//
// Forms (docs/losses.md, 'How the loss is stored'): "mse" (any alias: MSE, mean_squared_error,
// meanSquaredError), a Loss object {class_name: "BinaryCrossentropy", config:
// {from_logits, label_smoothing, reduction}}, a Keras 3 function envelope
// {module: "builtins", class_name: "function", config: "mean_squared_error"},
// or a list / dict of those, one per output.

import type { LossConfig, OptimizerConfig, Warning } from './types.js';
import { warn } from './types.js';
import { isRecord } from './keras-format.js';
import { msg } from './messages.js';
import { closest, didYouMean } from './suggest.js';

/** Lower-case, underscores removed → canonical Keras function name (Keras 3 keras/src/losses/__init__.py aliases; TF.js
 * losses.ts). */
// No prototype: "constructor" is not a loss.
const LOSSES: Record<string, string> = Object.create(null) as Record<string, string>;
/** One spelling per key, as written below, for "did you mean" suggestions. */
const SPELLINGS: string[] = [];
const lossKey = (s: string): string => s.replace(/_/g, '').toLowerCase();
function alias(canonical: string, ...names: string[]): void {
  for (const n of [canonical, ...names]) {
    if (!(lossKey(n) in LOSSES)) SPELLINGS.push(n);
    LOSSES[lossKey(n)] = canonical;
  }
}
alias('mse', 'mean_squared_error', 'MeanSquaredError');
alias('mae', 'mean_absolute_error', 'MeanAbsoluteError');
alias('mape', 'mean_absolute_percentage_error', 'MeanAbsolutePercentageError');
alias('msle', 'mean_squared_logarithmic_error', 'MeanSquaredLogarithmicError');
alias('kl_divergence', 'kld', 'kullback_leibler_divergence', 'KLDivergence');
alias('binary_crossentropy', 'bce', 'BinaryCrossentropy');
alias('categorical_crossentropy', 'CategoricalCrossentropy');
alias('sparse_categorical_crossentropy', 'SparseCategoricalCrossentropy');
alias('poisson', 'Poisson');
alias('hinge', 'Hinge');
alias('squared_hinge', 'SquaredHinge');
alias('categorical_hinge', 'CategoricalHinge');
alias('log_cosh', 'logcosh', 'LogCosh');
alias('huber', 'huber_loss', 'Huber');
alias('cosine_similarity', 'cosine', 'cosine_proximity', 'CosineSimilarity');
// keras_contrib.losses.crf_loss (crf_nll in older keras_contrib): the loss of a model ending in its CRF.
alias('crf_loss', 'crf_nll');

/** Canonical name of a loss spelling, or null when it is not a built-in Keras loss. */
export function canonicalLossName(raw: string): string | null {
  const base = raw.slice(raw.lastIndexOf('.') + 1);
  const snake = base.replace(/([a-z0-9])([A-Z])/g, '$1_$2');
  return LOSSES[snake.replace(/_/g, '').toLowerCase()] ?? null;
}

/** Keras 3 compile's "crossentropy"/"ce" shortcuts: binary / sparse / categorical picked from the shapes
 * (keras/src/trainers/compile_utils.py get_loss), resolved by the engine. */
const SHORTCUTS = ['crossentropy', 'ce'];

/** The losses rnnscope computes, canonical names in the order messages list them. */
export const LOSS_NAMES: readonly string[] = [...new Set(Object.values(LOSSES)), 'crossentropy'];

/** Canonical name of a loss given by a user (--loss, the library), shortcuts included, or null when rnnscope does not
 * compute it. */
export function lossName(raw: string): string | null {
  const name = canonicalLossName(raw);
  if (name !== null) return name;
  return SHORTCUTS.includes(lossKey(raw.slice(raw.lastIndexOf('.') + 1))) ? 'crossentropy' : null;
}

/** " (did you mean 'x'?)" with the spellings of the table closest to an unknown loss name, or "". */
export function lossSuggestion(raw: string): string {
  const base = raw.slice(raw.lastIndexOf('.') + 1);
  return base.trim() === '' ? '' : didYouMean(closest(base, [...SPELLINGS, 'crossentropy'], { key: lossKey }));
}

/** "Loss 'x' is not supported (did you mean …?); expected one of …; choose …" — `what` is the quoted name or the stored
 * value. */
export function unknownLossMessage(what: string, raw?: string): string {
  return `Loss ${what} is not supported${raw === undefined ? '' : lossSuggestion(raw)}; expected one of ${LOSS_NAMES.join(', ')}; choose a supported loss with --loss.`;
}

const NO_LOSS: LossConfig = { name: 'none', fromLogits: false, labelSmoothing: 0 };

function one(value: unknown, warnings: Warning[]): LossConfig {
  if (value === null || value === undefined) return { ...NO_LOSS };
  if (typeof value === 'string') return named(value, false, 0, warnings);
  if (isRecord(value)) {
    const cls = value['class_name'];
    const cfg = value['config'];
    // Keras 3 plain-function envelope: {"module": "builtins", "class_name": "function", "config":
    // "mean_squared_error"}.
    if (cls === 'function' && typeof cfg === 'string') return named(cfg, false, 0, warnings);
    if (typeof cls === 'string') {
      const c = isRecord(cfg) ? cfg : {};
      const red = c['reduction'];
      // tf.keras writes "auto", Keras 3 "sum_over_batch_size"; both mean the mean over all loss elements.
      if (typeof red === 'string' && !['auto', 'sum_over_batch_size', 'mean'].includes(red))
        warn(warnings, 'loss-reduction', msg.warnLossReduction(cls, red));
      // LossFunctionWrapper (tf.keras) keeps the function name in config.fn / config.name.
      const fn = typeof c['fn'] === 'string' ? c['fn'] : cls;
      return named(
        fn,
        c['from_logits'] === true,
        typeof c['label_smoothing'] === 'number' ? c['label_smoothing'] : 0,
        warnings,
      );
    }
  }
  const s = JSON.stringify(value) ?? String(value);
  warn(warnings, 'unknown-loss', msg.warnUnknownLoss(s));
  return { name: s, fromLogits: false, labelSmoothing: 0 };
}

function named(raw: string, fromLogits: boolean, labelSmoothing: number, warnings: Warning[]): LossConfig {
  const name = canonicalLossName(raw);
  if (name === null) {
    warn(warnings, 'unknown-loss', msg.warnUnknownLoss(raw));
    return { name: raw, fromLogits, labelSmoothing };
  }
  return { name, fromLogits, labelSmoothing };
}

function isLossObject(v: Record<string, unknown>): boolean {
  return typeof v['class_name'] === 'string';
}

/**
 * Losses per output (same order as outputNames), or null when the model was not compiled.
 * A single loss applies to every output (Keras compile semantics); a dict is keyed by output name,
 * and an output without an entry gets name "none".
 */
export function parseLosses(
  trainingConfig: unknown,
  outputNames: readonly string[],
  warnings: Warning[],
): LossConfig[] | null {
  if (!isRecord(trainingConfig)) return null;
  const loss = trainingConfig['loss'];
  if (loss === null || loss === undefined) return null;
  if (Array.isArray(loss)) return outputNames.map((_, i) => one(loss[i], warnings));
  if (isRecord(loss) && !isLossObject(loss)) return outputNames.map((n) => one(loss[n], warnings));
  const l = one(loss, warnings);
  return outputNames.map(() => ({ ...l }));
}

/** The optimizer: `optimizer_config` (.h5, TF.js) or `optimizer` (Keras 3 compile_config). */
export function parseOptimizer(trainingConfig: unknown): OptimizerConfig | null {
  if (!isRecord(trainingConfig)) return null;
  const o = trainingConfig['optimizer_config'] ?? trainingConfig['optimizer'];
  if (typeof o === 'string') return { className: o, config: {} };
  if (isRecord(o) && typeof o['class_name'] === 'string') {
    return { className: o['class_name'], config: isRecord(o['config']) ? o['config'] : {} };
  }
  return null;
}
