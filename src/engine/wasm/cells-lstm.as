// AssemblyScript source of the fused LSTM and SimpleRNN step kernels (scripts/build-wasm.ts compiles it with
// cells-act.as into cells-lstm.wasm.ts, one module per memory kind; it imports the same memory as gemm.as).
// The sequence loop (src/engine/layers/recurrent-fused.ts) calls them between the per-step
// products, on sequence buffers that live in wasm memory. Stateless, no static data. Pointers in
// bytes; B rows of U units; gate rows of G·U floats.

// Compiled after cells-act.as (the build prepends it): vsigmoid, vtanh, dsig, dtanh, ld, st, sp.

/** y = f(x) for n floats, f = sigmoid (which 0) or tanh (which 1); for the error-bound test. */
export function act(which: i32, x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const p = <usize>i << 2;
    const v = f32x4.splat(load<f32>(x + p));
    store<f32>(y + p, f32x4.extract_lane(which == 0 ? vsigmoid(v) : vtanh(v), 0));
  }
}


// LSTM (gates i, f, c, o). z holds P + h·R of this step.
function lstmFwdW(z: usize, a: usize, cp: usize, cn: usize, s: usize, hn: usize, U: usize, w: i32): void {
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

function lstmBwdW(a: usize, cp: usize, s: usize, dh: usize, dc: usize, dz: usize, U: usize, w: i32): void {
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

