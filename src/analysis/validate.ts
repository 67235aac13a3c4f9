// Runtime validation of an analysis JSON (what `rnnscope report` reads back): the schema tag and the
// structure a report needs; the first bad field is named in a DataError.

import { DataError } from '../model/errors.js';
import { ANALYSIS_SCHEMA, ANALYSIS_SET_SCHEMA, type Analysis, type AnalysisSet } from './schema.js';


type Obj = Record<string, unknown>;

function fail(where: string, found: string, expected: string): never {
  throw new DataError(`Analysis JSON field '${where}' is ${found}; expected ${expected}, so regenerate the file with 'rnnscope analyze --json'.`);
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `a ${typeof v}`;
}

function obj(v: unknown, where: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, describe(v), 'an object');
  return v as Obj;
}

function arr(v: unknown, where: string, len?: number): unknown[] {
  if (!Array.isArray(v)) fail(where, describe(v), len === undefined ? 'an array' : `an array of length ${len}`);
  if (len !== undefined && v.length !== len) fail(where, describe(v), `an array of length ${len}`);
  return v;
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') fail(where, describe(v), 'a string');
  return v;
}

function int(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(where, describe(v), 'a non-negative integer');
  return v;
}

function nums(v: unknown, where: string, len: number): void {
  const a = arr(v, where, len);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== null && typeof a[i] !== 'number') fail(`${where}[${i}]`, describe(a[i]), 'a number or null');
  }
}

function series(v: unknown, where: string, steps: number): void {
  const s = obj(v, where);
  for (const k of ['norm', 'p10', 'p50', 'p90']) nums(s[k], `${where}.${k}`, steps);
}

function checkVersion(found: unknown, expected: string): void {
  if (found === expected) return;
  if (typeof found !== 'string') {
    const what = found === undefined ? "has no 'schema' field" : `has 'schema' ${describe(found)}`;
    throw new DataError(`The file ${what}; expected "${expected}", so pass a file written by 'rnnscope analyze --json'.`);
  }
  const [name, ver] = found.split('/');
  const [ename, ever] = expected.split('/');
  if (name === ename && Number(ver) > Number(ever)) {
    throw new DataError(`The file has schema "${found}", newer than "${expected}" which this rnnscope reads; upgrade rnnscope to draw it.`);
  }
  throw new DataError(`The file has schema "${found}"; expected "${expected}", so pass a file written by 'rnnscope analyze --json'.`);
}

function checkRecurrent(v: unknown, where: string): void {
  const r = obj(v, where);
  str(r.id, `${where}.id`);
  str(r.layer, `${where}.layer`);
  const steps = int(r.steps, `${where}.steps`);
  int(r.units, `${where}.units`);
  if (r.kind !== 'SimpleRNN' && r.kind !== 'LSTM' && r.kind !== 'GRU') fail(`${where}.kind`, describe(r.kind), 'SimpleRNN, LSTM or GRU');
  arr(r.gates, `${where}.gates`);
  series(r.dh, `${where}.dh`, steps);
  if (r.dc !== null) series(r.dc, `${where}.dc`, steps);
  series(r.dx, `${where}.dx`, steps);
  arr(r.contributions, `${where}.contributions`).forEach((c, i) => nums(obj(c, `${where}.contributions[${i}]`).norm, `${where}.contributions[${i}].norm`, steps));
  if (r.jacobian !== null) {
    const j = obj(r.jacobian, `${where}.jacobian`);
    for (const k of ['median', 'max', 'log10ProductMedian', 'log10ProductMax']) nums(j[k], `${where}.jacobian.${k}`, steps);
  }
  arr(r.gateStats, `${where}.gateStats`).forEach((g, i) => {
    const o = obj(g, `${where}.gateStats[${i}]`);
    nums(o.mean, `${where}.gateStats[${i}].mean`, steps);
    nums(o.saturated, `${where}.gateStats[${i}].saturated`, steps);
  });
  obj(r.deadUnits, `${where}.deadUnits`);
  arr(obj(r.heatmap, `${where}.heatmap`).values, `${where}.heatmap.values`);
  if (r.connectivity !== null) arr(obj(r.connectivity, `${where}.connectivity`).values, `${where}.connectivity.values`);
  obj(r.horizon, `${where}.horizon`);
  arr(r.density, `${where}.density`).forEach((d, i) => {
    const o = obj(d, `${where}.density[${i}]`);
    const nx = arr(o.xEdges, `${where}.density[${i}].xEdges`).length - 1;
    const ny = arr(o.yEdges, `${where}.density[${i}].yEdges`).length - 1;
    arr(o.counts, `${where}.density[${i}].counts`, ny).forEach((row, j) => arr(row, `${where}.density[${i}].counts[${j}]`, nx));
  });
}

/** Checks the schema tag and the structure a report needs; throws DataError naming the first bad field. */
export function validateAnalysis(json: unknown, where = '$'): Analysis {
  const a = obj(json, where);
  checkVersion(a.schema, ANALYSIS_SCHEMA);
  const run = obj(a.run, `${where}.run`);
  str(run.label, `${where}.run.label`);
  const model = obj(a.model, `${where}.model`);
  str(model.name, `${where}.model.name`);
  arr(model.layers, `${where}.model.layers`);
  const objective = obj(a.objective, `${where}.objective`);
  str(objective.loss, `${where}.objective.loss`);
  int(objective.samples, `${where}.objective.samples`);
  obj(a.thresholds, `${where}.thresholds`);
  arr(a.recurrent, `${where}.recurrent`).forEach((r, i) => checkRecurrent(r, `${where}.recurrent[${i}]`));
  arr(a.params, `${where}.params`).forEach((p, i) => {
    const o = obj(p, `${where}.params[${i}]`);
    str(o.key, `${where}.params[${i}].key`);
    const h = obj(o.histogram, `${where}.params[${i}].histogram`);
    arr(h.counts, `${where}.params[${i}].histogram.counts`, arr(h.edges, `${where}.params[${i}].histogram.edges`).length - 1);
  });
  const b = obj(a.batches, `${where}.batches`);
  arr(b.norms, `${where}.batches.norms`);
  arr(b.clipping, `${where}.batches.clipping`);
  arr(a.findings, `${where}.findings`).forEach((f, i) => {
    const o = obj(f, `${where}.findings[${i}]`);
    str(o.code, `${where}.findings[${i}].code`);
    if (o.severity !== 'info' && o.severity !== 'warning' && o.severity !== 'error') fail(`${where}.findings[${i}].severity`, describe(o.severity), "'info', 'warning' or 'error'");
    str(o.message, `${where}.findings[${i}].message`);
  });
  return json as Analysis;
}

/** Accepts either one analysis or an analysis set (what `rnnscope report` reads). */
export function validateReportInput(json: unknown): Analysis | AnalysisSet {
  const o = obj(json, '$');
  if (o.schema === ANALYSIS_SET_SCHEMA || (typeof o.schema === 'string' && o.schema.startsWith('rnnscope.analysis-set/'))) {
    checkVersion(o.schema, ANALYSIS_SET_SCHEMA);
    const runs = arr(o.runs, '$.runs');
    if (runs.length === 0) fail('$.runs', 'an empty array', 'at least one analysis');
    runs.forEach((r, i) => validateAnalysis(r, `$.runs[${i}]`));
    return json as AnalysisSet;
  }
  return validateAnalysis(json);
}
