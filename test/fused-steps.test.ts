// The fused WebAssembly sequence loop (src/engine/layers/recurrent-fused.ts, src/engine/wasm/cells.as)
// for every registered cell that names a wasmStep, in each of its forms: outputs, ∂L/∂x, every
// parameter gradient, the initial states' gradients and every tap, in float32, against the
// JavaScript float64 run of the same layer (jsKernels; itself checked against finite differences by
// test/taps-fd.test.ts). The fused run's error must stay within a small multiple of the error of
// the JavaScript float32 run (the float32 tolerance the oracle tests already accept).
// Cases: units not a multiple of 4, masking, go_backwards, return_state with initial states,
// checkpointed segments, Bidirectional. Also: when the fused path applies, and that a run leaves no
// wasm memory behind.
import { afterEach, describe, expect, it } from 'vitest';
import type { LayerSpec, RecurrentSpec } from '../src/model/types.js';
import { CELLS, cellOf } from '../src/engine/cells/index.js';
import { createWasmKernels } from '../src/engine/kernels-wasm.js';
import { jsKernels, type Kernels } from '../src/engine/kernels.js';
import type { Ctx, LayerImpl } from '../src/engine/layer.js';
import { bidirectionalLayer, recurrentLayer } from '../src/engine/layers/rnn-layers.js';
import { SEGMENT_BUDGET, setSegmentBudget } from '../src/engine/layers/recurrent.js';
import { fusedFor, openSeqScope } from '../src/engine/layers/recurrent-fused.js';
import { ALL_TAPS, TapStore, type TapRequest } from '../src/engine/taps.js';
import type { Arr, DType, Mask, Tensor } from '../src/engine/tensor.js';
import { act, rnnSpec } from './helpers/models.js';
import { lcg, maxRelErr, randArr } from './helpers/rng.js';

const ALL: TapRequest = ALL_TAPS;
const B = 3,
  T = 7,
  I = 4;
const wk = createWasmKernels();
const budget = SEGMENT_BUDGET;
afterEach(() => setSegmentBudget(budget));

interface Case {
  name: string;
  layer: LayerSpec;
  masked: boolean;
  init: boolean;
  segments?: boolean;
}

function specsOf(l: LayerSpec): RecurrentSpec[] {
  if (l.type === 'Recurrent') return [l.rnn];
  if (l.type === 'Bidirectional') return [l.forward, l.backward];
  throw new Error('not recurrent');
}

function setup(c: Case, seed: number) {
  const r = lcg(seed);
  const specs = specsOf(c.layer);
  const params = specs
    .flatMap((s) => cellOf(s.kind).params(s))
    .map((p) => ({
      shape: p.shape,
      data: randArr(
        r,
        p.shape.reduce((a, b) => a * b, 1),
        0.6,
      ),
    }));
  const x = { shape: [B, T, I], data: randArr(r, B * T * I, 1.5) };
  const mask: Mask | null = c.masked
    ? { b: B, t: T, data: Uint8Array.from({ length: B * T }, (_, i) => (i % 5 === 3 || i === 7 ? 0 : 1)) }
    : null;
  const U = specs[0]!.units;
  const init = c.init
    ? specs.flatMap((s) => cellOf(s.kind).states.map(() => ({ shape: [B, U], data: randArr(r, B * U, 0.5) })))
    : [];
  return { params, x, mask, init, rand: r };
}

function cast(t: { shape: number[]; data: Arr }, dtype: DType): Tensor {
  return { shape: t.shape, data: dtype === 'float32' ? Float32Array.from(t.data) : Float64Array.from(t.data) };
}

/** Forward + backward of the layer with L = Σ w ⊙ outputs; everything returned as float64 copies. */
function run(c: Case, s: ReturnType<typeof setup>, w: Float64Array[] | null, dtype: DType, kernels: Kernels) {
  const ctx: Ctx = { dtype, kernels, taps: ALL, sink: new TapStore() };
  const release = openSeqScope(ctx);
  try {
    // The wasm run takes the fused path for every direction.
    if (kernels === wk)
      for (const spec of specsOf(c.layer)) {
        const R = new Float32Array(spec.units * cellOf(spec.kind).gates.length * spec.units);
        expect(fusedFor(ctx, spec, { K: R, R, b: null, extra: {} }, B, T)).not.toBeNull();
      }
    const impl = (c.layer.type === 'Bidirectional' ? bidirectionalLayer : recurrentLayer) as LayerImpl;
    const params = s.params.map((p) => cast(p, dtype));
    const init = s.init.map((t) => cast(t, dtype));
    const f = impl.forward(ctx, c.layer, params, [cast(s.x, dtype), ...init], [s.mask, ...init.map(() => null)]);
    const ws = w ?? f.outputs.map((o) => randArr(s.rand, o.data.length));
    const dParams = params.map((p) => ({
      shape: p.shape,
      data: dtype === 'float32' ? new Float32Array(p.data.length) : new Float64Array(p.data.length),
    }));
    const dOut = f.outputs.map((o, j) => cast({ shape: o.shape, data: ws[j]! }, dtype));
    const dIn = impl.backward(ctx, c.layer, params, f.cache, dOut, dParams);
    const taps = (ctx.sink as TapStore).layers.flatMap((l) =>
      Object.entries(l.data).map(([k, v]) => [`${l.direction ?? ''}${k}`, Float64Array.from(v as Arr)] as const),
    );
    const named = [
      ...f.outputs.map((o, j) => [`output ${j}`, Float64Array.from(o.data)] as const),
      ...dIn.flatMap((d, j) => (d ? [[`dInput ${j}`, Float64Array.from(d.data)] as const] : [])),
      ...dParams.map((d, j) => [`dParam ${j}`, Float64Array.from(d.data)] as const),
      ...taps,
    ];
    return { ws, named: new Map(named) };
  } finally {
    release();
  }
}

const cases: Case[] = [];
for (const cell of CELLS) {
  for (const form of cell.forms ?? [{ name: '', options: {} }]) {
    const kind = cell.kind as RecurrentSpec['kind'];
    const spec = (U: number, o: Partial<RecurrentSpec>) => rnnSpec(kind, I, U, { ...form.options, ...o });
    if (!cell.wasmStep?.(spec(4, {}))) continue;
    const kn = `${cell.kind}${form.name ? ` ${form.name}` : ''}`;
    const rec = (rnn: RecurrentSpec): LayerSpec => ({ type: 'Recurrent', name: 'l', className: rnn.kind, rnn });
    cases.push(
      { name: `${kn} U=8 seq`, layer: rec(spec(8, { returnSequences: true })), masked: false, init: false },
      {
        name: `${kn} U=5 go_backwards state+init masked`,
        layer: rec(spec(5, { goBackwards: true, returnState: true })),
        masked: true,
        init: true,
      },
      {
        name: `${kn} U=6 seq masked, checkpointed segments`,
        layer: rec(spec(6, { returnSequences: true, zeroOutputForMask: true })),
        masked: true,
        init: false,
        segments: true,
      },
      {
        name: `Bidirectional(${kn}) U=7 concat state+init`,
        layer: {
          type: 'Bidirectional',
          name: 'bi',
          className: 'Bidirectional',
          forward: spec(7, { returnState: true }),
          backward: spec(7, { returnState: true, goBackwards: true }),
          mergeMode: 'concat',
          forwardName: 'f',
          backwardName: 'b',
        },
        masked: false,
        init: true,
      },
    );
  }
}

describe('fused wasm cell steps', () => {
  it('covers LSTM, GRU (both forms) and SimpleRNN', () => {
    const plain = cases.filter((c) => c.layer.type === 'Recurrent');
    expect(new Set(plain.map((c) => c.name.split(' U=')[0]!))).toEqual(
      new Set(['LSTM', 'GRU reset_after', 'GRU reset_before', 'SimpleRNN']),
    );
  });

  for (const [i, c] of cases.entries()) {
    it(c.name, () => {
      if (c.segments) setSegmentBudget(1);
      const s = setup(c, 100 + i);
      const ref = run(c, s, null, 'float64', jsKernels);
      const js32 = run(c, s, ref.ws, 'float32', jsKernels);
      const fused = run(c, s, ref.ws, 'float32', wk);
      const live = wk.liveBytes;
      expect([...fused.named.keys()].sort()).toEqual([...ref.named.keys()].sort());
      for (const [k, want] of ref.named) {
        const eJs = maxRelErr(js32.named.get(k)!, want, 1e-3);
        const eFused = maxRelErr(fused.named.get(k)!, want, 1e-3);
        expect(eFused, `${k}: fused ${eFused.toExponential(2)}, js float32 ${eJs.toExponential(2)}`).toBeLessThan(
          Math.max(4 * eJs, 2e-6),
        );
      }
      // A run releases every block it took (the gemm scratch, taken by the first run, stays).
      run(c, s, ref.ws, 'float32', wk);
      expect(wk.liveBytes).toBe(live);
    });
  }

  it('applies only to float32 runs of the wasm kernels, inside a run, for tanh/sigmoid cells', () => {
    const spec = rnnSpec('LSTM', I, 4);
    const p = { K: new Float32Array(I * 16), R: new Float32Array(64), b: new Float32Array(16), extra: {} };
    const ctx = (dtype: DType, kernels: Kernels): Ctx => ({ dtype, kernels, taps: null, sink: new TapStore() });
    const within = (c: Ctx, s: RecurrentSpec) => {
      const release = openSeqScope(c);
      try {
        return fusedFor(c, s, p, B, T)?.kind ?? null;
      } finally {
        release();
      }
    };
    expect(within(ctx('float32', wk), spec)).toBe('lstm');
    expect(fusedFor(ctx('float32', wk), spec, p, B, T)).toBeNull(); // no run scope
    expect(within(ctx('float64', wk), spec)).toBeNull();
    expect(within(ctx('float32', jsKernels), spec)).toBeNull();
    expect(within(ctx('float32', wk), { ...spec, recurrentActivation: act('hard_sigmoid') })).toBeNull();
    expect(cellOf('PeepholeLSTM').wasmStep).toBeUndefined();
  });
});
