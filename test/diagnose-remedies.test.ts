// Findings in words with remedies specific to the cell and the numbers (diagnose.ts, remedies.ts),
// on the demo's cells as initialised (built with the library) and on hand-made batch norms:
//   - an LSTM's forget gate that explains its short horizon is a finding even above the old 0.2 cut,
//     and its remedy's bias b satisfies σ(b)^T = 1 % (checked here from the printed value);
//   - GRU and SimpleRNN never get LSTM (forget-gate) advice;
//   - every finding has evidenceText and a remedyId, identical remedies share their id, and the
//     user-facing text names no internal field (camelCase identifiers);
//   - clipnorm percentiles and a suggested value only from at least 10 batches.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../src/analysis/analyze.js';
import { batchStats } from '../src/analysis/batches.js';
import { addingProblem, buildDemoModel } from '../src/analysis/demo.js';
import { DEFAULT_THRESHOLDS } from '../src/analysis/diagnose.js';
import type { Analysis } from '../src/analysis/schema.js';
import { makeRng } from '../src/engine/rng.js';

const T = 100;

function demo(kind: 'SimpleRNN' | 'LSTM' | 'GRU', seed = 3): Analysis {
  const m = buildDemoModel(kind, T, 32, makeRng(seed));
  const { x, y } = addingProblem(makeRng(4), 32, T);
  return analyzeModel(m, { inputs: [x], targets: [y] }, { samples: false }).analysis;
}

const texts = (a: Analysis): string[] => a.findings.flatMap((f) => [f.message, f.remedy, f.evidenceText ?? '']);

describe('remedies specific to the cell', () => {
  const lstm = demo('LSTM');
  const gru = demo('GRU');
  const srnn = demo('SimpleRNN', 7);

  it('LSTM: the forget gate that explains a short horizon is a finding; the bias keeps 1 % over T steps', () => {
    const ra = lstm.recurrent[0]!;
    const m = ra.memory!;
    expect(m.mean!).toBeGreaterThan(0.2);
    expect(ra.horizon.steps!).toBeLessThan(T / 2);
    expect(m.explains).toBe(true);
    const f = lstm.findings.find((x) => x.code === 'short-memory')!;
    expect(f.layer).toBe(ra.layer);
    const b = Number(/about (-?[0-9.]+)/.exec(f.remedy)![1]);
    const sig = 1 / (1 + Math.exp(-b));
    // Printed to 2 decimals: σ(b)^T within the rounding of b of 0.01.
    expect(Math.abs(T * Math.log(sig) - Math.log(0.01))).toBeLessThan(T * 0.005 * (1 - sig) + 1e-9);
    expect(f.remedy).toContain(`ln U(1, ${T - 1})`);
    expect(f.remedy).toContain('forget gate');
  });

  it('GRU: update-gate advice, never the forget gate', () => {
    expect(gru.findings.map((f) => f.code)).toContain('vanishing');
    for (const s of texts(gru)) {
      expect(s).not.toMatch(/forget[ -](gate|bias)|unit_forget_bias/i);
    }
    expect(gru.findings.some((f) => f.remedy.includes('update gate'))).toBe(true);
  });

  it('SimpleRNN: no gate advice at all', () => {
    expect(srnn.findings.map((f) => f.code)).toContain('vanishing');
    for (const s of texts(srnn)) expect(s).not.toMatch(/forget|update gate|chrono/i);
  });

  it('every finding: evidence in words, a remedyId shared by identical remedies, no internal names', () => {
    const all = [lstm, gru, srnn].flatMap((a) => a.findings);
    expect(all.length).toBeGreaterThan(3);
    const idOf = new Map<string, string>();
    for (const f of all) {
      expect(f.evidenceText && f.evidenceText.length > 10).toBe(true);
      expect(f.remedyId).toBeTruthy();
      if (idOf.has(f.remedy)) expect(idOf.get(f.remedy)).toBe(f.remedyId);
      idOf.set(f.remedy, f.remedyId!);
      for (const s of [f.message, f.evidenceText!, f.remedy]) {
        expect(s).not.toMatch(/\b[a-z]+[A-Z][A-Za-z]*\b/);
        expect(s).not.toMatch(/\d\.\d+e[-+]?\d/);
      }
    }
  });
});

describe('clipnorm only from enough batches', () => {
  /** numpy's default (linear) percentile, written out. */
  const q90 = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    const h = (s.length - 1) * 0.9,
      lo = Math.floor(h);
    return s[lo]! + (h - lo) * (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!);
  };
  it(`fewer than ${DEFAULT_THRESHOLDS.clipnormMinBatches} batches: no percentiles, no suggestion`, () => {
    const norms = [0.3, 0.5, 0.4, 2, 0.6, 0.2, 0.9, 0.7, 0.5];
    const b = batchStats(
      norms,
      norms.map(() => 8),
      null,
    );
    expect(b.suggestedClipnorm).toBeNull();
    expect(b.clipping).toEqual([]);
  });
  it(`${DEFAULT_THRESHOLDS.clipnormMinBatches} batches: the 90th percentile`, () => {
    const norms = [0.3, 0.5, 0.4, 2, 0.6, 0.2, 0.9, 0.7, 0.5, 1.1];
    const b = batchStats(
      norms,
      norms.map(() => 8),
      null,
    );
    expect(b.suggestedClipnorm).toBeCloseTo(q90(norms), 12);
    expect(b.clipping.map((c) => c.quantile)).toEqual([0.5, 0.9, 0.99]);
  });
});
