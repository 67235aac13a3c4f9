// Damaged, hostile and mismatched inputs: each class of damage gives its exact error class
// (LoadError: the file cannot be read; ModelError: it reads but does not fit the architecture)
// with a one-sentence message naming the file — never a crash, a hang or a huge allocation.
import path from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { LoadError, ModelError } from '../src/model/errors.js';
import { fileSetFromMap, openModel } from '../src/io/index.js';
import { loadModelFile } from '../src/io/node.js';
import { CORPUS, IO, bytes } from './io-model-helpers.js';

const K2 = path.join(CORPUS, 'h5_dl4j_simplernn_k2', 'simple_rnn_tf_keras_2_model.h5');
const KERAS = path.join(CORPUS, 'k3_hatice_har_lstm', 'lstm_model.keras');
const TFJS = path.join(IO, 'tfjs_groups');
const TFJS_NAMES = [
  'model.json',
  'group1-shard1of1.bin',
  'group2-shard1of3.bin',
  'group2-shard2of3',
  'group2-shard3of3.bin',
];

function tfjsFiles(patch: (m: Map<string, Uint8Array>) => void = () => {}): Map<string, Uint8Array> {
  const m = new Map(TFJS_NAMES.map((n) => [n, bytes(path.join(TFJS, n))]));
  patch(m);
  return m;
}

async function fails<T extends Error>(p: Promise<unknown>, cls: new (...a: never[]) => T): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(cls);
    const msg = (e as Error).message;
    // One sentence: found; expected; hint.
    expect(msg.split('; ').length, msg).toBeGreaterThanOrEqual(3);
    expect(msg.endsWith('.'), msg).toBe(true);
    return msg;
  }
  throw new Error(`expected a ${cls.name}`);
}

const open = (name: string, b: Uint8Array, extra: Record<string, Uint8Array> = {}, weights?: string) =>
  openModel(fileSetFromMap(name, { [name]: b, ...extra }), weights ? { weights } : {});

describe('wrong kind of file', () => {
  it('refuses empty, PNG, text, a JSON array, a JSON object that is no model, and a data-only HDF5 file', async () => {
    expect(await fails(open('e.h5', new Uint8Array(0)), LoadError)).toBe(
      'e.h5 is not a model file rnnscope knows (it is empty); expected a .keras zip, a Keras .h5, a to_json() architecture with --weights, or a TF.js model.json; check the file.',
    );
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    expect(await fails(open('model.keras', png), LoadError)).toContain('it starts with bytes 89 50 4e 47 0d 0a 1a 0a');
    await fails(open('notes.txt', new TextEncoder().encode('hello')), LoadError);
    await fails(open('a.json', new TextEncoder().encode('[1, 2]')), LoadError);
    expect(
      await fails(
        open('a.json', new TextEncoder().encode('{"class_name": 3}'), { 'w.h5': bytes(K2) }, 'w.h5'),
        LoadError,
      ),
    ).toContain('not a Keras architecture');
    const io = path.join(CORPUS, 'h5_dl4j_simplernn_k2', 'simple_rnn_tf_keras_2_inputs_and_outputs.h5');
    expect(await fails(open('io.h5', bytes(io)), LoadError)).toBe(
      'io.h5 has no model_config attribute, so the architecture is not in the file; expected a full model; pass the model.to_json() architecture file as the model and this file with --weights.',
    );
  });

  it('a zip that is not a .keras archive, and an architecture without weights', async () => {
    const z = zipSync({ 'readme.txt': new TextEncoder().encode('hi') });
    expect(await fails(open('x.keras', z), LoadError)).toBe(
      'x.keras is a zip without config.json (it has readme.txt); expected a Keras .keras archive; check that this is a model saved with model.save("x.keras").',
    );
    const arch = bytes(path.join(IO, 'dense_arch.json'));
    expect(await fails(open('arch.json', arch), LoadError)).toBe(
      'arch.json is an architecture without weights; expected its weights file too; pass the weights .h5 with --weights.',
    );
    expect(await fails(open('arch.json', arch, {}, 'missing.h5'), LoadError)).toBe(
      'Weights file missing.h5 was not found; expected an .h5 weights file beside the model; check the --weights path.',
    );
  });
});

describe('truncated and corrupted files', () => {
  it('truncated .h5 at every tenth of its length', async () => {
    const b = bytes(K2);
    for (let k = 1; k < 10; k++) {
      const n = Math.floor((b.length * k) / 10);
      expect(await fails(open('cut.h5', b.slice(0, n)), LoadError)).toContain('cut.h5');
    }
  });

  it('truncated .keras zip and a .keras whose weights member was cut', async () => {
    const b = bytes(KERAS);
    for (const n of [10, 1000, b.length >> 1, b.length - 10]) await fails(open('cut.keras', b.slice(0, n)), LoadError);
  });

  it('corrupted HDF5 superblock, model_config JSON and zip member data', async () => {
    const b = bytes(K2);
    const sb = b.slice();
    sb[13] = 3; // size of offsets
    expect(await fails(open('sb.h5', sb), LoadError)).toBe(
      'sb.h5 declares 3-byte file offsets; expected 2, 4 or 8; the file is corrupted.',
    );
    // Turn the first '{' of model_config (fixed-size string in the root object header) into '#'.
    const cfg = b.slice();
    const at = indexOf(cfg, '{"class_name": "Sequential"');
    expect(at).toBeGreaterThan(0);
    cfg[at] = 0x23;
    expect(await fails(open('cfg.h5', cfg), LoadError)).toMatch(
      /^cfg\.h5 \(model_config\) is not valid JSON \(.*\); expected JSON; the file is truncated or corrupted\.$/,
    );
    const k = bytes(KERAS);
    const z = k.slice();
    z[Math.floor(k.length / 2)] ^= 0xff;
    expect(await fails(open('z.keras', z), LoadError)).toMatch(
      /^z\.keras member model\.weights\.h5 has CRC-32 0x[0-9a-f]{8}; expected 0x550fb584; the archive is corrupted or its declared sizes are false\.$/,
    );
  });

  it('truncated model.json and non-UTF-8 JSON', async () => {
    const m = tfjsFiles();
    const j = m.get('model.json')!;
    m.set('model.json', j.slice(0, j.length >> 1));
    await fails(openModel(fileSetFromMap('model.json', m)), LoadError);
    const bad = new Uint8Array([...new TextEncoder().encode('{"class_name": "'), 0xff, 0xfe, 0x22, 0x7d]);
    expect(await fails(open('x.json', bad, { 'w.h5': bytes(K2) }, 'w.h5'), LoadError)).toBe(
      'x.json is not UTF-8 text; expected architecture JSON; the file is binary or corrupted.',
    );
  });
});

describe('hostile files', () => {
  it('zip bombs: real (64 MiB in 64 KB) and a false declared size', async () => {
    expect(await fails(loadModelFile(path.join(IO, 'bad_zip_bomb.keras')), LoadError)).toContain(
      'refusing a likely zip bomb',
    );
    const k = bytes(path.join(IO, 'k3_deflated.keras'));
    const dv = new DataView(k.buffer, k.byteOffset, k.byteLength);
    for (let i = k.length - 46; i >= 0; i--) {
      // Every central directory entry claims 3 GB uncompressed.
      if (dv.getUint32(i, true) === 0x02014b50) dv.setUint32(i + 24, 3_000_000_000, true);
    }
    expect(await fails(open('lie.keras', k), LoadError)).toMatch(
      /^lie\.keras member config\.json declares 3000000000 uncompressed bytes/,
    );
  });

  it('absurd dataset shape, external link, soft-link cycle', async () => {
    const arch = path.join(IO, 'dense_arch.json');
    expect(await fails(loadModelFile(arch, { weights: path.join(IO, 'bad_absurd_shape.h5') }), LoadError)).toContain(
      'declares shape [100000,100000] (40000000000 bytes); expected at most 8224 bytes in a 8224-byte file; the file is corrupted.',
    );
    expect(await fails(loadModelFile(path.join(IO, 'bad_external_link.h5')), LoadError)).toContain(
      'has an external link at /model_weights/dense_1/dense_1/kernel:0',
    );
    expect(await fails(loadModelFile(path.join(IO, 'bad_softlink_cycle.h5')), LoadError)).toContain(
      'a dangling or cyclic soft link at /model_weights/dense_1/dense_1/kernel:0',
    );
  });

  it('a model.weights.npz whose pickle calls anything but numpy array reconstruction', async () => {
    const k = unzipSync(bytes(path.join(IO, 'k3_npz.keras')));
    const npz = unzipSync(k['model.weights.npz']);
    // np.save header for a 0-d object array, then the pickle of os.system('echo pwned') (protocol 3).
    const header = "{'descr': '|O', 'fortran_order': False, 'shape': (), }";
    const pad = 64 - ((10 + header.length + 1) % 64);
    const latin1 = (t: string) => Uint8Array.from(t, (c) => c.charCodeAt(0));
    const head = latin1(
      `\x93NUMPY\x01\x00${String.fromCharCode(header.length + pad + 1, 0)}${header}${' '.repeat(pad)}\n`,
    );
    const pickle = latin1('\x80\x03cos\nsystem\nq\x00X\x0a\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03.');
    npz['layers/gru/cell.npy'] = new Uint8Array([...head, ...pickle]);
    k['model.weights.npz'] = zipSync(npz, { level: 0 });
    const msg = await fails(open('evil.keras', zipSync(k, { level: 0 })), LoadError);
    expect(msg).toBe(
      'evil.keras:model.weights.npz member layers/gru/cell.npy pickles os system; expected a pickled dict of numeric arrays as Keras writes; the file is damaged or not a Keras weights store.',
    );
  });

  it('tfjs shard paths that leave the model folder, absolute or as URLs', async () => {
    for (const p of ['../secret.bin', '/etc/passwd', 'https://example.com/w.bin', 'a/../../b.bin']) {
      const m = tfjsFiles((f) =>
        f.set(
          'model.json',
          new TextEncoder().encode(new TextDecoder().decode(f.get('model.json')).replace('group1-shard1of1.bin', p)),
        ),
      );
      expect(await fails(openModel(fileSetFromMap('model.json', m)), LoadError)).toContain(
        `names weight shard "${p}"; expected a file name beside model.json`,
      );
    }
    // The Node FileSet refuses siblings outside the folder on its own too.
    const fs = await import('../src/io/node.js').then((n) => n.fileSetFromPath(path.join(TFJS, 'model.json')));
    await expect(fs.get('../tfjs_quant/model.json')).rejects.toBeInstanceOf(LoadError);
  });
});

describe('manifest, shards and weights that disagree with the model', () => {
  it('a shard shorter or longer than the manifest says, a missing shard', async () => {
    const short = tfjsFiles((m) => m.set('group2-shard2of3', m.get('group2-shard2of3')!.slice(0, 40)));
    expect(await fails(openModel(fileSetFromMap('model.json', short)), LoadError)).toBe(
      'The shards of model.json (group2-shard1of3.bin, group2-shard2of3, group2-shard3of3.bin) hold 422 bytes but its manifest declares 432 for [bidirectional/forward_gru/gru_cell/kernel, bidirectional/forward_gru/gru_cell/recurrent_kernel, bidirectional/forward_gru/gru_cell/bias, bidirectional/backward_gru/gru_cell/kernel, bidirectional/backward_gru/gru_cell/recurrent_kernel, bidirectional/backward_gru/gru_cell/bias]; expected them to agree; the shards are truncated or belong to another model.',
    );
    const long = tfjsFiles((m) => m.set('group1-shard1of1.bin', new Uint8Array(60)));
    expect(await fails(openModel(fileSetFromMap('model.json', long)), LoadError)).toContain(
      'hold 60 bytes but its manifest declares 56',
    );
    const missing = tfjsFiles((m) => m.delete('group2-shard3of3.bin'));
    expect(await fails(openModel(fileSetFromMap('model.json', missing)), LoadError)).toBe(
      'Weight shard group2-shard3of3.bin of model.json was not found; expected it beside model.json; copy all shard files with the model.',
    );
  });

  it('a manifest weight the model lacks, a renamed weight, NaN in a shard', async () => {
    const rename = (from: string, to: string) =>
      tfjsFiles((f) =>
        f.set('model.json', new TextEncoder().encode(new TextDecoder().decode(f.get('model.json')).replace(from, to))),
      );
    expect(
      await fails(openModel(fileSetFromMap('model.json', rename('"dense/bias"', '"dense/gamma"'))), ModelError),
    ).toMatch(
      /^model\.json has weights that do not match its layers: layer dense \(Dense\) has no weight for bias \(expected a name like dense\/bias\); 1 weight\(s\) fit no layer of the config: dense\/gamma; /,
    );
    const nan = tfjsFiles((m) => {
      const b = m.get('group1-shard1of1.bin')!.slice();
      new DataView(b.buffer).setFloat32(8, NaN, true);
      m.set('group1-shard1of1.bin', b);
    });
    expect(await fails(openModel(fileSetFromMap('model.json', nan)), ModelError)).toMatch(/dense\/kernel/);
  });

  it('weights of another architecture: count and shape mismatches', async () => {
    const arch = path.join(IO, 'dense_arch.json');
    expect(
      await fails(
        loadModelFile(arch, { weights: path.join(CORPUS, 'h5_dl4j_simplernn_k2', 'simple_rnn_tf_keras_2_weights.h5') }),
        ModelError,
      ),
    ).toContain(
      'holds weights for 2 layer(s) [simple_rnn_1, dense_1] but the architecture has 1 layer(s) with weights [dense_1]',
    );
    const lstm = path.join(CORPUS, 'w_dl4j_stacked_lstm_theano_with_predictions', 'lstm_th_keras_2_config.json');
    const otherLstm = path.join(CORPUS, 'w_chen_sentiment_embedding_conv1d_lstm', 'wordvec_cnn_lstm_weights.h5');
    await fails(loadModelFile(lstm, { weights: otherLstm }), ModelError);
    // .keras store without the group of a layer that has weights.
    const k3 = path.join(IO, 'k3_bidi_td.json');
    const m = await fails(loadModelFile(k3, { weights: path.join(IO, 'k3_folder', 'model.weights.h5') }), LoadError);
    expect(m).toContain('has no weights group for layer encoder (Bidirectional)');
  });
});

function indexOf(b: Uint8Array, s: string): number {
  const t = new TextEncoder().encode(s);
  outer: for (let i = 0; i + t.length <= b.length; i++) {
    for (let j = 0; j < t.length; j++) if (b[i + j] !== t[j]) continue outer;
    return i;
  }
  return -1;
}
