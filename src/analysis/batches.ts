// Across batches: the global gradient norm of every batch and, for clipping thresholds,
// the fraction of batches that would be clipped. Thresholds: the model's own clipnorm /
// global_clipnorm if its optimizer sets one, else the 50th, 90th and 99th percentiles of
// the measured norms. The suggested clipnorm is the 90th percentile: it leaves typical
// batches alone and caps the rare large ones. Percentiles of fewer than MIN_CLIP_BATCHES batches say
// little about the rare large ones, so then there are none (and no suggestion).

import type { OptimizerConfig } from '../model/types.js';
import type { BatchStats, ClipThreshold } from './schema.js';
import { quantile } from './quantile.js';

/** Fewest batches whose norms give clipping percentiles and a suggested clipnorm. */
export const MIN_CLIP_BATCHES = 10;

export function batchStats(
  norms: number[],
  sizes: number[],
  optimizer: OptimizerConfig | null,
  minBatches = MIN_CLIP_BATCHES,
): BatchStats {
  const finite = norms.filter(Number.isFinite).sort((a, b) => a - b);
  const frac = (th: number): number =>
    norms.filter((n) => !Number.isFinite(n) || n > th).length / Math.max(1, norms.length);
  const clipping: ClipThreshold[] = [];
  const own = optimizer ? Number(optimizer.config['global_clipnorm'] ?? optimizer.config['clipnorm'] ?? NaN) : NaN;
  if (Number.isFinite(own) && own > 0)
    clipping.push({ threshold: own, source: 'model-clipnorm', quantile: null, fractionClipped: frac(own) });
  else if (finite.length >= minBatches) {
    for (const q of [0.5, 0.9, 0.99]) {
      const th = quantile(finite, q);
      clipping.push({ threshold: th, source: 'quantile', quantile: q, fractionClipped: frac(th) });
    }
  }
  return {
    norms: norms.map((n) => (Number.isFinite(n) ? n : null)),
    sizes,
    clipping,
    suggestedClipnorm: finite.length >= minBatches ? quantile(finite, 0.9) : null,
  };
}
