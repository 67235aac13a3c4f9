"""Writes .npz files with numpy whose array data sits at every byte offset mod 8, for io-npz-align.test.ts.

Usage: python3 npz_alignment.py OUTDIR [FIXTURE.npz ...]

For each dtype rnnscope reads (both byte orders where numpy has them), C and Fortran order, and
np.savez / np.savez_compressed, one file per key length 1..8 holds two arrays: the key and 'z'.
Prints one JSON object: {"files": [{"file", "mode", "members": [{"name", "dtype", "shape",
"fortran", "align", "values"}]}], "fixtures": {path: {name: {"dtype", "shape", "values"}}}}.
`align` is the member's data offset in the file mod 8, read back from the zip's local header;
`values` are numpy's own values in C order as strings (repr), the oracle the test compares with.
Every FIXTURE given is read with np.load, so the test also compares real files with numpy.
"""
import json
import os
import struct
import sys
import zipfile

import numpy as np

DTYPES = ['<f2', '>f2', '<f4', '>f4', '<f8', '>f8', '|i1', '|u1', '<i2', '>i2', '<u2', '>u2',
          '<i4', '>i4', '<u4', '>u4', '<i8', '>i8', '<u8', '>u8', '|b1']


def values(dt, shape, seed):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    kind = np.dtype(dt).kind
    if kind == 'b':
        a = rng.integers(0, 2, n).astype(bool)
    elif kind == 'f':
        a = (rng.standard_normal(n) * 100).astype(dt)
        a[0] = -0.0
        a[1] = np.finfo(dt).max
        a[2] = np.finfo(dt).tiny / 4  # subnormal
    else:
        info = np.iinfo(dt)
        lo, hi = max(info.min, -(2 ** 53)), min(info.max, 2 ** 53)
        a = rng.integers(lo // 2, hi // 2, n, dtype=np.int64 if kind == 'i' else np.uint64).astype(dt)
        a[0], a[1] = lo, hi
    return a.reshape(shape)


def data_offset(path, member):
    raw = open(path, 'rb').read()
    info = zipfile.ZipFile(path).getinfo(member)
    o = info.header_offset
    n, e = struct.unpack('<HH', raw[o + 26:o + 30])
    return o + 30 + n + e  # start of the member's bytes (for stored members: the .npy itself)


def npy_data_start(path, member):
    with zipfile.ZipFile(path) as z, z.open(member) as f:
        head = f.read(12)
    hl = struct.unpack('<H', head[8:10])[0] if head[6] == 1 else struct.unpack('<I', head[8:12])[0]
    return (10 if head[6] == 1 else 12) + hl


def as_strings(a):
    return [repr(float(v)) if a.dtype.kind == 'f' else str(int(v)) for v in a.ravel(order='C')]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    files = []
    seed = 0
    for dt in DTYPES:
        for order in ['C', 'F']:
            for mode in ['savez', 'savez_compressed']:
                for klen in range(1, 9):
                    seed += 1
                    key = 'k' * klen
                    a = values(dt, (3, 5, 2), seed)
                    a = np.asfortranarray(a) if order == 'F' else np.ascontiguousarray(a)
                    b = values(dt, (7,), seed + 1000)
                    path = os.path.join(out, f'{dt[1:]}{"BE" if dt[0] == ">" else ""}_{order}_{mode}_{klen}.npz')
                    getattr(np, mode)(path, **{key: a, 'z': b})
                    members = []
                    for name, arr in [(key, a), ('z', b)]:
                        m = name + '.npy'
                        align = (data_offset(path, m) + npy_data_start(path, m)) % 8 if mode == 'savez' else None
                        members.append({'name': name, 'dtype': dt, 'shape': list(arr.shape),
                                        'fortran': bool(arr.flags.f_contiguous and arr.ndim > 1),
                                        'align': align, 'values': as_strings(arr)})
                    files.append({'file': path, 'mode': mode, 'members': members})
    fixtures = {}
    for path in sys.argv[2:]:
        with np.load(path) as z:
            fixtures[path] = {k: {'dtype': z[k].dtype.str, 'shape': list(z[k].shape), 'values': as_strings(z[k])} for k in z.files}
    json.dump({'files': files, 'fixtures': fixtures}, sys.stdout)


main()
