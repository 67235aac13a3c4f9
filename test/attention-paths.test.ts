// ∂L/∂h_t split into what arrives through the attention layers that read h, through its other
// readers, and through the recurrence (src/analysis/attention-paths.ts). Oracles, float64 central
// finite differences on networks where one path is cut:
//  - attention / other: the same network with that branch reading a second model input hx instead
//    of the LSTM output; with hx = the LSTM's output the loss is the same, and FD of the loss in hx
//    is the gradient through that branch alone.
//  - recurrence at step t: the LSTM split in two at t (lstm_a over steps 0..t, lstm_b over t+1..
//    with initial_state [hs, c_t], outputs concatenated in time): with hs = h_t the loss is the
//    same, and FD of the loss in hs is what reaches h_t through the cell at t+1 alone.
// The three parts measured so must sum to the dh tap (itself checked by FD in taps-fd).

import { describe, expect, it } from 'vitest';
import { buildModel } from '../src/model/build.js';
import type { ModelSpec } from '../src/model/types.js';
import { lossAndGrads } from '../src/engine/run.js';
import type { Tensor } from '../src/engine/tensor.js';
import { analyzeModel } from '../src/analysis/analyze.js';
import { validateAnalysis } from '../src/analysis/validate.js';
import { centralDiff, randTensor, rng } from './helpers/layer-fd.js';
import { functional, input, kt, layer } from './helpers/keras3-config.js';
import { lossFd, lstmStates, maxAbs, MSE64, relErr, splitOf, withWeights } from './helpers/attention-oracle.js';

const T = 5,
  I = 3,
  U = 4,
  B = 2;
const run = MSE64;

type Score = 'dot' | 'concat' | 'mha' | 'additive' | 'dot-layer';
interface Net {
  score: Score;
  /** Which tensor the attention branch and the flatten branch read. */
  attFrom: 'h' | 'hx';
  otherFrom: 'h' | 'hx';
  /** Split the LSTM after step `cut` (the recurrence oracle). */
  cut: number | null;
  goBackwards?: boolean;
}

function config(n: Net): unknown {
  const lstm = { units: U, return_sequences: true, go_backwards: n.goBackwards ?? false };
  const layers: unknown[] = [];
  const ins: string[] = [];
  const addInput = (name: string, shape: number[]) => {
    layers.push(input(name, shape));
    ins.push(name);
  };
  let h;
  if (n.cut === null) {
    addInput('x', [T, I]);
    layers.push(layer('LSTM', 'lstm', lstm, [kt('x')]));
    h = kt('lstm');
  } else {
    addInput('xa', [n.cut + 1, I]);
    addInput('xb', [T - n.cut - 1, I]);
    addInput('hs', [U]);
    layers.push(layer('LSTM', 'lstm_a', { ...lstm, return_state: true }, [kt('xa')]));
    layers.push(layer('LSTM', 'lstm_b', lstm, [kt('xb')], { initial_state: [kt('hs'), kt('lstm_a', 2)] }));
    layers.push(layer('Concatenate', 'cat', { axis: 1 }, [[kt('lstm_a'), kt('lstm_b')]]));
    h = kt('cat');
  }
  if (n.attFrom === 'hx' || n.otherFrom === 'hx') addInput('hx', [T, U]);
  const att = n.attFrom === 'h' ? h : kt('hx');
  const other = n.otherFrom === 'h' ? h : kt('hx');
  layers.push(
    n.score === 'mha'
      ? layer('MultiHeadAttention', 'att', { num_heads: 2, key_dim: 2, value_dim: 2, use_bias: true }, [att], {
          value: att,
        })
      : n.score === 'additive'
        ? layer('AdditiveAttention', 'att', { use_scale: true, dropout: 0 }, [[att, att]])
        : n.score === 'dot-layer'
          ? layer('Dot', 'att', { axes: 2, normalize: true }, [[att, att]])
          : layer('Attention', 'att', { use_scale: true, score_mode: n.score, dropout: 0 }, [[att, att]]),
    layer('GlobalAveragePooling1D', 'gap', {}, [kt('att')]),
    layer('Dense', 'out1', { units: 2, activation: 'tanh' }, [kt('gap')]),
    layer('Flatten', 'flat', {}, [other]),
    layer('Dense', 'd2', { units: 2 }, [kt('flat')]),
    layer('Add', 'sum', {}, [[kt('out1'), kt('d2')]]),
  );
  return functional(layers, ins, ['sum']);
}

/** The network with weights: random (seeded), or those of `from` (lstm_a and lstm_b take lstm's). */
function net(n: Net, from: ModelSpec | null): ModelSpec {
  const m = buildModel(config(n), { kerasVersion: '3.10.0', format: 'config', source: 'test' });
  const r = rng(7);
  for (const p of m.params.flat()) {
    const own = from?.weights.get(p.key.replace(/^lstm_[ab]\//, 'lstm/'));
    m.weights.set(p.key, own ?? { shape: p.shape, data: randTensor(p.shape, () => r(-0.8, 0.8)).data as Float64Array });
  }
  return m;
}

/** Rows of step t of a (B, T, U) array. */
const stepOf = (a: ArrayLike<number>, t: number): Float64Array =>
  Float64Array.from({ length: B * U }, (_, i) => a[(Math.floor(i / U) * T + t) * U + (i % U)]!);

const NAME: Record<Score, string> = {
  dot: 'Attention(dot)',
  concat: 'Attention(concat)',
  mha: 'MultiHeadAttention',
  additive: 'AdditiveAttention',
  'dot-layer': 'Dot(axes 2, normalize)',
};

describe('attention paths: each part against finite differences of the network with the other paths cut', () => {
  const errors: Record<string, number> = {};
  for (const score of ['dot', 'concat', 'mha', 'additive', 'dot-layer'] as const) {
    it(`LSTM → ${NAME[score]} and LSTM → Flatten → Dense`, () => {
      const a = net({ score, attFrom: 'h', otherFrom: 'h', cut: null }, null);
      const r = rng(3);
      const x = randTensor([B, T, I], r);
      const y = randTensor([B, 2], r);
      const [p, ...rest] = splitOf(a, x, y);
      expect(rest).toEqual([]);
      expect([p!.id, p!.consumers]).toEqual(['lstm', ['att']]);
      const h = lstmStates(a, x, y, 'lstm');
      const hx = (): Tensor => ({ shape: [B, T, U], data: Float64Array.from(h) });
      const viaAtt = lossFd(net({ score, attFrom: 'hx', otherFrom: 'h', cut: null }, a), [x, hx()], y, 1);
      const viaOther = lossFd(net({ score, attFrom: 'h', otherFrom: 'hx', cut: null }, a), [x, hx()], y, 1);
      const rec = new Float64Array(B * T * U);
      for (let t = 0; t < T - 1; t++) {
        const cutNet = net({ score, attFrom: 'h', otherFrom: 'h', cut: t }, a);
        const xa = { shape: [B, t + 1, I], data: new Float64Array(B * (t + 1) * I) };
        const xb = { shape: [B, T - t - 1, I], data: new Float64Array(B * (T - t - 1) * I) };
        for (let b = 0; b < B; b++) {
          xa.data.set(x.data.subarray(b * T * I, (b * T + t + 1) * I), b * (t + 1) * I);
          xb.data.set(x.data.subarray((b * T + t + 1) * I, (b + 1) * T * I), b * (T - t - 1) * I);
        }
        const hs = { shape: [B, U], data: stepOf(h, t) };
        // The cut network computes the same loss (its hs is h_t, its lstm_b starts from c_t).
        expect(lossAndGrads(cutNet, [xa, xb, hs], [y], run).loss).toBeCloseTo(lossAndGrads(a, [x], [y], run).loss, 12);
        const g = lossFd(cutNet, [xa, xb, hs], y, 2);
        for (let b = 0; b < B; b++) rec.set(g.subarray(b * U, (b + 1) * U), (b * T + t) * U);
      }
      errors[`${score} attention`] = relErr(p!.attention, viaAtt);
      errors[`${score} other`] = relErr(p!.other, viaOther);
      errors[`${score} recurrence`] = relErr(p!.recurrence, rec);
      const sum = Float64Array.from(rec, (v, i) => v + viaAtt[i]! + viaOther[i]!);
      errors[`${score} sum vs dh`] = relErr(sum, p!.total);
      for (const k of ['attention', 'other', 'recurrence', 'sum vs dh'])
        expect(errors[`${score} ${k}`], k).toBeLessThan(1e-7);
      // Every path carries something here, and the last step nothing through the recurrence.
      for (const v of [viaAtt, viaOther, rec]) expect(maxAbs(v)).toBeGreaterThan(1e-3);
      expect(maxAbs(stepOf(p!.recurrence, T - 1))).toBeLessThanOrEqual(1e-12);
    });
  }

  it('go_backwards: the direct parts are moved from output positions to input steps', () => {
    const n: Net = { score: 'dot', attFrom: 'h', otherFrom: 'h', cut: null, goBackwards: true };
    const a = net(n, null);
    const r = rng(5);
    const x = randTensor([B, T, I], r);
    const y = randTensor([B, 2], r);
    const [p] = splitOf(a, x, y);
    // The output sequence of a go_backwards LSTM holds input step T−1−p at position p.
    const h = lstmStates(a, x, y, 'lstm');
    const out = Float64Array.from(h, (_, i) => {
      const b = Math.floor(i / (T * U)),
        p = Math.floor(i / U) % T;
      return h[(b * T + (T - 1 - p)) * U + (i % U)]!;
    });
    const viaAtt = lossFd(net({ ...n, attFrom: 'hx' }, a), [x, { shape: [B, T, U], data: out }], y, 1);
    const back = Float64Array.from(viaAtt, (_, i) => {
      const b = Math.floor(i / (T * U)),
        t = Math.floor(i / U) % T;
      return viaAtt[(b * T + (T - 1 - t)) * U + (i % U)]!;
    });
    errors['go_backwards attention'] = relErr(p!.attention, back);
    expect(errors['go_backwards attention']).toBeLessThan(1e-7);
    // The first input step is processed last: nothing reaches it through the recurrence.
    expect(maxAbs(stepOf(p!.recurrence, 0))).toBeLessThanOrEqual(1e-12);
  });

  it('Bidirectional (concat): each half gets its columns of the attention part', () => {
    const inner = { class_name: 'LSTM', config: { name: 'l', units: U, return_sequences: true } };
    const cfg = (from: 'bi' | 'hx') =>
      functional(
        [
          input('x', [T, I]),
          ...(from === 'hx' ? [input('hx', [T, 2 * U])] : []),
          layer('Bidirectional', 'bi', { merge_mode: 'concat', layer: inner }, [kt('x')]),
          layer('Attention', 'att', { use_scale: false, score_mode: 'dot', dropout: 0 }, [[kt(from), kt(from)]]),
          layer('GlobalAveragePooling1D', 'gap', {}, [kt('att')]),
          layer('Dense', 'out', { units: 2 }, [kt('gap')]),
        ],
        from === 'hx' ? ['x', 'hx'] : ['x'],
        ['out'],
      );
    const a = withWeights(cfg('bi'), null);
    const r = rng(19);
    const x = randTensor([B, T, I], r);
    const y = randTensor([B, 2], r);
    const halves = splitOf(a, x, y);
    expect(halves.map((h) => h.id)).toEqual(['bi/forward', 'bi/backward']);
    // The layer's output, both halves at input positions: h_t = o_t ⊙ tanh(c_t) of each direction.
    const out = new Float64Array(B * T * 2 * U);
    (['forward', 'backward'] as const).forEach((d, k) => {
      const h = lstmStates(a, x, y, 'bi', d);
      for (let bt = 0; bt < B * T; bt++) out.set(h.subarray(bt * U, (bt + 1) * U), bt * 2 * U + k * U);
    });
    const g = lossFd(withWeights(cfg('hx'), a), [x, { shape: [B, T, 2 * U], data: out }], y, 1);
    halves.forEach((h, k) => {
      const cols = Float64Array.from({ length: B * T * U }, (_, i) => g[Math.floor(i / U) * 2 * U + k * U + (i % U)]!);
      errors[`bidirectional ${h.direction} attention`] = relErr(h.attention, cols);
      expect(errors[`bidirectional ${h.direction} attention`]).toBeLessThan(1e-7);
      expect(maxAbs(h.other)).toBeLessThanOrEqual(1e-12);
      // Nothing reaches the last processed step through the recurrence: T − 1 forward, 0 backward.
      expect(maxAbs(stepOf(h.recurrence, h.direction === 'forward' ? T - 1 : 0))).toBeLessThanOrEqual(1e-12);
      expect(maxAbs(h.recurrence)).toBeGreaterThan(1e-4);
    });
  });

  it('masked steps of a Bidirectional: its output there is 0, so nothing given to it reaches h', () => {
    const inner = { class_name: 'LSTM', config: { name: 'l', units: U, return_sequences: true } };
    // Attention, and Flatten → Dense (which also reads the masked positions' zeros) beside it.
    const head = (from: string) => [
      layer('Attention', 'att', { use_scale: false, score_mode: 'dot', dropout: 0 }, [[kt(from), kt(from)]]),
      layer('GlobalAveragePooling1D', 'gap', {}, [kt('att')]),
      layer('Dense', 'o1', { units: 2 }, [kt('gap')]),
      layer('Flatten', 'flat', {}, [kt(from)]),
      layer('Dense', 'o2', { units: 2 }, [kt('flat')]),
      layer('Add', 'out', {}, [[kt('o1'), kt('o2')]]),
    ];
    const a = withWeights(
      functional(
        [
          input('x', [T, I]),
          layer('Masking', 'm', { mask_value: 0 }, [kt('x')]),
          layer('Bidirectional', 'bi', { merge_mode: 'concat', layer: inner }, [kt('m')]),
          ...head('bi'),
        ],
        ['x'],
        ['out'],
      ),
      null,
    );
    // The attention reading a copy of the output through Masking: the same mask (the output is 0 where masked).
    const cut = withWeights(
      functional(
        [input('hx', [T, 2 * U]), layer('Masking', 'mh', { mask_value: 0 }, [kt('hx')]), ...head('mh')],
        ['hx'],
        ['out'],
      ),
      a,
    );
    const r = rng(23);
    const x = randTensor([B, T, I], r);
    const masked = (b: number, t: number) => b === 1 && t >= 3;
    for (let t = 3; t < T; t++) x.data.fill(0, (T + t) * I, (T + t + 1) * I);
    const y = randTensor([B, 2], r);
    const halves = splitOf(a, x, y);
    const out = new Float64Array(B * T * 2 * U);
    (['forward', 'backward'] as const).forEach((d, k) => {
      const h = lstmStates(a, x, y, 'bi', d);
      for (let bt = 0; bt < B * T; bt++)
        if (!masked(Math.floor(bt / T), bt % T)) out.set(h.subarray(bt * U, (bt + 1) * U), bt * 2 * U + k * U);
    });
    expect(lossAndGrads(cut, [{ shape: [B, T, 2 * U], data: out }], [y], run).loss).toBeCloseTo(
      lossAndGrads(a, [x], [y], run).loss,
      12,
    );
    const hx = { shape: [B, T, 2 * U], data: out };
    const loss = () => lossAndGrads(cut, [hx], [y], run).loss;
    // A change at a masked position would unmask it: differences at valid positions only.
    const g = centralDiff(out, loss, {
      h: 1e-6,
      skip: (i) => masked(Math.floor(i / (T * 2 * U)), Math.floor(i / (2 * U)) % T),
    });
    halves.forEach((h, k) => {
      const cols = Float64Array.from({ length: B * T * U }, (_, i) => g[Math.floor(i / U) * 2 * U + k * U + (i % U)]!);
      const direct = Float64Array.from(h.attention, (v, i) => v + h.other[i]!);
      errors[`masked bidirectional ${h.direction} direct`] = relErr(direct, cols);
      expect(errors[`masked bidirectional ${h.direction} direct`]).toBeLessThan(1e-7);
      expect(maxAbs(h.other)).toBeGreaterThan(1e-3);
      for (const t of [3, 4]) {
        // Flatten → Dense gives the zero output there a gradient; it reaches no state.
        expect(maxAbs(stepOf(h.attention, t).subarray(U))).toBeLessThanOrEqual(1e-12);
        expect(maxAbs(stepOf(h.other, t).subarray(U))).toBeLessThanOrEqual(1e-12);
        // Sample 1's recurrence part at a masked step is all of its ∂L/∂h_t.
        expect(relErr(stepOf(h.recurrence, t).subarray(U), stepOf(h.total, t).subarray(U))).toBe(0);
      }
    });
  });

  it('analysis: StepSeries of each part over samples, the same in one batch and in several', () => {
    const a = net({ score: 'dot', attFrom: 'h', otherFrom: 'h', cut: null }, null);
    const r = rng(11);
    const N = 6;
    const x = randTensor([N, T, I], r);
    const y = randTensor([N, 2], r);
    const one = analyzeModel(a, { inputs: [x], targets: [y] }, { dtype: 'float64', batchSize: N, samples: false });
    const three = analyzeModel(a, { inputs: [x], targets: [y] }, { dtype: 'float64', batchSize: 2, samples: false });
    const s = splitOf(a, x, y);
    const ra = one.analysis.recurrent[0]!;
    expect(ra.attention!.consumers).toEqual(['att']);
    for (let t = 0; t < T; t++) {
      // One batch of N: ∂L/∂h is the batch's gradient; ∂ℓ_n/∂h_n is N times its row n.
      const rows = (k: 'attention' | 'recurrence' | 'other') =>
        Array.from({ length: N }, (_, n) =>
          Math.hypot(...Array.from({ length: U }, (_, j) => s[0]![k][(n * T + t) * U + j]!)),
        );
      for (const [field, k] of [
        ['viaAttention', 'attention'],
        ['viaRecurrence', 'recurrence'],
        ['viaOther', 'other'],
      ] as const) {
        const norm = Math.hypot(...rows(k));
        expect(ra.attention![field].norm[t]).toBeCloseTo(norm, 12);
        const med = [...rows(k)].sort((p, q) => p - q);
        expect(ra.attention![field].p50[t]).toBeCloseTo(((med[2]! + med[3]!) / 2) * N, 10);
        const other = three.analysis.recurrent[0]!.attention![field];
        expect(other.norm[t]).toBeCloseTo(norm, 12);
        expect(other.p90[t]).toBeCloseTo(ra.attention![field].p90[t]!, 10);
      }
    }
    // The file keeps it, and validates.
    const back = JSON.parse(JSON.stringify(one.analysis));
    expect(() => validateAnalysis(back)).not.toThrow();
    expect(back.recurrent[0].attention.viaAttention.norm).toEqual(ra.attention!.viaAttention.norm);
  });

  it("finding 'attention-carries': the recurrence fades, attention reaches the first step", async () => {
    const steps = 20;
    const cfg = functional(
      [
        input('x', [steps, I]),
        layer('SimpleRNN', 'rnn', { units: U, return_sequences: true }, [kt('x')]),
        layer('Attention', 'att', { use_scale: false, score_mode: 'dot', dropout: 0 }, [[kt('rnn'), kt('rnn')]]),
        layer('GlobalAveragePooling1D', 'gap', {}, [kt('att')]),
        layer('Dense', 'out', { units: 1 }, [kt('gap')]),
      ],
      ['x'],
      ['out'],
    );
    const m = buildModel(cfg, { kerasVersion: '3.10.0', format: 'config', source: 'test' });
    const r = rng(13);
    // A recurrent kernel of norm ≈ 0.05: each step passes back a twentieth of the gradient.
    for (const p of m.params.flat())
      m.weights.set(p.key, {
        shape: p.shape,
        data: randTensor(p.shape, () => r(-1, 1) * (p.name === 'recurrent_kernel' ? 0.02 : 1)).data as Float64Array,
      });
    const x = randTensor([8, steps, I], r);
    const y = randTensor([8, 1], r);
    const { analysis } = analyzeModel(m, { inputs: [x], targets: [y] }, { dtype: 'float64', samples: false });
    const ra = analysis.recurrent[0]!;
    const codes = analysis.findings.filter((f) => f.layer === 'rnn').map((f) => f.code);
    expect(codes).toContain('vanishing');
    const f = analysis.findings.find((g) => g.code === 'attention-carries')!;
    expect(f).toBeDefined();
    expect(f.chart).toBe('attention');
    expect(f.evidence.viaAttention).toBe(Number(ra.attention!.viaAttention.norm[0]!.toPrecision(3)));
    expect(f.evidence.viaRecurrence).toBe(Number(ra.attention!.viaRecurrence.norm[0]!.toPrecision(3)));
    expect(f.evidence.attentionShare as number).toBeGreaterThan(0.5);
    // Without the attention split (an older file) the finding is not made.
    const { diagnose, DEFAULT_THRESHOLDS } = await import('../src/analysis/diagnose.js');
    const older = { ...analysis, recurrent: [{ ...ra, attention: undefined }] };
    expect(diagnose(older, DEFAULT_THRESHOLDS).map((g) => g.code)).not.toContain('attention-carries');
  });

  it('records the errors measured', () => {
    console.log('attention-paths FD relative errors:', JSON.stringify(errors));
  });
});
