// `rnnscope analyze` (a child process) on a .keras file of an LSTM read by Attention: the analysis
// JSON holds the split of ∂L/∂h_t by path, equal to the float64 split computed here from one
// gradient pass, whose attention part is checked again by finite differences of the same network
// with the attention branch reading a copy of h (test/attention-paths.test.ts explains the cut).
// The dump holds the parts per sample and step; the report draws the attention chart.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildModel } from '../src/model/build.js';
import type { ModelSpec } from '../src/model/types.js';
import { lossAndGrads } from '../src/engine/run.js';
import { encodeNpy } from '../src/io/npz-write.js';
import { readNpz } from '../src/io/npz.js';
import { attentionWatches, DirectGrads, splitPass } from '../src/analysis/attention-paths.js';
import type { Analysis } from '../src/analysis/schema.js';
import { rnnscope } from './helpers/cli-run.js';
import { kerasArchive } from './helpers/keras-write.js';
import { functional, input, kt, layer } from './helpers/keras3-config.js';
import { lstmStates, MSE64, relErr } from './helpers/attention-oracle.js';
import { centralDiff, randTensor, rng } from './helpers/layer-fd.js';

const T = 12,
  I = 3,
  U = 4,
  N = 6;
const run = MSE64;

const config = (attFrom: 'h' | 'hx') =>
  functional(
    [
      input('x', [T, I]),
      ...(attFrom === 'hx' ? [input('hx', [T, U])] : []),
      layer('LSTM', 'lstm', { units: U, return_sequences: true }, [kt('x')]),
      layer('Attention', 'attention', { use_scale: true, score_mode: 'dot', dropout: 0 }, [
        [kt(attFrom === 'h' ? 'lstm' : 'hx'), kt(attFrom === 'h' ? 'lstm' : 'hx')],
      ]),
      layer('GlobalAveragePooling1D', 'pool', {}, [kt('attention')]),
      layer('Dense', 'dense', { units: 2 }, [kt('pool')]),
    ],
    attFrom === 'hx' ? ['x', 'hx'] : ['x'],
    ['dense'],
  );

function model(attFrom: 'h' | 'hx', from: ModelSpec | null): ModelSpec {
  const m = buildModel(config(attFrom), { kerasVersion: '3.10.0', format: 'config', source: 'test' });
  const r = rng(21);
  for (const p of m.params.flat()) {
    // float32 values, so the file holds exactly these weights.
    const w = from?.weights.get(p.key) ?? { shape: p.shape, data: Float64Array.from(randTensor(p.shape, r).data) };
    m.weights.set(p.key, { shape: w.shape, data: Float64Array.from(Float32Array.from(w.data)) });
  }
  return m;
}

const dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-attention-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rnnscope analyze on an LSTM → Attention model file', () => {
  it('writes the split of ∂L/∂h_t by path, as computed here and checked by finite differences', async () => {
    const m = model('h', null);
    const r = rng(4);
    const x = { shape: [N, T, I], data: Float32Array.from(randTensor([N, T, I], r).data) };
    const y = { shape: [N, 2], data: Float32Array.from(randTensor([N, 2], r).data) };
    writeFileSync(path.join(dir, 'model.keras'), await kerasArchive(config('h'), m));
    writeFileSync(path.join(dir, 'x.npy'), encodeNpy(x));
    writeFileSync(path.join(dir, 'y.npy'), encodeNpy(y));
    const cli = await rnnscope(
      ['analyze', 'model.keras', '--data', 'x.npy', '--targets', 'y.npy', '--dtype', 'float64'].concat([
        '--batch-size',
        '2',
        '--json',
        'a.json',
        '--out',
        'report',
        '--dump',
        'd.npz',
      ]),
      { cwd: dir },
    );
    expect(cli.code, cli.stderr).toBe(0);
    const a = JSON.parse(readFileSync(path.join(dir, 'a.json'), 'utf8')) as Analysis;
    const ra = a.recurrent[0]!;
    expect(ra.attention!.consumers).toEqual(['attention']);

    // The CLI ran three batches of 2 (over both cores); one pass here over all N samples gives ∂L/∂h of the same
    // mean loss L, so the same ‖∂L/∂h_t‖_F of each part.
    const xs = { shape: x.shape, data: Float64Array.from(x.data) };
    const ys = { shape: y.shape, data: Float64Array.from(y.data) };
    const watches = attentionWatches(m);
    const direct = new DirectGrads(watches);
    const pass = lossAndGrads(m, [xs], [ys], { ...run, taps: { dh: true }, onGrad: direct.observe });
    const [s] = splitPass(watches, direct, pass.taps);
    const norms = (g: Float64Array) =>
      Array.from({ length: T }, (_, t) => {
        let q = 0;
        for (let n = 0; n < N; n++) for (let j = 0; j < U; j++) q += g[(n * T + t) * U + j]! ** 2;
        return Math.sqrt(q);
      });
    const err = (got: (number | null)[], want: number[]) =>
      Math.max(...want.map((w, t) => Math.abs((got[t] ?? NaN) - w) / Math.max(...want)));
    const errors = {
      attention: err(ra.attention!.viaAttention.norm, norms(s!.attention)),
      recurrence: err(ra.attention!.viaRecurrence.norm, norms(s!.recurrence)),
      other: Math.max(...ra.attention!.viaOther.norm.map((v) => Math.abs(v ?? NaN))),
    };

    // The attention part by FD of the loss in hx, the copy of h the attention reads in the cut network.
    const hx = lstmStates(m, xs, ys, 'lstm');
    const cut = model('hx', m);
    const loss = () => lossAndGrads(cut, [xs, { shape: [N, T, U], data: hx }], [ys], run).loss;
    const fd = centralDiff(hx, loss, { h: 1e-6 });
    const fdNorms = norms(fd);
    const fdErr = err(ra.attention!.viaAttention.norm, fdNorms);
    console.log('attention-cli relative errors:', JSON.stringify({ ...errors, attentionVsFd: fdErr }));
    expect(errors.attention).toBeLessThan(1e-9);
    expect(errors.recurrence).toBeLessThan(1e-9);
    expect(errors.other).toBe(0);
    expect(fdErr).toBeLessThan(1e-7);
    // Both paths carry gradient, and the last step gets none through the recurrence.
    expect(Math.min(...fdNorms)).toBeGreaterThan(1e-4);
    expect(ra.attention!.viaRecurrence.norm[T - 2]!).toBeGreaterThan(1e-4);
    expect(ra.attention!.viaRecurrence.norm[T - 1]!).toBeLessThan(1e-12);

    // The dump holds the parts per sample and step: the rows of the same pass (∂L/∂h of the mean loss).
    const dump = readNpz(new Uint8Array(readFileSync(path.join(dir, 'd.npz'))), 'd.npz');
    for (const [name, k] of [
      ['via_attention', 'attention'],
      ['via_recurrence', 'recurrence'],
      ['via_other', 'other'],
    ] as const) {
      const arr = dump.find((d) => d.name === `attention/lstm/${name}`)!;
      expect(arr.shape).toEqual([N, T, U]);
      expect(relErr(arr.data, s![k])).toBeLessThan(1e-12);
    }

    // The report draws the chart for the layer.
    const index = JSON.parse(readFileSync(path.join(dir, 'report', 'charts', 'index.json'), 'utf8'));
    expect(JSON.stringify(index)).toContain('attention');
  }, 300_000);
});
