// Runs inside the watch's worker thread (started by analyser.ts): loads one checkpoint and
// analyses it with the same function `rnnscope analyze` uses, so the main thread stays free to
// serve the page and to stop at once on Ctrl-C.

import { parentPort } from 'node:worker_threads';
import { loadModelFile } from '../io/node.js';
import { NonFiniteWeightsError } from '../model/errors.js';
import { analyzeModelParallel } from '../analyze-parallel.js';
import type { AnalyzeInput, AnalyzeOptions } from '../analysis/analyze.js';
import type { AnalyseRequest, AnalyseResult } from './analyser.js';

let input: AnalyzeInput | null = null;
let options: AnalyzeOptions = {};

function errorOf(e: unknown): {
  stage: string | null;
  message: string;
  code: string | null;
  nonFinite: { key: string; count: number } | null;
} {
  const x = e as { stage?: string; message?: string; code?: string; cause?: { code?: string } };
  return {
    stage: x?.stage ?? null,
    message: String(x?.message ?? e),
    code: x?.code ?? x?.cause?.code ?? null,
    nonFinite: e instanceof NonFiniteWeightsError ? { key: e.weight.key, count: e.weight.count } : null,
  };
}

parentPort!.on(
  'message',
  async (m: { type: 'init'; input: AnalyzeInput; options: AnalyzeOptions } | AnalyseRequest) => {
    if (m.type === 'init') {
      input = m.input;
      options = m.options;
      return;
    }
    const t0 = performance.now();
    let model;
    try {
      model = await loadModelFile(m.file, m.weights !== undefined ? { weights: m.weights } : {});
    } catch (e) {
      parentPort!.postMessage({ id: m.id, ok: false, phase: 'load', ...errorOf(e) } satisfies AnalyseResult);
      return;
    }
    const t1 = performance.now();
    try {
      const { analysis } = await analyzeModelParallel(model, input!, { ...options, label: m.label });
      parentPort!.postMessage({
        id: m.id,
        ok: true,
        model,
        analysis,
        loadSeconds: (t1 - t0) / 1000,
        analyseSeconds: (performance.now() - t1) / 1000,
      } satisfies AnalyseResult);
    } catch (e) {
      parentPort!.postMessage({ id: m.id, ok: false, phase: 'analyse', ...errorOf(e) } satisfies AnalyseResult);
    }
  },
);
