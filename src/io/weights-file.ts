// A separate weights file (`--weights`) bound to a model built from another file: the
// architecture JSON of the keras-h5-weights format, or a full .h5 / .keras model whose own weights
// it replaces. The file is HDF5 in one of three layouts (docs/formats.md, 'Weights-only files'):
//   legacy save_weights .h5 (Keras 1.2 ... tf-keras): root attrs layer_names, keras_version,
//     backend (the last two absent in Keras 1), one group per layer with weight_names;
//   Keras 3 .weights.h5: the model.weights.h5 layout of a .keras archive;
//   a full-model .h5: its /model_weights group.
// The weights file's own keras_version decides the array layout (Keras 1 per-gate arrays or not).

import { LoadError } from '../model/errors.js';
import type { ModelSpec } from '../model/types.js';
import { checkAllBound } from '../model/bind.js';
import { writerFamily } from '../model/versions.js';
import { H5File } from './hdf5.js';
import type { FileSet } from './types.js';
import { bindTopological, declareLayerGroups } from './legacy-store.js';
import { bindV3, h5Store } from './keras3-store.js';
import { lfsPointerNote } from './magic.js';

/** The bytes of `files.weights`, or a LoadError saying it is missing. */
export async function getWeights(files: FileSet): Promise<Uint8Array> {
  const w = await files.get(files.weights!);
  if (!w)
    throw new LoadError(
      `Weights file ${files.weights} was not found; expected an .h5 weights file beside the model; check the --weights path.`,
      { file: files.weights },
    );
  const lfs = lfsPointerNote(files.weights!, w);
  if (lfs) throw new LoadError(lfs, { file: files.weights });
  return w;
}

/** A Keras 3 variable store (no layer_names, a layers group). */
export function isV3Store(h5: H5File): boolean {
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
    bindTopological(model, declareLayerGroups(h5, '/model_weights'), wName, h5.budget, writerFamily(v, 'keras-h5'));
  } else if (h5.stringList('/', 'layer_names') !== null) {
    // A Keras 1 save_weights file has layer_names but no keras_version (Keras 1.2.2 topology.py save_weights).
    const v = h5.stringAttr('/', 'keras_version') ?? '1';
    bindTopological(model, declareLayerGroups(h5, '/'), wName, h5.budget, writerFamily(v, 'keras-h5'));
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
