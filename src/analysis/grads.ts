// One gradient pass of the analysed objective (objective.ts) over a batch: the engine's loss and
// gradients against targets (given, or the classifier's own predicted class), or the self-objective
// ½‖y‖² whose output gradient is y itself. The batches (analyze.ts) and the per-sample views
// (samples.ts) both run it.

import type { GradObserver, Params } from '../engine/graph.js';
import type { Kernels } from '../engine/kernels-js.js';
import type { LossFlavor } from '../engine/loss-config.js';
import { gradsFromOutputs, lossAndGrads, predict } from '../engine/run.js';
import type { TapRequest, TapStore } from '../engine/taps.js';
import { alloc, type DType, type Tensor } from '../engine/tensor.js';
import type { ModelSpec } from '../model/types.js';
import { selfTargets, type Objective, type OutputKind } from './objective.js';

export interface ObjectiveRun {
  model: ModelSpec;
  objective: Objective;
  flavor: LossFlavor;
  kinds: OutputKind[];
  params: Params;
  dtype: DType;
  kernels: Kernels;
}

export interface ObjectiveGrads {
  /** Mean loss over the batch. */
  loss: number;
  /** Each sample's own loss ℓ_n (its share of the batch mean, as the engine defines it). */
  perSample: Float64Array;
  grads: Params;
  dInputs: (Tensor | null)[];
  taps: TapStore;
}

/** Loss, gradients and taps of the objective over inputs `xs` (targets sliced alike, or null); onGrad: graph.ts. */
export function objectiveGrads(
  run: ObjectiveRun,
  xs: Tensor[],
  ts: Tensor[] | null,
  taps: TapRequest,
  onGrad?: GradObserver,
): ObjectiveGrads {
  const { model, objective, flavor, kinds, params, dtype, kernels } = run;
  const B = xs[0]!.shape[0]!;
  if (objective.self === 'half-squared-norm') {
    // L_b = mean_n ½‖y_n‖²  →  ∂L_b/∂y = y / B.
    const perSample = new Float64Array(B);
    const g = gradsFromOutputs(
      model,
      xs,
      (outs) =>
        outs.map((y) => {
          const d = alloc(dtype, y.data.length);
          const per = d.length / B;
          for (let i = 0; i < d.length; i++) {
            d[i] = y.data[i]! / B;
            perSample[Math.floor(i / per)] += 0.5 * y.data[i]! * y.data[i]!;
          }
          return { shape: y.shape, data: d };
        }),
      { dtype, taps, params, kernels, onGrad },
    );
    const loss = perSample.reduce((a, b) => a + b, 0) / B;
    return { loss, perSample, grads: g.grads, dInputs: g.dInputs, taps: g.taps };
  }
  const targets = ts ?? selfTargets(predict(model, xs, { params, dtype, kernels }), kinds);
  const r = lossAndGrads(model, xs, targets, {
    losses: objective.losses,
    flavor,
    dtype,
    taps,
    params,
    kernels,
    onGrad,
  });
  return { loss: r.loss, perSample: r.perSample, grads: r.grads, dInputs: r.dInputs, taps: r.taps };
}
