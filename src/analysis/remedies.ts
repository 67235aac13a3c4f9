// Remedies specific to the cell (its registry entry: keep gate or none) and to the measured numbers,
// each with a stable id so identical remedies can be stated once per layer. The formulas are in
// docs/analysis-schema.md#remedies.

import { cellOf } from '../engine/cells/index.js';
import { MEMORY_FLOOR } from './memory.js';
import type { BatchStats, RecurrentAnalysis } from './schema.js';

export interface Remedy {
  id: string;
  text: string;
}

/** Numbers in words: 3 significant digits, powers of ten written 10⁻⁵ outside [0.001, 10⁴). */
export function say(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return x === null ? 'unknown' : String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e4) return String(Number(x.toPrecision(3)));
  const e = Math.floor(Math.log10(a));
  const m = Number((x / 10 ** e).toPrecision(2));
  const sup = String(e).replace(/[-0-9]/g, (c) => '⁻⁰¹²³⁴⁵⁶⁷⁸⁹'['-0123456789'.indexOf(c)]!);
  return m === 1 ? `10${sup}` : `${m} × 10${sup}`;
}

/**
 * The bias b that makes a keep gate hold MEMORY_FLOOR of the state over `steps` steps when the rest of its
 * pre-activation is zero: keep^steps = 0.01 → keep = 0.01^(1/steps), b = logit(keep) (or −logit for a gate whose
 * complement keeps).
 */
export function keepBias(steps: number, keep: 'a' | '1-a'): number {
  const k = MEMORY_FLOOR ** (1 / Math.max(1, steps));
  const logit = Math.log(k / (1 - k));
  return keep === 'a' ? logit : -logit;
}

const r2 = (x: number): string => x.toFixed(2);

/** Raise the keep gate's bias (forget bias for an LSTM, update-gate bias for a GRU): the value and chrono init. */
export function keepGateRemedy(ra: RecurrentAnalysis): Remedy | null {
  const mg = cellOf(ra.kind).memory;
  if (!mg || !ra.memory) return null;
  const T = ra.steps;
  const b = keepBias(T, mg.keep);
  const now = ra.memory.bias === null ? '' : ` (now ${r2(ra.memory.bias)} on average)`;
  const sign = mg.keep === 'a' ? '' : '−';
  return {
    id: `keep-gate-bias:${mg.gate}`,
    text:
      `Initialise the ${mg.label} bias${now} so the state lasts the whole ${T}-step window: about ${r2(b)}, ` +
      `the value at which σ(b)^${T} keeps 1 %, or chrono initialisation b = ${sign}ln U(1, ${T - 1}) per unit ` +
      '(Tallec & Ollivier 2018); or shorten the windows to the steps the model needs.',
  };
}

/** Shorter windows or paths that skip steps: for any cell whose gradient does not reach far. */
export function shorterWindows(ra: RecurrentAnalysis): Remedy {
  const h = ra.horizon.steps;
  return {
    id: 'shorter-windows',
    text:
      `Feed shorter windows${h ? ` (about ${h} steps, the measured horizon)` : ''} or add paths that skip steps ` +
      '(attention, skip connections) if the task needs inputs from further back.',
  };
}

/** A cell without a keep gate (SimpleRNN): gated cells, or a recurrent kernel that neither shrinks nor grows. */
export function gatedCell(ra: RecurrentAnalysis): Remedy {
  return {
    id: 'gated-cell',
    text:
      `Use a gated cell (GRU or LSTM) instead of ${ra.kind}, shorten the windows` +
      `${ra.horizon.steps ? ` to about ${ra.horizon.steps} steps` : ''}, or initialise the recurrent kernel ` +
      'orthogonally so a step neither shrinks nor grows the gradient.',
  };
}

/** Gradient clipping, with a value only when enough batches measured its distribution. */
export function clipRemedy(b: BatchStats, minBatches: number): Remedy {
  const v = b.suggestedClipnorm;
  return {
    id: 'clip-gradients',
    text:
      v !== null
        ? `Clip gradients: clipnorm=${say(v)} (the 90th percentile of ${b.norms.length} batch gradient norms) ` +
          "and lower the learning rate; an orthogonal recurrent kernel keeps the step's gain near 1."
        : `Clip gradients (clipnorm) and lower the learning rate; rnnscope saw ${b.norms.length} ` +
          `batch${b.norms.length === 1 ? '' : 'es'}, fewer than the ${minBatches} it needs to suggest a value.`,
  };
}
