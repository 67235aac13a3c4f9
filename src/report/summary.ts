// The plain-text diagnosis summary the CLI prints (and tests pin as a golden).
// No colour codes here: the CLI passes a style that adds them on a terminal.

import { runLabel } from './charts/common.js';
import { timelineSummaryLines } from './timeline-summary.js';
import { runsOf, type Analysis, type AnalysisSet, type Finding, type Num, type Severity } from '../analysis/schema.js';

export interface SummaryStyle {
  severity(s: Severity, text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

const PLAIN: SummaryStyle = { severity: (_s, t) => t, bold: (t) => t, dim: (t) => t };

const ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Number in 3 significant digits, exponent form outside [1e-3, 1e4); "n/a" when not finite. */
export function fmt(x: Num | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e4) return String(Number(x.toPrecision(3)));
  return x.toExponential(2).replace('e+', 'e');
}

/** Evidence of an older file without evidenceText: its named numbers, rounded. */
function evidence(e: Finding['evidence']): string {
  return Object.entries(e)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : v}`)
    .join(', ');
}

function name(layer: string, direction: string | null): string {
  return direction ? `${layer} (${direction})` : layer;
}

function where(f: Finding): string {
  return f.layer === null ? 'model' : name(f.layer, f.direction);
}

/** Findings per layer (and direction), layers in model order and the whole model last; severity order within. */
function groups(a: Analysis, sorted: Finding[]): Finding[][] {
  const keyOf = (f: Finding) => (f.layer === null ? '' : `${f.layer}\u0000${f.direction ?? ''}`);
  const rank = (f: Finding) => {
    if (f.layer === null) return 1e9;
    const i = a.recurrent.findIndex(
      (r) => r.layer === f.layer && (f.direction === null || r.direction === f.direction),
    );
    return i < 0 ? 1e8 : i;
  };
  const out = new Map<string, Finding[]>();
  for (const f of [...sorted].sort((p, q) => rank(p) - rank(q))) {
    const k = keyOf(f);
    out.set(k, [...(out.get(k) ?? []), f]);
  }
  return [...out.values()];
}

function runSummary(a: Analysis, st: SummaryStyle, header: boolean): string[] {
  const out: string[] = [];
  const m = a.model;
  if (header) out.push(st.bold(runLabel(a)));
  out.push(
    `Model ${m.name} (${m.format}, Keras ${m.kerasVersion}): ${m.layers.length} layers, ${m.totalParams.toLocaleString('en-US')} parameters.`,
  );
  const ob = a.objective;
  out.push(
    `Objective: ${ob.description} L = ${fmt(ob.value)} over ${ob.samples} samples in ${ob.batches} batch${ob.batches === 1 ? '' : 'es'} of ${ob.batchSize}.`,
  );
  for (const w of [...m.warnings, ...ob.warnings])
    out.push(st.severity('warning', `  note: ${w.message}${w.count > 1 ? ` (×${w.count})` : ''}`));
  if (a.recurrent.length > 0) {
    out.push('Recurrent layers:');
    const rows = a.recurrent.map((r) => {
      const peak = Math.max(0, ...r.dh.norm.filter((v): v is number => v !== null && Number.isFinite(v)));
      const h = r.horizon.steps === null ? 'n/a' : `${r.horizon.steps}/${r.steps} steps`;
      return [
        r.direction ? `${r.layer}/${r.direction}` : r.layer,
        r.kind,
        r.stateShape ? `state ${r.stateShape.join('×')}` : `${r.units} units`,
        `horizon ${h}`,
        `peak ‖∂L/∂h‖ ${fmt(peak)}`,
      ];
    });
    const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
    for (const row of rows)
      out.push(`  ${row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}`);
  }
  // Did the model learn: L against predicting the mean or the class prior (old files have no baseline).
  if (ob.baseline) out.push(`Baseline: ${ob.baseline.sentence}`);
  const memory = a.recurrent.filter((r) => r.memory);
  if (memory.length > 0) {
    out.push('Why:');
    for (const r of memory) out.push(`  ${name(r.layer, r.direction)}: ${r.memory!.sentence}`);
  }
  const findings = [...a.findings].sort((p, q) => ORDER[p.severity] - ORDER[q.severity]);
  if (findings.length === 0) {
    out.push('Findings: none; gradient flow looks healthy by every check.');
    return out;
  }
  const counts = (['error', 'warning', 'info'] as const)
    .map((s) => [s, findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0);
  out.push(`Findings (${counts.map(([s, n]) => `${n} ${s}${n === 1 ? '' : s === 'info' ? '' : 's'}`).join(', ')}):`);
  // Grouped per layer as on the page; each distinct remedy (by remedyId) once per layer, after its first finding.
  for (const g of groups(a, findings)) {
    const said = new Set<string>();
    for (const f of g) {
      out.push(
        `  ${st.severity(f.severity, f.severity.toUpperCase().padEnd(7))} ${st.bold(`[${f.code}]`)} ${where(f)}: ${f.message}`,
      );
      const ev = f.evidenceText ?? evidence(f.evidence);
      if (ev) out.push(st.dim(`          evidence: ${ev}`));
      if (f.remedy && !said.has(f.remedyId ?? f.remedy)) out.push(`          remedy: ${f.remedy}`);
      said.add(f.remedyId ?? f.remedy ?? '');
    }
  }
  return out;
}

/** Plain-text diagnosis summary of one analysis or a set (one block per run). */
export function summaryText(input: Analysis | AnalysisSet, style: Partial<SummaryStyle> = {}): string {
  const st = { ...PLAIN, ...style };
  const runs = runsOf(input);
  const blocks: string[][] = [];
  // A training timeline: what changed over training, then the latest checkpoint in detail.
  const timeline = 'runs' in input ? timelineSummaryLines(input, st) : [];
  if (timeline.length > 0)
    return `${[timeline, runSummary(runs[runs.length - 1]!, st, true)].map((b) => b.join('\n')).join('\n\n')}\n`;
  if (runs.length > 1)
    blocks.push([st.bold('title' in input ? input.title : 'Comparison'), `${runs.length} runs compared.`]);
  for (const a of runs) blocks.push(runSummary(a, st, runs.length > 1));
  return `${blocks.map((b) => b.join('\n')).join('\n\n')}\n`;
}
