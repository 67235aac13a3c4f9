#!/usr/bin/python3
"""Writes the data-loader fixtures in test/fixtures/data/ and their oracle, expected.json.

Run from the repository root with the system Python (numpy only):

    /usr/bin/python3 scripts/make_data_fixtures.py

What it writes (all small, all deterministic except the one file numpy.savez writes itself,
whose zip timestamps change):

  npy/   every numeric dtype in both byte orders, Fortran order, 0-d and empty arrays, format
         versions 1.0/2.0/3.0, a Python 2 header ('L' suffixes), int64 at and beyond 2**53, and the
         refused kinds (object/pickle, structured, unicode, complex, long double)
  npz/   stored and deflated archives (a zipfile copy of numpy's _savez with fixed timestamps), one
         written by numpy.savez itself, positional arr_0/arr_1 names, a non-.npy member
  csv/   comma/semicolon(decimal comma)/tab/space separators, header rows, '# shape:' lines,
         numpy.savetxt output with nan/inf, CRLF, quotes, and broken files (ragged, non-number)
  json/  nested lists, {"x", "y"} objects, ragged token lists, Python's NaN/Infinity, broken files
  check/ arrays for fitDataToModel: a batch, the same batch transposed, one sample, token ids

expected.json maps each file (relative to test/fixtures/data) to the arrays numpy reads from it:
{"arrays": [{"name", "shape", "dtype", "values"}]}, values in C order as float64 (non-finite
values as the strings "nan", "inf", "-inf"). For CSV the oracle is numpy.loadtxt; for JSON,
Python's json module; for .npy/.npz, numpy.load. Files the loaders must refuse are listed under
"refused" with the error class; their exact messages are asserted in the tests.
"""

import io
import json
import math
import os
import zipfile

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'data')
CORPUS = os.path.join(ROOT, 'test', 'fixtures', 'corpus')
expected = {}
refused = {}


def path(rel):
    p = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def enc(v):
    v = float(v)
    if math.isnan(v):
        return 'nan'
    if math.isinf(v):
        return 'inf' if v > 0 else '-inf'
    return v


def record(rel, arrays):
    expected[rel] = {'arrays': [
        {'name': name, 'shape': list(a.shape), 'dtype': a.dtype.name, 'values': [enc(v) for v in np.asarray(a).ravel(order='C')]}
        for name, a in arrays]}


def save_npy(rel, a, version=None):
    with open(path(rel), 'wb') as f:
        np.lib.format.write_array(f, a, version=version)
    back = np.load(path(rel), allow_pickle=False)
    record(rel, [(os.path.basename(rel)[:-4], back)])


def savez_fixed(rel, arrays, compress):
    """numpy/lib/npyio.py _savez, with a fixed member timestamp so the bytes are reproducible."""
    with zipfile.ZipFile(path(rel), 'w', compression=zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        for key, val in arrays:
            info = zipfile.ZipInfo(key + '.npy', date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            with z.open(info, 'w', force_zip64=True) as fid:
                np.lib.format.write_array(fid, np.asanyarray(val))
    with np.load(path(rel)) as f:
        record(rel, [(k, f[k]) for k in f.files])


def write_text(rel, text):
    with open(path(rel), 'w', newline='') as f:
        f.write(text)


rng = np.random.default_rng(20240611)

# ---- .npy: dtypes x byte orders ------------------------------------------------------------
base = rng.standard_normal((2, 3, 4)) * 3
INT_VALUES = {
    'i1': [-128, 127], 'u1': [0, 255], 'i2': [-32768, 32767], 'u2': [0, 65535],
    'i4': [-2**31, 2**31 - 1], 'u4': [0, 2**32 - 1], 'i8': [-2**53, 2**53], 'u8': [0, 2**53],
}
for kind in ['b1', 'i1', 'u1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8', 'f2', 'f4', 'f8']:
    for order in (['|'] if kind[1] == '1' else ['<', '>']):
        dt = np.dtype(order + kind)
        if kind == 'b1':
            a = (base > 0)
        elif kind[0] in 'iu':
            lo, hi = INT_VALUES[kind]
            a = rng.integers(lo, hi, size=(2, 3, 4), endpoint=True, dtype=np.int64 if kind != 'u8' else np.uint64)
            a.flat[0], a.flat[1] = lo, hi  # the extremes, which exercise sign and width
        elif kind == 'f2':
            a = base.copy()
            a.flat[0], a.flat[1], a.flat[2], a.flat[3] = 6e-8, -0.0, 65504.0, 1e-5  # subnormal, -0, max, subnormal
        else:
            a = base.copy()
            a.flat[0] = 1e-40 if kind == 'f4' else 5e-324  # a subnormal
        a = np.asarray(a).astype(dt)
        tag = {'<': 'le', '>': 'be', '|': 'na'}[order]
        save_npy(f'npy/{dt.name}_{tag}.npy', a)

# Every float16 bit pattern, and numpy's float32 conversion of each (exact) as the oracle.
halves = np.arange(65536, dtype='<u2').view('<f2')
with open(path('npy/float16_all.npy'), 'wb') as f:
    np.lib.format.write_array(f, halves)
with open(path('npy/float16_all_as_f32.npy'), 'wb') as f:
    np.lib.format.write_array(f, halves.astype('<f4'))

save_npy('npy/fortran_f8.npy', np.asfortranarray(rng.standard_normal((3, 4, 5))))
save_npy('npy/fortran_i2_be.npy', np.asfortranarray(np.arange(6, dtype='>i2').reshape(2, 3) - 3))
save_npy('npy/scalar_f4.npy', np.array(2.5, dtype='<f4'))
save_npy('npy/empty_f8.npy', np.zeros((2, 0, 3)))
save_npy('npy/v2_i4.npy', np.arange(12, dtype='<i4').reshape(3, 4) * -7, version=(2, 0))
save_npy('npy/v3_f4.npy', rng.standard_normal((2, 5)).astype('>f4'), version=(3, 0))

# A header as Python 2 numpy wrote it: longs with an 'L' suffix (numpy/lib/format.py _filter_header).
py2 = np.arange(6, dtype='<f8').reshape(2, 3) / 4
hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }"
hdr = hdr + ' ' * (64 - (10 + len(hdr) + 1) % 64) + '\n'
with open(path('npy/py2_header.npy'), 'wb') as f:
    f.write(b'\x93NUMPY\x01\x00' + len(hdr).to_bytes(2, 'little') + hdr.encode('latin1') + py2.tobytes())
record('npy/py2_header.npy', [('py2_header', py2)])

# Refused: values beyond 2**53, pickles, and non-numeric dtypes.
for rel, a in [
    ('npy/i8_beyond_2p53.npy', np.array([[1, 2], [2**53 + 1, 4]], dtype='<i8')),
    ('npy/u8_max.npy', np.array([2**64 - 1], dtype='>u8')),
    ('npy/object.npy', np.array([1, 'a', None], dtype=object)),
    ('npy/structured.npy', np.zeros(3, dtype=[('a', '<f4'), ('b', '<i2')])),
    ('npy/unicode.npy', np.array(['ab', 'c'])),
    ('npy/complex.npy', np.array([1 + 2j])),
    ('npy/longdouble.npy', np.array([1.5], dtype=np.longdouble)),
]:
    with open(path(rel), 'wb') as f:
        np.lib.format.write_array(f, a, allow_pickle=True)
    refused[rel] = 'DataError'

# ---- .npz ------------------------------------------------------------------------------------
x = rng.standard_normal((4, 10, 3)).astype('<f4')
y = rng.integers(0, 5, size=(4,)).astype('<i8')
savez_fixed('npz/xy_stored.npz', [('x', x), ('y', y)], compress=False)
savez_fixed('npz/xy_deflated.npz', [('x', x), ('y', y)], compress=True)
savez_fixed('npz/positional.npz', [('arr_0', x[:2]), ('arr_1', y[:2])], compress=True)
np.savez_compressed(path('npz/numpy_savez.npz'), tokens=rng.integers(0, 5, size=(3, 7)), numbers=rng.standard_normal((3, 36)))
with np.load(path('npz/numpy_savez.npz')) as f:
    record('npz/numpy_savez.npz', [(k, f[k]) for k in f.files])
with zipfile.ZipFile(path('npz/with_readme.npz'), 'w') as z:
    info = zipfile.ZipInfo('x.npy', date_time=(2020, 1, 1, 0, 0, 0))
    buf = io.BytesIO()
    np.lib.format.write_array(buf, x[:1])
    z.writestr(info, buf.getvalue())
    z.writestr(zipfile.ZipInfo('README.txt', date_time=(2020, 1, 1, 0, 0, 0)), 'not an array\n')
record('npz/with_readme.npz', [('x', x[:1])])

# ---- CSV ----------------------------------------------------------------------------------------
def loadtxt(rel, **kw):
    return np.loadtxt(path(rel), ndmin=2, **kw)


seq = np.round(rng.standard_normal((5, 6)), 4)
write_text('csv/comma_header.csv', 'a,b,c,d,e,f\n' + ''.join(','.join(repr(float(v)) for v in row) + '\n' for row in seq))
record('csv/comma_header.csv', [('comma_header', loadtxt('csv/comma_header.csv', delimiter=',', skiprows=1))])

write_text('csv/semicolon_decimal_comma.csv', ''.join(';'.join(f'{v:.4f}'.replace('.', ',') for v in row) + '\r\n' for row in seq))
record('csv/semicolon_decimal_comma.csv', [('semicolon_decimal_comma', loadtxt('csv/semicolon_decimal_comma.csv', delimiter=';', converters=lambda s: float((s.decode() if isinstance(s, bytes) else s).replace(',', '.'))))])

write_text('csv/tabs.tsv', 'time\tvalue\n' + ''.join(f'{i}\t"{v:.3f}"\n' for i, v in enumerate(seq[:, 0])) + '\n\n')
record('csv/tabs.tsv', [('tabs', np.array([[i, round(float(v), 3)] for i, v in enumerate(seq[:, 0])]))])

shaped = rng.standard_normal((3, 4, 2))
shaped[0, 1, 1] = np.nan
shaped[2, 3, 0] = -np.inf
np.savetxt(path('csv/savetxt_shape.txt'), shaped.reshape(3, 8), header='shape: 3,4,2')
record('csv/savetxt_shape.txt', [('savetxt_shape', loadtxt('csv/savetxt_shape.txt').reshape(3, 4, 2))])

write_text('csv/single_column.csv', '# labels\n0\n3\n1\n2\n')
record('csv/single_column.csv', [('single_column', loadtxt('csv/single_column.csv'))])

write_text('csv/ragged.csv', '1,2,3\n4,5,6\n7,8\n')
refused['csv/ragged.csv'] = 'DataError'
write_text('csv/not_a_number.csv', 'x,y\n1,2\n3,abc\n')
refused['csv/not_a_number.csv'] = 'DataError'
write_text('csv/bad_shape.csv', '# shape: 4,2\n1,2,3\n4,5,6\n')
refused['csv/bad_shape.csv'] = 'DataError'

# Real data files from the corpus, read with numpy.loadtxt as the oracle.
ecg = os.path.join(CORPUS, 'w_chen_ecg_bilstm_autoencoder', 'ecg_discord_test.csv')
expected['corpus:w_chen_ecg_bilstm_autoencoder/ecg_discord_test.csv'] = {'arrays': [
    {'name': 'ecg_discord_test', 'shape': [23, 210], 'dtype': 'float64', 'values': [enc(v) for v in np.loadtxt(ecg, delimiter=',').ravel()]}]}
dl4j = os.path.join(CORPUS, 'w_dl4j_stacked_lstm_theano_with_predictions')
s0 = np.loadtxt(os.path.join(dl4j, 'data', 'sequences', '0.csv'), delimiter=';', ndmin=2)
expected['corpus:w_dl4j_stacked_lstm_theano_with_predictions/data/sequences/0.csv'] = {'arrays': [
    {'name': '0', 'shape': list(s0.shape), 'dtype': 'float64', 'values': [enc(v) for v in s0.ravel()]}]}
p = np.load(os.path.join(dl4j, 'predictions.npy'))
expected['corpus:w_dl4j_stacked_lstm_theano_with_predictions/predictions.npy'] = {'arrays': [
    {'name': 'predictions', 'shape': list(p.shape), 'dtype': p.dtype.name, 'values': [enc(v) for v in p.ravel()]}]}

# ---- JSON -------------------------------------------------------------------------------------
nested = np.round(rng.standard_normal((2, 3, 2)), 6)
with open(path('json/nested.json'), 'w') as f:
    json.dump(nested.tolist(), f)
record('json/nested.json', [('nested', np.array(json.load(open(path('json/nested.json')))))])

xy = {'x': np.round(rng.standard_normal((3, 4)), 5).tolist(), 'y': [0, 2, 1], 'note': 'ignored'}
xy['x'][1][2] = float('nan')  # json.dump writes NaN (allow_nan=True)
with open(path('json/xy.json'), 'w') as f:
    json.dump(xy, f)
back = json.load(open(path('json/xy.json')))
record('json/xy.json', [('x', np.array(back['x'])), ('y', np.array(back['y']))])

tokens = [[3, 1, 4, 1], [2], [4, 4, 0, 1, 2, 3]]
with open(path('json/tokens.json'), 'w') as f:
    json.dump(tokens, f)
padded = np.zeros((3, 6))
for i, t in enumerate(tokens):
    padded[i, 6 - len(t):] = t  # Keras pad_sequences(padding='pre', value=0)
record('json/tokens.json', [('tokens', padded)])


def pad_sequences(seqs, maxlen):
    """keras.utils.pad_sequences defaults: padding='pre', truncating='pre', value=0."""
    out = np.zeros((len(seqs), maxlen))
    for i, s in enumerate(seqs):
        s = s[-maxlen:]
        out[i, maxlen - len(s):] = s
    return out


expected['json/tokens.json']['pad'] = {str(n): [enc(v) for v in pad_sequences(tokens, n).ravel()] for n in (4, 7)}

write_text('json/not_rectangular.json', '[[1.5, 2], [3, 4, 5.5]]')
refused['json/not_rectangular.json'] = 'DataError'
write_text('json/null_value.json', '{"x": [[1, 2], [null, 4]]}')
refused['json/null_value.json'] = 'DataError'
write_text('json/truncated.json', '[[1, 2], [3, 4')
refused['json/truncated.json'] = 'LoadError'

# ---- arrays for fitDataToModel ---------------------------------------------------------------
batch = rng.standard_normal((4, 10, 3)).astype('<f4')
save_npy('check/batch.npy', batch)
# Stored as (steps, features, batch): numpy.transpose(t, (2, 0, 1)) restores (batch, steps, features).
t = np.ascontiguousarray(np.transpose(batch, (1, 2, 0)))
assert np.transpose(t, (2, 0, 1)).shape == batch.shape and np.array_equal(np.transpose(t, (2, 0, 1)), batch)
save_npy('check/transposed.npy', t)
expected['check/transposed.npy']['fix_axes'] = [2, 0, 1]
save_npy('check/one_sample.npy', batch[0])
save_npy('check/tokens_ok.npy', rng.integers(0, 5, size=(4, 7)).astype('<i4'))
save_npy('check/tokens_out_of_vocab.npy', np.array([[0, 1, 2, 3, 4, 5, 1], [1, 1, 1, 1, 1, 1, 9]], dtype='<i8'))
save_npy('check/tokens_float.npy', np.array([[0.0, 1.0, 2.5, 3.0, 4.0, 0.0, 1.0]], dtype='<f4'))
with_nan = batch.copy()
with_nan[1, 2, 0] = np.nan
with_nan[3, 9, 2] = np.inf
save_npy('check/with_nan.npy', with_nan)

with open(path('expected.json'), 'w') as f:
    json.dump({'arrays': expected, 'refused': refused}, f, indent=0, sort_keys=True)
    f.write('\n')
print(f'wrote {len(expected)} expected entries and {len(refused)} refused files to {OUT}')
