// The analysis of a Session, as `rnnscope analyze` runs it (src/cli/analyze.ts, checkpoints.ts):
// one model → analyze(); several → each checkpoint analysed alone on the data fitted to the first,
// summarised into a training timeline (or compared side by side when their architectures differ),
// at most KEEP_FULL of them kept in full. Then the outputs the command line writes: the analysis
// JSON, the .npz dump, the self-contained report page. Pure: no DOM, no node:*.

import { analyze, type AnalyzeInput, type RawArrays } from '../src/analysis/index.js';
import { ANALYSIS_SET_SCHEMA, type Analysis, type AnalysisSet } from '../src/analysis/schema.js';
import { TimelineBuilder } from '../src/analysis/timeline.js';
import { parseCheckpointName } from '../src/analysis/checkpoint-names.js';
import { ModelError } from '../src/model/errors.js';
import type { Warning } from '../src/model/types.js';
import { encodeNpz } from '../src/io/npz-write.js';
import { reportHtml, type Bundle } from '../src/report/html.js';
import { pageData } from '../src/report/page-data.js';
import { timelineTitle } from '../src/report/timeline-page.js';
import type { Session, Answers } from './app-inspect.js';
import type { AppOptions, ChartInfo, Progress } from './app-protocol.js';

/** As the command line: at most this many checkpoints of a timeline are kept as full analyses. */
export const KEEP_FULL = 12;

export interface RunOutput {
  result: Analysis | AnalysisSet;
  raw: RawArrays[];
  random: boolean;
}

/** Indices kept in full: all up to `keep`, else `keep` evenly spread with the first and the last. */
function keptIndices(n: number, keep = KEEP_FULL): Set<number> {
  if (n <= keep) return new Set(Array.from({ length: n }, (_, i) => i));
  return new Set(Array.from({ length: keep }, (_, i) => Math.round((i * (n - 1)) / (keep - 1))));
}

/** Data warnings joined into every run's objective warnings, once each (as the command line does). */
function addWarnings(result: Analysis | AnalysisSet, warnings: Warning[]): void {
  const runs = 'runs' in result ? result.runs : [result];
  for (const a of runs) {
    for (const w of warnings)
      if (!a.objective.warnings.some((x) => x.message === w.message)) a.objective.warnings.push({ ...w });
  }
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
  const keep = keptIndices(runs.length);
  let builder: TimelineBuilder | null = new TimelineBuilder({ order: s.order });
  const kept: Analysis[] = [];
  const raw: RawArrays[] = [];
  for (const [i, r] of runs.entries()) {
    const out = await analyze([r.model], data, {
      ...opts,
      labels: [r.label],
      // The per-sample drill-down of the latest checkpoint only, as the command line does.
      samples: i === runs.length - 1,
      onProgress: (p) => onProgress({ ...p, run: i + 1, runs: runs.length }),
    });
    const a = out.result as Analysis;
    if (builder) {
      try {
        builder.add(r.model, a, { label: r.label, ...parseCheckpointName(r.label) });
      } catch (e) {
        // Different architectures: a comparison of models, not a timeline, if every analysis so far was kept.
        if (!(e instanceof ModelError) || kept.length < i) throw e;
        builder = null;
      }
    }
    if (!builder || keep.has(i)) {
      kept.push(a);
      if (out.raw[0]) raw.push(out.raw[0]);
    }
  }
  kept.forEach((a, i) => {
    a.run.index = i;
  });
  let result: AnalysisSet;
  if (!builder) result = { schema: ANALYSIS_SET_SCHEMA, title: `${kept.length} models compared`, runs: kept };
  else {
    const timeline = builder.timeline();
    const some = kept.length < runs.length ? ` (${kept.length} of them in full)` : '';
    result = { schema: ANALYSIS_SET_SCHEMA, title: timelineTitle(timeline) + some, runs: kept, timeline };
  }
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
