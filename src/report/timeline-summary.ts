// The plain-text summary of a timeline for the terminal: the horizon of each layer at the first
// and last checkpoint, then the findings over time; the latest checkpoint's own summary follows
// (summary.ts).

import type { AnalysisSet, Severity } from '../analysis/schema.js';
import { describeCheckpoint } from '../analysis/checkpoint-names.js';
import type { SummaryStyle } from './summary.js';

export function timelineSummaryLines(set: AnalysisSet, st: SummaryStyle): string[] {
  const t = set.timeline;
  if (!t || t.points.length === 0) return [];
  const out = [st.bold(set.title)];
  const ok = t.points.filter((p) => p.nonFiniteWeights === 0);
  if (ok.length > 0) {
    const a = ok[0]!,
      b = ok[ok.length - 1]!;
    out.push(
      `Horizon (steps within 1/100 of the peak of ‖∂L/∂h_t‖), ${describeCheckpoint(a)}${ok.length > 1 ? ` → ${describeCheckpoint(b)}` : ''}:`,
    );
    t.layers.forEach((l, i) => {
      const h = (p: typeof a) => p.layers[i]?.horizon.steps ?? 'n/a';
      out.push(
        `  ${l.direction ? `${l.layer}/${l.direction}` : l.layer}  ${ok.length > 1 ? `${h(a)} → ${h(b)}` : h(b)} of ${l.steps} steps`,
      );
    });
  }
  if (t.findings.length === 0) out.push('Over training: nothing flagged.');
  else {
    out.push('Over training:');
    for (const f of t.findings)
      out.push(`  ${st.severity(f.severity as Severity, f.severity.toUpperCase().padEnd(7))} ${f.message}`);
  }
  return out;
}
