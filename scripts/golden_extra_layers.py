#!/usr/bin/python3
"""Goldens for the 2-D vision layers, the attention layers, Dot and the keras_contrib CRF.

Regenerate (Debian python3 with numpy + torch 1.13, no network):

    /usr/bin/python3 scripts/golden_extra_layers.py

writes test/fixtures/goldens/extra-layers.json, read by test/layers-extra-golden.test.ts.
Same case format as scripts/golden_basic_layers.py (LayerSpec, inputs, masks,
parameters in Keras layout, outputs in float64 and float32), plus `crf_nll`
cases: the keras_contrib negative log-likelihood and its gradients.

Independent oracles (none reads rnnscope's code):
  * Conv2D: torch.nn.functional.conv2d after F.pad with TF 'same' padding
    (out = ceil(L/s), total = max((out-1)*s + (k-1)*d + 1 - L, 0), top/left = total//2);
    checked against torch's own padding='same' when the stride is 1.
  * Pooling2D: F.max_pool2d on −inf padding; average = F.avg_pool2d of the zero-padded
    input over F.avg_pool2d of the padded ones (TF ignores padded values).
  * Attention / AdditiveAttention: the formulas of keras/src/layers/attention/attention.py
    and additive_attention.py written with torch ops (softmax(QKᵀ·scale)V; torch 1.13
    has no scaled_dot_product_attention).
  * MultiHeadAttention: torch.nn.MultiheadAttention with the Keras EinsumDense kernels
    mapped to q/k/v_proj_weight, in_proj_bias and out_proj (needs num_heads·key_dim =
    query dim = output dim, value_dim = key_dim).
  * Dot: torch.bmm after F.normalize-equivalent l2 normalisation.
  * CRF: a forward-algorithm CRF written here in numpy (logsumexp over the previous tag,
    keras_contrib's energy convention p(y) ∝ exp(−E), its boundary and mask handling),
    the same in torch for the gradients (autograd, float64), and a brute-force check of
    the partition function over all tag paths for a masked-free case.
"""

import itertools
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "goldens", "extra-layers.json")
rs = np.random.RandomState(20240917)


def r32(shape, lo=-1.0, hi=1.0):
    return rs.uniform(lo, hi, size=shape).astype(np.float32).astype(np.float64)


def spec(type_, cls, **kw):
    return {"type": type_, "name": "g_" + cls.lower(), "className": cls, **kw}


def act(name):
    return {"name": name}


ACT = {"linear": lambda z: z, "tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}


def same_pad(L, k, s, d=1):
    out = math.ceil(L / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - L, 0)
    return total // 2, total - total // 2


def pad2d(x, l, k, s, d):
    """x (B, C, H, W) padded as TF pads for `l['padding']` (F.pad takes (left, right, top, bottom))."""
    if l["padding"] == "valid":
        return (0, 0, 0, 0)
    t, b = same_pad(x.shape[2], k[0], s[0], d[0])
    le, r = same_pad(x.shape[3], k[1], s[1], d[1])
    return (le, r, t, b)


def o_conv2d(l, xs, ms, ps):
    x = xs[0].permute(0, 3, 1, 2)
    w = ps[0].permute(3, 2, 0, 1)  # (kh, kw, C, F) -> (F, C, kh, kw)
    k, s, d = l["kernelSize"], l["strides"], l["dilationRate"]
    bias = ps[1] if l["useBias"] else None
    y = F.conv2d(F.pad(x, pad2d(x, l, k, s, d)), w, bias, stride=tuple(s), dilation=tuple(d))
    if l["padding"] == "same" and s == [1, 1]:
        ref = F.conv2d(x, w, bias, dilation=tuple(d), padding="same")
        assert torch.allclose(ref, y, rtol=0, atol=1e-5), "TF same padding disagrees with torch padding='same'"
    return [ACT[l["activation"]["name"]](y.permute(0, 2, 3, 1))], [None]


def o_pool2d(l, xs, ms, ps):
    x = xs[0].permute(0, 3, 1, 2)
    k, s = l["poolSize"], l["strides"]
    p = pad2d(x, l, k, s, (1, 1))
    if l["mode"] == "max":
        y = F.max_pool2d(F.pad(x, p, value=-math.inf), tuple(k), tuple(s))
    else:
        y = F.avg_pool2d(F.pad(x, p), tuple(k), tuple(s)) / F.avg_pool2d(F.pad(torch.ones_like(x), p), tuple(k), tuple(s))
    return [y.permute(0, 2, 3, 1)], [None]


def o_global2d(l, xs, ms, ps):
    x = xs[0]
    return [x.amax(dim=(1, 2)) if l["mode"] == "max" else x.mean(dim=(1, 2))], [None]


def o_zeropad(l, xs, ms, ps):
    (t, b), (le, r) = l["padding"]
    return [F.pad(xs[0], (0, 0, le, r, t, b))], [None]


def o_td(l, xs, ms, ps):
    x = xs[0]
    B, T = x.shape[:2]
    ys, _ = ORACLES[l["inner"]["type"]](l["inner"], [x.reshape(B * T, *x.shape[2:])], [None], ps)
    return [ys[0].reshape(B, T, *ys[0].shape[1:])], [ms[0]]


def o_attention(l, xs, ms, ps):
    q, v = xs[0], xs[1]
    k = xs[2] if len(xs) > 2 else v
    qm, vm = ms[0], ms[1]
    if l["score"] == "dot":
        s = torch.matmul(q, k.transpose(1, 2))
        if l["useScale"]:
            s = s * ps[0]
    elif l["score"] == "concat":
        sc = ps[0] if l["useScale"] else 1.0
        w = ps[1 if l["useScale"] else 0]
        s = w * torch.tanh(sc * (q[:, :, None, :] + k[:, None, :, :])).sum(-1)
    else:
        a = ps[0] if l["useScale"] else torch.ones(q.shape[-1], dtype=q.dtype)
        s = (a * torch.tanh(q[:, :, None, :] + k[:, None, :, :])).sum(-1)
    keep = torch.ones(s.shape, dtype=torch.bool)
    if vm is not None:
        keep = keep & vm[:, None, :]
    if l["causal"]:
        keep = keep & torch.tril(torch.ones(s.shape[1:], dtype=torch.bool))[None]
    s = s - 1e9 * (~keep).to(s.dtype)
    a = torch.softmax(s, dim=-1)
    out = torch.matmul(a, v)
    if qm is not None:
        out = out * qm[..., None].to(out.dtype)
    outs = [out, a] if l["returnScores"] else [out]
    return outs, [qm] * len(outs)


def o_mha(l, xs, ms, ps):
    q, v = xs[0], xs[1]
    k = xs[2] if len(xs) > 2 else v
    H, dk = l["numHeads"], l["keyDim"]
    E = H * dk
    assert q.shape[-1] == E and l["valueDim"] == dk and l["outputDim"] in (None, E) and l["useBias"]
    wq, bq, wk, bk, wv, bv, wo, bo = ps
    m = torch.nn.MultiheadAttention(E, H, bias=True, batch_first=True, kdim=k.shape[-1], vdim=v.shape[-1]).to(q.dtype)
    with torch.no_grad():
        m.q_proj_weight.copy_(wq.reshape(-1, E).T)
        m.k_proj_weight.copy_(wk.reshape(-1, E).T)
        m.v_proj_weight.copy_(wv.reshape(-1, E).T)
        m.in_proj_bias.copy_(torch.cat([bq.reshape(-1), bk.reshape(-1), bv.reshape(-1)]))
        m.out_proj.weight.copy_(wo.reshape(E, -1).T)
        m.out_proj.bias.copy_(bo)
    Tq, Tv = q.shape[1], k.shape[1]
    mask = torch.triu(torch.ones(Tq, Tv, dtype=torch.bool), 1) if l["causal"] else None
    kpm = ~ms[1] if ms[1] is not None else None
    out, att = m(q, k, v, attn_mask=mask, key_padding_mask=kpm, need_weights=True, average_attn_weights=False)
    outs = [out, att] if l["returnScores"] else [out]
    return outs, [ms[0]] * len(outs)


def o_dot(l, xs, ms, ps):
    a, b = xs
    ax = [ax if ax >= 0 else ax + len(x.shape) for ax, x in zip(l["axes"], (a, b))]
    if l["normalize"]:
        a = a / torch.sqrt(torch.clamp((a * a).sum(ax[0], keepdim=True), min=1e-12))
        b = b / torch.sqrt(torch.clamp((b * b).sum(ax[1], keepdim=True), min=1e-12))
    # batch dot: the contracted axis moved last, one einsum
    a2 = a.movedim(ax[0], -1) if a.dim() == 3 else a[:, None, :]
    b2 = b.movedim(ax[1], -1) if b.dim() == 3 else b[:, None, :]
    y = torch.einsum("bik,bjk->bij", a2, b2)
    shape = [s for i, s in enumerate(a.shape) if i != ax[0]] + [s for i, s in enumerate(b.shape) if i not in (0, ax[1])]
    return [y.reshape(shape if len(shape) > 1 else [shape[0], 1])], [None]


# ---- CRF: keras_contrib semantics, written independently (numpy forward, torch for gradients).

def crf_energy(l, x, ps, mask, xp):
    """U = act(x·K + b) plus boundaries, as keras_contrib add_boundary_energy."""
    K, W = ps[0], ps[1]
    i = 2
    b = 0.0
    if l["useBias"]:
        b, i = ps[2], 3
    z = x @ K + b
    U = {"linear": lambda t: t, "tanh": xp.tanh}[l["activation"]["name"]](z)
    if l["useBoundary"]:
        left, right = ps[i], ps[i + 1]
        if mask is None:
            U = U + 0.0
            first = xp.zeros(U.shape[1]) if xp is np else torch.zeros(U.shape[1], dtype=U.dtype)
            start = first.copy() if xp is np else first.clone()
            start[0] = 1
            end = first.copy() if xp is np else first.clone()
            end[-1] = 1
            U = U + start[None, :, None] * left + end[None, :, None] * right
        else:
            m = mask.astype(float) if xp is np else mask.to(U.dtype)
            prev = xp.concatenate([m[:, :1] * 0, m[:, :-1]], 1) if xp is np else torch.cat([m[:, :1] * 0, m[:, :-1]], 1)
            nxt = xp.concatenate([m[:, 1:], m[:, :1] * 0], 1) if xp is np else torch.cat([m[:, 1:], m[:, :1] * 0], 1)
            U = U + (m > prev)[..., None] * left + (nxt > m)[..., None] * right
    return U, W


def lse(a, axis):
    mx = a.max(axis=axis, keepdims=True)
    return (mx + np.log(np.exp(a - mx).sum(axis=axis, keepdims=True))).squeeze(axis)


def crf_alpha(U, W, mask, reverse):
    """The keras_contrib recursion (numpy): alphas in iteration order."""
    B, T, Fn = U.shape
    m = np.ones((B, T)) if mask is None else mask.astype(float)
    if reverse:
        U, m = U[:, ::-1], m[:, ::-1]
    m2 = np.concatenate([m, np.zeros((B, 1))], 1)
    if mask is None:
        m2[:] = 1.0
    prev = np.zeros((B, Fn))
    out = []
    for t in range(T):
        m0, m1 = m2[:, t], m2[:, t + 1]
        a = prev[:, :, None] - (m0[:, None] * U[:, t])[:, :, None] - (m0 * m1)[:, None, None] * W[None]
        prev = lse(a, 1)
        out.append(prev)
    return np.stack(out, 1)


def crf_marginal(l, x, ps, mask):
    U, W = crf_energy(l, x, ps, mask, np)
    al = crf_alpha(U, W, mask, False)
    be = crf_alpha(U, W, mask, True)[:, ::-1]
    B, T, Fn = U.shape
    sr = np.concatenate([np.zeros((B, 1, Fn)), al[:, :-1]], 1)
    sl = np.concatenate([be[:, 1:], np.zeros((B, 1, Fn))], 1)
    m = 1.0 if mask is None else mask.astype(float)[..., None]
    g = -(sr + U * m + sl)
    e = np.exp(g - g.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def crf_viterbi(l, x, ps, mask):
    U, W = crf_energy(l, x, ps, mask, np)
    B, T, Fn = U.shape
    m = np.ones((B, T)) if mask is None else mask.astype(float)
    m2 = np.concatenate([m, np.zeros((B, 1))], 1)
    if mask is None:
        m2[:] = 1.0
    prev = np.zeros((B, Fn))
    tables = []
    for t in range(T):
        m0, m1 = m2[:, t], m2[:, t + 1]
        e = (m0 * m1)[:, None, None] * W[None] + (m0[:, None] * U[:, t] + prev)[:, :, None]
        tables.append(e.argmin(1))
        prev = e.min(1)
    out = np.zeros((B, T, Fn))
    for b in range(B):
        best = tables[T - 1][b, 0]
        for t in range(T - 1, -1, -1):
            best = tables[t][b, best]
            out[b, t, best] = 1
    return out


def crf_nll_torch(l, x, ps, mask, y):
    """crf_loss for learn_mode 'join' (torch, for autograd): mean over samples of (logZ + E) / steps."""
    U, W = crf_energy(l, x, ps, mask, torch)
    B, T, Fn = U.shape
    m = torch.ones(B, T, dtype=U.dtype) if mask is None else mask.to(U.dtype)
    m2 = torch.cat([m, torch.zeros(B, 1, dtype=U.dtype)], 1) if mask is not None else torch.ones(B, T + 1, dtype=U.dtype)
    prev = torch.zeros(B, Fn, dtype=U.dtype)
    for t in range(T):
        m0, m1 = m2[:, t], m2[:, t + 1]
        a = prev[:, :, None] - (m0[:, None] * U[:, t])[:, :, None] - (m0 * m1)[:, None, None] * W[None]
        prev = torch.logsumexp(a, 1)
    logz = prev[:, 0]
    e = (U * y).sum(2) * m
    chain = ((y[:, :-1] @ W) * y[:, 1:]).sum(2) * (m[:, :-1] * m[:, 1:])
    nll = (logz + e.sum(1) + chain.sum(1)) / m.sum(1)
    return nll.mean(), nll


cases = []
crf_cases = []

ORACLES = {"Conv2D": o_conv2d, "Pooling2D": o_pool2d, "GlobalPooling2D": o_global2d, "ZeroPadding2D": o_zeropad,
           "TimeDistributed": o_td, "Attention": o_attention, "MultiHeadAttention": o_mha, "Dot": o_dot}

def main():
    global cases, crf_cases
    cases.clear()
    crf_cases.clear()


    def arr(x):
        return {"shape": list(x.shape), "data": np.asarray(x, dtype=np.float64).ravel().tolist()}


    def add(title, layer, inputs, params=(), masks=None):
        masks = masks if masks is not None else [None] * len(inputs)
        case = {"title": title, "layer": layer, "inputs": [arr(x) for x in inputs],
                "masks": [None if m is None else {"b": m.shape[0], "t": m.shape[1], "data": m.astype(int).ravel().tolist()} for m in masks],
                "params": [arr(p) for p in params]}
        for dt, key in ((torch.float64, "outputs64"), (torch.float32, "outputs32")):
            xs = [torch.tensor(x, dtype=dt) for x in inputs]
            ps = [torch.tensor(p, dtype=dt) for p in params]
            ms = [None if m is None else torch.tensor(m, dtype=torch.bool) for m in masks]
            with torch.no_grad():
                ys, yms = ORACLES[layer["type"]](layer, xs, ms, ps)
            case[key] = [arr(y.double().numpy()) for y in ys]
            case["outMasks"] = [None if m is None else m.to(torch.int64).ravel().tolist() for m in yms]
        cases.append(case)


    def conv(**kw):
        base = dict(filters=3, kernelSize=[3, 2], strides=[1, 1], padding="valid", dilationRate=[1, 1], activation=act("tanh"), useBias=True)
        base.update(kw)
        return spec("Conv2D", "Conv2D", **base)


    for title, c in [("valid 3×2", conv()), ("same 3×2", conv(padding="same")), ("same, strides 2×3", conv(padding="same", strides=[2, 3])),
                     ("valid, strides 2×1, relu", conv(strides=[2, 1], activation=act("relu"))), ("same, dilation 2×2", conv(padding="same", dilationRate=[2, 2])),
                     ("valid, no bias, linear, 1×1", conv(kernelSize=[1, 1], useBias=False, activation=act("linear")))]:
        kh, kw = c["kernelSize"]
        add(f"Conv2D {title}", c, [r32((2, 7, 6, 2))], [r32((kh, kw, 2, 3))] + ([r32((3,))] if c["useBias"] else []))
    for mode in ("max", "avg"):
        for padding in ("valid", "same"):
            for p, s in (([2, 2], [2, 2]), ([3, 2], [1, 2]), ([2, 3], [3, 1])):
                add(f"Pooling2D {mode} {padding} pool {p} strides {s}", spec("Pooling2D", "MaxPooling2D" if mode == "max" else "AveragePooling2D", mode=mode, poolSize=p, strides=s, padding=padding), [r32((2, 5, 7, 2))])
        add(f"GlobalPooling2D {mode}", spec("GlobalPooling2D", "GlobalPooling2D", mode=mode), [r32((2, 3, 4, 3))])
    add("ZeroPadding2D ((1, 2), (0, 3))", spec("ZeroPadding2D", "ZeroPadding2D", padding=[[1, 2], [0, 3]]), [r32((2, 3, 2, 2))])
    add("TimeDistributed(Conv2D same, stride 2)", spec("TimeDistributed", "TimeDistributed", inner=conv(padding="same", strides=[2, 2])), [r32((2, 3, 5, 4, 2))], [r32((3, 2, 2, 3)), r32((3,))])
    add("TimeDistributed(MaxPooling2D)", spec("TimeDistributed", "TimeDistributed", inner=spec("Pooling2D", "MaxPooling2D", mode="max", poolSize=[2, 2], strides=[2, 2], padding="valid")), [r32((2, 3, 4, 5, 2))])


    def att(**kw):
        base = dict(score="dot", useScale=False, causal=False, returnScores=False)
        base.update(kw)
        return spec("Attention", "AdditiveAttention" if base["score"] == "additive" else "Attention", **base)


    def bt_mask(b, t):
        m = rs.uniform(size=(b, t)) < 0.7
        m[:, 0] = True
        return m


    D = 3
    for title, l, key, masked in [("dot", att(), False, False), ("dot, use_scale, scores", att(useScale=True, returnScores=True), False, False),
                                   ("dot, causal, masks", att(causal=True, returnScores=True), False, True), ("dot, key, Tv=5", att(useScale=True), True, False),
                                   ("concat, use_scale", att(score="concat", useScale=True), False, False), ("concat, masks, key", att(score="concat"), True, True),
                                   ("additive, use_scale", att(score="additive", useScale=True), False, False), ("additive, causal, scores", att(score="additive", causal=True, returnScores=True), False, False)]:
        Tv = 5 if key else 4
        inputs = [r32((2, 4, D)), r32((2, Tv, 2 if key else D))] + ([r32((2, Tv, D))] if key else [])
        params = []
        if l["score"] == "additive":
            params = [r32((D,))] if l["useScale"] else []
        else:
            params = ([np.array(0.75)] if l["useScale"] else []) + ([np.array(1.25)] if l["score"] == "concat" else [])
        masks = [bt_mask(2, 4), bt_mask(2, Tv)] + ([None] if key else []) if masked else None
        add(f"{l['className']} {title}", l, inputs, params, masks)

    for title, causal, scores, key, masked in [("self, 2 heads", False, False, False, False), ("cross with key, scores", False, True, True, False),
                                               ("causal", True, True, False, False), ("value mask", False, False, False, True)]:
        H, dk, E = 2, 2, 4
        l = spec("MultiHeadAttention", "MultiHeadAttention", numHeads=H, keyDim=dk, valueDim=dk, outputDim=None, useBias=True, causal=causal, returnScores=scores)
        Dv, Dk = 3, 5
        inputs = [r32((2, 4, E)), r32((2, 4, Dv))] + ([r32((2, 4, Dk))] if key else [])
        params = [r32((E, H, dk)), r32((H, dk)), r32((Dk if key else Dv, H, dk)), r32((H, dk)), r32((Dv, H, dk)), r32((H, dk)), r32((H, dk, E)), r32((E,))]
        masks = [np.ones((2, 4), dtype=bool), bt_mask(2, 4)] if masked else None
        add(f"MultiHeadAttention {title}", l, inputs, params, masks)

    for title, s1, s2, axes, norm in [("(B,T,D)·(B,S,D) axes 2", (2, 3, 4), (2, 5, 4), [2, 2], False), ("(B,T,D)·(B,T,E) axes 1, normalize", (2, 3, 4), (2, 3, 2), [1, 1], True),
                                      ("(B,D)·(B,D) normalize", (3, 4), (3, 4), [-1, -1], True), ("(B,T,D)·(B,D) axes (2,1)", (2, 3, 4), (2, 4), [2, 1], False)]:
        add(f"Dot {title}", spec("Dot", "Dot", axes=axes, normalize=norm), [r32(s1), r32(s2)])


    def crf_spec(**kw):
        base = dict(units=3, learnMode="join", testMode="viterbi", sparseTarget=False, useBoundary=True, useBias=True, activation=act("linear"))
        base.update(kw)
        return spec("CRF", "CRF", **base)


    def add_crf(title, l, B, T, I, mask):
        Fn = l["units"]
        x = r32((B, T, I), -2, 2)
        ps = [r32((I, Fn), -2, 2), r32((Fn, Fn), -2, 2)] + ([r32((Fn,))] if l["useBias"] else []) + ([r32((Fn,)), r32((Fn,))] if l["useBoundary"] else [])
        tags = rs.randint(0, Fn, size=(B, T))
        y = np.eye(Fn)[tags]
        xt = torch.tensor(x, requires_grad=True)
        pt = [torch.tensor(p, requires_grad=True) for p in ps]
        mt = None if mask is None else torch.tensor(mask)
        loss, per = crf_nll_torch(l, xt, pt, mt, torch.tensor(y))
        loss.backward()
        case = {"title": title, "layer": l, "x": arr(x), "params": [arr(p) for p in ps], "mask": None if mask is None else mask.astype(int).ravel().tolist(),
                "tags": tags.ravel().tolist(), "loss": loss.item(), "perSample": per.detach().numpy().tolist(),
                "dx": arr(xt.grad.numpy()), "dparams": [arr(p.grad.numpy()) for p in pt],
                "viterbi": arr(crf_viterbi(l, x, ps, mask)), "marginal": arr(crf_marginal(l, x, ps, mask))}
        if mask is None and l["useBoundary"]:
            # Brute force over all tag paths: logZ as keras_contrib computes it without a mask
            # (Σ over paths of exp(−E − W[y_{T−1}, 0]), the trailing chain term of its recursion).
            U, W = crf_energy(l, x, ps, None, np)
            for b in range(B):
                tot = []
                for path in itertools.product(range(Fn), repeat=T):
                    e = sum(U[b, t, path[t]] for t in range(T)) + sum(W[path[t], path[t + 1]] for t in range(T - 1)) + W[path[-1], 0]
                    tot.append(-e)
                e_true = sum(U[b, t, tags[b, t]] for t in range(T)) + sum(W[tags[b, t], tags[b, t + 1]] for t in range(T - 1))
                brute = (lse(np.array(tot), 0) + e_true) / T
                assert abs(brute - per[b].item()) < 1e-9, (brute, per[b].item())
        crf_cases.append(case)


    add_crf("CRF join, boundaries, no mask (brute-force checked)", crf_spec(), 2, 4, 3, None)
    add_crf("CRF join, mask with pre- and post-padding", crf_spec(sparseTarget=True), 3, 5, 3, np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 1], [1, 1, 1, 1, 1]], dtype=bool))
    add_crf("CRF no boundary, no bias, tanh", crf_spec(useBoundary=False, useBias=False, activation=act("tanh"), units=4), 2, 6, 2, np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=bool))

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"generator": "scripts/golden_extra_layers.py", "torch": torch.__version__, "cases": cases, "crf": crf_cases}, f, separators=(",", ":"))
    print(f"wrote {OUT}: {len(cases)} layer cases, {len(crf_cases)} CRF cases")


if __name__ == "__main__":
    main()
