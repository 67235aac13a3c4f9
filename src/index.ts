// rnnscope: the library. Browser-safe; Node-only helpers (file paths, writing reports) are in ./node.ts.
//
//   bytes ──io──► ModelSpec ──engine──► loss, grads, taps ──analysis──► Analysis JSON ──report──► HTML, SVG, PNG
//   openModel      buildModel / bind      lossAndGrads / predict      analyze / diagnose          (node: writeReport)

export type {
  ModelSpec,
  LayerSpec,
  RecurrentSpec,
  ParamSpec,
  Activation,
  LossConfig,
  NDArray,
  Warning,
} from './model/types.js';
export { RnnscopeError, LoadError, ModelError, DataError, EngineError, UsageError } from './model/errors.js';
export { buildModel, savedWeightLayout } from './model/build.js';
export { bindLayerWeights, checkAllBound } from './model/bind.js';
export { summary, countParams } from './model/summary.js';

export { openModel, fileSetFromMap, type FileSet, type OpenOptions } from './io/index.js';
export { openData, type NamedArray } from './io/data.js';
export { fitDataToModel, fitInputsAndTargets } from './io/data-check.js';
export { encodeNpz, encodeNpy } from './io/npz-write.js';

export type { Tensor, Arr, Mask, DType } from './engine/tensor.js';
export {
  predict,
  lossAndGrads,
  gradsFromOutputs,
  type GradResult,
  type RunOptions,
  type LossOptions,
} from './engine/run.js';
export { materializeParams, type GradObserver, type Params } from './engine/graph.js';
export { computeLoss } from './engine/losses.js';
export { parseLoss, lossFlavor, type LossFlavor } from './engine/loss-config.js';
export { makeOptimizer, type Optimizer } from './engine/optim.js';
export { initParam } from './engine/init.js';
export { makeRng, type Rng } from './engine/rng.js';
export { TapStore, type TapRequest, type LayerTaps, type TapName } from './engine/taps.js';
export { CELLS, cellOf, type CellDef } from './engine/cells/index.js';
export { kernels, setKernels, jsKernels, type Kernels } from './engine/kernels.js';

export {
  analyze,
  analyzeModel,
  DEFAULT_THRESHOLDS,
  VERSION,
  type AnalyzeInput,
  type AnalyzeOptions,
  type Thresholds,
  type RawArrays,
} from './analysis/index.js';
export * from './analysis/schema.js';
export { validateAnalysis, validateReportInput } from './analysis/validate.js';
export { runDemo, type DemoOptions } from './analysis/demo.js';
