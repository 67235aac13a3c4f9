// `rnnscope analyze` with several models: the series loop (src/analysis/checkpoint-series.ts) over
// files ordered here (by the numbers in their names, or their modification times), each checkpoint
// analysed over both cores with its own progress bar; the data are read once, fitted to the first.

import type { NpzDumpFile } from '../dump-file.js';
import { stat } from 'node:fs/promises';
import type { ModelSpec, Warning } from '../model/types.js';
import type { Analysis, AnalysisSet } from '../analysis/schema.js';
import type { AnalyzeInput, RawArrays } from '../analysis/analyze.js';
import { compareCheckpoints, orderBy, parseCheckpointName } from '../analysis/checkpoint-names.js';
import { analyzeCheckpoints } from '../analysis/checkpoint-series.js';
import { timelineTitle } from '../report/timeline-page.js';
import { analysisLib } from './lib.js';
import { ANALYSIS_PHASES, progress, type Flags, type Io } from './output.js';

export { KEEP_FULL } from '../analysis/checkpoint-series.js';

export interface Pair {
  model: string;
  weights?: string;
  label: string;
}

/** Timeline order: by the numbers in the names when all have them, else by modification time when rnnscope expanded a
 * wildcard, else as given. */
export async function orderPairs(
  pairs: Pair[],
  expanded: boolean,
): Promise<{ pairs: Pair[]; order: 'name' | 'mtime' | 'given' }> {
  if (orderBy(pairs.map((p) => ({ name: p.label }))) === 'name') {
    const keyed = pairs.map((p) => ({ p, k: { name: p.label, mtimeMs: 0, ...parseCheckpointName(p.label) } }));
    return { pairs: keyed.sort((a, b) => compareCheckpoints(a.k, b.k, 'name')).map((x) => x.p), order: 'name' };
  }
  if (!expanded) return { pairs, order: 'given' };
  const times = await Promise.all(
    pairs.map((p) =>
      stat(p.weights ?? p.model).then(
        (s) => s.mtimeMs,
        () => 0,
      ),
    ),
  );
  const idx = pairs
    .map((_, i) => i)
    .sort((a, b) => times[a]! - times[b]! || pairs[a]!.label.localeCompare(pairs[b]!.label));
  return { pairs: idx.map((i) => pairs[i]!), order: 'mtime' };
}

export interface SeriesDeps {
  loadModel(p: Pair): Promise<ModelSpec>;
  loadData(model: ModelSpec, warnings: Warning[]): Promise<AnalyzeInput>;
}

export interface SeriesOptions {
  loss?: string;
  batchSize?: number;
  maxSamples?: number;
  connectivity: boolean;
  keepRaw: boolean;
  dtype?: 'float32' | 'float64';
  /** Streams every checkpoint's arrays into this dump (run<i>/...). */
  dumpFile?: NpzDumpFile;
}

export async function analyzeSeries(
  given: Pair[],
  expanded: boolean,
  o: SeriesOptions,
  deps: SeriesDeps,
  io: Io,
  f: Flags,
): Promise<{ result: AnalysisSet; raw: RawArrays[]; warnings: Warning[] }> {
  const { pairs, order } = await orderPairs(given, expanded);
  const { analyze } = await analysisLib();
  const warnings: Warning[] = [];
  let data: AnalyzeInput | null = null;
  const { result, raw } = await analyzeCheckpoints(
    pairs.map((p) => ({ label: p.label, load: () => deps.loadModel(p) })),
    {
      order,
      title: timelineTitle,
      analyzeOne: async (model, p, i, latest) => {
        data ??= await deps.loadData(model, warnings);
        const bar = progress(io, f, (phase) => ({
          ...ANALYSIS_PHASES(phase),
          label: `Checkpoint ${i + 1}/${pairs.length}: ${ANALYSIS_PHASES(phase).label}`,
        }));
        try {
          const out = await analyze([model], data, {
            loss: o.loss,
            batchSize: o.batchSize,
            maxSamples: o.maxSamples,
            connectivity: o.connectivity,
            keepRaw: o.keepRaw,
            dtype: o.dtype,
            dumpFile: o.dumpFile,
            labels: [p.label],
            // The per-sample drill-down of the latest checkpoint only, as for several models at once.
            samples: latest,
            onProgress: (q) => bar.update(q),
          });
          return { analysis: out.result as Analysis, raw: out.raw[0] };
        } finally {
          bar.stop();
        }
      },
    },
  );
  return { result, raw, warnings };
}
