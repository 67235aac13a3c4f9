#!/usr/bin/python3
"""Writes the numpy data files of test/fixtures/userdata/ that the command-line tests feed to
`rnnscope analyze`, one folder per corpus model that loads, written the way a user hands arrays
over: numpy's own np.save, np.savez, np.savez_compressed, np.savetxt and Python's json.dump.

Run from the repository root with the system Python (numpy and h5py):

    /usr/bin/python3 scripts/make_userdata.py

har/, asand/ and ecg/ already hold files written by numpy 1.24 elsewhere (see the folder's
README.md); this script only adds files beside them and never rewrites those. Every other folder
is written here from scratch. Inputs come from the corpus itself where it ships them (the DL4J
*_inputs_and_outputs.h5 files, the stacked LSTM's data/sequences/*.csv, the text model's
char_indices.json), otherwise from a seeded numpy generator; targets likewise.

Each folder holds the same arrays in every format (the tests check that every format gives the
analysis the .npy files give):
  x.npy, y.npy                   np.save (for two inputs: one .npy per input, named after it)
  x.npz                          np.savez(f, x): one positional array, arr_0
  xy_compressed.npz              np.savez_compressed(f, x=x, y=y): inputs and targets in one file
  x.csv, y.csv                   np.savetxt, one row per sample (the sample flattened in C order)
  x.json, y.json                 json.dump of the nested lists
"""

import json
import os

import h5py
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'userdata')
CORPUS = os.path.join(ROOT, 'test', 'fixtures', 'corpus')
N = 6  # samples in every generated file (the tests analyse 4 of them)


def folder(name):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    return d


def write(path, fn):
    """Writes one file; refuses to replace a file this script did not write (the shared copies)."""
    if os.path.exists(path) and os.path.basename(path) in SHARED.get(os.path.basename(os.path.dirname(path)), ()):
        raise SystemExit(f'{path} is a shared copy; not rewriting it')
    fn(path)


SHARED = {
    'har': ('x.npy', 'x.npz', 'x_compressed.npz', 'y.npy'),
    'asand': ('inputs.npz', 'y.npy'),
    'ecg': ('x.npy', 'x.csv', 'y.npy'),
}


def savetxt(path, a, fmt='%.9g'):
    # '%.9g' gives every float32 back exactly; one row per sample.
    write(path, lambda p: np.savetxt(p, a.reshape(len(a), -1), fmt=fmt, delimiter=','))


def savejson(path, obj):
    write(path, lambda p: json.dump(obj, open(p, 'w')))


def all_formats(name, x, y, skip=(), csv_fmt='%.9g'):
    d = folder(name)
    if 'npy' not in skip:
        write(os.path.join(d, 'x.npy'), lambda p: np.save(p, x))
        write(os.path.join(d, 'y.npy'), lambda p: np.save(p, y))
    if 'npz' not in skip:
        write(os.path.join(d, 'x.npz'), lambda p: np.savez(p, x))
    write(os.path.join(d, 'xy_compressed.npz'), lambda p: np.savez_compressed(p, x=x, y=y))
    if 'csv' not in skip:
        savetxt(os.path.join(d, 'x.csv'), x, csv_fmt)
    savetxt(os.path.join(d, 'y.csv'), y)
    if 'json' not in skip:
        savejson(os.path.join(d, 'x.json'), x.tolist())
    savejson(os.path.join(d, 'y.json'), y.tolist())


def dl4j(name, dirname, stem):
    with h5py.File(os.path.join(CORPUS, dirname, f'{stem}_inputs_and_outputs.h5'), 'r') as f:
        x = f['inputs'][list(f['inputs'].keys())[0]][:N]
        y = f['outputs/dense_1'][:N]  # the training targets Keras saved beside its predictions
    all_formats(name, np.asarray(x, np.float32), np.asarray(y, np.float32))


def stacked():
    # data/sequences/<i>.csv: 4 rows of 13 ';'-separated values; the model reads the first 12.
    seqs = [np.loadtxt(os.path.join(CORPUS, 'w_dl4j_stacked_lstm_theano_with_predictions', 'data', 'sequences', f'{i}.csv'), delimiter=';')[:, :12]
            for i in range(N)]
    x = np.stack(seqs).astype(np.float32)
    y = np.random.default_rng(7).integers(0, 2, size=(N, 1)).astype(np.float32)
    all_formats('stacked', x, y)


def masking(rng):
    # Masking(0.0) → LSTM(32): sequences of 10 steps, zero-padded at the end to lengths 4…10.
    x = rng.normal(size=(N, 10, 42)).astype(np.float32)
    for n, length in enumerate([10, 7, 4, 10, 6, 9]):
        x[n, length:] = 0
    y = rng.uniform(-1, 1, size=(N, 32)).astype(np.float32)
    all_formats('masking', x, y)


def sentiment(rng):
    # Embedding(2329) over 42 token ids; sentences of 5…42 ids, padded with 0 in front (pad_sequences).
    lengths = [42, 17, 5, 30, 23, 11]
    tokens = [rng.integers(1, 2329, size=k).tolist() for k in lengths]
    x = np.zeros((N, 42), np.int32)
    for n, t in enumerate(tokens):
        x[n, 42 - len(t):] = t
    y = np.eye(2, dtype=np.float32)[rng.integers(0, 2, size=N)]
    all_formats('sentiment', x, y, skip=('json',))
    # JSON: the unpadded token lists, as a user holds them before pad_sequences.
    savejson(os.path.join(folder('sentiment'), 'x.json'), tokens)


def textgen():
    # Character windows of 40 one-hot steps over 57 characters, target the next character.
    idx = json.load(open(os.path.join(CORPUS, 'tfjs_reiinakano_textgen_lstm_legacy_format', 'char_indices.json')))
    text = ('it was the best of times, it was the worst of times; it was the age of wisdom, '
            'it was the age of foolishness. "what?" said she -- (1859) [again]!')
    x = np.zeros((N, 40, 57), np.float32)
    y = np.zeros((N, 57), np.float32)
    for n in range(N):
        s = 7 * n
        for t, ch in enumerate(text[s:s + 40]):
            x[n, t, idx[ch]] = 1
        y[n, idx[text[s + 40]]] = 1
    # The one-hot CSV in integers, as np.savetxt(fmt='%d') writes it.
    all_formats('textgen', x, y, csv_fmt='%d')


def har():
    d = folder('har')
    x = np.load(os.path.join(d, 'x.npy'))[:N]
    y = np.load(os.path.join(d, 'y.npy'))[:N]
    savetxt(os.path.join(d, 'x.csv'), x)
    savetxt(os.path.join(d, 'y.csv'), y)
    savejson(os.path.join(d, 'x.json'), x.tolist())
    savejson(os.path.join(d, 'y.json'), y.tolist())


def asand():
    # Two inputs: every file is keyed by the model's input names (or named after them).
    d = folder('asand')
    z = np.load(os.path.join(d, 'inputs.npz'))
    seq, num = z['sequence_input'], z['numerical_input']
    y = np.load(os.path.join(d, 'y.npy'))
    write(os.path.join(d, 'sequence_input.npy'), lambda p: np.save(p, seq))
    write(os.path.join(d, 'numerical_input.npy'), lambda p: np.save(p, num))
    write(os.path.join(d, 'inputs_compressed.npz'),
          lambda p: np.savez_compressed(p, sequence_input=seq[:N], numerical_input=num[:N], y=y[:N]))
    savetxt(os.path.join(d, 'sequence_input.csv'), seq[:N], fmt='%d')
    savetxt(os.path.join(d, 'numerical_input.csv'), num[:N])
    savetxt(os.path.join(d, 'y.csv'), y[:N])
    savejson(os.path.join(d, 'inputs.json'), {'sequence_input': seq[:N].tolist(), 'numerical_input': num[:N].tolist()})
    savejson(os.path.join(d, 'y.json'), y[:N].tolist())


def ecg():
    d = folder('ecg')
    x = np.load(os.path.join(d, 'x.npy'))
    y = np.load(os.path.join(d, 'y.npy'))
    write(os.path.join(d, 'x.npz'), lambda p: np.savez(p, x))
    write(os.path.join(d, 'xy_compressed.npz'), lambda p: np.savez_compressed(p, x=x[:N], y=y[:N]))
    savetxt(os.path.join(d, 'y.csv'), y)  # beside the shared x.csv, which has all 16 rows
    savejson(os.path.join(d, 'x.json'), x[:N].tolist())
    savejson(os.path.join(d, 'y.json'), y[:N].tolist())
    # docs/data-formats.md: a '# shape:' comment gives the whole array's shape.
    write(os.path.join(d, 'x_shape.csv'),
          lambda p: np.savetxt(p, x[:N].reshape(N, -1), header=f'shape: {N},210,1'))


def main():
    rng = np.random.default_rng(20240611)
    har()
    asand()
    ecg()
    dl4j('simplernn', 'h5_dl4j_simplernn_k2', 'simple_rnn_tf_keras_2')
    dl4j('lstm_tf', 'k1_dl4j_simple_lstm_tf', 'simple_lstm_tf_keras_1')
    dl4j('lstm_th', 'k1_dl4j_simple_lstm_theano', 'simple_lstm_th_keras_1')
    stacked()
    masking(rng)
    sentiment(rng)
    textgen()


if __name__ == '__main__':
    main()
