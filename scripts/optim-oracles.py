"""Reference trajectories for test/optim.test.ts.

SGD (plain, momentum, nesterov) is run with torch.optim.SGD, whose update is algebraically the Keras 3 rule
(Keras m = -lr * torch buf). Adam/AdamW/RMSprop/Adagrad differ from torch in where epsilon goes, so they are
transcribed here in numpy from keras/src/optimizers/{adam,rmsprop,adagrad}.py and base_optimizer.py
(clipping, then decoupled weight decay, then update_step with t = iterations + 1).
Run: /usr/bin/python3 scripts/optim-oracles.py   (float64)
"""
import math
import numpy as np
import torch

W0 = [np.array([0.5, -0.3, 0.8, 0.1]), np.array([-1.2, 0.7, 0.05])]
C = [np.array([0.1, 0.2, -0.4, 0.3]), np.array([0.5, -0.5, 0.0])]
STEPS = 5


def grads(ws, t):
    # g[j] = 3 (w[j] - c[j]) + 0.3 cos(t + j + 10 k), k = variable index
    return [3 * (w - c) + 0.3 * np.cos(t + np.arange(len(w)) + 10 * k) for k, (w, c) in enumerate(zip(ws, C))]


def clip(gs, clipnorm=None, clipvalue=None, global_clipnorm=None):
    if clipnorm:
        return [g * clipnorm / max(math.sqrt((g * g).sum()), clipnorm) for g in gs]
    if global_clipnorm:
        n = math.sqrt(sum((g * g).sum() for g in gs))
        return [g * global_clipnorm * min(1 / n, 1 / global_clipnorm) for g in gs]
    if clipvalue:
        return [np.clip(g, -clipvalue, clipvalue) for g in gs]
    return gs


def run_keras(update, state_init, lr, wd=None, **clipargs):
    ws = [w.copy() for w in W0]
    st = [state_init(w) for w in ws]
    for t in range(STEPS):
        gs = clip(grads(ws, t), **clipargs)
        if wd is not None:
            ws = [w - w * wd * lr for w in ws]
        for k in range(len(ws)):
            ws[k] = update(ws[k], gs[k], st[k], t + 1)
    return ws


def adam(lr=0.001, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False):
    def upd(w, g, s, t):
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        s['m'] += (g - s['m']) * (1 - b1)
        s['v'] += (g * g - s['v']) * (1 - b2)
        v = s['v']
        if amsgrad:
            s['vh'] = np.maximum(s['vh'], s['v'])
            v = s['vh']
        return w - s['m'] * alpha / (np.sqrt(v) + eps)
    return upd, lambda w: {'m': np.zeros_like(w), 'v': np.zeros_like(w), 'vh': np.zeros_like(w)}


def rmsprop(lr=0.001, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    def upd(w, g, s, t):
        s['v'] = rho * s['v'] + (1 - rho) * g * g
        if centered:
            s['a'] = rho * s['a'] + (1 - rho) * g
            den = s['v'] - s['a'] ** 2 + eps
        else:
            den = s['v'] + eps
        inc = lr * g / np.sqrt(den)
        if momentum > 0:
            s['m'] = momentum * s['m'] + inc
            return w - s['m']
        return w - inc
    return upd, lambda w: {'v': np.zeros_like(w), 'a': np.zeros_like(w), 'm': np.zeros_like(w)}


def adagrad(lr=0.001, init=0.1, eps=1e-7):
    def upd(w, g, s, t):
        s['acc'] += g * g
        return w - lr * g / np.sqrt(s['acc'] + eps)
    return upd, lambda w: {'acc': np.full_like(w, init)}


def torch_sgd(lr, momentum=0.0, nesterov=False):
    ps = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in W0]
    opt = torch.optim.SGD(ps, lr=lr, momentum=momentum, nesterov=nesterov)
    for t in range(STEPS):
        gs = grads([p.detach().numpy() for p in ps], t)
        for p, g in zip(ps, gs):
            p.grad = torch.tensor(g)
        opt.step()
    return [p.detach().numpy() for p in ps]


def show(name, ws):
    print(f"  '{name}': [{', '.join(repr(float(x)) for w in ws for x in w)}],")


show('sgd', torch_sgd(0.01))
show('sgd_momentum', torch_sgd(0.05, momentum=0.9))
show('sgd_nesterov', torch_sgd(0.05, momentum=0.9, nesterov=True))
show('adam', run_keras(*adam(lr=0.01), lr=0.01))
show('adam_lr0.3', run_keras(*adam(lr=0.3), lr=0.3))
show('adam_amsgrad_lr0.3', run_keras(*adam(lr=0.3, amsgrad=True), lr=0.3))
show('adamw', run_keras(*adam(lr=0.01), lr=0.01, wd=0.004))
show('adam_clipnorm', run_keras(*adam(lr=0.01), lr=0.01, clipnorm=0.5))
show('adam_clipvalue', run_keras(*adam(lr=0.01), lr=0.01, clipvalue=0.4))
show('adam_global_clipnorm', run_keras(*adam(lr=0.01), lr=0.01, global_clipnorm=1.0))
show('rmsprop', run_keras(*rmsprop(lr=0.01), lr=0.01))
show('rmsprop_centered_momentum', run_keras(*rmsprop(lr=0.01, momentum=0.5, centered=True), lr=0.01))
show('adagrad', run_keras(*adagrad(lr=0.1), lr=0.1))
show('adagrad_wd', run_keras(*adagrad(lr=0.1), lr=0.1, wd=0.01))
print('torch', torch.__version__, 'numpy', np.__version__)
