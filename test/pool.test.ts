// The gradient pool (src/engine/pool.ts, src/pool-node.ts): one gradient's batch split across a
// persistent worker thread and this one equals the single-thread lossAndGrads within 1e-6 relative
// (every parameter gradient, every tap, outputs, input gradients, per-sample losses), for LSTM, GRU
// (both reset forms), SimpleRNN and Bidirectional, with an even and an odd split; the workers are
// started once and reused; from the second call of the same shapes on, both threads record the taps
// straight into shared result arrays, with the same results; an error in a worker's share arrives as
// the same typed error; an idle pool does not keep the process alive, and closing it ends its workers.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LayerSpec, RecurrentKind } from '../src/model/types.js';
import { DataError } from '../src/model/errors.js';
import { lossAndGrads, type GradResult } from '../src/engine/run.js';
import { ALL_TAPS, type TapRequest } from '../src/engine/taps.js';
import { analyzeModelParallel } from '../src/analyze-parallel.js';
import { closeGradPool, createNodeGradPool, gradPool } from '../src/pool-node.js';
import { dense, recurrent, rnnSpec, sequential } from './helpers/models.js';
import { lcg, randArr } from './helpers/rng.js';

const ALL: TapRequest = ALL_TAPS;
const T = 13,
  I = 5;
const mse = [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }];
const pool = createNodeGradPool(1);
afterAll(async () => {
  await pool.close();
  await closeGradPool();
});

/** max |a − b| ÷ max |a| (0 when both are zero). */
function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(b.length).toBe(a.length);
  let d = 0,
    n = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    n = Math.max(n, Math.abs(a[i]!));
  }
  return n === 0 ? d : d / n;
}

function compare(one: GradResult, two: GradResult): number {
  const errs: number[] = [rel([one.loss], [two.loss]), rel(one.perSample, two.perSample)];
  one.outputs.forEach((o, i) => errs.push(rel(o.data, two.outputs[i]!.data)));
  one.grads.forEach((gs, li) => gs.forEach((g, pi) => errs.push(rel(g.data, two.grads[li]![pi]!.data))));
  one.dInputs.forEach((d, i) => d && errs.push(rel(d.data, two.dInputs[i]!.data)));
  expect(two.taps.layers.length).toBe(one.taps.layers.length);
  let taps = 0;
  one.taps.layers.forEach((l, i) => {
    const m = two.taps.layers[i]!;
    expect([m.layer, m.direction, m.batch, Object.keys(m.data)]).toEqual([
      l.layer,
      l.direction,
      l.batch,
      Object.keys(l.data),
    ]);
    for (const k of Object.keys(l.data) as (keyof typeof l.data)[]) {
      errs.push(rel(l.data[k]!, m.data[k]!));
      taps++;
    }
  });
  expect(taps).toBeGreaterThan(0);
  return Math.max(...errs);
}

const bi = (kind: RecurrentKind, U: number): LayerSpec => ({
  type: 'Bidirectional',
  name: 'bi',
  className: 'Bidirectional',
  forward: rnnSpec(kind, I, U, { returnSequences: true }),
  backward: rnnSpec(kind, I, U, { returnSequences: true, goBackwards: true }),
  mergeMode: 'concat',
  forwardName: 'f',
  backwardName: 'b',
});

const MODELS: [string, () => LayerSpec[]][] = [
  [
    'W-like LSTM (2 layers)',
    () => [
      recurrent('l1', rnnSpec('LSTM', I, 12, { returnSequences: true })),
      recurrent('l2', rnnSpec('LSTM', 12, 12)),
      dense('d', 2),
    ],
  ],
  [
    'GRU reset_after, then GRU reset_before',
    () => [
      recurrent('g1', rnnSpec('GRU', I, 10, { returnSequences: true, resetAfter: true })),
      recurrent('g2', rnnSpec('GRU', 10, 9, { resetAfter: false })),
      dense('d', 2),
    ],
  ],
  [
    'SimpleRNN (2 layers)',
    () => [
      recurrent('r1', rnnSpec('SimpleRNN', I, 11, { returnSequences: true })),
      recurrent('r2', rnnSpec('SimpleRNN', 11, 8)),
      dense('d', 2),
    ],
  ],
  ['Bidirectional LSTM', () => [bi('LSTM', 7), recurrent('l', rnnSpec('LSTM', 14, 6)), dense('d', 2)]],
];

describe('gradient pool', () => {
  for (const [name, layers] of MODELS) {
    for (const B of [8, 7]) {
      it(`${name}, batch ${B}: two threads equal one within 1e-6 (all taps, all parameter gradients)`, () => {
        const model = sequential(T, I, layers(), 3);
        const r = lcg(B);
        const x = { shape: [B, T, I], data: randArr(r, B * T * I, 1.2) };
        const y = { shape: [B, 2], data: randArr(r, B * 2, 1) };
        const opts = { losses: mse, flavor: 'keras3' as const, taps: ALL };
        const split = pool.stats.split;
        const one = lossAndGrads(model, [x], [y], opts);
        const two = pool.lossAndGrads(model, [x], [y], opts);
        expect(pool.stats.split).toBe(split + 1);
        expect(compare(one, two)).toBeLessThan(1e-6);
        // An even split scales each share by a power of two: the per-sample taps are then exact.
        if (B % 2 === 0) one.taps.layers.forEach((l, i) => expect(two.taps.layers[i]!.data.dh).toEqual(l.data.dh));
        // The second call of the same shapes records the taps of both threads straight into shared
        // result arrays (pool-place.ts): the same results, now in a SharedArrayBuffer.
        expect(two.taps.layers[0]!.data.dh!.buffer).toBeInstanceOf(ArrayBuffer);
        const x2 = { shape: [B, T, I], data: randArr(r, B * T * I, 1.2) };
        const y2 = { shape: [B, 2], data: randArr(r, B * 2, 1) };
        const one2 = lossAndGrads(model, [x2], [y2], opts);
        const two2 = pool.lossAndGrads(model, [x2], [y2], opts);
        expect(pool.stats.split).toBe(split + 2);
        for (const l of two2.taps.layers)
          for (const a of Object.values(l.data)) expect(a!.buffer).toBeInstanceOf(SharedArrayBuffer);
        expect(compare(one2, two2)).toBeLessThan(1e-6);
        if (B % 2 === 0) one2.taps.layers.forEach((l, i) => expect(two2.taps.layers[i]!.data.dh).toEqual(l.data.dh));
      });
    }
  }

  it('starts its workers once and reuses them; a batch of one runs here', () => {
    const model = sequential(T, I, MODELS[0]![1](), 3);
    const x = { shape: [4, T, I], data: randArr(lcg(9), 4 * T * I) };
    const y = { shape: [4, 2], data: randArr(lcg(10), 8) };
    const calls = pool.stats.calls;
    for (let i = 0; i < 3; i++) pool.lossAndGrads(model, [x], [y], { losses: mse, flavor: 'keras3' });
    expect(pool.stats.calls).toBe(calls + 3);
    expect(pool.stats.workersStarted).toBe(1);
    const split = pool.stats.split;
    const x1 = { shape: [1, T, I], data: x.data.subarray(0, T * I) };
    pool.lossAndGrads(model, [x1], [{ shape: [1, 2], data: y.data.subarray(0, 2) }], { losses: mse, flavor: 'keras3' });
    expect(pool.stats.split).toBe(split);
    expect(pool.describe()).toMatch(/2 threads/);
  });

  it("an error in the worker's share arrives as the same typed error", () => {
    const model = sequential(T, I, [recurrent('l', rnnSpec('LSTM', I, 6)), dense('d', 3, 'softmax')], 3);
    const x = { shape: [6, T, I], data: randArr(lcg(1), 6 * T * I) };
    // Class ids of the first three samples are valid; the fifth (in the worker's half) is not.
    const y = { shape: [6], data: Float32Array.from([0, 1, 2, 0, 7, 1]) };
    const loss = [{ name: 'sparse_categorical_crossentropy', fromLogits: false, labelSmoothing: 0 }];
    expect(() => pool.lossAndGrads(model, [x], [y], { losses: loss, flavor: 'keras3' })).toThrow(DataError);
    expect(() => pool.lossAndGrads(model, [x], [y], { losses: loss, flavor: 'keras3' })).toThrow(/Target class id 7/);
    // The pool still works afterwards.
    const ok = { shape: [6], data: Float32Array.from([0, 1, 2, 0, 2, 1]) };
    const one = lossAndGrads(model, [x], [ok], { losses: loss, flavor: 'keras3' });
    const two = pool.lossAndGrads(model, [x], [ok], { losses: loss, flavor: 'keras3' });
    expect(rel([one.loss], [two.loss])).toBeLessThan(1e-6);
  });

  it("the analysis runs its batch ranges on the process's pool, started once", async () => {
    const m = sequential(T, I, MODELS[0]![1](), 3);
    const x = { shape: [12, T, I], data: randArr(lcg(5), 12 * T * I) };
    const y = { shape: [12, 2], data: randArr(lcg(6), 24) };
    const opts = { loss: 'mse', batchSize: 3, workers: 2 };
    const a = await analyzeModelParallel(m, { inputs: [x], targets: [y] }, opts);
    const p = gradPool();
    const started = p.stats.workersStarted;
    expect(started).toBeGreaterThan(0);
    const b = await analyzeModelParallel(m, { inputs: [x], targets: [y] }, opts);
    expect(gradPool()).toBe(p);
    expect(p.stats.workersStarted).toBe(started);
    expect(b.analysis.params.map((q) => q.gradNorm)).toEqual(a.analysis.params.map((q) => q.gradNorm));
  });

  it('an idle pool does not keep the process alive, and closing it ends its workers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnscope-pool-'));
    try {
      const src = (close: boolean): string => `
import { gradPool, closeGradPool } from ${JSON.stringify(join(process.cwd(), 'src/pool-node.ts'))};
import { sequential, recurrent, rnnSpec, dense } from ${JSON.stringify(join(process.cwd(), 'test/helpers/models.ts'))};
const m = sequential(5, 2, [recurrent('l', rnnSpec('LSTM', 2, 4)), dense('d', 1)]);
const x = { shape: [4, 5, 2], data: new Float32Array(40).fill(0.5) };
const p = gradPool();
const r = p.lossAndGrads(m, [x], [{ shape: [4, 1], data: new Float32Array(4) }], { losses: [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }], flavor: 'keras3' });
console.log(JSON.stringify({ split: p.stats.split, loss: r.loss }));
${close ? 'await closeGradPool(); console.log(JSON.stringify({ closed: p.describe() }));' : ''}
`;
      for (const close of [false, true]) {
        const file = join(dir, `child-${close}.mts`);
        writeFileSync(file, src(close));
        const t0 = Date.now();
        const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
          encoding: 'utf8',
          timeout: 120e3,
          env: { ...process.env, RNNSCOPE_THREADS: '2' },
        });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const lines = r.stdout.trim().split('\n');
        expect(JSON.parse(lines[0]!).split).toBe(1);
        if (close) expect(JSON.parse(lines[1]!).closed).toMatch(/closed/);
        expect(Date.now() - t0).toBeLessThan(120e3);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150e3);
});
