// The benchmark's result: types and the Markdown rendering of bench/results/latest.md (latest.json
// is the BenchReport itself) and of the targets table (also written into README.md by run.ts).

import { missedNotes } from './missed.js';

export type Impl = 'rnnscope' | 'torch' | 'tfjs';

export interface Measurement {
  workload: string;
  impl: Impl;
  /** rnnscope: 'wasm grad' | 'wasm taps' | 'wasm analyze' | 'js …'; torch: 'fused' | 'unrolled'; tfjs: 'wasm' | 'cpu'.
   * */
  variant: string;
  /** Kernel or library detail as reported by the child (e.g. 'wasm-relaxed-simd', 'torch 1.13 OpenBLAS Haswell, 2
   * threads'). */
  detail: string;
  /** Median seconds of the timed runs, null when not measured. */
  median: number | null;
  times: number[];
  /** Seconds of the first run in the process (before warm-up), and the number of warm-up runs. */
  first: number | null;
  warmupRuns: number | null;
  maxRssMb: number | null;
  /** Flops counted by the FLOP model (workloads.ts) for one timed run. */
  flops: number;
  gflops: number | null;
  peakShare: number | null;
  /** CPU time other processes used during this measurement, in cores (0 = quiet machine). */
  othersCores: number | null;
  loss?: number;
  gradNorm?: number;
  copiedMbPerRun?: number;
  /** analyze: seconds of the gradient batches, of Jacobian + statistics + diagnosis, of the connectivity map (last
   * run). */
  phases?: { gradients: number; finish: number; connectivity: number };
  /** `rnnscope analyze` end to end: its --profile phases (median run). */
  profile?: { phases: [string, number][]; command: number; beforeStart: number };
  /** Why it was not measured, or what went wrong. */
  skipped?: string;
}

export interface Target {
  id: string;
  text: string;
  /** What was compared, with the numbers. */
  measured: string;
  value: number | null;
  limit: string;
  pass: boolean | null;
}

export interface BenchReport {
  schema: 'rnnscope-bench/1';
  date: string;
  command: string;
  /** The code measured: commit, and whether the working tree had changes. */
  source: string;
  machine: {
    cpu: string;
    cores: number;
    mhz: number;
    peakGflops: number;
    peakNote: string;
    node: string;
    loadStart: number[];
    loadEnd: number[];
  };
  peers: string[];
  flopModel: string;
  method: string;
  measurements: Measurement[];
  targets: Target[];
  notes: string[];
}

const fmt = (x: number | null | undefined, digits = 3): string =>
  x === null || x === undefined || !Number.isFinite(x)
    ? '—'
    : x >= 100
      ? x.toFixed(0)
      : x >= 10
        ? x.toFixed(1)
        : x.toPrecision(digits);
const pct = (x: number | null): string => (x === null ? '—' : `${(100 * x).toFixed(x < 0.01 ? 2 : 1)}%`);

/** Time of `m` divided by the time of the same workload's peer `impl`/`variant` (× < 1: rnnscope is faster). */
export function ratio(all: Measurement[], m: Measurement, impl: Impl, variant: string): number | null {
  const p = all.find((x) => x.workload === m.workload && x.impl === impl && x.variant === variant);
  return p?.median && m.median ? m.median / p.median : null;
}

const PEER_COLUMNS: [Impl, string, string][] = [
  ['torch', 'fused', 'torch fused'],
  ['torch', 'unrolled', 'torch unrolled+taps'],
  ['torch', 'unrolled256', 'torch taps × 256 samples'],
  ['tfjs', 'wasm', 'TF.js wasm'],
  ['tfjs', 'cpu', 'TF.js cpu'],
];

/** The targets as a Markdown table. */
export function targetsTable(targets: Target[]): string {
  const L = ['| target | measured | limit | result |', '|---|---|---|---|'];
  for (const t of targets)
    L.push(
      `| ${t.text} | ${t.measured} | ${t.limit} | ${t.pass === null ? 'not measured' : t.pass ? '**pass**' : '**FAIL**'} |`,
    );
  return L.join('\n');
}

/** README's block: per workload rnnscope's and the peers' seconds for one gradient of a batch, then the targets. */
export function readmeBlock(r: BenchReport): string {
  const med = (w: string, impl: Impl, v: string): string => {
    const m = r.measurements.find((x) => x.workload === w && x.impl === impl && x.variant === v && x.median);
    return m ? `${fmt(m.median)} s` : '—';
  };
  const L = [
    // The command in plain text after the one inline span: test/cli-docs.test.ts runs or names every inline command.
    `Measured by \`npm run bench\`${r.command.includes(' -- ') ? ` (arguments ${r.command.split(' -- ')[1]})` : ''} ` +
      `on ${r.date.slice(0, 10)} (${r.machine.cpu}, ${r.machine.cores} cores; ` +
      `load average at start ${r.machine.loadStart.map((x) => x.toFixed(2)).join(', ')}), float32, one gradient of a batch:`,
    '',
    '| workload | rnnscope grad, 1 thread / split | with all taps, 1 thread / split | PyTorch fused | PyTorch unrolled + taps | TF.js wasm |',
    '|---|---|---|---|---|---|',
  ];
  for (const w of [...new Set(r.measurements.map((x) => x.workload))]) {
    const rn = (mode: string): string =>
      `${med(w, 'rnnscope', `wasm ${mode}`)} / ${med(w, 'rnnscope', `wasm ${mode}-mt`)}`;
    L.push(
      `| ${w} | ${rn('grad')} | ${rn('taps')} | ${med(w, 'torch', 'fused')} | ${med(w, 'torch', 'unrolled')} | ${med(w, 'tfjs', 'wasm')} |`,
    );
  }
  L.push('', targetsTable(r.targets));
  const missed = missedNotes(r.targets);
  if (missed.length > 0) L.push('', ...missed);
  return L.join('\n');
}

export function toMarkdown(r: BenchReport): string {
  const L: string[] = [];
  const m = r.machine;
  L.push('# rnnscope benchmark (issue 15)', '');
  L.push(
    `Generated by \`${r.command}\` on ${r.date} from ${r.source}. Machine: ${m.cpu}, ${m.cores} cores at ${m.mhz} MHz; Node ${m.node}.`,
  );
  L.push(
    `Load average (1, 5, 15 min) at start ${m.loadStart.map((x) => x.toFixed(2)).join(', ')}; at end ${m.loadEnd.map((x) => x.toFixed(2)).join(', ')}. ` +
      'The column "others" is the CPU (in cores) that other processes used during each measurement (/proc/stat busy time minus the child\'s own CPU time; approximate).',
    '',
  );
  L.push(`**fp32 peak**: ${m.peakGflops.toFixed(0)} GFLOP/s — ${m.peakNote}`, '');
  L.push(`**FLOP model**: ${r.flopModel}`, '');
  L.push(`**Method**: ${r.method}`, '');
  L.push(`**Peers**: ${r.peers.join('; ')}`, '');

  L.push('## Targets', '', targetsTable(r.targets), '');
  const missed = missedNotes(r.targets);
  if (missed.length > 0) L.push(...missed, '');

  L.push('## Results', '');
  L.push(
    "Ratios are rnnscope's time ÷ the peer's time on the same workload (below 1×: rnnscope is faster). " +
      '"range" is the fastest and slowest timed run; "first run" is the process\'s first, cold run (V8 has not yet optimised the WebAssembly and JavaScript), what a one-shot command pays.',
    '',
  );
  const head = [
    'workload',
    'implementation',
    'median s',
    'runs',
    'range s',
    'first run s',
    'GFLOP/s',
    '% peak',
    'peak RSS MB',
    'others',
    ...PEER_COLUMNS.map((c) => `÷ ${c[2]}`),
  ];
  L.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
  for (const x of r.measurements) {
    const name =
      x.impl === 'rnnscope'
        ? `rnnscope ${x.variant}${x.detail ? ` (${x.detail})` : ''}`
        : `${x.impl === 'torch' ? 'PyTorch' : 'TF.js'} ${x.variant}`;
    if (x.skipped) {
      const cells = [
        x.workload,
        name,
        x.median === null ? 'not run' : fmt(x.median),
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        x.skipped,
      ];
      L.push(`| ${[...cells, ...Array<string>(head.length - cells.length).fill('')].join(' | ')} |`);
      continue;
    }
    // analyze (8 batches with taps, plus the statistics) compares with PyTorch's taps over the same 256 samples only.
    const ratios = PEER_COLUMNS.map(([impl, v]) =>
      x.impl === 'rnnscope' && x.variant.includes('analyze') === (v === 'unrolled256')
        ? ratio(r.measurements, x, impl, v)
        : null,
    );
    const range = x.times.length > 1 ? `${fmt(Math.min(...x.times))}–${fmt(Math.max(...x.times))}` : '';
    L.push(
      `| ${[
        x.workload,
        name,
        fmt(x.median),
        String(x.times.length),
        range,
        fmt(x.first),
        fmt(x.gflops),
        pct(x.peakShare),
        fmt(x.maxRssMb, 3),
        x.othersCores === null ? '—' : x.othersCores.toFixed(2),
        ...ratios.map((q) => (q === null ? '—' : `${fmt(q)}×`)),
      ].join(' | ')} |`,
    );
  }
  L.push('');
  const details = r.measurements.filter((x) => !x.skipped && x.impl !== 'rnnscope');
  if (details.length) {
    L.push(
      'Peer details: ' +
        [...new Set(details.map((x) => `${x.impl === 'torch' ? 'PyTorch' : 'TF.js'} ${x.variant}: ${x.detail}`))].join(
          '; ',
        ) +
        '.',
      '',
    );
  }
  const analyses = r.measurements.filter((x) => x.phases);
  if (analyses.length) {
    L.push(
      '`analyze` phases (last run; s): ' +
        analyses
          .map(
            (x) =>
              `${x.workload} ${x.variant}: gradient batches ${fmt(x.phases!.gradients)}, Jacobian + statistics + diagnosis ${fmt(x.phases!.finish)}, connectivity ${fmt(x.phases!.connectivity)}`,
          )
          .join('; ') +
        '.',
      '',
    );
  }
  const cli = r.measurements.filter((x) => x.profile);
  if (cli.length) {
    L.push(
      '`rnnscope analyze --profile` phases (median run; s): ' +
        cli
          .map(
            (x) =>
              `${x.workload}: ${x.profile!.phases.map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}; ` +
              `command ${fmt(x.profile!.command)}, before start-up ${fmt(x.profile!.beforeStart)}`,
          )
          .join('; ') +
        '.',
      '',
    );
  }
  if (r.notes.length) {
    L.push('## Notes', '');
    for (const n of r.notes) L.push(`- ${n}`);
    L.push('');
  }
  L.push('Raw numbers (every run, RSS, loss and gradient norm per implementation): `bench/results/latest.json`.', '');
  return L.join('\n');
}
