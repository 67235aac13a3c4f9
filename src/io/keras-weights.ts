// A model given as two files: the architecture JSON (model.to_json(), or a Keras 3 config.json)
// as the main file, and a weights-only HDF5 file passed with --weights:
//   legacy save_weights .h5 (Keras 1.2 ... tf-keras): root attrs layer_names, keras_version,
//     backend (the last two absent in Keras 1), one group per layer with weight_names —
//     the same layout as a full model's /model_weights (tf-keras hdf5_format.py
//     save_weights_to_hdf5_group; shared/docs/keras-formats.md §2.2);
//   Keras 3 .weights.h5: the model.weights.h5 layout of a .keras archive (saving_lib.py
//     save_weights; §1.1, §1.3);
//   a full-model .h5: its /model_weights group.
// to_json() writes {"class_name", "config", "keras_version", "backend"}; the JSON's keras_version
// decides the config dialect, the weights file's the array layout (each falls back on the other).
//
// The same binding serves `--weights` given with a full .h5 or .keras model (weights replaced).

import { LoadError } from '../model/errors.js';
import type { ModelSpec } from '../model/types.js';
import { buildModel } from '../model/build.js';
import { checkAllBound } from '../model/bind.js';
import { H5File } from './hdf5.js';
import type { FileSet } from './index.js';
import { jsonMentions, looksLikeJsonObject, parseJson } from './common.js';
import { bindTopological, declareLayerGroups, flavorOf } from './keras-h5.js';
import { bindV3, h5Store } from './keras-v3.js';

// Format id as documented for ModelMeta.format (src/model/types.ts).
export const name = 'keras-h5-weights';

export function match(bytes: Uint8Array, _fileName: string): boolean {
  return looksLikeJsonObject(bytes) && jsonMentions(bytes, 'class_name') && !jsonMentions(bytes, 'modelTopology');
}

export async function open(files: FileSet): Promise<ModelSpec> {
  const arch = parseJson(files.bytes, files.name, 'architecture JSON');
  if (
    arch === null ||
    typeof arch !== 'object' ||
    Array.isArray(arch) ||
    typeof (arch as { class_name?: unknown }).class_name !== 'string'
  ) {
    throw new LoadError(
      `${files.name} is JSON but not a Keras architecture (no class_name); expected the output of model.to_json(); check the file.`,
      { file: files.name },
    );
  }
  const a = arch as Record<string, unknown>;
  if (files.weights === undefined) {
    throw new LoadError(
      `${files.name} is an architecture without weights; expected its weights file too; pass the weights .h5 with --weights.`,
      { file: files.name },
    );
  }
  const wBytes = await getWeights(files);
  // Keras 3 to_json() carries no keras_version: then the weights file decides (a Keras 3 store,
  // or a legacy file's keras_version attribute, absent only in Keras 1 files).
  const h5 = await H5File.open(wBytes, files.weights);
  try {
    const hasModelWeights = h5.kind('/model_weights') === 'group';
    const weightsVersion =
      h5.stringAttr('/', 'keras_version') ??
      (hasModelWeights ? h5.stringAttr('/model_weights', 'keras_version') : null) ??
      (isV3Store(h5) ? '3' : '1');
    const kerasVersion = typeof a.keras_version === 'string' ? a.keras_version : weightsVersion;
    const backend = typeof a.backend === 'string' ? a.backend : null;
    const model = buildModel(arch, {
      kerasVersion,
      format: name,
      backend,
      trainingConfig: null,
      source: `${files.name} + ${files.weights}`,
    });
    bindWeightsH5(model, a, h5, files.weights);
    return model;
  } finally {
    h5.close();
  }
}

async function getWeights(files: FileSet): Promise<Uint8Array> {
  const w = await files.get(files.weights!);
  if (!w)
    throw new LoadError(
      `Weights file ${files.weights} was not found; expected an .h5 weights file beside the model; check the --weights path.`,
      { file: files.weights },
    );
  return w;
}

function isV3Store(h5: H5File): boolean {
  return (
    h5.stringList('/', 'layer_names') === null &&
    (h5.kind('/layers') === 'group' || h5.kind('/_layer_checkpoint_dependencies') === 'group')
  );
}

/** Bind the weights in `files.weights` to `model` (built from `config`), then check every parameter is bound. */
export async function bindWeightsFile(
  model: ModelSpec,
  config: Record<string, unknown>,
  files: FileSet,
): Promise<void> {
  const h5 = await H5File.open(await getWeights(files), files.weights!);
  try {
    bindWeightsH5(model, config, h5, files.weights!);
  } finally {
    h5.close();
  }
}

/** Bind from an open weights-only (or full-model) HDF5 file: legacy layer_names layout or the Keras 3 store. */
export function bindWeightsH5(model: ModelSpec, config: Record<string, unknown>, h5: H5File, wName: string): void {
  if (h5.kind('/model_weights') === 'group') {
    const v = h5.stringAttr('/model_weights', 'keras_version') ?? h5.stringAttr('/', 'keras_version') ?? '1';
    bindTopological(model, declareLayerGroups(h5, '/model_weights'), flavorOf(v), wName, h5.budget);
  } else if (h5.stringList('/', 'layer_names') !== null) {
    // A Keras 1 save_weights file has layer_names but no keras_version (Keras 1.2.2 topology.py save_weights).
    const v = h5.stringAttr('/', 'keras_version') ?? '1';
    bindTopological(model, declareLayerGroups(h5, '/'), flavorOf(v), wName, h5.budget);
  } else if (isV3Store(h5)) {
    bindV3(model, config, h5Store(h5), wName);
  } else {
    throw new LoadError(
      `${wName} has neither layer_names nor a layers group (found ${h5.keys('/').slice(0, 5).join(', ') || 'nothing'}); expected Keras weights saved with save_weights; check that this is the weights file.`,
      { file: wName },
    );
  }
  checkAllBound(model);
}
