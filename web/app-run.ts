// The analysis of a Session, as `rnnscope analyze` runs it (src/cli/analyze.ts, checkpoints.ts):
// one model → analyze(); several → the series loop (src/analysis/checkpoint-series.ts): a training
// timeline, or models compared side by side when their architectures differ. Then the outputs the
// command line writes: the analysis JSON, the .npz dump, the self-contained report page. Pure: no
// DOM, no node:*.

import { analyze, type AnalyzeInput, type RawArrays } from '../src/analysis/index.js';
import type { Analysis, AnalysisSet } from '../src/analysis/schema.js';
import { addWarnings, analyzeCheckpoints } from '../src/analysis/checkpoint-series.js';
import type { Warning } from '../src/model/types.js';
import { encodeNpz } from '../src/io/npz-write.js';
import { reportHtml, type Bundle } from '../src/report/html.js';
import { pageData } from '../src/report/page-data.js';
import { timelineTitle } from '../src/report/timeline-page.js';
import type { Session, Answers } from './app-inspect.js';
import type { AppOptions, ChartInfo, Progress } from './app-protocol.js';

export interface RunOutput {
  result: Analysis | AnalysisSet;
  raw: RawArrays[];
  random: boolean;
}

export async function runAnalysis(
  s: Session,
  o: AppOptions,
  answers: Answers,
  onProgress: (p: Progress) => void,
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
  if (runs.length === 1) {
    const out = await analyze([runs[0]!.model], data, {
      ...opts,
      labels: [runs[0]!.label],
      onProgress: (p) => onProgress({ ...p, run: 1, runs: 1 }),
    });
    addWarnings(out.result, warnings);
    return { result: out.result, raw: out.raw, random: data.inputs === null };
  }
  const { result, raw } = await analyzeCheckpoints(
    runs.map((r) => ({ label: r.label, load: () => r.model })),
    {
      order: s.order,
      title: timelineTitle,
      analyzeOne: async (model, r, i, latest) => {
        const out = await analyze([model], data, {
          ...opts,
          labels: [r.label],
          // The per-sample drill-down of the latest checkpoint only, as the command line does.
          samples: latest,
          onProgress: (p) => onProgress({ ...p, run: i + 1, runs: runs.length }),
        });
        return { analysis: out.result as Analysis, raw: out.raw[0] };
      },
    },
  );
  addWarnings(result, warnings);
  return { result, raw, random: data.inputs === null };
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
