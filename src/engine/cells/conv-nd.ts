// Window geometry and im2col / col2im of channels_last convolutions of rank 1 to 3 (ConvLSTM1D/2D/3D's
// input and recurrent convolutions, Conv3D and the 3-D pooling layers). Ranks below 3 are run as rank 3
// with leading axes of size 1. Cross-correlation as TF's conv: output o of an axis reads input
// o·s + j·d − padL for kernel tap j; taps outside the frame read zeros. 'same' pads as TF does (the odd
// extra zero after the frame).
//
// The columns of one frame are a (positions, kd·kh·kw·C) matrix in the kernel's own flattening
// (Keras kernels are (…kernel_size, C, F) row-major), so a convolution is cols · K, one gemm.

/** One frame's convolution geometry, as rank 3 (axes 0..2 = depth, rows, cols). */
export interface GeomND {
  /** Input extent per axis. */
  n: [number, number, number];
  /** Output extent per axis. */
  o: [number, number, number];
  k: [number, number, number];
  s: [number, number, number];
  d: [number, number, number];
  pad: [number, number, number];
  C: number;
  /** Output positions (o0·o1·o2) and column width (k0·k1·k2·C). */
  P: number;
  K: number;
}

/** Output extent and leading padding of one axis. */
export function window(padding: 'valid' | 'same', len: number, k: number, s: number, d: number): [number, number] {
  const e = (k - 1) * d + 1;
  if (padding === 'valid') return [Math.max(0, Math.ceil((len - e + 1) / s)), 0];
  const out = Math.ceil(len / s);
  return [out, Math.floor(Math.max((out - 1) * s + e - len, 0) / 2)];
}

const pad3 = (a: readonly number[], fill: number): [number, number, number] => {
  const r: number[] = [fill, fill, fill];
  for (let i = 0; i < a.length; i++) r[3 - a.length + i] = a[i]!;
  return r as [number, number, number];
};

/** The geometry of a rank-r window op (r = spatial.length ≤ 3) on frames of `spatial` × C. */
export function geomND(
  spatial: readonly number[],
  C: number,
  kernel: readonly number[],
  strides: readonly number[],
  dilation: readonly number[],
  padding: 'valid' | 'same',
): GeomND {
  const n = pad3(spatial, 1),
    k = pad3(kernel, 1),
    s = pad3(strides, 1),
    d = pad3(dilation, 1);
  const o: [number, number, number] = [0, 0, 0],
    pad: [number, number, number] = [0, 0, 0];
  for (let a = 0; a < 3; a++) [o[a], pad[a]] = window(padding, n[a], k[a], s[a], d[a]);
  return { n, o, k, s, d, pad, C, P: o[0] * o[1] * o[2], K: k[0] * k[1] * k[2] * C };
}

/**
 * Calls f(colOffset, inputOffset) for every in-frame tap of every output position: the C values of the
 * tap start at cols[colOffset] and x[inputOffset] (relative to the frame). Out-of-frame taps are skipped.
 */
function eachTap(g: GeomND, f: (co: number, xo: number) => void): void {
  const { n, o, k, s, d, pad, C, K } = g;
  let r = 0;
  for (let z = 0; z < o[0]; z++)
    for (let y = 0; y < o[1]; y++)
      for (let x = 0; x < o[2]; x++, r++) {
        let co = r * K;
        for (let i = 0; i < k[0]; i++) {
          const zz = z * s[0] + i * d[0] - pad[0];
          const zin = zz >= 0 && zz < n[0];
          for (let j = 0; j < k[1]; j++) {
            const yy = y * s[1] + j * d[1] - pad[1];
            const yin = zin && yy >= 0 && yy < n[1];
            for (let l = 0; l < k[2]; l++, co += C) {
              const xx = x * s[2] + l * d[2] - pad[2];
              if (yin && xx >= 0 && xx < n[2]) f(co, ((zz * n[1] + yy) * n[2] + xx) * C);
            }
          }
        }
      }
}

/** The in-frame taps as pairs (column offset, input offset), computed once per geometry. */
export interface TapList {
  g: GeomND;
  co: Int32Array;
  xo: Int32Array;
  /** Every tap is in frame (no zero fill needed). */
  full: boolean;
}

export function tapList(g: GeomND): TapList {
  const co: number[] = [],
    xo: number[] = [];
  eachTap(g, (c, x) => {
    co.push(c);
    xo.push(x);
  });
  return { g, co: Int32Array.from(co), xo: Int32Array.from(xo), full: co.length * g.C === g.P * g.K };
}

type Arr = Float32Array | Float64Array;

/** cols[cOff..cOff + P·K) = the columns of the frame at x[xOff..]. */
export function im2col(t: TapList, x: Arr, xOff: number, cols: Arr, cOff: number): void {
  const { C, P, K } = t.g;
  if (!t.full) cols.fill(0, cOff, cOff + P * K);
  const { co, xo } = t;
  if (C === 1) for (let i = 0; i < co.length; i++) cols[cOff + co[i]!] = x[xOff + xo[i]!]!;
  else for (let i = 0; i < co.length; i++) cols.set(x.subarray(xOff + xo[i]!, xOff + xo[i]! + C), cOff + co[i]!);
}

/** dx[xOff..] += the scatter of dcols[cOff..] (the transpose of im2col). */
export function col2im(t: TapList, dcols: Arr, cOff: number, dx: Arr, xOff: number): void {
  const { C } = t.g;
  const { co, xo } = t;
  for (let i = 0; i < co.length; i++) {
    const a = cOff + co[i]!,
      b = xOff + xo[i]!;
    for (let c = 0; c < C; c++) dx[b + c] = dx[b + c]! + dcols[a + c]!;
  }
}
