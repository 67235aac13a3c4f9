#!/usr/bin/python3
"""Independent float64 PyTorch reference for real Keras files: a Sequential LRCN (TimeDistributed Conv2D / pooling / Dropout / Flatten -> LSTM -> Dense, .h5); prints the categorical crossentropy and the gradient norm of every weight.

Usage: /usr/bin/python3 scripts/reference_lrcn.py MODEL.h5 X.npy Y.npy   (compare with rnnscope analyze MODEL.h5 --data X.npy --targets Y.npy --json out.json)
Written from the Keras / keras_contrib formulas, reading the weights with h5py; it shares no code with rnnscope.
"""
import sys, json, math, h5py, numpy as np, torch, torch.nn.functional as F
path, xp, yp = sys.argv[1:4]
f = h5py.File(path, 'r')
cfg = json.loads(f.attrs['model_config'])
layers = cfg['config']['layers'] if isinstance(cfg['config'], dict) else cfg['config']
mw = f['model_weights']
def weights(name):
    g = mw[name]
    out = []
    names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs['weight_names']]
    for n in names:
        out.append(torch.tensor(np.array(g[n]), dtype=torch.float64, requires_grad=True))
    return names, out
ACT = {'relu': torch.relu, 'tanh': torch.tanh, 'sigmoid': torch.sigmoid, 'softmax': lambda z: torch.softmax(z, -1), 'linear': lambda z: z,
       'hard_sigmoid': lambda z: torch.clamp(0.2 * z + 0.5, 0, 1)}
def act(a): return ACT[a if isinstance(a, str) else a['config']['name'] if 'config' in a else a]
def same(L, k, s):
    o = math.ceil(L / s); t = max((o - 1) * s + k - L, 0); return t // 2, t - t // 2
def pair(v): return v if isinstance(v, list) else [v, v]
x = torch.tensor(np.load(xp), dtype=torch.float64); y = torch.tensor(np.load(yp), dtype=torch.float64)
params = {}
h = x
for l in layers:
    cls, c = l['class_name'], l['config']
    if cls == 'InputLayer': continue
    name = c['name']
    if cls == 'TimeDistributed':
        inner = c['layer']; ic = inner['config']; B, T = h.shape[:2]
        z = h.reshape(B * T, *h.shape[2:])
        if inner['class_name'] == 'Conv2D':
            names, (K, b) = weights(name); params[name] = [K, b]
            kh, kw = pair(ic['kernel_size']); s = pair(ic['strides'])
            zz = z.permute(0, 3, 1, 2)
            if ic['padding'] == 'same':
                t_, b_ = same(zz.shape[2], kh, s[0]); l_, r_ = same(zz.shape[3], kw, s[1]); zz = F.pad(zz, (l_, r_, t_, b_))
            zz = F.conv2d(zz, K.permute(3, 2, 0, 1), b, stride=tuple(s))
            z = act(ic['activation'])(zz.permute(0, 2, 3, 1))
        elif inner['class_name'] in ('MaxPooling2D', 'AveragePooling2D'):
            p = pair(ic['pool_size']); s = pair(ic['strides'] or p)
            assert ic['padding'] == 'valid'
            zz = z.permute(0, 3, 1, 2)
            zz = F.max_pool2d(zz, tuple(p), tuple(s)) if inner['class_name'] == 'MaxPooling2D' else F.avg_pool2d(zz, tuple(p), tuple(s))
            z = zz.permute(0, 2, 3, 1)
        elif inner['class_name'] in ('Dropout', 'SpatialDropout2D'):
            pass
        elif inner['class_name'] == 'Flatten':
            z = z.reshape(z.shape[0], -1)
        else:
            raise SystemExit('unhandled ' + inner['class_name'])
        h = z.reshape(B, T, *z.shape[1:])
    elif cls == 'LSTM':
        names, (K, R, b) = weights(name); params[name] = [K, R, b]
        U = R.shape[0]; ra, a = act(c['recurrent_activation']), act(c['activation'])
        hh = torch.zeros(h.shape[0], U, dtype=torch.float64); cc = hh.clone(); seq = []
        for t in range(h.shape[1]):
            zt = h[:, t] @ K + hh @ R + b
            i, fg, g, o = ra(zt[:, :U]), ra(zt[:, U:2*U]), a(zt[:, 2*U:3*U]), ra(zt[:, 3*U:])
            cc = fg * cc + i * g; hh = o * a(cc); seq.append(hh)
        h = torch.stack(seq, 1) if c.get('return_sequences') else hh
    elif cls == 'Dense':
        names, (K, b) = weights(name); params[name] = [K, b]
        h = act(c['activation'])(h @ K + b)
    elif cls == 'Dropout':
        pass
    else:
        raise SystemExit('unhandled ' + cls)
eps = 1e-7
p = torch.clamp(h / h.sum(-1, keepdim=True), eps, 1 - eps)
loss = -(y * torch.log(p)).sum(-1).mean()
loss.backward()
print(json.dumps({'loss': loss.item(), 'pred0': h[0].tolist(), 'gradNorms': {f'{k}/{i}': v.grad.norm().item() for k, vs in params.items() for i, v in enumerate(vs)}}))
