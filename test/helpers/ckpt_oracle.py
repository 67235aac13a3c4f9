#!/usr/bin/python3
"""Independent reader of checkpoint files (zipfile + h5py + numpy, no rnnscope code).

Usage: ckpt_oracle.py GATES FILE...   (GATES: 4 for LSTM, 3 for GRU, 1 for SimpleRNN)
For each file (a .keras zip, a Keras 3 .weights.h5, or a tf.keras save_weights .h5) reads the
recurrent layer's kernel, recurrent_kernel and bias by the layout Keras writes
(docs/formats.md, 'Keras 3 variable store' and 'Legacy HDF5'), and prints JSON: the float64 sums of every array, and
between consecutive files ||W_k - W_k-1|| / ||W_k-1|| per gate column block (in float64).
"""
import io
import json
import sys
import zipfile

import h5py
import numpy as np


def arrays(path):
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            data = z.read('model.weights.h5')
        f = h5py.File(io.BytesIO(data), 'r')
    else:
        f = h5py.File(path, 'r')
    out = {}
    if 'layers' in f:  # Keras 3 store: layers/<class>/cell/vars/0..2
        for name in f['layers']:
            g = f['layers'][name]
            vars_ = g['cell']['vars'] if 'cell' in g else g['vars']
            for i in sorted(vars_, key=int):
                out['%s/%s' % (name, i)] = np.asarray(vars_[i], dtype=np.float64)
    else:  # legacy: root attr layer_names, per layer attr weight_names
        for layer in f.attrs['layer_names']:
            layer = layer.decode() if isinstance(layer, bytes) else layer
            names = f[layer].attrs['weight_names']
            for i, wn in enumerate(names):
                wn = wn.decode() if isinstance(wn, bytes) else wn
                out['%s/%d' % (layer, i)] = np.asarray(f[layer][wn], dtype=np.float64)
    f.close()
    return out


def main():
    gates = int(sys.argv[1])
    files = [arrays(p) for p in sys.argv[2:]]
    sums = [{k: [float(v.sum()), float(np.abs(v).sum())] for k, v in a.items()} for a in files]
    ratios = []
    for prev, now in zip(files, files[1:]):
        r = {}
        for k in now:
            if k.startswith('dense'):
                continue
            a, b = now[k], prev[k]
            u = a.shape[-1] // gates
            for g in range(gates):
                pa = b[..., g * u:(g + 1) * u]
                d = a[..., g * u:(g + 1) * u] - pa
                w = float(np.sqrt((pa * pa).sum()))
                r['%s/%d' % (k, g)] = float(np.sqrt((d * d).sum())) / w if w > 0 else None
        ratios.append(r)
    print(json.dumps({'sums': sums, 'ratios': ratios}))


main()
