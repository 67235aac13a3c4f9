// The arguments of analyze / analyzeModel / analyzeModelParallel, checked before any work: option
// keys and values, the data's arrays against the model (shapes, buffer lengths, at least one
// sample, values finite and within the run's precision). Every problem is listed in one typed
// error (DataError for the data, UsageError for options only), so a wrong call never yields an
// analysis that looks healthy.

import type { ModelSpec } from '../model/types.js';
import { UsageError, listProblems } from '../model/errors.js';
import { LOSS_NAMES, lossName, lossSuggestion } from '../model/loss-config.js';
import { checkArrays, isObj, Problems, runDType, str, unknownKey } from '../engine/check-args.js';
import type { AnalyzeOptions } from './analyze.js';
import { chooseObjective } from './objective.js';
import { DEFAULT_THRESHOLDS } from './diagnose.js';

/** Says what was expected when a value is wrong, or null. */
type Check = (v: unknown) => string | null;

const posInt: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 1 ? null : 'a positive integer');
const count: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? null : 'a non-negative integer');
const bool: Check = (v) => (typeof v === 'boolean' ? null : 'true or false');
const text: Check = (v) => (typeof v === 'string' ? null : 'a string');
const fn: Check = (v) => (typeof v === 'function' ? null : 'a function');
const loss: Check = (v) => {
  if (typeof v !== 'string' || v.trim() === '') return "a loss name such as 'mse'";
  return lossName(v) !== null ? null : `a supported loss${lossSuggestion(v)}, one of ${LOSS_NAMES.join(', ')}`;
};
const thresholds: Check = (v) => {
  const keys = Object.keys(DEFAULT_THRESHOLDS);
  if (!isObj(v)) return `an object with some of ${keys.join(', ')}`;
  const bad = Object.entries(v).filter(
    ([k, x]) => !keys.includes(k) || !(typeof x === 'number' && Number.isFinite(x) && x >= 0),
  );
  return bad.length === 0
    ? null
    : `an object of non-negative numbers with keys among ${keys.join(', ')} (${bad.map(([k]) => k).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not)`;
};

/**
 * Every option analyze and its Node variant accept. Typed by AnalyzeOptions, so tsc flags an
 * option added there but not here; analyze adds labels, the Node variant workers.
 */
const OPTIONS: { [K in keyof Required<AnalyzeOptions>]: Check } & Record<
  'labels' | 'workers' | 'dtype' | 'dump' | 'contributionMemory',
  Check
> = {
  loss,
  batchSize: posInt,
  maxSamples: posInt,
  connectivity: bool,
  randomSteps: posInt,
  seed: (v) => (Number.isSafeInteger(v) ? null : 'an integer'),
  thresholds,
  label: text,
  group: (v) => (v === null || typeof v === 'string' ? null : 'a string or null'),
  index: count,
  jacobianSamples: count,
  jacobianIterations: posInt,
  onProgress: fn,
  keepRaw: bool,
  samples: bool,
  labels: (v) =>
    Array.isArray(v) && v.every((l) => typeof l === 'string') ? null : 'an array of strings, one per model',
  workers: posInt,
  dtype: (v) => (v === 'float32' || v === 'float64' ? null : "'float32' or 'float64'"),
  dump: (v) =>
    isObj(v) && typeof v['write'] === 'function' ? null : 'a sink with a write(name, firstRow, shape, data) method',
  contributionMemory: (v) =>
    typeof v === 'number' && Number.isFinite(v) && v > 0 ? null : 'a positive number of bytes',
  kernels: (v) => (isObj(v) && typeof v['gemm'] === 'function' ? null : 'a Kernels object (jsKernels or kernels())'),
};

const DATA_KEYS = ['inputs', 'targets', 'dataSource'];

/** Throws one DataError/UsageError listing every problem with (model, data, options) of an analysis. */
export function checkAnalyzeArgs(model: ModelSpec, data: unknown, opts: unknown): void {
  const p = new Problems(
    'analyze',
    runDType(opts),
    'fix the options (AnalyzeOptions in the library, the matching flags on the command line)',
  );
  if (opts !== undefined && !isObj(opts)) p.usage.push(`the options are ${str(opts)}, expected an object`);
  const o = isObj(opts) ? opts : {};
  for (const [k, v] of Object.entries(o)) {
    if (!Object.hasOwn(OPTIONS, k)) p.usage.push(unknownKey('the options', k, Object.keys(OPTIONS)));
    else if (v !== undefined) {
      const want = OPTIONS[k as keyof typeof OPTIONS](v);
      if (want !== null) p.usage.push(`option ${k} is ${str(v)}, expected ${want}`);
    }
  }
  if (!isObj(data)) {
    p.data.push(`the data is ${str(data)}, expected { inputs, targets } (null inputs for random ones)`);
    p.throwIfAny();
    return;
  }
  for (const k of Object.keys(data)) if (!DATA_KEYS.includes(k)) p.usage.push(unknownKey('the data', k, DATA_KEYS));
  const { inputs, targets } = data;
  const given = (v: unknown): boolean => v !== null && v !== undefined;
  if (!given(inputs)) {
    if (given(targets))
      p.data.push('targets were given without inputs, expected inputs to go with them (or neither, for random inputs)');
    p.throwIfAny();
    return;
  }
  // Class-id targets are accepted when the objective's loss takes them; an invalid loss is reported above.
  const l = o['loss'];
  const losses =
    given(targets) && (l === undefined || loss(l) === null)
      ? chooseObjective(model, l as string | undefined, true).losses
      : null;
  checkArrays(p, model, inputs, given(targets) ? { value: targets, losses } : undefined);
  p.throwIfAny();
}

/** analyze(): at least one model, and one label per model when labels are given. */
export function checkModels(models: unknown, labels: unknown): void {
  const problems: string[] = [];
  if (!Array.isArray(models) || models.length === 0)
    problems.push(
      `the models are ${Array.isArray(models) ? 'an empty array' : str(models)}, expected an array of at least one ModelSpec`,
    );
  else if (Array.isArray(labels) && labels.length !== models.length)
    problems.push(`${labels.length} label(s) were given for ${models.length} model(s), expected one per model`);
  if (problems.length > 0)
    throw new UsageError(
      listProblems('analyze', problems, 'pass the models to compare and, optionally, one label each'),
    );
}
