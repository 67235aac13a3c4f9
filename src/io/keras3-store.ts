// The Keras 3 variable store: where a layer's variables live in model.weights.h5 (or .npz, or a
// converted TF.js manifest), walked beside the config (docs/formats.md, 'Keras 3 variable store'):
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
import { bindLayerWeights } from '../model/bind.js';
import type { H5File } from './hdf5.js';
import {
  allowedValues,
  bindAll,
  expectedValues,
  numbered,
  type LayerWeights,
  type VarStore,
  type WeightArray,
} from './weight-store.js';

export type { VarStore } from './weight-store.js';

/** A VarStore over an open Keras 3 weights HDF5 file (model.weights.h5, a .weights.h5). */
export function h5Store(h5: H5File): VarStore {
  return {
    children(path) {
      return h5.kind(`/${path}`) === 'group'
        ? h5.keys(`/${path}`).filter((k) => h5.kind(`/${path}/${k}`) === 'group')
        : [];
    },
    vars(path) {
      const g = path ? `/${path}/vars` : '/vars';
      if (h5.kind(g) !== 'group') return null;
      return numbered(h5.keys(g), g, h5.name).map((k): WeightArray => {
        const info = h5.checkDataset(`${g}/${k}`);
        return {
          name: `${g.slice(1)}/${k}`,
          shape: info.shape,
          bytes: info.nbytes,
          read: () => h5.dataset(`${g}/${k}`).data,
        };
      });
    },
    budget: h5.budget,
  };
}

/** Keras's to_snake_case (keras/src/utils/naming.py). */
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

/**
 * Walk the config beside the store, pairing each layer's arrays with the model layer of the same
 * name; then check them all against the config and bind them (weight-store.ts bindAll).
 */
export function bindV3(model: ModelSpec, config: Record<string, unknown>, store: VarStore, file: string): void {
  const root = store.children('').includes('layers')
    ? 'layers'
    : store.children('').includes('_layer_checkpoint_dependencies')
      ? '_layer_checkpoint_dependencies'
      : null;
  if (root === null) {
    throw new LoadError(
      `${file} has no layers group (found ${store.children('').slice(0, 8).join(', ') || 'nothing'}); expected Keras 3 weights under layers/; the file is not a Keras 3 weights store.`,
      { file },
    );
  }
  const cfg = config as unknown as LayerCfg;
  const byName = new Map<string, number>();
  model.layers.forEach((m, i) => {
    if (!byName.has(m.name)) byName.set(m.name, i);
  });
  const items: LayerWeights[] = [];
  const walk: Walk = { model, byName, store, file, items };
  walkContainer(walk, layerList(cfg, file), cfg.class_name === 'Sequential', root, '', 0);
  bindAll(model, items, file, store.budget ?? null);
}

function layerList(cfg: LayerCfg, file: string): LayerCfg[] {
  const c = cfg.config as Record<string, unknown> | unknown[] | undefined;
  const list = Array.isArray(c) ? c : (c as Record<string, unknown> | undefined)?.layers;
  if (!Array.isArray(list))
    throw new LoadError(
      `${file}: model ${String(cfg.class_name)} has no layer list; expected config.layers; the config is damaged.`,
      { file },
    );
  return list.filter(
    (l): l is LayerCfg =>
      !!l && typeof l === 'object' && typeof (l as LayerCfg).class_name === 'string' && !!(l as LayerCfg).config,
  );
}

interface Walk {
  model: ModelSpec;
  /** ModelSpec layer index by name (the first of duplicates, as a linear search would find). */
  byName: Map<string, number>;
  store: VarStore;
  file: string;
  /** What to bind, collected before anything is read. */
  items: LayerWeights[];
}

/** `names` is the ModelSpec name prefix of this container's layers ('' at top level, 'inner_model/' inside a nested
 * model). */
function walkContainer(
  w: Walk,
  layers: LayerCfg[],
  sequential: boolean,
  prefix: string,
  names: string,
  depth: number,
): void {
  const { model, store, file } = w;
  if (depth > 16)
    throw new LoadError(
      `${file} nests models more than 16 deep; expected a plain model; the config is damaged or cyclic.`,
      { file },
    );
  // Sequential.layers excludes the InputLayer that Sequential's config lists (keras/src/models/sequential.py).
  const saved = sequential ? layers.filter((l) => l.class_name !== 'InputLayer') : layers;
  const paths = containerNames(saved, store.children(prefix));
  saved.forEach((l, i) => {
    const path = paths[i] === null ? null : `${prefix}/${paths[i]}`;
    const layerName = names + String((l as { name?: unknown }).name ?? l.config.name ?? l.class_name.toLowerCase());
    if (MODEL_CLASSES.has(l.class_name)) {
      if (path === null) return;
      const inner = store.children(path).includes('layers') ? 'layers' : '_layer_checkpoint_dependencies';
      walkContainer(
        w,
        layerList(l, file),
        l.class_name === 'Sequential',
        `${path}/${inner}`,
        `${layerName}/`,
        depth + 1,
      );
      return;
    }
    const idx = w.byName.get(layerName);
    const maxValues = idx === undefined ? undefined : allowedValues(expectedValues(model, [idx]));
    const arrays = path === null ? [] : gather(l, path, store, maxValues);
    if (idx === undefined) {
      if (arrays.length > 0)
        throw new ModelError(
          `${file} holds ${arrays.length} weights for layer ${layerName} (${l.class_name}) that the model does not have; expected every config layer in the model; this is a bug, please report it.`,
          { file },
        );
      return;
    }
    if (model.params[idx].length === 0) {
      if (arrays.length > 0)
        throw new ModelError(
          `${file} holds ${arrays.length} weights at ${path} for layer ${layerName} (${l.class_name}), which has no weights; expected none; the file does not belong to this config.`,
          { file },
        );
      return;
    }
    if (path === null) {
      throw new LoadError(
        `${file} has no weights group for layer ${layerName} (${l.class_name}) under ${prefix}; expected ${prefix}/${toSnakeCase(l.class_name)}...; the weights file is incomplete.`,
        { file },
      );
    }
    w.items.push({
      name: layerName,
      className: l.class_name,
      layers: [idx],
      arrays,
      bind: (a) => bindLayerWeights(model, idx, a),
    });
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
    const list = bySnake.get(s);
    if (list) list.push(i);
    else bySnake.set(s, [i]);
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

/** A layer's arrays in Keras weight order: own vars, then the cell's, or the wrapped layers'. `maxValues`: what the
 * layer can use. */
function gather(l: LayerCfg, path: string, store: VarStore, maxValues: number | undefined): WeightArray[] {
  const own = store.vars(path, maxValues) ?? [];
  const kids = store.children(path);
  if (l.class_name === 'Bidirectional') {
    const fwd = l.config.layer as LayerCfg | undefined;
    const bwd = (l.config.backward_layer as LayerCfg | undefined) ?? fwd;
    return [
      ...own,
      ...(fwd ? gather(fwd, `${path}/forward_layer`, store, maxValues) : []),
      ...(bwd ? gather(bwd, `${path}/backward_layer`, store, maxValues) : []),
    ];
  }
  if (l.class_name === 'TimeDistributed') {
    const inner = l.config.layer as LayerCfg | undefined;
    return [...own, ...(inner && kids.includes('layer') ? gather(inner, `${path}/layer`, store, maxValues) : [])];
  }
  if (kids.includes('cell')) return [...own, ...(store.vars(`${path}/cell`, maxValues) ?? [])];
  if (l.class_name === 'MultiHeadAttention') {
    // Keras 3 keeps the four EinsumDense sublayers' variables in groups of their own.
    const parts = ['query_dense', 'key_dense', 'value_dense', 'output_dense'].filter((k) => kids.includes(k));
    return [...own, ...parts.flatMap((k) => store.vars(`${path}/${k}`, maxValues) ?? [])];
  }
  return own;
}
