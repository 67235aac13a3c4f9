// The default batch size of an analysis: 32 samples (Keras's fit default), fewer for long
// sequences, so that one batch's per-step taps (about T × (5U + 3GU + 2I) values per sample and
// recurrent layer or direction; see docs/analysis-memory.md) stay within a budget. Results do not
// depend on the batch size except the per-batch statistics; a given --batch-size is always kept.

import type { ModelSpec } from '../model/types.js';
import { cellOf } from '../engine/cells/index.js';

export const DEFAULT_BATCH_SIZE = 32;
/** Bytes one batch's taps may take before the default batch size is lowered. */
export const TAP_MEMORY = 512 * 2 ** 20;

/** Tap values per sample of a T-step batch, over every recurrent layer and direction. */
export function tapValuesPerSample(model: ModelSpec, steps: number): number {
  let n = 0;
  for (const l of model.layers) {
    const specs = l.type === 'Bidirectional' ? [l.forward, l.backward] : l.type === 'Recurrent' ? [l.rnn] : [];
    for (const s of specs) {
      const G = cellOf(s.kind).gates.length;
      n += steps * (5 * s.units + 3 * G * s.units + 2 * s.inputDim);
    }
  }
  return n;
}

export function defaultBatchSize(model: ModelSpec, steps: number, bytesPerValue: number, budget = TAP_MEMORY): number {
  const perSample = tapValuesPerSample(model, steps) * bytesPerValue;
  if (perSample === 0) return DEFAULT_BATCH_SIZE;
  return Math.max(1, Math.min(DEFAULT_BATCH_SIZE, Math.floor(budget / perSample)));
}
