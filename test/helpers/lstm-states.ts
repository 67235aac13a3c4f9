// A float64 mse run of the engine, and an LSTM's hidden states recovered from its taps: the
// attention-path tests feed them back as a copy of h to the network with the path cut.

import type { ModelSpec } from '../../src/model/types.js';
import { jsKernels } from '../../src/engine/kernels.js';
import { lossAndGrads } from '../../src/engine/run.js';
import type { Tensor } from '../../src/engine/tensor.js';

/** lossAndGrads options: mse on every output, float64, the JavaScript kernels. */
export const MSE64 = {
  losses: [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }],
  flavor: 'keras3' as const,
  dtype: 'float64' as const,
  kernels: jsKernels,
};

/** h_t = o_t ⊙ tanh(c_t) of LSTM `layer` (direction `dir`), (B, T, U) at input positions, from its gate and c taps.
 * */
export function lstmStates(
  m: ModelSpec,
  x: Tensor,
  y: Tensor,
  layer: string,
  dir: 'forward' | 'backward' | null = null,
): Float64Array {
  const tp = lossAndGrads(m, [x], [y], { ...MSE64, taps: { gates: true, c: true } }).taps.get(layer, dir)!;
  const U = tp.units;
  return Float64Array.from({ length: tp.batch * tp.steps * U }, (_, i) => {
    const bt = Math.floor(i / U);
    return tp.data.gates![bt * 4 * U + 3 * U + (i % U)]! * Math.tanh(tp.data.c![i]!);
  });
}
