// Legacy Keras full-model HDF5 (.h5), written by Keras 1.2 through Keras 3's legacy h5 saver.
//
// Layout (shared/docs/keras-formats.md §2; tf-keras saving/legacy/hdf5_format.py; Keras 1.2.2 keras/models.py):
//   /                     attrs model_config (JSON), training_config (JSON, if compiled),
//                         keras_version + backend (absent in Keras 1 files)
//   /model_weights        attrs layer_names (all layers, model order), keras_version, backend
//                         (both absent in Keras 1: such a file is Keras "1")
//   /model_weights/<layer>            attr weight_names, in trainable + non-trainable order
//   /model_weights/<layer>/<weight>   dataset; <weight> may contain '/', e.g. lstm/lstm_cell/kernel:0
//   /model_weights/top_level_model_weights   (tf-keras, Keras 3) model-level weights, normally none
//   /optimizer_weights    ignored
// Attributes over 64512 bytes are split into name0, name1, ... (H5File.stringList joins them).
//
// Weights are paired with the model the way Keras loads them (load_weights_from_hdf5_group):
// topologically — the file's layers that have weights, in layer_names order, against the
// model's layers that have weights, in model order — and within a layer in weight_names order.
// Converting Keras 1 per-gate arrays and CuDNN layouts is src/model/bind.ts's job.

import { LoadError, ModelError } from '../model/errors.js';
import type { ModelSpec } from '../model/types.js';
import { warn } from '../model/types.js';
import { buildModel, savedWeightLayout, weightGroups } from '../model/build.js';
import { bindLayerWeights, checkAllBound } from '../model/bind.js';
import { H5File } from './hdf5.js';
import { HDF5_MAGIC } from './hdf5-format.js';
import type { FileSet } from './index.js';
import type { ExpansionBudget } from './common.js';
import { parseJson, startsWith } from './common.js';
import { bindAll, readArrays, type LayerWeights, type StoredArray, type WeightArray } from './weight-store.js';

export type { StoredArray } from './weight-store.js';

export const name = 'keras-h5';

export function match(bytes: Uint8Array, _fileName: string): boolean {
  // Content decides: a file named .keras may hold a legacy HDF5 model (Keras 2 accepted any name).
  return startsWith(bytes, HDF5_MAGIC) || (bytes.length >= 520 && HDF5_MAGIC.every((b, i) => bytes[512 + i] === b));
}

/** One layer group of a legacy weights store. */
export interface StoredLayer<A extends WeightArray = StoredArray> {
  name: string;
  arrays: A[];
}

export type Flavor = 'keras1' | 'keras2' | 'keras3' | 'tfjs';

/** Keras major version → weight-layout flavor for savedWeightLayout/bindLayerWeights. */
export function flavorOf(kerasVersion: string): Flavor {
  const major = kerasVersion.trim().split('.')[0];
  return major === '1' ? 'keras1' : major === '3' ? 'keras3' : 'keras2';
}

export async function open(files: FileSet): Promise<ModelSpec> {
  const h5 = await H5File.open(files.bytes, files.name);
  try {
    const configText = h5.stringAttr('/', 'model_config');
    if (configText === null) {
      throw new LoadError(noArchitectureMessage(files.name, h5), { file: files.name });
    }
    const modelConfig = parseJson(configText, `${files.name} (model_config)`);
    const trainingText = h5.stringAttr('/', 'training_config');
    const trainingConfig = trainingText === null ? null : parseJson(trainingText, `${files.name} (training_config)`);
    const hasWeights = h5.kind('/model_weights') === 'group';
    const kerasVersion =
      h5.stringAttr('/', 'keras_version') ??
      (hasWeights ? h5.stringAttr('/model_weights', 'keras_version') : null) ??
      '1';
    const backend = h5.stringAttr('/', 'backend') ?? (hasWeights ? h5.stringAttr('/model_weights', 'backend') : null);
    const model = buildModel(modelConfig, { kerasVersion, format: name, backend, trainingConfig, source: files.name });
    if (files.weights !== undefined) {
      // Architecture from this file, weights from the user's --weights file.
      const { bindWeightsFile } = await import('./keras-weights.js');
      await bindWeightsFile(model, modelConfig as Record<string, unknown>, files);
      return model;
    }
    if (!hasWeights) {
      throw new LoadError(
        `${files.name} has a model_config but no model_weights group; expected the weights of a full-model .h5; re-save with model.save(), or pass a weights file with --weights.`,
        { file: files.name },
      );
    }
    bindTopological(model, declareLayerGroups(h5, '/model_weights'), flavorOf(kerasVersion), files.name, h5.budget);
    const top =
      h5.kind('/model_weights/top_level_model_weights') === 'group'
        ? h5.stringList('/model_weights/top_level_model_weights', 'weight_names')
        : null;
    if (top && top.length > 0) {
      warn(
        model.warnings,
        'top-level-weights',
        `${files.name}: ignored ${top.length} model-level weight(s) (${top.slice(0, 3).join(', ')}) that belong to no layer.`,
      );
    }
    checkAllBound(model);
    return model;
  } finally {
    h5.close();
  }
}

/** The message for an HDF5 file that holds weights but no architecture (save_weights output). */
export function noArchitectureMessage(file: string, h5: H5File): string {
  const what =
    h5.stringList('/', 'layer_names') !== null ||
    h5.kind('/layers') === 'group' ||
    h5.kind('/_layer_checkpoint_dependencies') === 'group'
      ? 'holds only weights (written by save_weights)'
      : 'has no model_config attribute';
  return `${file} ${what}, so the architecture is not in the file; expected a full model; pass the model.to_json() architecture file as the model and this file with --weights.`;
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
 * saved layout.
 */
export function bindTopological(
  model: ModelSpec,
  stored: StoredLayer<WeightArray>[],
  flavor: Flavor,
  file: string,
  budget: ExpansionBudget | null = null,
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
        const wanted = g.layers.map((i) => savedWeightLayout(model, i, flavor).length);
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
