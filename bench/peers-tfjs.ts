// TensorFlow.js peer, one measurement in a fresh process.
//
//   node --import tsx bench/peers-tfjs.ts WORKLOAD BACKEND REPEATS BUDGET_S [MAX_RUN_S]   (BACKEND: wasm | cpu)
//
// A tf.layers Sequential of the workload's architecture (cells × layers → Dense(1), mse on the last
// output); one measured run = tf.variableGrads of the loss over every trainable variable, with the
// gradients read back (dataSync) so that lazy backends finish. GRU: TF.js has only reset_after=false.
// Timing: timing.ts (warm-up, then up to REPEATS runs within BUDGET_S); when the first run takes
// more than MAX_RUN_S (default 60) the peer is reported as skipped.
// Prints one JSON line.

import { timeRuns } from './timing.js';
import { benchData, workload } from './workloads.js';

async function main(): Promise<void> {
  const [id, backend, repeatsArg, budgetArg, maxRunArg] = process.argv.slice(2) as [
    string,
    'wasm' | 'cpu',
    string,
    string,
    string?,
  ];
  const w = workload(id);
  const repeats = Number(repeatsArg ?? 3),
    budget = Number(budgetArg ?? 120),
    maxRun = Number(maxRunArg ?? 60);
  const tf = await import('@tensorflow/tfjs');
  let note = '';
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm')))
      throw new Error('the wasm backend did not initialise (its .wasm files were not found?)');
    note = `SIMD ${String(tf.env().getBool('WASM_HAS_SIMD_SUPPORT'))}, threads ${wasm.getThreadsCount()}`;
  } else if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not initialise');
  await tf.ready();

  const model = tf.sequential();
  for (let l = 0; l < w.layers; l++) {
    const args = {
      units: w.units,
      returnSequences: l < w.layers - 1,
      ...(l === 0 ? { inputShape: [w.steps, w.inputs] } : {}),
    };
    model.add(
      w.kind === 'LSTM'
        ? tf.layers.lstm({ ...args, unitForgetBias: true })
        : w.kind === 'GRU'
          ? tf.layers.gru(args) // reset_after=false: the only GRU TF.js has
          : tf.layers.simpleRNN(args),
    );
  }
  model.add(tf.layers.dense({ units: 1 }));
  const d = benchData(w, w.batch);
  const x = tf.tensor3d(d.x.data as Float32Array, [w.batch, w.steps, w.inputs]);
  const y = tf.tensor2d(d.y.data as Float32Array, [w.batch, 1]);

  let loss = NaN;
  const run = (): void => {
    const { value, grads } = tf.variableGrads(
      () =>
        tf.losses.meanSquaredError(
          y,
          model.apply(x) as import('@tensorflow/tfjs').Tensor,
        ) as import('@tensorflow/tfjs').Scalar,
    );
    for (const g of Object.values(grads)) g.dataSync();
    loss = value.dataSync()[0]!;
    value.dispose();
    tf.dispose(Object.values(grads));
  };
  const cpuS = (): number => {
    const u = process.resourceUsage();
    return (u.userCPUTime + u.systemCPUTime) / 1e6;
  };
  const timed = await timeRuns(run, repeats, budget, (first) => first > maxRun);
  if (!timed.times.length) {
    process.stdout.write(
      `${JSON.stringify({
        ok: false,
        skipped: `one run took ${timed.first.toFixed(0)} s (> ${maxRun} s)`,
        first: timed.first,
        maxRssMb: process.resourceUsage().maxRSS / 1024,
        cpuS: cpuS(),
      })}\n`,
    );
    return;
  }
  process.stdout.write(
    `${JSON.stringify({
      ok: true,
      kernels: `tfjs ${tf.version.tfjs} ${backend}${note ? ` (${note})` : ''}`,
      ...timed,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      loss,
      cpuS: cpuS(),
    })}\n`,
  );
}

main().catch((e: unknown) => {
  process.stdout.write(
    `${JSON.stringify({ ok: false, error: e instanceof Error ? e.message.split('\n')[0] : String(e) })}\n`,
  );
  process.exitCode = 1;
});
