#!/usr/bin/python3
"""Independent float64 PyTorch reference for real saved Keras models with attention, CRF or LRCN layers.

    /usr/bin/python3 scripts/reference_keras_graph.py MODEL X.npy [X2.npy ...] Y.npy [--loss=NAME] [--dtype=float32]
        [--arch=A.json]   # JSON on stdout

MODEL is a legacy HDF5 file (model_config + model_weights: Keras 1/2, tf.keras, Keras 3), a Keras 3 `.keras`
zip, a TF.js layers model.json (float32 shards), or a weights-only HDF5 (save_weights) with --arch naming its
model.to_json() file; Keras 1 per-gate arrays (W_i, U_i, b_i, ...) are concatenated into Keras 2 kernels. The
script rebuilds the model's graph (Sequential or Functional, Keras 2 or Keras 3 node format) in torch float64
from the Keras equations, reading the weights with h5py, and prints the loss the file names (or --loss) and the
Frobenius norm of dL/d(every weight) by autograd, keyed '<layer>/<weight>' (Bidirectional:
'<layer>/forward|backward/<weight>') as rnnscope's analysis JSON keys its params; and, per recurrent layer
returning sequences (not inside Bidirectional), per step t the norm of the total dL/dh_t and of what the
layer's readers pass to its output at t (steps.<layer>.dh / .direct, and .recurrence: their difference). It
shares no code with rnnscope (and none with the other scripts here), so it can serve as the oracle for
`rnnscope analyze`.

Layers: InputLayer, Embedding (mask_zero), Masking, LSTM / GRU (reset_after) / SimpleRNN (masks, go_backwards),
Bidirectional, Dense, TimeDistributed(any of these), Conv1D, Conv2D, MaxPooling1D/2D, AveragePooling1D/2D,
GlobalAverage/GlobalMaxPooling1D and 2D, Flatten, Dropout / SpatialDropout (inference: identity), Activation,
Attention (dot / concat, use_scale, causal), AdditiveAttention, MultiHeadAttention (attention_axes None), Dot,
Add / Multiply / Concatenate, RepeatVector, Permute, Reshape, LayerNormalization, BatchNormalization (inference), keras_contrib CRF
(learn_mode 'join', crf_loss by the forward algorithm as keras_contrib computes it). Losses: mse, mae, binary,
categorical and sparse categorical crossentropy (probabilities; docs/losses.md gives the per-writer formulas), crf_loss.
hard_sigmoid has slope 0.2 before Keras 3 and 1/6 from Keras 3 on.
"""
import io
import json
import math
import os
import re
import sys
import zipfile

import h5py
import numpy as np
import torch
import torch.nn.functional as F

ARGS = [a for a in sys.argv[1:] if not a.startswith('--')]
OPTS = dict(a[2:].split('=', 1) for a in sys.argv[1:] if a.startswith('--') and '=' in a)
# --dtype=float32 runs the same reference in float32, to tell a precision effect from a disagreement.
DT = torch.float32 if OPTS.get('dtype') == 'float32' else torch.float64
torch.set_default_dtype(DT)
PATH, XS, YP = ARGS[0], ARGS[1:-1], ARGS[-1]

# ---- the file: config, Keras version, weights as {layer: [(direction, name, array)]} ----
WEIGHT_ORDER = {'Dense': ['kernel', 'bias'], 'LSTM': ['kernel', 'recurrent_kernel', 'bias'],
                'GRU': ['kernel', 'recurrent_kernel', 'bias'], 'SimpleRNN': ['kernel', 'recurrent_kernel', 'bias'],
                'Embedding': ['embeddings'], 'Conv1D': ['kernel', 'bias'], 'Conv2D': ['kernel', 'bias'],
                'LayerNormalization': ['gamma', 'beta'],
                'BatchNormalization': ['gamma', 'beta', 'moving_mean', 'moving_variance'],
                'Attention': ['scale', 'concat_score_weight'], 'AdditiveAttention': ['scale']}


def keras3_names(cls, cfg, n):
    """Weight names of a Keras 3 .keras layer, whose vars are numbered: the class's order, minus options off."""
    names = list(WEIGHT_ORDER.get(cls, []))
    if cls in ('Dense', 'Conv1D', 'Conv2D', 'LSTM', 'GRU', 'SimpleRNN') and not cfg.get('use_bias', True):
        names.remove('bias')
    if cls in ('LayerNormalization', 'BatchNormalization'):
        if not cfg.get('scale', True):
            names.remove('gamma')
        if not cfg.get('center', True):
            names.remove('beta')
    if cls == 'Attention':
        names = (['scale'] if cfg.get('use_scale') else []) + (['concat_score_weight'] if cfg.get('score_mode') == 'concat' else [])
    if cls == 'AdditiveAttention':
        names = ['scale'] if cfg.get('use_scale', True) else []
    assert len(names) == n, (cls, names, n)
    return names


def read_tfjs(path):
    """TF.js layers model.json: the topology's model_config (or the topology itself), float32 weights read from
    the shards in manifest order, named '<layer>/[forward_…|backward_…/][cell/]<weight>'."""
    mj = json.load(open(path))
    top = mj['modelTopology']
    cfg = top.get('model_config', top)
    version = top.get('keras_version') or mj.get('generatedBy', 'keras v2').split('v')[-1]
    tc = mj.get('trainingConfig') or top.get('training_config')
    if tc and 'compile_config' not in cfg:
        cfg = dict(cfg, compile_config={'loss': tc.get('loss')})
    weights = {}
    for group in mj['weightsManifest']:
        blob = b''.join(open(os.path.join(os.path.dirname(path), p), 'rb').read() for p in group['paths'])
        off = 0
        for w in group['weights']:
            assert w.get('dtype', 'float32') == 'float32' and 'quantization' not in w, w
            n = int(np.prod(w['shape']))
            a = np.frombuffer(blob, '<f4', n, off).reshape(w['shape'])
            off += 4 * n
            parts = w['name'].split('/')
            direction = next((p.split('_')[0] for p in parts[1:] if p.startswith(('forward', 'backward'))), None)
            weights.setdefault(parts[0], []).append((direction, parts[-1], a))
    return cfg, version, weights


def read_model(path):
    weights = {}
    if path.endswith('.json'):
        return read_tfjs(path)
    if zipfile.is_zipfile(path):
        z = zipfile.ZipFile(path)
        cfg = json.loads(z.read('config.json'))
        version = json.loads(z.read('metadata.json'))['keras_version']
        f = h5py.File(io.BytesIO(z.read('model.weights.h5')), 'r')
        # Keras 3 names a layer's group by its class in snake case, numbered in the model's layer order
        # (input_layer, input_layer_1, ...), not by the layer's own name.
        used = {}
        for lc in cfg['config']['layers']:
            snake = re.sub('([a-z])([A-Z])', r'\1_\2', re.sub('(.)([A-Z][a-z]+)', r'\1_\2', lc['class_name'])).lower()
            group = snake if snake not in used else f'{snake}_{used[snake]}'
            used[snake] = used.get(snake, 0) + 1
            name = lc['config']['name']
            if group not in f['layers']:
                continue  # a layer without variables may have no group
            g = f['layers'][group]
            subs = []

            def vars_under(grp, direction, cls, c):
                if 'vars' in grp and len(grp['vars']):
                    n = len(grp['vars'])
                    for i, wn in enumerate(keras3_names(cls, c, n)):
                        subs.append((direction, wn, np.array(grp['vars'][str(i)])))
                for k in grp:
                    if k == 'cell':
                        vars_under(grp[k], direction, cls, c)
                    elif k in ('forward_layer', 'backward_layer'):
                        inner = c[k] if k in c else c['layer']
                        vars_under(grp[k], k.split('_')[0], inner['class_name'], inner['config'])
                    elif k == 'layer':
                        vars_under(grp[k], direction, c['layer']['class_name'], c['layer']['config'])
                    elif k != 'vars' and cls == 'MultiHeadAttention':
                        # query_dense, key_dense, value_dense, output_dense: EinsumDense kernel, then bias
                        part = {'output_dense': 'attention_output'}.get(k, k.replace('_dense', ''))
                        for i, wn in enumerate(['kernel', 'bias'][:len(grp[k]['vars'])]):
                            subs.append((None, f'{part}/{wn}', np.array(grp[k]['vars'][str(i)])))
            vars_under(g, None, lc['class_name'], lc['config'])
            weights[name] = subs
        return cfg, version, weights
    f = h5py.File(path, 'r')
    # A weights-only file (save_weights) has no model_config: its architecture comes from --arch=<to_json() file>.
    cfg = json.loads(f.attrs['model_config'] if 'model_config' in f.attrs else open(OPTS['arch']).read())
    version = f.attrs.get('keras_version', '2')
    version = version.decode() if isinstance(version, bytes) else version
    classes = layer_classes(cfg)
    mw = f['model_weights'] if 'model_weights' in f else f
    for name in mw:
        g = mw[name]
        subs = []
        for wn in g.attrs.get('weight_names', []):
            wn = wn.decode() if isinstance(wn, bytes) else wn
            parts = wn.split(':')[0].split('/')
            direction = next((p.split('_')[0] for p in parts if p.startswith(('forward', 'backward'))), None)
            short = parts[-1]
            if short in ('kernel', 'bias') and len(parts) >= 2 and parts[-2] in ('query', 'key', 'value', 'attention_output'):
                short = f'{parts[-2]}/{short}'
            subs.append((direction, short, np.array(g[wn])))
        weights[name] = keras1_canonical(classes.get(name), subs) if version.startswith('1.') else subs
    return cfg, version, weights


def layer_classes(cfg):
    """{layer name: class}, the wrapped layer's class for Bidirectional and TimeDistributed."""
    c = cfg['config']
    out = {}
    for l in (c['layers'] if isinstance(c, dict) else c):
        inner = l['config'].get('layer')
        out[l['config'].get('name', l.get('name'))] = inner['class_name'] if inner else l['class_name']
    return out


# Keras 1 stores each gate's arrays apart (<layer>_W_i, _U_i, _b_i; LSTM gates i, c, f, o, GRU z, r, h);
# Keras 2's kernel concatenates them in the cell's gate order: LSTM [W_i W_f W_c W_o], GRU [W_z W_r W_h].
KERAS1_GATES = {'LSTM': 'ifco', 'GRU': 'zrh'}


def keras1_canonical(cls, subs):
    parts = {}
    for d, n, a in subs:
        m = re.search(r'_(W|U|b)(?:_([a-z]))?$', n)
        if not m:
            return subs
        parts.setdefault(d, {})[(m.group(1), m.group(2))] = a
    kind = {'W': 'embeddings' if cls == 'Embedding' else 'kernel', 'U': 'recurrent_kernel', 'b': 'bias'}
    out = []
    for d, p in parts.items():
        if cls in KERAS1_GATES:
            out += [(d, kind[k], np.concatenate([p[(k, g)] for g in KERAS1_GATES[cls]], -1)) for k in 'WUb']
        else:
            out += [(d, kind[k], a) for (k, _), a in p.items()]
    return out


CFG, VERSION, RAW = read_model(PATH)
KERAS3 = int(VERSION.split('.')[0]) >= 3
PARAMS = {}


def W(layer, direction=None):
    """The layer's weights as torch leaves {name: tensor}, registered for the gradient norms."""
    out = {}
    for d, n, a in RAW.get(layer, []):
        if d != direction:
            continue
        key = '/'.join(x for x in (layer, d, n) if x)
        if key not in PARAMS:
            PARAMS[key] = torch.tensor(a, dtype=DT, requires_grad=a.dtype.kind == 'f')
        out[n] = PARAMS[key]
    return out


# ---- layers ----
def act(a):
    a = a if isinstance(a, str) else a.get('config', {}).get('name', a.get('class_name'))
    slope = 1 / 6 if KERAS3 else 0.2
    return {'relu': torch.relu, 'tanh': torch.tanh, 'sigmoid': torch.sigmoid, 'linear': lambda z: z, None: lambda z: z,
            'softmax': lambda z: torch.softmax(z, -1), 'elu': F.elu, 'selu': F.selu, 'softplus': F.softplus,
            'hard_sigmoid': lambda z: torch.clamp(slope * z + 0.5, 0, 1), 'swish': F.silu, 'gelu': F.gelu}[a]


def pair(v, n=2):
    return list(v) if isinstance(v, (list, tuple)) else [v] * n


def tf_same(length, k, s, d=1):
    eff = (k - 1) * d + 1
    out = math.ceil(length / s)
    tot = max((out - 1) * s + eff - length, 0)
    return tot // 2, tot - tot // 2


def rnn(cls, c, w, x, mask, reverse, record=None):
    """x (B, T, D) -> sequence (B, T, U) in input order, last state (B, U); masked steps keep the state.
    record: a list that receives each step's state h_t (by input step), kept for its total gradient."""
    K, R = w['kernel'], w['recurrent_kernel']
    b = w.get('bias')
    U = R.shape[0]
    B, T = x.shape[:2]
    a = act(c.get('activation', 'tanh'))
    ra = act(c.get('recurrent_activation', c.get('inner_activation', 'hard_sigmoid' if not KERAS3 else 'sigmoid')))
    h = torch.zeros(B, U)
    cc = torch.zeros(B, U)
    seq = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        if cls == 'LSTM':
            z = x[:, t] @ K + h @ R + (b if b is not None else 0)
            i, f, g, o = ra(z[:, :U]), ra(z[:, U:2 * U]), a(z[:, 2 * U:3 * U]), ra(z[:, 3 * U:])
            c2 = f * cc + i * g
            h2 = o * a(c2)
        elif cls == 'GRU':
            reset_after = c.get('reset_after', KERAS3 or int(VERSION.split('.')[0]) == 2 and VERSION >= '2.3')
            bi, br = (b[0], b[1]) if b is not None and b.dim() == 2 else (b, None)
            xz = x[:, t] @ K + (bi if bi is not None else 0)
            if reset_after:
                hz = h @ R + (br if br is not None else 0)
                zt, rt = ra(xz[:, :U] + hz[:, :U]), ra(xz[:, U:2 * U] + hz[:, U:2 * U])
                hh = a(xz[:, 2 * U:] + rt * hz[:, 2 * U:])
            else:
                zt = ra(xz[:, :U] + h @ R[:, :U])
                rt = ra(xz[:, U:2 * U] + h @ R[:, U:2 * U])
                hh = a(xz[:, 2 * U:] + (rt * h) @ R[:, 2 * U:])
            h2 = zt * h + (1 - zt) * hh
            c2 = cc
        else:
            h2 = a(x[:, t] @ K + h @ R + (b if b is not None else 0))
            c2 = cc
        if mask is not None:
            m = mask[:, t, None]
            h2, c2 = torch.where(m, h2, h), torch.where(m, c2, cc)
        h, cc = h2, c2
        if record is not None and h.requires_grad:
            h.retain_grad()
        seq[t] = h
    if record is not None:
        record.extend(seq)
    return torch.stack(seq, 1), h


def attention_scores_mask(scores, q_mask, v_mask, causal):
    Tq, Tv = scores.shape[-2:]
    bad = torch.zeros_like(scores, dtype=torch.bool)
    if v_mask is not None:
        bad = bad | ~v_mask[:, None, :]
    if causal:
        bad = bad | torch.triu(torch.ones(Tq, Tv, dtype=torch.bool), 1)
    return scores - 1e9 * bad.to(scores.dtype)


def crf_energy(c, w, x, mask):
    """keras_contrib CRF: the input energy U (B, T, F) with the boundary energies added as its code adds them."""
    u = act(c.get('activation', 'linear'))(x @ w['kernel'] + (w['bias'] if 'bias' in w else 0))
    if c.get('use_boundary', True):
        if mask is None:
            u = torch.cat([u[:, :1] + w['left_boundary'], u[:, 1:]], 1)
            u = torch.cat([u[:, :-1], u[:, -1:] + w['right_boundary']], 1)
        else:
            m = mask.to(u.dtype)[:, :, None]
            right = torch.cat([torch.zeros_like(m[:, :1]), m[:, :-1]], 1)
            left = torch.cat([m[:, 1:], torch.zeros_like(m[:, :1])], 1)
            u = u + (m > right).to(u.dtype) * w['left_boundary'] + (left > m).to(u.dtype) * w['right_boundary']
    return u


CRF_STATE = {}
# Per recurrent layer that returns sequences: its states h_t (by input step), its output sequence, go_backwards.
STEPS = {}


def apply(cls, c, name, ins, masks, call_kwargs, direction=None):
    """One Keras layer: returns (output, output mask)."""
    x = ins[0]
    m = masks[0] if masks else None
    w = W(name, direction) if cls not in ('TimeDistributed', 'Bidirectional') else None
    if cls in ('Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'ActivityRegularization'):
        return x, m
    if cls == 'Activation':
        return act(c['activation'])(x), m
    if cls == 'Embedding':
        idx = x.long()
        return w['embeddings'][idx], (idx != 0) if c.get('mask_zero') else None
    if cls == 'Dense':
        return act(c['activation'])(x @ w['kernel'] + (w['bias'] if 'bias' in w else 0)), m
    if cls in ('LSTM', 'GRU', 'SimpleRNN'):
        states = []
        seq, last = rnn(cls, c, w, x, m, c.get('go_backwards', False), states)
        if c.get('return_sequences'):
            if c.get('go_backwards'):
                seq = seq.flip(1)
            seq.retain_grad()
            STEPS[name] = (states, seq, c.get('go_backwards', False))
            return seq, m
        return last, None
    if cls == 'Bidirectional':
        inner = c['layer']
        ic = inner['config']
        fwd, fl = rnn(inner['class_name'], ic, W(name, 'forward'), x, m, False)
        bwd, bl = rnn(inner['class_name'], ic, W(name, 'backward'), x, m, True)
        seqs = ic.get('return_sequences')
        a, b = (fwd, bwd) if seqs else (fl, bl)
        mode = c.get('merge_mode', 'concat')
        out = {'concat': lambda: torch.cat([a, b], -1), 'sum': lambda: a + b, 'mul': lambda: a * b,
               'ave': lambda: (a + b) / 2}[mode]()
        return out, (m if seqs else None)
    if cls == 'TimeDistributed':
        inner = c['layer']
        B, T = x.shape[:2]
        y, _ = apply(inner['class_name'], inner['config'], name, [x.reshape(B * T, *x.shape[2:])], [None], {})
        return y.reshape(B, T, *y.shape[1:]), m
    if cls in ('Conv1D', 'Conv2D'):
        r = 1 if cls == 'Conv1D' else 2
        k, s, d = pair(c['kernel_size'], r), pair(c.get('strides', 1), r), pair(c.get('dilation_rate', 1), r)
        z = x.movedim(-1, 1)
        if c.get('padding') == 'same':
            pads = []
            for ax in reversed(range(r)):
                pads += list(tf_same(z.shape[2 + ax], k[ax], s[ax], d[ax]))
            z = F.pad(z, pads)
        elif c.get('padding') == 'causal':
            z = F.pad(z, ((k[0] - 1) * d[0], 0))
        kern = w['kernel'].permute(r + 1, r, *range(r))
        conv = F.conv1d if r == 1 else F.conv2d
        z = conv(z, kern, w.get('bias'), stride=tuple(s), dilation=tuple(d))
        return act(c['activation'])(z.movedim(1, -1)), (m if r == 1 and c.get('padding') == 'same' else None)
    if cls == 'Masking':
        keep = (x != c.get('mask_value', 0.0)).any(-1)
        return x * keep[..., None].to(x.dtype), keep
    if cls in ('MaxPooling1D', 'AveragePooling1D'):
        p = pair(c.get('pool_size', c.get('pool_length', 2)), 1)[0]
        s = pair(c.get('strides') or c.get('stride') or p, 1)[0]
        z = x.movedim(-1, 1)
        if c.get('padding', c.get('border_mode')) == 'same':
            pads = list(tf_same(z.shape[2], p, s))
            if cls == 'AveragePooling1D':
                ones = F.pad(torch.ones_like(z[:1, :1]), pads)
                return (F.avg_pool1d(F.pad(z, pads), p, s) / F.avg_pool1d(ones, p, s)).movedim(1, -1), None
            z = F.pad(z, pads, value=-math.inf)
        z = F.max_pool1d(z, p, s) if cls == 'MaxPooling1D' else F.avg_pool1d(z, p, s)
        return z.movedim(1, -1), None
    if cls in ('MaxPooling2D', 'AveragePooling2D'):
        p = pair(c['pool_size'])
        s = pair(c.get('strides') or p)
        z = x.movedim(-1, 1)
        if c.get('padding') == 'same':
            pads = list(tf_same(z.shape[3], p[1], s[1])) + list(tf_same(z.shape[2], p[0], s[0]))
            if cls == 'MaxPooling2D':
                z = F.pad(z, pads, value=-math.inf)
            else:
                ones = F.pad(torch.ones_like(z[:1, :1]), pads)
                z = F.avg_pool2d(F.pad(z, pads), p, s) / F.avg_pool2d(ones, p, s)
                return z.movedim(1, -1), None
        z = F.max_pool2d(z, p, s) if cls == 'MaxPooling2D' else F.avg_pool2d(z, p, s)
        return z.movedim(1, -1), None
    if cls in ('GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D') \
            and c.get('data_format') == 'channels_first':
        x = x.movedim(1, -1)
        m = None
    if cls == 'RepeatVector':
        return x[:, None].expand(x.shape[0], c['n'], *x.shape[1:]), None
    if cls == 'Permute':
        return x.permute(0, *c['dims']), None
    if cls == 'Reshape':
        return x.reshape(x.shape[0], *c['target_shape']), None
    if cls in ('GlobalAveragePooling1D', 'GlobalAveragePooling2D'):
        dims = tuple(range(1, x.dim() - 1))
        if m is not None and cls.endswith('1D'):
            mm = m.to(x.dtype)[:, :, None]
            return (x * mm).sum(1) / mm.sum(1), None
        return x.mean(dims), None
    if cls in ('GlobalMaxPooling1D', 'GlobalMaxPooling2D'):
        return x.flatten(1, -2).max(1).values, None
    if cls == 'Flatten':
        return x.reshape(x.shape[0], -1), None
    if cls == 'Concatenate':
        return torch.cat(ins, c.get('axis', -1)), masks[0] if all(mm is None for mm in masks[1:]) else None
    if cls == 'Add':
        return sum(ins), m
    if cls == 'Multiply':
        out = ins[0]
        for t in ins[1:]:
            out = out * t
        return out, m
    if cls == 'LayerNormalization':
        eps = c.get('epsilon', 1e-3)
        mu = x.mean(-1, keepdim=True)
        var = ((x - mu) ** 2).mean(-1, keepdim=True)
        y = (x - mu) / torch.sqrt(var + eps)
        return y * w.get('gamma', 1) + w.get('beta', 0), m
    if cls == 'BatchNormalization':
        y = (x - w['moving_mean'].detach()) / torch.sqrt(w['moving_variance'].detach() + c.get('epsilon', 1e-3))
        for k in ('moving_mean', 'moving_variance'):
            PARAMS.pop(f'{name}/{k}')
        return y * w.get('gamma', 1) + w.get('beta', 0), m
    if cls in ('Attention', 'AdditiveAttention'):
        q, v = ins[0], ins[1]
        k = ins[2] if len(ins) > 2 else v
        qm, vm = masks[0], masks[1] if len(masks) > 1 else None
        causal = c.get('causal', False) or call_kwargs.get('use_causal_mask', False)
        if cls == 'Attention' and c.get('score_mode', 'dot') == 'dot':
            s = q @ k.transpose(1, 2)
            if 'scale' in w:
                s = s * w['scale']
        elif cls == 'Attention':
            t = torch.tanh((w['scale'] if 'scale' in w else 1) * (q[:, :, None, :] + k[:, None, :, :]))
            s = w['concat_score_weight'] * t.sum(-1)
        else:
            s = ((w['scale'] if 'scale' in w else 1) * torch.tanh(q[:, :, None, :] + k[:, None, :, :])).sum(-1)
        s = attention_scores_mask(s, qm, vm, causal)
        out = torch.softmax(s, -1) @ v
        if qm is not None:
            out = out * qm[:, :, None].to(out.dtype)
        return out, qm
    if cls == 'MultiHeadAttention':
        assert c.get('attention_axes') in (None, [1], (1,)), 'attention over the steps only'
        q, v = ins[0], ins[1]
        k = ins[2] if len(ins) > 2 else v
        proj = {n: torch.einsum('btd,dhk->bthk', t, w[f'{n}/kernel']) + (w[f'{n}/bias'] if f'{n}/bias' in w else 0)
                for n, t in (('query', q), ('key', k), ('value', v))}
        s = torch.einsum('bqhk,bvhk->bhqv', proj['query'] / math.sqrt(c['key_dim']), proj['key'])
        bad = torch.zeros_like(s, dtype=torch.bool)
        qm, vm = masks[0], masks[1] if len(masks) > 1 else None
        if vm is not None:
            bad = bad | ~vm[:, None, None, :]
        if qm is not None:
            bad = bad | ~qm[:, None, :, None]
        if call_kwargs.get('use_causal_mask'):
            bad = bad | torch.triu(torch.ones(s.shape[-2:], dtype=torch.bool), 1)
        s = s - 1e9 * bad.to(s.dtype)
        o = torch.einsum('bhqv,bvhk->bqhk', torch.softmax(s, -1), proj['value'])
        out = torch.einsum('bqhk,hko->bqo', o, w['attention_output/kernel'])
        return out + (w['attention_output/bias'] if 'attention_output/bias' in w else 0), qm
    if cls == 'Dot':
        a, b = ins
        axes = pair(c['axes'])
        axes = [ax if ax >= 0 else t.dim() + ax for ax, t in zip(axes, (a, b))]
        if c.get('normalize'):
            a = a / torch.sqrt(torch.clamp((a * a).sum(axes[0], keepdim=True), min=1e-12))
            b = b / torch.sqrt(torch.clamp((b * b).sum(axes[1], keepdim=True), min=1e-12))
        if a.dim() == 2:
            return (a * b).sum(-1, keepdim=True), None
        return a.movedim(axes[0], -1) @ b.movedim(axes[1], 1), None
    if cls == 'CRF':
        assert c.get('learn_mode', 'join') == 'join', 'only learn_mode join'
        u = crf_energy(c, w, x, m)
        CRF_STATE.update(u=u, chain=w['chain_kernel'], mask=m, F=w['chain_kernel'].shape[0])
        return u, m
    raise SystemExit(f'unsupported layer {cls}')


def crf_nll(y):
    """keras_contrib crf_loss (join): per sample (log Z + E(y)) / valid steps, then the batch mean. Its forward
    recursion runs one transition per step over a mask padded with a trailing 0, so without a mask the last
    step keeps a transition to tag 0 (log Z is the forward variable's entry 0)."""
    u, chain, mask, nf = CRF_STATE['u'], CRF_STATE['chain'], CRF_STATE['mask'], CRF_STATE['F']
    B, T, _ = u.shape
    yt = y if y.shape[-1] == nf and y.dim() == 3 and not (y.shape[-1] == 1) else F.one_hot(y.reshape(B, T).long(), nf).to(DT)
    mk = torch.ones(B, T) if mask is None else mask.to(DT)
    m2 = torch.cat([mk, torch.zeros(B, 1) if mask is not None else torch.ones(B, 1)], 1)
    alpha = torch.zeros(B, nf)
    for t in range(T):
        e = (chain[None] * (m2[:, t] * m2[:, t + 1])[:, None, None]
             + (u[:, t] * m2[:, t, None] - alpha)[:, :, None])
        alpha = torch.logsumexp(-e, 1)
    energy = (u * yt).sum(2) * mk
    trans = ((yt[:, :-1] @ chain) * yt[:, 1:]).sum(2) * mk[:, :-1] * mk[:, 1:]
    return ((alpha[:, 0] + energy.sum(1) + trans.sum(1)) / mk.sum(1)).mean()


def loss_of(name, p, y):
    name = {'mean_squared_error': 'mse', 'mean_absolute_error': 'mae', 'loss': 'crf_loss', 'crf_nll': 'crf_loss'}.get(name, name)
    if name == 'crf_loss':
        return crf_nll(y)
    if name == 'mse':
        return ((p - y) ** 2).mean()
    if name == 'mae':
        return (p - y).abs().mean()
    eps = 1e-7
    if name == 'sparse_categorical_crossentropy':
        # Keras 3 normalises, clips and takes the log; tf.keras and Keras 2 clip, take the log and pass it as
        # logits to sparse_softmax_cross_entropy_with_logits, which normalises by the clipped sum.
        idx = y.reshape(p.shape[:-1]).long()[..., None]
        if KERAS3:
            logq = torch.log(torch.clamp(p / p.sum(-1, keepdim=True), eps, 1 - eps))
        else:
            q = torch.clamp(p, eps, 1 - eps)
            logq = torch.log(q) - torch.log(q.sum(-1, keepdim=True))
        return -logq.gather(-1, idx).mean()
    if name == 'categorical_crossentropy':
        q = torch.clamp(p / p.sum(-1, keepdim=True), eps, 1 - eps)
        return -(y * torch.log(q)).sum(-1).mean()
    if name == 'binary_crossentropy':
        q = torch.clamp(p, eps, 1 - eps)
        # TF.js (a model.json, whatever Keras wrote it) goes back to logits as Keras 2.2 does.
        tfjs = PATH.endswith('.json')
        if KERAS3 and not tfjs:
            return -(y * torch.log(q) + (1 - y) * torch.log(1 - q)).mean()
        # tf.keras marks its version '-tf' (2.2.4-tf: TF 1.13-2.1); it and Keras >= 2.3 add eps inside the logs.
        tf_keras = VERSION.endswith('-tf') or tuple(int(v) for v in VERSION.split('-')[0].split('.')[:2]) >= (2, 3)
        if tf_keras and not tfjs:
            return -(y * torch.log(q + eps) + (1 - y) * torch.log(1 - q + eps)).mean()
        z = torch.log(q / (1 - q))
        return (torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean()
    raise SystemExit(f'unsupported loss {name}; pass --loss=mse')


# ---- the graph ----
def refs(obj):
    """Keras 3 node args: every __keras_tensor__ as (layer, node, index), in order."""
    if isinstance(obj, dict) and obj.get('class_name') == '__keras_tensor__':
        return [tuple(obj['config']['keras_history'])]
    if isinstance(obj, (list, tuple)):
        return [r for o in obj for r in refs(o)]
    return []


def run():
    model = CFG['config']
    layers = model['layers'] if isinstance(model, dict) else model
    xs = [torch.tensor(np.load(p)) for p in XS]
    xs = [x if x.dtype in (torch.int32, torch.int64) else x.to(DT) for x in xs]
    values = {}
    sequential = CFG['class_name'] == 'Sequential' or not any(l.get('inbound_nodes') for l in layers)
    if sequential:
        h, m = xs[0], None
        for l in layers:
            if l['class_name'] == 'InputLayer':
                continue
            h, m = apply(l['class_name'], l['config'], l['config']['name'], [h], [m], {})
        out = h
    else:
        inputs = [r[0] for r in model['input_layers']] if isinstance(model['input_layers'][0], list) else [model['input_layers'][0]]
        for n, x in zip(inputs, xs):
            values[n] = (x, None)
        for l in layers:
            if l['class_name'] == 'InputLayer':
                continue
            node = l['inbound_nodes'][0]
            if isinstance(node, dict):
                srcs, kw = refs(node['args']), node.get('kwargs', {})
            else:
                srcs, kw = [tuple(n[:3]) for n in node], (node[0][3] if len(node[0]) > 3 else {})
            ins = [values[s[0]] for s in srcs]
            values[l['config']['name']] = apply(l['class_name'], l['config'], l['config']['name'],
                                                [v[0] for v in ins], [v[1] for v in ins], kw)
        outs = model['output_layers']
        out = values[(outs[0] if isinstance(outs[0], list) else outs)[0]][0]
    return out


def stored_loss():
    if 'loss' in OPTS:
        return OPTS['loss']
    if 'compile_config' in CFG:
        loss = CFG['compile_config'].get('loss')
    elif PATH.endswith('.json'):
        loss = 'mse'
    else:
        f = h5py.File(PATH, 'r')
        tc = f.attrs.get('training_config')
        loss = json.loads(tc)['loss'] if tc is not None else 'mse'
    if isinstance(loss, dict):
        loss = loss.get('config', {}).get('name', loss.get('class_name'))
    if isinstance(loss, list):
        loss = loss[0]
    return loss


def main():
    out = run()
    y = torch.tensor(np.load(YP))
    y = y if y.dtype in (torch.int32, torch.int64) else y.to(DT)
    name = stored_loss()
    name = {'mean_squared_error': 'mse', 'mean_absolute_error': 'mae'}.get(name, name)
    loss = loss_of(name, out, y)
    loss.backward()
    grads = {k: (v.grad.norm().item() if v.grad is not None else 0.0) for k, v in PARAMS.items() if v.requires_grad}
    # Per step t: the norm of the total dL/dh_t (the state: through the output at t and the recurrence), and of
    # what the layer's readers pass to its output at t (all of it, over every reader).
    steps = {}
    for layer, (states, seq, backwards) in STEPS.items():
        if seq.grad is None or any(h.grad is None for h in states):
            continue
        out = seq.grad.flip(1) if backwards else seq.grad
        steps[layer] = {'dh': [h.grad.norm().item() for h in states],
                        'direct': [out[:, t].norm().item() for t in range(out.shape[1])],
                        'recurrence': [(h.grad - out[:, t]).norm().item() for t, h in enumerate(states)]}
    print(json.dumps({'keras': VERSION, 'loss': name, 'value': loss.item(), 'gradNorm': grads, 'steps': steps}))


if __name__ == '__main__':
    main()
