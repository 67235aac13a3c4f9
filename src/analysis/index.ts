// Analysis stage: gradient-flow quantities over a dataset (analyze.ts), the JSON schema
// (schema.ts), the diagnosis (diagnose.ts) and the built-in demo (demo.ts).
import type { ModelSpec } from '../model/types.js';
import { analyzeModel, type AnalyzeInput, type AnalyzeOptions, type RawArrays } from './analyze.js';
import { ANALYSIS_SET_SCHEMA, type Analysis, type AnalysisSet } from './schema.js';
import { checkModels } from './check-input.js';

export { analyzeModel, VERSION } from './analyze.js';
export { checkAnalyzeArgs } from './check-input.js';
export type { AnalyzeInput, AnalyzeOptions, RawArrays } from './analyze.js';
export { DEFAULT_THRESHOLDS, type Thresholds } from './diagnose.js';
export * from './schema.js';
export { validateAnalysis, validateReportInput } from './validate.js';

/**
 * Analyse one model, or several (e.g. checkpoints of one run) on the same data: one model gives an
 * Analysis, several give an AnalysisSet for side-by-side comparison.
 */
export async function analyze(
  models: ModelSpec[],
  data: AnalyzeInput,
  opts: AnalyzeOptions & { labels?: string[] } = {},
): Promise<{ result: Analysis | AnalysisSet; raw: RawArrays[] }> {
  checkModels(models, opts.labels);
  const runs: Analysis[] = [];
  const raw: RawArrays[] = [];
  models.forEach((m, i) => {
    const r = analyzeModel(m, data, {
      ...opts,
      label: opts.labels?.[i] ?? m.meta.source.split(/[\\/]/).pop() ?? m.name,
      index: i,
      // The per-sample drill-down of the last model only (the latest checkpoint), unless asked for.
      samples: opts.samples ?? i === models.length - 1,
    });
    runs.push(r.analysis);
    if (r.raw) raw.push(r.raw);
  });
  const result: Analysis | AnalysisSet =
    runs.length === 1 ? runs[0]! : { schema: ANALYSIS_SET_SCHEMA, title: `${runs.length} models compared`, runs };
  return { result, raw };
}
