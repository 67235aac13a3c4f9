// Running the command line as a user does (node bin/rnnscope.js in a child process), the same
// analysis through the library, and an .npz read back by numpy: shared by the CLI tests.

import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { loadModelFile } from '../../src/io/node.js';
import { openData } from '../../src/io/data.js';
import { analyze } from '../../src/analysis/index.js';
import { analyzeParallel } from '../../src/analyze-parallel.js';
import type { RawArrays } from '../../src/analysis/analyze.js';

export const ROOT = path.join(import.meta.dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'rnnscope.js');
export const CORPUS = path.join(ROOT, 'test', 'fixtures', 'corpus');
export const USERDATA = path.join(ROOT, 'test', 'fixtures', 'userdata');
export const PYTHON = '/usr/bin/python3';

/** Child processes at once per test file (2 cores on the CI machine). */
const JOBS = Number(process.env.RNNSCOPE_TEST_JOBS ?? 2);
let running = 0;
const waiting: (() => void)[] = [];

async function slot<T>(f: () => Promise<T>): Promise<T> {
  if (running >= JOBS) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await f();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command in a child process (at most JOBS at once) and returns its exit code and output. */
export function runProcess(
  file: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return slot(
    () =>
      new Promise((resolve) => {
        const t0 = Date.now();
        execFile(
          file,
          args,
          { cwd: opts.cwd ?? ROOT, env: { ...process.env, NO_COLOR: '1', ...opts.env }, maxBuffer: 1 << 28 },
          (err, stdout, stderr) => {
            const code = err
              ? typeof (err as { code?: unknown }).code === 'number'
                ? (err as { code: number }).code
                : -1
              : 0;
            resolve({ code, stdout, stderr, ms: Date.now() - t0 });
          },
        );
      }),
  );
}

/**
 * `rnnscope <args>` through bin/rnnscope.js: the repository's, from the sources through tsx (no
 * dist/ in the repository), or `bin` of a built copy (buildCopy), which runs its dist/.
 */
export function rnnscope(args: string[], opts: { cwd?: string; bin?: string } = {}): Promise<CliResult> {
  if (opts.bin)
    return runProcess(process.execPath, [opts.bin, ...args], { cwd: opts.cwd, env: { RNNSCOPE_FROM_SOURCE: '' } });
  return runProcess(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: { RNNSCOPE_FROM_SOURCE: '1' } });
}

/**
 * The current sources compiled into a copy of the package in `dir` (src/, bin/, package.json, the
 * tsconfigs; node_modules linked): returns that copy's bin/rnnscope.js, which runs dist/ as an
 * installed package does. A process started there costs less than half the CPU of one that loads
 * the sources through tsx. Type errors do not stop the build (the typecheck is its own step);
 * a build that emits no CLI does.
 */
export function buildCopy(dir: string): string {
  for (const f of ['src', 'bin', 'package.json', 'tsconfig.json', 'tsconfig.build.json'])
    cpSync(path.join(ROOT, f), path.join(dir, f), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    { cwd: dir, encoding: 'utf8' },
  );
  if (!existsSync(path.join(dir, 'dist/src/cli/main.js')))
    throw new Error(`tsc emitted no dist/src/cli/main.js:\n${r.stdout}${r.stderr}`);
  return path.join(dir, 'bin', 'rnnscope.js');
}

export function hasPython(): boolean {
  return spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
}

export interface NpzArray {
  shape: number[];
  dtype: string;
  data: Float32Array | Float64Array;
}

/** Reads an .npz with numpy.load (the user's reader), exactly: raw little-endian bytes back. */
export function readNpzWithNumpy(file: string): Map<string, NpzArray> {
  const script = [
    'import base64, json, sys, numpy as np',
    'z = np.load(sys.argv[1])',
    'out = {k: [list(z[k].shape), z[k].dtype.str, base64.b64encode(np.ascontiguousarray(z[k]).astype(z[k].dtype.newbyteorder("<")).tobytes()).decode()] for k in z.files}',
    'json.dump(out, sys.stdout)',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', script, file], { maxBuffer: 1 << 30, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`numpy could not read ${file}: ${r.stderr}`);
  const json = JSON.parse(r.stdout) as Record<string, [number[], string, string]>;
  const out = new Map<string, NpzArray>();
  for (const [k, [shape, dtype, b64]] of Object.entries(json)) {
    const bytes = Buffer.from(b64, 'base64');
    const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    if (dtype !== '<f4' && dtype !== '<f8')
      throw new Error(`${file}: ${k} has dtype ${dtype}; expected float32 or float64`);
    out.set(k, { shape, dtype, data: dtype === '<f4' ? new Float32Array(buf) : new Float64Array(buf) });
  }
  return out;
}

/** Reads .npy files with rnnscope's reader into the arrays analyze() takes (float64 values, as numpy stores them). */
export function npyArrays(files: string[]): { shape: number[]; data: Float64Array }[] {
  return files.map((f) => {
    const [a] = openData(readFileSync(f), path.basename(f));
    return { shape: [...a!.shape], data: Float64Array.from(a!.data) };
  });
}

export interface LibraryRun {
  json: unknown;
  raw: RawArrays;
}

/**
 * The library call on the same model files and arrays: loadModelFile, then analyze() with the
 * options the command line maps its flags to (analyzeParallel: as the CLI calls it, over the cores).
 * Returns the result as JSON (as the CLI writes it) and the raw arrays of the first model.
 */
export async function libraryAnalysis(
  model: { file: string; weights?: string }[],
  data: { inputs: string[]; targets?: string[]; dataSource: string },
  opts: { batchSize?: number; maxSamples?: number; loss?: string; connectivity?: boolean },
  how: 'analyze' | 'analyzeParallel' = 'analyze',
): Promise<LibraryRun> {
  const specs = [];
  for (const m of model) specs.push(await loadModelFile(m.file, m.weights !== undefined ? { weights: m.weights } : {}));
  const { result, raw } = await (how === 'analyze' ? analyze : analyzeParallel)(
    specs,
    {
      inputs: npyArrays(data.inputs),
      targets: data.targets ? npyArrays(data.targets) : null,
      dataSource: data.dataSource,
    },
    { ...opts, keepRaw: true, labels: model.map((m) => path.basename(m.weights ?? m.file)) },
  );
  return { json: JSON.parse(JSON.stringify(result)), raw: raw[0]! };
}

/** Splits off what the CLI legitimately adds (data-reading warnings) so the rest compares exactly. */
export function withoutObjectiveWarnings(a: unknown): { rest: unknown; warnings: { code: string; message: string }[] } {
  const copy = JSON.parse(JSON.stringify(a)) as {
    objective?: { warnings: { code: string; message: string }[] };
    runs?: { objective: { warnings: unknown[] } }[];
  };
  const runs = copy.runs ?? [copy];
  const warnings = runs.flatMap(
    (r) => (r as { objective: { warnings: { code: string; message: string }[] } }).objective.warnings,
  );
  for (const r of runs) (r as { objective: { warnings: unknown[] } }).objective.warnings = [];
  return { rest: copy, warnings };
}
