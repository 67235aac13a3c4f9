// The watch loop: poll the folder, analyse each checkpoint once it is completely written (in
// checkpoint order), grow the timeline, and hand each new state to the caller (snapshot on disk,
// live page, terminal). Node-only; the command line shell is src/cli/watch.ts.
//
//   poll ─► Settler (size/mtime stable) ─► worker: load ─┬─ fails ─► wait (half-written) and retry
//                                                        └─ loads ─► analyse ─► TimelineBuilder ─► onUpdate

import { stat } from 'node:fs/promises';
import type { ModelSpec } from '../model/types.js';
import { NonFiniteWeightsError } from '../model/errors.js';
import type { Analysis, AnalysisSet } from '../analysis/schema.js';
import { ANALYSIS_SET_SCHEMA } from '../analysis/schema.js';
import type { AnalyzeInput, AnalyzeOptions } from '../analysis/analyze.js';
import { orderBy, orderCheckpoints, parseCheckpointName } from '../analysis/checkpoint-names.js';
import { TimelineBuilder, type TimelinePoint } from '../analysis/timeline.js';
import { timelineTitle } from '../report/timeline-page.js';
import { Analyser } from './analyser.js';
import { Settler, listCheckpoints, type Entry } from './scan.js';

export type WatchEvent =
  | { kind: 'waiting'; name: string; reason: string; bytes: number }
  | { kind: 'diverged'; name: string; point: TimelinePoint }
  | { kind: 'skipped'; name: string; reason: string }
  | { kind: 'failed'; name: string; reason: string }
  | { kind: 'analysing'; name: string };

export interface CheckpointDone {
  set: AnalysisSet;
  point: TimelinePoint;
  analysis: Analysis;
  name: string;
  loadSeconds: number;
  analyseSeconds: number;
}

export interface WatchOptions {
  dir: string;
  /** Architecture (to_json() or a model file) for weights-only checkpoints. */
  model?: string;
  /** Fits the fixed data to the first checkpoint's model (called once, in this thread). */
  fitData(model: ModelSpec): Promise<AnalyzeInput>;
  /** Loads a checkpoint in this thread (only the first, for fitData). */
  load(file: string, weights?: string): Promise<ModelSpec>;
  analyzeOptions: AnalyzeOptions;
  pollMs?: number;
  settleMs?: number;
  /** Analyse what is in the folder now and return (files that never load are reported as failed). */
  once?: boolean;
  signal: AbortSignal;
  onUpdate(done: CheckpointDone): Promise<void>;
  onEvent(e: WatchEvent): void;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** Is a failed load the sign of a file still being written (or deleted), rather than a bad file? */
function transient(stage: string | null): boolean {
  return stage === 'load' || stage === null;
}

export async function runWatch(o: WatchOptions): Promise<{ analysed: number; timeline: TimelineBuilder | null }> {
  const settler = new Settler(o.settleMs ?? 1000);
  const pollMs = o.pollMs ?? 500;
  let builder: TimelineBuilder | null = null;
  let analyser: Analyser | null = null;
  // The latest analysis (a diverged checkpoint is not analysable, so this is the last one with finite weights).
  let latest: Analysis | null = null;
  let analysed = 0;
  const startNames = o.once ? new Set((await listCheckpoints(o.dir)).map((e) => e.name)) : null;
  const rewritten = new Map<string, number>();
  const waitingSaid = new Set<string>();
  const stop = () => analyser?.stop();
  o.signal.addEventListener('abort', stop, { once: true });
  try {
    while (!o.signal.aborted) {
      const now = Date.now();
      let entries = await listCheckpoints(o.dir).catch(() => [] as Entry[]);
      if (startNames) entries = entries.filter((e) => startNames.has(e.name));
      for (const name of settler.observe(entries, now))
        o.onEvent({ kind: 'skipped', name, reason: 'deleted before it was completely written' });
      const due = settler.due(entries, now);
      if (due.length === 0) {
        if (o.once && settler.pending().length === 0) break;
        await sleep(pollMs, o.signal);
        continue;
      }
      const [e] = orderCheckpoints(due);
      const entry = due.find((x) => x.name === e!.name)!;
      // With --model every checkpoint is a weights file for that architecture.
      const weights = o.model ? entry.path : undefined;
      const file = o.model ?? entry.path;
      if (!analyser) {
        let first: ModelSpec;
        try {
          first = await o.load(file, weights);
        } catch (err) {
          if (err instanceof NonFiniteWeightsError) await diverged(entry, err.weight);
          else await incomplete(entry, err);
          continue;
        }
        analyser = new Analyser(await o.fitData(first), o.analyzeOptions);
      }
      const n = rewritten.get(entry.name) ?? 0;
      const label = n > 0 ? `${entry.name} (rewritten ${n})` : entry.name;
      o.onEvent({ kind: 'analysing', name: label });
      let r;
      try {
        r = await analyser.analyse(file, label, weights);
      } catch (err) {
        if (o.signal.aborted) break;
        throw err;
      }
      if (!r.ok) {
        if (r.nonFinite) await diverged(entry, r.nonFinite, label);
        else if (r.phase === 'load' && transient(r.stage)) await incomplete(entry, r);
        else {
          settler.failed(entry, r.message);
          o.onEvent({ kind: 'failed', name: entry.name, reason: r.message });
        }
        continue;
      }
      builder ??= new TimelineBuilder({ order: orderBy([{ name: entry.name }]) === 'name' ? 'name' : 'mtime' });
      const id = parseCheckpointName(entry.name);
      let point: TimelinePoint;
      try {
        point = builder.add(r.model, r.analysis, { label, ...id, seconds: r.loadSeconds + r.analyseSeconds });
      } catch (err) {
        settler.failed(entry, (err as Error).message);
        o.onEvent({ kind: 'failed', name: entry.name, reason: (err as Error).message });
        continue;
      }
      settler.done(entry);
      rewritten.set(entry.name, n + 1);
      waitingSaid.delete(entry.name);
      latest = r.analysis;
      analysed++;
      const timeline = builder.timeline();
      const set: AnalysisSet = {
        schema: ANALYSIS_SET_SCHEMA,
        title: timelineTitle(timeline),
        runs: [latest],
        timeline,
      };
      await o.onUpdate({
        set,
        point,
        analysis: latest,
        name: label,
        loadSeconds: r.loadSeconds,
        analyseSeconds: r.analyseSeconds,
      });
    }
  } finally {
    o.signal.removeEventListener('abort', stop);
    await analyser?.stop();
  }
  return { analysed, timeline: builder };

  /** NaN/Inf weights: a diverged point in the timeline (reported, not analysed), and the snapshot updated. */
  async function diverged(entry: Entry, bad: { key: string; count: number }, label = entry.name): Promise<void> {
    builder ??= new TimelineBuilder({ order: orderBy([{ name: entry.name }]) === 'name' ? 'name' : 'mtime' });
    const point = builder.addDiverged(
      { label, ...parseCheckpointName(entry.name) },
      { count: bad.count, tensors: [bad.key] },
    );
    settler.done(entry);
    rewritten.set(entry.name, (rewritten.get(entry.name) ?? 0) + 1);
    o.onEvent({ kind: 'diverged', name: label, point });
    if (!latest) return;
    const timeline = builder.timeline();
    await o.onUpdate({
      set: { schema: ANALYSIS_SET_SCHEMA, title: timelineTitle(timeline), runs: [latest], timeline },
      point,
      analysis: latest,
      name: label,
      loadSeconds: 0,
      analyseSeconds: 0,
    });
  }

  async function incomplete(entry: Entry, err: unknown): Promise<void> {
    const message = String((err as { message?: string })?.message ?? err);
    const exists = await stat(entry.path).then(
      () => true,
      () => false,
    );
    if (!exists) {
      settler.forget(entry.name);
      o.onEvent({ kind: 'skipped', name: entry.name, reason: 'deleted before it was completely written' });
      return;
    }
    const st = settler.incomplete(entry, message, Date.now());
    if (o.once && st.status === 'incomplete' && st.tries >= 3) {
      settler.failed(entry, message);
      o.onEvent({ kind: 'failed', name: entry.name, reason: `it does not load (${message})` });
      return;
    }
    if (!waitingSaid.has(entry.name)) {
      waitingSaid.add(entry.name);
      o.onEvent({ kind: 'waiting', name: entry.name, reason: message, bytes: entry.bytes });
    }
  }
}
