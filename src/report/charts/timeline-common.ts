// Shared by the timeline charts (timeline-*.ts): the timeline of an input, the checkpoint axis,
// and the layer selection. The page's `sel` signal is "<run>|<recurrent id>"; timeline rows carry
// the recurrent id, so they follow the same layer selector whatever run is selected.

import type { AnalysisSet } from '../../analysis/schema.js';
import type { Timeline, TimelinePoint } from '../../analysis/timeline.js';
import { describeCheckpoint } from '../../analysis/checkpoint-names.js';
import type { Input, Resolved } from './common.js';

export function timelineOf(input: Input): Timeline | null {
  return (input as AnalysisSet).timeline ?? null;
}

/** True when the input carries a timeline of at least one checkpoint. */
export function hasTimeline(input: Input | undefined): boolean {
  return !!input && (timelineOf(input)?.points.length ?? 0) > 0;
}

/** Epoch numbers on the axis when every point has a distinct epoch and no batch; else the position in the series. */
export function checkpointAxis(t: Timeline): { x: (p: TimelinePoint) => number; title: string } {
  const eps = t.points.map((p) => p.epoch);
  const byEpoch =
    t.points.length > 0 &&
    t.points.every((p) => p.epoch !== null && p.batch === null) &&
    new Set(eps).size === eps.length;
  return byEpoch ? { x: (p) => p.epoch!, title: 'epoch' } : { x: (p) => p.index + 1, title: 'checkpoint (in order)' };
}

/** Fields every per-checkpoint row carries: x position, name and "epoch N". */
export function pointFields(
  t: Timeline,
  p: TimelinePoint,
): { x: number; ckpt: string; when: string; diverged: boolean } {
  return { x: checkpointAxis(t).x(p), ckpt: p.label, when: describeCheckpoint(p), diverged: p.nonFiniteWeights > 0 };
}

/** Vega expression: the recurrent id part of `sel`. */
export const SEL_ID = "slice(sel, indexof(sel, '|') + 1)";
export const BY_TIMELINE_LAYER = { filter: `datum.id === ${SEL_ID}` };

/** The selected layer's id for static rendering (no page to set the signal). */
export function selectedId(o: Resolved): string {
  return o.sel.slice(o.sel.indexOf('|') + 1);
}

/** Human label of each timeline layer by id, for subtitles. */
export function layerLabels(t: Timeline): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of t.layers)
    out[l.id] =
      `${l.direction ? `${l.layer} · ${l.direction}` : l.layer} (${l.kind}, ${l.units} units, ${l.steps} steps)`;
  return out;
}

/** The interval between consecutive checkpoints, in words ("1 epoch", "1–5 epochs", "varies"). */
export function intervalText(t: Timeline): string {
  const gaps: number[] = [];
  let unit = 'epoch';
  for (const p of t.points) {
    if (p.updates.from === null) continue;
    const q = t.points[p.updates.from]!;
    if (p.epoch !== null && q.epoch !== null && p.batch === null && q.batch === null) gaps.push(p.epoch - q.epoch);
    else if (p.batch !== null && q.batch !== null && p.epoch === q.epoch) {
      gaps.push(p.batch - q.batch);
      unit = 'batch';
    } else return 'between consecutive checkpoints (intervals vary; see the tooltip)';
  }
  if (gaps.length === 0) return 'between consecutive checkpoints';
  const lo = Math.min(...gaps),
    hi = Math.max(...gaps);
  const plural = (n: number) => `${n} ${unit}${n === 1 ? '' : unit === 'batch' ? 'es' : 's'}`;
  return `between consecutive checkpoints, ${lo === hi ? plural(lo) : `${lo}–${plural(hi)}`} apart`;
}

/** Gate names in order of first appearance over the layers (LSTM i, f, c, o; GRU z, r, h), for one colour per gate
 * across charts. */
export function gateDomain(t: Timeline | null): string[] {
  return [...new Set((t?.layers ?? []).flatMap((l) => l.gates))];
}
