#!/usr/bin/python3
"""Independent reference for a saved Keras ConvLSTM model: PyTorch forward and autograd on the file's weights.

    /usr/bin/python3 scripts/convlstm_h5_reference.py model.h5 x.npy y.npy    # prints JSON to stdout

Reads a legacy Keras HDF5 file (model_config + model_weights, as Keras 2.x / tf.keras / Keras 3 write
it) with h5py, rebuilds a Sequential model of the layers ConvLSTM video models use (InputLayer,
ConvLSTM2D, MaxPooling3D / AveragePooling3D, Conv3D, BatchNormalization (inference), Dropout,
TimeDistributed(Dropout / Flatten), Flatten, Dense) in torch float64 from the Keras equations
(docs/conv-lstm.md), and prints the loss the file names (mse, binary / categorical crossentropy, Keras's
formulas per writer as docs/losses.md gives them, probabilities clipped to [1e-7, 1 − 1e-7]) and the Frobenius norm of ∂L/∂(every weight) by
autograd, keyed '<layer>/<weight>' as rnnscope's analysis JSON keys its params, and each ConvLSTM2D's mean
forget-gate bias. Nothing of rnnscope is used.
hard_sigmoid has slope 0.2 before Keras 3 and 1/6 from Keras 3 on (docs/keras-versions.md).
"""
import json
import math
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def tf_pad(x, k, s, padding, value=0.0):
    """Channels-first x; TF's 'same' padding of a window k at stride s (the odd extra after)."""
    if padding == 'valid':
        return x
    pads = []
    for a in reversed(range(len(k))):
        n = x.shape[2 + a]
        out = math.ceil(n / s[a])
        tot = max((out - 1) * s[a] + k[a] - n, 0)
        pads += [tot // 2, tot - tot // 2]
    return F.pad(x, pads, value=value)


def conv(x, W, b, s, padding, d):
    """Keras-layout kernel W (*k, C, F) on channels-first x."""
    r = W.dim() - 2
    k = [(W.shape[a] - 1) * d[a] + 1 for a in range(r)]
    w = W.permute(r + 1, r, *range(r))
    return {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[r](tf_pad(x, k, s, padding), w, b, stride=tuple(s),
                                                       dilation=tuple(d))


def cf(x):
    return x.permute(0, x.dim() - 1, *range(1, x.dim() - 1))


def cl(x):
    return x.permute(0, *range(2, x.dim()), 1)


def activation(name, keras3):
    name = name if isinstance(name, str) else name['config']['name'] if 'config' in name else name['class_name']
    slope = 1 / 6 if keras3 else 0.2
    return {'tanh': torch.tanh, 'sigmoid': torch.sigmoid, 'relu': torch.relu, 'linear': lambda v: v,
            'softmax': lambda v: torch.softmax(v, -1),
            'hard_sigmoid': lambda v: torch.clamp(slope * v + 0.5, 0, 1)}[name]


def weights_of(h5, name):
    """The layer's arrays in stored order (weight_names attribute)."""
    g = h5['model_weights'][name]
    names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs['weight_names']]
    return {n.split('/')[-1].split(':')[0]: torch.tensor(np.asarray(g[n]), dtype=torch.float64, requires_grad=True)
            for n in names}


def main():
    model_path, x_path, y_path = sys.argv[1:4]
    h5 = h5py.File(model_path, 'r')
    version = h5.attrs.get('keras_version', b'2')
    version = version.decode() if isinstance(version, bytes) else str(version)
    keras3 = int(version.split('.')[0]) >= 3
    cfg = json.loads(h5.attrs['model_config'])
    train = json.loads(h5.attrs['training_config']) if 'training_config' in h5.attrs else {}
    loss_name = train.get('loss', 'mse')
    loss_name = loss_name if isinstance(loss_name, str) else loss_name['config']['name']
    x = torch.tensor(np.load(x_path), dtype=torch.float64)
    y_true = torch.tensor(np.load(y_path), dtype=torch.float64)
    params = {}
    forget_bias = {}
    h = x
    for layer in cfg['config']['layers']:
        cls, c = layer['class_name'], layer['config']
        name = c['name']
        if cls in ('InputLayer', 'Dropout'):
            continue
        if cls == 'TimeDistributed':
            inner = c['layer']['class_name']
            if inner == 'Flatten':
                h = h.reshape(h.shape[0], h.shape[1], -1)
            elif inner != 'Dropout':
                raise SystemExit(f'unsupported TimeDistributed({inner})')
            continue
        if cls == 'Flatten':
            h = h.reshape(h.shape[0], -1)
            continue
        w = weights_of(h5, name)
        for k, v in w.items():
            params[f'{name}/{k}'] = v
        if cls == 'ConvLSTM2D':
            Fo = c['filters']
            if 'bias' in w:
                forget_bias[name] = float(w['bias'][Fo:2 * Fo].mean().item())
            act, rec = activation(c['activation'], keras3), activation(c['recurrent_activation'], keras3)
            s, d = c['strides'], c['dilation_rate']
            hs, hh, cc = [], None, None
            steps = range(h.shape[1] - 1, -1, -1) if c.get('go_backwards') else range(h.shape[1])
            for t in steps:
                z = conv(cf(h[:, t]), w['kernel'], w.get('bias'), s, c['padding'], d)
                if hh is None:
                    hh = torch.zeros_like(z[:, :Fo])
                    cc = torch.zeros_like(z[:, :Fo])
                z = z + conv(hh, w['recurrent_kernel'], None, [1, 1], 'same', [1, 1])
                i, f, g, o = (z[:, q * Fo:(q + 1) * Fo] for q in range(4))
                cc = rec(f) * cc + rec(i) * act(g)
                hh = rec(o) * act(cc)
                hs.append(cl(hh))
            h = torch.stack(hs, 1) if c['return_sequences'] else hs[-1]
        elif cls in ('MaxPooling3D', 'AveragePooling3D'):
            p = c['pool_size']
            s = c['strides'] or p
            xc = cf(h)
            if cls == 'MaxPooling3D':
                h = cl(F.max_pool3d(tf_pad(xc, p, s, c['padding'], -math.inf), p, s))
            else:
                ones = torch.ones_like(xc[:, :1])
                h = cl(F.avg_pool3d(tf_pad(xc, p, s, c['padding']), p, s, divisor_override=1)
                       / F.avg_pool3d(tf_pad(ones, p, s, c['padding']), p, s, divisor_override=1))
        elif cls == 'Conv3D':
            h = cl(conv(cf(h), w['kernel'], w.get('bias'), c['strides'], c['padding'], c['dilation_rate']))
            h = activation(c['activation'], keras3)(h)
        elif cls == 'BatchNormalization':
            eps = c.get('epsilon', 1e-3)
            h = (h - w['moving_mean'].detach()) / torch.sqrt(w['moving_variance'].detach() + eps)
            h = h * w['gamma'] + w['beta'] if 'gamma' in w else h + w['beta'] if 'beta' in w else h
            params.pop(f'{name}/moving_mean')
            params.pop(f'{name}/moving_variance')
        elif cls == 'Dense':
            h = activation(c['activation'], keras3)(h @ w['kernel'] + w['bias'])
        else:
            raise SystemExit(f'unsupported layer {cls}')
    p = torch.clamp(h, 1e-7, 1 - 1e-7)
    if loss_name == 'categorical_crossentropy':
        q = torch.clamp(h / h.sum(-1, keepdim=True), 1e-7, 1 - 1e-7)
        loss = -(y_true * torch.log(q)).sum(-1).mean()
    elif loss_name == 'binary_crossentropy':
        # docs/losses.md: Keras 3 clips; tf.keras (2.3+) clips and adds ε again inside each log; Keras ≤ 2.2
        # clips and takes the logit form log(p / (1 − p)).
        major_minor = tuple(int(v) for v in version.split('.')[:2])
        if keras3:
            loss = -(y_true * torch.log(p) + (1 - y_true) * torch.log(1 - p)).mean()
        elif major_minor >= (2, 3):
            loss = -(y_true * torch.log(p + 1e-7) + (1 - y_true) * torch.log(1 - p + 1e-7)).mean()
        else:
            z = torch.log(p / (1 - p))
            loss = (torch.clamp(z, min=0) - z * y_true + torch.log1p(torch.exp(-z.abs()))).mean()
    else:
        loss = ((h - y_true) ** 2).mean()
    loss.backward()
    out = {'keras': version, 'loss': loss_name, 'value': float(loss.item()), 'outputs': h.detach().reshape(-1).tolist(),
           'forgetBias': forget_bias,
           'gradNorm': {k: float(v.grad.norm().item()) if v.grad is not None else 0.0 for k, v in params.items()}}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
