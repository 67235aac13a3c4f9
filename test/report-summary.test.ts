import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../src/analysis/analyze.js';
import type { Analysis, AnalysisSet } from '../src/analysis/schema.js';
import { fmt, summaryText } from '../src/report/summary.js';
import { dense, recurrent, rnnSpec, sequential } from './helpers/models.js';
import { lcg, randArr } from './helpers/rng.js';

const example = (): Analysis =>
  JSON.parse(readFileSync(new URL('./fixtures/analysis/example.json', import.meta.url), 'utf8'));
const exampleSet = (): AnalysisSet =>
  JSON.parse(readFileSync(new URL('./fixtures/analysis/example-set.json', import.meta.url), 'utf8'));

/** example.json as the current analysis writes it: evidence in words, remedy ids, the baseline, the memory. */
function current(): Analysis {
  const a = example();
  a.objective.baseline = {
    kind: 'mean',
    value: 0.0852,
    description: 'Predicting the mean of the targets gives L = 0.0852.',
    learned: 'barely',
    sentence: 'The model barely beats predicting the mean (L 0.0831 vs 0.0852, 2 % lower).',
  };
  a.recurrent[0]!.memory = {
    gate: 'f',
    gateName: 'forget gate',
    mean: 0.97,
    steps: 151,
    bias: 1,
    horizon: 60,
    explains: true,
    sentence: 'The forget gate averages 0.97, so the cell keeps 1 % of its memory after about 151 steps.',
  };
  a.findings.forEach((f, i) => {
    f.evidenceText = `Evidence sentence ${i} in words.`;
    f.remedyId = `remedy-${i}`;
  });
  // The two lstm_1 findings share one remedy: the summary states it once.
  const lstm = a.findings.filter((f) => f.layer === 'lstm_1');
  expect(lstm).toHaveLength(2);
  lstm[1]!.remedy = lstm[0]!.remedy;
  lstm[1]!.remedyId = lstm[0]!.remedyId;
  return a;
}

describe('summaryText', () => {
  it('golden: one analysis', async () => {
    await expect(summaryText(example())).toMatchFileSnapshot('./__snapshots__/report-summary/example.txt');
  });

  it('golden: a set, one block per run', async () => {
    await expect(summaryText(exampleSet())).toMatchFileSnapshot('./__snapshots__/report-summary/example-set.txt');
  });

  it('golden: the current analysis (evidence in words, baseline, memory, remedies once per layer)', async () => {
    await expect(summaryText(current())).toMatchFileSnapshot('./__snapshots__/report-summary/current.txt');
  });

  it('groups findings per layer in model order (the whole model last), by severity within a layer', () => {
    const a = example();
    a.findings.reverse();
    const lines = summaryText(a).split('\n');
    const rows = lines
      .filter((l) => /^ {2}(ERROR|WARNING|INFO) /.test(l))
      .map((l) => l.trim().split(/\s+/).slice(0, 3));
    expect(rows.map((r) => `${r[0]} ${r[2]}`)).toEqual([
      'WARNING lstm_1:',
      'INFO lstm_1:',
      'WARNING bidirectional_1',
      'INFO model:',
      'INFO model:',
    ]);
    // An older file without evidenceText: its named numbers, rounded.
    expect(summaryText(a)).toContain('evidence: horizon=19, steps=60, ratio=0.01, jacobianMedian=0.6');
  });

  it("prints each finding's evidenceText, the baseline sentence, the memory per layer, and each remedy once", () => {
    const a = current();
    const text = summaryText(a);
    for (const f of a.findings) expect(text).toContain(`evidence: ${f.evidenceText}`);
    expect(text).not.toMatch(/evidence: \w+=/);
    expect(text).toContain(`Baseline: ${a.objective.baseline!.sentence}`);
    expect(text).toContain(`  lstm_1: ${a.recurrent[0]!.memory!.sentence}`);
    const shared = a.findings.find((f) => f.layer === 'lstm_1')!.remedy!;
    expect(text.split(`remedy: ${shared}`)).toHaveLength(2);
    expect(text.match(/remedy: /g)).toHaveLength(a.findings.length - 1);
  });

  it('a real analysis (LSTM with a closed forget gate): no internal names, every remedy id once per layer', () => {
    const T = 30;
    const spec = rnnSpec('LSTM', 2, 4);
    const model = sequential(T, 2, [recurrent('rnn', spec), dense('d', 1)], 5, 0.6);
    // Forget bias −4: the gate closes, the memory is short.
    const b = model.weights.get('rnn/bias')!.data as Float64Array;
    for (let u = 4; u < 8; u++) b[u] = -4;
    const x = { shape: [16, T, 2], data: randArr(lcg(1), 16 * T * 2) };
    const y = { shape: [16, 1], data: randArr(lcg(2), 16) };
    const a = analyzeModel(model, { inputs: [x], targets: [y] }, { loss: 'mse', dtype: 'float64' }).analysis;
    expect(a.findings.length).toBeGreaterThan(1);
    const text = summaryText(a);
    for (const f of a.findings) {
      expect(f.evidenceText).toBeTruthy();
      expect(text).toContain(`evidence: ${f.evidenceText}`);
    }
    expect(text).not.toMatch(/\w+=[-\d]/);
    expect(text).toContain(`Baseline: ${a.objective.baseline!.sentence}`);
    expect(text).toContain(`rnn: ${a.recurrent[0]!.memory!.sentence}`);
    const ids = new Map(a.findings.filter((f) => f.remedy).map((f) => [f.remedyId, f.remedy!]));
    for (const r of ids.values()) expect(text.split(`remedy: ${r}`)).toHaveLength(2);
  });

  it('says so when there is nothing to report, and copes with non-finite numbers', () => {
    const a = example();
    a.findings = [];
    a.objective.value = null;
    const text = summaryText(a);
    expect(text).toContain('Findings: none');
    expect(text).toContain('L = n/a');
  });

  it('applies a style (the CLI colours severities on a terminal)', () => {
    const text = summaryText(example(), { severity: (s, t) => `<${s}>${t}</${s}>` });
    expect(text).toContain('<warning>WARNING</warning>');
    expect(text).toContain('<info>INFO   </info>');
  });

  it('fmt: 3 significant digits, exponent outside [1e-3, 1e4)', () => {
    expect([fmt(0.012345), fmt(12345), fmt(0), fmt(null), fmt(Infinity), fmt(-2.5e-7)]).toEqual([
      '0.0123',
      '1.23e4',
      '0',
      'n/a',
      'n/a',
      '-2.50e-7',
    ]);
  });
});
