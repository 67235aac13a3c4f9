// `rnnscope analyze` with several models: checkpoints of one run become a training timeline.
// Each checkpoint is loaded, analysed alone (the same call as for one model) and summarised, then
// dropped: memory holds the timeline, the previous checkpoint's weights and the few analyses kept
// in full for the report (all when there are at most KEEP_FULL, else KEEP_FULL spread evenly,
// first and last included). Models of different architectures are compared as before, all kept.

import type { NpzDumpFile } from '../dump-file.js';
import { stat } from 'node:fs/promises';
import type { ModelSpec, Warning } from '../model/types.js';
import { ModelError, NonFiniteWeightsError } from '../model/errors.js';
import { ANALYSIS_SET_SCHEMA, type Analysis, type AnalysisSet } from '../analysis/schema.js';
import type { AnalyzeInput } from '../analysis/analyze.js';
import { compareCheckpoints, orderBy, parseCheckpointName } from '../analysis/checkpoint-names.js';
import { TimelineBuilder } from '../analysis/timeline.js';
import { timelineTitle } from '../report/timeline-page.js';
import { analysisLib } from './lib.js';
import { ANALYSIS_PHASES, progress, type Flags, type Io } from './output.js';

/** At most this many checkpoints of a timeline are kept as full analyses in the output. */
export const KEEP_FULL = 12;

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

/** Indices kept in full: all up to `keep`, else `keep` evenly spread with the first and the last. */
export function keptIndices(n: number, keep = KEEP_FULL): Set<number> {
  if (n <= keep) return new Set(Array.from({ length: n }, (_, i) => i));
  return new Set(Array.from({ length: keep }, (_, i) => Math.round((i * (n - 1)) / (keep - 1))));
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
): Promise<{
  result: AnalysisSet;
  raw: Map<string, { shape: number[]; data: Float32Array | Float64Array }>[];
  warnings: Warning[];
}> {
  const { pairs, order } = await orderPairs(given, expanded);
  const keep = keptIndices(pairs.length);
  const { analyze } = await analysisLib();
  const warnings: Warning[] = [];
  let builder: TimelineBuilder | null = new TimelineBuilder({ order });
  let data: AnalyzeInput | null = null;
  const runs: Analysis[] = [];
  const raw: Map<string, { shape: number[]; data: Float32Array | Float64Array }>[] = [];
  let dropped = 0;
  let diverged: NonFiniteWeightsError | null = null;
  for (const [i, p] of pairs.entries()) {
    let model: ModelSpec;
    try {
      model = await deps.loadModel(p);
    } catch (e) {
      // NaN/Inf weights: a diverged checkpoint, kept in the timeline without measurements.
      if (!(e instanceof NonFiniteWeightsError) || !builder) throw e;
      builder.addDiverged(
        { label: p.label, ...parseCheckpointName(p.label) },
        { count: e.weight.count, tensors: [e.weight.key] },
      );
      diverged ??= e;
      continue;
    }
    data ??= await deps.loadData(model, warnings);
    const bar = progress(io, f, (phase) => ({
      ...ANALYSIS_PHASES(phase),
      label: `Checkpoint ${i + 1}/${pairs.length}: ${ANALYSIS_PHASES(phase).label}`,
    }));
    let out;
    try {
      out = await analyze([model], data, {
        loss: o.loss,
        batchSize: o.batchSize,
        maxSamples: o.maxSamples,
        connectivity: o.connectivity,
        keepRaw: o.keepRaw,
        dtype: o.dtype,
        dumpFile: o.dumpFile,
        labels: [p.label],
        // The per-sample drill-down of the latest checkpoint only, as for several models at once.
        samples: i === pairs.length - 1,
        onProgress: (q) => bar.update(q),
      });
    } finally {
      bar.stop();
    }
    const a = out.result as Analysis;
    if (builder) {
      try {
        builder.add(model, a, { label: p.label, ...parseCheckpointName(p.label) });
      } catch (e) {
        // Different architectures: a comparison of models, not a timeline, if every analysis so far was kept.
        if (!(e instanceof ModelError) || dropped > 0 || diverged) throw e;
        builder = null;
      }
    }
    if (!builder || keep.has(i)) {
      runs.push(a);
      if (out.raw[0]) raw.push(out.raw[0]);
    } else dropped++;
  }
  if (runs.length === 0 && diverged)
    throw new ModelError(
      `Every checkpoint holds NaN/Inf weights (the first: ${diverged.message}); expected at least one checkpoint with finite weights to analyse, so include checkpoints from before training diverged.`,
    );
  runs.forEach((a, i) => {
    a.run.index = i;
  });
  if (!builder)
    return { result: { schema: ANALYSIS_SET_SCHEMA, title: `${runs.length} models compared`, runs }, raw, warnings };
  const timeline = builder.timeline();
  const kept = runs.length < pairs.length ? ` (${runs.length} of them in full)` : '';
  return {
    result: { schema: ANALYSIS_SET_SCHEMA, title: timelineTitle(timeline) + kept, runs, timeline },
    raw,
    warnings,
  };
}
