// Test-only readers for the corpus copies in test/fixtures/corpus: the config of
// a .keras zip (fflate), the root attributes and layer weights of a legacy .h5
// (h5wasm). The real loaders live in src/io; these exist so the model-stage
// tests can feed buildModel / bindLayerWeights with the real files.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { unzipSync, strFromU8 } from 'fflate';
import h5wasm from 'h5wasm/node';

export const CORPUS = fileURLToPath(new URL('./fixtures/corpus/', import.meta.url));
export const GOLDENS = fileURLToPath(new URL('./fixtures/model-goldens/', import.meta.url));

export function readJson(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

export function kerasZip(path: string): { config: any; metadata: any } {
  const files = unzipSync(new Uint8Array(readFileSync(path)));
  return {
    config: JSON.parse(strFromU8(files['config.json']!)),
    metadata: JSON.parse(strFromU8(files['metadata.json']!)),
  };
}

let ready: Promise<unknown> | null = null;
export async function h5(): Promise<typeof h5wasm> {
  ready ??= h5wasm.ready;
  await ready;
  return h5wasm;
}

function attr(obj: { attrs: Record<string, { value: unknown }> }, key: string): unknown {
  const a = obj.attrs[key];
  if (!a) return undefined;
  const v = a.value;
  return v instanceof Uint8Array ? new TextDecoder().decode(v) : v;
}

/** Root attributes of a full-model .h5: model_config / training_config parsed, keras_version, backend. */
export async function h5ModelAttrs(
  path: string,
): Promise<{ modelConfig: any; trainingConfig: any; kerasVersion: string; backend: string | null }> {
  const lib = await h5();
  const f = new lib.File(path, 'r');
  try {
    const mc = attr(f as never, 'model_config');
    const tc = attr(f as never, 'training_config');
    return {
      modelConfig: JSON.parse(String(mc)),
      trainingConfig: tc === undefined ? null : JSON.parse(String(tc)),
      kerasVersion: String(attr(f as never, 'keras_version') ?? '1'),
      backend: (attr(f as never, 'backend') as string | undefined) ?? null,
    };
  } finally {
    f.close();
  }
}

/** The arrays of one layer group, in `weight_names` order (model_weights/ for full models, root for weights-only
 * files). */
export async function h5LayerArrays(
  path: string,
  layer: string,
): Promise<{ name: string; shape: number[]; data: Float32Array }[]> {
  const lib = await h5();
  const f = new lib.File(path, 'r');
  try {
    const root = f.keys().includes('model_weights') ? 'model_weights/' : '';
    const g = f.get(`${root}${layer}`) as unknown as { attrs: Record<string, { value: unknown }> };
    const names = (g.attrs['weight_names']!.value as string[]).map(String);
    return names.map((n) => {
      const d = f.get(`${root}${layer}/${n}`) as unknown as { shape: number[]; value: Float32Array };
      return { name: n, shape: [...d.shape], data: d.value };
    });
  } finally {
    f.close();
  }
}

/** A dataset of an arbitrary .h5 file (e.g. the Keras-computed predictions beside a corpus model). */
export async function h5Dataset(path: string, dataset: string): Promise<{ shape: number[]; data: Float32Array }> {
  const lib = await h5();
  const f = new lib.File(path, 'r');
  try {
    const d = f.get(dataset) as unknown as { shape: number[]; value: Float32Array };
    return { shape: [...d.shape], data: d.value };
  } finally {
    f.close();
  }
}

// ---------------------------------------------------------------- synthetic configs in each writer's spelling

export type Writer = 'keras1' | 'keras2' | 'keras3' | 'tfjs';
export const VERSION: Record<Writer, string> = {
  keras1: '1.2.2',
  keras2: '2.2.4',
  keras3: '3.10.0',
  tfjs: 'tfjs-layers 4.22.0',
};

/**
 * A Sequential model config as `writer` saves it: Keras 1 a bare list with batch_input_shape on the first
 * layer; Keras 2 / TF.js `{name, layers}` with batch_input_shape on the first layer; Keras 3 the serialized
 * envelope with an InputLayer(batch_shape) and DTypePolicy objects.
 */
export function sequential(
  writer: Writer,
  input: (number | null)[],
  layers: { class_name: string; config: Record<string, unknown> }[],
): unknown {
  if (writer === 'keras3') {
    const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
    return {
      module: 'keras',
      class_name: 'Sequential',
      registered_name: null,
      config: {
        name: 'sequential',
        trainable: true,
        dtype: policy,
        layers: [
          {
            module: 'keras.layers',
            class_name: 'InputLayer',
            config: { batch_shape: input, dtype: 'float32', sparse: false, ragged: false, name: 'input_layer' },
            registered_name: null,
          },
          ...layers.map((l) => ({
            module: 'keras.layers',
            class_name: l.class_name,
            config: { trainable: true, dtype: policy, ...l.config },
            registered_name: null,
          })),
        ],
        build_input_shape: input,
      },
    };
  }
  const ls = layers.map((l, i) => ({
    class_name: l.class_name,
    config: {
      trainable: true,
      ...(writer === 'keras1' ? {} : { dtype: 'float32' }),
      ...l.config,
      ...(i === 0 ? { batch_input_shape: input } : {}),
    },
  }));
  return writer === 'keras1'
    ? { class_name: 'Sequential', config: ls }
    : { class_name: 'Sequential', config: { name: 'sequential', layers: ls } };
}
