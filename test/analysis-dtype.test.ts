// The analysis dtype (AnalyzeOptions.dtype, `--dtype`): with float64 every number of the analysis,
// the JSON and the dump is computed in float64. Checked on a corpus model with numpy-written data
// against a float64 reference that shares none of the analysis code: one engine pass over all
// samples at once (lossAndGrads, float64 taps), whose own numerics are checked against finite
// differences and PyTorch elsewhere.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeModel } from '../src/analysis/analyze.js';
import { analyzeModelParallel } from '../src/analyze-parallel.js';
import { lossAndGrads } from '../src/engine/run.js';
import { loadModelFile } from '../src/io/node.js';
import { UsageError } from '../src/model/errors.js';
import type { Analysis } from '../src/analysis/schema.js';
import { CORPUS, USERDATA, hasPython, npyArrays, readNpzWithNumpy, rnnscope } from './helpers/cli-run.js';

const HAR = path.join(CORPUS, 'k3_hatice_har_lstm', 'lstm_model.keras');
const X = path.join(USERDATA, 'har', 'x.npy'),
  Y = path.join(USERDATA, 'har', 'y.npy');
const TMP = mkdtempSync(path.join(tmpdir(), 'rnnscope-dtype-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const relMax = (a: (number | null)[], b: number[]): number =>
  Math.max(...b.map((v, i) => Math.abs(a[i]! - v) / Math.max(Math.abs(v), 1e-300)));

/** The first N samples (float64 on the JavaScript kernels is slow: the test keeps the run small). */
const N = 8;
const OPTS = { batchSize: 4, jacobianSamples: 2, jacobianIterations: 3 };
const CLI_OPTS = ['--max-samples', String(N), '--batch-size', '4'];

async function setup() {
  const model = await loadModelFile(HAR);
  const first = (a: { shape: number[]; data: Float64Array }) => ({
    shape: [N, ...a.shape.slice(1)],
    data: a.data.slice(0, (a.data.length / a.shape[0]!) * N),
  });
  const [x] = npyArrays([X]),
    [y] = npyArrays([Y]);
  return { model, input: { inputs: [first(x!)], targets: [first(y!)] } };
}

/** ‖∂L/∂h_t‖ per step, loss and every parameter's gradient norm from one float64 pass over all samples. */
async function reference() {
  const { model, input } = await setup();
  const loss = model.meta.loss!;
  const r = lossAndGrads(model, input.inputs, input.targets, {
    losses: loss,
    flavor: 'keras3',
    dtype: 'float64',
    taps: { dh: true },
  });
  const tp = r.taps.layers[0]!;
  const dh = Array.from({ length: tp.steps }, (_, t) => {
    let s = 0;
    for (let b = 0; b < tp.batch; b++)
      for (let u = 0; u < tp.units; u++) s += tp.data.dh![(b * tp.steps + t) * tp.units + u]! ** 2;
    return Math.sqrt(s);
  });
  const grads = r.grads.flatMap((ps) => ps.map((g) => Math.hypot(...g.data)));
  return { loss: r.loss, dh, grads, layer: tp.layer };
}

describe('float64 analysis', () => {
  it('equals an independent float64 reference to 1e-12; float32 differs from it by float32-sized amounts', {
    timeout: 600_000,
  }, async () => {
    const { model, input } = await setup();
    const ref = await reference();
    const a64 = analyzeModel(model, input, { ...OPTS, dtype: 'float64' }).analysis;
    const a32 = analyzeModel(model, input, OPTS).analysis;
    const ra64 = a64.recurrent.find((r) => r.layer === ref.layer)!,
      ra32 = a32.recurrent.find((r) => r.layer === ref.layer)!;
    const params = (a: Analysis) => a.params.map((p) => p.gradNorm!);
    // float64: the batches, scalings and accumulators add only float64 rounding.
    expect(Math.abs(a64.objective.value! - ref.loss) / ref.loss).toBeLessThan(1e-12);
    expect(relMax(ra64.dh.norm, ref.dh)).toBeLessThan(1e-12);
    expect(relMax(params(a64), ref.grads)).toBeLessThan(1e-12);
    // float32: close (the model is not saturated on this data), but visibly not float64.
    const d32 = relMax(ra32.dh.norm, ref.dh),
      g32 = relMax(params(a32), ref.grads);
    expect(d32).toBeLessThan(1e-3);
    expect(d32).toBeGreaterThan(1e-9);
    expect(g32).toBeLessThan(1e-3);
    expect(g32).toBeGreaterThan(1e-9);
    // Contributions add up to the float64 gradient blocks to float64 precision.
    for (const c of ra64.contributions) {
      const p = a64.params.find((q) => q.layer === ra64.layer && q.name === c.group)!;
      const g = p.blocks!.find((b) => b.gate === c.gate)!.gradNorm!;
      expect(Math.abs(c.total! - g) / g).toBeLessThan(1e-11);
    }
  });

  it('is the same on two threads (workers compute in float64 too)', { timeout: 600_000 }, async () => {
    const { model, input } = await setup();
    const one = analyzeModel(model, input, { ...OPTS, dtype: 'float64' }).analysis;
    const two = (await analyzeModelParallel(model, input, { ...OPTS, dtype: 'float64', workers: 2 })).analysis;
    expect(relMax(two.recurrent[0]!.dh.norm, one.recurrent[0]!.dh.norm as number[])).toBeLessThan(1e-13);
    expect(
      relMax(two.recurrent[0]!.contributions[0]!.norm, one.recurrent[0]!.contributions[0]!.norm as number[]),
    ).toBeLessThan(1e-13);
    expect(two.recurrent[0]!.jacobian!.median).toEqual(one.recurrent[0]!.jacobian!.median);
  });

  it('refuses other dtypes with a typed error naming the option', async () => {
    const { model, input } = await setup();
    expect(() => analyzeModel(model, input, { dtype: 'float16' as 'float32' })).toThrow(UsageError);
    expect(() => analyzeModel(model, input, { dtype: 'float16' as 'float32' })).toThrow(
      /dtype is 'float16', expected 'float32' or 'float64'/,
    );
  });
});

describe.runIf(hasPython())('rnnscope analyze --dtype', () => {
  it('float64: the JSON equals the library float64 analysis and the dump holds float64 arrays', {
    timeout: 600_000,
  }, async () => {
    const dump = path.join(TMP, 'd64.npz');
    const r = await rnnscope([
      'analyze',
      HAR,
      '--data',
      X,
      '--targets',
      Y,
      ...CLI_OPTS,
      '--dtype',
      'float64',
      '--json',
      '-',
      '--dump',
      dump,
      '--quiet',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const cli = JSON.parse(r.stdout) as Analysis;
    const { model, input } = await setup();
    const lib = analyzeModel(model, input, { batchSize: 4, dtype: 'float64', keepRaw: true });
    expect(cli.recurrent[0]!.dh.norm).toEqual(lib.analysis.recurrent[0]!.dh.norm);
    expect(cli.params.map((p) => p.gradNorm)).toEqual(lib.analysis.params.map((p) => p.gradNorm));
    expect(cli.objective.value).toBe(lib.analysis.objective.value);
    const ref = await reference();
    expect(relMax(cli.recurrent.find((x) => x.layer === ref.layer)!.dh.norm, ref.dh)).toBeLessThan(1e-12);
    const z = readNpzWithNumpy(dump);
    expect(z.size).toBe(lib.raw!.size);
    for (const [k, a] of z) {
      expect(a.dtype, k).toBe('<f8');
      expect(Array.from(a.data), k).toEqual(Array.from(lib.raw!.get(k)!.data));
    }
  });

  it('float32 (the default) dumps float32 taps; another value is a usage error (exit 2)', {
    timeout: 600_000,
  }, async () => {
    const dump = path.join(TMP, 'd32.npz');
    const ok = await rnnscope([
      'analyze',
      HAR,
      '--data',
      X,
      '--targets',
      Y,
      ...CLI_OPTS,
      '--dtype',
      'float32',
      '--dump',
      dump,
      '--quiet',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const z = readNpzWithNumpy(dump);
    expect([...z].filter(([k]) => k.startsWith('dh/')).every(([, a]) => a.dtype === '<f4')).toBe(true);
    const bad = await rnnscope(['analyze', HAR, '--data', X, '--dtype', 'float16', '--json', '-']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/float16.*float32, float64/s);
    expect(bad.stdout).toBe('');
  });
});
