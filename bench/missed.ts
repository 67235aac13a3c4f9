// Why a missed target of issue 15 is missed, and the next step: written under the targets table (latest.md and
// README) for each target that fails. The measured profile is in the target's own row; the reasons come from the
// profiles and experiments recorded in docs/performance.md ('Not done yet').

import type { Target } from './report.js';

/** By the target id's ending: analyze end to end, and the browser. */
const WHY: [suffix: string, text: string][] = [
  [
    'analyze-cli',
    "the gradients are no longer the whole cost: in the --profile phases of the row, the batches ('gradients') are a third to a half of the end-to-end time, the analysis's own finish ('jacobian': the per-step contribution products and the Jacobian probes) a fifth to a quarter, loading, start-up and writing the rest. Next step: split the finish by steps across both threads (its factors in shared memory, not cloned to the worker), write the taps' rows from wasm straight into the tap arrays, and run the Jacobian probes' jvp/vjp in the fused wasm cells (docs/performance.md, 'Not done yet').",
  ],
  [
    'browser',
    "one thread each, and the split gradient without taps, are within 1.2×; only the split with all taps is not, so the difference lies in recording the taps from two threads into shared memory; it has not been profiled in Chromium yet. Next step: profile that mode in Chromium, and write the taps' rows with one wasm routine (the step planned for analyze too).",
  ],
];

/** Markdown lines for the failing targets with a known reason, or [] when none. */
export function missedNotes(targets: Target[]): string[] {
  const lines = targets
    .filter((t) => t.pass === false)
    .map((t) => {
      const why = WHY.find(([suffix]) => t.id.endsWith(suffix));
      return why ? `- **${t.text}**: missed; ${why[1]}` : null;
    })
    .filter((l): l is string => l !== null);
  return lines.length > 0 ? ['Missed targets, why, and the next step:', '', ...lines] : [];
}
