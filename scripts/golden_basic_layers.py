#!/usr/bin/python3
"""Forward goldens for the engine's non-recurrent layers, computed with PyTorch.

Regenerate (Debian python3 with numpy + torch, no network):

    /usr/bin/python3 scripts/golden_basic_layers.py

writes test/fixtures/goldens/basic-layers.json, read by test/layers-golden.test.ts.

Each case holds a LayerSpec (as src/model/types.ts spells it), inputs, masks and
parameters in Keras layout, and the outputs (and output masks) computed by torch
in float64 and in float32. Inputs and parameters are rounded to float32 first so
that both precisions start from the same numbers.

The oracle is independent of the TypeScript code: it uses torch's own ops
(F.linear, F.conv1d, F.max_pool1d, F.batch_norm, F.layer_norm, ...), converting
layouts explicitly (Keras conv kernel (k, in, out) -> torch (out, in, k);
channels_last -> channels_first). Keras/TF facts that torch does not share are
spelled out here from their sources:
  * TF 'same' padding: out = ceil(L/s), total = max((out-1)*s + (k-1)*d + 1 - L, 0),
    left = total // 2 (tensorflow/core/framework/kernel_shape_util.cc); for
    stride 1 it is checked against torch's padding='same'.
  * 'causal' conv: (k-1)*d zeros on the left, then 'valid'
    (keras/src/layers/convolutional/conv1d.py).
  * Pools ignore padded values: max over valid elements, 'same' average divides
    by the number of valid elements (tf.nn "Notes on padding").
  * Keras 3 merge masks: keras/src/layers/merging/base_merge.py
    (_apply_merge_op_and_or_mask, compute_mask), multiply.py, concatenate.py,
    transliterated below with torch.where.
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "goldens", "basic-layers.json")

rs = np.random.RandomState(20240601)


def r32(shape, lo=-1.0, hi=1.0):
    """Random float64 array whose values are exactly representable in float32."""
    return rs.uniform(lo, hi, size=shape).astype(np.float32).astype(np.float64)


def spec(type_, class_name, **kw):
    return {"type": type_, "name": "g_" + class_name.lower(), "className": class_name, **kw}


def act(name, **kw):
    return {"name": name, **kw}


TORCH_ACT = {
    "linear": lambda z: z,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "softmax": lambda z: torch.softmax(z, dim=-1),
    "log_softmax": lambda z: torch.log_softmax(z, dim=-1),
    "elu": F.elu,
    "swish": F.silu,
}


def tf_same_pad(L, k, s, d=1):
    out = math.ceil(L / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - L, 0)
    return total // 2, total - total // 2


# ---------------------------------------------------------------- oracles
# Each takes (layer, inputs, masks, params) as torch tensors of one dtype and
# returns (outputs, output masks).


def o_dense(l, xs, ms, ps):
    z = F.linear(xs[0], ps[0].T, ps[1] if l["useBias"] else None)
    return [TORCH_ACT[l["activation"]["name"]](z)], [ms[0]]


def o_td_dense(l, xs, ms, ps):
    return o_dense(l["inner"], xs, ms, ps)


def o_embedding(l, xs, ms, ps):
    ids = xs[0].long()
    y = F.embedding(ids, ps[0])
    return [y], [(ids != 0) if l["maskZero"] else None]


def o_masking(l, xs, ms, ps):
    x = xs[0]
    m = (x != l["maskValue"]).any(dim=-1)
    return [torch.where(m[..., None], x, torch.zeros_like(x))], [m]


def o_conv1d(l, xs, ms, ps):
    x = xs[0].transpose(1, 2)  # (B, C, L)
    w = ps[0].permute(2, 1, 0)  # (k, C, F) -> (F, C, k)
    k, s, d = l["kernelSize"], l["strides"], l["dilationRate"]
    L = x.shape[2]
    if l["padding"] == "valid":
        pad = (0, 0)
    elif l["padding"] == "causal":
        pad = ((k - 1) * d, 0)
    else:
        pad = tf_same_pad(L, k, s, d)
    y = F.conv1d(F.pad(x, pad), w, ps[1] if l["useBias"] else None, stride=s, dilation=d)
    if l["padding"] == "same" and s == 1:
        ref = F.conv1d(x, w, ps[1] if l["useBias"] else None, stride=1, dilation=d, padding="same")
        assert torch.allclose(ref, y, rtol=0, atol=1e-6), "TF same padding formula disagrees with torch padding='same'"
    y = TORCH_ACT[l["activation"]["name"]](y.transpose(1, 2))
    return [y], [None]


def o_pool(l, xs, ms, ps):
    x = xs[0].transpose(1, 2)  # (B, C, L)
    k, s = l["poolSize"], l["strides"]
    pad = tf_same_pad(x.shape[2], k, s) if l["padding"] == "same" else (0, 0)
    if l["mode"] == "max":
        y = F.max_pool1d(F.pad(x, pad, value=-math.inf), k, s)
    else:
        total = F.avg_pool1d(F.pad(x, pad), k, s) * k
        count = F.avg_pool1d(F.pad(torch.ones_like(x), pad), k, s) * k
        y = total / count
    return [y.transpose(1, 2)], [None]


def o_global(l, xs, ms, ps):
    x = xs[0]
    if l["mode"] == "max":
        return [x.amax(dim=1)], [None]
    if ms[0] is None:
        return [x.mean(dim=1)], [None]
    m = ms[0][..., None].to(x.dtype)
    return [(x * m).sum(dim=1) / m.sum(dim=1)], [None]


def o_batchnorm(l, xs, ms, ps):
    x = xs[0]
    i = 0
    gamma = ps[i] if l["scale"] else None
    i += 1 if l["scale"] else 0
    beta = ps[i] if l["center"] else None
    i += 1 if l["center"] else 0
    mean, var = ps[i], ps[i + 1]
    ax = l["axis"] % x.dim()
    xc = x.movedim(ax, 1)
    y = F.batch_norm(xc, mean, var, gamma, beta, training=False, eps=l["epsilon"])
    return [y.movedim(1, ax)], [ms[0]]


def o_layernorm(l, xs, ms, ps):
    x = xs[0]
    axes = sorted(a % x.dim() for a in l["axis"])
    rest = [a for a in range(x.dim()) if a not in axes]
    perm = rest + axes
    xp = x.permute(perm)
    i = 0
    gamma = ps[i] if l["scale"] else None
    i += 1 if l["scale"] else 0
    beta = ps[i] if l["center"] else None
    y = F.layer_norm(xp, [x.shape[a] for a in axes], gamma, beta, eps=l["epsilon"])
    inv = [perm.index(a) for a in range(x.dim())]
    return [y.permute(inv)], [ms[0]]


def o_activation(l, xs, ms, ps):
    return [TORCH_ACT[l["activation"]["name"]](xs[0])], [ms[0]]


def o_repeat(l, xs, ms, ps):
    return [xs[0][:, None, :].repeat(1, l["n"], 1)], [None]


def o_flatten(l, xs, ms, ps):
    return [xs[0].reshape(xs[0].shape[0], -1)], [None]


def o_reshape(l, xs, ms, ps):
    return [xs[0].reshape(xs[0].shape[0], *l["targetShape"])], [None]


def o_permute(l, xs, ms, ps):
    return [xs[0].permute(0, *l["dims"])], [None]


def expand_like(m, x):
    return m[..., None].expand(x.shape) if m is not None else None


def align(xs):
    """Keras base_merge.call: insert size-1 dims at axis 1 until ranks agree."""
    r = max(x.dim() for x in xs)
    out = []
    for x in xs:
        while x.dim() < r:
            x = x.unsqueeze(1)
        out.append(x)
    return out


def o_merge(l, xs, ms, ps):
    mode = l["mode"]
    if mode == "Concatenate":
        y = torch.cat(xs, dim=l["axis"])
        if all(m is None for m in ms):
            return [y], [None]
        full = [torch.ones(x.shape, dtype=torch.bool) if m is None else expand_like(m, x) for x, m in zip(xs, ms)]
        return [y], [torch.cat(full, dim=l["axis"]).any(dim=-1)]
    same_rank = len({x.dim() for x in xs}) == 1
    r = max(x.dim() for x in xs)
    # masks survive only on inputs that were not expanded
    vms = [m if (same_rank or x.dim() == r) else None for x, m in zip(xs, ms)]
    xs = align(xs)
    out_mask = None
    if all(m is not None for m in ms):
        out_mask = ms[0]
        for m in ms[1:]:
            out_mask = out_mask | m
    if mode in ("Add", "Average", "Subtract"):
        y = xs[0]
        for x in xs[1:]:
            y = y - x if mode == "Subtract" else y + x
        if mode == "Average":
            y = y / len(xs)
        return [y], [out_mask]
    if mode == "Multiply":
        has = all(m is not None for m in vms)
        y = None
        om = None
        for x, m in zip(xs, vms):
            if m is not None:
                me = expand_like(m, x)
                x = torch.where(me, x, torch.ones_like(x))
                if has:
                    om = me if om is None else (om | me)
            y = x if y is None else y * x
        if has:
            y = torch.where(om, y, torch.zeros_like(y))
        return [y], [out_mask]
    op = torch.maximum if mode == "Maximum" else torch.minimum
    y = None
    om = None
    for x, m in zip(xs, vms):
        me = expand_like(m, x)
        if y is None:
            y, om = x, me
            continue
        if me is not None:
            x = torch.where(me, x, y)
        if om is not None:
            y = torch.where(om, y, x)
        om = (om | me) if (me is not None and om is not None) else None
        y = op(y, x)
    return [y], [out_mask]


ORACLES = {
    "Dense": o_dense,
    "TimeDistributed": o_td_dense,
    "Embedding": o_embedding,
    "Masking": o_masking,
    "Conv1D": o_conv1d,
    "Pooling1D": o_pool,
    "GlobalPooling1D": o_global,
    "BatchNormalization": o_batchnorm,
    "LayerNormalization": o_layernorm,
    "Activation": o_activation,
    "RepeatVector": o_repeat,
    "Flatten": o_flatten,
    "Reshape": o_reshape,
    "Permute": o_permute,
    "Merge": o_merge,
}

# ---------------------------------------------------------------- cases

cases = []


def add(title, layer, inputs, params=(), masks=None):
    masks = masks if masks is not None else [None] * len(inputs)
    case = {
        "title": title,
        "layer": layer,
        "inputs": [{"shape": list(x.shape), "data": x.ravel().tolist()} for x in inputs],
        "masks": [None if m is None else {"b": m.shape[0], "t": m.shape[1], "data": m.astype(int).ravel().tolist()} for m in masks],
        "params": [{"shape": list(p.shape), "data": p.ravel().tolist()} for p in params],
    }
    for dt, key in ((torch.float64, "outputs64"), (torch.float32, "outputs32")):
        xs = [torch.tensor(x, dtype=dt) for x in inputs]
        ps = [torch.tensor(p, dtype=dt) for p in params]
        ms = [None if m is None else torch.tensor(m, dtype=torch.bool) for m in masks]
        with torch.no_grad():
            ys, yms = ORACLES[layer["type"]](layer, xs, ms, ps)
        case[key] = [{"shape": list(y.shape), "data": y.double().ravel().tolist()} for y in ys]
        case["outMasks"] = [None if m is None else m.to(torch.int64).ravel().tolist() for m in yms]
    cases.append(case)


def masks_bt(b, t, p=0.6):
    m = rs.uniform(size=(b, t)) < p
    m[:, 0] = True
    return m


for a in ("tanh", "softmax", "relu", "linear"):
    add(f"Dense rank 3, {a}", spec("Dense", "Dense", units=4, activation=act(a), useBias=a != "linear"),
        [r32((2, 3, 5))], [r32((5, 4))] + ([r32((4,))] if a != "linear" else []))
add("Dense with an incoming mask passed through", spec("Dense", "Dense", units=3, activation=act("sigmoid"), useBias=True),
    [r32((2, 4, 3))], [r32((3, 3)), r32((3,))], masks=[masks_bt(2, 4)])
add("TimeDistributed(Dense)", spec("TimeDistributed", "TimeDistributed", inner=spec("Dense", "Dense", units=2, activation=act("tanh"), useBias=True)),
    [r32((2, 4, 3))], [r32((3, 2)), r32((2,))])
add("Embedding mask_zero", spec("Embedding", "Embedding", inputDim=6, outputDim=3, maskZero=True),
    [np.array([[1, 0, 5, 2], [0, 0, 3, 3]], dtype=np.float64)], [r32((6, 3))])
xm = r32((2, 4, 3))
xm[0, 1, :] = 0.25
xm[1, 3, :] = 0.25
xm[1, 0, 2] = 0.25
add("Masking", spec("Masking", "Masking", maskValue=0.25), [xm])

for pad in ("valid", "same", "causal"):
    for k, s, d in ((3, 1, 1), (2, 2, 1), (3, 2, 2), (4, 3, 1), (5, 1, 2), (1, 1, 1)):
        add(f"Conv1D {pad} k={k} s={s} d={d}",
            spec("Conv1D", "Conv1D", filters=3, kernelSize=k, strides=s, padding=pad, dilationRate=d, activation=act("tanh"), useBias=True),
            [r32((2, 9, 2))], [r32((k, 2, 3)), r32((3,))])
add("Conv1D no bias, relu", spec("Conv1D", "Conv1D", filters=4, kernelSize=3, strides=1, padding="same", dilationRate=1, activation=act("relu"), useBias=False),
    [r32((1, 6, 3))], [r32((3, 3, 4))])

for mode in ("max", "avg"):
    for pad in ("valid", "same"):
        for k, s in ((2, 2), (3, 1), (3, 2), (2, 3), (4, 3)):
            add(f"{mode} pooling {pad} pool={k} stride={s}",
                spec("Pooling1D", "MaxPooling1D" if mode == "max" else "AveragePooling1D", mode=mode, poolSize=k, strides=s, padding=pad),
                [r32((2, 7, 3))])
add("GlobalMaxPooling1D", spec("GlobalPooling1D", "GlobalMaxPooling1D", mode="max"), [r32((2, 5, 3))])
add("GlobalAveragePooling1D", spec("GlobalPooling1D", "GlobalAveragePooling1D", mode="avg"), [r32((2, 5, 3))])
add("GlobalAveragePooling1D masked", spec("GlobalPooling1D", "GlobalAveragePooling1D", mode="avg"), [r32((2, 5, 3))], masks=[masks_bt(2, 5)])

for center, scale in ((True, True), (False, True), (True, False), (False, False)):
    for axis in (-1, 1):
        C = 4 if axis == -1 else 3
        ps = ([r32((C,))] if scale else []) + ([r32((C,))] if center else []) + [r32((C,)), r32((C,), 0.1, 2.0)]
        add(f"BatchNormalization center={center} scale={scale} axis={axis}",
            spec("BatchNormalization", "BatchNormalization", axis=axis, epsilon=1e-3, center=center, scale=scale),
            [r32((2, 3, 4), -3, 3)], ps)

for shape, axis, center, scale in (((2, 3, 5), [-1], True, True), ((2, 3, 4), [1, 2], True, True), ((2, 3, 4), [1], True, True),
                                   ((2, 3, 4), [-1], False, True), ((2, 3, 4), [-1], True, False), ((2, 3, 2, 3), [1, 3], True, True)):
    pshape = tuple(shape[a] for a in sorted(a % len(shape) for a in axis))
    ps = ([r32(pshape)] if scale else []) + ([r32(pshape)] if center else [])
    add(f"LayerNormalization shape={shape} axis={axis} center={center} scale={scale}",
        spec("LayerNormalization", "LayerNormalization", axis=axis, epsilon=1e-3, center=center, scale=scale),
        [r32(shape, -2, 3)], ps)

for a in ("tanh", "softmax", "log_softmax", "elu", "swish"):
    add(f"Activation {a}", spec("Activation", "Activation", activation=act(a, alpha=1.0) if a == "elu" else act(a)), [r32((2, 3, 4), -4, 4)])
add("RepeatVector", spec("RepeatVector", "RepeatVector", n=3), [r32((2, 4))])
add("Flatten", spec("Flatten", "Flatten"), [r32((2, 3, 4))])
add("Reshape", spec("Reshape", "Reshape", targetShape=[4, -1]), [r32((2, 3, 4))])
add("Permute (2, 1)", spec("Permute", "Permute", dims=[2, 1]), [r32((2, 3, 4))])
add("Permute (3, 1, 2)", spec("Permute", "Permute", dims=[3, 1, 2]), [r32((2, 3, 4, 2))])

for mode, n in (("Add", 3), ("Subtract", 2), ("Multiply", 3), ("Average", 3), ("Maximum", 3), ("Minimum", 3)):
    add(f"{mode} of {n}", spec("Merge", mode, mode=mode, axis=-1), [r32((2, 3, 4)) for _ in range(n)])
    add(f"{mode} broadcast (B,T,1) x (B,T,F)", spec("Merge", mode, mode=mode, axis=-1), [r32((2, 3, 1)), r32((2, 3, 4))])
    add(f"{mode} rank-expanded (B,F) x (B,T,F)", spec("Merge", mode, mode=mode, axis=-1), [r32((2, 4)), r32((2, 3, 4))])
    for title, mk in (("both masked", (True, True)), ("first masked", (True, False)), ("second masked", (False, True))):
        ms = [masks_bt(2, 5, 0.5) if f else None for f in mk]
        add(f"{mode} {title}", spec("Merge", mode, mode=mode, axis=-1), [r32((2, 5, 3)), r32((2, 5, 3))], masks=ms)
    add(f"{mode} of {n}, all masked", spec("Merge", mode, mode=mode, axis=-1), [r32((2, 5, 3)) for _ in range(n)],
        masks=[masks_bt(2, 5, 0.5) for _ in range(n)])

for axis, shapes in ((-1, [(2, 3, 4), (2, 3, 2)]), (1, [(2, 3, 4), (2, 2, 4)]), (0, [(2, 3, 4), (1, 3, 4)])):
    xs = [r32(s) for s in shapes]
    add(f"Concatenate axis={axis}", spec("Merge", "Concatenate", mode="Concatenate", axis=axis), xs)
    add(f"Concatenate axis={axis}, first masked", spec("Merge", "Concatenate", mode="Concatenate", axis=axis), xs,
        masks=[masks_bt(shapes[0][0], shapes[0][1], 0.5), None])
    add(f"Concatenate axis={axis}, both masked", spec("Merge", "Concatenate", mode="Concatenate", axis=axis), xs,
        masks=[masks_bt(s[0], s[1], 0.5) for s in shapes])

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump({"generator": "scripts/golden_basic_layers.py", "torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
print(f"{len(cases)} cases -> {os.path.relpath(OUT, ROOT)}")
