// npm run bench (run.ts): issue 15's targets evaluated from the measurements (each takes rnnscope's
// faster row, one thread or split, and names both), and the check that kernel variants agree.

import type { Impl, Measurement, Target } from './report.js';
import { peakGflops, SMALL, workloads } from './run-env.js';
import { measurements, notes } from './run-record.js';
import { WORKLOADS } from './workloads.js';

// ---- targets ---------------------------------------------------------------------------------------

/** bench/watch.ts speed: per checkpoint, [load s, analysis s] as the watch printed them, and the same
 * checkpoint through analyze's calls right after. */
export interface WatchSpeed {
  watch: number[][];
  analyze: number[][];
}

const get = (wid: string, impl: Impl, variant: string): Measurement | undefined =>
  measurements.find((m) => m.workload === wid && m.impl === impl && m.variant === variant && m.median !== null);

/** rnnscope's fastest measurement of a workload among the modes (any kernels, Node only). */
function best(wid: string, modes: string[]): Measurement | undefined {
  return measurements
    .filter(
      (m) =>
        m.workload === wid &&
        m.impl === 'rnnscope' &&
        !m.variant.includes('Chromium') &&
        modes.includes(m.variant.split(' ')[1]!) &&
        m.median !== null,
    )
    .sort((a, b) => a.median! - b.median!)[0];
}

const s = (x: number): string => (x >= 10 ? x.toFixed(1) : x.toPrecision(3));

export function evaluateTargets(watchSpeed: WatchSpeed | null): Target[] {
  const T: Target[] = [];
  const add = (
    id: string,
    text: string,
    limit: string,
    value: number | null,
    measured: string,
    ok: (v: number) => boolean,
  ): void => {
    T.push({
      id,
      text,
      limit,
      value,
      measured: value === null ? `not measured (${measured})` : measured,
      pass: value === null ? null : ok(value),
    });
  };
  const lbl = (m: Measurement): string =>
    `${m.variant.endsWith('-mt') ? 'split over the threads' : 'one thread'} ${s(m.median!)} s`;
  const both = (wid: string, mode: string): string => {
    const one = get(wid, 'rnnscope', `wasm ${mode}`),
      mt = get(wid, 'rnnscope', `wasm ${mode}-mt`);
    return [one && `one thread ${s(one.median!)} s`, mt && `split over the threads ${s(mt.median!)} s`]
      .filter(Boolean)
      .join(', ');
  };
  for (const wid of SMALL) {
    const kind = WORKLOADS.find((x) => x.id === wid)!.kind;
    const nn = `nn.${kind === 'SimpleRNN' ? 'RNN' : kind}`;
    const g = best(wid, ['grad', 'grad-mt']),
      t = best(wid, ['taps', 'taps-mt']);
    const tf = get(wid, 'torch', 'fused'),
      tu = get(wid, 'torch', 'unrolled'),
      t256 = get(wid, 'torch', 'unrolled256'),
      jw = get(wid, 'tfjs', 'wasm');
    add(
      `${wid}-grad-vs-fused`,
      `${wid} gradient ≤ PyTorch fused ${nn}`,
      '≤ 1×',
      g && tf ? g.median! / tf.median! : null,
      g && tf
        ? `rnnscope (${both(wid, 'grad')}) ÷ PyTorch fused ${s(tf.median!)} s = ${s(g.median! / tf.median!)}× (${lbl(g)})`
        : 'a side is missing',
      (v) => v <= 1,
    );
    add(
      `${wid}-taps-vs-unrolled`,
      `${wid} with all taps ≤ PyTorch per-step unrolled with taps`,
      '≤ 1×',
      t && tu ? t.median! / tu.median! : null,
      t && tu
        ? `rnnscope (${both(wid, 'taps')}) ÷ PyTorch unrolled ${s(tu.median!)} s = ${s(t.median! / tu.median!)}× (${lbl(t)})`
        : 'a side is missing',
      (v) => v <= 1,
    );
    add(
      `${wid}-taps-vs-tfjs`,
      `${wid} with all taps ≥ 15× faster than TF.js wasm`,
      '≥ 15×',
      t && jw ? jw.median! / t.median! : null,
      t && jw
        ? `TF.js wasm ${s(jw.median!)} s ÷ rnnscope ${lbl(t)} = ${s(jw.median! / t.median!)}×`
        : 'a side is missing',
      (v) => v >= 15,
    );
    const cli = get(wid, 'rnnscope', 'wasm analyze-cli');
    const prof = cli?.profile
      ? ` (--profile: ${cli.profile.phases.map(([k, x]) => `${k} ${s(x)}`).join(', ')}; before start-up ${s(cli.profile.beforeStart)} s)`
      : '';
    add(
      `${wid}-analyze-cli`,
      `\`rnnscope analyze\` on 256 samples of ${wid}, process start to JSON written, ≤ 2 × PyTorch's gradient with taps over the same 256 samples`,
      '≤ 2×',
      cli && t256 ? cli.median! / t256.median! : null,
      cli && t256
        ? `rnnscope analyze ${s(cli.median!)} s${prof} ÷ PyTorch unrolled + taps, 8 batches of 32, ${s(t256.median!)} s = ${s(cli.median! / t256.median!)}×`
        : cli
          ? `PyTorch side missing; rnnscope analyze ${s(cli.median!)} s${prof}`
          : 'not run (--no-cli, or the build failed: see the notes)',
      (v) => v <= 2,
    );
  }
  const lg = best('W-large', ['grad', 'grad-mt']),
    ltf = get('W-large', 'torch', 'fused');
  add(
    'W-large-peak',
    'W-large ≥ 30% of the fp32 peak',
    '≥ 30%',
    lg?.peakShare ?? null,
    lg
      ? `rnnscope ${lbl(lg)}: ${s(lg.gflops!)} GFLOP/s = ${(100 * lg.peakShare!).toFixed(1)}% of ${peakGflops.toFixed(0)}${ltf ? ` (PyTorch fused: ${(100 * ltf.peakShare!).toFixed(1)}%)` : ''}`
      : 'W-large not run',
    (v) => v >= 0.3,
  );
  const wl = best('W-long', ['grad']);
  add(
    'W-long-memory',
    'W-long peak memory < 1 GiB',
    '< 1024 MB',
    wl?.maxRssMb ?? null,
    wl ? `rnnscope ${wl.variant}: peak RSS ${wl.maxRssMb!.toFixed(0)} MB` : 'W-long not run',
    (v) => v < 1024,
  );
  const wlr = wl ? get('W-long-ref', 'rnnscope', wl.variant) : undefined;
  const perStep = (m: Measurement): number => m.median! / WORKLOADS.find((x) => x.id === m.workload)!.steps;
  add(
    'W-long-per-step',
    "W-long time per step ≤ 1.5 × a short sequence's",
    '≤ 1.5×',
    wl && wlr ? perStep(wl) / perStep(wlr) : null,
    wl && wlr
      ? `${(1e3 * perStep(wl)).toFixed(2)} ms/step (10,000 steps) ÷ ${(1e3 * perStep(wlr)).toFixed(2)} ` +
          `ms/step (200 steps) = ${s(perStep(wl) / perStep(wlr))}×`
      : 'W-long or W-long-ref not run',
    (v) => v <= 1.5,
  );
  const an = get('W', 'rnnscope', 'wasm analyze-par');
  // Per checkpoint, watch (load + analysis) ÷ analyze (load + analysis) of the same file right after; median.
  const ws = watchSpeed;
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratios = ws ? ws.watch.map((w, i) => (w[0]! + w[1]!) / (ws.analyze[i]![0]! + ws.analyze[i]![1]!)) : [];
  const mean = (xs: number[][], i: number): number => xs.reduce((a, x) => a + x[i]!, 0) / xs.length;
  add(
    'watch-checkpoint',
    '`rnnscope watch`: one checkpoint of W (256 samples) in the time of `analyze` plus loading',
    '≤ 1.1×',
    ratios.length ? med(ratios) : null,
    ws && ratios.length
      ? `watch: load ${s(mean(ws.watch, 0))} s + analysis ${s(mean(ws.watch, 1))} s per checkpoint; ` +
          `analyze of the same files: load ${s(mean(ws.analyze, 0))} s + analysis ${s(mean(ws.analyze, 1))} s; ` +
          `median ratio ${s(med(ratios))}× over ${ratios.length} checkpoints` +
          (an ? ` (analyze-par above: ${s(an.median!)} s)` : '')
      : 'not run (W not selected, or --no-watch)',
    (v) => v <= 1.1,
  );
  const pairs = (['grad', 'taps', 'grad-mt', 'taps-mt'] as const)
    .map((mode) => [get('W', 'rnnscope', `wasm ${mode} · Chromium`), get('W', 'rnnscope', `wasm ${mode}`)] as const)
    .filter(([c, n]) => c && n);
  const worst = pairs.length ? Math.max(...pairs.map(([c, n]) => c!.median! / n!.median!)) : null;
  add(
    'browser',
    'The same kernels in Chromium within 1.2× of Node (W, one thread each, and split over the threads each)',
    '≤ 1.2×',
    worst,
    pairs.length
      ? pairs
          .map(
            ([c, n]) =>
              `${c!.variant.split(' ')[1]}: Chromium ${s(c!.median!)} s ÷ Node ${s(n!.median!)} s = ${s(c!.median! / n!.median!)}×`,
          )
          .join('; ')
      : 'W was not run in Chromium; see the notes',
    (v) => v <= 1.2,
  );
  return T;
}

/** rnnscope's kernel variants (and Chromium) must give the same gradient norm within float32 rounding. */
export function checkAgreement(): void {
  for (const w of workloads) {
    for (const mode of ['grad', 'taps']) {
      const ms = measurements.filter(
        (m) => m.workload === w.id && m.impl === 'rnnscope' && m.variant.split(' ')[1] === mode && m.gradNorm,
      );
      if (ms.length < 2) continue;
      const ref = ms[0]!.gradNorm!;
      const d = Math.max(...ms.map((m) => Math.abs(m.gradNorm! - ref) / ref));
      const text =
        `${w.id} ${mode}: ‖∇‖ ` +
        `${ms.map((m) => `${m.variant.replace(` ${mode}`, '')} ${m.gradNorm!.toPrecision(8)}`).join(', ')} ` +
        `(largest relative difference ${d.toExponential(1)})`;
      notes.push(d > 1e-4 ? `Kernel variants DISAGREE: ${text}.` : `Kernel variants agree: ${text}.`);
    }
  }
}
