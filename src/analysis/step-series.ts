// A per-step quantity over the samples of a run (schema.ts StepSeries): accumulated batch by batch
// from per-sample rows of a batch-mean gradient, then summarised as the Frobenius norm over samples
// and per-sample quantiles.
//
// Scaling. A batch's gradients are derivatives of that batch's mean loss L_b. The analysed
// objective is L = mean over all N samples = Σ_b (B_b/N)·L_b, so ∂L/∂· = (B_b/N)·g, and sample
// n's own loss ℓ_n (L_b = mean_n ℓ_n) has ∂ℓ_n/∂· = B_b·g_n.

import type { Num, StepSeries } from './schema.js';
import { quantile } from './quantile.js';

const fin = (x: number): Num => (Number.isFinite(x) ? x : null);

/**
 * Adds the (B, T, W) gradient `g` of a batch of Bb samples to `sq` (Σ_n ‖∂L/∂·_{t,n}‖², length T) and appends one row
 * per sample to `per` (‖∂ℓ_n/∂·_{t,n}‖ per t).
 */
export function addNorms(
  sq: Float64Array,
  per: number[][],
  g: ArrayLike<number>,
  B: number,
  T: number,
  W: number,
  Bb: number,
  N: number,
): void {
  const s2 = Bb / N;
  for (let b = 0; b < B; b++) {
    const row: number[] = new Array(T);
    for (let t = 0; t < T; t++) {
      let s = 0;
      const o = (b * T + t) * W;
      for (let j = 0; j < W; j++) s += g[o + j]! * g[o + j]!;
      sq[t] += s * s2 * s2;
      row[t] = Math.sqrt(s) * Bb;
    }
    per.push(row);
  }
}

export function series(sq: Float64Array, per: number[][], T: number): StepSeries {
  const s: StepSeries = { norm: [], p10: [], p50: [], p90: [] };
  for (let t = 0; t < T; t++) {
    const col = per
      .map((r) => r[t]!)
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    s.norm.push(fin(Math.sqrt(sq[t]!)));
    s.p10.push(fin(quantile(col, 0.1)));
    s.p50.push(fin(quantile(col, 0.5)));
    s.p90.push(fin(quantile(col, 0.9)));
  }
  return s;
}
