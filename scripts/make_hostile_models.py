"""Hostile model files that are small on disk but declare gigabytes (test/io-limits.test.ts).

usage: python3 make_hostile_models.py OUT_DIR

Every file is about 2 MB or less. Compressed chunks are written with h5py's write_direct_chunk:
one zlib-compressed chunk of zeros is written at every chunk position, so making a file that
decompresses to 2 GiB takes a second, not a compression of 2 GiB.

  mismatch_gzip.h5   legacy full model, LSTM(8) on (10, 4) inputs; its kernel and recurrent kernel
                     declare (16384, 16000) float32 each (2 x 1,048,576,000 bytes, each just under the
                     1 GiB dataset cap), gzip-compressed zeros.
  honest_gzip.h5     legacy full model whose config declares LSTM(8000) on 8000 features, weights of
                     exactly those shapes (2 x 1,024,000,000 bytes of float32), gzip-compressed zeros.
  honest_sparse.h5   the same config; datasets chunked but never written (HDF5 returns the fill value).
  honest_gzip.keras  Keras 3 .keras (stored zip): the LSTM(8000) config and a model.weights.h5 like
                     honest_gzip.h5's.
  within_cap.h5      legacy full model, LSTM(1024) on 2048 features, 48 MiB of gzip-compressed zeros and
                     2 MB of random bytes (an optimizer_weights dataset that is never read): a
                     compressed file whose weights fit the expansion budget, so it loads.
  zipped_h5.keras    Keras 3 .keras of about 2 MB: LSTM(2048) on 2048 features, a model.weights.h5 of
                     ~128 MB uncompressed zeros, deflated by the zip, plus a 1.9 MB stored member
                     (random bytes) so the archive itself is not tiny.
"""
import io
import json
import os
import sys
import zipfile
import zlib

import h5py
import numpy as np

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
CHUNK = (1024, 1024)


def lstm_cfg(units, features, steps=10):
    return {'class_name': 'LSTM', 'config': {
        'name': 'lstm_1', 'units': units, 'activation': 'tanh', 'recurrent_activation': 'sigmoid',
        'use_bias': True, 'return_sequences': False, 'batch_input_shape': [None, steps, features], 'dtype': 'float32'}}


def dense_cfg(units):
    return {'class_name': 'Dense', 'config': {'name': 'dense_1', 'units': units, 'activation': 'linear', 'use_bias': True}}


def legacy_config(units, features):
    return {'class_name': 'Sequential', 'config': [lstm_cfg(units, features), dense_cfg(1)]}


def gz_dataset(g, name, shape, write=True):
    """A float32 dataset of `shape`, chunked by CHUNK, gzip filter; every chunk (if `write`) zeros."""
    chunks = tuple(min(c, s) for c, s in zip(CHUNK, shape)) if len(shape) == 2 else (min(CHUNK[0] * CHUNK[1], shape[0]),)
    d = g.create_dataset(name, shape=shape, dtype='<f4', chunks=chunks, compression='gzip', compression_opts=9)
    if write:
        raw = zlib.compress(np.zeros(chunks, '<f4').tobytes(), 9)
        idx = [range(0, s, c) for s, c in zip(shape, chunks)]
        if len(shape) == 2:
            for i in idx[0]:
                for j in idx[1]:
                    if i + chunks[0] <= shape[0] and j + chunks[1] <= shape[1]:
                        d.id.write_direct_chunk((i, j), raw)
                    else:
                        d[i:i + chunks[0], j:j + chunks[1]] = 0
        else:
            for i in idx[0]:
                d[i:i + chunks[0]] = 0
    return d


def legacy_model(path, cfg, layers, write=True):
    """layers: [(layer name, [(weight name, shape, compressed?)])]"""
    with h5py.File(path, 'w') as f:
        f.attrs['model_config'] = json.dumps(cfg)
        f.attrs['keras_version'] = '2.2.4'
        f.attrs['backend'] = 'tensorflow'
        mw = f.create_group('model_weights')
        mw.attrs['layer_names'] = [n.encode() for n, _ in layers]
        for lname, weights in layers:
            g = mw.create_group(lname)
            g.attrs['weight_names'] = [w.encode() for w, _, _ in weights]
            for w, shape, big in weights:
                if big:
                    gz_dataset(g, w, shape, write)
                else:
                    g.create_dataset(w, data=np.zeros(shape, '<f4'))


def v3_weights(units, features):
    """model.weights.h5 bytes of a Keras 3 Sequential [LSTM(units), Dense(1)], weights gzip-compressed zeros."""
    buf = io.BytesIO()
    with h5py.File(buf, 'w') as f:
        layers = f.create_group('layers')
        cell = layers.create_group('lstm').create_group('cell').create_group('vars')
        gz_dataset(cell, '0', (features, 4 * units))
        gz_dataset(cell, '1', (units, 4 * units))
        gz_dataset(cell, '2', (4 * units,))
        dv = layers.create_group('dense').create_group('vars')
        dv.create_dataset('0', data=np.zeros((units, 1), '<f4'))
        dv.create_dataset('1', data=np.zeros((1,), '<f4'))
    return buf.getvalue()


def v3_config(units, features):
    return {'class_name': 'Sequential', 'config': {'name': 'sequential', 'layers': [
        {'class_name': 'InputLayer', 'config': {'batch_shape': [None, 10, features], 'dtype': 'float32', 'name': 'input_layer'}},
        {'class_name': 'LSTM', 'config': {'name': 'lstm', 'units': units, 'activation': 'tanh', 'recurrent_activation': 'sigmoid', 'use_bias': True, 'return_sequences': False}},
        {'class_name': 'Dense', 'config': {'name': 'dense', 'units': 1, 'activation': 'linear', 'use_bias': True}},
    ]}}


def keras_zip(path, members, deflate=()):
    with zipfile.ZipFile(path, 'w') as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 6, 11, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED
            z.writestr(info, data, compresslevel=9 if name in deflate else None)


def main():
    small = [('lstm_1', [('lstm_1/kernel:0', (16384, 16000), True), ('lstm_1/recurrent_kernel:0', (16384, 16000), True), ('lstm_1/bias:0', (32,), False)]),
             ('dense_1', [('dense_1/kernel:0', (8, 1), False), ('dense_1/bias:0', (1,), False)])]
    legacy_model(os.path.join(OUT, 'mismatch_gzip.h5'), legacy_config(8, 4), small)
    U = F = 8000
    big = [('lstm_1', [('lstm_1/kernel:0', (F, 4 * U), True), ('lstm_1/recurrent_kernel:0', (U, 4 * U), True), ('lstm_1/bias:0', (4 * U,), True)]),
           ('dense_1', [('dense_1/kernel:0', (U, 1), False), ('dense_1/bias:0', (1,), False)])]
    legacy_model(os.path.join(OUT, 'honest_gzip.h5'), legacy_config(U, F), big)
    legacy_model(os.path.join(OUT, 'honest_sparse.h5'), legacy_config(U, F), big, write=False)
    U3, F3 = 1024, 2048
    legacy_model(os.path.join(OUT, 'within_cap.h5'), legacy_config(U3, F3),
                 [('lstm_1', [('lstm_1/kernel:0', (F3, 4 * U3), True), ('lstm_1/recurrent_kernel:0', (U3, 4 * U3), True), ('lstm_1/bias:0', (4 * U3,), True)]),
                  ('dense_1', [('dense_1/kernel:0', (U3, 1), False), ('dense_1/bias:0', (1,), False)])])
    with h5py.File(os.path.join(OUT, 'within_cap.h5'), 'a') as f:
        f.create_dataset('optimizer_weights/pad', data=np.random.default_rng(1).integers(0, 256, 2_000_000, dtype=np.uint8))
    meta = json.dumps({'keras_version': '3.5.0', 'date_saved': '2024-06-11@12:00:00'}).encode()
    keras_zip(os.path.join(OUT, 'honest_gzip.keras'), [('metadata.json', meta), ('config.json', json.dumps(v3_config(U, F)).encode()), ('model.weights.h5', v3_weights(U, F))])
    # ~128 MB of contiguous zeros: LSTM(2048) on 2048 features holds 2 * 2048 * 8192 float32 = 128 MiB.
    U2 = 2048
    buf = io.BytesIO()
    with h5py.File(buf, 'w') as f:
        layers = f.create_group('layers')
        cell = layers.create_group('lstm').create_group('cell').create_group('vars')
        cell.create_dataset('0', data=np.zeros((U2, 4 * U2), '<f4'))
        cell.create_dataset('1', data=np.zeros((U2, 4 * U2), '<f4'))
        cell.create_dataset('2', data=np.zeros((4 * U2,), '<f4'))
        dv = layers.create_group('dense').create_group('vars')
        dv.create_dataset('0', data=np.zeros((U2, 1), '<f4'))
        dv.create_dataset('1', data=np.zeros((1,), '<f4'))
    pad = np.random.default_rng(0).integers(0, 256, 1_900_000, dtype=np.uint8).tobytes()
    keras_zip(os.path.join(OUT, 'zipped_h5.keras'), [('metadata.json', meta), ('config.json', json.dumps(v3_config(U2, U2)).encode()),
                                                      ('model.weights.h5', buf.getvalue()), ('assets/padding.bin', pad)], deflate=('model.weights.h5',))
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)))


main()
