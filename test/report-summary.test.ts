import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Analysis, AnalysisSet } from '../src/analysis/schema.js';
import { fmt, summaryText } from '../src/report/summary.js';

const example = (): Analysis =>
  JSON.parse(readFileSync(new URL('./fixtures/analysis/example.json', import.meta.url), 'utf8'));
const exampleSet = (): AnalysisSet =>
  JSON.parse(readFileSync(new URL('./fixtures/analysis/example-set.json', import.meta.url), 'utf8'));

describe('summaryText', () => {
  it('golden: one analysis', async () => {
    await expect(summaryText(example())).toMatchFileSnapshot('./__snapshots__/report-summary/example.txt');
  });

  it('golden: a set, one block per run', async () => {
    await expect(summaryText(exampleSet())).toMatchFileSnapshot('./__snapshots__/report-summary/example-set.txt');
  });

  it('orders findings by severity and shows evidence and remedy', () => {
    const a = example();
    a.findings.reverse();
    const lines = summaryText(a).split('\n');
    const sev = lines.filter((l) => /^ {2}(ERROR|WARNING|INFO) /.test(l)).map((l) => l.trim().split(' ')[0]);
    expect(sev).toEqual(['WARNING', 'WARNING', 'INFO', 'INFO', 'INFO']);
    expect(summaryText(a)).toContain('evidence: horizon=19, steps=60, ratio=0.01, jacobianMedian=0.6');
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
