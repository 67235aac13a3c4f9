// The arguments of the engine's entry points (predict, lossAndGrads, gradsFromOutputs), checked
// before any work: option keys and values, every array's shape against the model, its buffer
// length against its shape, and its values (finite; within float32's range in a float32 run).
// Every problem is listed in one typed error: DataError when an array does not fit, UsageError
// when only options are wrong.

import type { LossConfig, ModelSpec, Shape } from '../model/types.js';
import { DataError, UsageError, fmtShape, listProblems } from '../model/errors.js';
import { LOSS_NAMES, lossName, lossSuggestion } from '../model/loss-config.js';
import { closest, didYouMean } from '../model/suggest.js';
import { ValueCheck } from '../model/value-check.js';
import type { LossFlavor } from './loss-config.js';
import { ALL_TAPS } from './taps.js';
import type { DType, Tensor } from './tensor.js';

export type Entry = 'predict' | 'lossAndGrads' | 'gradsFromOutputs';

// Records typed by the unions they list, so tsc flags a name added to the union but not here.
const DTYPES: Record<DType, true> = { float32: true, float64: true };
const FLAVORS: Record<LossFlavor, true> = { keras3: true, 'tf.keras': true, keras2: true, keras1: true, tfjs: true };
const TAPS = ALL_TAPS;
const LOSS_KEYS: Record<keyof LossConfig, true> = { name: true, fromLogits: true, labelSmoothing: true };
const RUN_KEYS = ['dtype', 'taps', 'kernels', 'params', 'onGrad'];
const KEYS: Record<Entry, string[]> = {
  predict: RUN_KEYS,
  gradsFromOutputs: RUN_KEYS,
  lossAndGrads: [...RUN_KEYS, 'losses', 'flavor'],
};

/** Losses that take class ids: targets without the class axis (or with a trailing 1). */
const SPARSE = new Set(['sparse_categorical_crossentropy', 'crossentropy', 'crf_loss']);

/** Problems found so far, by kind; throwIfAny raises them as one error. */
export class Problems {
  readonly data: string[] = [];
  readonly usage: string[] = [];
  readonly values: ValueCheck;
  /** `subject` names the call in the message; `optionsHint` ends a message about options only. */
  constructor(
    private readonly subject: string,
    dtype: DType,
    private readonly optionsHint: string,
  ) {
    this.values = new ValueCheck(dtype);
  }
  throwIfAny(): void {
    const data = [...this.data, ...this.values.problems];
    const all = [...data, ...this.usage];
    if (all.length === 0) return;
    if (data.length === 0) throw new UsageError(listProblems(this.subject, all, this.optionsHint));
    const hint =
      this.data.length > 0
        ? 'pass one array per model input (and output) with the shape the model declares, samples first, and a buffer of exactly that many values'
        : this.values.hint;
    throw new DataError(listProblems(this.subject, all, hint));
  }
}

/** A Problems for one of the engine's entry points. */
export function problemsFor(entry: Entry, dtype: DType): Problems {
  return new Problems(
    entry,
    dtype,
    `fix the options (see ${entry === 'lossAndGrads' ? 'LossOptions' : 'RunOptions'} for keys and values)`,
  );
}

export const str = (v: unknown): string =>
  typeof v === 'string'
    ? `'${v}'`
    : Array.isArray(v)
      ? 'an array'
      : v === null
        ? 'null'
        : typeof v === 'object'
          ? 'an object'
          : String(v);
export const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
export const unknownKey = (where: string, k: string, known: readonly string[]): string =>
  `${where} has unknown key '${k}'${didYouMean(closest(k, known, { key: (s) => s.toLowerCase() }))}, expected only ${known.join(', ')}`;

/** The run's dtype as given (float32 when absent or invalid: the invalid value is reported by checkOptions). */
export function runDType(opts: unknown): DType {
  return isObj(opts) && opts['dtype'] === 'float64' ? 'float64' : 'float32';
}

/** Option keys and values of `entry`. */
export function checkOptions(p: Problems, entry: Entry, model: ModelSpec, opts: unknown): void {
  if (opts === undefined && entry !== 'lossAndGrads') return;
  if (!isObj(opts)) {
    p.usage.push(
      `the options are ${str(opts)}, expected an object${entry === 'lossAndGrads' ? ' with losses and flavor' : ''}`,
    );
    return;
  }
  for (const k of Object.keys(opts))
    if (!KEYS[entry].includes(k)) p.usage.push(unknownKey('the options', k, KEYS[entry]));
  const { dtype, taps, kernels, params } = opts;
  if (dtype !== undefined && !(typeof dtype === 'string' && Object.hasOwn(DTYPES, dtype)))
    p.usage.push(`option dtype is ${str(dtype)}, expected 'float32' or 'float64'`);
  if (taps !== undefined && taps !== null) {
    if (!isObj(taps)) p.usage.push(`option taps is ${str(taps)}, expected null or an object such as { dh: true }`);
    else {
      for (const [k, v] of Object.entries(taps)) {
        if (!Object.hasOwn(TAPS, k)) p.usage.push(unknownKey('option taps', k, Object.keys(TAPS)));
        else if (typeof v !== 'boolean' && v !== undefined)
          p.usage.push(`option taps.${k} is ${str(v)}, expected true or false`);
      }
    }
  }
  if (kernels !== undefined && !(isObj(kernels) && typeof kernels['gemm'] === 'function'))
    p.usage.push(`option kernels is ${str(kernels)}, expected a Kernels object (jsKernels or kernels())`);
  if (params !== undefined) checkParams(p, model, params, runDType(opts));
  if (opts.onGrad !== undefined && typeof opts.onGrad !== 'function')
    p.usage.push(`option onGrad is ${str(opts.onGrad)}, expected a function (tensor, grad, fromNode) => void`);
  if (entry !== 'lossAndGrads') return;
  const { losses, flavor } = opts;
  if (!(typeof flavor === 'string' && Object.hasOwn(FLAVORS, flavor))) {
    p.usage.push(
      `option flavor is ` +
        `${str(flavor)}${typeof flavor === 'string' ? didYouMean(closest(flavor, Object.keys(FLAVORS))) : ''}, ` +
        `expected one of ${Object.keys(FLAVORS).join(', ')} (model.meta.writer is the model's)`,
    );
  }
  if (!Array.isArray(losses)) {
    p.usage.push(
      `option losses is ${str(losses)}, expected an array of ${model.outputs.length} LossConfig (one per output, e.g. [parseLoss('mse')])`,
    );
    return;
  }
  if (losses.length !== model.outputs.length)
    p.usage.push(
      `option losses has ${losses.length} loss(es), expected ${model.outputs.length} (one per output: ${model.outputNames.join(', ')})`,
    );
  losses.forEach((l, i) => checkLoss(p, `losses[${i}]`, l));
}

function checkLoss(p: Problems, where: string, l: unknown): void {
  if (!isObj(l)) {
    p.usage.push(`${where} is ${str(l)}, expected a LossConfig such as parseLoss('mse')`);
    return;
  }
  for (const k of Object.keys(l))
    if (!Object.hasOwn(LOSS_KEYS, k)) p.usage.push(unknownKey(where, k, Object.keys(LOSS_KEYS)));
  const { name, fromLogits, labelSmoothing } = l;
  if (typeof name !== 'string' || !LOSS_NAMES.includes(name)) {
    const canon = typeof name === 'string' ? lossName(name) : null;
    const fix =
      canon !== null
        ? ` (its canonical name is '${canon}': build losses with parseLoss)`
        : typeof name === 'string'
          ? lossSuggestion(name)
          : '';
    p.usage.push(`${where}.name is ${str(name)}${fix}, expected one of ${LOSS_NAMES.join(', ')}`);
  }
  if (typeof fromLogits !== 'boolean')
    p.usage.push(`${where}.fromLogits is ${str(fromLogits)}, expected true or false`);
  if (!(typeof labelSmoothing === 'number' && labelSmoothing >= 0 && labelSmoothing < 1))
    p.usage.push(`${where}.labelSmoothing is ${str(labelSmoothing)}, expected a number in [0, 1)`);
}

function checkParams(p: Problems, model: ModelSpec, params: unknown, dtype: DType): void {
  const want = dtype === 'float32' ? 'Float32Array' : 'Float64Array';
  const hint = `materializeParams(model, '${dtype}') gives them`;
  if (!Array.isArray(params) || params.length !== model.params.length) {
    p.usage.push(
      `option params is ${Array.isArray(params) ? `an array of ${params.length}` : str(params)}, expected one array per layer (${model.params.length}; ${hint})`,
    );
    return;
  }
  model.params.forEach((specs, li) => {
    const ps: unknown = params[li];
    if (!Array.isArray(ps) || ps.length !== specs.length) {
      p.usage.push(
        `option params[${li}] is ${Array.isArray(ps) ? `an array of ${ps.length}` : str(ps)}, expected the ${specs.length} weight(s) of layer '${model.layers[li]!.name}' (${hint})`,
      );
      return;
    }
    specs.forEach((spec, pi) => {
      const t: unknown = ps[pi];
      const n = spec.shape.reduce((a, b) => a * b, 1);
      const ok =
        isObj(t) &&
        (dtype === 'float32' ? t['data'] instanceof Float32Array : t['data'] instanceof Float64Array) &&
        (t['data'] as ArrayLike<number>).length === n;
      if (!ok)
        p.usage.push(
          `option params[${li}][${pi}] (${spec.key}) is not a ${want} of ${n} values, expected its weight ${fmtShape(spec.shape)} in the run's dtype (${hint})`,
        );
    });
  });
}

/** A caller's array: `shape` of non-negative integers and a numeric buffer of exactly that many values; the batch size,
 * or null. */
function checkArray(p: Problems, label: string, t: unknown, expected: Shape | null): number | null {
  if (!isObj(t)) {
    p.data.push(
      `${label} is ${str(t)}, expected { shape, data }${expected ? ` with shape ${fmtShape(expected)}` : ''}`,
    );
    return null;
  }
  const { shape, data } = t;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    p.data.push(
      `${label} has shape ${Array.isArray(shape) ? `[${shape.map(String).join(', ')}]` : str(shape)}, expected an array of non-negative integers${expected ? ` such as ${fmtShape(expected)}` : ''}`,
    );
    return null;
  }
  const dims = shape as number[];
  const typed = ArrayBuffer.isView(data) && !(data instanceof DataView);
  if (!typed && !Array.isArray(data)) {
    p.data.push(`${label} has data ${str(data)}, expected a Float32Array, Float64Array or array of numbers`);
    return null;
  }
  const buf = data as ArrayLike<unknown>;
  if (expected && !fits(dims, expected))
    p.data.push(`${label} has shape ${fmtShape(dims)}, expected ${fmtShape(expected)}`);
  const n = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== n)
    p.data.push(`${label} has shape ${fmtShape(dims)} (${n} values) but its buffer holds ${buf.length}`);
  else if (!typed) {
    const bad = Array.prototype.findIndex.call(buf, (v: unknown) => typeof v !== 'number');
    if (bad >= 0) p.data.push(`${label} holds a ${typeof buf[bad]} at flat index ${bad}, expected numbers only`);
    else p.values.add(label, dims, buf as ArrayLike<number>);
  } else p.values.add(label, dims, buf as ArrayLike<number>);
  if (dims.length === 0) return null;
  if (dims[0] === 0) p.data.push(`${label} has shape ${fmtShape(dims)}, that is 0 samples, expected at least 1`);
  return dims[0]!;
}

/** Same rank, every fixed dim equal (the batch dim, 0, and unknown dims match anything). */
function fits(shape: readonly number[], expected: Shape): boolean {
  return shape.length === expected.length && expected.every((d, j) => j === 0 || d === null || d === shape[j]);
}

/** Target shapes accepted for an output of (static or actual) shape `out`: the same, without a trailing 1, or class ids
 * for sparse losses. */
function targetShapes(out: Shape, loss: string | null): Shape[] {
  const lead = out.slice(0, -1);
  const last = out[out.length - 1];
  const shapes: Shape[] = [out];
  if (out.length >= 2 && last === 1) shapes.push(lead);
  if (out.length >= 2 && loss !== null && SPARSE.has(loss) && last !== 1) shapes.push(lead, [...lead, 1]);
  return shapes;
}

const batchProblem = (what: string, batches: (number | null)[], labels: string[]): string | null => {
  const known = batches.map((b, i) => [b, labels[i]] as const).filter(([b]) => b !== null);
  const first = known[0];
  const other = known.find(([b]) => b !== first![0]);
  return first && other
    ? `${other[1]} has ${other[0]} samples but ${first[1]} has ${first[0]}, expected one batch size for all ${what}`
    : null;
};

/** Inputs (and, for lossAndGrads, targets) against the model's static shapes. Returns the batch size when it is known.
 * */
export function checkArrays(
  p: Problems,
  model: ModelSpec,
  inputs: unknown,
  targets?: { value: unknown; losses: unknown },
): number | null {
  const labels: string[] = [];
  const batches: (number | null)[] = [];
  if (!Array.isArray(inputs))
    p.data.push(
      `the inputs are ${str(inputs)}, expected an array of ${model.inputs.length} { shape, data } (one per model input: ${model.inputNames.join(', ')})`,
    );
  else {
    if (inputs.length !== model.inputs.length)
      p.data.push(
        `got ${inputs.length} input array(s), expected ${model.inputs.length} (one per model input: ${model.inputNames.join(', ')})`,
      );
    inputs.forEach((x, i) => {
      const label = i < model.inputs.length ? `input '${model.inputNames[i]}'` : `input ${i}`;
      labels.push(label);
      batches.push(checkArray(p, label, x, i < model.inputs.length ? model.tensors[model.inputs[i]!]!.shape : null));
    });
  }
  const inputProblem = batchProblem('inputs', batches, labels);
  if (inputProblem) p.data.push(inputProblem);
  const B = batches.find((b) => b !== null) ?? null;
  if (!targets) return B;
  const { value: ys, losses } = targets;
  if (!Array.isArray(ys)) {
    p.data.push(
      `the targets are ${str(ys)}, expected an array of ${model.outputs.length} { shape, data } (one per model output: ${model.outputNames.join(', ')})`,
    );
    return B;
  }
  if (ys.length !== model.outputs.length)
    p.data.push(
      `got ${ys.length} target array(s), expected ${model.outputs.length} (one per model output: ${model.outputNames.join(', ')})`,
    );
  ys.forEach((y, i) => {
    const label = i < model.outputs.length ? `target '${model.outputNames[i]}'` : `target ${i}`;
    const b = checkArray(p, label, y, null);
    if (b === null || i >= model.outputs.length) return;
    if (B !== null && b !== B)
      p.data.push(`${label} has ${b} samples but the inputs have ${B}, expected one target per sample`);
    const shape = (y as Tensor).shape;
    const loss = Array.isArray(losses) ? lossNameOf(losses[i]) : null;
    const ok = targetShapes(model.tensors[model.outputs[i]!]!.shape, loss).some((s) => fits(shape, s));
    if (!ok)
      p.data.push(
        `${label} has shape ${fmtShape(shape)}, expected ${targetText(model.tensors[model.outputs[i]!]!.shape, loss)}`,
      );
  });
  return B;
}

/** After the forward pass: each target against the output's actual shape (unknown dims now known). */
export function checkTargetsAgainstOutputs(
  p: Problems,
  model: ModelSpec,
  outputs: Tensor[],
  targets: Tensor[],
  losses: LossConfig[],
): void {
  outputs.forEach((out, i) => {
    const y = targets[i]!;
    if (
      !targetShapes(out.shape, losses[i]!.name).some(
        (s) => s.length === y.shape.length && s.every((d, j) => d === y.shape[j]),
      )
    ) {
      p.data.push(
        `target '${model.outputNames[i]}' has shape ${fmtShape(y.shape)}, but output ` +
          `'${model.outputNames[i]}' is ${fmtShape(out.shape)}, expected ` +
          `${targetText(out.shape, losses[i]!.name)}`,
      );
    }
  });
}

/** gradsFromOutputs: each output gradient null or of its output's shape. */
export function checkOutputGrads(p: Problems, model: ModelSpec, outputs: Tensor[], d: unknown): void {
  if (!Array.isArray(d) || d.length !== outputs.length) {
    p.data.push(
      `the output gradients are ${Array.isArray(d) ? `${d.length} array(s)` : str(d)}, expected ${outputs.length} (null or one per output: ${model.outputNames.join(', ')})`,
    );
    return;
  }
  d.forEach((g, i) => {
    if (g !== null && g !== undefined) checkArray(p, `output gradient '${model.outputNames[i]}'`, g, outputs[i]!.shape);
  });
}

function lossNameOf(l: unknown): string | null {
  return isObj(l) && typeof l['name'] === 'string' ? l['name'] : null;
}

function targetText(out: Shape, loss: string | null): string {
  const shapes = targetShapes(out, loss);
  const text = shapes.map((s) => fmtShape(s)).join(' or ');
  return shapes.length > 1 && loss !== null && SPARSE.has(loss) && out[out.length - 1] !== 1
    ? `${text} (class ids for ${loss})`
    : text;
}
