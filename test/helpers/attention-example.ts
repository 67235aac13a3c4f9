// A computed analysis of a model whose attention reads an LSTM (plus a Flatten → Dense reader), for
// the attention chart's tests: seeded weights and data, float64 with the JavaScript kernels, so the
// numbers are the same on every machine.

import { analyzeModel } from '../../src/analysis/analyze.js';
import type { Analysis } from '../../src/analysis/schema.js';
import { jsKernels } from '../../src/engine/kernels.js';
import { buildModel } from '../../src/model/build.js';
import { functional, input, kt, layer } from './keras3-config.js';
import { randTensor, rng } from './layer-fd.js';

export function attentionExample(): Analysis {
  const T = 12,
    I = 3,
    N = 8;
  const m = buildModel(
    functional(
      [
        input('x', [T, I]),
        layer('LSTM', 'lstm', { units: 4, return_sequences: true }, [kt('x')]),
        layer('Attention', 'attention', { use_scale: false, score_mode: 'dot', dropout: 0 }, [
          [kt('lstm'), kt('lstm')],
        ]),
        layer('GlobalAveragePooling1D', 'pool', {}, [kt('attention')]),
        layer('Dense', 'o1', { units: 2 }, [kt('pool')]),
        layer('Flatten', 'flat', {}, [kt('lstm')]),
        layer('Dense', 'o2', { units: 2 }, [kt('flat')]),
        layer('Add', 'out', {}, [[kt('o1'), kt('o2')]]),
      ],
      ['x'],
      ['out'],
    ),
    { kerasVersion: '3.10.0', format: 'config', source: 'attention-example' },
  );
  const r = rng(31);
  for (const p of m.params.flat())
    m.weights.set(p.key, { shape: p.shape, data: randTensor(p.shape, r).data as Float64Array });
  const data = { inputs: [randTensor([N, T, I], r)], targets: [randTensor([N, 2], r)] };
  return analyzeModel(m, data, { dtype: 'float64', kernels: jsKernels, samples: false, label: 'attention example' })
    .analysis;
}
