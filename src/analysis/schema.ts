// The analysis JSON: what `rnnscope analyze --json` writes and `rnnscope report`
// reads back. Every field is defined (with units and shape) in
// docs/analysis-schema.md; this file holds the types and a runtime validator.
//
// Conventions used throughout:
//   - Step index t is the position in the INPUT sequence (0-based), also for
//     go_backwards layers and the backward half of a Bidirectional.
//   - Per-step arrays have length `steps` and are indexed by t.
//   - L is the mean loss over all analysed samples; ℓ_n is sample n's own loss.
//   - `Num` is a number that may be non-finite in memory; JSON.stringify writes
//     NaN/±Infinity as null, so readers must treat null as "not finite".
//   - Arrays are columnar (one array per quantity) to keep the file small; the
//     chart functions turn them into rows.

import { DataError } from '../model/errors.js';

export const ANALYSIS_SCHEMA = 'rnnscope.analysis/1';
export const ANALYSIS_SET_SCHEMA = 'rnnscope.analysis-set/1';

export type Num = number | null;
export type Direction = 'forward' | 'backward' | null;
export type Kind = 'SimpleRNN' | 'LSTM' | 'GRU';
export type ParamGroup = 'kernel' | 'recurrent_kernel' | 'bias';
export type Severity = 'info' | 'warning' | 'error';

/** Chart ids (issue 5); findings point at one of them, the report writes charts/<id>.svg. */
export const CHART_IDS = [
  'dh', 'contributions', 'density', 'heatmap', 'param-norms', 'jacobian',
  'gates', 'dx', 'histograms', 'batches', 'compare',
] as const;
export type ChartId = (typeof CHART_IDS)[number];

/** Fixed log10|g| histogram bin edges shared by every histogram, so tensors are comparable: −16 … 4 in steps of 0.5. */
export const LOG10_GRAD_EDGES: readonly number[] = Array.from({ length: 41 }, (_, i) => -16 + i * 0.5);

export interface WarningEntry {
  code: string;
  message: string;
  count: number;
}

export interface LayerInfo {
  name: string;
  /** Keras class name as written in the file (LSTM, CuDNNLSTM, Bidirectional, Dense, ...). */
  className: string;
  /** Output shape of each output, batch dim null. */
  outputShapes: (number | null)[][];
  /** Number of scalar parameters (all weights of the layer). */
  params: number;
  trainableParams: number;
}

export interface ModelInfo {
  name: string;
  /** Loader that produced it: keras-v3, keras-h5, keras-h5-weights, tfjs-layers, config, demo. */
  format: string;
  kerasVersion: string;
  backend: string | null;
  /** Source file name(s) as given on the command line (base names, no directories). */
  source: string;
  inputs: { name: string; shape: (number | null)[]; dtype: 'float32' | 'int32' }[];
  outputs: { name: string; shape: (number | null)[] }[];
  layers: LayerInfo[];
  totalParams: number;
  trainableParams: number;
  warnings: WarningEntry[];
}

export interface ObjectiveInfo {
  /** Canonical Keras loss name used (mse, categorical_crossentropy, ...). */
  loss: string;
  /** Where the loss came from: --loss, the model's training config, rnnscope's default, or the self-objective. */
  lossSource: 'option' | 'model' | 'default' | 'self';
  fromLogits: boolean;
  /** 'given': --targets; 'self': no targets, a self-objective (see selfObjective). */
  targets: 'given' | 'self';
  selfObjective: 'predicted-class-crossentropy' | 'half-squared-norm' | null;
  /** One plain sentence stating the objective, shown in the report and the CLI. */
  description: string;
  /** 'file': user data; 'random': random inputs matching the model's input (with a warning). */
  data: 'file' | 'random';
  dataSource: string | null;
  samples: number;
  batchSize: number;
  batches: number;
  /** Value of L (mean loss over samples). */
  value: Num;
  warnings: WarningEntry[];
}

/** A per-step quantity: Frobenius norm over samples × width and per-sample quantiles. Arrays of length `steps`. */
export interface StepSeries {
  /** ‖∂L/∂·_t‖_F over samples × width (L the mean loss). */
  norm: Num[];
  /** Quantiles over samples n of ‖∂ℓ_n/∂·_{t,n}‖₂ (ℓ_n = sample n's own loss, independent of the sample count). */
  p10: Num[];
  p50: Num[];
  p90: Num[];
}

export interface Contribution {
  gate: string;
  group: ParamGroup;
  /** Per step: Frobenius norm of the step-t contribution to this gate block of the gradient. Length `steps`. */
  norm: Num[];
  /** Frobenius norm of the total gradient block (= the sum over t of the contributions). */
  total: Num;
}

export interface JacobianStats {
  /** 'h' (SimpleRNN, GRU) or 'h,c' (LSTM: the joint state). */
  state: 'h' | 'h,c';
  /** Per step: median and max over samples of σ_max(∂s_t/∂s_{t−1}); null at the first processed step. */
  median: Num[];
  max: Num[];
  /** Per step: log10 Π σ over the steps processed after t (the bound on ‖∂s_last/∂s_t‖); 0 at the last processed step. */
  log10ProductMedian: Num[];
  log10ProductMax: Num[];
  /** Samples the power iteration ran on, and iterations per estimate. */
  samples: number;
  iterations: number;
}

export interface GateStats {
  gate: string;
  /** Activation applied to this gate (sigmoid, hard_sigmoid, tanh, ...). */
  activation: string;
  /** Per step: mean activation over samples × units. */
  mean: Num[];
  /** Per step: fraction of samples × units saturated (sigmoid-like <0.05 or >0.95, tanh-like |a|>0.95). */
  saturated: Num[];
}

/** |∂L/∂h| over step × unit, mean over samples, averaged within bins when downsampled. */
export interface Heatmap {
  /** Bin width in steps and in units (1 = not downsampled). */
  stepBin: number;
  unitBin: number;
  /** values[i][j]: mean of |∂L/∂h_{t,u}| over samples and over t ∈ [i·stepBin, (i+1)·stepBin), u ∈ [j·unitBin, ...). */
  values: Num[][];
}

export interface Connectivity {
  /** Samples the map was computed on. */
  samples: number;
  /** Output steps τ and input steps t represented (downsampled positions). */
  outputSteps: number[];
  inputSteps: number[];
  /** values[i][j] = ‖∂L_τ/∂x_t‖ for τ = outputSteps[i], t = inputSteps[j] (x = this layer's input); null where t > τ. */
  values: Num[][];
}

export interface Horizon {
  /** Fraction of the maximum ‖∂L/∂h_t‖ used (0.01). */
  ratio: number;
  /** Steps back (in processing order) from the last loss-carrying step through which ‖∂L/∂h_t‖ ≥ ratio·max; null if undefined (all zero). */
  steps: number | null;
  /** Input positions of the two ends: `from` = last loss-carrying step, `to` = farthest step still within the ratio. */
  from: number | null;
  to: number | null;
}

export interface Density2D {
  gate: string;
  group: ParamGroup;
  /** Weight value bin edges (length nx+1). */
  xEdges: number[];
  /** log10|g| bin edges (length ny+1). */
  yEdges: number[];
  /** counts[j][i]: pairs with weight in x-bin i and log10|g| in y-bin j. */
  counts: number[][];
  /** Pairs with g = 0 exactly (not representable on the log axis). */
  zeroGrad: number;
  /** All pairs in the block. */
  n: number;
}

/** One recurrent layer, or one direction of a Bidirectional. */
export interface RecurrentAnalysis {
  /** Stable key: "<layer>" or "<layer>/forward" | "<layer>/backward". */
  id: string;
  layer: string;
  direction: Direction;
  kind: Kind;
  goBackwards: boolean;
  steps: number;
  units: number;
  inputDim: number;
  /** Gate names in Keras order (LSTM i,f,c,o; GRU z,r,h; SimpleRNN h). */
  gates: string[];
  /** Steps at which gradient enters from above (loss or next layer): all when the layer returns sequences, else the last processed step. */
  lossSteps: 'all' | 'last';
  dh: StepSeries;
  /** LSTM only. */
  dc: StepSeries | null;
  dx: StepSeries;
  contributions: Contribution[];
  jacobian: JacobianStats | null;
  gateStats: GateStats[];
  deadUnits: { threshold: number; units: number[] };
  heatmap: Heatmap;
  connectivity: Connectivity | null;
  horizon: Horizon;
  density: Density2D[];
}

export interface Histogram {
  /** Bin edges of log10|g| (LOG10_GRAD_EDGES). */
  edges: number[];
  /** counts[i]: elements with edges[i] ≤ log10|g| < edges[i+1]. */
  counts: number[];
  /** g = 0 exactly; below the first edge; at or above the last edge; NaN/±Inf. */
  zero: number;
  underflow: number;
  overflow: number;
  nonFinite: number;
}

export interface TensorStats {
  size: number;
  weightNorm: Num;
  gradNorm: Num;
  meanAbsGrad: Num;
  maxAbsGrad: Num;
  /** ‖g‖/‖W‖; null when ‖W‖ = 0. */
  ratio: Num;
  nan: number;
  inf: number;
  histogram: Histogram;
}

export interface ParamStats extends TensorStats {
  /** ModelSpec key: "<layer>/<name>" or "<layer>/forward/<name>". */
  key: string;
  layer: string;
  direction: Direction;
  /** Keras short weight name (kernel, recurrent_kernel, bias, embeddings, gamma, ...). */
  name: string;
  shape: number[];
  trainable: boolean;
  /** Recurrent weights only: the same statistics per gate block (column block of the fused kernel). */
  blocks: (TensorStats & { gate: string })[] | null;
}

export interface ClipThreshold {
  threshold: number;
  source: 'model-clipnorm' | 'quantile';
  /** The quantile of batch norms this threshold is (source 'quantile'), else null. */
  quantile: number | null;
  /** Fraction of batches whose global norm exceeds the threshold. */
  fractionClipped: number;
}

export interface BatchStats {
  /** Per batch: global gradient norm (over all trainable parameters) of that batch's mean loss. */
  norms: Num[];
  /** Per batch: number of samples. */
  sizes: number[];
  clipping: ClipThreshold[];
  /** Suggested clipnorm from the measured distribution; null when not enough batches. */
  suggestedClipnorm: Num;
}

export type FindingCode =
  | 'vanishing' | 'exploding' | 'non-finite' | 'forget-gate-closed' | 'gate-saturated'
  | 'dead-units' | 'layer-norm-spread' | 'suggested-clipnorm';

export interface Finding {
  code: FindingCode | (string & {});
  severity: Severity;
  layer: string | null;
  direction: Direction;
  /** One or two plain sentences. */
  message: string;
  /** The numbers behind the finding, named. */
  evidence: Record<string, number | string>;
  remedy: string;
  chart: ChartId | null;
}

export interface Analysis {
  schema: typeof ANALYSIS_SCHEMA;
  /** Free text (e.g. "hand-made fixture"); absent in real output. */
  note?: string;
  tool: { name: 'rnnscope'; version: string };
  /** Identity within a comparison: label (e.g. checkpoint name), optional group (e.g. model family), order index. */
  run: { label: string; group: string | null; index: number };
  model: ModelInfo;
  objective: ObjectiveInfo;
  /** Diagnosis thresholds in effect (documented in docs/analysis-schema.md). */
  thresholds: Record<string, number>;
  recurrent: RecurrentAnalysis[];
  params: ParamStats[];
  batches: BatchStats;
  findings: Finding[];
}

/** Several analyses compared (checkpoints of one run, or the demo's models). */
export interface AnalysisSet {
  schema: typeof ANALYSIS_SET_SCHEMA;
  note?: string;
  title: string;
  runs: Analysis[];
}

export function isAnalysisSet(x: Analysis | AnalysisSet): x is AnalysisSet {
  return x.schema === ANALYSIS_SET_SCHEMA;
}

/** The runs of either form, as a list. */
export function runsOf(x: Analysis | AnalysisSet): Analysis[] {
  return isAnalysisSet(x) ? x.runs : [x];
}

// ---- runtime validation -------------------------------------------------

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
