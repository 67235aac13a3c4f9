#!/usr/bin/python3
"""PyTorch peer for `npm run bench` (run by bench/run.ts with Debian's /usr/bin/python3).

Usage: torch_bench.py KIND INPUTS UNITS STEPS BATCH LAYERS REPEATS [MODE]
MODE: fused | unrolled | unrolled256 | both (default; unrolled only up to 1000 steps). bench/run.ts runs each
mode in its own process so that peak RSS belongs to one measurement.
Prints one JSON line: median seconds of forward+backward for
  fused:    torch.nn.LSTM/GRU/RNN (num_layers=LAYERS, batch_first) → Linear(1) on the last output, MSE;
  unrolled: the same network unrolled per step with nn.LSTMCell/GRUCell/RNNCell and retain_grad()
            on every h_t (the per-step taps rnnscope records), LAYERS stacked;
  unrolled256: `unrolled` over 256 samples in batches of BATCH (what `rnnscope analyze` computes on them:
            the gradient with every per-step tap of each sample);
and the process's peak RSS. float32, CPU, in-process timing after warm-up (see median_time).
"""
import json, os, resource, sys, time

# torch runs its intra-op threads (one per core) and, by default, OpenBLAS starts its own pool
# inside each of them: on 2 cores that oversubscribes and W's fused LSTM takes 0.40 s instead of
# 0.10 s. One OpenBLAS thread per torch thread is torch's fastest setting here (W and W-large).
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
import torch  # noqa: E402 (after the environment is set: OpenBLAS reads it when loaded)

kind, I, U, T, B, L, R = sys.argv[1], *map(int, sys.argv[2:8])
mode = sys.argv[8] if len(sys.argv) > 8 else 'both'
torch.set_num_threads(int(os.environ.get("BENCH_THREADS", os.cpu_count())))
torch.manual_seed(0)
x = torch.randn(B, T, I)
y = torch.randn(B, 1)
Mod = {'LSTM': torch.nn.LSTM, 'GRU': torch.nn.GRU, 'RNN': torch.nn.RNN}[kind]
Cell = {'LSTM': torch.nn.LSTMCell, 'GRU': torch.nn.GRUCell, 'RNN': torch.nn.RNNCell}[kind]
rnn = Mod(I, U, num_layers=L, batch_first=True)
head = torch.nn.Linear(U, 1)
cells = [Cell(I if l == 0 else U, U) for l in range(L)]
params = list(rnn.parameters()) + list(head.parameters())
cparams = [p for c in cells for p in c.parameters()] + list(head.parameters())


def fused():
    for p in params:
        p.grad = None
    out, _ = rnn(x)
    loss = torch.nn.functional.mse_loss(head(out[:, -1]), y)
    loss.backward()


def unrolled(x=x, y=y):
    for p in cparams:
        p.grad = None
    B = x.shape[0]
    seq = [x[:, t] for t in range(T)]
    taps = []
    for l, cell in enumerate(cells):
        h = torch.zeros(B, U)
        c = torch.zeros(B, U)
        outs = []
        for t in range(T):
            if kind == 'LSTM':
                h, c = cell(seq[t], (h, c))
            else:
                h = cell(seq[t], h)
            h.retain_grad()
            outs.append(h)
        taps.extend(outs)
        seq = outs
    loss = torch.nn.functional.mse_loss(head(seq[-1]), y)
    loss.backward()
    return [t.grad for t in taps]


N256 = 256
x256 = torch.randn(N256, T, I)
y256 = torch.randn(N256, 1)


def unrolled256():
    return [unrolled(x256[i:i + B], y256[i:i + B]) for i in range(0, N256, B)]


def median_time(f, name):
    # As bench/timing.ts: warm-up runs for WARM_S seconds (at least one), then REPEATS runs, fewer
    # (at least one) when they would exceed $BENCH_BUDGET_S seconds at the last warm-up's pace.
    start = time.perf_counter()
    runs = 0
    while True:
        t0 = time.perf_counter()
        f()
        last = time.perf_counter() - t0
        if runs == 0:
            res[name + '_first'] = last
        runs += 1
        if time.perf_counter() - start >= WARM_S:
            break
    res[name + '_warmup_runs'] = runs
    budget = float(os.environ.get("BENCH_BUDGET_S", "inf"))
    ts = []
    for _ in range(max(1, min(R, int(budget // last) if budget != float('inf') else R))):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    res[name + '_times'] = list(ts)
    ts.sort()
    n = len(ts)  # median; mean of the middle two for an even count
    return ts[n // 2] if n % 2 else (ts[n // 2 - 1] + ts[n // 2]) / 2


WARM_S = 5
res = {'torch': torch.__version__, 'threads': torch.get_num_threads()}
try:  # which BLAS libblas.so.3 resolves to (update-alternatives); OpenBLAS names its kernel core
    import ctypes
    _blas = ctypes.CDLL('libblas.so.3')
    _blas.openblas_get_corename.restype = ctypes.c_char_p
    res['blas'] = f"OpenBLAS {_blas.openblas_get_corename().decode()}, {_blas.openblas_get_num_threads()} BLAS thread(s) per torch thread"
except (OSError, AttributeError):
    res['blas'] = None
if mode in ('fused', 'both'):
    res['fused'] = median_time(fused, 'fused')
if mode == 'unrolled' or (mode == 'both' and T <= 1000):
    res['unrolled'] = median_time(unrolled, 'unrolled')
if mode == 'unrolled256':
    res['unrolled256'] = median_time(unrolled256, 'unrolled256')
ru = resource.getrusage(resource.RUSAGE_SELF)
res['maxrss_mb'] = ru.ru_maxrss / 1024
res['cpu_s'] = ru.ru_utime + ru.ru_stime
print(json.dumps(res))
