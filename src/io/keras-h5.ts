// Legacy Keras full-model HDF5 (.h5), written by Keras 1.2 through Keras 3's legacy h5 saver.
//
// Layout (docs/formats.md, 'Legacy HDF5'):
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
// The weight store under /model_weights is read and bound by legacy-store.ts; a separate
// --weights file by weights-file.ts.

import { LoadError } from '../model/errors.js';
import type { ModelSpec } from '../model/types.js';
import { warn } from '../model/types.js';
import { buildModel } from '../model/build.js';
import { checkAllBound } from '../model/bind.js';
import { H5File } from './hdf5.js';
import type { FileSet } from './types.js';
import { parseJson } from './common.js';
import { HDF5_MAGIC, startsWith } from './magic.js';
import { bindTopological, declareLayerGroups } from './legacy-store.js';
import { bindWeightsFile } from './weights-file.js';

export const name = 'keras-h5';

export function match(bytes: Uint8Array, _fileName: string): boolean {
  // Content decides: a file named .keras may hold a legacy HDF5 model (Keras 2 accepted any name).
  return startsWith(bytes, HDF5_MAGIC) || (bytes.length >= 520 && HDF5_MAGIC.every((b, i) => bytes[512 + i] === b));
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
      await bindWeightsFile(model, modelConfig as Record<string, unknown>, files);
      return model;
    }
    if (!hasWeights) {
      throw new LoadError(
        `${files.name} has a model_config but no model_weights group; expected the weights of a full-model .h5; re-save with model.save(), or pass a weights file with --weights.`,
        { file: files.name },
      );
    }
    bindTopological(model, declareLayerGroups(h5, '/model_weights'), files.name, h5.budget);
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
