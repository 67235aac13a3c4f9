#!/usr/bin/python3
"""Independent float64 PyTorch reference for real Keras files: an Embedding -> Bidirectional(LSTM) -> keras_contrib CRF model (Keras 2 .h5); prints crf_loss, the gradient norm of every weight and the transitions' gradient.

Usage: /usr/bin/python3 scripts/reference_bilstm_crf.py MODEL.h5 X.npy Y.npy   (compare with rnnscope analyze MODEL.h5 --data X.npy --targets Y.npy --json out.json)
Written from the Keras / keras_contrib formulas, reading the weights with h5py; it shares no code with rnnscope.
"""
import sys, json, h5py, numpy as np, torch
sys.path.insert(0, __import__('os').path.dirname(__import__('os').path.abspath(__file__)))
path, xp, yp = sys.argv[1:4]
f = h5py.File(path, 'r')
cfg = json.loads(f.attrs['model_config'])
layers = cfg['config'] if isinstance(cfg['config'], list) else cfg['config']['layers']
W = {}
def grab(g, p=''):
    for k in g:
        if isinstance(g[k], h5py.Dataset): W[p + k] = torch.tensor(np.array(g[k]), dtype=torch.float64, requires_grad=True)
        else: grab(g[k], p + k + '/')
grab(f['model_weights'])
def w(suffix): return next(v for k, v in W.items() if k.endswith(suffix))
x = torch.tensor(np.load(xp)).long(); y = torch.tensor(np.load(yp)).long()[..., 0]
lstm_cfg = next(l for l in layers if l['class_name'] == 'Bidirectional')['config']['layer']['config']
crf_cfg = next(l for l in layers if l['class_name'] == 'CRF')['config']
acts = {'tanh': torch.tanh, 'sigmoid': torch.sigmoid, 'hard_sigmoid': lambda z: torch.clamp(0.2 * z + 0.5, 0, 1)}
ra, a = acts[lstm_cfg['recurrent_activation']], acts[lstm_cfg['activation']]
emb = w('embeddings:0')
emb_cfg = next(l for l in layers if l['class_name'] == 'Embedding')['config']
mask = (x != 0) if emb_cfg.get('mask_zero') else torch.ones_like(x, dtype=torch.bool)
mask_for_crf = mask if emb_cfg.get('mask_zero') else None
e = emb[x]
def lstm(xs, m, pre, reverse):
    K, R, b = w(pre + '/kernel:0'), w(pre + '/recurrent_kernel:0'), w(pre + '/bias:0')
    U = R.shape[0]; B, T = m.shape
    h = torch.zeros(B, U, dtype=torch.float64); c = torch.zeros(B, U, dtype=torch.float64)
    out = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        z = xs[:, t] @ K + h @ R + b
        i, fg, cc, o = ra(z[:, :U]), ra(z[:, U:2*U]), a(z[:, 2*U:3*U]), ra(z[:, 3*U:])
        c2 = fg * c + i * cc; h2 = o * a(c2)
        mt = m[:, t, None]
        h = torch.where(mt, h2, h); c = torch.where(mt, c2, c)
        out[t] = h
    return torch.stack(out, 1)
bi = next(l for l in layers if l['class_name'] == 'Bidirectional')['config']['name']
fw = [k for k in W if '/forward_' in k][0].rsplit('/', 1)[0]; bw = [k for k in W if '/backward_' in k][0].rsplit('/', 1)[0]
hseq = torch.cat([lstm(e, mask, fw, False), lstm(e, mask, bw, True)], -1)
from golden_extra_layers import crf_nll_torch
spec = {'useBias': crf_cfg.get('use_bias', True), 'useBoundary': crf_cfg.get('use_boundary', True), 'activation': {'name': crf_cfg.get('activation', 'linear')}}
crf = next(l for l in layers if l['class_name'] == 'CRF')['config']['name']
ps = [w(crf + '/kernel:0'), w('chain_kernel:0')] + ([w(crf + '/bias:0')] if spec['useBias'] else []) + ([w('left_boundary:0'), w('right_boundary:0')] if spec['useBoundary'] else [])
Fn = ps[1].shape[0]
loss, per = crf_nll_torch(spec, hseq, ps, mask_for_crf, torch.eye(Fn, dtype=torch.float64)[y])
loss.backward()
print(json.dumps({'chain': w('chain_kernel:0').grad.tolist(), 'loss': loss.item(), 'gradNorms': {k.split(':')[0]: v.grad.norm().item() for k, v in W.items() if v.grad is not None}}))
