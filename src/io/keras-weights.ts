// A model given as two files: the architecture JSON (model.to_json(), or a Keras 3 config.json)
// as the main file, and a weights-only HDF5 file passed with --weights (its layouts and binding:
// weights-file.ts). to_json() writes {"class_name", "config", "keras_version", "backend"}; the
// JSON's keras_version decides the config dialect, the weights file's the array layout (each
// falls back on the other).

import { LoadError } from '../model/errors.js';
import type { ModelSpec } from '../model/types.js';
import { buildModel } from '../model/build.js';
import { H5File } from './hdf5.js';
import type { FileSet } from './types.js';
import { jsonMentions, looksLikeJsonObject, parseJson } from './common.js';
import { bindWeightsH5, getWeights, isV3Store } from './weights-file.js';

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
