"""Reference values for test/losses.test.ts, from PyTorch built-ins (not from rnnscope's formulas).

Run: /usr/bin/python3 scripts/loss-oracles.py   (torch 1.13, float64)
Each line: case name, loss (mean over rows, Keras sum_over_batch_size), gradient dL/dy_pred (flattened).
"""
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

REG_P = [[0.5, -1.2, 2.0], [0.1, 0.7, -0.3]]
REG_T = [[0.4, -1.0, 0.5], [0.3, 0.71, 1.5]]
PROB_P = [[0.2, 0.5, 0.3], [0.7, 0.1, 0.2]]
PROB_T = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
SOFT_T = [[0.1, 0.6, 0.3], [0.5, 0.25, 0.25]]
LOGITS = [[1.5, -0.3, 0.2], [-2.0, 0.4, 3.1]]
IDS = [1, 0]


def report(name, fn, p):
    x = torch.tensor(p, requires_grad=True)
    loss = fn(x)
    loss.backward()
    vals = ', '.join(repr(v) for v in x.grad.flatten().tolist())
    print(f"  '{name}': [{repr(loss.item())}, [{vals}]],")


t = torch.tensor
rows = lambda per_elem: per_elem.mean()  # mean over C then over rows == overall mean (equal C)
report('mse', lambda x: F.mse_loss(x, t(REG_T)), REG_P)
report('mae', lambda x: F.l1_loss(x, t(REG_T)), REG_P)
report('huber', lambda x: F.huber_loss(x, t(REG_T), delta=1.0), REG_P)
report('log_cosh', lambda x: torch.log(torch.cosh(x - t(REG_T))).mean(), REG_P)
report('mape', lambda x: (100 * (x - t(REG_T)).abs() / t(REG_T).abs()).mean(), REG_P)
report('msle', lambda x: ((torch.log1p(x.clamp(min=1e-7)) - torch.log1p(t(REG_T).clamp(min=1e-7))) ** 2).mean(), [[0.5, 1.2, 2.0], [0.1, 0.7, 0.3]])
report('cosine_similarity', lambda x: -F.cosine_similarity(x, t(REG_T), dim=-1).mean(), REG_P)
report('binary_crossentropy', lambda x: F.binary_cross_entropy(x, t(SOFT_T)), PROB_P)
report('binary_crossentropy_ls0.2', lambda x: F.binary_cross_entropy(x, t(SOFT_T) * 0.8 + 0.1), PROB_P)
# tf.keras (tf_keras/backend.py binary_crossentropy): clip, then eps added again inside both logs.
report('binary_crossentropy_tfkeras', lambda x: -(t(SOFT_T) * torch.log(x.clamp(1e-7, 1 - 1e-7) + 1e-7) + (1 - t(SOFT_T)) * torch.log(1 - x.clamp(1e-7, 1 - 1e-7) + 1e-7)).mean(), PROB_P)
report('binary_crossentropy_logits', lambda x: F.binary_cross_entropy_with_logits(x, t(SOFT_T)), LOGITS)
report('categorical_crossentropy', lambda x: F.nll_loss(torch.log(x / x.sum(-1, keepdim=True)), t(IDS)), PROB_P)
report('categorical_crossentropy_soft', lambda x: -(t(SOFT_T) * torch.log(x / x.sum(-1, keepdim=True))).sum(-1).mean(), PROB_P)
report('categorical_crossentropy_logits', lambda x: F.cross_entropy(x, t(SOFT_T)), LOGITS)
report('categorical_crossentropy_logits_ls0.1', lambda x: F.cross_entropy(x, t(IDS), label_smoothing=0.1), LOGITS)
# TF backends: sparse_softmax_cross_entropy_with_logits(log p) — no renormalisation before the log.
report('sparse_categorical_crossentropy', lambda x: F.cross_entropy(torch.log(x), t(IDS)), PROB_P)
# Rows not summing to 1 tell the TF form from TF.js's (clip, one-hot, normalise, clip, log).
PROB_U = [[0.2, 0.5, 0.2], [0.6, 0.1, 0.2]]
report('sparse_unnormalised_tf', lambda x: F.cross_entropy(torch.log(x), t(IDS)), PROB_U)
report('sparse_unnormalised_tfjs', lambda x: F.nll_loss(torch.log(x / x.sum(-1, keepdim=True)), t(IDS)), PROB_U)
report('sparse_categorical_crossentropy_logits', lambda x: F.cross_entropy(x, t(IDS)), LOGITS)
report('kl_divergence', lambda x: F.kl_div(torch.log(x), t(SOFT_T), reduction='sum') / 2, PROB_P)
report('poisson', lambda x: F.poisson_nll_loss(x, t(SOFT_T), log_input=False, eps=1e-7), PROB_P)
# hinge family: torch has no Keras hinge; written out with torch ops on ±1 labels.
HT = [[-1.0, 1.0, 1.0], [1.0, -1.0, -1.0]]
report('hinge', lambda x: torch.clamp(1 - t(HT) * x, min=0).mean(), LOGITS)
report('squared_hinge', lambda x: (torch.clamp(1 - t(HT) * x, min=0) ** 2).mean(), LOGITS)
report('categorical_hinge', lambda x: torch.clamp(((1 - t(PROB_T)) * x).max(-1).values - (t(PROB_T) * x).sum(-1) + 1, min=0).mean(), LOGITS)

# Masked sequence output (B=2, T=3, C=2), mask [[1,1,0],[1,0,0]]: mean over the 3 valid (b,t) rows.
SEQ_P = [[[0.3, -0.2], [1.1, 0.4], [9.0, 9.0]], [[-0.5, 0.8], [7.0, -7.0], [5.0, 5.0]]]
SEQ_T = [[[0.0, 0.1], [1.0, 0.0], [0.0, 0.0]], [[0.5, 0.5], [0.0, 0.0], [0.0, 0.0]]]
M = t([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
report('masked_mse', lambda x: (((x - t(SEQ_T)) ** 2).mean(-1) * M).sum() / M.sum(), SEQ_P)
SEQ_IDS = [[1, 0, 0], [0, 1, 1]]
report('masked_sparse_logits', lambda x: (F.cross_entropy(x.permute(0, 2, 1), t(SEQ_IDS), reduction='none') * M).sum() / M.sum(), SEQ_P)
print('torch', torch.__version__)
