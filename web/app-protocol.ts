// What the app page (web/app.ts) and its worker (web/app-worker.ts) say to each other. Every
// message is structured-clone data: File objects go in, plain objects, strings and transferred
// byte arrays come out.
//
//   page ──files──► worker: read, load the models, sort the other files ──inspection──► page
//   page ──classify (loss, answers)──► worker ──inspection──► page
//   page ──analyze (options, answers)──► worker ──progress…──► ──result | failed──► page
// Cancel is the page terminating the worker (its memory goes with it) and starting a fresh one.

import type { Inspection, Answers } from './app-inspect.js';
import type { KernelChoice } from './kernel-choice.js';
import type { GradientAnswer, GradientRequest } from './app-gradient.js';

/** The analyze options the page offers (those of `rnnscope analyze`). */
export interface AppOptions {
  loss?: string;
  batchSize?: number;
  maxSamples?: number;
  connectivity: boolean;
  /** Keep the per-step arrays for the .npz dump (`--dump`). */
  dump: boolean;
  /** Kernel set (web/kernel-choice.ts); default: the best this browser has. */
  kernels?: KernelChoice;
  /** Threads the analysis's batches may use at most (default: all the gradient pool has). */
  threads?: number;
}

export type ToWorker =
  | { type: 'files'; files: { file: File; name: string; fromFolder: boolean }[]; loss?: string; answers: Answers }
  | { type: 'classify'; loss?: string; answers: Answers }
  | { type: 'analyze'; options: AppOptions; answers: Answers }
  | { type: 'gradient'; request: GradientRequest; answers: Answers };

export interface Progress {
  phase: string;
  /** Checkpoint being analysed (1-based) and how many, when there are several. */
  run: number;
  runs: number;
  done: number;
  total: number;
}

export interface ChartInfo {
  id: string;
  title: string;
}

export interface AppResult {
  /** The analysis JSON exactly as `rnnscope analyze --json` writes it. */
  json: string;
  /** The self-contained report page, as `rnnscope analyze --out` writes index.html (without links to chart files). */
  html: string;
  /** The `--dump` .npz, when the dump option was on. */
  npz: Uint8Array | null;
  charts: ChartInfo[];
  /** The analysis ran on seeded random inputs (no data was given). */
  random: boolean;
  /** Milliseconds of the whole request (reading the data, the analysis, the outputs) and of the analysis alone. */
  ms: number;
  analysisMs: number;
  kernels: string;
  /** How the batches ran: on how many threads, or why on one (as --verbose says in the command line). */
  threads: string;
}

/** An error as the command line prints it: its class, stage and one-sentence message. */
export interface AppError {
  name: string;
  stage: string | null;
  message: string;
  file?: string;
}

export type FromWorker =
  | { type: 'inspection'; inspection: Inspection; ms: number }
  | { type: 'progress'; progress: Progress }
  | { type: 'result'; result: AppResult }
  | { type: 'gradient'; gradient: GradientAnswer }
  | { type: 'failed'; error: AppError };

/**
 * Largest file the page reads (checked on File.size before reading). The tab holds a file once as
 * read and, for HDF5, once more inside h5wasm, whose memory is capped at 2 GiB; the command line
 * reads up to 2 GiB.
 */
export const MAX_FILE_BYTES = 2 ** 30;
/** Largest total of all files at once. */
export const MAX_TOTAL_BYTES = 1.5 * 2 ** 30;

export function errorOf(e: unknown): AppError {
  if (e instanceof Error) {
    const stage = 'stage' in e && typeof e.stage === 'string' ? e.stage : null;
    const file = 'file' in e && typeof e.file === 'string' ? e.file : undefined;
    return { name: e.name, stage, message: e.message, ...(file ? { file } : {}) };
  }
  return { name: 'Error', stage: null, message: String(e) };
}
