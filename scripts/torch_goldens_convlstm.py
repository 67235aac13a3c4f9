#!/usr/bin/python3
"""PyTorch goldens for rnnscope's ConvLSTM cell and the 3-D layers around it (test/oracle-torch.test.ts).

Regenerate (needs PyTorch and NumPy; CI does not, the JSON files are committed):

    /usr/bin/python3 scripts/torch_goldens_convlstm.py            # writes test/fixtures/goldens/torch/conv*.json
    /usr/bin/python3 scripts/torch_goldens_convlstm.py --check    # recompute and compare with the committed files

Same golden format as scripts/torch_goldens.py (see its header). Torch has no ConvLSTM: the cell is
written here from the Keras equations (docs/conv-lstm.md) with torch.nn.functional.conv1d/2d/3d, in
torch's channels-first layout; Keras's channels_last tensors and (…kernel_size, in, out) kernels are
permuted at the edges. 'same' padding is TF's (the odd extra zero after the frame), applied with F.pad.
Conv3D is F.conv3d, MaxPooling3D F.max_pool3d. The torch convolution is checked against a direct NumPy
sum over the kernel taps on the golden's own inputs. dh / dc taps are h_t.grad / c_t.grad (retain_grad),
the total derivatives, flattened in Keras's channels_last order (positions, filters).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_goldens import KERAS_VERSION, OUT_DIR, arr, dense_config, dtype_policy, envelope, initializer  # noqa: E402

torch.set_default_dtype(torch.float64)
B = 3


def tf_pad(x, k, s, d, padding):
    """x channels-first (N, C, *spatial); TF's padding of a window k (dilation d) at stride s."""
    if padding == 'valid':
        return x
    pads = []
    for a in reversed(range(len(k))):
        n = x.shape[2 + a]
        e = (k[a] - 1) * d[a] + 1
        out = math.ceil(n / s[a])
        tot = max((out - 1) * s[a] + e - n, 0)
        pads += [tot // 2, tot - tot // 2]
    return F.pad(x, pads)


CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def conv_keras(x, W, b, s, padding, d):
    """Keras convolution of channels-first x with a Keras-layout kernel W (*k, C, F)."""
    r = W.dim() - 2
    w = W.permute(r + 1, r, *range(r))
    return CONV[r](tf_pad(x, list(W.shape[:r]), s, d, padding), w, b, stride=tuple(s), dilation=tuple(d))


def naive_conv(x, W, s, padding, d):
    """Direct sum over kernel taps, NumPy, channels_last frame x (*spatial, C): the check of conv_keras."""
    r = W.ndim - 2
    n = x.shape[:r]
    k = W.shape[:r]
    outs, lead = [], []
    for a in range(r):
        e = (k[a] - 1) * d[a] + 1
        o = math.ceil((n[a] - e + 1) / s[a]) if padding == 'valid' else math.ceil(n[a] / s[a])
        outs.append(o)
        lead.append(0 if padding == 'valid' else max((o - 1) * s[a] + e - n[a], 0) // 2)
    y = np.zeros(outs + [W.shape[-1]])
    for o in np.ndindex(*outs):
        for j in np.ndindex(*k):
            p = [o[a] * s[a] + j[a] * d[a] - lead[a] for a in range(r)]
            if all(0 <= p[a] < n[a] for a in range(r)):
                y[o] += x[tuple(p)] @ W[j]
    return y


def cf(x):
    """channels_last (N, *spatial, C) → channels-first."""
    return x.permute(0, x.dim() - 1, *range(1, x.dim() - 1))


def cl(x):
    """channels-first → channels_last."""
    return x.permute(0, *range(2, x.dim()), 1)


class ConvLSTM:
    def __init__(self, name, rank, filters, kernel, strides=None, padding='valid', dilation=None,
                 return_sequences=False):
        self.name, self.rank, self.filters, self.kernel = name, rank, filters, kernel
        self.strides = strides or [1] * rank
        self.dilation = dilation or [1] * rank
        self.padding, self.return_sequences = padding, return_sequences

    def build(self, in_shape, gen):
        C = in_shape[-1]
        Fo = self.filters
        self.K = ((torch.rand(*self.kernel, C, 4 * Fo, generator=gen) * 2 - 1) * 0.6).requires_grad_()
        self.R = ((torch.rand(*self.kernel, Fo, 4 * Fo, generator=gen) * 2 - 1) * 0.5).requires_grad_()
        self.b = ((torch.rand(4 * Fo, generator=gen) * 2 - 1) * 0.3).requires_grad_()
        self.params = {'kernel': self.K, 'recurrent_kernel': self.R, 'bias': self.b}
        cls = f'ConvLSTM{self.rank}D'
        cfg = {'name': self.name, 'trainable': True, 'dtype': dtype_policy(),
               'return_sequences': self.return_sequences, 'return_state': False, 'go_backwards': False,
               'stateful': False, 'unroll': False, 'filters': Fo, 'kernel_size': list(self.kernel),
               'strides': list(self.strides), 'padding': self.padding, 'data_format': 'channels_last',
               'dilation_rate': list(self.dilation), 'activation': 'tanh', 'recurrent_activation': 'sigmoid',
               'use_bias': True, 'kernel_initializer': initializer('GlorotUniform'),
               'recurrent_initializer': initializer('Orthogonal', {'seed': None, 'gain': 1.0}),
               'bias_initializer': initializer('Zeros', {}), 'unit_forget_bias': True, 'kernel_regularizer': None,
               'recurrent_regularizer': None, 'bias_regularizer': None, 'activity_regularizer': None,
               'kernel_constraint': None, 'recurrent_constraint': None, 'bias_constraint': None, 'dropout': 0.0,
               'recurrent_dropout': 0.0, 'seed': None}
        return envelope(cls, cfg, list(in_shape))

    def __call__(self, x, taps):
        """x channels_last (B, T, *spatial, C) → (B, [T,] *out, F); records h_t, c_t for the taps."""
        T = x.shape[1]
        Fo = self.filters
        hs, cs = [], []
        h = c = None
        for t in range(T):
            zx = conv_keras(cf(x[:, t]), self.K, self.b, self.strides, self.padding, self.dilation)
            if h is None:
                h = torch.zeros_like(zx[:, :Fo])
                c = torch.zeros_like(zx[:, :Fo])
            z = zx + conv_keras(h, self.R, None, [1] * self.rank, 'same', [1] * self.rank)
            i, f, g, o = (z[:, q * Fo:(q + 1) * Fo] for q in range(4))
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            h.retain_grad()
            c.retain_grad()
            hs.append(h)
            cs.append(c)
        taps.append((self, hs, cs))
        return torch.stack([cl(v) for v in hs], 1) if self.return_sequences else cl(h)


class Conv3D:
    def __init__(self, name, filters, kernel, padding, activation):
        self.name, self.filters, self.kernel, self.padding, self.activation = name, filters, kernel, padding, activation

    def build(self, in_shape, gen):
        self.K = ((torch.rand(*self.kernel, in_shape[-1], self.filters, generator=gen) * 2 - 1) * 0.4).requires_grad_()
        self.b = ((torch.rand(self.filters, generator=gen) * 2 - 1) * 0.3).requires_grad_()
        self.params = {'kernel': self.K, 'bias': self.b}
        cfg = {'name': self.name, 'trainable': True, 'dtype': dtype_policy(), 'filters': self.filters,
               'kernel_size': list(self.kernel), 'strides': [1, 1, 1], 'padding': self.padding,
               'data_format': 'channels_last', 'dilation_rate': [1, 1, 1], 'groups': 1,
               'activation': self.activation, 'use_bias': True, 'kernel_initializer': initializer('GlorotUniform'),
               'bias_initializer': initializer('Zeros', {}), 'kernel_regularizer': None, 'bias_regularizer': None,
               'activity_regularizer': None, 'kernel_constraint': None, 'bias_constraint': None}
        return envelope('Conv3D', cfg, list(in_shape))

    def __call__(self, x, taps):
        y = cl(conv_keras(cf(x), self.K, self.b, [1, 1, 1], self.padding, [1, 1, 1]))
        return torch.sigmoid(y) if self.activation == 'sigmoid' else y


class Plain:
    """Parameterless layers: MaxPooling3D, GlobalAveragePooling3D, Flatten."""

    def __init__(self, cls, name, fn, cfg):
        self.cls, self.name, self.fn, self.cfg = cls, name, fn, cfg
        self.params = {}

    def build(self, in_shape, gen):
        return envelope(self.cls, {'name': self.name, 'trainable': True, 'dtype': dtype_policy(), **self.cfg},
                        list(in_shape))

    def __call__(self, x, taps):
        return self.fn(x)


class Dense:
    def __init__(self, name, units):
        self.name, self.units = name, units

    def build(self, in_shape, gen):
        self.W = ((torch.rand(in_shape[-1], self.units, generator=gen) * 2 - 1) * 0.5).requires_grad_()
        self.b = ((torch.rand(self.units, generator=gen) * 2 - 1) * 0.3).requires_grad_()
        self.params = {'kernel': self.W, 'bias': self.b}
        return envelope('Dense', dense_config(self.name, self.units, 'linear'), list(in_shape))

    def __call__(self, x, taps):
        return x @ self.W + self.b


def max_pool3d(pool):
    return Plain('MaxPooling3D', 'max_pooling3d', lambda x: cl(F.max_pool3d(cf(x), pool, pool)),
                 {'pool_size': list(pool), 'padding': 'valid', 'strides': list(pool), 'data_format': 'channels_last'})


GLOBAL_AVG = Plain('GlobalAveragePooling3D', 'global_average_pooling3d', lambda x: x.mean(dim=(1, 2, 3)),
                   {'data_format': 'channels_last', 'keepdims': False})
FLATTEN = Plain('Flatten', 'flatten', lambda x: x.reshape(x.shape[0], -1), {'data_format': 'channels_last'})


def build(spec, seed):
    gen = torch.Generator().manual_seed(seed)
    in_shape = [None, *spec['input']]
    keras_layers = [envelope('InputLayer', {'batch_shape': in_shape, 'dtype': 'float32', 'sparse': False,
                                            'ragged': False, 'name': 'input_layer', 'optional': False})]
    x = ((torch.rand(B, *spec['input'], generator=gen) * 2 - 1) * 1.2).requires_grad_()
    # Shapes: run each layer once to learn its output shape, building its config on the way.
    shape, cur, taps = in_shape, x, []
    for layer in spec['layers']:
        keras_layers.append(layer.build(shape, gen))
        cur = layer(cur, taps)
        shape = [None, *cur.shape[1:]]
    y = cur
    target = (torch.rand(*y.shape, generator=gen) * 2 - 1).detach()
    loss = ((y - target) ** 2).mean()
    loss.backward()

    # The torch convolution against a direct sum over the kernel taps, on the first frame of the first layer.
    first = spec['layers'][0]
    frame = x.detach()[0, 0].numpy()
    want = naive_conv(frame, first.K.detach().numpy(), first.strides, first.padding, first.dilation)
    got = cl(conv_keras(cf(x.detach()[:1, 0]), first.K.detach(), None, first.strides, first.padding,
                        first.dilation))[0].numpy()
    err = np.abs(got - want).max()
    assert err < 1e-12, f'torch conv differs from the direct sum by {err}'

    weights, grads = {}, {}
    for layer in spec['layers']:
        for k, v in layer.params.items():
            weights[f'{layer.name}/{k}'] = v.detach()
            grads[f'{layer.name}/{k}'] = v.grad
    tap_out = {}
    for layer, hs, cs in taps:
        tap_out[layer.name] = {'layer': layer.name, 'direction': None, 'kind': 'ConvLSTM',
                               'dh': arr(torch.stack([cl(h.grad).reshape(B, -1) for h in hs], 1)),
                               'dc': arr(torch.stack([cl(c.grad).reshape(B, -1) for c in cs], 1))}
    compile_config = {'optimizer': 'sgd', 'loss': 'mse', 'loss_weights': None, 'metrics': None,
                      'weighted_metrics': None, 'run_eagerly': False, 'steps_per_execution': 1, 'jit_compile': False}
    config = {'module': 'keras', 'class_name': 'Sequential',
              'config': {'name': 'sequential', 'trainable': True, 'dtype': dtype_policy(), 'layers': keras_layers,
                         'build_input_shape': in_shape},
              'registered_name': None, 'build_config': {'input_shape': in_shape}, 'compile_config': compile_config}
    return {
        'name': spec['name'],
        'description': spec['description'],
        'generator': 'scripts/torch_goldens_convlstm.py (torch %s, float64)' % torch.__version__.split('+')[0],
        'kerasVersion': KERAS_VERSION,
        'config': config,
        'lossConfig': {'name': 'mse', 'fromLogits': False, 'labelSmoothing': 0},
        'inputs': arr(x),
        'targets': arr(target),
        'loss': float(loss.item()),
        'outputs': arr(y),
        'weights': {k: arr(v) for k, v in weights.items()},
        'grads': {k: arr(v) for k, v in grads.items()},
        'dInputs': arr(x.grad),
        'taps': tap_out,
    }


def specs():
    return [
        {'name': 'convlstm2d_stack_conv3d_mse',
         'description': "ConvLSTM2D(3, 3×2, same, seq) → ConvLSTM2D(2, 2×2, valid, seq) → Conv3D(1, 3×3×3, same, "
                        "sigmoid), mse (the next-frame model's shape)",
         'input': [4, 5, 6, 2],
         'layers': [ConvLSTM('conv_lstm2d', 2, 3, [3, 2], padding='same', return_sequences=True),
                    ConvLSTM('conv_lstm2d_1', 2, 2, [2, 2], return_sequences=True),
                    Conv3D('conv3d', 1, [3, 3, 3], 'same', 'sigmoid')]},
        {'name': 'convlstm2d_strided_pool3d_mse',
         'description': 'ConvLSTM2D(2, 3×3, strides 2×1, same, seq) → MaxPooling3D(1×2×2) → GlobalAveragePooling3D '
                        '→ Dense(2), mse',
         'input': [5, 7, 6, 1],
         'layers': [ConvLSTM('conv_lstm2d', 2, 2, [3, 3], strides=[2, 1], padding='same', return_sequences=True),
                    max_pool3d([1, 2, 2]), GLOBAL_AVG, Dense('dense', 2)]},
        {'name': 'convlstm1d_dilated_flatten_mse',
         'description': 'ConvLSTM1D(3, kernel 2, dilation 2, valid) → Flatten → Dense(2), mse',
         'input': [4, 7, 2],
         'layers': [ConvLSTM('conv_lstm1d', 1, 3, [2], dilation=[2]), FLATTEN, Dense('dense', 2)]},
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--check', action='store_true', help='recompute and compare with the committed files')
    args = ap.parse_args()
    os.makedirs(OUT_DIR, exist_ok=True)
    bad = 0
    for seed, spec in enumerate(specs(), start=1):
        g = build(spec, 2000 + seed)
        text = json.dumps(g, indent=None, separators=(',', ':')) + '\n'
        path = os.path.join(OUT_DIR, spec['name'] + '.json')
        if args.check:
            with open(path) as f:
                same = f.read() == text
            print(('same  ' if same else 'DIFF  ') + path)
            bad += 0 if same else 1
        else:
            with open(path, 'w') as f:
                f.write(text)
            print(f'wrote {path} ({len(text)} bytes), loss {g["loss"]:.6f}')
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
