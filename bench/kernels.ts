// Matrix-product throughput (GFLOP/s) of rnnscope's kernels on the shapes of
// recurrent networks, side by side with TensorFlow.js (wasm backend) and
// PyTorch + OpenBLAS, measured in one run on one machine.
//
//   npx tsx bench/kernels.ts [--quick] [--best] [--passes N] [--only REGEX] [--json FILE] [--no-torch] [--no-tfjs]
//
// Each cell: median over timed samples (each ≥ 5 ms of back-to-back calls)
// after warm-up, or with --best the fastest sample (steadier on a machine
// shared with other work); the JSON keeps both. See bench/README.md.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { jsKernels, type Kernels } from '../src/engine/kernels.js';
import { createWasmKernels, relaxedSimdSupported, type WasmKernels } from '../src/engine/kernels-wasm.js';

interface Shape {
  label: string;
  tA: boolean;
  tB: boolean;
  m: number;
  n: number;
  k: number;
}

// W: LSTM, 64 inputs, 128 units (4U = 512), batch 32, 100 steps (T·B = 3200).
// W-large: 128 inputs, 256 units (4U = 1024), batch 32, 200 steps (T·B = 6400).
const SHAPES: Shape[] = [
  { label: 'W step h·U', tA: false, tB: false, m: 32, n: 512, k: 128 },
  { label: 'W step dz·Uᵀ', tA: false, tB: true, m: 32, n: 128, k: 512 },
  { label: 'W step hᵀ·dz', tA: true, tB: false, m: 128, n: 512, k: 32 },
  { label: 'W X·W all steps', tA: false, tB: false, m: 3200, n: 512, k: 64 },
  { label: 'W dZ·Wᵀ all steps', tA: false, tB: true, m: 3200, n: 64, k: 512 },
  { label: 'W Hᵀ·dZ all steps', tA: true, tB: false, m: 128, n: 512, k: 3200 },
  { label: 'W-large step h·U', tA: false, tB: false, m: 32, n: 1024, k: 256 },
  { label: 'W-large step dz·Uᵀ', tA: false, tB: true, m: 32, n: 256, k: 1024 },
  { label: 'W-large X·W all steps', tA: false, tB: false, m: 6400, n: 1024, k: 128 },
  { label: 'W-large Hᵀ·dZ all steps', tA: true, tB: false, m: 256, n: 1024, k: 6400 },
  { label: 'square 512', tA: false, tB: false, m: 512, n: 512, k: 512 },
  { label: 'square 512 AᵀBᵀ', tA: true, tB: true, m: 512, n: 512, k: 512 },
];

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = flag('--quick');
const stat: keyof Timing = flag('--best') ? 'best' : 'median';
const PASSES = Math.max(1, Number(opt('--passes') ?? 1));
const only = opt('--only');
const shapes = SHAPES.filter((s) => !only || new RegExp(only).test(s.label));
/** Samples per cell, and the time budget per cell. */
const SAMPLES = quick ? 5 : 15;
const BUDGET_S = quick ? 0.3 : 1.2;
/** The JavaScript reference runs at < 1 GFLOP/s: skip it above this many flops. */
const JS_MAX_FLOPS = quick ? 1e8 : 6e8;

interface Timing {
  median: number;
  best: number;
}

/** Duration of one more call, in ms (the warm-up average includes the slow first tier). */
function lastCall(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

function measure(fn: () => void): Timing {
  const t0 = performance.now();
  let calls = 0;
  // ≥ 100 ms of warm-up: V8 swaps in optimised wasm code only for calls after the swap.
  do {
    fn();
    calls++;
  } while (calls < 3 || performance.now() - t0 < 100);
  const per = Math.min((performance.now() - t0) / calls, lastCall(fn));
  const reps = Math.max(1, Math.ceil(5 / per));
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < SAMPLES && (samples.length < 3 || performance.now() - start < BUDGET_S * 1e3)) {
    const s = performance.now();
    for (let r = 0; r < reps; r++) fn();
    samples.push((performance.now() - s) / reps / 1e3);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[samples.length >> 1], best: samples[0] };
}

function randomArray(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

const flops = (s: Shape) => 2 * s.m * s.n * s.k;

/**
 * rnnscope kernels. 'copy': ordinary Float32Arrays (copied into wasm memory
 * per call); 'arena': A, B, C allocated in the kernel's memory; 'packed': as
 * arena, with B packed once beforehand (how a recurrent kernel is used at
 * every step).
 */
function timeOurs(kern: Kernels, s: Shape, mode: 'copy' | 'arena' | 'packed'): Timing {
  const lda = s.tA ? s.m : s.k,
    ldb = s.tB ? s.k : s.n;
  let A: Float32Array = randomArray(s.m * s.k, 1),
    B: Float32Array = randomArray(s.k * s.n, 2),
    C: Float32Array = new Float32Array(s.m * s.n);
  const wk = mode === 'copy' ? undefined : (kern as WasmKernels);
  if (wk) {
    const [a, b, c] = [wk.allocF32(A.length), wk.allocF32(B.length), wk.allocF32(C.length)];
    a.set(A);
    b.set(B);
    [A, B, C] = [a, b, c];
  }
  let t: Timing;
  if (wk && mode === 'packed') {
    const packed = wk.packB(s.tB, s.k, s.n, B, 0, ldb);
    t = measure(() => wk.gemmPacked(s.tA, s.m, s.n, s.k, A, 0, lda, packed, 0, C, 0, s.n));
    wk.freePacked(packed);
  } else {
    t = measure(() => kern.gemm(s.tA, s.tB, s.m, s.n, s.k, A, 0, lda, B, 0, ldb, 0, C, 0, s.n));
  }
  if (wk) for (const x of [A, B, C]) wk.free(x);
  return t;
}

// ---- TensorFlow.js, wasm backend --------------------------------------------------------------

type Tf = typeof import('@tensorflow/tfjs');
async function loadTfjs(): Promise<{ tf: Tf; note: string } | string> {
  try {
    const tf = await import('@tensorflow/tfjs');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) return 'tfjs: the wasm backend did not initialise';
    await tf.ready();
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    return { tf, note: `tfjs ${tf.version.tfjs} wasm backend: SIMD ${simd}, threads ${wasm.getThreadsCount()}` };
  } catch (e) {
    return `tfjs: not available (${(e as Error).message.split('\n')[0]}); npm install -D @tensorflow/tfjs @tensorflow/tfjs-backend-wasm`;
  }
}

function timeTfjs(tf: Tf, s: Shape): Timing {
  const a = tf.tensor2d(randomArray(s.m * s.k, 1), s.tA ? [s.k, s.m] : [s.m, s.k]);
  const b = tf.tensor2d(randomArray(s.k * s.n, 2), s.tB ? [s.n, s.k] : [s.k, s.n]);
  // The wasm backend runs the kernel synchronously inside matMul; disposing frees the output.
  const t = measure(() => tf.matMul(a, b, s.tA, s.tB).dispose());
  a.dispose();
  b.dispose();
  return t;
}

// ---- PyTorch + OpenBLAS (Debian python3-torch), in a subprocess ------------------------------

const TORCH_SCRIPT = String.raw`
import ctypes, json, sys, time
import torch
threads, samples, budget = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
torch.set_num_threads(threads)
info = {"torch": torch.__version__}
try:
    blas = ctypes.CDLL("libblas.so.3")
    blas.openblas_set_num_threads(threads)
    blas.openblas_get_corename.restype = ctypes.c_char_p
    info["openblas_core"] = blas.openblas_get_corename().decode()
    info["openblas_threads"] = blas.openblas_get_num_threads()
except (OSError, AttributeError) as e:
    info["openblas_core"] = None
def measure(fn):
    t0 = time.perf_counter(); calls = 0
    while calls < 3 or time.perf_counter() - t0 < 0.03:
        fn(); calls += 1
    per = (time.perf_counter() - t0) / calls
    reps = max(1, int(0.005 / per + 0.999))
    out = []; start = time.perf_counter()
    while len(out) < samples and (len(out) < 3 or time.perf_counter() - start < budget):
        s = time.perf_counter()
        for _ in range(reps): fn()
        out.append((time.perf_counter() - s) / reps)
    out.sort()
    return {"median": out[len(out) // 2], "best": out[0]}
res = []
torch.manual_seed(0)
for s in json.load(sys.stdin):
    a = torch.randn(*( (s["k"], s["m"]) if s["tA"] else (s["m"], s["k"]) ))
    b = torch.randn(*( (s["n"], s["k"]) if s["tB"] else (s["k"], s["n"]) ))
    x = a.t() if s["tA"] else a
    y = b.t() if s["tB"] else b
    c = torch.empty(s["m"], s["n"])
    with torch.no_grad():
        res.append(measure(lambda: torch.mm(x, y, out=c)))
print(json.dumps({"info": info, "results": res}))
`;

function runTorch(threads: number, list: Shape[]): { timings: Timing[]; note: string } | string {
  const py = '/usr/bin/python3';
  const r = spawnSync(py, ['-c', TORCH_SCRIPT, String(threads), String(SAMPLES), String(BUDGET_S)], {
    input: JSON.stringify(list),
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) },
    maxBuffer: 1 << 24,
  });
  if (r.error || r.status !== 0)
    return `torch: not available (${r.error?.message ?? r.stderr.trim().split('\n').at(-1)})`;
  const out = JSON.parse(r.stdout) as { info: Record<string, unknown>; results: Timing[] };
  const core = out.info.openblas_core;
  const note =
    `torch ${out.info.torch}, ${threads} thread(s), BLAS: ${core ? `OpenBLAS core ${core}` : 'not OpenBLAS (check update-alternatives --display libblas.so.3-x86_64-linux-gnu)'}` +
    (process.env.OPENBLAS_CORETYPE ? ` (OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE} from the environment)` : '');
  return { timings: out.results, note };
}

// ---- the ceiling: f32x4 arithmetic with no memory traffic ---------------------------------------

const PEAK_SOURCE = `
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}
export function peak(n: i32, x: f32): f32 {
  const a = f32x4.splat(x), b = f32x4.splat(0.5);
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0;
  for (let i = 0; i < n; i++) {
    c0 = madd(a, b, c0); c1 = madd(a, b, c1); c2 = madd(a, b, c2); c3 = madd(a, b, c3); c4 = madd(a, b, c4);
    c5 = madd(a, b, c5); c6 = madd(a, b, c6); c7 = madd(a, b, c7); c8 = madd(a, b, c8); c9 = madd(a, b, c9);
  }
  c0 = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  return f32x4.extract_lane(f32x4.add(c0, f32x4.add(c8, c9)), 0);
}`;

type PeakFn = (n: number, x: number) => number;

/** Compiles the ceiling loop (assemblyscript is a dev dependency); a string says why not. */
async function compilePeak(relaxed: boolean): Promise<PeakFn | string> {
  try {
    const asc = (await import('assemblyscript/asc')).default;
    const enable = relaxed ? ['simd', 'relaxed-simd'] : ['simd'];
    const { binary, error } = await asc.compileString(PEAK_SOURCE, { optimizeLevel: 3, runtime: 'stub', enable });
    if (error || !binary) return `asc: ${error?.message}`;
    return new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(binary)), {}).exports.peak as PeakFn;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * GFLOP/s of 10 independent multiply-add chains on f32x4 registers: what one
 * core can do in wasm. Run last: V8 starts wasm in its baseline tier and
 * optimises in background threads, which are busy for a while compiling
 * binaryen's own large module (loaded by the assemblyscript compiler).
 */
function wasmPeak(peak: PeakFn | string): number | string {
  if (typeof peak === 'string') return peak;
  for (let i = 0; i < 2000; i++) peak(1000, 1);
  const n = 1e6;
  // A ceiling: the fastest sample, whatever --best says.
  return (n * 10 * 8) / measure(() => peak(n, 1)).best / 1e9;
}

// ---- main ---------------------------------------------------------------------------------------

const notes: string[] = [];
let relaxedNote = 'relaxed SIMD: supported by this runtime';
if (!relaxedSimdSupported()) {
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  relaxedNote = `relaxed SIMD: enabled for this run with --experimental-wasm-relaxed-simd (Node ${process.versions.node} lacks it by default)`;
}
const simd = createWasmKernels({ relaxed: false, shared: true });
const relaxed = createWasmKernels({ relaxed: true, shared: true });
notes.push(
  `CPU: ${cpus()[0]?.model} × ${cpus().length}; Node ${process.versions.node} (V8 ${process.versions.v8}); load average at start ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
notes.push(relaxedNote);
const peakFns = [await compilePeak(false), await compilePeak(true)];
notes.push(
  `${PASSES} pass(es), each cell keeps its fastest; blocking mc ${simd.blocking.mc}, kc ${simd.blocking.kc}, nc ${simd.blocking.nc}; micro-kernel 2×16 f32x4`,
);

const tfjs = flag('--no-tfjs') ? 'tfjs: skipped (--no-tfjs)' : await loadTfjs();
notes.push(typeof tfjs === 'string' ? tfjs : tfjs.note);

const COLS = [
  'js',
  'simd copy',
  'simd arena',
  'simd packed-B',
  'relaxed copy',
  'relaxed arena',
  'relaxed packed-B',
  'tfjs-wasm',
  'torch 1T',
  'torch 2T',
] as const;
type Col = (typeof COLS)[number];
const rows: { shape: Shape; gflops: Partial<Record<Col, Timing>> }[] = shapes.map((shape) => ({ shape, gflops: {} }));
/** Keeps the faster of two timings of one cell (other work on the machine only ever slows a pass down). */
const merge = (a: Timing | undefined, b: Timing): Timing =>
  a ? { median: Math.min(a.median, b.median), best: Math.min(a.best, b.best) } : b;

// Each pass measures every cell once; with --passes N, a burst of other load
// spoils one pass of a cell, not the cell.
for (let pass = 0; pass < PASSES; pass++) {
  const torch1 = flag('--no-torch') ? 'torch: skipped (--no-torch)' : runTorch(1, shapes);
  const torch2 = flag('--no-torch') ? undefined : runTorch(2, shapes);
  if (pass === 0) {
    notes.push(typeof torch1 === 'string' ? torch1 : torch1.note);
    if (torch2) notes.push(typeof torch2 === 'string' ? torch2 : torch2.note);
  }
  for (const [i, s] of shapes.entries()) {
    const cell = rows[i].gflops;
    const put = (c: Col, t: Timing) => (cell[c] = merge(cell[c], t));
    if (flops(s) <= JS_MAX_FLOPS) put('js', timeOurs(jsKernels, s, 'copy'));
    for (const [name, kern] of [
      ['simd', simd],
      ['relaxed', relaxed],
    ] as const) {
      put(`${name} copy`, timeOurs(kern, s, 'copy'));
      put(`${name} arena`, timeOurs(kern, s, 'arena'));
      put(`${name} packed-B`, timeOurs(kern, s, 'packed'));
    }
    if (typeof tfjs !== 'string') put('tfjs-wasm', timeTfjs(tfjs.tf, s));
    if (typeof torch1 !== 'string') put('torch 1T', torch1.timings[i]);
    if (torch2 && typeof torch2 !== 'string') put('torch 2T', torch2.timings[i]);
    process.stderr.write(`pass ${pass + 1}/${PASSES}: ${s.label} done\n`);
  }
}

const peaks = peakFns.map(wasmPeak);
const fmtPeak = (x: number | string) => (typeof x === 'number' ? `${x.toFixed(1)} GFLOP/s` : `n/a (${x})`);
notes.push(
  `wasm f32x4 ceiling on one core (registers only): mul+add ${fmtPeak(peaks[0])}, relaxed FMA ${fmtPeak(peaks[1])}`,
);

const gf = (s: Shape, t: Timing | undefined, which: keyof Timing = stat) => (t ? flops(s) / t[which] / 1e9 : undefined);
const fmt = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(1));
/** The best of our columns that the engine can use with any runtime: SIMD (not relaxed), arena or packed-B. */
const ours = (r: (typeof rows)[number]) =>
  Math.max(gf(r.shape, r.gflops['simd arena']) ?? 0, gf(r.shape, r.gflops['simd packed-B']) ?? 0);
const oursRelaxed = (r: (typeof rows)[number]) =>
  Math.max(gf(r.shape, r.gflops['relaxed arena']) ?? 0, gf(r.shape, r.gflops['relaxed packed-B']) ?? 0);

const lines = [
  `| shape | m×n×k | ${COLS.join(' | ')} | ours ÷ tfjs | ours ÷ torch 1T | relaxed ÷ tfjs |`,
  `|---|---|${COLS.map(() => '---:').join('|')}|---:|---:|---:|`,
];
for (const r of rows) {
  const s = r.shape;
  const tfjsG = gf(s, r.gflops['tfjs-wasm']),
    torchG = gf(s, r.gflops['torch 1T']);
  const ratio = (a: number, x: number | undefined) => (x ? `${(a / x).toFixed(2)}×` : '—');
  const cells = COLS.map((c) => fmt(gf(s, r.gflops[c])));
  const dims = `${s.m}×${s.n}×${s.k}${s.tA || s.tB ? ` (${s.tA ? 'T' : 'N'}${s.tB ? 'T' : 'N'})` : ''}`;
  lines.push(
    `| ${s.label} | ${dims} | ${cells.join(' | ')} | ${ratio(ours(r), tfjsG)} | ${ratio(ours(r), torchG)} | ${ratio(oursRelaxed(r), tfjsG)} |`,
  );
}
console.log(notes.map((n) => `- ${n}`).join('\n'));
console.log(
  [
    '',
    `GFLOP/s, ${stat === 'best' ? 'fastest sample' : 'median of samples'} (higher is better). copy: operands in ordinary Float32Arrays, copied into wasm memory per call;`,
    'arena: operands allocated in wasm memory (allocF32); packed-B: arena, with B packed once (packB) as for a recurrent kernel.',
    '"ours" = the better of simd arena / simd packed-B (runs everywhere); "relaxed" = the same with relaxed-SIMD FMA.',
    '',
  ].join('\n'),
);
console.log(lines.join('\n'));
console.log(
  `\nload average at end ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);

const jsonPath = opt('--json');
if (jsonPath) {
  const json = {
    notes,
    rows: rows.map((r) => ({
      ...r.shape,
      flops: flops(r.shape),
      gflops: Object.fromEntries(
        Object.entries(r.gflops).map(([c, t]) => [
          c,
          { median: gf(r.shape, t, 'median'), best: gf(r.shape, t, 'best') },
        ]),
      ),
    })),
  };
  writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`wrote ${jsonPath}`);
}
