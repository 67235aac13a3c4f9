// The legacy Keras weight store in HDF5: one group per layer, listed by the `layer_names`
// attribute of its root, each with a `weight_names` attribute and one dataset per weight
// (docs/formats.md, 'Legacy HDF5'). Written by Keras 1.2 through Keras 3's legacy h5 saver, as
// /model_weights of a full-model .h5 and as the root of a save_weights .h5.
//
// Weights are paired with the model the way Keras loads them (load_weights_from_hdf5_group):
// topologically — the file's layers that have weights, in layer_names order, against the
// model's layers that have weights, in model order — and within a layer in weight_names order.
// Converting Keras 1 per-gate arrays and CuDNN layouts is src/model/bind.ts's job.

import { LoadError, ModelError } from '../model/errors.js';
import type { ModelSpec, WriterFamily } from '../model/types.js';
import { savedWeightLayout, weightGroups } from '../model/build.js';
import { bindLayerWeights } from '../model/bind.js';
import type { H5File } from './hdf5.js';
import type { ExpansionBudget } from './common.js';
import { bindAll, readArrays, type LayerWeights, type StoredArray, type WeightArray } from './weight-store.js';

/** One layer group of a legacy weights store. */
export interface StoredLayer<A extends WeightArray = StoredArray> {
  name: string;
  arrays: A[];
}

/**
 * Every layer group listed in `root`'s layer_names, with its datasets in weight_names order,
 * shapes from metadata, values not yet read. Weight names are kept as stored (":0" suffixes,
 * Theano names without it).
 */
export function declareLayerGroups(h5: H5File, root: string): StoredLayer<WeightArray>[] {
  const layerNames = h5.stringList(root, 'layer_names');
  if (layerNames === null) {
    throw new LoadError(
      `${h5.name} has no layer_names attribute on ${root}; expected the Keras weight index; the file was not written by Keras save/save_weights.`,
      { file: h5.name },
    );
  }
  const prefix = root === '/' ? '' : root;
  const out: StoredLayer<WeightArray>[] = [];
  for (const layer of layerNames) {
    const g = `${prefix}/${layer}`;
    const kind = h5.kind(g);
    if (kind !== 'group') {
      throw new LoadError(
        `${h5.name} lists layer ${layer} in layer_names but ${g} is ${kind === 'missing' ? 'missing' : `a ${kind}`}; expected a group of its weights; the file is incomplete or corrupted.`,
        { file: h5.name },
      );
    }
    const weightNames = h5.stringList(g, 'weight_names') ?? [];
    const arrays = weightNames.map((w): WeightArray => {
      const info = h5.checkDataset(`${g}/${w}`);
      return { name: w, shape: info.shape, bytes: info.nbytes, read: () => h5.dataset(`${g}/${w}`).data };
    });
    out.push({ name: layer, arrays });
  }
  return out;
}

/** declareLayerGroups with every array read. */
export function readLayerGroups(h5: H5File, root: string): StoredLayer[] {
  return declareLayerGroups(h5, root).map((l) => ({ name: l.name, arrays: readArrays(l.arrays) }));
}

/**
 * Pair stored layers with the model's top-level Keras layers topologically (Keras' own rule:
 * those with weights, in order) and bind them. A nested model is one stored layer but several
 * ModelSpec layers (weightGroups): its arrays are handed out in order by each inner layer's
 * saved layout, as `writer` (the file's writer: the model's own unless a separate weights file's) saved it.
 */
export function bindTopological(
  model: ModelSpec,
  stored: StoredLayer<WeightArray>[],
  file: string,
  budget: ExpansionBudget | null = null,
  writer: WriterFamily = model.meta.writer,
): void {
  const fileLayers = stored.filter((l) => l.arrays.length > 0);
  const groups = weightGroups(model)
    .map((g) => ({ ...g, layers: g.layers.filter((i) => model.params[i].length > 0) }))
    .filter((g) => g.layers.length > 0);
  if (fileLayers.length !== groups.length) {
    const list = (names: string[]) =>
      names.length > 8 ? `${names.slice(0, 8).join(', ')}, … (${names.length} in all)` : names.join(', ') || 'none';
    const fileList = list(fileLayers.map((l) => l.name));
    const modelList = list(groups.map((g) => g.name));
    throw new ModelError(
      `${file} holds weights for ${fileLayers.length} layer(s) [${fileList}] but the architecture has ${groups.length} layer(s) with weights [${modelList}]; expected one stored layer per model layer, in order; check that the weights file belongs to this architecture.`,
      { file },
    );
  }
  const items = groups.map(
    (g, k): LayerWeights => ({
      name: g.name,
      className: g.className,
      layers: g.layers,
      arrays: fileLayers[k].arrays,
      bind: (arrays) => {
        if (g.layers.length === 1) {
          bindLayerWeights(model, g.layers[0], arrays);
          return;
        }
        const wanted = g.layers.map((i) => savedWeightLayout(model, i, writer).length);
        const total = wanted.reduce((a, b) => a + b, 0);
        if (total !== arrays.length) {
          throw new ModelError(
            `${file} holds ${arrays.length} weight arrays for nested model ${g.name} but its layers expect ${total}; expected the same layers in the same order; check that the weights file belongs to this architecture.`,
            { file },
          );
        }
        let at = 0;
        g.layers.forEach((i, j) => {
          bindLayerWeights(model, i, arrays.slice(at, at + wanted[j]));
          at += wanted[j];
        });
      },
    }),
  );
  bindAll(model, items, file, budget);
}
