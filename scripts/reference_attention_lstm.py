#!/usr/bin/python3
"""Independent float64 PyTorch reference for real Keras files: Input -> LSTM -> keras Attention([h, h]) (dot, no scale) -> GlobalAveragePooling1D -> Dense -> Dense (.h5); prints the mse and the gradient norm of every weight.

Usage: /usr/bin/python3 scripts/reference_attention_lstm.py MODEL.h5 X.npy Y.npy   (compare with rnnscope analyze MODEL.h5 --data X.npy --targets Y.npy --json out.json)
Written from the Keras / keras_contrib formulas, reading the weights with h5py; it shares no code with rnnscope.
"""
import sys, json, h5py, numpy as np, torch
path, xp, yp = sys.argv[1:4]
f = h5py.File(path, 'r'); cfg = json.loads(f.attrs['model_config']); L = {l['config']['name']: l for l in cfg['config']['layers']}
mw = f['model_weights']
def weights(name):
    g = mw[name]; names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs['weight_names']]
    return [torch.tensor(np.array(g[n]), dtype=torch.float64, requires_grad=True) for n in names]
A = {'relu': torch.relu, 'tanh': torch.tanh, 'sigmoid': torch.sigmoid, 'linear': lambda z: z, 'softmax': lambda z: torch.softmax(z, -1)}
x = torch.tensor(np.load(xp), dtype=torch.float64); y = torch.tensor(np.load(yp), dtype=torch.float64)
params = {}
order = [l['config']['name'] for l in cfg['config']['layers']]
h = x
for name in order:
    l = L[name]; c = l['config']; cls = l['class_name']
    if cls == 'InputLayer': continue
    if cls == 'LSTM':
        K, R, b = params.setdefault(name, weights(name)); U = R.shape[0]
        ra, a = A[c['recurrent_activation']], A[c['activation']]
        hh = torch.zeros(h.shape[0], U, dtype=torch.float64); cc = hh.clone(); seq = []
        for t in range(h.shape[1]):
            z = h[:, t] @ K + hh @ R + b
            i, fg, g, o = ra(z[:, :U]), ra(z[:, U:2*U]), a(z[:, 2*U:3*U]), ra(z[:, 3*U:])
            cc = fg * cc + i * g; hh = o * a(cc); seq.append(hh)
        h = torch.stack(seq, 1) if c['return_sequences'] else hh
    elif cls == 'Attention':
        assert c['score_mode'] == 'dot' and not c['use_scale']
        s = h @ h.transpose(1, 2); h = torch.softmax(s, -1) @ h
    elif cls == 'GlobalAveragePooling1D':
        h = h.mean(1)
    elif cls == 'Dense':
        K, b = params.setdefault(name, weights(name)); h = A[c['activation']](h @ K + b)
    else:
        raise SystemExit(cls)
loss = ((h - y) ** 2).mean()
loss.backward()
print(json.dumps({'loss': loss.item(), 'gradNorms': {f'{k}/{i}': v.grad.norm().item() for k, vs in params.items() for i, v in enumerate(vs)}}))
