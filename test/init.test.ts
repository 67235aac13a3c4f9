import { describe, expect, it } from 'vitest';
import { makeRng, type Rng } from '../src/engine/rng.js';
import { computeFans, initParam, initialize, orthogonal } from '../src/engine/init.js';
import { ModelError } from '../src/model/errors.js';
import { maxRelErr } from './helpers/numerics-fd.js';

describe('rng: xoshiro128** seeded by SplitMix64', () => {
  // Printed by `/usr/bin/python3 scripts/rng-oracle.py` (transcription of the authors' C code).
  const STREAMS: [number | bigint, number[], number[]][] = [
    [
      0,
      [3737715805, 2584255861, 2876756834, 3286328325, 1553311962, 1625202774, 3260698944, 2754151956],
      [0.870254774404272, 0.6697971505310978],
    ],
    [
      42,
      [1776835114, 4165204688, 17111135, 2317295270, 2792088233, 2554630222, 2940343271, 2244566231],
      [0.4137016681565887, 0.003983993377814743],
    ],
    [
      2n ** 40n + 7n,
      [731018183, 1433462173, 2492519422, 1115521196, 181003479, 1511671894, 2652842288, 3222343345],
      [0.17020343492741818, 0.5803348962942325],
    ],
  ];
  for (const [seed, u32, unif] of STREAMS) {
    it(`seed ${seed}: first integers and uniforms`, () => {
      const r = makeRng(seed);
      expect(Array.from({ length: 8 }, () => r.nextU32())).toEqual(u32);
      const r2 = makeRng(seed);
      expect([r2.uniform(), r2.uniform()]).toEqual(unif);
    });
  }
  it('same seed, same normals; normal moments', () => {
    const a = makeRng(7);
    const b = makeRng(7);
    for (let i = 0; i < 100; i++) expect(a.normal()).toBe(b.normal());
    const r = makeRng(123);
    let s = 0;
    let s2 = 0;
    let s4 = 0;
    const n = 100000;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
      s4 += z ** 4;
    }
    // standard errors: mean 0.0032, variance 0.0045, 4th moment 0.031
    expect(Math.abs(s / n)).toBeLessThan(0.015);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
    expect(Math.abs(s4 / n - 3)).toBeLessThan(0.15);
  });
  it('uniform is in [0, 1) with the right mean', () => {
    const r = makeRng(5);
    let s = 0;
    for (let i = 0; i < 50000; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      s += u;
    }
    expect(Math.abs(s / 50000 - 0.5)).toBeLessThan(0.01);
  });
});

/** An Rng that replays fixed normals, so a QR can be compared with numpy on the same matrix. */
function replay(values: number[]): Rng {
  let i = 0;
  return { nextU32: () => 0, uniform: () => 0, normal: () => values[i++] };
}

function gram(q: Float64Array, rows: number, cols: number, byRows: boolean): Float64Array {
  const k = byRows ? rows : cols;
  const g = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      let s = 0;
      const len = byRows ? cols : rows;
      for (let i = 0; i < len; i++) s += byRows ? q[a * cols + i] * q[b * cols + i] : q[i * cols + a] * q[i * cols + b];
      g[a * k + b] = s;
    }
  }
  return g;
}

function maxIdentityErr(g: Float64Array, k: number, gain = 1): number {
  let m = 0;
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++) m = Math.max(m, Math.abs(g[a * k + b] - (a === b ? gain * gain : 0)));
  return m;
}

describe('orthogonal initializer', () => {
  const A = [0.3, -1.2, 0.5, 1.1, 0.4, -0.7, -0.2, 0.9, 1.3, 0.8, -0.6, 0.1];
  it('equals numpy q·sign(diag r) on the same normal matrix (tall and wide)', () => {
    // /usr/bin/python3, numpy 1.24.2: q, r = np.linalg.qr(A.reshape(4, 3)); q *= np.sign(np.diag(r))
    const Q = [
      0.21320071635561044, -0.6896948996757122, 0.4256996862606383, 0.7817359599705715, 0.4478945079637915,
      -0.17482129775733568, -0.14213381090374028, 0.5218127624249486, 0.8389510451424781, 0.5685352436149611,
      -0.22676617046558387, 0.2904796633542167,
    ];
    const QT = [
      0.21320071635561044, 0.7817359599705715, -0.14213381090374028, 0.5685352436149611, -0.6896948996757122,
      0.4478945079637915, 0.5218127624249486, -0.22676617046558387, 0.4256996862606383, -0.17482129775733568,
      0.8389510451424781, 0.2904796633542167,
    ];
    expect(maxRelErr(orthogonal(replay(A), [4, 3]), Q, 1)).toBeLessThan(1e-14);
    // (3, 4): Keras draws a (4, 3) matrix and transposes Q.
    expect(maxRelErr(orthogonal(replay(A), [3, 4]), QT, 1)).toBeLessThan(1e-14);
    expect(
      maxRelErr(
        orthogonal(replay(A), [4, 3], 1.5),
        Q.map((v) => 1.5 * v),
        1,
      ),
    ).toBeLessThan(1e-14);
  });
  it('QᵀQ = I for recurrent-kernel shapes', () => {
    const rng = makeRng(1);
    const wide = orthogonal(rng, [16, 64]); // LSTM recurrent_kernel (U, 4U): orthonormal rows
    expect(maxIdentityErr(gram(wide, 16, 64, true), 16)).toBeLessThan(1e-13);
    const tall = orthogonal(rng, [48, 16]);
    expect(maxIdentityErr(gram(tall, 48, 16, false), 16)).toBeLessThan(1e-13);
    const conv = orthogonal(rng, [3, 4, 5]); // flattened to (12, 5)
    expect(maxIdentityErr(gram(conv, 12, 5, false), 5)).toBeLessThan(1e-13);
    const g2 = initialize({ class_name: 'Orthogonal', config: { gain: 2 } }, [8, 8], rng);
    expect(maxIdentityErr(gram(g2, 8, 8, false), 8, 2)).toBeLessThan(1e-13);
  });
});

describe('variance-scaling initializers', () => {
  it('compute_fans', () => {
    expect(computeFans([7])).toEqual([7, 7]);
    expect(computeFans([5, 12])).toEqual([5, 12]);
    expect(computeFans([3, 4, 5])).toEqual([12, 15]);
  });
  it('uniform limits and variance', () => {
    const rng = makeRng(9);
    for (const [name, limit] of [
      ['glorot_uniform', Math.sqrt(6 / (200 + 300))],
      ['GlorotUniform', Math.sqrt(6 / (200 + 300))],
      ['he_uniform', Math.sqrt(6 / 200)],
      ['lecunUniform', Math.sqrt(3 / 200)],
    ] as const) {
      const w = initialize(name, [200, 300], rng);
      let max = 0;
      let s2 = 0;
      for (const v of w) {
        max = Math.max(max, Math.abs(v));
        s2 += v * v;
      }
      expect(max).toBeLessThanOrEqual(limit);
      expect(max).toBeGreaterThan(0.99 * limit);
      expect(Math.abs(s2 / w.length / ((limit * limit) / 3) - 1)).toBeLessThan(0.02);
    }
  });
  it('truncated normals: within 2 stddev of the untruncated scale, with the Keras target variance', () => {
    const rng = makeRng(10);
    for (const [name, variance] of [
      ['glorot_normal', 2 / 500],
      ['he_normal', 2 / 200],
      ['lecun_normal', 1 / 200],
    ] as const) {
      const w = initialize(name, [200, 300], rng);
      const sd = Math.sqrt(variance) / 0.87962566103423978;
      let s2 = 0;
      for (const v of w) {
        expect(Math.abs(v)).toBeLessThanOrEqual(2 * sd);
        s2 += v * v;
      }
      expect(Math.abs(s2 / w.length / variance - 1)).toBeLessThan(0.02);
    }
  });
  it('constant-valued and random_* initializers', () => {
    const rng = makeRng(11);
    expect(Array.from(initialize('zeros', [3], rng))).toEqual([0, 0, 0]);
    expect(Array.from(initialize('Ones', [2], rng))).toEqual([1, 1]);
    expect(Array.from(initialize({ class_name: 'Constant', config: { value: 0.25 } }, [2], rng))).toEqual([0.25, 0.25]);
    const u = initialize({ class_name: 'RandomUniform', config: { minval: 2, maxval: 3 } }, [1000], rng);
    expect(u.every((v) => v >= 2 && v < 3)).toBe(true);
    const n = initialize('random_normal', [20000], rng);
    expect(Math.abs(Math.sqrt(n.reduce((a, v) => a + v * v, 0) / n.length) - 0.05)).toBeLessThan(0.002);
    expect(() => initialize('he_something', [2], rng)).toThrow(ModelError);
  });
});

describe('initParam', () => {
  it('LSTM unit_forget_bias: zeros(U) ‖ ones(U) ‖ zeros(2U)', () => {
    const b = initParam('bias', [12], { unitForgetBias: true, units: 3, rng: makeRng(1) });
    expect(Array.from(b)).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    expect(() => initParam('bias', [10], { unitForgetBias: true, units: 3, rng: makeRng(1) })).toThrow(ModelError);
  });
  it('defaults: kernel glorot_uniform, recurrent_kernel orthogonal, bias zeros; same seed → same values', () => {
    const k = initParam('kernel', [10, 40], { rng: makeRng(3) });
    expect(k.every((v) => Math.abs(v) <= Math.sqrt(6 / 50))).toBe(true);
    expect(Array.from(initParam('kernel', [10, 40], { rng: makeRng(3) }))).toEqual(Array.from(k));
    const r = initParam('recurrent_kernel', [10, 40], { rng: makeRng(3) });
    expect(maxIdentityErr(gram(r, 10, 40, true), 10)).toBeLessThan(1e-13);
    expect(initParam('bias', [2, 30], { rng: makeRng(3) }).every((v) => v === 0)).toBe(true);
    expect(initParam('kernel', [2, 2], { initializer: 'ones', rng: makeRng(3) }).every((v) => v === 1)).toBe(true);
  });
});
