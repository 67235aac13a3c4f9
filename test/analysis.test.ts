// The analysis quantities against independent computations: the sum-over-steps identity,
// batching invariance, per-step norms vs the engine's taps, step-Jacobian norms vs dense
// finite-difference Jacobians, and each diagnosis on a model built to show it.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../src/analysis/analyze.js';
import { stepJacobianNorms } from '../src/analysis/jacobian.js';
import { jsKernels } from '../src/engine/kernels.js';
import { seqForward } from '../src/engine/layers/recurrent.js';
import { lossAndGrads } from '../src/engine/run.js';
import { TapStore } from '../src/engine/taps.js';
import type { RecurrentKind } from '../src/model/types.js';
import { CELLS, cellOf } from '../src/engine/cells/index.js';
import { act, dense, recurrent, rnnSpec, sequential } from './helpers/models.js';
import { lcg, randArr } from './helpers/rng.js';

const data = (N: number, T: number, I: number, seed = 3) => ({
  shape: [N, T, I],
  data: randArr(lcg(seed), N * T * I, 1),
});

/** Every form of every registered cell (engine/cells), e.g. ['GRU', { resetAfter: false }]. */
const FORMS: [RecurrentKind, object][] = CELLS.flatMap((c) =>
  (c.forms ?? [{ name: '', options: {} }]).map((f): [RecurrentKind, object] => [c.kind, f.options]),
);

describe('per-step contributions', () => {
  for (const [kind, extra] of FORMS) {
    it(`${kind} ${JSON.stringify(extra)}: Σ_t contribution = total gradient block, for every gate × group`, () => {
      const spec = rnnSpec(kind, 3, 5, extra);
      // A ConvLSTM form takes frames and gives a feature map; Dense acts on its last axis.
      const frame = spec.conv ? [...spec.conv.inSpatial, spec.conv.channels] : [3];
      const out = spec.conv ? spec.conv.outSpatial : [];
      const m = sequential(12, frame, [recurrent('rnn', spec), dense('out', 2)]);
      const x = { shape: [20, 12, ...frame], data: data(20, 12, spec.inputDim).data },
        ny = out.reduce((a, d) => a * d, 20 * 2),
        y = { shape: [20, ...out, 2], data: randArr(lcg(9), ny) };
      const { analysis } = analyzeModel(m, { inputs: [x], targets: [y] }, { loss: 'mse', batchSize: 7 });
      const ra = analysis.recurrent[0]!;
      for (const c of ra.contributions) {
        const p = analysis.params.find((q) => q.key === `rnn/${c.group}`)!;
        const block = p.blocks!.find((b) => b.gate === c.gate)!;
        expect(Math.abs(c.total! - block.gradNorm!) / block.gradNorm!).toBeLessThan(1e-5);
      }
      // And the per-step norms are not all equal (the time axis is real).
      const k = ra.contributions.find((c) => c.group === 'kernel')!.norm as number[];
      expect(Math.max(...k)).toBeGreaterThan(1.5 * Math.min(...k));
    });
  }
});

describe('batching', () => {
  it('results equal one batch of all samples up to float rounding', () => {
    const m = sequential(10, 2, [
      recurrent('lstm', rnnSpec('LSTM', 2, 4, { returnSequences: true })),
      { type: 'TimeDistributed', name: 'td', className: 'TimeDistributed', inner: dense('d', 1) },
    ]);
    const x = data(24, 10, 2),
      y = { shape: [24, 10, 1], data: randArr(lcg(4), 240) };
    const a = analyzeModel(m, { inputs: [x], targets: [y] }, { loss: 'mse', batchSize: 24 }).analysis;
    const b = analyzeModel(m, { inputs: [x], targets: [y] }, { loss: 'mse', batchSize: 5 }).analysis;
    expect(b.objective.batches).toBe(5);
    const rel = (p: (number | null)[], q: (number | null)[]) =>
      Math.max(...p.map((v, i) => Math.abs(v! - q[i]!) / Math.abs(q[i]!)));
    expect(rel(b.recurrent[0]!.dh.norm, a.recurrent[0]!.dh.norm)).toBeLessThan(1e-5);
    expect(rel(b.recurrent[0]!.dh.p50, a.recurrent[0]!.dh.p50)).toBeLessThan(1e-5);
    expect(
      rel(
        b.params.map((p) => p.gradNorm),
        a.params.map((p) => p.gradNorm),
      ),
    ).toBeLessThan(1e-5);
    expect(Math.abs(b.objective.value! - a.objective.value!) / a.objective.value!).toBeLessThan(1e-6);
  });

  it('‖∂L/∂h_t‖ equals the Frobenius norm of the engine taps in float64', () => {
    const m = sequential(8, 2, [recurrent('gru', rnnSpec('GRU', 2, 3)), dense('d', 1)]);
    const x = data(6, 8, 2),
      y = { shape: [6, 1], data: randArr(lcg(2), 6) };
    const a = analyzeModel(m, { inputs: [x], targets: [y] }, { loss: 'mse' }).analysis;
    const r = lossAndGrads(m, [x], [y], {
      losses: [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }],
      flavor: 'keras3',
      dtype: 'float64',
      taps: { dh: true },
    });
    const dh = r.taps.get('gru')!.data.dh!;
    for (let t = 0; t < 8; t++) {
      let s = 0;
      for (let b = 0; b < 6; b++) for (let u = 0; u < 3; u++) s += dh[(b * 8 + t) * 3 + u]! ** 2;
      expect(Math.abs(a.recurrent[0]!.dh.norm[t]! - Math.sqrt(s)) / Math.sqrt(s)).toBeLessThan(1e-5);
    }
  });
});

describe('step Jacobian spectral norm vs dense finite differences', () => {
  const cases: [RecurrentKind, object][] = [
    ...FORMS,
    ['LSTM', { recurrentActivation: act('hard_sigmoid', { hardSigmoidSlope: 0.2 }), goBackwards: true }],
  ];
  for (const [kind, extra] of cases) {
    it(`${kind} ${JSON.stringify(extra)}`, () => {
      const T = 6,
        B = 2;
      const spec = rnnSpec(kind, 3, 4, { returnSequences: true, ...extra });
      // The spec's sizes (a ConvLSTM form fixes them); its frames and outputs keep their spatial axes.
      const U = spec.units,
        I = spec.inputDim;
      const frame = spec.conv ? [...spec.conv.inSpatial, spec.conv.channels] : [I];
      const st = spec.conv ? [...spec.conv.outSpatial, spec.conv.filters] : [U];
      const m = sequential(T, frame, [recurrent('r', spec)], 5, 1.2);
      const params = m.params[0]!.map((p) => ({ shape: p.shape, data: Float64Array.from(m.weights.get(p.key)!.data) }));
      const x = { shape: [B, T, ...frame], data: randArr(lcg(8), B * T * I, 1.5) };
      const ctx = { dtype: 'float64' as const, kernels: jsKernels, taps: null, sink: new TapStore() };
      // Taps from a real backward pass.
      const r = lossAndGrads(m, [x], [{ shape: [B, T, ...st], data: new Float64Array(B * T * U) }], {
        losses: [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }],
        flavor: 'keras3',
        dtype: 'float64',
        taps: { gates: true, z: true, hPrev: true, cPrev: true, c: true, rh: true },
      });
      const taps = r.taps.get('r')!;
      const res = stepJacobianNorms(
        spec,
        params.map((p) => p.data),
        taps,
        [0, 1],
        // ConvLSTM: J is near block-diagonal (positions far apart barely interact), its top singular values close.
        spec.conv ? 600 : 60,
      );
      const lstm = cellOf(kind).states.length === 2,
        dim = lstm ? 2 * U : U;
      const full = seqForward(ctx, spec, params, x, null, 'r', null);
      for (const n of [0, 1])
        for (let k = 1; k < T; k++) {
          const t = spec.goBackwards ? T - 1 - k : k;
          // Dense J by central differences of one step from the state before it.
          const s0 = new Float64Array(dim);
          for (let u = 0; u < U; u++) {
            s0[u] = full.cache.bufs.H[(k * B + n) * U + u]!;
            if (lstm) s0[U + u] = full.cache.bufs.C[(k * B + n) * U + u]!;
          }
          const step = (s: Float64Array): Float64Array => {
            const xs = { shape: [1, 1, I], data: x.data.slice((n * T + t) * I, (n * T + t + 1) * I) };
            const init = [
              { shape: [1, U], data: s.slice(0, U) },
              ...(lstm ? [{ shape: [1, U], data: s.slice(U) }] : []),
            ];
            const o = seqForward(
              ctx,
              { ...spec, goBackwards: false, returnState: true },
              params,
              xs,
              null,
              'r',
              null,
              init,
            );
            return Float64Array.from([...o.states[0]!.data, ...(lstm ? o.states[1]!.data : [])]);
          };
          const J: number[][] = Array.from({ length: dim }, () => new Array(dim).fill(0));
          for (let j = 0; j < dim; j++) {
            const a = s0.slice(),
              b = s0.slice();
            a[j] += 1e-6;
            b[j] -= 1e-6;
            const fa = step(a),
              fb = step(b);
            for (let i = 0; i < dim; i++) J[i]![j] = (fa[i]! - fb[i]!) / 2e-6;
          }
          // σ_max of the dense J by many power iterations on JᵀJ.
          let v = Array.from({ length: dim }, (_, i) => 1 + i * 0.1);
          let sig = 0;
          for (let it = 0; it < 500; it++) {
            const u = J.map((row) => row.reduce((s, a, j) => s + a * v[j]!, 0));
            const w = v.map((_, j) => J.reduce((s, row, i) => s + row[j]! * u[i]!, 0));
            const nw = Math.hypot(...w);
            v = w.map((c) => c / nw);
            sig = Math.sqrt(nw);
          }
          expect(Math.abs(res.sigma[n === 0 ? 0 : 1]![t]! - sig) / sig).toBeLessThan(1e-4);
        }
    });
  }
});

describe('diagnoses on models built to show them', () => {
  it('a SimpleRNN over 200 steps vanishes; an LSTM with forget bias −5 has a closed forget gate', () => {
    const m = sequential(200, 2, [recurrent('srnn', rnnSpec('SimpleRNN', 2, 16)), dense('d', 1)], 1, 0.2);
    const a = analyzeModel(
      m,
      { inputs: [data(16, 200, 2)], targets: [{ shape: [16, 1], data: randArr(lcg(1), 16) }] },
      { loss: 'mse' },
    ).analysis;
    const f = a.findings.find((x) => x.code === 'vanishing');
    expect(f?.layer).toBe('srnn');
    expect(a.recurrent[0]!.horizon.steps!).toBeLessThan(100);

    const l = sequential(30, 2, [recurrent('lstm', rnnSpec('LSTM', 2, 8)), dense('d', 1)], 2, 0.3);
    const b = l.weights.get('lstm/bias')!;
    for (let u = 8; u < 16; u++) b.data[u] = -5;
    const la = analyzeModel(l, { inputs: [data(8, 30, 2)], targets: null }).analysis;
    expect(la.findings.map((x) => x.code)).toContain('short-memory');
    expect(la.objective.selfObjective).toBe('half-squared-norm');
  });

  it('a linear SimpleRNN with recurrent spectral radius 1.5 explodes; a healthy LSTM does not', () => {
    const U = 8;
    const m = sequential(
      40,
      2,
      [recurrent('srnn', rnnSpec('SimpleRNN', 2, U, { activation: act('linear') })), dense('d', 1)],
      3,
      0.3,
    );
    const R = m.weights.get('srnn/recurrent_kernel')!;
    R.data.fill(0);
    for (let u = 0; u < U; u++) R.data[u * U + ((u + 1) % U)] = 1.5; // scaled permutation: all singular values 1.5
    const a = analyzeModel(
      m,
      { inputs: [data(8, 40, 2)], targets: [{ shape: [8, 1], data: randArr(lcg(1), 8) }] },
      { loss: 'mse' },
    ).analysis;
    expect(a.findings.find((x) => x.code === 'exploding')?.layer).toBe('srnn');
    expect(a.recurrent[0]!.jacobian!.median[20]).toBeCloseTo(1.5, 4);

    const h = sequential(20, 2, [recurrent('lstm', rnnSpec('LSTM', 2, 8)), dense('d', 1)], 4, 0.3);
    const ha = analyzeModel(h, { inputs: [data(8, 20, 2)], targets: null }).analysis;
    expect(ha.findings.map((x) => x.code)).not.toContain('exploding');
    // Its forget gate is open (not closed): a short-memory finding may only come with a short horizon it explains.
    for (const f of ha.findings.filter((x) => x.code === 'short-memory')) {
      expect(f.evidence['meanKeep']).toBeGreaterThan(0.2);
      expect(ha.findings.map((x) => x.code)).toContain('vanishing');
    }
  });
});
