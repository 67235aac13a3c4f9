#!/usr/bin/python3
"""PyTorch goldens for rnnscope's engine (test/oracle-torch.test.ts).

Regenerate (needs PyTorch and NumPy; CI does not, the JSON files are committed):

    /usr/bin/python3 scripts/torch_goldens.py            # writes test/fixtures/goldens/torch/*.json
    /usr/bin/python3 scripts/torch_goldens.py --check    # recompute and compare with the committed files

Each golden describes one small Keras model (Sequential: InputLayer + recurrent layer(s) + Dense head)
and holds what rnnscope must reproduce:

    config        the model config Keras 3 would write (config.json of a .keras file), kerasVersion
    lossConfig    {name, fromLogits, labelSmoothing} (rnnscope LossConfig) and the compile_config loss
    weights       every parameter in KERAS layout under rnnscope's ParamSpec key ('lstm/kernel',
                  'bi/forward/recurrent_kernel', ...), converted from torch per docs/keras-versions.md, 'PyTorch'
    inputs, targets, loss, outputs
    grads         ∂L/∂(every parameter) in Keras layout (docs/keras-versions.md, 'PyTorch')
    dInputs       ∂L/∂x
    taps          per recurrent layer / direction: dh = ∂L/∂h_t (B,T,U) and for LSTM dc = ∂L/∂c_t,
                  indexed by INPUT position t (also for the backward direction of a Bidirectional);
                  LSTM also dcHeld = ∂L/∂c_t with h_t held fixed (= f_{t+1} ⊙ ∂L/∂c_{t+1}), the part
                  of dc that arrives through the cell-state path only

How the numbers are made (the oracle is torch autograd, in float64):
  * the recurrent layers are unrolled step by step with torch's own cells (nn.LSTMCell, nn.GRUCell,
    nn.RNNCell); every h_t / c_t calls retain_grad(), so h_t.grad is the total derivative of the loss
    with respect to the state after consuming x_t (through the output at t and the recurrence);
  * the unrolled cells are checked against the fused modules (nn.LSTM/nn.GRU/nn.RNN, incl.
    num_layers=2 and bidirectional=True) with the same parameters;
  * the Keras-layout weights are checked by an independent NumPy forward pass written from the Keras
    equations (docs/keras-versions.md, 'Cell equations'; docs/masking.md), which must reproduce torch's outputs;
  * GRU is nn.GRU = Keras reset_after=True; LSTM/SimpleRNN use separate random b_ih and b_hh (Keras
    bias = b_ih + b_hh, and torch must give them equal gradients);
  * torch has no peephole LSTM: PeepholeLSTM is a small torch module written from the equations of
    tf.keras.experimental.PeepholeLSTMCell (i, f see c_{t-1}, o sees c_t; three (U,) peephole weights),
    differentiated by autograd and checked by the NumPy forward; its golden is a tf.keras 2.13 config
    RNN(PeepholeLSTMCell) (the only Keras that has the cell);
  * losses are the Keras formulas (docs/losses.md) reduced with sum_over_batch_size (mean over rows).
Floats are written with Python's repr (shortest round-trip), so the float64 values are exact.
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
EPS = 1e-7
KERAS_VERSION = '3.10.0'
TF_KERAS_VERSION = '2.13.1'
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'goldens', 'torch')
B, T, I = 3, 5, 3


# ---------------------------------------------------------------------------
# Keras 3 config JSON (docs/formats.md, 'Model configs')

def dtype_policy():
    return {'module': 'keras', 'class_name': 'DTypePolicy', 'config': {'name': 'float32'}, 'registered_name': None}


def initializer(cls, cfg=None):
    return {'module': 'keras.initializers', 'class_name': cls, 'config': cfg if cfg is not None else {'seed': None},
            'registered_name': None}


def envelope(cls, cfg, input_shape=None):
    e = {'module': 'keras.layers', 'class_name': cls, 'config': cfg, 'registered_name': None}
    if input_shape is not None:
        e['build_config'] = {'input_shape': input_shape}
    return e


def rnn_config(kind, name, units, activation='tanh', return_sequences=False, go_backwards=False,
               zero_output_for_mask=False):
    cfg = {'name': name, 'trainable': True, 'dtype': dtype_policy(), 'return_sequences': return_sequences,
           'return_state': False, 'go_backwards': go_backwards, 'stateful': False, 'unroll': False,
           'zero_output_for_mask': zero_output_for_mask, 'units': units, 'activation': activation}
    if kind != 'SimpleRNN':
        cfg['recurrent_activation'] = 'sigmoid'
    cfg['use_bias'] = True
    cfg['kernel_initializer'] = initializer('GlorotUniform')
    cfg['recurrent_initializer'] = initializer('Orthogonal', {'seed': None, 'gain': 1.0})
    cfg['bias_initializer'] = initializer('Zeros', {})
    if kind == 'LSTM':
        cfg['unit_forget_bias'] = True
    for k in ('kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer', 'activity_regularizer',
              'kernel_constraint', 'recurrent_constraint', 'bias_constraint'):
        cfg[k] = None
    cfg['dropout'] = 0.0
    cfg['recurrent_dropout'] = 0.0
    if kind != 'SimpleRNN':
        cfg['seed'] = None
    if kind == 'GRU':
        cfg['reset_after'] = True
    return cfg


def tf_keras_peephole_rnn(layer):
    """RNN(PeepholeLSTMCell(units)) as tf.keras 2.13 serializes it (RNN.get_config with the cell's LSTMCell config)."""
    init = lambda cls, cfg=None: {'class_name': cls, 'config': cfg if cfg is not None else {'seed': None}}
    cell = {'name': 'peephole_lstm_cell', 'trainable': True, 'dtype': 'float32', 'units': layer.units,
            'activation': 'tanh', 'recurrent_activation': 'sigmoid', 'use_bias': True,
            'kernel_initializer': init('GlorotUniform'), 'recurrent_initializer': init('Orthogonal', {'gain': 1.0, 'seed': None}),
            'bias_initializer': init('Zeros', {}), 'unit_forget_bias': True, 'kernel_regularizer': None,
            'recurrent_regularizer': None, 'bias_regularizer': None, 'kernel_constraint': None,
            'recurrent_constraint': None, 'bias_constraint': None, 'dropout': 0.0, 'recurrent_dropout': 0.0,
            'implementation': 1}
    cfg = {'name': layer.name, 'trainable': True, 'dtype': 'float32', 'return_sequences': layer.return_sequences,
           'return_state': False, 'go_backwards': False, 'stateful': False, 'unroll': False, 'time_major': False,
           'cell': {'module': 'keras.experimental', 'class_name': 'PeepholeLSTMCell', 'config': cell,
                    'registered_name': None}}
    return {'class_name': 'RNN', 'config': cfg}


def dense_config(name, units, activation):
    return {'name': name, 'trainable': True, 'dtype': dtype_policy(), 'units': units, 'activation': activation,
            'use_bias': True, 'kernel_initializer': initializer('GlorotUniform'),
            'bias_initializer': initializer('Zeros', {}), 'kernel_regularizer': None, 'bias_regularizer': None,
            'kernel_constraint': None, 'bias_constraint': None}


def keras_loss(loss):
    if not loss['fromLogits']:
        return loss['name']
    cls = {'categorical_crossentropy': 'CategoricalCrossentropy',
           'sparse_categorical_crossentropy': 'SparseCategoricalCrossentropy'}[loss['name']]
    cfg = {'name': loss['name'], 'reduction': 'sum_over_batch_size', 'from_logits': True}
    if cls == 'CategoricalCrossentropy':
        cfg.update({'label_smoothing': 0.0, 'axis': -1})
    else:
        cfg['ignore_class'] = None
    return {'module': 'keras.losses', 'class_name': cls, 'config': cfg, 'registered_name': None}


# ---------------------------------------------------------------------------
# Model description → torch modules, Keras config, Keras weights

class Rec:
    """One recurrent layer (or a Bidirectional wrapper around one)."""

    def __init__(self, kind, name, units, activation='tanh', return_sequences=False, bidi=None):
        self.kind, self.name, self.units, self.activation = kind, name, units, activation
        self.return_sequences, self.bidi = return_sequences, bidi  # bidi: merge mode or None

    def out_dim(self):
        return 2 * self.units if self.bidi == 'concat' else self.units


class Head:
    def __init__(self, name, units, activation):
        self.name, self.units, self.activation = name, units, activation


class PeepholeLSTMCell(torch.nn.Module):
    """tf.keras.experimental.PeepholeLSTMCell in torch: gate order i, f, c, o; Keras layout weights
    (kernel (I, 4U), recurrent_kernel (U, 4U), bias (4U,)) and peepholes p_i, p_f, p_o (U,)."""

    def __init__(self, in_dim, units):
        super().__init__()
        self.hidden_size = units
        self.kernel = torch.nn.Parameter(torch.zeros(in_dim, 4 * units))
        self.recurrent_kernel = torch.nn.Parameter(torch.zeros(units, 4 * units))
        self.bias = torch.nn.Parameter(torch.zeros(4 * units))
        self.input_gate_peephole_weights = torch.nn.Parameter(torch.zeros(units))
        self.forget_gate_peephole_weights = torch.nn.Parameter(torch.zeros(units))
        self.output_gate_peephole_weights = torch.nn.Parameter(torch.zeros(units))

    def forward(self, x, state):
        h, c = state
        U = self.hidden_size
        z = x @ self.kernel + h @ self.recurrent_kernel + self.bias
        i = torch.sigmoid(z[:, :U] + self.input_gate_peephole_weights * c)
        f = torch.sigmoid(z[:, U:2 * U] + self.forget_gate_peephole_weights * c)
        c_new = f * c + i * torch.tanh(z[:, 2 * U:3 * U])
        o = torch.sigmoid(z[:, 3 * U:] + self.output_gate_peephole_weights * c_new)
        return o * torch.tanh(c_new), c_new


PEEPHOLE_WEIGHTS = ('kernel', 'recurrent_kernel', 'bias', 'input_gate_peephole_weights',
                    'forget_gate_peephole_weights', 'output_gate_peephole_weights')


def make_cell(kind, in_dim, units, activation, gen):
    if kind == 'PeepholeLSTM':
        cell = PeepholeLSTMCell(in_dim, units)
    elif kind == 'LSTM':
        cell = torch.nn.LSTMCell(in_dim, units)
    elif kind == 'GRU':
        cell = torch.nn.GRUCell(in_dim, units)
    else:
        cell = torch.nn.RNNCell(in_dim, units, nonlinearity=activation)
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_((torch.rand(p.shape, generator=gen) * 2 - 1) * 0.7)
    return cell


def gate_perm(units):
    """torch GRU row blocks [r, z, n] ↔ Keras column blocks [z, r, h]: Keras block k = torch block [1, 0, 2][k]."""
    return torch.cat([torch.arange(units) + units, torch.arange(units), torch.arange(units) + 2 * units])


def keras_weights(kind, cell, units):
    """torch cell parameters → Keras (kernel, recurrent_kernel, bias), docs/keras-versions.md, 'PyTorch'."""
    if kind == 'PeepholeLSTM':  # already in Keras layout
        return [getattr(cell, n) for n in PEEPHOLE_WEIGHTS]
    W, R, bi, bh = cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh
    if kind == 'GRU':
        p = gate_perm(units)
        return [W[p].T, R[p].T, torch.stack([bi[p], bh[p]])]
    return [W.T, R.T, bi + bh]


def keras_grads(kind, cell, units):
    """torch parameter gradients → Keras layout, docs/keras-versions.md, 'PyTorch'."""
    if kind == 'PeepholeLSTM':
        return [getattr(cell, n).grad for n in PEEPHOLE_WEIGHTS]
    gW, gR, gbi, gbh = cell.weight_ih.grad, cell.weight_hh.grad, cell.bias_ih.grad, cell.bias_hh.grad
    if kind == 'GRU':
        p = gate_perm(units)
        return [gW[p].T, gR[p].T, torch.stack([gbi[p], gbh[p]])]
    # b_ih and b_hh enter additively: both gradients equal ∂L/∂b.
    assert torch.allclose(gbi, gbh, rtol=0, atol=1e-15), 'b_ih and b_hh gradients differ'
    return [gW.T, gR.T, gbi]


def run_direction(kind, cell, x, reverse):
    """Unrolled torch cell; returns h[t], c[t] lists indexed by INPUT position t (retain_grad on each)."""
    Bn, Tn, _ = x.shape
    h = torch.zeros(Bn, cell.hidden_size)
    c = torch.zeros(Bn, cell.hidden_size)
    hs, cs = [None] * Tn, [None] * Tn
    for t in (reversed(range(Tn)) if reverse else range(Tn)):
        if kind in ('LSTM', 'PeepholeLSTM'):
            h, c = cell(x[:, t], (h, c))
            if c.requires_grad:
                c.retain_grad()
            cs[t] = c
        else:
            h = cell(x[:, t], h)
        if h.requires_grad:
            h.retain_grad()
        hs[t] = h
    return hs, cs


def torch_forward(model, x):
    """Runs the model; returns (y, per-layer state records for taps)."""
    records = []
    a = x
    for layer in model['layers']:
        if isinstance(layer, Head):
            a = layer.linear(a)
            if layer.activation == 'softmax':
                a = torch.softmax(a, dim=-1)
            continue
        dirs = [('forward', False), ('backward', True)] if layer.bidi else [(None, False)]
        outs = []
        for (direction, reverse), cell in zip(dirs, layer.cells):
            hs, cs = run_direction(layer.kind, cell, a, reverse)
            records.append((layer, direction, hs, cs, cell, a, reverse))
            if layer.return_sequences:
                outs.append(torch.stack(hs, dim=1))
            else:
                outs.append(hs[0] if reverse else hs[-1])  # state after the last processing step
        if not layer.bidi:
            a = outs[0]
        elif layer.bidi == 'concat':
            a = torch.cat(outs, dim=-1)
        elif layer.bidi == 'sum':
            a = outs[0] + outs[1]
        else:
            raise ValueError(layer.bidi)
    return a, records


def keras_loss_value(loss, y, target):
    """Keras formulas (docs/losses.md) with sum_over_batch_size (mean over rows)."""
    name, logits = loss['name'], loss['fromLogits']
    if name == 'mse':
        return ((y - target) ** 2).mean()
    if name == 'categorical_crossentropy':
        if logits:
            per_row = -(target * torch.log_softmax(y, dim=-1)).sum(-1)
        else:
            p = torch.clamp(y / y.sum(-1, keepdim=True), EPS, 1 - EPS)
            per_row = -(target * torch.log(p)).sum(-1)
        return per_row.mean()
    if name == 'sparse_categorical_crossentropy':
        idx = target.long().unsqueeze(-1)
        if logits:
            per_row = -torch.log_softmax(y, dim=-1).gather(-1, idx).squeeze(-1)
        else:
            p = torch.clamp(y / y.sum(-1, keepdim=True), EPS, 1 - EPS)
            per_row = -torch.log(p).gather(-1, idx).squeeze(-1)
        return per_row.mean()
    raise ValueError(name)


# ---------------------------------------------------------------------------
# Independent checks

def check_fused(model, x):
    """The unrolled cells must equal torch's fused nn.LSTM / nn.GRU / nn.RNN modules."""
    with torch.no_grad():
        a = x
        recs = [l for l in model['layers'] if isinstance(l, Rec)]
        for layer in recs:
            if layer.kind == 'PeepholeLSTM':  # no fused torch module: the unrolled cell is the reference
                outs = []
                for cell, reverse in zip(layer.cells, [False, True]):
                    hs, _ = run_direction(layer.kind, cell, a, reverse)
                    outs.append(torch.stack(hs, 1) if layer.return_sequences else (hs[0] if reverse else hs[-1]))
                a = outs[0] if not layer.bidi else (torch.cat(outs, -1) if layer.bidi == 'concat' else outs[0] + outs[1])
                continue
            mod_cls = {'LSTM': torch.nn.LSTM, 'GRU': torch.nn.GRU, 'SimpleRNN': torch.nn.RNN}[layer.kind]
            kw = {'nonlinearity': layer.activation} if layer.kind == 'SimpleRNN' else {}
            mod = mod_cls(a.shape[-1], layer.units, batch_first=True, bidirectional=bool(layer.bidi), **kw)
            for cell, suffix in zip(layer.cells, ['', '_reverse']):
                for n in ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'):
                    getattr(mod, f'{n}_l0{suffix}').copy_(getattr(cell, n))
            out, _ = mod(a)
            if layer.bidi:
                U = layer.units
                f, r = out[..., :U], out[..., U:]
                if layer.return_sequences:
                    a = torch.cat([f, r], -1) if layer.bidi == 'concat' else f + r
                else:  # forward: last step; reverse: its final state is at position 0
                    f, r = f[:, -1], r[:, 0]
                    a = torch.cat([f, r], -1) if layer.bidi == 'concat' else f + r
            else:
                a = out if layer.return_sequences else out[:, -1]
        return a


def check_fused_stacked(model, x):
    """Two stacked plain LSTMs of equal width: nn.LSTM(num_layers=2) gives the top layer's last output."""
    recs = [l for l in model['layers'] if isinstance(l, Rec)]
    with torch.no_grad():
        mod = torch.nn.LSTM(x.shape[-1], recs[0].units, num_layers=2, batch_first=True)
        for k, layer in enumerate(recs):
            for n in ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'):
                getattr(mod, f'{n}_l{k}').copy_(getattr(layer.cells[0], n))
        out, _ = mod(x)
        return out[:, -1]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def np_keras_forward(model, kw, x):
    """NumPy forward pass from the KERAS-layout weights, written from docs/keras-versions.md (not from torch)."""
    act = {'tanh': np.tanh, 'relu': lambda v: np.maximum(v, 0)}
    a = x
    for layer in model['layers']:
        if isinstance(layer, Head):
            a = a @ kw[f'{layer.name}/kernel'] + kw[f'{layer.name}/bias']
            if layer.activation == 'softmax':
                e = np.exp(a - a.max(-1, keepdims=True))
                a = e / e.sum(-1, keepdims=True)
            continue
        prefixes = [f'{layer.name}/forward/', f'{layer.name}/backward/'] if layer.bidi else [f'{layer.name}/']
        outs = []
        for d, pre in enumerate(prefixes):
            K, R, b = kw[pre + 'kernel'], kw[pre + 'recurrent_kernel'], kw[pre + 'bias']
            if layer.kind == 'PeepholeLSTM':
                pi, pf, po = (kw[pre + n] for n in PEEPHOLE_WEIGHTS[3:])
            U = layer.units
            h = np.zeros((a.shape[0], U))
            c = np.zeros((a.shape[0], U))
            steps = list(range(a.shape[1]))
            if d == 1:
                steps = steps[::-1]  # go_backwards
            ys = []
            for t in steps:
                xt = a[:, t]
                if layer.kind == 'LSTM':
                    z = xt @ K + h @ R + b
                    i, f, g, o = sigmoid(z[:, :U]), sigmoid(z[:, U:2 * U]), np.tanh(z[:, 2 * U:3 * U]), sigmoid(z[:, 3 * U:])
                    c = f * c + i * g
                    h = o * np.tanh(c)
                elif layer.kind == 'PeepholeLSTM':  # Keras PeepholeLSTMCell._compute_carry_and_output_fused
                    z = xt @ K + h @ R + b
                    i = sigmoid(z[:, :U] + pi * c)
                    f = sigmoid(z[:, U:2 * U] + pf * c)
                    c = f * c + i * np.tanh(z[:, 2 * U:3 * U])
                    o = sigmoid(z[:, 3 * U:] + po * c)
                    h = o * np.tanh(c)
                elif layer.kind == 'GRU':  # reset_after=True
                    xz = xt @ K + b[0]
                    rz = h @ R + b[1]
                    zg = sigmoid(xz[:, :U] + rz[:, :U])
                    r = sigmoid(xz[:, U:2 * U] + rz[:, U:2 * U])
                    hh = np.tanh(xz[:, 2 * U:] + r * rz[:, 2 * U:])
                    h = zg * h + (1 - zg) * hh
                else:
                    h = act[layer.activation](xt @ K + b + h @ R)
                ys.append(h)
            if layer.return_sequences:
                y = np.stack(ys, 1)
                if d == 1:
                    y = y[:, ::-1]  # Bidirectional re-aligns the backward sequence with time
            else:
                y = ys[-1]
            outs.append(y)
        if not layer.bidi:
            a = outs[0]
        elif layer.bidi == 'concat':
            a = np.concatenate(outs, -1)
        else:
            a = outs[0] + outs[1]
    return a


def lstm_dc_held(cell, x, hs, cs, reverse, U):
    """∂L/∂c_t with h_t held fixed: the part of c_t.grad that arrives through c_{t+1} = f_{t+1}⊙c_t + …,
    i.e. f_{t+1} ⊙ ∂L/∂c_{t+1} (0 after the last processing step). Checked against the identity
    c_t.grad = held + ∂L/∂h_t ⊙ o_t ⊙ tanh'(c_t)  (h_t = o_t ⊙ tanh(c_t))."""
    Tn = x.shape[1]
    order = list(reversed(range(Tn))) if reverse else list(range(Tn))
    with torch.no_grad():
        gates = {}
        h_prev = torch.zeros(x.shape[0], U)
        for t in order:
            gates[t] = x[:, t] @ cell.weight_ih.T + cell.bias_ih + h_prev @ cell.weight_hh.T + cell.bias_hh
            h_prev = hs[t].detach()
        held = [None] * Tn
        for k, t in enumerate(order):
            if k + 1 < Tn:
                nxt = order[k + 1]
                held[t] = torch.sigmoid(gates[nxt][:, U:2 * U]) * cs[nxt].grad
            else:
                held[t] = torch.zeros(x.shape[0], U)
            o = torch.sigmoid(gates[t][:, 3 * U:])
            total = held[t] + hs[t].grad * o * (1 - torch.tanh(cs[t].detach()) ** 2)
            assert torch.allclose(total, cs[t].grad, rtol=0, atol=1e-15), 'dc identity failed'
        return torch.stack(held, 1)


def min_preactivation_margin(model, x):
    """Smallest |pre-activation| of every relu (SimpleRNN relu): float32 must not flip a kink."""
    m = math.inf
    with torch.no_grad():
        a = x
        for layer in model['layers']:
            if isinstance(layer, Rec) and layer.kind == 'SimpleRNN' and layer.activation == 'relu':
                cell = layer.cells[0]
                h = torch.zeros(a.shape[0], layer.units)
                for t in range(a.shape[1]):
                    z = a[:, t] @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
                    m = min(m, z.abs().min().item())
                    h = torch.relu(z)
    return m


# ---------------------------------------------------------------------------
# Golden construction

def arr(t):
    t = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    return {'shape': list(t.shape), 'data': [float(v) for v in np.ascontiguousarray(t).reshape(-1)]}


def build(spec, seed):
    gen = torch.Generator().manual_seed(seed)
    model = {'layers': spec['layers']}
    in_dim = I
    keras_layers = [envelope('InputLayer', {'batch_shape': [None, T, I], 'dtype': 'float32', 'sparse': False,
                                            'ragged': False, 'name': 'input_layer', 'optional': False})]
    shape = [None, T, I]
    for layer in spec['layers']:
        if isinstance(layer, Head):
            layer.linear = torch.nn.Linear(in_dim, layer.units)
            with torch.no_grad():
                layer.linear.weight.copy_((torch.rand(layer.linear.weight.shape, generator=gen) * 2 - 1) * 0.8)
                layer.linear.bias.copy_((torch.rand(layer.linear.bias.shape, generator=gen) * 2 - 1) * 0.3)
            keras_layers.append(envelope('Dense', dense_config(layer.name, layer.units, layer.activation), list(shape)))
            shape = shape[:-1] + [layer.units]
            in_dim = layer.units
            continue
        n_dirs = 2 if layer.bidi else 1
        layer.cells = [make_cell(layer.kind, in_dim, layer.units, layer.activation, gen) for _ in range(n_dirs)]
        if layer.bidi:
            inner = layer.name.split('_', 1)[1] if '_' in layer.name else layer.kind.lower()
            # Keras 3 Bidirectional forces zero_output_for_mask = return_sequences on both halves (docs/masking.md).
            zo = layer.return_sequences
            fwd = rnn_config(layer.kind, f'forward_{inner}', layer.units, layer.activation, layer.return_sequences,
                             zero_output_for_mask=zo)
            bwd = rnn_config(layer.kind, f'backward_{inner}', layer.units, layer.activation, layer.return_sequences,
                             go_backwards=True, zero_output_for_mask=zo)
            cfg = {'name': layer.name, 'trainable': True, 'dtype': dtype_policy(), 'merge_mode': layer.bidi,
                   'layer': envelope(layer.kind, fwd, list(shape)),
                   'backward_layer': envelope(layer.kind, bwd, list(shape))}
            keras_layers.append(envelope('Bidirectional', cfg, list(shape)))
        elif layer.kind == 'PeepholeLSTM':
            keras_layers.append(tf_keras_peephole_rnn(layer))
        else:
            keras_layers.append(envelope(layer.kind, rnn_config(layer.kind, layer.name, layer.units, layer.activation,
                                                                layer.return_sequences), list(shape)))
        shape = ([None, T] if layer.return_sequences else [None]) + [layer.out_dim()]
        in_dim = layer.out_dim()

    x = (torch.rand(B, T, I, generator=gen) * 2 - 1) * 1.5
    x.requires_grad_(True)
    loss_cfg = spec['loss']
    # Targets: shape of the output (class ids for sparse), drawn from the same generator.
    with torch.no_grad():
        y0, _ = torch_forward(model, x)
    C = y0.shape[-1]
    if loss_cfg['name'] == 'mse':
        target = torch.rand(y0.shape, generator=gen) * 2 - 1
    else:
        ids = torch.randint(0, C, y0.shape[:-1], generator=gen)
        target = ids.double() if loss_cfg['name'] == 'sparse_categorical_crossentropy' else torch.nn.functional.one_hot(ids, C).double()

    y, records = torch_forward(model, x)
    loss = keras_loss_value(loss_cfg, y, target)
    loss.backward()

    # Checks: fused torch modules, NumPy Keras forward from the Keras-layout weights.
    fused_in = x.detach()
    recs = [l for l in spec['layers'] if isinstance(l, Rec)]
    with torch.no_grad():
        rec_out = check_fused({'layers': recs}, fused_in)
        if len(recs) == 2:
            two = check_fused_stacked(model, fused_in)
            assert torch.allclose(two, rec_out, rtol=0, atol=1e-13), 'nn.LSTM(num_layers=2) differs'
        head_in = rec_out
        for layer in spec['layers']:
            if isinstance(layer, Head):
                head_in = layer.linear(head_in)
                if layer.activation == 'softmax':
                    head_in = torch.softmax(head_in, -1)
        assert torch.allclose(head_in, y.detach(), rtol=0, atol=1e-13), 'unrolled cells differ from fused torch modules'

    weights, grads = {}, {}
    for layer in spec['layers']:
        if isinstance(layer, Head):
            weights[f'{layer.name}/kernel'] = layer.linear.weight.T
            weights[f'{layer.name}/bias'] = layer.linear.bias
            grads[f'{layer.name}/kernel'] = layer.linear.weight.grad.T
            grads[f'{layer.name}/bias'] = layer.linear.bias.grad
            continue
        prefixes = [f'{layer.name}/forward/', f'{layer.name}/backward/'] if layer.bidi else [f'{layer.name}/']
        for pre, cell in zip(prefixes, layer.cells):
            names = PEEPHOLE_WEIGHTS if layer.kind == 'PeepholeLSTM' else ('kernel', 'recurrent_kernel', 'bias')
            for n, w, g in zip(names, keras_weights(layer.kind, cell, layer.units),
                               keras_grads(layer.kind, cell, layer.units)):
                weights[pre + n] = w
                grads[pre + n] = g

    kw = {k: v.detach().numpy() for k, v in weights.items()}
    y_np = np_keras_forward(model, kw, x.detach().numpy())
    err = np.abs(y_np - y.detach().numpy()).max()
    assert err < 1e-13, f'NumPy Keras forward differs from torch by {err}'
    margin = min_preactivation_margin(model, x.detach())
    assert margin > 1e-3, f'relu pre-activation too close to 0 ({margin})'

    taps = {}
    for layer, direction, hs, cs, cell, a_in, reverse in records:
        key = layer.name if direction is None else f'{layer.name}/{direction}'
        zero = lambda v: v.grad if v.grad is not None else torch.zeros_like(v)
        tap = {'layer': layer.name, 'direction': direction, 'kind': layer.kind,
               'dh': arr(torch.stack([zero(h) for h in hs], 1))}
        if layer.kind in ('LSTM', 'PeepholeLSTM'):
            # c_t.grad: the total ∂L/∂c_t (through h_t, the peepholes and c_{t+1}).
            tap['dc'] = arr(torch.stack([zero(c) for c in cs], 1))
        if layer.kind == 'LSTM':
            tap['dcHeld'] = arr(lstm_dc_held(cell, a_in.detach(), hs, cs, reverse, layer.units))
        taps[key] = tap

    compile_config = {'optimizer': {'module': 'keras.optimizers', 'class_name': 'SGD',
                                    'config': {'name': 'SGD', 'learning_rate': 0.01, 'weight_decay': None,
                                               'clipnorm': None, 'global_clipnorm': None, 'clipvalue': None,
                                               'use_ema': False, 'ema_momentum': 0.99, 'ema_overwrite_frequency': None,
                                               'loss_scale_factor': None, 'gradient_accumulation_steps': None,
                                               'momentum': 0.0, 'nesterov': False},
                                    'registered_name': None},
                      'loss': keras_loss(loss_cfg), 'loss_weights': None, 'metrics': None, 'weighted_metrics': None,
                      'run_eagerly': False, 'steps_per_execution': 1, 'jit_compile': False}
    keras_version = KERAS_VERSION
    if spec.get('writer') == 'tf.keras':
        # tf.keras 2.13 model.to_json(): plain dtypes, batch_input_shape, no dtype policies.
        keras_version = TF_KERAS_VERSION
        plain = [{'class_name': 'InputLayer', 'config': {'batch_input_shape': [None, T, I], 'dtype': 'float32',
                                                         'sparse': False, 'ragged': False, 'name': 'input_1'}}]
        for l in keras_layers[1:]:
            if l['class_name'] == 'Dense':
                cfg = {**l['config'], 'dtype': 'float32'}
                plain.append({'class_name': 'Dense', 'config': cfg})
            else:
                plain.append(l)
        config = {'class_name': 'Sequential', 'config': {'name': 'sequential', 'layers': plain},
                  'keras_version': TF_KERAS_VERSION, 'backend': 'tensorflow', 'compile_config': compile_config}
    else:
        config = {'module': 'keras', 'class_name': 'Sequential',
                  'config': {'name': 'sequential', 'trainable': True, 'dtype': dtype_policy(), 'layers': keras_layers,
                             'build_input_shape': [None, T, I]},
                  'registered_name': None, 'build_config': {'input_shape': [None, T, I]},
                  'compile_config': compile_config}
    return {
        'name': spec['name'],
        'description': spec['description'],
        'generator': 'scripts/torch_goldens.py (torch %s, float64)' % torch.__version__.split('+')[0],
        'kerasVersion': keras_version,
        'config': config,
        'lossConfig': {'name': loss_cfg['name'], 'fromLogits': loss_cfg['fromLogits'], 'labelSmoothing': 0},
        'inputs': arr(x),
        'targets': arr(target),
        'loss': float(loss.item()),
        'outputs': arr(y),
        'weights': {k: arr(v) for k, v in weights.items()},
        'grads': {k: arr(v) for k, v in grads.items()},
        'dInputs': arr(x.grad),
        'taps': taps,
    }


def specs():
    mse = {'name': 'mse', 'fromLogits': False}
    return [
        {'name': 'lstm_dense_mse', 'description': 'LSTM(4) → Dense(2), mse',
         'layers': [Rec('LSTM', 'lstm', 4), Head('dense', 2, 'linear')], 'loss': mse},
        {'name': 'gru_dense_cce_logits', 'description': 'GRU(4, reset_after=True) → Dense(3), categorical_crossentropy(from_logits=True)',
         'layers': [Rec('GRU', 'gru', 4), Head('dense', 3, 'linear')],
         'loss': {'name': 'categorical_crossentropy', 'fromLogits': True}},
        {'name': 'simplernn_tanh_dense_mse', 'description': 'SimpleRNN(4, tanh) → Dense(2), mse',
         'layers': [Rec('SimpleRNN', 'simple_rnn', 4), Head('dense', 2, 'linear')], 'loss': mse},
        {'name': 'simplernn_relu_softmax_sparse', 'description': 'SimpleRNN(4, relu) → Dense(3, softmax), sparse_categorical_crossentropy on probabilities',
         'layers': [Rec('SimpleRNN', 'simple_rnn', 4, activation='relu'), Head('dense', 3, 'softmax')],
         'loss': {'name': 'sparse_categorical_crossentropy', 'fromLogits': False}},
        {'name': 'stacked_lstm_softmax_cce', 'description': 'LSTM(4, return_sequences) → LSTM(4) → Dense(3, softmax), categorical_crossentropy on probabilities',
         'layers': [Rec('LSTM', 'lstm', 4, return_sequences=True), Rec('LSTM', 'lstm_1', 4), Head('dense', 3, 'softmax')],
         'loss': {'name': 'categorical_crossentropy', 'fromLogits': False}},
        {'name': 'bilstm_concat_seq_sparse_logits', 'description': 'Bidirectional(LSTM(3, return_sequences), concat) → Dense(3) per step, sparse_categorical_crossentropy(from_logits=True)',
         'layers': [Rec('LSTM', 'bidirectional', 3, return_sequences=True, bidi='concat'), Head('dense', 3, 'linear')],
         'loss': {'name': 'sparse_categorical_crossentropy', 'fromLogits': True}},
        {'name': 'bigru_sum_mse', 'description': 'Bidirectional(GRU(3, reset_after=True), sum) → Dense(2), mse',
         'layers': [Rec('GRU', 'bidirectional', 3, bidi='sum'), Head('dense', 2, 'linear')], 'loss': mse},
        {'name': 'peephole_lstm_seq_dense_mse', 'description': 'tf.keras 2.13 RNN(PeepholeLSTMCell(4), return_sequences) → Dense(2) per step, mse',
         'layers': [Rec('PeepholeLSTM', 'rnn', 4, return_sequences=True), Head('dense', 2, 'linear')], 'loss': mse,
         'writer': 'tf.keras'},
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--check', action='store_true', help='recompute and compare with the committed files')
    args = ap.parse_args()
    os.makedirs(OUT_DIR, exist_ok=True)
    bad = 0
    for seed, spec in enumerate(specs(), start=1):
        g = build(spec, 1000 + seed)
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
