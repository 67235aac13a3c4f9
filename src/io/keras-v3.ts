// Keras 3 `.keras` model: a zip (or, saved with zipped=False, a folder) holding
//   metadata.json     {"keras_version", "date_saved"}
//   config.json       the serialized model (class_name/config/compile_config)
//   model.weights.h5  the variable store (or model.weights.npz with weights_format="npz")
// (docs/formats.md, 'Keras 3 .keras'). Members are looked up by name; Keras writes them STORED
// but DEFLATE is accepted too. The variable store is walked by keras3-store.ts, the .npz form
// read by keras-npz-store.ts.

import { LoadError } from '../model/errors.js';
import type { ModelSpec } from '../model/types.js';
import { buildModel } from '../model/build.js';
import { checkAllBound } from '../model/bind.js';
import { H5File } from './hdf5.js';
import type { FileSet } from './types.js';
import { ExpansionBudget, MAX_CONFIG_BYTES, jsonMentions, looksLikeJsonObject, parseJson } from './common.js';
import { readKerasNpz } from './keras-npz-store.js';
import { bindV3, h5Store } from './keras3-store.js';
import { ZIP_MAGIC, startsWith } from './magic.js';
import { bindWeightsFile } from './weights-file.js';
import { ZipArchive } from './zip.js';

export const name = 'keras-v3';

export function match(bytes: Uint8Array, fileName: string): boolean {
  if (startsWith(bytes, ZIP_MAGIC)) return true;
  // The unzipped form: its config.json is the main file.
  return (
    /(^|[\\/])config\.json$/.test(fileName) &&
    looksLikeJsonObject(bytes) &&
    jsonMentions(bytes, 'class_name') &&
    !jsonMentions(bytes, 'modelTopology')
  );
}

export async function open(files: FileSet): Promise<ModelSpec> {
  let member: (n: string) => Promise<Uint8Array | null>;
  let label: (n: string) => string;
  // A zip's members and the datasets of its weights store share one budget (the archive's size);
  // an unzipped folder's weights file gets its own.
  let budget: ExpansionBudget | undefined;
  if (startsWith(files.bytes, ZIP_MAGIC)) {
    budget = new ExpansionBudget(files.name, files.bytes.length);
    const zip = ZipArchive.open(files.bytes, files.name, 'a .keras zip', undefined, budget);
    if (!zip.has('config.json')) {
      throw new LoadError(
        `${files.name} is a zip without config.json (it has ${zip.names().slice(0, 5).join(', ') || 'no members'}); expected a Keras .keras archive; check that this is a model saved with model.save("x.keras").`,
        { file: files.name },
      );
    }
    member = async (n) =>
      n.endsWith('.json') ? zip.read(n, { maxBytes: MAX_CONFIG_BYTES, expected: 'a JSON config' }) : zip.read(n);
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
    await bindWeightsFile(model, config, files);
    return model;
  }
  const h5Bytes = await member('model.weights.h5');
  if (h5Bytes) {
    const h5 = await H5File.open(h5Bytes, label('model.weights.h5'), undefined, budget);
    try {
      bindV3(model, config, h5Store(h5), label('model.weights.h5'));
    } finally {
      h5.close();
    }
  } else {
    const npzBytes = await member('model.weights.npz');
    if (!npzBytes) {
      throw new LoadError(
        `${files.name} has no model.weights.h5 or model.weights.npz; expected the weights beside config.json; re-save the model with its weights.`,
        { file: files.name },
      );
    }
    const store = readKerasNpz(
      npzBytes,
      label('model.weights.npz'),
      budget ?? new ExpansionBudget(label('model.weights.npz'), npzBytes.length),
    );
    bindV3(model, config, store, label('model.weights.npz'));
  }
  checkAllBound(model);
  return model;
}

function asObject(v: unknown, file: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new LoadError(
      `${file} holds ${Array.isArray(v) ? 'an array' : typeof v}; expected a JSON object; the file is not a Keras config.`,
      { file },
    );
  }
  return v as Record<string, unknown>;
}
