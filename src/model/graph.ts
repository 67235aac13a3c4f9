// Sequential / Functional configs → a flat DAG of layer calls.
//
//   parse     config JSON → ModelDef tree (entries in config order; nested
//             Sequential/Functional models become sub-trees)
//   register  assign layer indices in Keras `model.layers` order, nested models
//             expanded in place (their InputLayers dropped), names "outer/inner"
//   call      instantiate nodes in topological order: shapes (shapes.ts) and,
//             at a layer's first call, its parameters (params.ts)
//
// Connectivity forms (docs/formats.md, 'Sequential and Functional'): Keras 1/2/tf.keras/TF.js
// `inbound_nodes: [[[name, node, tensor, kwargs?], ...], ...]`, Keras 3
// `[{args: [__keras_tensor__ …], kwargs: {…}}]`. node_index counts the calls of
// a layer inside the model that holds the config.

import type { GraphNode, LayerSpec, ParamSpec, Shape, TensorId, TensorInfo, WeightGroup } from './types.js';
import { ModelError } from './errors.js';
import type { BuildContext } from './config-reader.js';
import { readShape } from './config-reader.js';
import { isKerasTensorRef, isRecord, isTensorTriple } from './keras-format.js';
import { parseLayer, type CellInfo, type ParsedLayer } from './layers-config.js';
import { inferCall, type DType } from './shapes.js';
import { paramSpecs } from './params.js';
import { msg } from './messages.js';
import { applyCallArgs, takesSeveralInputs, TENSOR_KWARG_NAMES } from './attention-config.js';
import { MinHeap } from './min-heap.js';

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);

interface Ref {
  layer: string;
  node: number;
  tensor: number;
}
interface NodeRefs {
  inputs: Ref[];
  states: Ref[];
  kwargs?: unknown;
}

interface Slot {
  index: number;
  parsed: ParsedLayer;
  built: Shape[] | null;
}

type Entry =
  | { kind: 'input'; name: string; shape: Shape; dtype: DType; parsed: ParsedLayer; slot: Slot | null }
  | { kind: 'layer'; name: string; parsed: ParsedLayer; inbound: NodeRefs[]; slot: Slot | null }
  | { kind: 'model'; name: string; cls: string; def: ModelDef; inbound: NodeRefs[] };

/** An entry with inbound nodes (not an InputLayer). */
type Called = Exclude<Entry, { kind: 'input' }>;

export interface ModelDef {
  kind: 'sequential' | 'functional';
  name: string;
  trainable: boolean;
  entries: Entry[];
  inputRefs: Ref[];
  outputRefs: Ref[];
  /** Output names when output_layers is a dict (Keras 3), else null. */
  outputKeys: string[] | null;
  /** Sequential only: input shape recorded by the model (build_input_shape). */
  buildInputShape: Shape | null;
}

/** The Keras top-level layers and the ModelSpec layers each one became (loaders pair weights by these). */
export type { WeightGroup } from './types.js';

// ---------------------------------------------------------------------------- parse

export function parseModel(obj: unknown, prefix: string, trainable: boolean, ctx: BuildContext): ModelDef {
  if (Array.isArray(obj)) return parseSequential(obj, 'sequential', prefix, trainable, null, ctx); // Keras 1 bare list
  if (!isRecord(obj))
    throw new ModelError(msg.notAModelConfig(obj === null ? 'null' : Array.isArray(obj) ? 'a list' : typeof obj));
  const cls = obj['class_name'];
  const cfg = obj['config'];
  if (typeof cls !== 'string') throw new ModelError(msg.notAModelConfig('an object without class_name'));
  if (!MODEL_CLASSES.has(cls)) throw new ModelError(msg.unsupportedModelClass(cls));
  if (cls === 'Sequential') {
    if (Array.isArray(cfg))
      return parseSequential(
        cfg,
        typeof obj['name'] === 'string' ? obj['name'] : 'sequential',
        prefix,
        trainable,
        null,
        ctx,
      );
    if (!isRecord(cfg) || !Array.isArray(cfg['layers']))
      throw new ModelError(msg.notAModelConfig('a Sequential without a layers list'));
    const bcfg = obj['build_config'];
    const b = readShape(cfg['build_input_shape']) ?? (isRecord(bcfg) ? readShape(bcfg['input_shape']) : null);
    const bis = b ? [null, ...b.slice(1)] : null;
    return parseSequential(
      cfg['layers'],
      String(cfg['name'] ?? obj['name'] ?? 'sequential'),
      prefix,
      trainable && cfg['trainable'] !== false,
      bis,
      ctx,
    );
  }
  if (!isRecord(cfg) || !Array.isArray(cfg['layers']))
    throw new ModelError(msg.notAModelConfig(`a ${cls} without a layers list`));
  return parseFunctional(cfg, prefix, trainable && cfg['trainable'] !== false, ctx);
}

function entryOf(raw: unknown, prefix: string, trainable: boolean, ctx: BuildContext, functional: boolean): Entry {
  if (!isRecord(raw) || typeof raw['class_name'] !== 'string')
    throw new ModelError(msg.notAModelConfig('a layer entry without class_name'));
  const cls = raw['class_name'];
  const cfg = isRecord(raw['config']) ? raw['config'] : {};
  const name = String(raw['name'] ?? cfg['name'] ?? cls.toLowerCase());
  const inbound = functional ? parseInbound(prefix + name, raw['inbound_nodes']) : [];
  if (MODEL_CLASSES.has(cls)) {
    const def = parseModel(raw, `${prefix + name}/`, trainable && cfg['trainable'] !== false, ctx);
    return { kind: 'model', name, cls, def, inbound };
  }
  const registered = typeof raw['registered_name'] === 'string' ? raw['registered_name'] : null;
  const parsed = parseLayer(prefix + name, cls, cfg, ctx, registered);
  parsed.trainable &&= trainable;
  if (parsed.spec.type === 'InputLayer')
    return { kind: 'input', name, shape: parsed.spec.shape, dtype: parsed.spec.dtype, parsed, slot: null };
  return { kind: 'layer', name, parsed, inbound, slot: null };
}

function parseSequential(
  layers: unknown[],
  name: string,
  prefix: string,
  trainable: boolean,
  buildInputShape: Shape | null,
  ctx: BuildContext,
): ModelDef {
  const entries = layers.map((l) => entryOf(l, prefix, trainable, ctx, false));
  return {
    kind: 'sequential',
    name,
    trainable,
    entries,
    inputRefs: [],
    outputRefs: [],
    outputKeys: null,
    buildInputShape,
  };
}

function refList(v: unknown): { refs: Ref[]; keys: string[] | null } {
  const one = (t: unknown): Ref => {
    if (!isTensorTriple(t))
      throw new ModelError(
        msg.notAModelConfig(`a functional model whose input/output list holds ${JSON.stringify(t)}`),
      );
    return { layer: t[0], node: t[1], tensor: t[2] };
  };
  if (isTensorTriple(v)) return { refs: [one(v)], keys: null };
  if (Array.isArray(v)) return { refs: v.map(one), keys: null };
  if (isRecord(v)) return { refs: Object.values(v).map(one), keys: Object.keys(v) };
  throw new ModelError(msg.notAModelConfig('a functional model without input_layers / output_layers'));
}

function parseFunctional(
  cfg: Record<string, unknown>,
  prefix: string,
  trainable: boolean,
  ctx: BuildContext,
): ModelDef {
  const entries = (cfg['layers'] as unknown[]).map((l) => entryOf(l, prefix, trainable, ctx, true));
  const ins = refList(cfg['input_layers']);
  const outs = refList(cfg['output_layers']);
  return {
    kind: 'functional',
    name: String(cfg['name'] ?? 'model'),
    trainable,
    entries,
    inputRefs: ins.refs,
    outputRefs: outs.refs,
    outputKeys: outs.keys,
    buildInputShape: null,
  };
}

/** Tensor references inside a Keras 3 call argument (a tensor, a list of tensors, a dict of them). */
function v3Refs(v: unknown, out: Ref[]): Ref[] {
  if (isKerasTensorRef(v)) {
    const [layer, node, tensor] = v.config.keras_history;
    out.push({ layer, node, tensor });
  } else if (Array.isArray(v)) for (const x of v) v3Refs(x, out);
  else if (isRecord(v)) for (const x of Object.values(v)) v3Refs(x, out);
  return out;
}

/** Tensor references inside a legacy kwargs value ([name, node, tensor] triples, tf.keras Node.serialize). */
function legacyRefs(v: unknown, out: Ref[]): Ref[] {
  if (isTensorTriple(v)) out.push({ layer: v[0], node: v[1], tensor: v[2] });
  else if (Array.isArray(v)) for (const x of v) legacyRefs(x, out);
  return out;
}

/** initial_state tensors, and the tensor kwargs some layers take as extra inputs (MultiHeadAttention value=, key=) in
 * input order. */
function kwargRefs(
  layer: string,
  kwargs: unknown,
  refsOf: (v: unknown, out: Ref[]) => Ref[],
): { states: Ref[]; extra: Ref[] } {
  const states: Ref[] = [];
  const extra: Ref[] = [];
  if (!isRecord(kwargs)) return { states, extra };
  for (const k of TENSOR_KWARG_NAMES) extra.push(...refsOf(kwargs[k], []));
  for (const [k, v] of Object.entries(kwargs)) {
    const refs = refsOf(v, []);
    if (refs.length === 0 || TENSOR_KWARG_NAMES.includes(k)) continue; // training=false, mask=null, …
    if (k !== 'initial_state') throw new ModelError(msg.unsupportedCallArg(layer, k));
    states.push(...refs);
  }
  return { states, extra };
}

function parseInbound(layer: string, raw: unknown): NodeRefs[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((node): NodeRefs => {
    if (isRecord(node) && Array.isArray(node['args'])) {
      const kw = kwargRefs(layer, node['kwargs'], v3Refs);
      return { inputs: [...v3Refs(node['args'], []), ...kw.extra], states: kw.states, kwargs: node['kwargs'] };
    }
    if (!Array.isArray(node)) throw new ModelError(msg.unknownInbound(layer, JSON.stringify(node)));
    const inputs: Ref[] = [];
    for (const e of node) {
      if (Array.isArray(e) && e[0] === '_CONSTANT_VALUE') throw new ModelError(msg.constantInput(layer));
      if (!isTensorTriple(e)) throw new ModelError(msg.unknownInbound(layer, JSON.stringify(e)));
      inputs.push({ layer: e[0], node: e[1], tensor: e[2] });
    }
    const first = node[0] as unknown[] | undefined;
    const kw = kwargRefs(layer, first?.[3], legacyRefs);
    return { inputs: [...inputs, ...kw.extra], states: kw.states, kwargs: first?.[3] };
  });
}

// ---------------------------------------------------------------------------- register + call

export class GraphBuilder {
  readonly layers: LayerSpec[] = [];
  readonly params: ParamSpec[][] = [];
  readonly nodes: GraphNode[] = [];
  readonly tensors: TensorInfo[] = [];
  readonly groups: WeightGroup[] = [];
  /** Recurrent sub-layer facts per layer index (saved weight layout). */
  readonly cells: CellInfo[][] = [];

  private addLayer(parsed: ParsedLayer): Slot {
    const index = this.layers.length;
    this.layers.push(parsed.spec);
    this.params.push([]);
    this.cells.push(parsed.cells.map((c) => ({ className: c.className, consumeLess: c.consumeLess })));
    return { index, parsed, built: null };
  }

  /** Assign indices in config order; returns the indices used. `top`: keep InputLayers as layers. */
  register(def: ModelDef, top: boolean): number[] {
    const used: number[] = [];
    for (const e of def.entries) {
      const before = this.layers.length;
      if (e.kind === 'model') this.register(e.def, false);
      else if (e.kind === 'layer' || top) e.slot = this.addLayer(e.parsed);
      const idx = Array.from({ length: this.layers.length - before }, (_, i) => before + i);
      for (const i of idx) used.push(i);
      if (top)
        this.groups.push({
          name: e.name,
          className: e.kind === 'model' ? e.cls : e.parsed.spec.className,
          layers: idx,
        });
    }
    return used;
  }

  tensor(shape: Shape, dtype: DType): TensorId {
    const id = this.tensors.length;
    this.tensors.push({ id, shape, dtype });
    return id;
  }

  /** The node of an InputLayer: no inputs, one output tensor. */
  inputNode(slot: Slot): TensorId {
    const spec = slot.parsed.spec as Extract<LayerSpec, { type: 'InputLayer' }>;
    const t = this.tensor(spec.shape, spec.dtype);
    this.nodes.push({ layer: slot.index, inputs: [], outputs: [t] });
    return t;
  }

  /** Call a model def on tensors; returns its output tensors. */
  callModel(def: ModelDef, inputs: TensorId[]): TensorId[] {
    return def.kind === 'sequential' ? this.callSequential(def, inputs) : this.callFunctional(def, inputs);
  }

  private checkInput(name: string, t: TensorId, expected: Shape): void {
    const got = this.tensors[t]!.shape;
    const ok =
      got.length === expected.length &&
      got.every((d, i) => i === 0 || d === null || expected[i] === null || d === expected[i]);
    if (!ok) throw new ModelError(msg.inputShapeMismatch(name, got, expected));
  }

  private callSequential(def: ModelDef, inputs: TensorId[]): TensorId[] {
    if (inputs.length !== 1) throw new ModelError(msg.nestedInputCount(def.name, inputs.length, 1));
    let x = inputs[0]!;
    for (const e of def.entries) {
      if (e.kind === 'input') {
        this.checkInput(e.parsed.spec.name, x, e.shape);
        continue;
      }
      const outs = this.callEntry(e, [x], []);
      if (outs.length !== 1) throw new ModelError(msg.sequentialMultiOutput(def.name, e.name, outs.length));
      x = outs[0]!;
    }
    return [x];
  }

  private callFunctional(def: ModelDef, inputs: TensorId[]): TensorId[] {
    if (inputs.length !== def.inputRefs.length)
      throw new ModelError(msg.nestedInputCount(def.name, inputs.length, def.inputRefs.length));
    const byName = new Map(def.entries.map((e) => [e.name, e]));
    // Calls made so far per entry, for this call of the model: node_index → output tensors.
    const calls = new Map<Entry, TensorId[][]>();
    def.inputRefs.forEach((r, i) => {
      const e = byName.get(r.layer);
      if (e?.kind !== 'input') throw new ModelError(msg.unknownInbound(def.name, `input '${r.layer}'`));
      this.checkInput(e.parsed.spec.name, inputs[i]!, e.shape);
      calls.set(e, [[inputs[i]!]]);
    });
    const resolve = (r: Ref): TensorId | undefined => {
      const e = byName.get(r.layer);
      return e ? calls.get(e)?.[r.node]?.[r.tensor] : undefined;
    };
    const order = def.entries.filter((e): e is Called => e.kind !== 'input');
    for (const e of order) {
      for (const n of e.inbound)
        for (const r of [...n.inputs, ...n.states]) {
          if (!byName.has(r.layer)) throw new ModelError(msg.unknownInbound(e.name, `layer '${r.layer}'`));
        }
    }
    this.runPasses(order, byName, calls, resolve);
    return def.outputRefs.map((r) => {
      const t = resolve(r);
      if (t === undefined)
        throw new ModelError(msg.unknownInbound(def.name, `output '${r.layer}'[${r.node}][${r.tensor}]`));
      return t;
    });
  }

  /**
   * Keras from_config: visit the entries in config order, each calling its pending nodes while
   * their inputs exist, and repeat the passes until nothing changes. Emulated exactly but in
   * O(nodes log nodes) rather than O(passes × entries) (a config listed in reverse order would
   * need one pass per layer): an entry is revisited only when an entry it waits on was called,
   * in the same pass if it comes later in the config, else in the next.
   */
  private runPasses(
    order: Called[],
    byName: Map<string, Entry>,
    calls: Map<Entry, TensorId[][]>,
    resolve: (r: Ref) => TensorId | undefined,
  ): void {
    const m = order.length;
    const next = order.map(() => 0); // first node not yet called, per entry
    const waiters = new Map<Entry, number[]>(); // entry → entries whose next node waits on it
    const scheduled = new Uint8Array(m);
    const heap = new MinHeap();
    for (let i = 0; i < m; i++) {
      heap.push(i);
      scheduled[i] = 1;
    }
    while (heap.size > 0) {
      const key = heap.pop();
      const pass = Math.floor(key / m);
      const i = key - pass * m;
      scheduled[i] = 0;
      const e = order[i]!;
      while (next[i]! < e.inbound.length) {
        const n = e.inbound[next[i]!]!;
        const refs = [...n.inputs, ...n.states];
        const got = refs.map(resolve);
        if (got.includes(undefined)) {
          // Woken when an entry it waits on is called (each call may make the missing node exist).
          refs.forEach((r, k) => {
            if (got[k] !== undefined) return;
            const src = byName.get(r.layer)!;
            if (!waiters.has(src)) waiters.set(src, []);
            waiters.get(src)!.push(i);
          });
          break;
        }
        next[i]!++;
        const outs = this.callEntry(
          e,
          got.slice(0, n.inputs.length) as TensorId[],
          got.slice(n.inputs.length) as TensorId[],
          n.kwargs,
        );
        if (!calls.has(e)) calls.set(e, []);
        calls.get(e)!.push(outs);
        const woken = waiters.get(e);
        if (woken) {
          waiters.delete(e);
          for (const w of woken) {
            if (w === i || scheduled[w]) continue;
            scheduled[w] = 1;
            heap.push((w > i ? pass : pass + 1) * m + w);
          }
        }
      }
    }
    const stuck = order.filter((e, i) => next[i]! < e.inbound.length).map((e) => e.name);
    if (stuck.length > 0)
      throw new ModelError(
        msg.graphCycle(stuck.length > 10 ? [...stuck.slice(0, 10), `… (${stuck.length} in all)`] : stuck),
      );
  }

  private callEntry(e: Entry, inputs: TensorId[], states: TensorId[], kwargs?: unknown): TensorId[] {
    if (e.kind === 'model') {
      if (states.length > 0) throw new ModelError(msg.unsupportedCallArg(e.name, 'initial_state'));
      return this.callModel(e.def, inputs);
    }
    if (e.kind === 'input') throw new ModelError(msg.unknownInbound(e.name, 'an inbound node of an InputLayer'));
    const slot = e.slot!;
    const spec = slot.parsed.spec;
    const recurrent = spec.type === 'Recurrent' || spec.type === 'Bidirectional';
    // Keras 2 / tf.keras pass initial states as extra entries of the node (RNN.__call__ full_input).
    if (recurrent && inputs.length > 1) {
      states = [...inputs.slice(1), ...states];
      inputs = inputs.slice(0, 1);
    }
    if (!recurrent && states.length > 0) throw new ModelError(msg.unsupportedCallArg(spec.name, 'initial_state'));
    if (!takesSeveralInputs(spec) && inputs.length !== 1)
      throw new ModelError(msg.mergeCount(spec.name, spec.className, inputs.length, 'exactly 1'));
    applyCallArgs(spec, kwargs, slot.built === null);
    const all = [...inputs, ...states];
    const shapes = all.map((t) => this.tensors[t]!.shape);
    const res = inferCall(
      spec,
      shapes,
      all.map((t) => this.tensors[t]!.dtype),
    );
    const params = paramSpecs(spec, shapes, slot.parsed.trainable);
    if (slot.built === null) {
      slot.built = shapes;
      this.params[slot.index] = params;
    } else {
      const before = this.params[slot.index]!;
      const same =
        before.length === params.length && before.every((p, i) => p.shape.join() === params[i]!.shape.join());
      if (!same) throw new ModelError(msg.sharedLayerMismatch(spec.name, slot.built[0]!, shapes[0]!));
    }
    const outputs = res.shapes.map((s, i) => this.tensor(s, res.dtypes[i]!));
    this.nodes.push({ layer: slot.index, inputs: all, outputs });
    return outputs;
  }
}

/** The input shape a Sequential def starts from, when it records one. */
export function sequentialInputHint(def: ModelDef): { shape: Shape; dtype: DType } | null {
  const first = def.entries[0];
  if (!first) return null;
  if (first.kind === 'input') return { shape: first.shape, dtype: first.dtype };
  if (first.kind === 'layer' && first.parsed.inputHint)
    return { shape: first.parsed.inputHint, dtype: first.parsed.inputDtype };
  if (first.kind === 'model') {
    const inner = first.def.kind === 'sequential' ? sequentialInputHint(first.def) : null;
    if (inner) return inner;
    const ie = first.def.entries.find((x) => x.kind === 'input' && x.name === first.def.inputRefs[0]?.layer);
    if (ie && ie.kind === 'input') return { shape: ie.shape, dtype: ie.dtype };
  }
  if (def.buildInputShape) return { shape: def.buildInputShape, dtype: 'float32' };
  return null;
}

export type { Entry, Slot };
