// Float64 central finite differences for the recurrent layers: parameter gradients,
// input gradients, initial-state gradients and the per-step taps (dh, dc, gateGrad),
// over every registered cell (src/engine/cells) and its forms, option and mask pattern.
import { describe, expect, it } from 'vitest';
import type { Activation, LayerSpec, RecurrentKind, RecurrentSpec } from '../src/model/types.js';
import { jsKernels } from '../src/engine/kernels.js';
import { CELLS, cellOf } from '../src/engine/cells/index.js';
import type { Ctx } from '../src/engine/layer.js';
import { seqBackward, seqForward } from '../src/engine/layers/recurrent.js';
import { bidirectionalLayer } from '../src/engine/layers/rnn-layers.js';
import { TapStore, type TapRequest } from '../src/engine/taps.js';
import type { Mask, Tensor } from '../src/engine/tensor.js';
import { lcg, maxRelErr, randArr } from './helpers/rng.js';
import { refConv } from './helpers/rnn-ref.js';

const act = (name: Activation['name'], extra: Partial<Activation> = {}): Activation => ({ name, ...extra });

function spec(kind: RecurrentKind, o: Partial<RecurrentSpec> = {}): RecurrentSpec {
  return {
    kind,
    units: 3,
    inputDim: 2,
    activation: act('tanh'),
    recurrentActivation: act('sigmoid'),
    useBias: true,
    returnSequences: false,
    returnState: false,
    goBackwards: false,
    stateful: false,
    resetAfter: false,
    zeroOutputForMask: false,
    ...cellOf(kind).forms?.[0]?.options,
    ...o,
  };
}

function paramShapes(s: RecurrentSpec): number[][] {
  return cellOf(s.kind)
    .params(s)
    .map((p) => p.shape);
}

const ctxOf = (taps: TapRequest | null = null): Ctx => ({
  dtype: 'float64',
  kernels: jsKernels,
  taps,
  sink: new TapStore(),
});
const B = 2,
  T = 4;

interface Problem {
  s: RecurrentSpec;
  params: Tensor[];
  x: Tensor;
  mask: Mask | null;
  h0: Tensor[];
  wy: Float64Array;
  ws: Float64Array[];
}

function problem(s: RecurrentSpec, seed: number, masked: boolean): Problem {
  const r = lcg(seed);
  const params = paramShapes(s).map((sh) => ({
    shape: sh,
    data: randArr(
      r,
      sh.reduce((a, b) => a * b, 1),
      0.8,
    ),
  }));
  const x: Tensor = { shape: [B, T, s.inputDim], data: randArr(r, B * T * s.inputDim, 1.5) };
  // sample 0: steps 1 and 3 masked (interior + trailing); sample 1: first step masked.
  const mask: Mask | null = masked ? { b: B, t: T, data: Uint8Array.from([1, 0, 1, 0, 0, 1, 1, 1]) } : null;
  const nStates = cellOf(s.kind).states.length;
  const h0 = Array.from({ length: nStates }, () => ({ shape: [B, s.units], data: randArr(r, B * s.units, 0.5) }));
  const ny = s.returnSequences ? B * T * s.units : B * s.units;
  return { s, params, x, mask, h0, wy: randArr(r, ny), ws: h0.map(() => randArr(r, B * s.units)) };
}

function loss(p: Problem, x = p.x, params = p.params, h0 = p.h0): number {
  const o = seqForward(ctxOf(), p.s, params, x, p.mask, 'l', null, h0);
  let L = 0;
  for (let i = 0; i < p.wy.length; i++) L += p.wy[i]! * o.y.data[i]!;
  if (p.s.returnState)
    o.states.forEach((st, j) => {
      for (let i = 0; i < st.data.length; i++) L += p.ws[j]![i]! * st.data[i]!;
    });
  return L;
}

function fd(f: () => number, arr: Float64Array, i: number, h = 1e-6): number {
  const v = arr[i]!;
  arr[i] = v + h;
  const a = f();
  arr[i] = v - h;
  const b = f();
  arr[i] = v;
  return (a - b) / (2 * h);
}

function analytic(p: Problem, taps: TapRequest | null = null) {
  const ctx = ctxOf(taps);
  const o = seqForward(ctx, p.s, p.params, p.x, p.mask, 'l', null, p.h0);
  const dParams = p.params.map((t) => ({ shape: t.shape, data: new Float64Array(t.data.length) }));
  const dY = { shape: o.y.shape, data: p.wy };
  const dStates = p.s.returnState ? p.ws.map((w) => ({ shape: [B, p.s.units], data: w })) : [];
  const dInit: Tensor[] = [];
  const dx = seqBackward(ctx, o.cache, dY, dStates, dParams, dInit);
  return { dParams, dx, dInit, taps: (ctx.sink as TapStore).layers[0] };
}

const cases: [string, RecurrentSpec][] = [];
for (const cell of CELLS) {
  const kind: RecurrentKind = cell.kind;
  cases.push([`${kind}`, spec(kind)]);
  cases.push([`${kind} seq+state`, spec(kind, { returnSequences: true, returnState: true })]);
  cases.push([`${kind} backwards seq`, spec(kind, { returnSequences: true, goBackwards: true })]);
  cases.push([`${kind} no bias`, spec(kind, { useBias: false, returnState: true })]);
  // Every further form of the cell (GRU reset_before).
  for (const f of (cell.forms ?? []).slice(1)) {
    cases.push([`${kind} ${f.name}`, spec(kind, { ...f.options, returnSequences: true })]);
    cases.push([
      `${kind} ${f.name} backwards state`,
      spec(kind, { ...f.options, goBackwards: true, returnState: true }),
    ]);
  }
}
cases.push([
  'LSTM hard_sigmoid k2 relu',
  spec('LSTM', {
    recurrentActivation: act('hard_sigmoid', { hardSigmoidSlope: 0.2 }),
    activation: act('elu', { alpha: 1 }),
  }),
]);
cases.push(['SimpleRNN relu seq', spec('SimpleRNN', { activation: act('softsign'), returnSequences: true })]);
cases.push(['LSTM zero_output_for_mask', spec('LSTM', { returnSequences: true, zeroOutputForMask: true })]);

describe('recurrent layers: float64 finite differences', () => {
  for (const [name, s] of cases) {
    for (const masked of [false, true]) {
      it(`${name}${masked ? ' masked' : ''}: params, inputs, initial states`, () => {
        const p = problem(s, 7 + name.length, masked);
        const a = analytic(p);
        p.params.forEach((t, j) => {
          const num = Float64Array.from(t.data, (_, i) => fd(() => loss(p), t.data as Float64Array, i));
          expect(maxRelErr(a.dParams[j]!.data, num)).toBeLessThan(1e-7);
        });
        const numX = Float64Array.from(p.x.data, (_, i) => fd(() => loss(p), p.x.data as Float64Array, i));
        expect(maxRelErr(a.dx.data, numX)).toBeLessThan(1e-7);
        p.h0.forEach((h, j) => {
          const num = Float64Array.from(h.data, (_, i) => fd(() => loss(p), h.data as Float64Array, i));
          expect(maxRelErr(a.dInit[j]!.data, num)).toBeLessThan(1e-7);
        });
      });
    }
  }
});

// dh_t (and dc_t) is the total derivative of L w.r.t. the state after consuming x_t. Check it by
// splitting the sequence: the suffix after t, started from the state at t, must have
// ∂L/∂(initial state) = dh_t, where L also counts the outputs emitted at and after t.
describe('taps: dh_t, dc_t, gateGrad by finite differences', () => {
  for (const [name, s] of cases.filter(([, s]) => s.returnSequences && !s.zeroOutputForMask)) {
    it(`${name}`, () => {
      const p = problem(s, 99, false);
      const a = analytic(p, { dh: true, dc: true, gateGrad: true, gates: true, hPrev: true, x: true, dx: true });
      const tp = a.taps!;
      expect(tp.data.dx).toBe(a.dx.data);
      const U = s.units,
        I = s.inputDim;
      for (let k = 0; k < T; k++) {
        // Input position consumed at processing step k, and the suffix problem from there.
        const t = s.goBackwards ? T - 1 - k : k;
        const ctx = ctxOf();
        const full = seqForward(ctx, { ...s, returnSequences: true }, p.params, p.x, null, 'l', null, p.h0);
        const nS = cellOf(s.kind).states.length;
        // State after step k: the cache holds H (T+1, B, U) slots.
        const st = [full.cache.bufs.H, full.cache.bufs.C]
          .slice(0, nS)
          .map((buf) => ({ shape: [B, U], data: buf.slice((k + 1) * B * U, (k + 2) * B * U) }));
        const rest = T - 1 - k;
        const xs = new Float64Array(B * rest * I);
        for (let b = 0; b < B; b++)
          for (let j = 0; j < rest; j++) {
            const src = s.goBackwards ? t - 1 - j : t + 1 + j;
            xs.set(p.x.data.subarray((b * T + src) * I, (b * T + src + 1) * I), (b * rest + j) * I);
          }
        const sufLoss = (init: Tensor[]): number => {
          let L = 0;
          for (let b = 0; b < B; b++)
            for (let u = 0; u < U; u++) L += p.wy[(b * T + k) * U + u]! * init[0]!.data[b * U + u]!;
          if (rest > 0) {
            const o = seqForward(
              ctxOf(),
              { ...s, goBackwards: false },
              p.params,
              { shape: [B, rest, I], data: xs },
              null,
              'l',
              null,
              init,
            );
            for (let b = 0; b < B; b++)
              for (let j = 0; j < rest; j++)
                for (let u = 0; u < U; u++) L += p.wy[(b * T + k + 1 + j) * U + u]! * o.y.data[(b * rest + j) * U + u]!;
            if (s.returnState)
              o.states.forEach((sv, q) => {
                for (let i = 0; i < sv.data.length; i++) L += p.ws[q]![i]! * sv.data[i]!;
              });
          } else if (s.returnState)
            init.forEach((sv, q) => {
              for (let i = 0; i < sv.data.length; i++) L += p.ws[q]![i]! * sv.data[i]!;
            });
          return L;
        };
        const numH = Float64Array.from(st[0]!.data, (_, i) => fd(() => sufLoss(st), st[0]!.data as Float64Array, i));
        const tapH = new Float64Array(B * U);
        for (let b = 0; b < B; b++) tapH.set(tp.data.dh!.subarray((b * T + t) * U, (b * T + t + 1) * U), b * U);
        expect(maxRelErr(tapH, numH)).toBeLessThan(1e-7);
        if (nS === 2 && s.kind === 'LSTM') {
          // Total ∂L/∂c_t: h_t = o_t ⊙ tanh(c_t) moves with c_t (o_t from the forward pass). This needs the
          // cell's h_t(c_t); taps-fd.test.ts checks every cell's dc against its independent reference.
          expect(s.activation.name).toBe('tanh');
          const o = Float64Array.from(
            { length: B * U },
            (_, i) => full.cache.bufs.A[k * B * 4 * U + Math.floor(i / U) * 4 * U + 3 * U + (i % U)]!,
          );
          const withH = (): number =>
            sufLoss([{ shape: [B, U], data: Float64Array.from(st[1]!.data, (c, i) => o[i]! * Math.tanh(c)) }, st[1]!]);
          const numC = Float64Array.from(st[1]!.data, (_, i) => fd(withH, st[1]!.data as Float64Array, i));
          const tapC = new Float64Array(B * U);
          for (let b = 0; b < B; b++) tapC.set(tp.data.dc!.subarray((b * T + t) * U, (b * T + t + 1) * U), b * U);
          expect(maxRelErr(tapC, numC)).toBeLessThan(1e-7);
        }
      }
      // gateGrad_t · Kᵀ = ∂L/∂x_t (the input side of every gate), an identity independent of the loop.
      const G = tp.data.gateGrad!.length / (B * T * U),
        GU = G * U;
      // ConvLSTM: its kernel as the dense (I × G·U) matrix of the input convolution (reference, by unit inputs).
      const cv = s.conv;
      const unit = (n: number, i: number): number[] => Array.from({ length: n }, (_, q) => (q === i ? 1 : 0));
      const K = cv
        ? Float64Array.from(
            { length: I * GU },
            (_, q) => refConv(cv, false, unit(I, Math.floor(q / GU)), p.params[0]!.data)[q % GU]!,
          )
        : p.params[0]!.data;
      for (let bt = 0; bt < B * T; bt++)
        for (let i = 0; i < I; i++) {
          let sum = 0;
          for (let j = 0; j < GU; j++) sum += tp.data.gateGrad![bt * GU + j]! * K[i * GU + j]!;
          expect(Math.abs(sum - a.dx.data[bt * I + i]!)).toBeLessThan(1e-12);
        }
      // Sum over steps of the per-step kernel contribution x_tᵀ·gateGrad_t = total kernel gradient.
      if (cv) {
        // ConvLSTM: Σ_t Σ_j gateGrad_j · ∂(conv x_t)_j/∂W = the total kernel gradient.
        const nW = p.params[0]!.data.length;
        const dW = new Float64Array(nW);
        for (let w = 0; w < nW; w++)
          for (let bt = 0; bt < B * T; bt++) {
            const xt = Array.from(tp.data.x!.subarray(bt * I, (bt + 1) * I));
            const pat = refConv(cv, false, xt, unit(nW, w));
            for (let j = 0; j < GU; j++) dW[w] += pat[j]! * tp.data.gateGrad![bt * GU + j]!;
          }
        expect(maxRelErr(dW, a.dParams[0]!.data)).toBeLessThan(1e-12);
        return;
      }
      const dK = new Float64Array(I * GU);
      for (let bt = 0; bt < B * T; bt++)
        for (let i = 0; i < I; i++)
          for (let j = 0; j < GU; j++) dK[i * GU + j] += tp.data.x![bt * I + i]! * tp.data.gateGrad![bt * GU + j]!;
      expect(maxRelErr(dK, a.dParams[0]!.data)).toBeLessThan(1e-12);
    });
  }
});

describe('Bidirectional by finite differences', () => {
  for (const mergeMode of ['concat', 'sum', 'mul', 'ave', null] as const) {
    for (const seq of [false, true]) {
      it(`merge ${mergeMode} seq=${seq}`, () => {
        const f = spec('LSTM', { returnSequences: seq, returnState: true });
        const layer = {
          type: 'Bidirectional',
          name: 'bi',
          className: 'Bidirectional',
          forward: f,
          backward: { ...f, goBackwards: true },
          mergeMode,
          forwardName: 'forward_l',
          backwardName: 'backward_l',
        } as Extract<LayerSpec, { type: 'Bidirectional' }>;
        const r = lcg(5);
        const params = [...paramShapes(f), ...paramShapes(f)].map((sh) => ({
          shape: sh,
          data: randArr(
            r,
            sh.reduce((a, b) => a * b, 1),
            0.8,
          ),
        }));
        const x: Tensor = { shape: [B, T, 2], data: randArr(r, B * T * 2, 1.5) };
        const mask: Mask = { b: B, t: T, data: Uint8Array.from([1, 1, 0, 0, 1, 1, 1, 1]) };
        const o0 = bidirectionalLayer.forward(ctxOf(), layer, params, [x], [mask]);
        const ws = o0.outputs.map((o) => randArr(r, o.data.length));
        const L = (): number =>
          bidirectionalLayer
            .forward(ctxOf(), layer, params, [x], [mask])
            .outputs.reduce((acc, o, j) => acc + Array.from(o.data).reduce((s, v, i) => s + v * ws[j]![i]!, 0), 0);
        const dParams = params.map((t) => ({ shape: t.shape, data: new Float64Array(t.data.length) }));
        const [dx] = bidirectionalLayer.backward(
          ctxOf(),
          layer,
          params,
          o0.cache,
          o0.outputs.map((o, j) => ({ shape: o.shape, data: ws[j]! })),
          dParams,
        );
        params.forEach((t, j) => {
          const num = Float64Array.from(t.data, (_, i) => fd(L, t.data as Float64Array, i));
          expect(maxRelErr(dParams[j]!.data, num)).toBeLessThan(1e-7);
        });
        const numX = Float64Array.from(x.data, (_, i) => fd(L, x.data as Float64Array, i));
        expect(maxRelErr(dx!.data, numX)).toBeLessThan(1e-7);
      });
    }
  }
});

// Checkpointed segments (long sequences) must give the same gradients and taps as the
// single-segment loop: same operations, recomputed; only dK's summation order differs.
import { setSegmentBudget, SEGMENT_BUDGET } from '../src/engine/layers/recurrent.js';
describe('gradient checkpointing', () => {
  for (const [name, s] of cases.filter(([n]) => !n.includes('no bias'))) {
    it(`${name}: segmented == whole`, () => {
      const p = problem({ ...s }, 3, true);
      const taps = {
        dh: true,
        dc: true,
        gateGrad: true,
        gates: true,
        hPrev: true,
        cPrev: true,
        c: true,
        z: true,
        x: true,
        dx: true,
        rh: true,
      };
      const whole = analytic(p, taps);
      const saved = SEGMENT_BUDGET;
      setSegmentBudget(1); // forces segments of a single step
      try {
        const seg = analytic(p, taps);
        whole.dParams.forEach((d, j) => expect(maxRelErr(seg.dParams[j]!.data, d.data)).toBeLessThan(1e-14));
        expect(maxRelErr(seg.dx.data, whole.dx.data)).toBeLessThan(1e-14);
        for (const [k, v] of Object.entries(whole.taps!.data))
          expect(maxRelErr(seg.taps!.data[k as keyof typeof whole.taps.data]!, v)).toBeLessThan(1e-14);
      } finally {
        setSegmentBudget(saved);
      }
    });
  }
});
