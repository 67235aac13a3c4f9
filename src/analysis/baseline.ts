// Did the model learn at all? L against the best-known input-independent prediction, scored with the same
// loss on the same samples (docs/analysis-schema.md#baseline):
//   crossentropy losses → 'class-prior': every sample and step predicts the class frequencies of the targets
//                         (per output feature for binary crossentropy);
//   any other loss      → 'mean': every sample and step predicts the targets' mean per output feature.
// learned: gain = (baseline − L) / |baseline|; 'no' below learnedNo, 'barely' below learnedBarely, else 'yes'
// (thresholds in diagnose.ts).

import type { LossConfig } from '../model/types.js';
import { computeLoss } from '../engine/losses.js';
import type { LossFlavor } from '../engine/loss-config.js';
import type { Tensor } from '../engine/tensor.js';
import type { Baseline } from './schema.js';

const CROSSENTROPY = new Set([
  'binary_crossentropy',
  'categorical_crossentropy',
  'sparse_categorical_crossentropy',
  'crossentropy',
]);
/** Losses whose value at a constant prediction says nothing (they need the model's own structure). */
const NO_BASELINE = new Set(['crf_loss', 'half_squared_norm']);

const EPS = 1e-7;
const r3 = (x: number): string => Number(x.toPrecision(3)).toString();

/** The constant prediction for one output: `outShape` the prediction's shape (samples first). */
function constantPrediction(loss: LossConfig, target: Tensor, outShape: number[]): Float32Array | Float64Array {
  const C = outShape[outShape.length - 1] ?? 1;
  const n = outShape.reduce((a, b) => a * b, 1);
  const rows = n / C;
  const mean = new Float64Array(C);
  const sparse = target.data.length === rows && C > 1;
  if (sparse) {
    for (let r = 0; r < rows; r++) {
      const k = target.data[r]!;
      if (Number.isInteger(k) && k >= 0 && k < C) mean[k] += 1 / rows;
    }
  } else for (let i = 0; i < target.data.length; i++) mean[i % C] += target.data[i]! / rows;
  const cls = CROSSENTROPY.has(loss.name);
  const binary = loss.name === 'binary_crossentropy' || (loss.name === 'crossentropy' && C === 1);
  const value = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const p = cls ? Math.min(1 - EPS, Math.max(EPS, mean[c]!)) : mean[c]!;
    // With from_logits the loss expects logits: log p for a softmax, logit p for a sigmoid.
    value[c] = cls && loss.fromLogits ? (binary ? Math.log(p / (1 - p)) : Math.log(p)) : p;
  }
  // In the run's precision (the targets'), as the model's own predictions are.
  const out = target.data instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = value[i % C]!;
  return out;
}

/**
 * The baseline of L = Σ_outputs mean-loss: `targets` and `outShapes` (per output, N samples first) of the analysed
 * samples, `L` the model's loss. Null for self-objectives and losses without a meaningful constant prediction.
 */
export function baselineOf(
  losses: LossConfig[],
  flavor: LossFlavor,
  targets: Tensor[] | null,
  outShapes: number[][],
  L: number | null,
  th: { learnedNo: number; learnedBarely: number },
): Baseline | null {
  if (!targets || losses.some((l) => NO_BASELINE.has(l.name))) return null;
  let value = 0;
  try {
    losses.forEach((loss, i) => {
      const shape = outShapes[i]!;
      const yPred: Tensor = { shape, data: constantPrediction(loss, targets[i]!, shape) };
      value += computeLoss(loss, flavor, yPred, targets[i]!, null).loss;
    });
  } catch {
    return null;
  }
  const kind: Baseline['kind'] = losses.every((l) => CROSSENTROPY.has(l.name)) ? 'class-prior' : 'mean';
  const what = kind === 'mean' ? 'the mean of the targets' : 'the class frequencies of the targets';
  const short = kind === 'mean' ? 'predicting the mean' : 'predicting the class prior';
  const description = Number.isFinite(value)
    ? `Predicting ${what} for every sample gives L = ${r3(value)}.`
    : `Predicting ${what} gives no finite loss.`;
  let learned: Baseline['learned'] = null;
  let sentence = 'Whether the model learned is not known (the loss or its baseline is not finite).';
  if (L !== null && Number.isFinite(L) && Number.isFinite(value) && value !== 0) {
    const gain = (value - L) / Math.abs(value);
    learned = gain < th.learnedNo ? 'no' : gain < th.learnedBarely ? 'barely' : 'yes';
    const pair = `L ${r3(L)} vs ${r3(value)}`;
    const pct = `${Math.round(Math.abs(gain) * 100)} %`;
    sentence =
      learned === 'no'
        ? gain < 0
          ? `The model is worse than ${short} (${pair}, ${pct} higher): it has not learned.`
          : `The model is no better than ${short} (${pair}): it has not learned.`
        : learned === 'barely'
          ? `The model is barely better than ${short} (${pair}, ${pct} lower).`
          : `The model has learned: its loss is ${pct} lower than ${short} (${pair}).`;
  } else if (value === 0) sentence = `${short[0]!.toUpperCase()}${short.slice(1)} already gives L = 0.`;
  return { kind, value: Number.isFinite(value) ? value : null, description, learned, sentence };
}
