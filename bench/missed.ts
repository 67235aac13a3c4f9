// Why a missed target of issue 15 is missed, and the next step: written under the targets table (latest.md and
// README) for each target that fails. The measured profile is in the target's own row; the reasons come from the
// profiles and experiments recorded in docs/performance.md ('Not done yet').

import type { Target } from './report.js';

/** By the target id's ending: analyze end to end, and the browser. */
const WHY: [suffix: string, text: string][] = [
  [
    'analyze-cli',
    "the analysis does more than the peer: besides the gradients with taps it takes per-step contribution norms (per gate, of kernel, recurrent kernel and bias), products over all 256 samples at every step (W: about 12 GFLOP on top of the 35 GFLOP of the 8 gradients), and Jacobian probes. Measured in one thread, in process, on W: batches 2.2 s, finish 1.05 s (contribution norms 0.67 s, Jacobian probes 0.28 s). The fixed costs of a process are start-up (row: 'before start-up'), loading (module loading about 0.13 s, the HDF5 library's start 0.1 s, reading the .keras 0.1 s) and exit (0.05–0.1 s). Next step: split the finish by steps across both threads (today by layer, so a thread waits when the layers differ in size; the factors would live in shared memory), take the norms in wasm, and ship the command as one bundled module (module resolution and compilation) (docs/performance.md, 'Not done yet').",
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
