// TensorFlow.js layers model: model.json + binary weight shards.
//
// model.json (docs/formats.md, 'TensorFlow.js model.json'):
//   format "layers-model" (absent in pre-1.0 converter output), generatedBy, convertedBy,
//   modelTopology: {keras_version, backend, model_config, training_config} (converter) or the
//     model config itself (tf.LayersModel.save), trainingConfig (top level, optional),
//   weightsManifest: [{paths: [shard, ...], weights: [{name, shape, dtype, quantization?}]}].
// Bytes (docs/formats.md, 'TF.js weight bytes'): a group's shards are
// concatenated in `paths` order and its weights read back to back in `weights` order, each
// prod(shape) x bytes(dtype) little-endian, where bytes() uses the quantized dtype when present
// (uint8 1, uint16 2, float16 2); dequantized value = q * scale + min (float16: IEEE half).
// A weight may straddle two shards. Groups are independent; their order need not follow layers.
// Names: TF.js itself matches a manifest name as written, then with its second-to-last component
// dropped (tfjs-layers container.ts loadWeights: `lstm/lstm_cell/kernel` → `lstm/kernel`); the
// writers differ in scopes (wrapper, Bidirectional half, cell, model name), so rnnscope matches
// every name by the scopes the config declares (src/model/weight-names.ts, docs/formats.md);
// a converted `.keras` names weights by store path `layers/lstm/cell/vars/0` instead.

import { LoadError } from '../model/errors.js';
import type { ModelSpec } from '../model/types.js';
import { buildModel, savedWeightLayout } from '../model/build.js';
import { bindLayerWeights, checkAllBound } from '../model/bind.js';
import { bidiNamesOf, matchWeightNames } from '../model/weight-names.js';
import type { FileSet } from './types.js';
import { jsonMentions, looksLikeJsonObject, parseJson } from './common.js';
import { halfToFloat } from './float16.js';
import { bindV3 } from './keras3-store.js';
import type { StoredArray, VarStore } from './weight-store.js';
import { lfsPointerNote } from './magic.js';

export const name = 'tfjs-layers';

/** Most bytes one model's shards may hold in total. */
export const MAX_WEIGHT_BYTES = 2 ** 31 - 1;

export function match(bytes: Uint8Array, _fileName: string): boolean {
  return looksLikeJsonObject(bytes) && (jsonMentions(bytes, 'modelTopology') || jsonMentions(bytes, 'weightsManifest'));
}

interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number; original_dtype?: string };
}

interface Group {
  paths: string[];
  weights: WeightEntry[];
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

export async function open(files: FileSet): Promise<ModelSpec> {
  const file = files.name;
  const doc = parseJson(files.bytes, file, 'TF.js model.json');
  if (!isObj(doc) || !isObj(doc.modelTopology)) {
    throw new LoadError(
      `${file} has no modelTopology object; expected a TF.js layers model.json; graph models (tfjs_graph_model) are not supported, convert with --output_format=tfjs_layers_model.`,
      { file },
    );
  }
  if (doc.format !== undefined && doc.format !== 'layers-model') {
    throw new LoadError(
      `${file} has format "${String(doc.format)}"; expected "layers-model"; convert the model with --output_format=tfjs_layers_model.`,
      { file },
    );
  }
  const topo = doc.modelTopology;
  const modelConfig = isObj(topo.model_config) ? topo.model_config : topo;
  // keras_version is the converter's source Keras (converter output) or "tfjs-layers x.y.z" (tf.LayersModel.save).
  const kerasVersion =
    typeof topo.keras_version === 'string'
      ? topo.keras_version
      : typeof doc.generatedBy === 'string'
        ? doc.generatedBy.replace(/^keras v/, '')
        : 'tfjs';
  const backend = typeof topo.backend === 'string' ? topo.backend : null;
  const trainingConfig = doc.trainingConfig ?? topo.training_config ?? null;
  const model = buildModel(modelConfig, { kerasVersion, format: name, backend, trainingConfig, source: file });
  const groups = manifest(doc.weightsManifest, file);
  const arrays = new Map<string, StoredArray>();
  for (const g of groups)
    for (const a of await readGroup(g, files)) {
      if (arrays.has(a.name))
        throw new LoadError(
          `${file} lists weight ${a.name} twice; expected unique weight names; the manifest is damaged.`,
          { file },
        );
      arrays.set(a.name, a);
    }
  bindByName(model, modelConfig, arrays, file);
  checkAllBound(model);
  return model;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function manifest(m: unknown, file: string): Group[] {
  const bad = (what: string): never => {
    throw new LoadError(
      `${file} has a malformed weightsManifest (${what}); expected [{paths: [...], weights: [{name, shape, dtype}]}]; the model.json is damaged.`,
      { file },
    );
  };
  if (!Array.isArray(m)) bad('not a list');
  return (m as unknown[]).map((g, gi) => {
    if (!isObj(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) bad(`group ${gi}`);
    const gg = g as Record<string, unknown[]>;
    if (!gg.paths.every((p) => typeof p === 'string')) bad(`group ${gi} paths`);
    const weights = gg.weights.map((w, wi) => {
      if (!isObj(w) || typeof w.name !== 'string' || typeof w.dtype !== 'string' || !Array.isArray(w.shape))
        bad(`group ${gi} weight ${wi}`);
      const ww = w as unknown as WeightEntry;
      if (!ww.shape.every((d) => Number.isInteger(d) && d >= 0)) bad(`weight ${ww.name} shape [${ww.shape.join(',')}]`);
      return ww;
    });
    return { paths: gg.paths as string[], weights };
  });
}

/** Size in bytes of one manifest entry; refuses unsupported dtypes. */
function entryBytes(w: WeightEntry, file: string): number {
  const dt = w.quantization?.dtype ?? w.dtype;
  const per = BYTES[dt];
  if (per === undefined) {
    throw new LoadError(
      `${file} weight ${w.name} has dtype ${dt}; expected float32, int32, or uint8/uint16/float16 quantization; re-convert the model without that option.`,
      { file },
    );
  }
  let n = 1;
  for (const d of w.shape) n *= d;
  return n * per;
}

async function readGroup(g: Group, files: FileSet): Promise<StoredArray[]> {
  const file = files.name;
  const sizes = g.weights.map((w) => entryBytes(w, file));
  const need = sizes.reduce((a, b) => a + b, 0);
  if (!(need <= MAX_WEIGHT_BYTES))
    throw new LoadError(
      `${file} declares ${need} bytes of weights in one group; expected at most ${MAX_WEIGHT_BYTES}; the manifest is damaged or the model too large.`,
      { file },
    );
  const shards: Uint8Array[] = [];
  let have = 0;
  for (const p of g.paths) {
    // Shard paths are relative to model.json; never absolute, never a URL, never outside its folder.
    if (/^([a-z][a-z0-9+.-]*:|[\\/])/i.test(p) || p.split(/[\\/]/).includes('..')) {
      throw new LoadError(
        `${file} names weight shard "${p}"; expected a file name beside model.json; the manifest points outside the model folder.`,
        { file },
      );
    }
    const b = await files.get(p.replace(/^\.\//, ''));
    if (!b)
      throw new LoadError(
        `Weight shard ${p} of ${file} was not found; expected it beside model.json; copy all shard files with the model.`,
        { file },
      );
    const lfs = lfsPointerNote(`Weight shard ${p} of ${file}`, b);
    if (lfs) throw new LoadError(lfs, { file });
    shards.push(b);
    have += b.length;
  }
  if (have !== need) {
    throw new LoadError(
      `The shards of ${file} (${g.paths.join(', ')}) hold ${have} bytes but its manifest declares ${need} for [${g.weights.map((w) => w.name).join(', ')}]; expected them to agree; the shards are truncated or belong to another model.`,
      { file },
    );
  }
  // Concatenate once; a weight may straddle a shard boundary.
  const buf = shards.length === 1 ? shards[0] : concat(shards, have);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: StoredArray[] = [];
  let at = 0;
  g.weights.forEach((w, i) => {
    out.push({ name: w.name, shape: w.shape, data: decodeEntry(w, dv, at, sizes[i], file) });
    at += sizes[i];
  });
  return out;
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function decodeEntry(
  w: WeightEntry,
  dv: DataView,
  at: number,
  nbytes: number,
  file: string,
): Float32Array | Int32Array {
  const q = w.quantization;
  if (!q) {
    if (w.dtype === 'int32') {
      const out = new Int32Array(nbytes / 4);
      for (let i = 0; i < out.length; i++) out[i] = dv.getInt32(at + 4 * i, true);
      return out;
    }
    if (w.dtype === 'bool') {
      const out = new Int32Array(nbytes);
      for (let i = 0; i < out.length; i++) out[i] = dv.getUint8(at + i) ? 1 : 0;
      return out;
    }
    const out = new Float32Array(nbytes / 4);
    for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(at + 4 * i, true);
    return out;
  }
  if (q.dtype === 'float16') {
    const h = new Uint16Array(nbytes / 2);
    for (let i = 0; i < h.length; i++) h[i] = dv.getUint16(at + 2 * i, true);
    return halfToFloat(h);
  }
  const scale = q.scale;
  const min = q.min;
  if (typeof scale !== 'number' || typeof min !== 'number' || !Number.isFinite(scale) || !Number.isFinite(min)) {
    throw new LoadError(
      `${file} weight ${w.name} has ${q.dtype} quantization without finite scale/min; expected both numbers; the manifest is damaged.`,
      { file },
    );
  }
  const per = q.dtype === 'uint8' ? 1 : 2;
  const n = nbytes / per;
  // tfjs-core io_utils.ts: float = q * scale + min, computed in float32; int32 weights are rounded.
  if (w.dtype === 'int32') {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++)
      out[i] = Math.round((per === 1 ? dv.getUint8(at + i) : dv.getUint16(at + 2 * i, true)) * scale + min);
    return out;
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (per === 1 ? dv.getUint8(at + i) : dv.getUint16(at + 2 * i, true)) * scale + min;
  return out;
}

/**
 * Give each model layer its arrays. Keras-3-converted manifests (`.../vars/<i>` names) are
 * walked like a .keras store; otherwise names are matched to layers by the scopes the config
 * declares (src/model/weight-names.ts), which covers the names every Keras family and TF.js write.
 */
export function bindByName(
  model: ModelSpec,
  modelConfig: Record<string, unknown>,
  arrays: Map<string, StoredArray>,
  file: string,
): void {
  const names = [...arrays.keys()];
  if (names.length > 0 && names.every((n) => /\/vars\/\d+$/.test(n))) {
    bindV3(model, modelConfig, mapStore(arrays), file);
    return;
  }
  const layouts = model.layers.map((_, i) => (model.params[i].length === 0 ? [] : savedWeightLayout(model, i)));
  const matched = matchWeightNames(model, layouts, [...arrays.values()], bidiNamesOf(modelConfig), file);
  for (const [i, keys] of matched)
    bindLayerWeights(
      model,
      i,
      keys.map((k) => arrays.get(k)!),
    );
}

/** A VarStore over `<path>/vars/<i>` manifest names (Keras 3 models converted by tensorflowjs). */
function mapStore(arrays: Map<string, StoredArray>): VarStore {
  const groups = new Set<string>();
  for (const n of arrays.keys()) {
    const parts = n.split('/');
    for (let k = 1; k < parts.length; k++) groups.add(parts.slice(0, k).join('/'));
  }
  return {
    children(path) {
      const pre = path ? `${path}/` : '';
      const out = new Set<string>();
      for (const g of groups)
        if (g.startsWith(pre) && g.length > pre.length) out.add(g.slice(pre.length).split('/')[0]);
      return [...out];
    },
    vars(path) {
      const pre = path ? `${path}/vars/` : 'vars/';
      const out: StoredArray[] = [];
      for (let i = 0; arrays.has(pre + i); i++) out.push(arrays.get(pre + i)!);
      return out.length > 0 || groups.has(pre.slice(0, -1)) ? out : null;
    },
  };
}
