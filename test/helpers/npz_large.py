"""Writes a large, highly compressible .npz with numpy's own header writer, streaming (small memory).

Usage: python3 npz_large.py OUT.npz N_FLOAT32 EVERY [stored|deflated]

One member 'x.npy': a float32 vector of N_FLOAT32 values, zero except every EVERY-th value
(random), as np.savez_compressed would write it (DEFLATED, zip64), or STORED as np.savez does.
Prints {"bytes": file size, "sum": float64 sum of the values, "nonzero": count}. Used by io-npz-memory.test.ts to build files whose
compressed size is small while the array is large.
"""
import json
import os
import sys
import zipfile

import numpy as np

out, n, every, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else 'deflated'
rng = np.random.default_rng(0)
chunk = 1 << 22  # values per write
block = np.zeros(chunk, dtype='<f4')
block[::every] = rng.standard_normal(len(block[::every])).astype('<f4')
method = zipfile.ZIP_DEFLATED if mode == 'deflated' else zipfile.ZIP_STORED
with zipfile.ZipFile(out, 'w', compression=method, compresslevel=1, allowZip64=True) as z:
    with z.open('x.npy', 'w', force_zip64=True) as f:
        np.lib.format.write_array_header_1_0(f, {'descr': '<f4', 'fortran_order': False, 'shape': (n,)})
        left, total, nonzero = n, 0.0, 0
        while left > 0:
            m = min(left, chunk)
            f.write(block[:m].tobytes())
            total += float(block[:m].astype(np.float64).sum())
            nonzero += int(np.count_nonzero(block[:m]))
            left -= m
print(json.dumps({'bytes': os.path.getsize(out), 'sum': total, 'nonzero': nonzero}))
