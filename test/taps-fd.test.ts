// Every per-step tap of every registered recurrent cell (src/engine/cells: SimpleRNN, LSTM, GRU
// reset_after/before, …, and each direction of a Bidirectional in every merge mode), with go_backwards, masking,
// return_sequences
// on and off, return_state and initial states, against an independent float64 reference
// (test/helpers/rnn-ref.ts, no engine code):
//   - gradient taps by central finite differences of a perturbation at one step of one direction:
//     dh (h_t), dc (c_t, before h_t = o ⊙ σ(c_t): the total derivative), dx (that direction's own
//     input x_t, the other direction's input held fixed), gateGrad (the gate pre-activations);
//   - forward-recorded taps (gates, z, hPrev, cPrev, c, x, rh) against the reference's intermediates;
//   - each tap requested alone equals the same tap requested with all the others.
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { BidiMerge, LayerSpec, RecurrentKind, RecurrentSpec } from '../src/model/types.js';
import { CELLS, cellOf } from '../src/engine/cells/index.js';
import { jsKernels } from '../src/engine/kernels.js';
import type { Ctx, LayerImpl } from '../src/engine/layer.js';
import { bidirectionalLayer, recurrentLayer } from '../src/engine/layers/rnn-layers.js';
import { TapStore, type TapName, type TapRequest } from '../src/engine/taps.js';
import type { Mask, Tensor } from '../src/engine/tensor.js';
import { lossAndGrads } from '../src/engine/run.js';
import { materializeParams } from '../src/engine/graph.js';
import { loadModelFile } from '../src/node.js';
import { analyzeModel } from '../src/analysis/analyze.js';
import { act, dense, rnnSpec, sequential } from './helpers/models.js';
import { CORPUS } from './helpers/corpus.js';
import { lcg, maxRelErr, randArr } from './helpers/rng.js';
import {
  refBidirectional,
  refRecurrent,
  weighted,
  type Perturb,
  type PerturbAt,
  type RefParams,
  type RefRun,
  type RefTap,
} from './helpers/rnn-ref.js';

const ALL: TapRequest = {
  dh: true,
  dc: true,
  dx: true,
  gateGrad: true,
  gates: true,
  hPrev: true,
  cPrev: true,
  c: true,
  z: true,
  x: true,
  rh: true,
};
const GRAD_TAPS: [TapName, PerturbAt][] = [
  ['dh', 'h'],
  ['dc', 'c'],
  ['dx', 'x'],
  ['gateGrad', 'z'],
];
const FWD_TAPS: RefTap[] = ['gates', 'z', 'hPrev', 'cPrev', 'c', 'x', 'rh'];
const B = 2,
  T = 4,
  I = 2,
  U = 3;
const EPS = 1e-6;

/** Worst error seen per tap kind over all cases (printed with RNNSCOPE_FD_REPORT=1). */
const worst = new Map<string, number>();
const note = (k: string, e: number): void => {
  worst.set(k, Math.max(worst.get(k) ?? 0, e));
};
afterAll(() => {
  if (process.env.RNNSCOPE_FD_REPORT) console.log([...worst].map(([k, v]) => `${k}: ${v.toExponential(2)}`).join('\n'));
});

type Dir = 'forward' | 'backward' | null;
interface Case {
  name: string;
  layer: LayerSpec;
  masked: boolean;
  init: boolean;
}

const ctxOf = (taps: TapRequest | null): Ctx => ({ dtype: 'float64', kernels: jsKernels, taps, sink: new TapStore() });

function paramShapes(s: RecurrentSpec): number[][] {
  return cellOf(s.kind)
    .params(s)
    .map((p) => p.shape);
}

function directions(l: LayerSpec): { dir: Dir; spec: RecurrentSpec; p0: number }[] {
  if (l.type === 'Recurrent') return [{ dir: null, spec: l.rnn, p0: 0 }];
  if (l.type === 'Bidirectional')
    return [
      { dir: 'forward', spec: l.forward, p0: 0 },
      { dir: 'backward', spec: l.backward, p0: paramShapes(l.forward).length },
    ];
  throw new Error('not a recurrent layer');
}

/** Random weights, inputs, mask, initial states and output weights w (L = Σ w ⊙ outputs). */
function setup(c: Case, seed: number) {
  const r = lcg(seed);
  const dirs = directions(c.layer);
  const params: Tensor[] = dirs
    .flatMap((d) => paramShapes(d.spec))
    .map((sh) => ({
      shape: sh,
      data: randArr(
        r,
        sh.reduce((a, b) => a * b, 1),
        0.8,
      ),
    }));
  // The spec's own sizes (a ConvLSTM form fixes its frame and state sizes).
  const I0 = dirs[0]!.spec.inputDim;
  const x: Tensor = { shape: [B, T, I0], data: randArr(r, B * T * I0, 1.5) };
  // sample 0: an interior and the last step masked; sample 1: the first step masked.
  const mask: Mask | null = c.masked ? { b: B, t: T, data: Uint8Array.from([1, 0, 1, 0, 0, 1, 1, 1]) } : null;
  const init: Tensor[] = c.init
    ? dirs.flatMap((d) =>
        Array.from({ length: cellOf(d.spec.kind).states.length }, () => ({
          shape: [B, d.spec.units],
          data: randArr(r, B * d.spec.units, 0.5),
        })),
      )
    : [];
  const impl = (c.layer.type === 'Bidirectional' ? bidirectionalLayer : recurrentLayer) as LayerImpl;
  const outs = impl.forward(ctxOf(null), c.layer, params, [x, ...init], [mask, ...init.map(() => null)]).outputs;
  const w = outs.map((o) => randArr(r, o.data.length));
  return { dirs, params, x, mask, init, impl, w };
}

type Setup = ReturnType<typeof setup>;

function engine(c: Case, s: Setup, taps: TapRequest) {
  const ctx = ctxOf(taps);
  const f = s.impl.forward(ctx, c.layer, s.params, [s.x, ...s.init], [s.mask, ...s.init.map(() => null)]);
  const dParams = s.params.map((p) => ({ shape: p.shape, data: new Float64Array(p.data.length) }));
  const dIn = s.impl.backward(
    ctx,
    c.layer,
    s.params,
    f.cache,
    f.outputs.map((o, j) => ({ shape: o.shape, data: s.w[j]! })),
    dParams,
  );
  return { outputs: f.outputs, dx: dIn[0]!, store: ctx.sink as TapStore };
}

/** The direction's weights by Keras name (the registry gives the order). */
function refParams(s: Setup, d: { spec: RecurrentSpec; p0: number }): RefParams {
  const w: Record<string, Float64Array> = {};
  cellOf(d.spec.kind)
    .params(d.spec)
    .forEach((p, i) => {
      w[p.name] = s.params[d.p0 + i]!.data as Float64Array;
    });
  const { kernel, recurrent_kernel: R, bias, ...extra } = w;
  return { K: kernel!, R: R!, b: bias ?? null, extra };
}

/** Reference outputs and runs, with an optional perturbation of one direction. */
function reference(c: Case, s: Setup, pert: Perturb | null, dir: Dir): { outputs: Float64Array[]; runs: RefRun[] } {
  const l = c.layer,
    mask = s.mask ? s.mask.data : null;
  if (l.type === 'Recurrent') {
    const run = refRecurrent(
      l.rnn,
      refParams(s, s.dirs[0]!),
      s.x.data,
      B,
      T,
      mask,
      s.init.length ? s.init.map((t) => t.data) : null,
      pert,
    );
    return { outputs: [run.y, ...(l.rnn.returnState ? run.states : [])], runs: [run] };
  }
  const bl = l as Extract<LayerSpec, { type: 'Bidirectional' }>;
  const r = refBidirectional(
    bl,
    refParams(s, s.dirs[0]!),
    refParams(s, s.dirs[1]!),
    s.x.data,
    s.x.data,
    B,
    T,
    mask,
    s.init.length ? s.init.map((t) => t.data) : null,
    dir === 'forward' ? pert : null,
    dir === 'backward' ? pert : null,
  );
  return { outputs: r.outputs, runs: [r.f, r.b] };
}

function checkCase(c: Case, seed: number): void {
  const s = setup(c, seed);
  const all = engine(c, s, ALL);
  const ref = reference(c, s, null, null);
  // The reference forward agrees with the engine's outputs (else nothing below means anything).
  ref.outputs.forEach((o, j) => expect(maxRelErr(all.outputs[j]!.data, o)).toBeLessThan(1e-12));

  s.dirs.forEach((d, di) => {
    const tp = all.store.get(c.layer.name, d.dir)!;
    expect(tp, `taps of ${d.dir ?? 'layer'}`).toBeDefined();
    // Which taps the cell has, as the independent reference computes them (c, cPrev and dc with a cell state, rh for
    // GRU reset_after).
    const rec = ref.runs[di]!.rec;
    const has: Record<TapName, boolean> = {
      dh: true,
      dc: rec.c !== undefined,
      dx: true,
      gateGrad: true,
      gates: true,
      z: true,
      hPrev: true,
      cPrev: rec.cPrev !== undefined,
      c: rec.c !== undefined,
      x: true,
      rh: rec.rh !== undefined,
    };
    for (const [k, want] of Object.entries(has))
      expect(tp.data[k as TapName] !== undefined, `${k} recorded`).toBe(want);

    // Forward-recorded taps against the reference's intermediates.
    for (const k of FWD_TAPS) {
      const got = tp.data[k];
      if (!got) continue;
      const e = maxRelErr(got, ref.runs[di]!.rec[k]!);
      note(k, e);
      expect(e, `${d.dir ?? ''} ${k}`).toBeLessThan(1e-12);
    }

    // Gradient taps against finite differences of this direction alone.
    const L = (p: Perturb): number => weighted(reference(c, s, p, d.dir).outputs, s.w);
    for (const [k, at] of GRAD_TAPS) {
      const got = tp.data[k];
      if (!got) continue;
      const width = got.length / (B * T);
      const num = new Float64Array(got.length);
      for (let b = 0; b < B; b++)
        for (let t = 0; t < T; t++)
          for (let j = 0; j < width; j++) {
            num[(b * T + t) * width + j] = (L({ at, b, t, j, eps: EPS }) - L({ at, b, t, j, eps: -EPS })) / (2 * EPS);
          }
      expect(Math.max(...num.map(Math.abs)), `${k}: the loss depends on it`).toBeGreaterThan(1e-3);
      const e = maxRelErr(got, num);
      note(k, e);
      expect(e, `${d.dir ?? ''} ${k}`).toBeLessThan(1e-7);
    }
  });

  // The layer's input gradient is the sum of its directions' dx taps.
  const sum = new Float64Array(s.x.data.length);
  for (const d of s.dirs)
    all.store.get(c.layer.name, d.dir)!.data.dx!.forEach((v, i) => {
      sum[i] += v;
    });
  expect(maxRelErr(all.dx.data, sum)).toBeLessThan(1e-15);

  // Each tap alone is bit-identical to the same tap recorded with all the others.
  for (const k of Object.keys(ALL) as TapName[]) {
    const alone = engine(c, s, { [k]: true });
    for (const d of s.dirs) {
      const a = alone.store.get(c.layer.name, d.dir)?.data[k],
        b = all.store.get(c.layer.name, d.dir)!.data[k];
      if (!b) {
        expect(a).toBeUndefined();
        continue;
      }
      expect(a && Array.from(a).every((v, i) => Object.is(v, b[i])), `${k} alone`).toBe(true);
    }
  }
}

// Every form of every registered cell (GRU: reset_after and reset_before); the first form keeps the bare name.
const KINDS: [string, RecurrentKind, Partial<RecurrentSpec>][] = CELLS.flatMap((cell) =>
  (cell.forms ?? [{ name: '', options: {} }]).map((f, i): [string, RecurrentKind, Partial<RecurrentSpec>] => [
    i === 0 ? cell.kind : `${cell.kind} ${f.name}`,
    cell.kind,
    f.options,
  ]),
);
const rec = (name: string, rnn: RecurrentSpec): LayerSpec => ({ type: 'Recurrent', name, className: rnn.kind, rnn });

const cases: Case[] = [];
for (const [kn, kind, o] of KINDS) {
  for (const goBackwards of [false, true])
    for (const returnSequences of [false, true])
      for (const masked of [false, true]) {
        const opts = { ...o, goBackwards, returnSequences, returnState: goBackwards };
        cases.push({
          name: `${kn}${goBackwards ? ' go_backwards' : ''}${returnSequences ? ' seq' : ''}${goBackwards ? ' state+init' : ''}${masked ? ' masked' : ''}`,
          layer: rec('l', rnnSpec(kind, I, U, opts)),
          masked,
          init: goBackwards,
        });
      }
}
cases.push({
  name: 'LSTM hard_sigmoid/elu seq masked',
  layer: rec(
    'l',
    rnnSpec('LSTM', I, U, {
      recurrentActivation: act('hard_sigmoid', { hardSigmoidSlope: 0.2 }),
      activation: act('elu', { alpha: 1 }),
      returnSequences: true,
    }),
  ),
  masked: true,
  init: false,
});
cases.push({
  name: 'SimpleRNN softsign no bias seq',
  layer: rec('l', rnnSpec('SimpleRNN', I, U, { activation: act('softsign'), useBias: false, returnSequences: true })),
  masked: false,
  init: true,
});
for (const kind of CELLS.map((c) => c.kind)) {
  cases.push({
    name: `${kind} zero_output_for_mask seq masked`,
    layer: rec('l', rnnSpec(kind, I, U, { returnSequences: true, zeroOutputForMask: true })),
    masked: true,
    init: false,
  });
}
// Bidirectional runs the dense cells (the model stage refuses Bidirectional(ConvLSTM)).
for (const [kn, kind, o] of KINDS.filter(([, k]) => !cellOf(k).convolutional)) {
  for (const mergeMode of ['concat', 'sum', 'mul', 'ave', null] as BidiMerge[])
    for (const seq of [false, true])
      for (const masked of [false, true]) {
        const f = rnnSpec(kind, I, U, { ...o, returnSequences: seq, returnState: !seq });
        cases.push({
          name: `Bidirectional(${kn}) merge=${mergeMode}${seq ? ' seq' : ' state+init'}${masked ? ' masked' : ''}`,
          layer: {
            type: 'Bidirectional',
            name: 'bi',
            className: 'Bidirectional',
            forward: f,
            backward: { ...f, goBackwards: true },
            mergeMode,
            forwardName: 'forward_l',
            backwardName: 'backward_l',
          },
          masked,
          init: !seq,
        });
      }
}

describe('taps of every recurrent layer vs float64 finite differences and an independent forward', () => {
  cases.forEach((c, i) => it(c.name, () => checkCase(c, 11 + i)));
});

// The case of issue 9: on the ECG BiLSTM autoencoder (Bidirectional(LSTM 64) over 210 steps → Dense),
// the forward direction's ∂L/∂x_t is tiny at early steps (its state there barely reaches the output),
// while the backward direction's is largest there. Each direction's dx tap must be its own.
describe('Bidirectional dx per direction on a real model', () => {
  it("ECG BiLSTM autoencoder: each direction's dx tap vs finite differences of that direction's input alone", async () => {
    const dir = path.join(CORPUS, 'w_chen_ecg_bilstm_autoencoder');
    const model = await loadModelFile(path.join(dir, 'bidirectional-lstm-auto-encoder-architecture.json'), {
      weights: path.join(dir, 'bidirectional-lstm-auto-encoder-weights.h5'),
    });
    const bi = model.layers[1]! as Extract<LayerSpec, { type: 'Bidirectional' }>;
    expect(bi.type).toBe('Bidirectional');
    const Tm = 210,
      Bm = 2;
    const csv = (await import('node:fs'))
      .readFileSync(path.join(dir, 'ecg_discord_test.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(0, Bm)
      .map((l) => l.split(',').map(Number));
    const x: Tensor = { shape: [Bm, Tm, 1], data: Float64Array.from(csv.flat()) };
    const y: Tensor = { shape: [Bm, Tm], data: Float64Array.from(csv.flat()) };
    const r = lossAndGrads(model, [x], [y], {
      losses: [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }],
      flavor: 'keras2',
      dtype: 'float64',
      taps: { dx: true, dh: true },
    });
    const P = materializeParams(model, 'float64');
    const [pf, pb] = [0, 3].map((o) => ({ K: P[1]![o]!.data, R: P[1]![o + 1]!.data, b: P[1]![o + 2]!.data }));
    const W = P[2]![0]!.data,
      bias = P[2]![1]!.data;
    // Reference: BiLSTM (rnn-ref) → Dense 128→210 (linear) → mse (mean over samples and outputs), as a sum over
    // samples so that a finite difference at sample b reruns only that sample's perturbed direction.
    const one = (d: 'forward' | 'backward', xs: ArrayLike<number>): Float64Array =>
      refRecurrent(bi[d], d === 'forward' ? pf! : pb!, xs, 1, Tm, null, null).y;
    const rows = (b: number): ArrayLike<number> => x.data.subarray(b * Tm, (b + 1) * Tm);
    const base = Array.from({ length: Bm }, (_, b) => ({
      forward: one('forward', rows(b)),
      backward: one('backward', rows(b)),
    }));
    const sampleLoss = (b: number, hf: Float64Array, hb: Float64Array): number => {
      let L = 0;
      for (let o = 0; o < Tm; o++) {
        let v = bias[o]!;
        for (let q = 0; q < 64; q++) v += hf[q]! * W[q * Tm + o]! + hb[q]! * W[(64 + q) * Tm + o]!;
        L += (v - y.data[b * Tm + o]!) ** 2;
      }
      return L / (Bm * Tm);
    };
    const total = base.reduce((acc, h, b) => acc + sampleLoss(b, h.forward, h.backward), 0);
    expect(Math.abs(total - r.loss) / r.loss).toBeLessThan(1e-12);
    const steps = [0, 1, 105, 208, 209];
    for (const d of ['forward', 'backward'] as const) {
      const tap = r.taps.get('bidirectional_1', d)!.data.dx!;
      const got: number[] = [],
        num: number[] = [];
      for (let b = 0; b < Bm; b++)
        for (const t of steps) {
          const xs = Float64Array.from(rows(b)),
            v = xs[t]!,
            h = 1e-6 * Math.max(1, Math.abs(v));
          const L = (xv: number): number => {
            xs[t] = xv;
            const hd = one(d, xs);
            return d === 'forward' ? sampleLoss(b, hd, base[b]!.backward) : sampleLoss(b, base[b]!.forward, hd);
          };
          got.push(tap[b * Tm + t]!);
          num.push((L(v + h) - L(v - h)) / (2 * h));
        }
      const e = maxRelErr(got, num);
      note(`ecg dx/${d}`, e);
      expect(e, `dx/${d}`).toBeLessThan(1e-6);
    }
    // The forward direction's first steps: ∂L/∂x_0 and ∂L/∂h_0 are both negligible next to its last step.
    const f = r.taps.get('bidirectional_1', 'forward')!.data;
    expect(Math.abs(f.dx![0]!)).toBeLessThan(1e-6 * Math.abs(f.dx![Tm - 1]!));
  }, 60_000);
});

// The dump (--dump, keepRaw) and the input-sensitivity series (recurrent[].dx) are made from these taps:
// each direction's entry must be that direction's own ∂L/∂x, by finite differences of the reference
// model (rnn-ref Bidirectional → Dense → mse) moving that direction's input alone.
describe('Bidirectional dx in the dump and the analysis', () => {
  it("raw dx/<layer>/<direction> and recurrent[].dx.norm match finite differences of that direction's input alone", () => {
    const f = rnnSpec('LSTM', 2, 4),
      Tb = 8,
      N = 6;
    const bi = {
      type: 'Bidirectional' as const,
      name: 'bi',
      className: 'Bidirectional',
      forward: f,
      backward: { ...f, goBackwards: true },
      mergeMode: 'concat' as const,
      forwardName: 'forward_l',
      backwardName: 'backward_l',
    };
    const m = sequential(Tb, 2, [bi, dense('d', 1)], 3, 0.6);
    const x = { shape: [N, Tb, 2], data: randArr(lcg(4), N * Tb * 2, 1) },
      y = { shape: [N, 1], data: randArr(lcg(6), N, 1) };
    const { analysis, raw } = analyzeModel(
      m,
      { inputs: [x], targets: [y] },
      { loss: 'mse', batchSize: N, keepRaw: true },
    );
    const P = materializeParams(m, 'float64');
    const [pf, pb] = [0, 3].map((o) => ({ K: P[0]![o]!.data, R: P[0]![o + 1]!.data, b: P[0]![o + 2]!.data }));
    const W = P[1]![0]!.data,
      c = P[1]![1]!.data[0]!;
    const loss = (xf: Float64Array, xb: Float64Array): number => {
      const h = refBidirectional(bi, pf!, pb!, xf, xb, N, Tb, null, null, null, null).outputs[0]!;
      let L = 0;
      for (let b = 0; b < N; b++) {
        let v = c;
        for (let q = 0; q < 8; q++) v += h[b * 8 + q]! * W[q]!;
        L += (v - y.data[b]!) ** 2;
      }
      return L / N;
    };
    const x0 = x.data;
    for (const d of ['forward', 'backward'] as const) {
      const num = Float64Array.from(x0, (v, i) => {
        const xp = Float64Array.from(x0),
          xm = Float64Array.from(x0);
        xp[i] = v + EPS;
        xm[i] = v - EPS;
        return (d === 'forward' ? loss(xp, x0) - loss(xm, x0) : loss(x0, xp) - loss(x0, xm)) / (2 * EPS);
      });
      const e = maxRelErr(raw!.get(`dx/bi/${d}`)!.data, num);
      note(`dump dx/${d} (float32)`, e);
      expect(e, `dump dx/${d}`).toBeLessThan(1e-5);
      const norm = Array.from({ length: Tb }, (_, t) => {
        let s2 = 0;
        for (let b = 0; b < N; b++) for (let i = 0; i < 2; i++) s2 += num[(b * Tb + t) * 2 + i]! ** 2;
        return Math.sqrt(s2);
      });
      expect(
        maxRelErr(analysis.recurrent.find((a) => a.id === `bi/${d}`)!.dx.norm as number[], norm),
        `recurrent[bi/${d}].dx.norm`,
      ).toBeLessThan(1e-5);
    }
  });
});
