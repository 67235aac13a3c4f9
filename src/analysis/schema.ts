// The analysis JSON: what `rnnscope analyze --json` writes and `rnnscope report`
// reads back. Every field is defined (with units and shape) in
// docs/analysis-schema.md; this file holds the types (validate.ts checks a file against them).
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

import type { Timeline } from './timeline.js';

export const ANALYSIS_SCHEMA = 'rnnscope.analysis/1';
export const ANALYSIS_SET_SCHEMA = 'rnnscope.analysis-set/1';

export type Num = number | null;
export type Direction = 'forward' | 'backward' | null;
/** A registered recurrent cell's kind (engine/cells): SimpleRNN, LSTM, GRU, … */
export type Kind = string;
export type ParamGroup = 'kernel' | 'recurrent_kernel' | 'bias';
export type Severity = 'info' | 'warning' | 'error';

/** Chart ids (issue 5); findings point at one of them, the report writes charts/<id>.svg. */
export const CHART_IDS = [
  'dh',
  'contributions',
  'density',
  'heatmap',
  'param-norms',
  'jacobian',
  'gates',
  'dx',
  'histograms',
  'batches',
  'compare',
  'attention',
  // The training timeline (AnalysisSet.timeline): src/report/charts/timeline-*.ts.
  'timeline-heatmap',
  'timeline-scalars',
  'timeline-gates',
  'timeline-updates',
  'timeline-bands',
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
  /** The loss of the best input-independent prediction (objective.ts); null for self-objectives. Absent in old files.
   * */
  baseline?: Baseline | null;
  warnings: WarningEntry[];
}

/** L against a constant prediction with the same loss on the same samples (docs/analysis-schema.md#baseline). */
export interface Baseline {
  /** 'mean': the targets' mean per output element; 'class-prior': the class frequencies per output element. */
  kind: 'mean' | 'class-prior';
  /** Loss of that constant prediction. */
  value: Num;
  /** Plain sentence, e.g. "Predicting the mean of the targets gives L = 0.250." */
  description: string;
  /** 'no' | 'barely' | 'yes' by the gain (baseline − L)/|baseline| (thresholds learnedNo, learnedBarely). */
  learned: 'no' | 'barely' | 'yes' | null;
  /** e.g. "The model is no better than predicting the mean (L 0.249 vs 0.250)." */
  sentence: string;
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
  /** The cell's states, comma-joined: 'h' (SimpleRNN, GRU) or 'h,c' (LSTM: the joint state). */
  state: string;
  /** Per step: median and max over samples of σ_max(∂s_t/∂s_{t−1}); null at the first processed step. */
  median: Num[];
  max: Num[];
  /** Per step: log10 Π σ over the steps processed after t (the bound on ‖∂s_last/∂s_t‖); 0 at the last processed step.
   * */
  log10ProductMedian: Num[];
  log10ProductMax: Num[];
  /** Samples the power iteration ran on, and iterations per estimate. */
  samples: number;
  iterations: number;
}

/** Per step t (input position): quantiles over samples n of ‖∂ℓ_n/∂h_prev‖ / ‖∂ℓ_n/∂h_t‖, where prev is the step
 * processed just before t (t−1, or t+1 for go_backwards); null at the first processed step and where undefined. */
export interface StepRatio {
  p10: Num[];
  p50: Num[];
  p90: Num[];
}

/** The cell's memory from its keep gate (LSTM forget gate, GRU update gate); docs/analysis-schema.md#memory. */
export interface Memory {
  /** 'f' (LSTM forget gate) or 'z' (GRU update gate), as the cell registry names it. */
  gate: string;
  /** Plain name of the gate ("forget gate", "update gate"). */
  gateName: string;
  /** Mean keep fraction over samples × units × valid steps. */
  mean: Num;
  /** ln 0.01 / ln mean: steps for the state's memory to fall to 1 %; null when mean is 0 or 1. */
  steps: Num;
  /** Mean bias of the gate's block (summed over bias rows); null without a bias. */
  bias: Num;
  /** The measured horizon in steps (horizon.steps). */
  horizon: number | null;
  /** Whether the gate's memory explains the horizon (rule in docs/analysis-schema.md#memory). */
  explains: boolean | null;
  sentence: string;
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
  /** values[i][j] = ‖∂L_τ/∂x_t‖ for τ = outputSteps[i], t = inputSteps[j] (x = this layer's input); null where t > τ.
   * */
  values: Num[][];
}

export interface Horizon {
  /** Fraction of the maximum ‖∂L/∂h_t‖ used (0.01). */
  ratio: number;
  /** Steps back (in processing order) from the last loss-carrying step through which ‖∂L/∂h_t‖ ≥ ratio·max; null if
   * undefined (all zero). */
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
  /** A ConvLSTM's state per sample, (…spatial, filters), whose product is `units`; absent for dense cells (and in
   * files written before it was added). */
  stateShape?: number[];
  inputDim: number;
  /** Gate names in Keras order (LSTM i,f,c,o; GRU z,r,h; SimpleRNN h). */
  gates: string[];
  /** Steps at which gradient enters from above (loss or next layer): all when the layer returns sequences, else the
   * last processed step. */
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
  /** Measured per-step ratio of per-sample gradient norms (absent in old files). */
  stepRatio?: StepRatio;
  /** Memory of the keep gate; null for cells without one (SimpleRNN); absent in old files. */
  memory?: Memory | null;
  /** ∂L/∂h_t split by path, when attention-type layers read this layer's sequence output; absent otherwise. */
  attention?: AttentionSplit;
}

/**
 * ∂L/∂h_t split by the path it arrives through (docs/analysis-schema.md#attention): the three parts sum to ∂L/∂h_t
 * (dh). Each a StepSeries over input positions t.
 */
export interface AttentionSplit {
  /** The attention-type layers (Attention, AdditiveAttention, MultiHeadAttention, Dot) that read h. */
  consumers: string[];
  /** What the attention layers pass back to h_t. */
  viaAttention: StepSeries;
  /** What arrives at h_t from step t+1 through the cell. */
  viaRecurrence: StepSeries;
  /** What h's other readers (and the loss, when h is an output) pass back to h_t; zero when there are none. */
  viaOther: StepSeries;
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
  | 'vanishing'
  | 'exploding'
  | 'non-finite'
  | 'forget-gate-closed'
  | 'gate-saturated'
  | 'dead-units'
  | 'layer-norm-spread'
  | 'suggested-clipnorm'
  | 'short-memory'
  | 'not-learned'
  | 'attention-carries';

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
  /** Identical remedies share an id, so a page states each once per layer (absent in old files). */
  remedyId?: string;
  /** The evidence in words and rounded numbers, no internal names (absent in old files). */
  evidenceText?: string;
}

/** One sample's drill-down (docs/analysis-schema.md#samples); values rounded to 4 significant digits. */
export interface SampleLayer {
  id: string;
  /** The layer's input positions shown (all, or evenly spaced ones beyond 512 steps). */
  steps: number[];
  /** h_t per included unit: steps.length × units.length; null at the last processed step (not recorded). */
  h: Num[][];
  /** Gate activations per gate: steps.length × units.length. */
  gates: { gate: string; values: Num[][] }[];
  /** Units included, ascending: all, or those with the largest mean |∂L/∂h| (samples.ts unitsShown). */
  units: number[];
  /** This sample's ‖∂ℓ_τ/∂x_t‖ (x = the layer's input), as Connectivity.values; null when not computed. */
  connectivity: Num[][] | null;
}

export interface SampleView {
  role: 'worst' | 'median' | 'best';
  /** Sample index in the analysed data. */
  index: number;
  /** ℓ_n: the loss of this sample alone. */
  loss: Num;
  /** Input positions shown (all, or evenly spaced ones when the sequence is longer than 512). */
  steps: number[];
  /** Model input x_t (the first input with a time axis): steps.length × F (at most the first 64 features). */
  x: Num[][];
  /** ∂ℓ_n/∂x_t of that input, same shape; empty when the input is token ids (no gradient). */
  dx: Num[][];
  layers: SampleLayer[];
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
  /** Worst, median and best sample by loss (absent in old files). */
  samples?: SampleView[];
}

/** Several analyses compared (checkpoints of one run, or the demo's models). */
export interface AnalysisSet {
  schema: typeof ANALYSIS_SET_SCHEMA;
  note?: string;
  title: string;
  runs: Analysis[];
  /** Checkpoints of one run over training (timeline.ts); `runs` then holds some of them in full. */
  timeline?: Timeline;
}

export function isAnalysisSet(x: Analysis | AnalysisSet): x is AnalysisSet {
  return x.schema === ANALYSIS_SET_SCHEMA;
}

/** The runs of either form, as a list. */
export function runsOf(x: Analysis | AnalysisSet): Analysis[] {
  return isAnalysisSet(x) ? x.runs : [x];
}
