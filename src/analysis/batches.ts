// Across batches: the global gradient norm of every batch and, for clipping thresholds,
// the fraction of batches that would be clipped. Thresholds: the model's own clipnorm /
// global_clipnorm if its optimizer sets one, else the 50th, 90th and 99th percentiles of
// the measured norms. The suggested clipnorm is the 90th percentile: it leaves typical
// batches alone and caps the rare large ones.

import type { OptimizerConfig } from '../model/types.js';
import type { BatchStats, ClipThreshold } from './schema.js';
import { quantile } from './recurrent.js';

export function batchStats(norms: number[], sizes: number[], optimizer: OptimizerConfig | null): BatchStats {
  const finite = norms.filter(Number.isFinite).sort((a, b) => a - b);
  const frac = (th: number): number =>
    norms.filter((n) => !Number.isFinite(n) || n > th).length / Math.max(1, norms.length);
  const clipping: ClipThreshold[] = [];
  const own = optimizer ? Number(optimizer.config['global_clipnorm'] ?? optimizer.config['clipnorm'] ?? NaN) : NaN;
  if (Number.isFinite(own) && own > 0)
    clipping.push({ threshold: own, source: 'model-clipnorm', quantile: null, fractionClipped: frac(own) });
  else if (finite.length) {
    for (const q of [0.5, 0.9, 0.99]) {
      const th = quantile(finite, q);
      clipping.push({ threshold: th, source: 'quantile', quantile: q, fractionClipped: frac(th) });
    }
  }
  return {
    norms: norms.map((n) => (Number.isFinite(n) ? n : null)),
    sizes,
    clipping,
    suggestedClipnorm: finite.length >= 2 ? quantile(finite, 0.9) : null,
  };
}
