// `rnnscope analyze` end to end, as a user runs it once installed: the built package (dist/, compiled
// into a temporary package directory, so the checkout gets no dist/ of its own) started through
// bin/rnnscope.js in a fresh process per run, timed from process start to its exit right after the
// JSON is written. 256 samples of the workload (batch 32), a .keras file and .npy data.
//
//   node --import tsx bench/analyze-cli.ts WORKLOAD REPEATS [PKG_DIR]
//
// PKG_DIR: a package built by an earlier call (run.ts builds once and passes it); built here when
// absent. Prints one JSON line: times, median, first run, and the `--profile` phases of the median run.

import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeNpy } from '../src/io/npz-write.js';
import { kerasArchive } from '../test/helpers/keras-write.js';
import { benchData, buildBenchModel, kerasConfig, workload } from './workloads.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
export const SAMPLES = 256;

/** Compiles src/ into PKG/dist (tsc, the package's `npm run build`) beside a copy of bin/ and package.json. */
export function buildPackage(dir = mkdtempSync(join(tmpdir(), 'rnnscope-bench-pkg-'))): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync(join(root, 'bin', 'rnnscope.js'), join(dir, 'bin', 'rnnscope.js'));
  copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], {
    cwd: root,
    encoding: 'utf8',
  });
  if (!existsSync(join(dir, 'dist', 'src', 'cli', 'main.js')))
    throw new Error(`the build (tsc -p tsconfig.build.json) wrote no dist/src/cli/main.js: ${r.stdout.slice(0, 500)}`);
  return dir;
}

export interface Profile {
  phases: [string, number][];
  command: number;
  beforeStart: number;
}

/** The line PhaseClock.print (src/cli/profile.ts) writes:
 * "profile: load 1.04 s, …; command 11.93 s, before start-up 0.80 s". */
export function parseProfile(stderr: string): Profile | null {
  const m = /profile: (.*); command ([\d.]+) s, before start-up ([\d.]+) s/.exec(stderr);
  if (!m) return null;
  const phases = m[1]!.split(', ').map((p) => {
    const q = /^(.*) ([\d.]+) s$/.exec(p)!;
    return [q[1]!, Number(q[2])] as [string, number];
  });
  return { phases, command: Number(m[2]), beforeStart: Number(m[3]) };
}

async function main(): Promise<void> {
  const [id = 'W', repeatsArg = '5', pkgArg] = process.argv.slice(2);
  const w = workload(id);
  const tmp = mkdtempSync(join(tmpdir(), 'rnnscope-bench-cli-'));
  try {
    const pkg = pkgArg ?? buildPackage(join(tmp, 'pkg'));
    const d = benchData(w, SAMPLES);
    const f = { model: join(tmp, 'w.keras'), x: join(tmp, 'x.npy'), y: join(tmp, 'y.npy'), out: join(tmp, 'a.json') };
    writeFileSync(f.model, await kerasArchive(kerasConfig(w), buildBenchModel(w)));
    writeFileSync(f.x, encodeNpy({ shape: d.x.shape, data: d.x.data as Float32Array }));
    writeFileSync(f.y, encodeNpy({ shape: d.y.shape, data: d.y.data as Float32Array }));
    const argv = [join(pkg, 'bin', 'rnnscope.js'), 'analyze', f.model, '--data', f.x, '--targets', f.y];
    argv.push('--batch-size', '32', '--json', f.out, '--profile', '--quiet');
    const runs: { s: number; profile: Profile | null }[] = [];
    for (let i = 0; i <= Number(repeatsArg); i++) {
      rmSync(f.out, { force: true });
      const t0 = performance.now();
      const r = spawnSync(process.execPath, argv, {
        encoding: 'utf8',
        env: { ...process.env, RNNSCOPE_FROM_SOURCE: '' },
      });
      const s = (performance.now() - t0) / 1e3;
      if (r.status !== 0 || !existsSync(f.out))
        throw new Error(`rnnscope analyze failed (exit ${r.status}): ${r.stderr.trim().slice(-400)}`);
      JSON.parse(readFileSync(f.out, 'utf8'));
      runs.push({ s, profile: parseProfile(r.stderr) });
    }
    // Run 0 warms the disk cache (and is reported as the first run); the others are timed.
    const timed = runs.slice(1);
    const sorted = [...timed].sort((a, b) => a.s - b.s);
    const mid = sorted[Math.floor((sorted.length - 1) / 2)]!;
    const out = {
      ok: true,
      kernels: 'rnnscope analyze (built package)',
      times: timed.map((r) => r.s),
      median: mid.s,
      first: runs[0]!.s,
      warmupRuns: 1,
      profile: mid.profile,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    process.stdout.write(`${JSON.stringify({ ok: false, error: e instanceof Error ? e.message : String(e) })}\n`);
    process.exitCode = 1;
  });
}
