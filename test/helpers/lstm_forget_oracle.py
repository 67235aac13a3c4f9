# Oracle for test/analysis-memory-corpus.test.ts: a numpy float64 forward pass of a Keras 2
# Bidirectional(LSTM) read with h5py, written from the Keras equations (i, f, c, o gate blocks;
# c_t = f*c_{t-1} + i*tanh(zc); h_t = o*tanh(c_t); hard_sigmoid = clip(0.2 z + 0.5, 0, 1) for the
# Keras 2 recurrent activation). Prints, per direction, the mean forget gate over samples x units x
# steps and the mean forget-gate bias, as JSON.
import json
import sys

import h5py
import numpy as np

weights, data = sys.argv[1], sys.argv[2]
x = np.load(data).astype(np.float64)  # (N, T, I)
out = {}
with h5py.File(weights, 'r') as f:
    for d in ('forward', 'backward'):
        g = f['bidirectional_1/bidirectional_1/%s_lstm_1' % d]
        K, R, b = (np.array(g[k], dtype=np.float64) for k in ('kernel:0', 'recurrent_kernel:0', 'bias:0'))
        U = R.shape[0]
        N, T, _ = x.shape
        h = np.zeros((N, U))
        c = np.zeros((N, U))
        fs = []
        seq = x[:, ::-1, :] if d == 'backward' else x
        for t in range(T):
            z = seq[:, t, :] @ K + h @ R + b
            hs = lambda v: np.clip(0.2 * v + 0.5, 0, 1)
            i, fg, cc, o = hs(z[:, :U]), hs(z[:, U:2 * U]), np.tanh(z[:, 2 * U:3 * U]), hs(z[:, 3 * U:])
            c = fg * c + i * cc
            h = o * np.tanh(c)
            fs.append(fg)
        out[d] = {'mean': float(np.mean(fs)), 'bias': float(np.mean(b[U:2 * U]))}
print(json.dumps(out))
