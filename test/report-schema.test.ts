import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ANALYSIS_SCHEMA,
  ANALYSIS_SET_SCHEMA,
  CHART_IDS,
  LOG10_GRAD_EDGES,
  isAnalysisSet,
  runsOf,
  type Analysis,
  type AnalysisSet,
} from '../src/analysis/schema.js';
import { validateAnalysis, validateReportInput } from '../src/analysis/validate.js';
import { DataError } from '../src/model/errors.js';

const example = (): Analysis =>
  JSON.parse(readFileSync(new URL('./fixtures/analysis/example.json', import.meta.url), 'utf8'));
const exampleSet = (): AnalysisSet =>
  JSON.parse(readFileSync(new URL('./fixtures/analysis/example-set.json', import.meta.url), 'utf8'));

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return (e as Error).message;
  }
  throw new Error('expected a DataError');
}

describe('analysis schema', () => {
  it('the fixtures conform and say they are hand-made', () => {
    const a = validateAnalysis(example());
    expect(a.schema).toBe(ANALYSIS_SCHEMA);
    expect(a.note).toMatch(/hand-made/i);
    const s = validateReportInput(exampleSet());
    expect(isAnalysisSet(s)).toBe(true);
    expect(runsOf(s)).toHaveLength(6);
    expect(runsOf(a)).toEqual([a]);
  });

  it('fixture per-step arrays are consistent with steps, gates and the fixed histogram edges', () => {
    for (const a of [example(), ...exampleSet().runs]) {
      for (const r of a.recurrent) {
        expect(r.contributions).toHaveLength(r.gates.length * 3);
        expect(r.gateStats.map((g) => g.gate)).toEqual(r.gates);
        expect(r.dc === null).toBe(r.kind !== 'LSTM');
        expect(r.heatmap.values).toHaveLength(Math.ceil(r.steps / r.heatmap.stepBin));
      }
      for (const p of a.params) expect(p.histogram.edges).toEqual(LOG10_GRAD_EDGES);
      for (const f of a.findings)
        expect(f.chart === null || (CHART_IDS as readonly string[]).includes(f.chart)).toBe(true);
    }
  });

  it('fixed log10|g| edges run from -16 to 4 in half decades', () => {
    expect(LOG10_GRAD_EDGES).toHaveLength(41);
    expect(LOG10_GRAD_EDGES[0]).toBe(-16);
    expect(LOG10_GRAD_EDGES[40]).toBe(4);
    expect(LOG10_GRAD_EDGES[1] - LOG10_GRAD_EDGES[0]).toBe(0.5);
  });

  it('refuses other files, other versions and newer versions with one clear sentence', () => {
    expect(message(() => validateAnalysis({ hello: 1 }))).toBe(
      "The file has no 'schema' field; expected \"rnnscope.analysis/1\", so pass a file written by 'rnnscope analyze --json'.",
    );
    expect(message(() => validateAnalysis({ ...example(), schema: 'rnnscope.analysis/2' }))).toBe(
      'The file has schema "rnnscope.analysis/2", newer than "rnnscope.analysis/1" which this rnnscope reads; upgrade rnnscope to draw it.',
    );
    expect(message(() => validateAnalysis({ ...example(), schema: 'something/1' }))).toBe(
      'The file has schema "something/1"; expected "rnnscope.analysis/1", so pass a file written by \'rnnscope analyze --json\'.',
    );
    expect(message(() => validateReportInput({ schema: 'rnnscope.analysis-set/3', runs: [] }))).toMatch(
      /newer than "rnnscope.analysis-set\/1"/,
    );
    expect(message(() => validateReportInput([1, 2]))).toBe(
      "Analysis JSON field '$' is an array of length 2; expected an object, so regenerate the file with 'rnnscope analyze --json'.",
    );
  });

  it('names the first bad field, also inside a set', () => {
    const a = example();
    a.recurrent[1].dh.p50 = a.recurrent[1].dh.p50.slice(1);
    expect(message(() => validateAnalysis(a))).toBe(
      "Analysis JSON field '$.recurrent[1].dh.p50' is an array of length 59; expected an array of length 60, so regenerate the file with 'rnnscope analyze --json'.",
    );
    const s = exampleSet();
    (s.runs[2].findings as unknown[]).push({ code: 'x', severity: 'fatal', message: 'm' });
    expect(message(() => validateReportInput(s))).toBe(
      "Analysis JSON field '$.runs[2].findings[0].severity' is the string \"fatal\"; expected 'info', 'warning' or 'error', so regenerate the file with 'rnnscope analyze --json'.",
    );
    expect(message(() => validateReportInput({ schema: ANALYSIS_SET_SCHEMA, title: 't', runs: [] }))).toMatch(
      /'\$\.runs' is an empty array; expected at least one analysis/,
    );
  });

  it('accepts null where a value was not finite (JSON.stringify writes NaN as null)', () => {
    const a = example();
    (a.recurrent[0].dh.norm as number[])[5] = NaN;
    const back = JSON.parse(JSON.stringify(a));
    expect(back.recurrent[0].dh.norm[5]).toBeNull();
    expect(() => validateAnalysis(back)).not.toThrow();
  });
});
