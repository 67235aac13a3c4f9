// The analysis of a Session, as `rnnscope analyze` runs it (src/cli/analyze.ts, checkpoints.ts):
// one model → analyze(); several → the series loop (src/analysis/checkpoint-series.ts): a training
// timeline, or models compared side by side when their architectures differ. Then the outputs the
// command line writes: the analysis JSON, the .npz dump, the self-contained report page. Pure: no
// DOM, no node:*.

import type { AnalyzeInput, RawArrays } from '../src/analysis/index.js';
import { checkModels } from '../src/analysis/check-input.js';
import type { GradPool } from '../src/engine/pool.js';
import type { Analysis, AnalysisSet } from '../src/analysis/schema.js';
import { addWarnings, analyzeCheckpoints } from '../src/analysis/checkpoint-series.js';
import type { Warning } from '../src/model/types.js';
import { encodeNpz } from '../src/io/npz-write.js';
import { reportHtml, type Bundle } from '../src/report/html.js';
import { pageData } from '../src/report/page-data.js';
import { timelineTitle } from '../src/report/timeline-page.js';
import type { Session, Answers } from './app-inspect.js';
import type { AppOptions, ChartInfo, Progress } from './app-protocol.js';
import { analyzeOnPool } from './app-threads.js';

export interface RunOutput {
  result: Analysis | AnalysisSet;
  raw: RawArrays[];
  random: boolean;
  /** How the batches ran: on how many threads, or why on one (the last run's). */
  threads: string;
}

export async function runAnalysis(
  s: Session,
  o: AppOptions,
  answers: Answers,
  onProgress: (p: Progress) => void,
  pool: GradPool,
): Promise<RunOutput> {
  const runs = s.found.runs;
  const warnings: Warning[] = [];
  const data: AnalyzeInput = s.input(o.loss, answers, warnings);
  const opts = {
    loss: o.loss,
    batchSize: o.batchSize,
    maxSamples: o.maxSamples,
    connectivity: o.connectivity,
    keepRaw: o.dump,
  };
  let threads = '';
  if (runs.length === 1) {
    // As analyze() (src/analysis/index.ts) runs one model, with its batches on the pool.
    checkModels([runs[0]!.model], [runs[0]!.label]);
    const out = await analyzeOnPool(
      pool,
      runs[0]!.model,
      data,
      {
        ...opts,
        label: runs[0]!.label,
        index: 0,
        samples: true,
        onProgress: (p) => onProgress({ ...p, run: 1, runs: 1 }),
      },
      o,
    );
    addWarnings(out.analysis, warnings);
    return { result: out.analysis, raw: out.raw ? [out.raw] : [], random: data.inputs === null, threads: out.threads };
  }
  const { result, raw } = await analyzeCheckpoints(
    runs.map((r) => ({ label: r.label, load: () => r.model })),
    {
      order: s.order,
      title: timelineTitle,
      analyzeOne: async (model, r, i, latest) => {
        checkModels([model], [r.label]);
        const out = await analyzeOnPool(
          pool,
          model,
          data,
          {
            ...opts,
            label: r.label,
            index: 0,
            // The per-sample drill-down of the latest checkpoint only, as the command line does.
            samples: latest,
            onProgress: (p) => onProgress({ ...p, run: i + 1, runs: runs.length }),
          },
          o,
        );
        threads = out.threads;
        return { analysis: out.analysis, raw: out.raw ?? undefined };
      },
    },
  );
  addWarnings(result, warnings);
  return { result, raw, random: data.inputs === null, threads };
}

/** The .npz dump as `--dump` writes it: several runs' arrays under run<i>/. */
export function dumpNpz(raw: RawArrays[]): Uint8Array {
  const merged = new Map<string, { shape: number[]; data: Float32Array | Float64Array }>();
  raw.forEach((m, i) => m.forEach((v, k) => merged.set(raw.length > 1 ? `run${i}/${k}` : k, v)));
  return encodeNpz(merged);
}

/** The report page as the command line writes index.html, but with no links to chart files (there are none beside it).
 * */
export function reportPage(result: Analysis | AnalysisSet, bundles: Bundle[]): string {
  return reportHtml(result, { bundles });
}

/** The charts the page shows, in its order. */
export function chartList(result: Analysis | AnalysisSet): ChartInfo[] {
  return pageData(result).charts.map((c) => ({ id: c.id, title: c.title }));
}
