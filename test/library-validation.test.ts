// The library's entry points refuse wrong arguments with one typed error that lists every
// problem (issue 10 item 8): buffers shorter than their shape, targets that only match in
// element count, negative or zero batches, null targets, unknown or ill-typed options, values
// float32 cannot hold. Before, these gave NaN gradients, raw RangeError/TypeError, or silence.
import { describe, expect, it } from 'vitest';
import { gradsFromOutputs, lossAndGrads, predict, type LossOptions } from '../src/engine/run.js';
import { materializeParams } from '../src/engine/graph.js';
import { analyze, checkAnalyzeArgs } from '../src/analysis/index.js';
import { analyzeModel } from '../src/analysis/analyze.js';
import { DataError, RnnscopeError, UsageError } from '../src/model/errors.js';
import type { Tensor } from '../src/engine/tensor.js';
import { dense, recurrent, rnnSpec, sequential } from './helpers/models.js';
import { lcg, randArr } from './helpers/rng.js';

// input (None, 5, 2) → LSTM(3) → Dense(4, softmax): output (None, 4).
const m = sequential(5, 2, [recurrent('lstm', rnnSpec('LSTM', 2, 3)), dense('out', 4, 'softmax')]);
const x = (B: number): Tensor => ({ shape: [B, 5, 2], data: randArr(lcg(B), B * 10) });
const oneHot = (ids: number[]): Tensor => ({
  shape: [ids.length, 4],
  data: Float64Array.from(ids.flatMap((k) => [0, 1, 2, 3].map((c) => (c === k ? 1 : 0)))),
});
const cce: LossOptions = {
  losses: [{ name: 'categorical_crossentropy', fromLogits: false, labelSmoothing: 0 }],
  flavor: 'keras3',
  dtype: 'float64',
};

function caught(f: () => unknown): RnnscopeError {
  try {
    f();
  } catch (e) {
    if (e instanceof RnnscopeError) return e;
    throw new Error(`expected an RnnscopeError, got ${String(e)}`);
  }
  throw new Error('expected an error, got none');
}

describe('lossAndGrads: arrays', () => {
  it('an input buffer shorter than its shape is a DataError (was: NaN gradients)', () => {
    const short = { shape: [2, 5, 2], data: new Float64Array(15) };
    const e = caught(() => lossAndGrads(m, [short], [oneHot([0, 1])], cce));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toBe(
      "lossAndGrads: input 'input' has shape (2, 5, 2) (20 values) but its buffer holds 15; pass one array per model input (and output) with the shape the model declares, samples first, and a buffer of exactly that many values.",
    );
  });

  it('targets that only match in element count are refused (was: accepted)', () => {
    // (4, 2) holds 8 values like the (2, 4) output, but is not its shape.
    const e = caught(() => lossAndGrads(m, [x(2)], [{ shape: [4, 2], data: new Float64Array(8) }], cce));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toMatch(
      /target 'out' has 4 samples but the inputs have 2.*target 'out' has shape \(4, 2\), expected \(None, 4\)/,
    );
    // Same batch, same count, wrong layout: (2, 2, 2) for (2, 4).
    expect(
      caught(() => lossAndGrads(m, [x(2)], [{ shape: [2, 2, 2], data: new Float64Array(8) }], cce)).message,
    ).toMatch(/^lossAndGrads: target 'out' has shape \(2, 2, 2\), expected \(None, 4\); /);
  });

  it('a negative batch and a null target are DataErrors (were: RangeError, TypeError)', () => {
    const neg = caught(() => lossAndGrads(m, [{ shape: [-1, 5, 2], data: new Float64Array(0) }], [oneHot([0])], cce));
    expect(neg).toBeInstanceOf(DataError);
    expect(neg.message).toContain(
      "input 'input' has shape [-1, 5, 2], expected an array of non-negative integers such as (None, 5, 2)",
    );
    const nul = caught(() => lossAndGrads(m, [x(2)], [null as unknown as Tensor], cce));
    expect(nul).toBeInstanceOf(DataError);
    expect(nul.message).toBe(
      "lossAndGrads: target 'out' is null, expected { shape, data }; pass one array per model input (and output) with the shape the model declares, samples first, and a buffer of exactly that many values.",
    );
    expect(caught(() => lossAndGrads(m, [x(2)], null as unknown as Tensor[], cce)).message).toContain(
      'the targets are null',
    );
    expect(
      caught(() =>
        lossAndGrads(
          m,
          [{ shape: [0, 5, 2], data: new Float64Array(0) }],
          [{ shape: [0, 4], data: new Float64Array(0) }],
          cce,
        ),
      ).message,
    ).toContain("input 'input' has shape (0, 5, 2), that is 0 samples, expected at least 1");
  });

  it('every problem at once, data and options together', () => {
    const e = caught(() =>
      lossAndGrads(m, [{ shape: [2, 5, 2], data: new Float64Array(3) }], [null as unknown as Tensor], {
        ...cce,
        flavor: 'keras' as never,
      }),
    );
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toMatch(
      /^lossAndGrads has 3 problems: input 'input' has shape \(2, 5, 2\) \(20 values\) but its buffer holds 3; target 'out' is null, expected \{ shape, data \}; option flavor is 'keras' \(did you mean 'keras3', 'keras2' or 'keras1'\?\), expected one of keras3, tf\.keras, keras2, keras1, tfjs/,
    );
  });

  it('a plain array holding a string is refused, not read as NaN', () => {
    const e = caught(() =>
      predict(m, [
        { shape: [1, 5, 2], data: [0, 1, 2, 3, 4, 5, 6, 7, 8, '9'] as unknown as number[] } as unknown as Tensor,
      ]),
    );
    expect(e.message).toContain("input 'input' holds a string at flat index 9, expected numbers only");
  });
});

describe('lossAndGrads: options', () => {
  it('bogus flavor, taps and dtype are one UsageError naming each (was: accepted silently)', () => {
    const e = caught(() =>
      lossAndGrads(m, [x(2)], [oneHot([0, 1])], {
        ...cce,
        flavor: 'bogus' as never,
        dtype: 'float16' as never,
        taps: { dH: true, gates: 'yes' } as never,
      }),
    );
    expect(e).toBeInstanceOf(UsageError);
    expect(e.stage).toBe('usage');
    expect(e.message).toMatch(/^lossAndGrads has 4 problems: /);
    expect(e.message).toContain("option dtype is 'float16', expected 'float32' or 'float64'");
    expect(e.message).toContain(
      "option taps has unknown key 'dH' (did you mean 'dh'?), expected only dh, dc, dx, gateGrad, gates, hPrev, cPrev, c, z, x, rh",
    );
    expect(e.message).toContain("option taps.gates is 'yes', expected true or false");
    expect(e.message).toContain("option flavor is 'bogus', expected one of keras3, tf.keras, keras2, keras1, tfjs");
    expect(e.message).toMatch(/; fix the options \(see LossOptions for keys and values\)\.$/);
  });

  it('unknown option keys, losses that are not LossConfigs, params in the wrong dtype', () => {
    const e = caught(() =>
      lossAndGrads(m, [x(2)], [oneHot([0, 1])], {
        ...cce,
        tap: { dh: true },
        losses: [{ name: 'CategoricalCrossentropy', fromLogits: 0, labelSmoothing: 1 }],
        params: materializeParams(m, 'float32'),
      } as never),
    );
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toContain("the options has unknown key 'tap' (did you mean 'taps'?)");
    expect(e.message).toContain(
      "losses[0].name is 'CategoricalCrossentropy' (its canonical name is 'categorical_crossentropy': build losses with parseLoss)",
    );
    expect(e.message).toContain('losses[0].fromLogits is 0, expected true or false');
    expect(e.message).toContain('losses[0].labelSmoothing is 1, expected a number in [0, 1)');
    expect(e.message).toContain(
      "option params[0][0] (lstm/kernel) is not a Float64Array of 24 values, expected its weight (2, 12) in the run's dtype (materializeParams(model, 'float64') gives them)",
    );
    expect(
      caught(() =>
        lossAndGrads(m, [x(2)], [oneHot([0, 1])], {
          ...cce,
          losses: [{ name: 'categorical_crosentropy', fromLogits: false, labelSmoothing: 0 }],
        }),
      ).message,
    ).toContain("losses[0].name is 'categorical_crosentropy' (did you mean 'categorical_crossentropy'?)");
    expect(caught(() => lossAndGrads(m, [x(2)], [oneHot([0, 1])], { ...cce, losses: [] })).message).toContain(
      'option losses has 0 loss(es), expected 1 (one per output: out)',
    );
    expect(caught(() => lossAndGrads(m, [x(2)], [oneHot([0, 1])], undefined as never)).message).toContain(
      'the options are undefined, expected an object with losses and flavor',
    );
  });

  it('predict and gradsFromOutputs check their options and arrays too', () => {
    expect(caught(() => predict(m, [x(2)], { dtype: 'double' as never }))).toBeInstanceOf(UsageError);
    expect(caught(() => predict(m, [x(2), x(2)]))).toBeInstanceOf(DataError);
    const e = caught(() =>
      gradsFromOutputs(m, [x(2)], [{ shape: [2, 3], data: new Float64Array(6) }], { dtype: 'float64' }),
    );
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toContain("output gradient 'out' has shape (2, 3), expected (2, 4)");
    expect(caught(() => gradsFromOutputs(m, [x(2)], () => [], { dtype: 'float64' })).message).toContain(
      'the output gradients are 0 array(s), expected 1',
    );
  });
});

describe('valid calls still run, and mean what they say', () => {
  it('class ids for sparse_categorical_crossentropy give the one-hot categorical result; (B,) targets fit a (B, 1) output', () => {
    const ids = [2, 0, 3];
    const sparse = lossAndGrads(m, [x(3)], [{ shape: [3], data: Float64Array.from(ids) }], {
      ...cce,
      losses: [{ name: 'sparse_categorical_crossentropy', fromLogits: false, labelSmoothing: 0 }],
    });
    const dense1 = lossAndGrads(m, [x(3)], [oneHot(ids)], cce);
    expect(Math.abs(sparse.loss - dense1.loss)).toBeLessThan(1e-12);
    expect(
      Array.from(sparse.grads[0]![0]!.data).every((g, i) => Math.abs(g - dense1.grads[0]![0]!.data[i]!) < 1e-12),
    ).toBe(true);
    // Class ids are refused for a loss that needs the output's shape.
    expect(
      caught(() => lossAndGrads(m, [x(3)], [{ shape: [3], data: Float64Array.from(ids) }], cce)).message,
    ).toContain("target 'out' has shape (3,), expected (None, 4)");
    const reg = sequential(5, 2, [recurrent('r', rnnSpec('GRU', 2, 3)), dense('y', 1)]);
    const mse: LossOptions = {
      losses: [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }],
      flavor: 'keras3',
      dtype: 'float64',
    };
    const t = randArr(lcg(9), 3);
    const flat = lossAndGrads(reg, [x(3)], [{ shape: [3], data: t }], mse);
    const col = lossAndGrads(reg, [x(3)], [{ shape: [3, 1], data: t }], mse);
    expect(flat.loss).toBe(col.loss);
  });
});

describe('values a float32 run cannot hold', () => {
  it('float64 inputs beyond float32 are refused in a float32 run, accepted in a float64 run', () => {
    const big = x(2);
    big.data[3] = 1e39;
    big.data[17] = -4e38;
    const e = caught(() => lossAndGrads(m, [big], [oneHot([0, 1])], { ...cce, dtype: 'float32' }));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toBe(
      "lossAndGrads: input 'input' holds 2 value(s) beyond float32's range of ±3.4028235e+38 (first 1e+39 at [0, 1, 1]); float32 cannot hold them (they would become ±Infinity and the gradients NaN), so rescale the data or compute in float64 with --dtype float64.",
    );
    // The largest float32 itself is fine; in float64 the large values are ordinary numbers.
    const edge = x(2);
    edge.data[0] = 3.4028234663852886e38;
    expect(() => predict(m, [edge], { dtype: 'float32' })).not.toThrow();
    expect(Number.isFinite(lossAndGrads(m, [big], [oneHot([0, 1])], cce).loss)).toBe(true);
  });

  it('NaN/Inf anywhere (inputs and targets) is listed in one error, whatever the dtype', () => {
    const bad = x(2);
    bad.data[5] = NaN;
    const t = oneHot([0, 1]);
    t.data[7] = Infinity;
    const e = caught(() => lossAndGrads(m, [bad], [t], cce));
    expect(e.message).toBe(
      "lossAndGrads has 2 problems: input 'input' holds 1 NaN/Inf value(s) (first NaN at [0, 2, 1]); target 'out' holds 1 NaN/Inf value(s) (first Infinity at [1, 3]); gradients would be NaN, so clean or impute the data first.",
    );
  });
});

describe('analyze', () => {
  it('zero samples is a DataError, not a healthy report', async () => {
    const e = await analyze([m], { inputs: [{ shape: [0, 5, 2], data: new Float32Array(0) }], targets: null }).catch(
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(DataError);
    expect((e as Error).message).toBe(
      "analyze: input 'input' has shape (0, 5, 2), that is 0 samples, expected at least 1; pass one array per model input (and output) with the shape the model declares, samples first, and a buffer of exactly that many values.",
    );
  });

  it('options: unknown keys, zero counts, an empty or misspelt loss; the models and labels', async () => {
    const e = caught(() =>
      analyzeModel(m, { inputs: [x(4)], targets: null }, { batchsize: 2, maxSamples: 0, loss: '' } as never),
    );
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toContain("the options has unknown key 'batchsize' (did you mean 'batchSize'?)");
    expect(e.message).toContain('option maxSamples is 0, expected a positive integer');
    expect(e.message).toContain("option loss is '', expected a loss name such as 'mse'");
    // Without targets the loss is not used, but a misspelt one is still a mistake.
    expect(caught(() => analyzeModel(m, { inputs: [x(4)], targets: null }, { loss: 'msee' })).message).toContain(
      "option loss is 'msee', expected a supported loss (did you mean 'mse' or 'msle'?)",
    );
    expect(
      caught(() => analyzeModel(m, { inputs: [x(4)], targets: null }, { thresholds: { horizon: 1 } as never })).message,
    ).toContain('horizon is not');
    await expect(analyze([], { inputs: null, targets: null })).rejects.toThrow(UsageError);
    await expect(analyze([m, m], { inputs: null, targets: null }, { labels: ['a'] })).rejects.toThrow(
      /1 label\(s\) were given for 2 model\(s\)/,
    );
  });

  it('data: values beyond float32, short buffers, targets without inputs, target shapes', () => {
    const big = { shape: [2, 5, 2], data: Float64Array.from(x(2).data) };
    big.data[19] = 1e300;
    const e = caught(() =>
      analyzeModel(
        m,
        { inputs: [big], targets: [{ shape: [2, 4], data: new Float64Array(7) }] },
        { loss: 'categorical_crossentropy' },
      ),
    );
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toMatch(
      /^analyze has 2 problems: target 'out' has shape \(2, 4\) \(8 values\) but its buffer holds 7; input 'input' holds 1 value\(s\) beyond float32's range of ±3\.4028235e\+38 \(first 1e\+300 at \[1, 4, 1\]\); /,
    );
    // The float32 range applies to float32 runs only: the same data is fine for a float64 analysis.
    expect(() => checkAnalyzeArgs(m, { inputs: [big], targets: null }, { dtype: 'float64' })).not.toThrow();
    expect(() => checkAnalyzeArgs(m, { inputs: [big], targets: null }, { dtype: 'float32' })).toThrow(
      /beyond float32's range/,
    );
    expect(caught(() => analyzeModel(m, { inputs: null, targets: [oneHot([0])] })).message).toContain(
      'targets were given without inputs',
    );
    // Class ids are fine for a sparse loss; the same ids with a categorical loss are not.
    const ids = { shape: [4], data: Float64Array.from([0, 1, 2, 3]) };
    expect(() =>
      analyzeModel(m, { inputs: [x(4)], targets: [ids] }, { loss: 'sparse_categorical_crossentropy', batchSize: 4 }),
    ).not.toThrow();
    expect(
      caught(() => analyzeModel(m, { inputs: [x(4)], targets: [ids] }, { loss: 'categorical_crossentropy' })).message,
    ).toContain("target 'out' has shape (4,), expected (None, 4)");
  });
});
