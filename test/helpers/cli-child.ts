// The real command line as a child process (bin/rnnscope.js from the sources), for tests that
// must see exit codes, files on disk, signals and timing as a user would.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = path.join(ROOT, 'bin/rnnscope.js');
export const CORPUS_DIR = path.join(ROOT, 'test/fixtures/corpus');
export const SIMPLE_RNN = path.join(CORPUS_DIR, 'h5_dl4j_simplernn_k2/simple_rnn_tf_keras_2_model.h5');
export const TFJS_DIR = path.join(CORPUS_DIR, 'tfjs_reiinakano_textgen_lstm_legacy_format');
export const KERAS3 = path.join(CORPUS_DIR, 'k3_hatice_har_lstm/lstm_model.keras');
export const EXAMPLE = path.join(ROOT, 'test/fixtures/analysis/example.json');
export const EXAMPLE_SET = path.join(ROOT, 'test/fixtures/analysis/example-set.json');

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions extends Pick<SpawnOptions, 'uid' | 'gid'> {
  cwd: string;
  env?: Record<string, string>;
  /** A command the child runs under, e.g. setpriv dropping capabilities. */
  wrap?: string[];
  /** Called once the child is started (to signal it, say). */
  started?: (child: ChildProcess) => void;
  timeoutMs?: number;
}

/** Runs `rnnscope args…` to completion (killed after timeoutMs, default 240 s). */
export function rnnscope(args: string[], o: RunOptions): Promise<ChildResult> {
  const t0 = performance.now();
  const argv = [...(o.wrap ?? []), process.execPath, BIN, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: o.cwd,
    env: { ...process.env, RNNSCOPE_FROM_SOURCE: '1', NO_COLOR: '1', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(o.uid !== undefined ? { uid: o.uid, gid: o.gid } : {}),
  });
  let stdout = '',
    stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  o.started?.(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 240_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** Relative path → SHA-256 of every file under `dir` (dot files included), to compare before/after. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = path.join(d, n);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** Files rnnscope leaves only while it runs: temporary files and locks. */
export function leftovers(dir: string): string[] {
  return Object.keys(snapshot(dir)).filter((p) => /\.rnnscope-(tmp-|lock)/.test(path.basename(p)));
}
