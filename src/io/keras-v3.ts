// Keras 3 `.keras` model: a zip (or, saved with zipped=False, a folder) holding
//   metadata.json     {"keras_version", "date_saved"}
//   config.json       the serialized model (class_name/config/compile_config)
//   model.weights.h5  the variable store (or model.weights.npz with weights_format="npz")
// (shared/docs/keras-formats.md §1.1; keras/src/saving/saving_lib.py). Members are looked up by
// name; Keras writes them STORED but DEFLATE is accepted too.
//
// Where a layer's variables live (§1.3; saving_lib.py _save_state/_save_container_state):
//   <container>/<name>/vars/0..n    the layer's own variables, in creation order
//   <name> = to_snake_case(class name) made unique per container with a counter
//            (lstm, lstm_1, ...) — NOT the layer's configured name;
//   RNN layers keep theirs under <name>/cell/vars, Bidirectional under
//   <name>/forward_layer/... and <name>/backward_layer/..., TimeDistributed under <name>/layer/...,
//   nested models under <name>/layers/...; Sequential's own InputLayer is not in the store.
// tf.keras 2.13's .keras writer used `_layer_checkpoint_dependencies` for `layers` and its own
// auto-names (dense, dense_2, dense_4 for three Dense layers), so when the counter names are not
// exactly what the container holds, layers of one class are matched by the numeric order of
// their suffixes instead. optimizer/ and metrics/ groups are never read.

import { LoadError, ModelError } from '../model/errors.js';
import type { ModelSpec } from '../model/types.js';
import { buildModel } from '../model/build.js';
import { bindLayerWeights, checkAllBound } from '../model/bind.js';
import { H5File } from './hdf5.js';
import type { FileSet } from './index.js';
import { halfToFloat, jsonMentions, looksLikeJsonObject, parseJson, startsWith } from './common.js';
import type { StoredArray } from './keras-h5.js';
import { ZipArchive, ZIP_MAGIC } from './zip.js';

export const name = 'keras-v3';

export function match(bytes: Uint8Array, fileName: string): boolean {
  if (startsWith(bytes, ZIP_MAGIC)) return true;
  // The unzipped form: its config.json is the main file.
  return /(^|[\\/])config\.json$/.test(fileName) && looksLikeJsonObject(bytes) && jsonMentions(bytes, 'class_name') && !jsonMentions(bytes, 'modelTopology');
}

/** Where Keras 3 variables are read from: the HDF5 store or the npz store. */
export interface VarStore {
  /** Child group names of a group path ('' = root); [] when absent. */
  children(path: string): string[];
  /** The arrays of `<path>/vars` ordered 0..n-1, or null when there is no such group. */
  vars(path: string): StoredArray[] | null;
}

export function h5Store(h5: H5File): VarStore {
  return {
    children(path) {
      return h5.kind('/' + path) === 'group' ? h5.keys('/' + path).filter((k) => h5.kind(`/${path}/${k}`) === 'group') : [];
    },
    vars(path) {
      const g = path ? `/${path}/vars` : '/vars';
      if (h5.kind(g) !== 'group') return null;
      return numbered(h5.keys(g), g, h5.name).map((k) => {
        const a = h5.dataset(`${g}/${k}`);
        return { name: `${g.slice(1)}/${k}`, shape: a.shape, data: a.data };
      });
    },
  };
}

/** Dataset names 0..n-1 in numeric order; anything else in a vars group is an error. */
export function numbered(keys: string[], where: string, file: string): string[] {
  const nums = keys.map((k) => (/^(0|[1-9]\d{0,5})$/.test(k) ? Number(k) : -1)).sort((a, b) => a - b);
  if (nums.some((n, i) => n !== i)) {
    throw new LoadError(`${file} group ${where} holds [${keys.slice(0, 6).join(', ')}]; expected variables named 0, 1, 2, ...; the file was not written by Keras 3.`, { file });
  }
  return nums.map(String);
}

export async function open(files: FileSet): Promise<ModelSpec> {
  let member: (n: string) => Promise<Uint8Array | null>;
  let label: (n: string) => string;
  if (startsWith(files.bytes, ZIP_MAGIC)) {
    const zip = ZipArchive.open(files.bytes, files.name, 'a .keras zip');
    if (!zip.has('config.json')) {
      throw new LoadError(`${files.name} is a zip without config.json (it has ${zip.names().slice(0, 5).join(', ') || 'no members'}); expected a Keras .keras archive; check that this is a model saved with model.save("x.keras").`, { file: files.name });
    }
    member = async (n) => zip.read(n);
    label = (n) => `${files.name}:${n}`;
  } else {
    const dir = files.name.replace(/config\.json$/, '');
    member = async (n) => (n === 'config.json' ? files.bytes : files.get(n));
    label = (n) => dir + n;
  }
  const configBytes = await member('config.json');
  const config = asObject(parseJson(configBytes!, label('config.json')), label('config.json'));
  const metaBytes = await member('metadata.json');
  const meta = metaBytes ? asObject(parseJson(metaBytes, label('metadata.json')), label('metadata.json')) : {};
  // metadata.json keras_version is the writer's version (3.x, or 2.13+ for tf.keras's .keras writer).
  const kerasVersion = typeof meta.keras_version === 'string' ? meta.keras_version : '3';
  const trainingConfig = config.compile_config ?? null;
  const model = buildModel(config, { kerasVersion, format: name, backend: null, trainingConfig, source: files.name });
  if (files.weights !== undefined) {
    const { bindWeightsFile } = await import('./keras-weights.js');
    await bindWeightsFile(model, config, files);
    return model;
  }
  const h5Bytes = await member('model.weights.h5');
  if (h5Bytes) {
    const h5 = await H5File.open(h5Bytes, label('model.weights.h5'));
    try {
      bindV3(model, config, h5Store(h5), label('model.weights.h5'));
    } finally {
      h5.close();
    }
  } else {
    const npzBytes = await member('model.weights.npz');
    if (!npzBytes) {
      throw new LoadError(`${files.name} has no model.weights.h5 or model.weights.npz; expected the weights beside config.json; re-save the model with its weights.`, { file: files.name });
    }
    bindV3(model, config, readKerasNpz(npzBytes, label('model.weights.npz')), label('model.weights.npz'));
  }
  checkAllBound(model);
  return model;
}

function asObject(v: unknown, file: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new LoadError(`${file} holds ${Array.isArray(v) ? 'an array' : typeof v}; expected a JSON object; the file is not a Keras config.`, { file });
  }
  return v as Record<string, unknown>;
}

/** keras/src/utils/naming.py to_snake_case. */
export function toSnakeCase(s: string): string {
  return s
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

interface LayerCfg {
  class_name: string;
  config: Record<string, unknown>;
}

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

/** Walk the config beside the store, binding each layer's arrays to the model layer of the same name. */
export function bindV3(model: ModelSpec, config: Record<string, unknown>, store: VarStore, file: string): void {
  const root = store.children('').includes('layers') ? 'layers' : store.children('').includes('_layer_checkpoint_dependencies') ? '_layer_checkpoint_dependencies' : null;
  if (root === null) {
    throw new LoadError(`${file} has no layers group (found ${store.children('').join(', ') || 'nothing'}); expected Keras 3 weights under layers/; the file is not a Keras 3 weights store.`, { file });
  }
  const cfg = config as unknown as LayerCfg;
  walkContainer(model, layerList(cfg, file), cfg.class_name === 'Sequential', root, store, file, '', 0);
}

function layerList(cfg: LayerCfg, file: string): LayerCfg[] {
  const c = cfg.config as Record<string, unknown> | unknown[] | undefined;
  const list = Array.isArray(c) ? c : (c as Record<string, unknown> | undefined)?.layers;
  if (!Array.isArray(list)) throw new LoadError(`${file}: model ${String(cfg.class_name)} has no layer list; expected config.layers; the config is damaged.`, { file });
  return list.filter((l): l is LayerCfg => !!l && typeof l === 'object' && typeof (l as LayerCfg).class_name === 'string' && !!(l as LayerCfg).config);
}

/** `names` is the ModelSpec name prefix of this container's layers ('' at top level, 'inner_model/' inside a nested model). */
function walkContainer(model: ModelSpec, layers: LayerCfg[], sequential: boolean, prefix: string, store: VarStore, file: string, names: string, depth: number): void {
  if (depth > 16) throw new LoadError(`${file} nests models more than 16 deep; expected a plain model; the config is damaged or cyclic.`, { file });
  // Sequential.layers excludes the InputLayer that Sequential's config lists (keras/src/models/sequential.py).
  const saved = sequential ? layers.filter((l) => l.class_name !== 'InputLayer') : layers;
  const paths = containerNames(saved, store.children(prefix));
  saved.forEach((l, i) => {
    const path = paths[i] === null ? null : `${prefix}/${paths[i]}`;
    const layerName = names + String((l as { name?: unknown }).name ?? l.config.name ?? l.class_name.toLowerCase());
    if (MODEL_CLASSES.has(l.class_name)) {
      if (path === null) return;
      const inner = store.children(path).includes('layers') ? 'layers' : '_layer_checkpoint_dependencies';
      walkContainer(model, layerList(l, file), l.class_name === 'Sequential', `${path}/${inner}`, store, file, `${layerName}/`, depth + 1);
      return;
    }
    const arrays = path === null ? [] : gather(l, path, store);
    const idx = model.layers.findIndex((m) => m.name === layerName);
    if (idx < 0) {
      if (arrays.length > 0) throw new ModelError(`${file} holds ${arrays.length} weights for layer ${layerName} (${l.class_name}) that the model does not have; expected every config layer in the model; this is a bug, please report it.`, { file });
      return;
    }
    if (model.params[idx].length === 0) {
      if (arrays.length > 0) throw new ModelError(`${file} holds ${arrays.length} weights at ${path} for layer ${layerName} (${l.class_name}), which has no weights; expected none; the file does not belong to this config.`, { file });
      return;
    }
    if (path === null) {
      throw new LoadError(`${file} has no weights group for layer ${layerName} (${l.class_name}) under ${prefix}; expected ${prefix}/${toSnakeCase(l.class_name)}...; the weights file is incomplete.`, { file });
    }
    bindLayerWeights(model, idx, arrays);
  });
}

/**
 * The store name of each saved layer of a container: Keras 3's counter names when the container
 * holds exactly those, else (tf.keras 2.13 auto-names) per class the children named
 * `<snake>` / `<snake>_<n>` in increasing n. Null for a layer without a group.
 */
export function containerNames(layers: LayerCfg[], children: string[]): (string | null)[] {
  const bySnake = new Map<string, number[]>();
  layers.forEach((l, i) => {
    const s = toSnakeCase(l.class_name);
    bySnake.set(s, [...(bySnake.get(s) ?? []), i]);
  });
  const out: (string | null)[] = layers.map(() => null);
  const have = new Set(children);
  for (const [snake, idxs] of bySnake) {
    const counter = idxs.map((_, n) => (n === 0 ? snake : `${snake}_${n}`));
    const re = new RegExp(`^${snake}(?:_(\\d+))?$`);
    const present = children.filter((c) => re.test(c));
    if (counter.every((c) => have.has(c)) && present.length === counter.length) {
      idxs.forEach((li, n) => (out[li] = counter[n]));
      continue;
    }
    const sorted = present
      .map((c) => ({ c, n: Number(re.exec(c)![1] ?? '0') }))
      .sort((a, b) => a.n - b.n)
      .map((x) => x.c);
    // Matched by order; extra layers of this class (no group written) get null.
    idxs.forEach((li, n) => (out[li] = sorted[n] ?? null));
  }
  return out;
}

/** A layer's arrays in Keras weight order: own vars, then the cell's, or the wrapped layers'. */
function gather(l: LayerCfg, path: string, store: VarStore): StoredArray[] {
  const own = store.vars(path) ?? [];
  const kids = store.children(path);
  if (l.class_name === 'Bidirectional') {
    const fwd = l.config.layer as LayerCfg | undefined;
    const bwd = (l.config.backward_layer as LayerCfg | undefined) ?? fwd;
    return [...own, ...(fwd ? gather(fwd, `${path}/forward_layer`, store) : []), ...(bwd ? gather(bwd, `${path}/backward_layer`, store) : [])];
  }
  if (l.class_name === 'TimeDistributed') {
    const inner = l.config.layer as LayerCfg | undefined;
    return [...own, ...(inner && kids.includes('layer') ? gather(inner, `${path}/layer`, store) : [])];
  }
  if (kids.includes('cell')) return [...own, ...(store.vars(`${path}/cell`) ?? [])];
  return own;
}

// ---- model.weights.npz (weights_format="npz"; saving_lib.py NpzIOStore) ----
// np.savez of {inner_path: {"0": array, "1": ...}} (root: "__root__"): each member
// `<inner_path>.npy` is a 0-d object array, i.e. a pickle of a dict of ndarrays. The pickle is
// never executed: a tiny stack machine understands only the opcodes numpy emits for that
// (protocols 2-4) and only the globals numpy.core.multiarray._reconstruct, numpy.ndarray and
// numpy.dtype; anything else is refused.

interface NdObj { t: 'nd'; shape: number[]; descr: string; raw: Uint8Array | null }

function readKerasNpz(bytes: Uint8Array, file: string): VarStore {
  const zip = ZipArchive.open(bytes, file, 'an .npz archive');
  // Members are parsed on demand: optimizer/ and metrics/ entries are never touched.
  const keys = new Map(zip.names().filter((m) => m.endsWith('.npy')).map((m) => [m === '__root__.npy' ? '' : m.slice(0, -4), m]));
  const parse = (member: string): StoredArray[] => {
    const key = member.slice(0, -4);
    const npy = zip.read(member)!;
    const bad = (what: string): never => {
      throw new LoadError(`${file} member ${member} ${what}; expected a pickled dict of numeric arrays as Keras writes; the file is damaged or not a Keras weights store.`, { file });
    };
    if (npy.length < 12 || npy[0] !== 0x93 || npy[1] !== 0x4e) bad('is not an .npy array');
    const hl = npy[6] === 1 ? npy[8] | (npy[9] << 8) : npy[8] | (npy[9] << 8) | (npy[10] << 16) | (npy[11] << 24);
    const start = (npy[6] === 1 ? 10 : 12) + hl;
    if (start > npy.length) bad('has a truncated header');
    const obj = unpickle(npy.subarray(start), bad) as NdObj | null;
    const list = obj && typeof obj === 'object' && obj.t === 'nd' ? (obj.raw as unknown) : null;
    const dict = Array.isArray(list) ? list[0] : null;
    if (!(dict instanceof Map)) return bad('does not hold a dict');
    return numbered([...dict.keys()].map(String), key, file).map((k) => ndToArray(dict.get(k), `${key}/${k}`, bad));
  };
  return {
    children(path) {
      const pre = path ? `${path}/` : '';
      const out = new Set<string>();
      for (const k of keys.keys()) if (k.startsWith(pre) && k.length > pre.length) out.add(k.slice(pre.length).split('/')[0]);
      return [...out];
    },
    vars: (path) => (keys.has(path) ? parse(keys.get(path)!) : null),
  };
}

const DTYPES: Record<string, [number, (dv: DataView, o: number, le: boolean) => number]> = {
  f2: [2, (dv, o, le) => halfToFloat(new Uint16Array([dv.getUint16(o, le)]))[0]], f4: [4, (dv, o, le) => dv.getFloat32(o, le)], f8: [8, (dv, o, le) => dv.getFloat64(o, le)],
  i1: [1, (dv, o) => dv.getInt8(o)], u1: [1, (dv, o) => dv.getUint8(o)], i2: [2, (dv, o, le) => dv.getInt16(o, le)], i4: [4, (dv, o, le) => dv.getInt32(o, le)],
  i8: [8, (dv, o, le) => Number(dv.getBigInt64(o, le))], u8: [8, (dv, o, le) => Number(dv.getBigUint64(o, le))],
};

function ndToArray(v: unknown, name: string, bad: (w: string) => never): StoredArray {
  const nd = v as NdObj;
  if (!nd || nd.t !== 'nd' || !(nd.raw instanceof Uint8Array) || !Array.isArray(nd.shape) || !nd.shape.every((d) => Number.isInteger(d) && d >= 0)) return bad(`entry ${name} is not a numeric array`);
  const d = DTYPES[nd.descr.replace(/^[<>|=]/, '')];
  const n = nd.shape.reduce((a, b) => a * b, 1);
  if (!d || nd.raw.length !== n * d[0]) return bad(`entry ${name} has dtype ${nd.descr} and ${nd.raw.length} bytes for shape [${nd.shape.join(',')}]`);
  const dv = new DataView(nd.raw.buffer, nd.raw.byteOffset, nd.raw.byteLength);
  const le = !nd.descr.startsWith('>');
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = d[1](dv, i * d[0], le);
  return { name, shape: nd.shape, data };
}

const GLOBALS = new Set(['numpy.core.multiarray _reconstruct', 'numpy._core.multiarray _reconstruct', 'numpy ndarray', 'numpy dtype']);

/** Interpret a numpy object-array pickle without executing anything (see above). */
function unpickle(b: Uint8Array, bad: (w: string) => never): unknown {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dec = new TextDecoder();
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo: unknown[] = [];
  let p = 0;
  const take = (n: number): Uint8Array => (p + n <= b.length ? b.subarray((p += n) - n, p) : bad('has a truncated pickle'));
  const u = (n: number): number => { const x = take(n); let v = 0; for (let i = n - 1; i >= 0; i--) v = v * 256 + x[i]; return v; };
  const line = (): string => { const e = b.indexOf(0x0a, p); if (e < 0) bad('has a truncated pickle'); const s = dec.decode(b.subarray(p, e)); p = e + 1; return s; };
  const popMark = (): unknown[] => { const m = marks.pop(); if (m === undefined) bad('has an unbalanced pickle'); return stack.splice(m!); };
  const pop = (): unknown => (stack.length ? stack.pop() : bad('has an unbalanced pickle'));
  const global = (name: string) => { if (!GLOBALS.has(name)) bad(`pickles ${name}`); stack.push({ t: 'global', name }); };
  for (let ops = 0; p < b.length; ops++) {
    if (ops > 4 * b.length + 100) bad('has a pickle that does not end');
    const op = b[p++];
    switch (op) {
      case 0x80: p++; break; // PROTO
      case 0x95: p += 8; break; // FRAME
      case 0x63: global(`${line()} ${line()}`); break; // GLOBAL
      case 0x93: { const n = pop(); global(`${pop()} ${n}`); break; } // STACK_GLOBAL
      case 0x71: memo[u(1)] = stack[stack.length - 1]; break; // BINPUT
      case 0x72: memo[u(4)] = stack[stack.length - 1]; break; // LONG_BINPUT
      case 0x94: memo.push(stack[stack.length - 1]); break; // MEMOIZE
      case 0x68: stack.push(memo[u(1)]); break; // BINGET
      case 0x6a: stack.push(memo[u(4)]); break; // LONG_BINGET
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const y = pop(); stack.push([pop(), y]); break; }
      case 0x87: { const z = pop(); const y = pop(); stack.push([pop(), y, z]); break; }
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x61: { const v = pop(); (stack[stack.length - 1] as unknown[]).push(v); break; } // APPEND
      case 0x65: { const vs = popMark(); (stack[stack.length - 1] as unknown[]).push(...vs); break; } // APPENDS
      case 0x73: { const v = pop(); const k = pop(); (stack[stack.length - 1] as Map<unknown, unknown>).set(k, v); break; } // SETITEM
      case 0x75: { const kv = popMark(); const d = stack[stack.length - 1] as Map<unknown, unknown>; for (let i = 0; i + 1 < kv.length; i += 2) d.set(kv[i], kv[i + 1]); break; }
      case 0x4a: stack.push(dv.getInt32((p += 4) - 4, true)); break; // BININT
      case 0x4b: stack.push(u(1)); break; // BININT1
      case 0x4d: stack.push(u(2)); break; // BININT2
      case 0x8a: { const n = u(1); let v = 0; const x = take(n); for (let i = n - 1; i >= 0; i--) v = v * 256 + x[i]; stack.push(v); break; } // LONG1 (non-negative)
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x43: stack.push(take(u(1))); break; // SHORT_BINBYTES
      case 0x42: stack.push(take(u(4))); break; // BINBYTES
      case 0x8e: stack.push(take(u(8))); break; // BINBYTES8
      case 0x8c: stack.push(dec.decode(take(u(1)))); break; // SHORT_BINUNICODE
      case 0x58: stack.push(dec.decode(take(u(4)))); break; // BINUNICODE
      case 0x8d: stack.push(dec.decode(take(u(8)))); break; // BINUNICODE8
      case 0x52: { // REDUCE
        const args = pop() as unknown[];
        const f = pop() as { t?: string; name?: string };
        if (f?.t !== 'global' || !Array.isArray(args)) bad('has a pickle call it does not understand');
        stack.push(f.name === 'numpy dtype' ? { t: 'dtype', descr: String(args[0]) } : { t: 'nd', shape: [], descr: '', raw: null });
        break;
      }
      case 0x62: { // BUILD
        const st = pop() as unknown[];
        const o = stack[stack.length - 1] as Record<string, unknown>;
        if (!Array.isArray(st) || !o || typeof o !== 'object') bad('has a pickle state it does not understand');
        if (o.t === 'dtype' && typeof st[1] === 'string') o.descr = (st[1] === '|' ? '' : st[1]) + String(o.descr);
        else if (o.t === 'nd') { o.shape = st[1]; o.descr = (st[2] as { descr: string }).descr; o.raw = st[4]; }
        break;
      }
      case 0x2e: return pop(); // STOP
      default: bad(`has pickle opcode 0x${op.toString(16)}, which Keras does not write`);
    }
  }
  return bad('has a pickle without STOP');
}
