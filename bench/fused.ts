// The fused WebAssembly cell steps against the JavaScript cell steps on the same wasm gemm, in one
// process, runs alternating (A B A B …) so that load from other processes spoils both alike.
//
//   npx tsx bench/fused.ts [--only REGEX] [--rounds N]     (default: W, W-gru, W-rnn; 7 rounds)
//
// "js steps" is the sequence loop as it ran before the fused path: the cells' JavaScript steps, every
// product through WasmKernels.gemm (operands copied into wasm memory per call). Both sides compute
// the same gradient (checked: max relative difference printed). Per side: median wall and CPU
// (user + system of this process) seconds per gradient; the load average at start and end.

import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { materializeParams } from '../src/engine/graph.js';
import { createWasmKernels } from '../src/engine/kernels-wasm.js';
import type { Kernels } from '../src/engine/kernels.js';
import { lossAndGrads } from '../src/engine/run.js';
import { median } from './timing.js';
import { ALL_TAPS, benchData, buildBenchModel, WORKLOADS } from './workloads.js';

setFlagsFromString('--experimental-wasm-relaxed-simd');
const args = process.argv.slice(2);
const opt = (k: string): string | undefined => {
  const i = args.indexOf(k);
  return i >= 0 ? args[i + 1] : undefined;
};
const rounds = Number(opt('--rounds') ?? 7);
const only = new RegExp(`^(?:${opt('--only') ?? 'W|W-gru|W-rnn'})$`);
const wk = createWasmKernels();
// The same kernels without cellKernels: the sequence loop keeps the JavaScript steps.
const plain: Kernels = { name: `${wk.name} (js steps)`, gemm: wk.gemm.bind(wk) };
const la = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
console.log(
  `kernels ${wk.name}; load average at start ${la()}; ${rounds} alternating rounds, after 3 warm-up runs each`,
);
console.log('| workload | taps | js steps wall | fused wall | js steps CPU | fused CPU | CPU ratio | max rel diff |');
console.log('|---|---|--:|--:|--:|--:|--:|--:|');
for (const w of WORKLOADS.filter((x) => only.test(x.id))) {
  const model = buildBenchModel(w);
  const params = materializeParams(model, 'float32');
  const d = benchData(w, w.batch);
  const mse = [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }];
  for (const taps of [false, true]) {
    const run = (kernels: Kernels) =>
      lossAndGrads(model, [d.x], [d.y], {
        losses: mse,
        flavor: 'keras3',
        dtype: 'float32',
        params,
        taps: taps ? ALL_TAPS : null,
        kernels,
      });
    for (let i = 0; i < 3; i++) {
      run(plain);
      run(wk);
    }
    const t: Record<'a' | 'b', { wall: number[]; cpu: number[] }> = {
      a: { wall: [], cpu: [] },
      b: { wall: [], cpu: [] },
    };
    let diff = 0;
    for (let r = 0; r < rounds; r++) {
      const out: ReturnType<typeof run>[] = [];
      for (const [side, k] of [
        ['a', plain],
        ['b', wk],
      ] as const) {
        const c0 = process.cpuUsage(),
          t0 = performance.now();
        out.push(run(k));
        const c = process.cpuUsage(c0);
        t[side].wall.push((performance.now() - t0) / 1e3);
        t[side].cpu.push((c.user + c.system) / 1e6);
      }
      out[0]!.grads.forEach((ps, li) =>
        ps.forEach((g, pi) => {
          const h = out[1]!.grads[li]![pi]!.data;
          let n = 0,
            e = 0;
          for (let i = 0; i < g.data.length; i++) {
            n = Math.max(n, Math.abs(g.data[i]!));
            e = Math.max(e, Math.abs(g.data[i]! - h[i]!));
          }
          diff = Math.max(diff, e / (n || 1));
        }),
      );
    }
    const m = (x: number[]): string => median(x).toFixed(3);
    console.log(
      `| ${w.id} | ${taps ? 'all' : 'none'} | ${m(t.a.wall)} | ${m(t.b.wall)} | ${m(t.a.cpu)} | ${m(t.b.cpu)} | ` +
        `${(median(t.a.cpu) / median(t.b.cpu)).toFixed(2)}× | ${diff.toExponential(1)} |`,
    );
  }
}
console.log(`load average at end ${la()}`);
