// AssemblyScript source of the fused recurrent-cell step kernels (compiled by
// scripts/build-wasm.ts into cells.wasm.ts, one module per memory kind; it
// imports the same memory as gemm.as). The sequence loop
// (src/engine/layers/recurrent-fused.ts) calls them between the per-step
// products, on sequence buffers that live in wasm memory. Stateless, no
// static data. Gate activations: recurrent_activation = sigmoid,
// activation = tanh (Keras's defaults); other activations use the JavaScript
// cell steps. Pointers in bytes; B rows of U units; gate rows of G·U floats.
//
// exp, sigmoid and tanh are float32 SIMD (f32x4): exp by Cody–Waite range
// reduction and the Cephes expf polynomial; tanh by the Cephes tanhf odd
// polynomial below |x| 0.625, else 1 − 2/(e^{2|x|} + 1); sigmoid from
// e^{−|x|}. Measured error bounds (test/kernels-activations.test.ts): a few
// float32 ulps. exp's argument is clamped to [−87.3, 88], so sigmoid(x) for
// x < −87.3 is ~1e-38 rather than a subnormal or 0.
//
// Every loop runs over u in 4-lane vectors; the last U mod 4 units of a row
// run through the same code one lane at a time (`w` = 4 or 1 floats).

@inline function sp(x: f32): v128 { return f32x4.splat(x); }

@inline function ld(p: usize, w: i32): v128 {
  return w == 4 ? v128.load(p) : f32x4.splat(load<f32>(p));
}

@inline function st(p: usize, v: v128, w: i32): void {
  if (w == 4) v128.store(p, v);
  else store<f32>(p, f32x4.extract_lane(v, 0));
}

@inline function poly(p: v128, x: v128, c: f32): v128 { return f32x4.add(f32x4.mul(p, x), sp(c)); }

@inline function vexp(x0: v128): v128 {
  const x = f32x4.max(f32x4.min(x0, sp(88.0)), sp(-87.3));
  const n = f32x4.nearest(f32x4.mul(x, sp(1.44269504089)));
  let r = f32x4.sub(x, f32x4.mul(n, sp(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, sp(-2.12194440e-4)));
  let p = poly(sp(1.9875691500e-4), r, 1.3981999507e-3);
  p = poly(p, r, 8.3334519073e-3);
  p = poly(p, r, 4.1665795894e-2);
  p = poly(p, r, 1.6666665459e-1);
  p = poly(p, r, 5.0000001201e-1);
  const y = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), sp(1));
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(y, e);
}

@inline function vsigmoid(x: v128): v128 {
  const e = vexp(f32x4.neg(f32x4.abs(x)));
  const q = f32x4.div(sp(1), f32x4.add(sp(1), e));
  return v128.bitselect(q, f32x4.mul(e, q), f32x4.ge(x, sp(0)));
}

@inline function vtanh(x: v128): v128 {
  const a = f32x4.abs(x);
  const z = f32x4.mul(a, a);
  let p = poly(sp(-5.70498872745e-3), z, 2.06390887954e-2);
  p = poly(p, z, -5.37397155531e-2);
  p = poly(p, z, 1.33314422036e-1);
  p = poly(p, z, -3.33332819422e-1);
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), a), a);
  const big = f32x4.sub(sp(1), f32x4.div(sp(2), f32x4.add(vexp(f32x4.add(a, a)), sp(1))));
  const t = v128.bitselect(small, big, f32x4.lt(a, sp(0.625)));
  return v128.or(t, v128.and(x, i32x4.splat(0x80000000)));
}

/** s·(1 − s): the sigmoid's slope from its value. */
@inline function dsig(s: v128): v128 { return f32x4.mul(s, f32x4.sub(sp(1), s)); }
/** 1 − t²: tanh's slope from its value. */
@inline function dtanh(t: v128): v128 { return f32x4.sub(sp(1), f32x4.mul(t, t)); }

/** y = f(x) for n floats, f = sigmoid (which 0) or tanh (which 1); for the error-bound test. */
export function act(which: i32, x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const p = <usize>i << 2;
    const v = f32x4.splat(load<f32>(x + p));
    store<f32>(y + p, f32x4.extract_lane(which == 0 ? vsigmoid(v) : vtanh(v), 0));
  }
}

// LSTM (gates i, f, c, o). z holds P + h·R of this step.
@inline function lstmFwdW(z: usize, a: usize, cp: usize, cn: usize, s: usize, hn: usize, U: usize, w: i32): void {
  const i = vsigmoid(ld(z, w)), f = vsigmoid(ld(z + U, w));
  const g = vtanh(ld(z + 2 * U, w)), o = vsigmoid(ld(z + 3 * U, w));
  st(a, i, w); st(a + U, f, w); st(a + 2 * U, g, w); st(a + 3 * U, o, w);
  const c = f32x4.add(f32x4.mul(f, ld(cp, w)), f32x4.mul(i, g));
  const t = vtanh(c);
  st(cn, c, w); st(s, t, w); st(hn, f32x4.mul(o, t), w);
}

/** One LSTM step forward: A = gates, C[k+1], S = tanh(C[k+1]), H[k+1]. */
export function lstmFwd(B: i32, U: i32, z: usize, a: usize, cp: usize, cn: usize, s: usize, hn: usize): void {
  const Ub = <usize>U << 2, U4 = U & ~3;
  for (let b = 0; b < B; b++) {
    const g = <usize>b * 4 * Ub, r = <usize>b * Ub;
    let u = 0;
    for (; u < U4; u += 4) { const o = <usize>u << 2; lstmFwdW(z + g + o, a + g + o, cp + r + o, cn + r + o, s + r + o, hn + r + o, Ub, 4); }
    for (; u < U; u++) { const o = <usize>u << 2; lstmFwdW(z + g + o, a + g + o, cp + r + o, cn + r + o, s + r + o, hn + r + o, Ub, 1); }
  }
}

@inline function lstmBwdW(a: usize, cp: usize, s: usize, dh: usize, dc: usize, dz: usize, U: usize, w: i32): void {
  const i = ld(a, w), f = ld(a + U, w), g = ld(a + 2 * U, w), o = ld(a + 3 * U, w);
  const t = ld(s, w), d = ld(dh, w);
  const dcu = f32x4.add(ld(dc, w), f32x4.mul(f32x4.mul(d, o), dtanh(t)));
  st(dz, f32x4.mul(f32x4.mul(dcu, g), dsig(i)), w);
  st(dz + U, f32x4.mul(f32x4.mul(dcu, ld(cp, w)), dsig(f)), w);
  st(dz + 2 * U, f32x4.mul(f32x4.mul(dcu, i), dtanh(g)), w);
  st(dz + 3 * U, f32x4.mul(f32x4.mul(d, t), dsig(o)), w);
  st(dc, f32x4.mul(dcu, f), w);
}

/** One LSTM step backward: dz (B×4U) from dh, dc; dc ← ∂L/∂c_{t−1}. dh·Rᵀ is the caller's product. */
export function lstmBwd(B: i32, U: i32, a: usize, cp: usize, s: usize, dh: usize, dc: usize, dz: usize): void {
  const Ub = <usize>U << 2, U4 = U & ~3;
  for (let b = 0; b < B; b++) {
    const g = <usize>b * 4 * Ub, r = <usize>b * Ub;
    let u = 0;
    for (; u < U4; u += 4) { const o = <usize>u << 2; lstmBwdW(a + g + o, cp + r + o, s + r + o, dh + r + o, dc + r + o, dz + g + o, Ub, 4); }
    for (; u < U; u++) { const o = <usize>u << 2; lstmBwdW(a + g + o, cp + r + o, s + r + o, dh + r + o, dc + r + o, dz + g + o, Ub, 1); }
  }
}

/** SimpleRNN (tanh) forward over n = B·U floats: a = tanh(z), hn = a. */
export function rnnFwd(n: i32, z: usize, a: usize, hn: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; const t = vtanh(v128.load(z + o)); v128.store(a + o, t); v128.store(hn + o, t); }
  for (; i < n; i++) { const o = <usize>i << 2; const t = vtanh(ld(z + o, 1)); st(a + o, t, 1); st(hn + o, t, 1); }
}

/** SimpleRNN backward over n floats: dz = dh·(1 − a²). */
export function rnnBwd(n: i32, a: usize, dh: usize, dz: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(dz + o, f32x4.mul(v128.load(dh + o), dtanh(v128.load(a + o)))); }
  for (; i < n; i++) { const o = <usize>i << 2; st(dz + o, f32x4.mul(ld(dh + o, 1), dtanh(ld(a + o, 1))), 1); }
}

// GRU (gates z, r, h). Phase 0: reset_after, rs = h·R (B×3U), bh = recurrent bias (0: none), s = r_h.
// Phase 1 (reset_before): rs[:, 0..2U) = h·R_zr; writes the z, r gates, rs[:, 2U..3U) = r ⊙ h_{t−1} and
// z_h = p_h (the caller then adds (r ⊙ h)·R_h). Phase 2 (reset_before): the candidate and h_t.
@inline function gruFwdW(ph: i32, p: usize, rs: usize, bh: usize, z: usize, a: usize, s: usize, hp: usize, hn: usize,
  U: usize, w: i32): void {
  if (ph < 2) {
    let rz = ld(rs, w), rr = ld(rs + U, w);
    if (bh) { rz = f32x4.add(rz, ld(bh, w)); rr = f32x4.add(rr, ld(bh + U, w)); }
    const zz = f32x4.add(ld(p, w), rz), zr = f32x4.add(ld(p + U, w), rr);
    const gz = vsigmoid(zz), gr = vsigmoid(zr);
    st(z, zz, w); st(z + U, zr, w); st(a, gz, w); st(a + U, gr, w);
    if (ph == 1) { st(rs + 2 * U, f32x4.mul(gr, ld(hp, w)), w); st(z + 2 * U, ld(p + 2 * U, w), w); return; }
    let rh = ld(rs + 2 * U, w);
    if (bh) rh = f32x4.add(rh, ld(bh + 2 * U, w));
    st(s, rh, w);
    st(z + 2 * U, f32x4.add(ld(p + 2 * U, w), f32x4.mul(gr, rh)), w);
  }
  const hh = vtanh(ld(z + 2 * U, w)), gz = ld(a, w), h = ld(hp, w);
  st(a + 2 * U, hh, w);
  st(hn, f32x4.add(f32x4.mul(gz, h), f32x4.mul(f32x4.sub(sp(1), gz), hh)), w);
}

/** One GRU step forward, phase as above; p = P of the step (B×3U), rs the product (B×3U). */
export function gruFwd(B: i32, U: i32, ph: i32, p: usize, rs: usize, bh: usize, z: usize, a: usize, s: usize,
  hp: usize, hn: usize): void {
  const Ub = <usize>U << 2, U4 = U & ~3;
  for (let b = 0; b < B; b++) {
    const g = <usize>b * 3 * Ub, r = <usize>b * Ub;
    for (let u = 0; u < U; u += 4) {
      const o = <usize>u << 2, w = u < U4 ? 4 : 1;
      for (let l = 0; l < (w == 4 ? 1 : U - u); l++) {
        const q = o + (<usize>l << 2);
        gruFwdW(ph, p + g + q, rs + g + q, bh ? bh + q : 0, z + g + q, a + g + q, s + r + q, hp + r + q, hn + r + q,
          Ub, w);
      }
    }
  }
}

// Phase 0 (reset_after): dz (B×3U), drs = [dz_z, dz_r, da ⊙ r] (B×3U), dh ← dh ⊙ z (the caller adds drs·Rᵀ).
// Phase 1 (reset_before): dz_z, dz_h = da; dh ← dh ⊙ z. Phase 2 (reset_before, g = da·R_hᵀ in gb (B×U)):
// dz_r, dh += g ⊙ r, drs (B×U) = r ⊙ h_{t−1}.
@inline function gruBwdW(ph: i32, a: usize, s: usize, hp: usize, dh: usize, dz: usize, drs: usize, gb: usize,
  U: usize, w: i32): void {
  const gz = ld(a, w), gr = ld(a + U, w), h = ld(hp, w);
  if (ph == 2) {
    const g = ld(gb, w);
    st(dz + U, f32x4.mul(f32x4.mul(g, h), dsig(gr)), w);
    st(dh, f32x4.add(ld(dh, w), f32x4.mul(g, gr)), w);
    st(drs, f32x4.mul(gr, h), w);
    return;
  }
  const hh = ld(a + 2 * U, w), d = ld(dh, w);
  const dzz = f32x4.mul(f32x4.mul(d, f32x4.sub(h, hh)), dsig(gz));
  const da = f32x4.mul(f32x4.mul(d, f32x4.sub(sp(1), gz)), dtanh(hh));
  st(dz, dzz, w); st(dz + 2 * U, da, w); st(dh, f32x4.mul(d, gz), w);
  if (ph == 1) return;
  const dzr = f32x4.mul(f32x4.mul(da, ld(s, w)), dsig(gr));
  st(dz + U, dzr, w);
  st(drs, dzz, w); st(drs + U, dzr, w); st(drs + 2 * U, f32x4.mul(da, gr), w);
}

/** One GRU step backward, phase as above. */
export function gruBwd(B: i32, U: i32, ph: i32, a: usize, s: usize, hp: usize, dh: usize, dz: usize, drs: usize,
  gb: usize): void {
  const Ub = <usize>U << 2, U4 = U & ~3;
  // drs is B×3U in phase 0 and B×U in phase 2.
  const dw: usize = ph == 0 ? 3 * Ub : Ub;
  for (let b = 0; b < B; b++) {
    const g = <usize>b * 3 * Ub, r = <usize>b * Ub, d = <usize>b * dw;
    for (let u = 0; u < U; u += 4) {
      const o = <usize>u << 2, w = u < U4 ? 4 : 1;
      for (let l = 0; l < (w == 4 ? 1 : U - u); l++) {
        const q = o + (<usize>l << 2);
        gruBwdW(ph, a + g + q, s + r + q, hp + r + q, dh + r + q, dz + g + q, drs + d + q, gb + r + q, Ub, w);
      }
    }
  }
}
