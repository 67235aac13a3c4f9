// One gradient of the dropped model on its data, with every tap, on this worker's thread or split
// over the gradient pool: window.rnnscopeApp.gradient() asks for it, so that the two can be compared
// in the page itself (test/browser-pool.test.ts). Pure: no DOM.

import { planAnalysis } from '../src/analysis/analyze.js';
import { kernels } from '../src/engine/kernels.js';
import type { GradPool } from '../src/engine/pool.js';
import { lossAndGrads, type LossOptions } from '../src/engine/run.js';
import { ALL_TAPS } from '../src/engine/taps.js';
import { alloc, type Tensor } from '../src/engine/tensor.js';
import { DataError } from '../src/model/errors.js';
import type { Warning } from '../src/model/types.js';
import type { Answers, Session } from './app-inspect.js';

export interface GradientRequest {
  /** 'one': lossAndGrads on this thread; 'pool': the pool's lossAndGrads (split when it can be). */
  threads: 'one' | 'pool';
  loss?: string;
  /** The first samples of the data used (default all). */
  samples?: number;
}

export interface GradientAnswer {
  loss: number;
  perSample: Float64Array;
  /** Parameter gradients by key, in model order. */
  grads: { key: string; data: Float32Array | Float64Array }[];
  /** Every tap of every recurrent layer (direction), in order. */
  taps: { layer: string; direction: string | null; name: string; data: Float32Array | Float64Array | Uint8Array }[];
  /** The pool's describe() line and its counters after the call. */
  pool: { describe: string; threads: number; calls: number; split: number; workersStarted: number };
}

export function gradientOf(s: Session, answers: Answers, r: GradientRequest, pool: GradPool): GradientAnswer {
  const run = s.found.runs[0];
  if (!run) throw new DataError('No model was dropped; expected one before asking for its gradient; drop a model.');
  const model = run.model;
  const warnings: Warning[] = [];
  const data = s.input(r.loss, answers, warnings);
  if (!data.inputs || !data.targets)
    throw new DataError(
      'The gradient needs data and targets; found none; drop the inputs and the targets (x.npy, y.npy) with the model.',
    );
  const plan = planAnalysis(model, data, { loss: r.loss, ...(r.samples ? { maxSamples: r.samples } : {}) });
  const first = (t: { shape: number[]; data: ArrayLike<number> }): Tensor => {
    const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
    const out = alloc('float32', plan.N * per);
    for (let i = 0; i < out.length; i++) out[i] = t.data[i]!;
    return { shape: [plan.N, ...t.shape.slice(1)], data: out };
  };
  const xs = plan.inputs.map(first);
  const ts = data.targets.map(first);
  const opts: LossOptions = {
    losses: plan.objective.losses,
    flavor: plan.flavor,
    dtype: 'float32',
    taps: ALL_TAPS,
    params: plan.params,
    kernels: kernels(),
  };
  const g = r.threads === 'pool' ? pool.lossAndGrads(model, xs, ts, opts) : lossAndGrads(model, xs, ts, opts);
  const grads: GradientAnswer['grads'] = [];
  model.params.forEach((ps, li) =>
    ps.forEach((p, pi) => grads.push({ key: p.key, data: g.grads[li]![pi]!.data.slice() })),
  );
  const taps: GradientAnswer['taps'] = [];
  for (const l of g.taps.layers)
    for (const [name, a] of Object.entries(l.data))
      taps.push({ layer: l.layer, direction: l.direction, name, data: a!.slice() });
  return {
    loss: g.loss,
    perSample: Float64Array.from(g.perSample),
    grads,
    taps,
    pool: { describe: pool.describe(), threads: pool.threads, ...pool.stats },
  };
}
