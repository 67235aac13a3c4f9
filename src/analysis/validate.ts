// Runtime validation of an analysis JSON (what `rnnscope report` reads back, possibly from
// someone else): every field the types in schema.ts declare is checked for its JSON type (a
// number is a number, a string a string, an array an array, an enumeration one of its values),
// and per-step arrays for their length; the first bad field is named in a DataError. Unknown
// extra fields are ignored (they reach neither the charts nor the page). Num fields accept null
// (JSON.stringify writes NaN and ±Infinity as null).

import { DataError } from '../model/errors.js';
import { ANALYSIS_SCHEMA, ANALYSIS_SET_SCHEMA, type Analysis, type AnalysisSet } from './schema.js';
import { CELLS } from '../engine/cells/index.js';

type Obj = Record<string, unknown>;
type Check = (v: unknown, where: string) => void;

function fail(where: string, found: string, expected: string): never {
  throw new DataError(
    `Analysis JSON field '${where}' is ${found}; expected ${expected}, so regenerate the file with 'rnnscope analyze --json'.`,
  );
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
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

const str: Check = (v, where) => {
  if (typeof v !== 'string') fail(where, describe(v), 'a string');
};
const bool: Check = (v, where) => {
  if (typeof v !== 'boolean') fail(where, describe(v), 'true or false');
};
const num: Check = (v, where) => {
  if (typeof v !== 'number') fail(where, describe(v), 'a number');
};
/** Num: a number, or null where it was not finite. */
const numOrNull: Check = (v, where) => {
  if (v !== null && typeof v !== 'number') fail(where, describe(v), 'a number or null');
};
const int: Check = (v, where) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(where, describe(v), 'a non-negative integer');
};

function orNull(c: Check): Check {
  return (v, where) => {
    if (v !== null) c(v, where);
  };
}

function oneOf(...values: (string | null)[]): Check {
  const shown = values.map((x) => (x === null ? 'null' : `'${x}'`));
  const expected =
    shown.length === 2 ? shown.join(' or ') : `${shown.slice(0, -1).join(', ')} or ${shown[shown.length - 1]}`;
  return (v, where) => {
    if (!values.includes(v as string | null)) fail(where, describe(v), expected);
  };
}

function arrayOf(c: Check, len?: number): Check {
  return (v, where) => arr(v, where, len).forEach((x, i) => c(x, `${where}[${i}]`));
}

function fields(spec: Record<string, Check>, optional: string[] = []): Check {
  return (v, where) => {
    const o = obj(v, where);
    for (const [k, c] of Object.entries(spec)) {
      if (optional.includes(k) && o[k] === undefined) continue;
      c(o[k], `${where}.${k}`);
    }
  };
}

function recordOf(c: Check): Check {
  return (v, where) => {
    for (const [k, x] of Object.entries(obj(v, where))) c(x, `${where}.${k}`);
  };
}

const nums = (len: number): Check => arrayOf(numOrNull, len);
const dim: Check = orNull(int);
const direction = oneOf('forward', 'backward', null);
const warning = fields({ code: str, message: str, count: int });
const numOrString: Check = (v, where) => {
  if (v !== null && typeof v !== 'number' && typeof v !== 'string') fail(where, describe(v), 'a number or a string');
};

const modelInfo = fields({
  name: str,
  format: str,
  kerasVersion: str,
  backend: orNull(str),
  source: str,
  inputs: arrayOf(fields({ name: str, shape: arrayOf(dim), dtype: str })),
  outputs: arrayOf(fields({ name: str, shape: arrayOf(dim) })),
  layers: arrayOf(
    fields({ name: str, className: str, outputShapes: arrayOf(arrayOf(dim)), params: int, trainableParams: int }),
  ),
  totalParams: int,
  trainableParams: int,
  warnings: arrayOf(warning),
});

const objective = fields(
  {
    loss: str,
    lossSource: oneOf('option', 'model', 'default', 'self'),
    fromLogits: bool,
    targets: oneOf('given', 'self'),
    selfObjective: oneOf('predicted-class-crossentropy', 'half-squared-norm', null),
    description: str,
    data: oneOf('file', 'random'),
    dataSource: orNull(str),
    samples: int,
    batchSize: int,
    batches: int,
    value: numOrNull,
    warnings: arrayOf(warning),
    baseline: orNull(
      fields({
        kind: oneOf('mean', 'class-prior'),
        value: numOrNull,
        description: str,
        learned: oneOf('no', 'barely', 'yes', null),
        sentence: str,
      }),
    ),
  },
  ['baseline'],
);

const histogram: Check = (v, where) => {
  const h = obj(v, where);
  const edges = arr(h.edges, `${where}.edges`);
  arrayOf(num)(edges, `${where}.edges`);
  arrayOf(int, Math.max(0, edges.length - 1))(h.counts, `${where}.counts`);
  for (const k of ['zero', 'underflow', 'overflow', 'nonFinite']) int(h[k], `${where}.${k}`);
};

const TENSOR_STATS: Record<string, Check> = {
  size: int,
  weightNorm: numOrNull,
  gradNorm: numOrNull,
  meanAbsGrad: numOrNull,
  maxAbsGrad: numOrNull,
  ratio: numOrNull,
  nan: int,
  inf: int,
  histogram,
};

const param = fields({
  key: str,
  layer: str,
  direction,
  name: str,
  shape: arrayOf(int),
  trainable: bool,
  ...TENSOR_STATS,
  blocks: orNull(arrayOf(fields({ gate: str, ...TENSOR_STATS }))),
});

const batches = fields({
  norms: arrayOf(numOrNull),
  sizes: arrayOf(int),
  clipping: arrayOf(fields({ threshold: numOrNull, source: str, quantile: numOrNull, fractionClipped: numOrNull })),
  suggestedClipnorm: numOrNull,
});

// Code, severity and message first: they name what a finding is before its details.
const finding = fields(
  {
    code: str,
    severity: oneOf('info', 'warning', 'error'),
    message: str,
    layer: orNull(str),
    direction,
    evidence: recordOf(numOrString),
    remedy: str,
    chart: orNull(str),
    remedyId: str,
    evidenceText: str,
  },
  ['remedyId', 'evidenceText'],
);

const density: Check = (v, where) => {
  const d = obj(v, where);
  str(d.gate, `${where}.gate`);
  str(d.group, `${where}.group`);
  const nx = arr(d.xEdges, `${where}.xEdges`).length - 1;
  const ny = arr(d.yEdges, `${where}.yEdges`).length - 1;
  arrayOf(numOrNull)(d.xEdges, `${where}.xEdges`);
  arrayOf(numOrNull)(d.yEdges, `${where}.yEdges`);
  arrayOf(arrayOf(int, Math.max(0, nx)), Math.max(0, ny))(d.counts, `${where}.counts`);
  int(d.zeroGrad, `${where}.zeroGrad`);
  int(d.n, `${where}.n`);
};

function checkRecurrent(v: unknown, where: string): void {
  const r = obj(v, where);
  str(r.id, `${where}.id`);
  str(r.layer, `${where}.layer`);
  direction(r.direction, `${where}.direction`);
  oneOf(...CELLS.map((c) => c.kind))(r.kind, `${where}.kind`);
  bool(r.goBackwards, `${where}.goBackwards`);
  int(r.steps, `${where}.steps`);
  const steps = r.steps as number;
  int(r.units, `${where}.units`);
  if (r.stateShape !== undefined) arrayOf(int)(r.stateShape, `${where}.stateShape`);
  int(r.inputDim, `${where}.inputDim`);
  arrayOf(str)(r.gates, `${where}.gates`);
  oneOf('all', 'last')(r.lossSteps, `${where}.lossSteps`);
  const series = fields({ norm: nums(steps), p10: nums(steps), p50: nums(steps), p90: nums(steps) });
  series(r.dh, `${where}.dh`);
  orNull(series)(r.dc, `${where}.dc`);
  series(r.dx, `${where}.dx`);
  arrayOf(
    fields({ gate: str, group: oneOf('kernel', 'recurrent_kernel', 'bias'), norm: nums(steps), total: numOrNull }),
  )(r.contributions, `${where}.contributions`);
  orNull(
    fields({
      state: oneOf('h', 'h,c'),
      median: nums(steps),
      max: nums(steps),
      log10ProductMedian: nums(steps),
      log10ProductMax: nums(steps),
      samples: int,
      iterations: int,
    }),
  )(r.jacobian, `${where}.jacobian`);
  arrayOf(fields({ gate: str, activation: str, mean: nums(steps), saturated: nums(steps) }))(
    r.gateStats,
    `${where}.gateStats`,
  );
  fields({ threshold: num, units: arrayOf(int) })(r.deadUnits, `${where}.deadUnits`);
  fields({ stepBin: int, unitBin: int, values: arrayOf(arrayOf(numOrNull)) })(r.heatmap, `${where}.heatmap`);
  orNull(
    fields({ samples: int, outputSteps: arrayOf(int), inputSteps: arrayOf(int), values: arrayOf(arrayOf(numOrNull)) }),
  )(r.connectivity, `${where}.connectivity`);
  fields({ ratio: num, steps: orNull(int), from: orNull(int), to: orNull(int) })(r.horizon, `${where}.horizon`);
  arrayOf(density)(r.density, `${where}.density`);
  // Added later (absent in older files).
  if (r.stepRatio !== undefined)
    fields({ p10: nums(steps), p50: nums(steps), p90: nums(steps) })(r.stepRatio, `${where}.stepRatio`);
  if (r.memory !== undefined)
    orNull(
      fields({
        gate: str,
        gateName: str,
        mean: numOrNull,
        steps: numOrNull,
        bias: numOrNull,
        horizon: orNull(int),
        explains: orNull(bool),
        sentence: str,
      }),
    )(r.memory, `${where}.memory`);
  if (r.attention !== undefined)
    fields({ consumers: arrayOf(str), viaAttention: series, viaRecurrence: series, viaOther: series })(
      r.attention,
      `${where}.attention`,
    );
}

const numRows: Check = arrayOf(arrayOf(numOrNull));
const sampleLayer = fields({
  id: str,
  steps: arrayOf(int),
  h: numRows,
  gates: arrayOf(fields({ gate: str, values: numRows })),
  units: arrayOf(int),
  connectivity: orNull(numRows),
});
const sample = fields({
  role: oneOf('worst', 'median', 'best'),
  index: int,
  loss: numOrNull,
  steps: arrayOf(int),
  x: numRows,
  dx: numRows,
  layers: arrayOf(sampleLayer),
});

function checkVersion(found: unknown, expected: string): void {
  if (found === expected) return;
  if (typeof found !== 'string') {
    const what = found === undefined ? "has no 'schema' field" : `has 'schema' ${describe(found)}`;
    throw new DataError(
      `The file ${what}; expected "${expected}", so pass a file written by 'rnnscope analyze --json'.`,
    );
  }
  const [name, ver] = found.split('/');
  const [ename, ever] = expected.split('/');
  if (name === ename && Number(ver) > Number(ever)) {
    throw new DataError(
      `The file has schema "${found}", newer than "${expected}" which this rnnscope reads; upgrade rnnscope to draw it.`,
    );
  }
  throw new DataError(
    `The file has schema "${found}"; expected "${expected}", so pass a file written by 'rnnscope analyze --json'.`,
  );
}

const analysisBody = fields(
  {
    note: str,
    tool: fields({ name: str, version: str }),
    run: fields({ label: str, group: orNull(str), index: int }),
    model: modelInfo,
    objective,
    thresholds: recordOf(num),
    recurrent: arrayOf(checkRecurrent),
    params: arrayOf(param),
    batches,
    findings: arrayOf(finding),
    samples: arrayOf(sample),
  },
  ['note', 'samples'],
);

// The training timeline of a set (timeline.ts): each point's per-step-bin arrays sized by its layer,
// and `updates.from` naming an earlier point (the charts look it up).
const timelineLayer = fields({
  id: str,
  layer: str,
  direction,
  kind: str,
  steps: int,
  units: int,
  gates: arrayOf(str),
  goBackwards: bool,
  stepBin: int,
});
const timelineTensor = fields({ key: str, layer: str, direction, name: str, shape: arrayOf(int), trainable: bool });
const timelineFinding: Check = (v, where) => {
  finding(v, where);
  orNull(int)(obj(v, where).at, `${where}.at`);
};

function checkTimeline(v: unknown, where: string): void {
  const t = obj(v, where);
  oneOf('rnnscope.timeline/1')(t.schema, `${where}.schema`);
  str(t.model, `${where}.model`);
  oneOf('name', 'mtime', 'given')(t.order, `${where}.order`);
  arrayOf(timelineLayer)(t.layers, `${where}.layers`);
  arrayOf(timelineTensor)(t.tensors, `${where}.tensors`);
  arrayOf(num)(t.percentiles, `${where}.percentiles`);
  recordOf(num)(t.thresholds, `${where}.thresholds`);
  const layers = t.layers as { steps: number; stepBin: number }[];
  const layerPoint = (i: number) =>
    fields({
      id: str,
      relLog10: nums(Math.ceil(layers[i]!.steps / Math.max(1, layers[i]!.stepBin))),
      peak: numOrNull,
      horizon: fields({ ratio: num, steps: orNull(int), from: orNull(int), to: orNull(int) }),
      gates: arrayOf(fields({ gate: str, share: numOrNull, mean: numOrNull, saturated: numOrNull })),
    });
  const point = fields({
    index: int,
    label: str,
    epoch: orNull(int),
    batch: orNull(int),
    loss: numOrNull,
    gradNorm: numOrNull,
    nonFiniteWeights: int,
    nonFiniteTensors: arrayOf(str),
    nonFiniteGrads: int,
    layers: (x, w) => arr(x, w, layers.length).forEach((lp, i) => layerPoint(i)(lp, `${w}[${i}]`)),
    updates: fields({
      from: orNull(int),
      ratios: arrayOf(
        fields({
          key: str,
          gate: orNull(str),
          group: oneOf('kernel', 'recurrent_kernel', 'bias', null),
          ratio: numOrNull,
        }),
      ),
    }),
    bands: arrayOf(fields({ key: str, values: nums((t.percentiles as unknown[]).length), floorFraction: num })),
    findings: arrayOf(
      fields({
        code: str,
        layer: orNull(str),
        direction,
        gate: orNull(str),
        severity: oneOf('info', 'warning', 'error'),
      }),
    ),
    seconds: numOrNull,
  });
  const points = arr(t.points, `${where}.points`);
  points.forEach((p, i) => {
    point(p, `${where}.points[${i}]`);
    const from = (p as { updates: { from: number | null } }).updates.from;
    if (from !== null && from >= i)
      fail(
        `${where}.points[${i}].updates.from`,
        `the number ${from}`,
        `the index of an earlier point (< ${i}) or null`,
      );
  });
  arrayOf(timelineFinding)(t.findings, `${where}.findings`);
}

/** Checks the schema tag and the type of every field; throws DataError naming the first bad field. */
export function validateAnalysis(json: unknown, where = '$'): Analysis {
  const a = obj(json, where);
  checkVersion(a.schema, ANALYSIS_SCHEMA);
  analysisBody(a, where);
  return json as Analysis;
}

/** Accepts either one analysis or an analysis set (what `rnnscope report` reads). */
export function validateReportInput(json: unknown): Analysis | AnalysisSet {
  const o = obj(json, '$');
  if (
    o.schema === ANALYSIS_SET_SCHEMA ||
    (typeof o.schema === 'string' && o.schema.startsWith('rnnscope.analysis-set/'))
  ) {
    checkVersion(o.schema, ANALYSIS_SET_SCHEMA);
    if (o.note !== undefined) str(o.note, '$.note');
    str(o.title, '$.title');
    const runs = arr(o.runs, '$.runs');
    if (runs.length === 0) fail('$.runs', 'an empty array', 'at least one analysis');
    runs.forEach((r, i) => validateAnalysis(r, `$.runs[${i}]`));
    if (o.timeline !== undefined) checkTimeline(o.timeline, '$.timeline');
    return json as AnalysisSet;
  }
  return validateAnalysis(json);
}
