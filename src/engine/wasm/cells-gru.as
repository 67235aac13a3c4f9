// AssemblyScript source of the fused GRU step kernels (scripts/build-wasm.ts compiles it with
// cells-act.as into cells-gru.wasm.ts, one module per memory kind; it imports the same memory as gemm.as).
// The sequence loop (src/engine/layers/recurrent-fused.ts) calls them between the per-step
// products, on sequence buffers that live in wasm memory. Stateless, no static data. Pointers in
// bytes; B rows of U units; gate rows of G·U floats.

// Compiled after cells-act.as (the build prepends it): vsigmoid, vtanh, dsig, dtanh, ld, st, sp.

// GRU (gates z, r, h). Phase 0: reset_after, rs = h·R (B×3U), bh = recurrent bias (0: none), s = r_h.
// Phase 1 (reset_before): rs[:, 0..2U) = h·R_zr; writes the z, r gates, rs[:, 2U..3U) = r ⊙ h_{t−1} and
// z_h = p_h (the caller then adds (r ⊙ h)·R_h). Phase 2 (reset_before): the candidate and h_t.
function gruFwdW(ph: i32, p: usize, rs: usize, bh: usize, z: usize, a: usize, s: usize, hp: usize, hn: usize,
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
function gruBwdW(ph: i32, a: usize, s: usize, hp: usize, dh: usize, dz: usize, drs: usize, gb: usize,
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
