// Which loss the analysis differentiates when the model file names one: Keras's own loss is used as stored; a
// project's own loss function (its code is not in the file) gives way to rnnscope's default for the output, and the
// objective's description says so (it used to stop the analysis with the engine's internal option message).

import { describe, expect, test } from 'vitest';
import { buildModel } from '../src/model/build.js';
import { chooseObjective } from '../src/analysis/objective.js';
import { sequential } from './model-helpers.js';

const model = (loss: unknown) =>
  buildModel(
    sequential(
      'keras2',
      [null, 5, 3],
      [
        { class_name: 'LSTM', config: { name: 'lstm', units: 4 } },
        { class_name: 'Dense', config: { name: 'out', units: 1, activation: 'linear' } },
      ],
    ),
    { kerasVersion: '2.15.0', format: 'keras-h5', trainingConfig: { loss }, source: 'model.h5' },
  );

describe('the stored loss', () => {
  test("Keras's own loss is used as stored", () => {
    const o = chooseObjective(model('mean_absolute_error'), undefined, true);
    expect(o.lossSource).toBe('model');
    expect(o.losses.map((l) => l.name)).toEqual(['mae']);
  });
  test("a project's own loss falls back to the output's default, and the description says why", () => {
    const m = model('euclidean_distance_loss');
    expect(m.warnings.map((w) => w.code)).toContain('unknown-loss');
    const o = chooseObjective(m, undefined, true);
    expect(o.lossSource).toBe('default');
    expect(o.losses.map((l) => l.name)).toEqual(['mse']);
    expect(o.description).toBe(
      "The model file's loss 'euclidean_distance_loss' is not a Keras loss (a function of the project's own, whose code is not in the file), so L is mse against the given targets (rnnscope's default for this output activation; choose another with --loss).",
    );
    // --loss still wins.
    expect(chooseObjective(m, 'huber', true).losses.map((l) => l.name)).toEqual(['huber']);
  });
});
