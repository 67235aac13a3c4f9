// Seeded pseudo-random numbers for initialisers, synthetic data and sampling.
//
// Hand-written because Math.random cannot be seeded. Generator: xoshiro128**
// 1.1 (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c), state
// seeded from a 64-bit seed with SplitMix64 as its authors recommend. Integer
// output is bit-identical on every platform. normal() uses the polar form of
// Box–Muller: Math.sqrt is correctly rounded everywhere; Math.log is the fdlibm
// port in V8 (Node, Chrome) and may differ by an ulp in other engines.

export interface Rng {
  /** Next 32-bit unsigned integer. */
  nextU32(): number;
  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number;
  /** Standard normal N(0, 1). */
  normal(): number;
}

const MASK64 = (1n << 64n) - 1n;

/** SplitMix64 (https://prng.di.unimi.it/splitmix64.c); BigInt is fine: it runs only while seeding. */
function splitmix64(state: { s: bigint }): bigint {
  state.s = (state.s + 0x9e3779b97f4a7c15n) & MASK64;
  let z = state.s;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

class Xoshiro128ss implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number | bigint) {
    const st = { s: BigInt.asUintN(64, BigInt(seed)) };
    const w0 = splitmix64(st);
    const w1 = splitmix64(st);
    // State words: low then high half of each SplitMix64 output.
    this.a = Number(w0 & 0xffffffffn) >>> 0;
    this.b = Number(w0 >> 32n) >>> 0;
    this.c = Number(w1 & 0xffffffffn) >>> 0;
    this.d = Number(w1 >> 32n) >>> 0;
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1; // the all-zero state is a fixed point
  }

  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    this.hasSpare = true;
    return u * f;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A generator seeded with `seed` (any integer; the same seed gives the same stream everywhere). */
export function makeRng(seed: number | bigint): Rng {
  if (typeof seed === 'number' && !Number.isInteger(seed)) {
    throw new RangeError(`makeRng: seed ${seed} is not an integer`);
  }
  return new Xoshiro128ss(seed);
}
