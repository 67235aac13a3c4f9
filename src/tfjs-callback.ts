// rnnscope/tfjs: a tf.Callback for model.fit that builds the training timeline while a TF.js model
// trains, in Node and in the browser. TensorFlow.js is a peer dependency of this entry point only.
//
//   model.toJSON() + getWeights() ─► in-memory model.json + weights ─► openModel (the TF.js loader)
//     ─► analyzeModel on the fixed data ─► TimelineBuilder ─► out: a folder (Node), an element
//        (browser) or a function
//
// Every N epochs (or batches) the live model is read as it is at that moment and analysed with
// rnnscope's own engine, exactly as `rnnscope analyze` would analyse the same model saved to disk.

import * as tf from '@tensorflow/tfjs';
import { fileSetFromMap, openModel } from './io/index.js';
import { fitInputsAndTargets } from './io/data-check.js';
import type { NamedArray } from './io/data.js';
import { analyzeModel, type AnalyzeOptions } from './analysis/analyze.js';
import { ANALYSIS_SET_SCHEMA, type Analysis, type AnalysisSet } from './analysis/schema.js';
import { TimelineBuilder, type Timeline } from './analysis/timeline.js';
import { DataError, NonFiniteWeightsError } from './model/errors.js';
import type { ModelSpec } from './model/types.js';
import { drawTimeline } from './tfjs-browser-out.js';

type ArrayInput = tf.Tensor | { shape: number[]; data: ArrayLike<number> };

export interface RnnscopeCallbackOptions {
  /** The fixed inputs every analysis uses (samples first): a tensor or {shape, data}; several for a multi-input model.
   * */
  data: ArrayInput | ArrayInput[];
  /** Targets for the loss; without them a self-objective is used (and stated). */
  targets?: ArrayInput | ArrayInput[];
  /** Analyse every N epochs (a number), or every N batches ({ batches: N }). Default: every epoch. */
  every?: number | { epochs: number } | { batches: number };
  /**
   * Where the timeline goes after each analysis: a folder path (Node: index.html and analysis.json,
   * replaced atomically), an element (browser: the timeline charts are drawn into it), or a function.
   */
  out?: string | { appendChild: unknown } | ((set: AnalysisSet) => void | Promise<void>);
  /** Also analyse the model before the first epoch (epoch 0). Default true. */
  initial?: boolean;
  /** Keras/TF.js loss name; default: the model's compiled loss when it is a name. */
  loss?: string;
  batchSize?: number;
  maxSamples?: number;
}

/** The in-memory TF.js model.json + weights of a live model (what model.save would write). */
export function modelFiles(model: tf.LayersModel): Map<string, Uint8Array> {
  const topology = model.toJSON(null, false);
  const weights = model.weights;
  // getWeights() returns the variables themselves (not copies): read them, never dispose them.
  const values = model.getWeights();
  const specs = weights.map((w, i) => ({
    name: (w as unknown as { originalName?: string }).originalName ?? w.name,
    shape: values[i]!.shape,
    dtype: values[i]!.dtype,
  }));
  const chunks = values.map((v) => {
    const d = v.dataSync();
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
  });
  const bin = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    bin.set(c, o);
    o += c.length;
  }
  const json = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version['tfjs-layers']}`,
    convertedBy: null,
    modelTopology: topology,
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
  };
  return new Map([
    ['model.json', new TextEncoder().encode(JSON.stringify(json))],
    ['weights.bin', bin],
  ]);
}

function toArrays(x: ArrayInput | ArrayInput[], role: string): NamedArray[] {
  const list = Array.isArray(x) ? x : [x];
  return list.map((a, i) => {
    const isTensor = a instanceof tf.Tensor;
    const shape = isTensor ? [...a.shape] : [...a.shape];
    const src = isTensor ? a.dataSync() : a.data;
    const n = shape.reduce((p, q) => p * q, 1);
    if (src.length !== n)
      throw new DataError(
        `The callback's ${role} ${i} has ${src.length} values for shape [${shape.join(', ')}]; expected ${n}, so pass {shape, data} that agree.`,
      );
    return {
      name: `${role}_${i}`,
      shape,
      dtype: isTensor && a.dtype === 'int32' ? 'int32' : 'float32',
      data: Float64Array.from(src),
      source: `callback ${role}`,
    };
  });
}

export class RnnscopeCallback extends tf.Callback {
  private readonly builder = new TimelineBuilder({ order: 'name' });
  private readonly inputs: NamedArray[];
  private readonly targets: NamedArray[] | null;
  private readonly unit: 'epoch' | 'batch';
  private readonly n: number;
  private epoch = 0;
  private batches = 0;
  /** The latest state: the last analysis and the whole timeline. */
  latest: AnalysisSet | null = null;

  constructor(private readonly opts: RnnscopeCallbackOptions) {
    super();
    this.inputs = toArrays(opts.data, 'data');
    this.targets = opts.targets === undefined ? null : toArrays(opts.targets, 'targets');
    const e = opts.every ?? 1;
    this.unit = typeof e === 'object' && 'batches' in e ? 'batch' : 'epoch';
    this.n = Math.max(1, Math.floor(typeof e === 'number' ? e : 'batches' in e ? e.batches : e.epochs));
  }

  get timeline(): Timeline {
    return this.builder.timeline();
  }

  override async onTrainBegin(): Promise<void> {
    if (this.opts.initial ?? true) await this.capture(0, null);
  }

  override async onEpochBegin(epoch: number): Promise<void> {
    this.epoch = epoch + 1; // Keras' {epoch}: 1-based
    this.batches = 0;
  }

  override async onBatchEnd(batch: number): Promise<void> {
    this.batches = batch + 1;
    if (this.unit === 'batch' && this.batches % this.n === 0) await this.capture(this.epoch, this.batches);
  }

  override async onEpochEnd(epoch: number): Promise<void> {
    if (this.unit === 'epoch' && (epoch + 1) % this.n === 0) await this.capture(epoch + 1, null);
  }

  /** Reads the live model, analyses it on the fixed data and adds it to the timeline. */
  async capture(epoch: number, batch: number | null): Promise<AnalysisSet> {
    const label = batch === null ? `epoch ${epoch}` : `epoch ${epoch} batch ${batch}`;
    let spec: ModelSpec;
    try {
      spec = await openModel(fileSetFromMap('model.json', modelFiles(this.model)));
    } catch (e) {
      // NaN/Inf weights: training diverged; the timeline records it and goes on.
      if (!(e instanceof NonFiniteWeightsError)) throw e;
      this.builder.addDiverged({ label, epoch, batch }, { count: e.weight.count, tensors: [e.weight.key] });
      return this.publish(this.latest?.runs[0] ?? null);
    }
    const lossName = this.opts.loss ?? (typeof this.model.loss === 'string' ? this.model.loss : undefined);
    const { inputs, targets } = fitInputsAndTargets(spec, this.inputs, this.targets ?? null, {
      losses: lossName ? spec.outputNames.map(() => lossName) : undefined,
    });
    const options: AnalyzeOptions = {
      loss: lossName,
      batchSize: this.opts.batchSize,
      maxSamples: this.opts.maxSamples,
      label,
    };
    const t0 = Date.now();
    const { analysis } = analyzeModel(
      spec,
      {
        inputs: inputs.map((a) => ({ shape: a.shape, data: a.data })),
        targets: targets ? targets.map((a) => ({ shape: a.shape, data: a.data })) : null,
        dataSource: 'rnnscopeCallback data',
      },
      options,
    );
    this.builder.add(spec, analysis, { label, epoch, batch, seconds: (Date.now() - t0) / 1000 });
    return this.publish(analysis);
  }

  private async publish(analysis: Analysis | null): Promise<AnalysisSet> {
    const timeline = this.builder.timeline();
    const set: AnalysisSet = {
      schema: ANALYSIS_SET_SCHEMA,
      title: `Training timeline of ${timeline.model}`,
      runs: analysis ? [analysis] : [],
      timeline,
    };
    this.latest = set;
    // A report needs one analysed checkpoint; before that there is only the timeline object.
    if (analysis) await deliver(this.opts.out, set);
    return set;
  }
}

async function deliver(out: RnnscopeCallbackOptions['out'], set: AnalysisSet): Promise<void> {
  if (out === undefined) return;
  if (typeof out === 'function') {
    await out(set);
    return;
  }
  if (typeof out === 'string') {
    // The module name in a variable: bundlers leave it alone, so a browser build never sees node:fs.
    const m = './tfjs-node-out.js';
    await ((await import(/* @vite-ignore */ m)) as typeof import('./tfjs-node-out.js')).writeTimelineFolder(out, set);
    return;
  }
  await drawTimeline(out as unknown as HTMLElement, set);
}

/** A tf.Callback for model.fit that analyses the model every N epochs or batches and keeps the timeline. */
export function rnnscopeCallback(opts: RnnscopeCallbackOptions): RnnscopeCallback {
  return new RnnscopeCallback(opts);
}
