// Where rnnscope's time goes for one workload: matrix products by shape (timed through a wrapper
// around the kernels) versus everything else, and a V8 CPU profile of the same runs summarised by
// function (self time).
//
//   npx tsx bench/profile.ts [WORKLOAD=W] [KERNELS=wasm] [MODE=taps] [RUNS=10]      (MODE: grad | taps | analyze)
//
// The CPU profile comes from a child (node --cpu-prof) running bench/child-rnnscope.ts; its
// summary covers the whole child (model build and warm-up included, a few % with RUNS=10).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { analyzeModel } from '../src/analysis/analyze.js';
import { materializeParams } from '../src/engine/graph.js';
import { jsKernels, setKernels, type Kernels } from '../src/engine/kernels.js';
import { lossAndGrads } from '../src/engine/run.js';
import { WARM_S } from './timing.js';
import { ALL_TAPS, benchData, buildBenchModel, gradFlops, workload } from './workloads.js';

const here = dirname(fileURLToPath(import.meta.url));
const [id = 'W', which = 'wasm', mode = 'taps', runsArg = '10'] = process.argv.slice(2);
const RUNS = Number(runsArg);
const w = workload(id);

interface Bucket {
  calls: number;
  ms: number;
  flops: number;
}
const buckets = new Map<string, Bucket>();

/** Wraps every method of the kernels so that each call is timed, keyed by method and shape. */
function timed(k: Kernels): Kernels {
  return new Proxy(k, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (typeof v !== 'function') return v;
      return (...a: unknown[]) => {
        const t0 = performance.now();
        const r = (v as (...x: unknown[]) => unknown).apply(target, a);
        const ms = performance.now() - t0;
        let key = String(prop),
          flops = 0;
        if (prop === 'gemm') {
          const [tA, tB, m, n, kk] = a as [boolean, boolean, number, number, number];
          key = `gemm ${tA ? 'Aᵀ' : 'A'}·${tB ? 'Bᵀ' : 'B'} ${m}×${n}×${kk}`;
          flops = 2 * m * n * kk;
        } else if (prop === 'gemmPacked') {
          const [tA, m, n, kk] = a as [boolean, number, number, number];
          key = `gemmPacked ${tA ? 'Aᵀ' : 'A'}·B ${m}×${n}×${kk}`;
          flops = 2 * m * n * kk;
        }
        const b = buckets.get(key) ?? { calls: 0, ms: 0, flops: 0 };
        b.calls++;
        b.ms += ms;
        b.flops += flops;
        buckets.set(key, b);
        return r;
      };
    },
  });
}

async function main(): Promise<void> {
  let kern: Kernels = jsKernels;
  if (which === 'wasm') {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
    kern = (await import('../src/engine/kernels-wasm.js')).createWasmKernels();
  }
  setKernels(timed(kern));
  const model = buildBenchModel(w);
  const params = materializeParams(model, 'float32');
  const d = benchData(w, mode === 'analyze' ? 256 : w.batch);
  const run =
    mode === 'analyze'
      ? (): void => {
          analyzeModel(model, { inputs: [d.x], targets: [d.y] }, { batchSize: 32 });
        }
      : (): void => {
          lossAndGrads(model, [d.x], [d.y], {
            losses: [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }],
            flavor: 'keras3',
            dtype: 'float32',
            params,
            taps: mode === 'taps' ? ALL_TAPS : null,
          });
        };
  // Warm up as the bench does (timing.ts) so that V8 has optimised the WebAssembly and JavaScript.
  const w0 = performance.now();
  do run();
  while (performance.now() - w0 < WARM_S * 1e3);
  buckets.clear();
  const t0 = performance.now();
  for (let i = 0; i < RUNS; i++) run();
  const total = (performance.now() - t0) / RUNS;
  const rows = [...buckets.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const kernMs = rows.reduce((s, [, b]) => s + b.ms, 0) / RUNS;
  const out: string[] = [];
  const flops = gradFlops(w) * (mode === 'analyze' ? 256 / w.batch : 1);
  out.push(
    `${id}, ${kern.name} kernels, ${mode}: ${total.toFixed(1)} ms per run (${(flops / total / 1e6).toFixed(1)} GFLOP/s by the FLOP model)`,
  );
  out.push(
    `  kernel calls ${kernMs.toFixed(1)} ms (${((100 * kernMs) / total).toFixed(0)}%), everything else ` +
      `${(total - kernMs).toFixed(1)} ms (${((100 * (total - kernMs)) / total).toFixed(0)}%)`,
  );
  out.push('  per run: ms  share  calls  GFLOP/s  call');
  for (const [key, b] of rows.slice(0, 12)) {
    out.push(
      `  ${(b.ms / RUNS).toFixed(1).padStart(7)} ${((100 * b.ms) / RUNS / total).toFixed(1).padStart(5)}% ` +
        `${String(b.calls / RUNS).padStart(6)} ` +
        `${(b.flops ? (b.flops / b.ms / 1e6).toFixed(1) : '—').padStart(8)}  ${key}`,
    );
  }
  console.log(out.join('\n'));

  // V8 CPU profile of the same workload in a child, summarised by self time per function.
  const dir = mkdtempSync(join(tmpdir(), 'rnnscope-prof-'));
  const r = spawnSync(
    process.execPath,
    [
      '--cpu-prof',
      '--cpu-prof-dir',
      dir,
      '--import',
      'tsx',
      join(here, 'child-rnnscope.ts'),
      id,
      which,
      mode,
      String(RUNS),
      '600',
    ],
    { cwd: join(here, '..'), encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`profiled child failed: ${r.stderr.trim().split('\n').at(-1)}`);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
  console.log(`\nV8 CPU profile (self time, whole child incl. setup and warm-up; ${file}):`);
  console.log(summarise(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile).join('\n'));
  rmSync(dir, { recursive: true, force: true });
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

function summarise(p: CpuProfile, top = 15): string[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  p.samples.forEach((sid, i) => {
    const n = byId.get(sid)!;
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    const f = n.callFrame;
    // Line numbers are of tsx's transpiled output, so only the file is shown.
    const where = f.url ? f.url.replace(/^.*\/(src|bench|node_modules)\//, '$1/') : '';
    const key = `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => `  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
