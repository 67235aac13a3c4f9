// Writes Keras checkpoint files the way Keras does (test fixtures for training series on disk):
//   .keras          zip (STORED) of metadata.json, config.json, model.weights.h5
//                   (layers/<class_snake>/cell/vars/0..2 for RNN cells, layers/dense/vars/0..1)
//   .weights.h5     Keras 3 save_weights: the model.weights.h5 layout alone
// legacy .h5 tf.keras save_weights (ModelCheckpoint(save_weights_only=True, 'weights.{epoch:02d}-{val_loss:.2f}.h5')):
//                   root attrs layer_names, keras_version, backend; per layer attr weight_names, datasets
//                   <layer>/<layer>/<cell>/<weight>:0
// for the Sequential models of src/analysis/demo.ts (Input → one recurrent layer → Dense). The
// layouts follow docs/formats.md ('Keras 3 .keras', 'Keras 3 variable store', 'Legacy HDF5'); tests read
// the files back with rnnscope's loaders and with h5py/zipfile. HDF5 is written by h5wasm (in its in-memory FS).

import { zipSync } from 'fflate';
import type { ModelSpec } from '../../src/model/types.js';

type H5 = typeof import('h5wasm');
let h5: H5 | null = null;
async function lib(): Promise<H5> {
  if (!h5) {
    h5 = (await import('h5wasm')) as H5;
    await h5.ready;
  }
  return h5;
}

const SNAKE: Record<string, string> = { LSTM: 'lstm', GRU: 'gru', SimpleRNN: 'simple_rnn', Dense: 'dense' };
const CELL: Record<string, string> = { LSTM: 'lstm_cell', GRU: 'gru_cell', SimpleRNN: 'simple_rnn_cell' };

let counter = 0;

async function h5Bytes(
  build: (f: InstanceType<H5['File']>, group: (p: string) => InstanceType<H5['Group']>) => void,
): Promise<Uint8Array> {
  const m = await lib();
  const name = `/rnnscope-write-${process.pid}-${counter++}.h5`;
  const f = new m.File(name, 'w');
  const group = (p: string) => {
    let cur: InstanceType<H5['Group']> = f;
    for (const part of p.split('/').filter(Boolean))
      cur = (cur.get(part) as InstanceType<H5['Group']> | null) ?? cur.create_group(part);
    return cur;
  };
  try {
    build(f, group);
  } finally {
    f.close();
  }
  const fs = m.FS!;
  const bytes = fs.readFile(name) as Uint8Array;
  fs.unlink(name);
  return bytes;
}

function f32(model: ModelSpec, key: string): { data: Float32Array; shape: number[] } {
  const w = model.weights.get(key)!;
  return { data: Float32Array.from(w.data as ArrayLike<number>), shape: [...w.shape] };
}

/** The Keras 3 weights store (model.weights.h5 in a .keras, or a .weights.h5 file). */
export async function kerasWeightsStore(model: ModelSpec): Promise<Uint8Array> {
  return h5Bytes((_f, group) => {
    group('vars').create_attribute('name', model.name);
    const seen = new Map<string, number>();
    // Sequential.layers leaves out the InputLayer.
    model.layers.forEach((l, li) => {
      if (l.className === 'InputLayer') return;
      const base = SNAKE[l.className] ?? l.className.toLowerCase();
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      const at = `layers/${n === 0 ? base : `${base}_${n}`}`;
      group(`${at}/vars`).create_attribute('name', l.name);
      const vars = group(l.type === 'Recurrent' ? `${at}/cell/vars` : `${at}/vars`);
      model.params[li]!.forEach((p, i) => {
        const w = f32(model, p.key);
        vars.create_dataset({ name: String(i), data: w.data, shape: w.shape, dtype: '<f4' });
      });
    });
  });
}

/** A .keras archive: metadata.json, config.json (the Keras 3 config), model.weights.h5; members STORED as Keras writes
 * them. */
export async function kerasArchive(config: unknown, model: ModelSpec): Promise<Uint8Array> {
  const enc = new TextEncoder();
  return zipSync({
    'metadata.json': [
      enc.encode(JSON.stringify({ keras_version: '3.10.0', date_saved: '2025-01-01@00:00:00' })),
      { level: 0 },
    ],
    'config.json': [enc.encode(JSON.stringify(config)), { level: 0 }],
    'model.weights.h5': [await kerasWeightsStore(model), { level: 0 }],
  });
}

/** tf.keras 2.x save_weights .h5 (legacy layout), for a to_json() architecture. */
export async function legacyWeightsH5(model: ModelSpec): Promise<Uint8Array> {
  return h5Bytes((f, group) => {
    const names = model.layers.filter((l) => l.className !== 'InputLayer').map((l) => l.name);
    f.create_attribute('layer_names', names);
    f.create_attribute('backend', 'tensorflow');
    f.create_attribute('keras_version', '2.15.0');
    model.layers.forEach((l, li) => {
      if (l.className === 'InputLayer') return;
      const g = group(l.name);
      const prefix = l.type === 'Recurrent' ? `${l.name}/${CELL[l.className]}` : l.name;
      const wn = model.params[li]!.map((p) => `${prefix}/${p.name}:0`);
      g.create_attribute('weight_names', wn);
      model.params[li]!.forEach((p, i) => {
        const parts = wn[i]!.split('/');
        const w = f32(model, p.key);
        group(`${l.name}/${parts.slice(0, -1).join('/')}`).create_dataset({
          name: parts[parts.length - 1]!,
          data: w.data,
          shape: w.shape,
          dtype: '<f4',
        });
      });
    });
  });
}
