// AssemblyScript: the float32 SIMD activations and load/store helpers that scripts/build-wasm.ts
// prepends to the fused cell-step modules cells-lstm.as and cells-gru.as (no exports of its own;
// src/engine/layers/recurrent-fused.ts calls the steps). Keras's default gate activations only:
// recurrent_activation = sigmoid, activation = tanh; other activations use the JavaScript cell steps.
//
// exp, sigmoid and tanh are float32 SIMD (f32x4): exp by Cody–Waite range reduction and the
// Cephes expf polynomial; tanh by the Cephes tanhf odd polynomial below |x| 0.625, else
// 1 − 2/(e^{2|x|} + 1); sigmoid from e^{−|x|}. Measured error bounds
// (test/kernels-activations.test.ts): within 2·2⁻²³ relative. exp's argument is clamped to
// [−87.3, 88], so sigmoid(x) for x < −87.3 is ~1e-38 rather than a subnormal or 0.
// The activations are functions, not inlined, to keep each module under the 4 KiB a browser's
// main thread may compile synchronously (measured cost on W: within noise).
//
// Loops run over u in 4-lane vectors; the last U mod 4 units of a row run through the same code
// one lane at a time (`w` = 4 or 1 floats).

@inline function sp(x: f32): v128 { return f32x4.splat(x); }

@inline function ld(p: usize, w: i32): v128 {
  return w == 4 ? v128.load(p) : f32x4.splat(load<f32>(p));
}

@inline function st(p: usize, v: v128, w: i32): void {
  if (w == 4) v128.store(p, v);
  else store<f32>(p, f32x4.extract_lane(v, 0));
}

@inline function poly(p: v128, x: v128, c: f32): v128 { return f32x4.add(f32x4.mul(p, x), sp(c)); }

function vexp(x0: v128): v128 {
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

function vsigmoid(x: v128): v128 {
  const e = vexp(f32x4.neg(f32x4.abs(x)));
  const q = f32x4.div(sp(1), f32x4.add(sp(1), e));
  return v128.bitselect(q, f32x4.mul(e, q), f32x4.ge(x, sp(0)));
}

function vtanh(x: v128): v128 {
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

