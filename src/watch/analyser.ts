// The main thread's handle on the watch's worker thread (worker.ts): one request at a time,
// terminated at once on stop. From the TypeScript sources the worker registers tsx first.

import { Worker } from 'node:worker_threads';
import type { ModelSpec } from '../model/types.js';
import type { Analysis } from '../analysis/schema.js';
import type { AnalyzeInput, AnalyzeOptions } from '../analysis/analyze.js';

export interface AnalyseRequest {
  type: 'analyse';
  id: number;
  file: string;
  weights?: string;
  label: string;
}

export type AnalyseResult =
  | { id: number; ok: true; model: ModelSpec; analysis: Analysis; loadSeconds: number; analyseSeconds: number }
  | {
      id: number;
      ok: false;
      phase: 'load' | 'analyse';
      stage: string | null;
      message: string;
      code: string | null;
      nonFinite: { key: string; count: number } | null;
    };

const SOURCE = import.meta.url.endsWith('.ts');
const MODULE = new URL(SOURCE ? './worker.ts' : './worker.js', import.meta.url).href;
const TSX_API = SOURCE ? import.meta.resolve('tsx/esm/api') : null;
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) { const { register } = await import(workerData.tsx); register(); }
  await import(workerData.module);
})();
`;

export class Analyser {
  private readonly worker: Worker;
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (r: AnalyseResult) => void; reject: (e: Error) => void }>();
  private dead: Error | null = null;

  constructor(input: AnalyzeInput, options: AnalyzeOptions) {
    this.worker = new Worker(BOOT, { eval: true, workerData: { module: MODULE, tsx: TSX_API } });
    const { onProgress: _drop, ...plain } = options; // functions do not cross threads
    this.worker.postMessage({ type: 'init', input, options: plain });
    this.worker.on('message', (r: AnalyseResult) => {
      const w = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      w?.resolve(r);
    });
    const fail = (e: Error) => {
      this.dead = e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`The analysis worker stopped (exit code ${code}).`)));
  }

  analyse(file: string, label: string, weights?: string): Promise<AnalyseResult> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({
        type: 'analyse',
        id,
        file,
        label,
        ...(weights !== undefined ? { weights } : {}),
      } satisfies AnalyseRequest);
    });
  }

  /** Stops the worker now (an analysis in progress is abandoned). */
  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
