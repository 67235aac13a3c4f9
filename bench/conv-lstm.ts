// The ConvLSTM workload (workloads.ts CONV_LSTM_WORKLOAD: 2 × ConvLSTM2D(16, 3×3, same) over 10 frames of
// 40×40 → Conv3D, batch 4): seconds per gradient (forward + backward, float32) on the JavaScript and the
// WebAssembly kernels, without taps and with every tap the analysis records, and GFLOP/s of the
// convolutions by the FLOP model of workloads.ts. Runs alternate (A B A B …) so other load spoils both alike.
//
//   npx tsx bench/conv-lstm.ts [--rounds N]     (default 3 rounds after 2 warm-up runs each)

import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { materializeParams } from '../src/engine/graph.js';
import { createWasmKernels } from '../src/engine/kernels-wasm.js';
import { jsKernels, type Kernels } from '../src/engine/kernels.js';
import { lossAndGrads } from '../src/engine/run.js';
import { median } from './timing.js';
import { ALL_TAPS, buildConvLstmBench, CONV_LSTM_WORKLOAD as W, convLstmForwardFlops } from './workloads.js';

setFlagsFromString('--experimental-wasm-relaxed-simd');
const args = process.argv.slice(2);
const i = args.indexOf('--rounds');
const rounds = i >= 0 ? Number(args[i + 1]) : 3;
const { model, x, y } = buildConvLstmBench(W);
const params = materializeParams(model, 'float32');
const mse = [{ name: 'mse', fromLogits: false, labelSmoothing: 0 }];
const flops = 3 * convLstmForwardFlops(W);
const la = (): string =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
console.log(
  `${W.id}: ${W.layers} × ConvLSTM2D(${W.filters}, ${W.kernel}×${W.kernel}, same) over ${W.frames} frames of ` +
    `${W.rows}×${W.cols}×${W.channels}, batch ${W.batch}; ${(flops / 1e9).toFixed(2)} GFLOP per gradient; load ${la()}`,
);
console.log('| kernels | taps | s per gradient (median) | GFLOP/s |');
console.log('|---|---|--:|--:|');
const kernels: Kernels[] = [jsKernels, createWasmKernels()];
for (const taps of [false, true]) {
  const run = (k: Kernels) =>
    lossAndGrads(model, [x], [y], {
      losses: mse,
      flavor: 'keras3',
      dtype: 'float32',
      params,
      taps: taps ? ALL_TAPS : null,
      kernels: k,
    });
  for (let w = 0; w < 2; w++) for (const k of kernels) run(k);
  const t = kernels.map((): number[] => []);
  for (let r = 0; r < rounds; r++)
    kernels.forEach((k, j) => {
      const t0 = performance.now();
      run(k);
      t[j]!.push((performance.now() - t0) / 1e3);
    });
  kernels.forEach((k, j) => {
    const s = median(t[j]!);
    console.log(`| ${k.name} | ${taps ? 'all' : 'none'} | ${s.toFixed(3)} | ${(flops / s / 1e9).toFixed(2)} |`);
  });
}
console.log(`load average at end ${la()}`);
