// Several models analysed one after another, as `rnnscope analyze` and the page run them: the
// checkpoints of one run become a training timeline (timeline.ts); models of different
// architectures are compared side by side instead, all kept. Each model is loaded, analysed alone
// (the shell's call) and summarised, then dropped: memory holds the timeline and the few analyses
// kept in full (all when there are at most KEEP_FULL, else KEEP_FULL spread evenly, first and last
// included). A checkpoint with NaN/Inf weights stays in the timeline without measurements.

import type { ModelSpec, Warning } from '../model/types.js';
import { ModelError, NonFiniteWeightsError } from '../model/errors.js';
import type { RawArrays } from './dump.js';
import { ANALYSIS_SET_SCHEMA, runsOf, type Analysis, type AnalysisSet } from './schema.js';
import { parseCheckpointName } from './checkpoint-names.js';
import { TimelineBuilder, type Timeline } from './timeline.js';

/** At most this many checkpoints of a timeline are kept as full analyses in the output. */
export const KEEP_FULL = 12;

/** Indices kept in full: all up to `keep`, else `keep` evenly spread with the first and the last. */
export function keptIndices(n: number, keep = KEEP_FULL): Set<number> {
  if (n <= keep) return new Set(Array.from({ length: n }, (_, i) => i));
  return new Set(Array.from({ length: keep }, (_, i) => Math.round((i * (n - 1)) / (keep - 1))));
}

export interface SeriesItem {
  label: string;
  /** The model; a NonFiniteWeightsError marks a diverged checkpoint. */
  load(): Promise<ModelSpec> | ModelSpec;
}

export interface SeriesOptions {
  order: Timeline['order'];
  /** Analyses one model (the shell's analyze call); `latest`: the last of the series (it alone gets the drill-down). */
  analyzeOne(
    model: ModelSpec,
    item: SeriesItem,
    index: number,
    latest: boolean,
  ): Promise<{ analysis: Analysis; raw: RawArrays | undefined }>;
  /** The set's title for a timeline (the report names it). */
  title(timeline: Timeline): string;
}

export async function analyzeCheckpoints(
  items: SeriesItem[],
  o: SeriesOptions,
): Promise<{ result: AnalysisSet; raw: RawArrays[] }> {
  const keep = keptIndices(items.length);
  let builder: TimelineBuilder | null = new TimelineBuilder({ order: o.order });
  const runs: Analysis[] = [];
  const raw: RawArrays[] = [];
  let dropped = 0;
  let diverged: NonFiniteWeightsError | null = null;
  for (const [i, item] of items.entries()) {
    let model: ModelSpec;
    try {
      model = await item.load();
    } catch (e) {
      if (!(e instanceof NonFiniteWeightsError) || !builder) throw e;
      builder.addDiverged(
        { label: item.label, ...parseCheckpointName(item.label) },
        { count: e.weight.count, tensors: [e.weight.key] },
      );
      diverged ??= e;
      continue;
    }
    const { analysis: a, raw: r } = await o.analyzeOne(model, item, i, i === items.length - 1);
    if (builder) {
      try {
        builder.add(model, a, { label: item.label, ...parseCheckpointName(item.label) });
      } catch (e) {
        // Different architectures: a comparison of models, not a timeline, if every analysis so far was kept.
        if (!(e instanceof ModelError) || dropped > 0 || diverged) throw e;
        builder = null;
      }
    }
    if (!builder || keep.has(i)) {
      runs.push(a);
      if (r) raw.push(r);
    } else dropped++;
  }
  if (runs.length === 0 && diverged)
    throw new ModelError(
      `Every checkpoint holds NaN/Inf weights (the first: ${diverged.message}); expected at least one checkpoint with finite weights to analyse, so include checkpoints from before training diverged.`,
    );
  runs.forEach((a, i) => {
    a.run.index = i;
  });
  if (!builder) return { result: { schema: ANALYSIS_SET_SCHEMA, title: `${runs.length} models compared`, runs }, raw };
  const timeline = builder.timeline();
  const kept = runs.length < items.length ? ` (${runs.length} of them in full)` : '';
  return { result: { schema: ANALYSIS_SET_SCHEMA, title: o.title(timeline) + kept, runs, timeline }, raw };
}

/** Data warnings joined into every run's objective warnings, once each. */
export function addWarnings(result: Analysis | AnalysisSet, warnings: Warning[]): void {
  for (const a of runsOf(result)) {
    for (const w of warnings)
      if (!a.objective.warnings.some((x) => x.message === w.message)) a.objective.warnings.push({ ...w });
  }
}
