"""Training benchmark (``python -m bench --training``): ParamGroup in a real loop.

Two parts, every timing the median of interleaved rounds, so that every
ratio compares runs made side by side on the same load:

* steps: 32 weights of 4,096 float32 and 1 weight of 16M float32, one
  ParamGroup call against the per-array fastreg calls and plain NumPy.
  fastreg runs with its default thread count (the cores this process may
  use): one call over a whole model is what lets a group use them, where
  32 calls on 4,096 elements each are too small to. Timed by the wall
  clock, since CPU time would bill a second thread's work as cost;
* mlp: single-threaded (fastreg, BLAS and torch at 1 thread) and timed in
  process CPU time, which leaves out the time other processes take:
  a 64-256-256-10 NumPy MLP (ReLU, softmax cross-entropy) on synthetic
  data, trained for a few epochs four ways: hand-written NumPy
  regularization, fastreg one call per weight, ``ParamGroup.sgd_step``, and
  torch (``weight_decay`` for the L2 term, the L1 term in the loss by hand).
  The NumPy and fastreg runs start from the same weights and see the same
  batches; their losses must agree to float32 tolerance and fall from the
  first epoch to the last, or the run prints WRONG.

The default ``python -m bench`` run ends with :func:`summary`, a small
configuration of both parts (no 16M weight, fewer samples), in the
report's speedup convention and without verdicts.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import fastreg
from bench.threads import per_call
from fastreg import L1L2, L2, ParamGroup
from fastreg._threads import default_num_threads

# LR: plain SGD on the MLP below, batch 128. 0.05 lowers the epoch loss
# (data + penalty) steadily: 3.97, 3.28, 2.94, 2.73 over 4 epochs, and the
# data loss alone from 2.23 to 0.58 over 8 epochs, every batch's loss
# below the first's; 0.1 still converges, 0.02 is about half as fast. The
# reported loss includes the penalty (about 1.7 at the start), which is why
# it starts above ln(10). mlp() checks that it falls.
L1F, L2F, LR = 1e-4, 1e-3, 0.05


def _race(variants: dict[str, Callable[[], Any]], reps: int, rounds: int) -> dict[str, float]:
    """Median wall seconds per call of each variant, rounds interleaved."""
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(rounds):
        for k, fn in variants.items():
            times[k].append(per_call(fn, reps))
    return {k: statistics.median(v) for k, v in times.items()}


# ---- steps -------------------------------------------------------------------


def _numpy_prox(ws: list[np.ndarray], gs: list[np.ndarray], lr: float) -> None:
    t, d = np.float32(lr * L1F), np.float32(1 + 2 * lr * L2F)
    for w, g in zip(ws, gs, strict=True):
        z = w - np.float32(lr) * g
        w[...] = np.sign(z) * np.maximum(np.abs(z) - t, 0) / d


def steps(
    quick: bool, big: int | None = 1 << 24, reps: tuple[int, int] | None = None
) -> list[tuple[str, float, float, str]]:
    """(goal label, measured ratio, goal ratio, detail) rows.

    ``big``: the elements of the one-weight row (None: no such row);
    ``reps``: (calls per timing, rounds), else the quick or full default.
    fastreg runs with its default thread count, and the detail says it.
    """
    threads = default_num_threads()
    prev = fastreg.set_num_threads(threads)
    try:
        rows = _steps(quick, big, reps)
    finally:
        fastreg.set_num_threads(prev)
    return [(label, r, goal, f"{detail}, {threads} thr") for label, r, goal, detail in rows]


def step_arrays(rng: np.random.Generator) -> tuple[L1L2, list[np.ndarray], list[np.ndarray]]:
    """The step rows' regularizer and 32 weights and gradients of 4096 float32,
    drawn from rng (bench.group_calls times the same)."""
    ws = [rng.standard_normal(4096).astype(np.float32) for _ in range(32)]
    gs = [rng.standard_normal(4096).astype(np.float32) for _ in range(32)]
    return L1L2(L1F, L2F), ws, gs


def _steps(
    quick: bool, big: int | None, reps: tuple[int, int] | None
) -> list[tuple[str, float, float, str]]:
    rng = np.random.default_rng(1)
    reg, ws, gs = step_arrays(rng)
    group = ParamGroup(ws, reg)
    lr = 1e-6  # the weights barely move over thousands of repetitions

    def loop_acc() -> None:
        for w, g in zip(ws, gs, strict=True):
            reg.value_and_gradient(w, out=g, accumulate=True)

    def loop_sgd() -> None:
        for w, g in zip(ws, gs, strict=True):
            reg.value_and_gradient(w, out=g, accumulate=True)
            w -= lr * g

    reps, rounds = reps or ((100, 5) if quick else (300, 9))
    t = _race(
        {
            "group_add": lambda: group.add_gradients(gs),
            "loop_add": loop_acc,
            "group_sgd": lambda: group.sgd_step(gs, lr),
            "loop_sgd": loop_sgd,
            "group_prox": lambda: group.prox_step(gs, lr),
            "numpy_prox": lambda: _numpy_prox(ws, gs, lr),
        },
        reps,
        rounds,
    )
    rows = [
        ("32 x 4096 f32 add_gradients / loop of value_and_gradient(acc)", "group_add", "loop_add"),
        ("32 x 4096 f32 sgd_step / per-array gradient + NumPy update", "group_sgd", "loop_sgd"),
        ("32 x 4096 f32 prox_step / hand-written NumPy proximal SGD", "group_prox", "numpy_prox"),
    ]
    goals = {"group_add": 0.4, "group_sgd": 0.35, "group_prox": 0.1}
    out = [
        (label, t[a] / t[b], goals[a], f"{t[a] * 1e6:.1f} us vs {t[b] * 1e6:.1f} us")
        for label, a, b in rows
    ]

    if big is None:
        return out
    n = big
    w = rng.standard_normal(n).astype(np.float32)
    g = rng.standard_normal(n).astype(np.float32)
    tmp = np.empty_like(w)
    l2 = L2(L2F)
    big = ParamGroup([w], l2)
    b = np.float32(2 * float(l2.l2))

    def two_pass() -> None:  # g += 2*l2*w; w -= lr*g, without temporaries
        np.multiply(w, b, out=tmp)
        np.add(g, tmp, out=g)
        np.multiply(g, np.float32(lr), out=tmp)
        np.subtract(w, tmp, out=w)

    t = _race({"group": lambda: big.sgd_step([g], lr), "numpy": two_pass}, 2, 3 if quick else 7)
    size = f"{n >> 20}M" if n >= 1 << 20 else f"{n >> 10}K" if n >= 1 << 10 else str(n)
    out.append(
        (
            f"1 x {size} f32 sgd_step / best two-pass NumPy",
            t["group"] / t["numpy"],
            0.4,
            f"{t['group'] * 1e3:.1f} ms vs {t['numpy'] * 1e3:.1f} ms",
        )
    )
    return out


# ---- the MLP -----------------------------------------------------------------


def _data(n: int = 4096, d: int = 64, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    # n: a multiple of the batch size (every batch is full)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((n, d)).astype(np.float32)
    true = rng.standard_normal((d, k)).astype(np.float32)
    return x, np.argmax(x @ true + 0.5 * rng.standard_normal((n, k)), axis=1)


def _init(sizes: tuple[int, ...] = (64, 256, 256, 10)) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        params.append((rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(np.float32))
        params.append(np.zeros(b, dtype=np.float32))
    return params


def _forward_backward(p: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> tuple[float, list]:
    """Data loss (mean cross-entropy) and its gradients, in float32."""
    acts = [x]
    h = x
    for i in range(0, len(p), 2):
        z = h @ p[i] + p[i + 1]
        h = np.maximum(z, 0) if i + 2 < len(p) else z
        acts.append(h)
    z = h - h.max(axis=1, keepdims=True)
    e = np.exp(z)
    prob = e / e.sum(axis=1, keepdims=True)
    loss = float(-np.mean(np.log(prob[np.arange(len(y)), y])))
    d = prob
    d[np.arange(len(y)), y] -= 1
    d /= np.float32(len(y))
    grads: list[np.ndarray] = [np.empty(0)] * len(p)
    for i in range(len(p) - 2, -1, -2):
        a = acts[i // 2]
        grads[i] = a.T @ d
        grads[i + 1] = d.sum(axis=0)
        if i:
            d = (d @ p[i].T) * (a > 0)
    return loss, grads


def _train(
    mode: str, epochs: int, batch: int = 128, samples: int = 4096
) -> tuple[list[float], float, float]:
    """(loss per epoch, seconds per epoch, seconds of regularization+update per epoch)."""
    x, y = _data(samples)
    p = _init()
    reg = L1L2(L1F, L2F)
    kernels = p[0::2]
    group = ParamGroup(p, [reg if i % 2 == 0 else None for i in range(len(p))])
    l1, l2 = np.float32(reg.l1), np.float32(reg.l2)
    losses, t_epoch, t_reg = [], 0.0, 0.0
    for _ in range(epochs):
        total, t0 = 0.0, time.process_time()
        for s in range(0, len(x), batch):
            loss, grads = _forward_backward(p, x[s : s + batch], y[s : s + batch])
            r0 = time.process_time()
            if mode == "numpy":
                pen = 0.0
                for w in kernels:
                    pen += float(l1 * np.sum(np.abs(w)) + l2 * np.sum(np.square(w)))
                for i, w in enumerate(p):
                    g = grads[i]
                    if i % 2 == 0:
                        g += l1 * np.sign(w) + np.float32(2) * l2 * w
                    w -= np.float32(LR) * g
            elif mode == "per-array":
                pen = 0.0
                for i, w in enumerate(p):
                    if i % 2 == 0:
                        pen += float(reg.value_and_gradient(w, out=grads[i], accumulate=True)[0])
                    w -= LR * grads[i]
            else:
                pen = group.sgd_step(grads, LR)
            t_reg += time.process_time() - r0
            total += loss + pen
        t_epoch += time.process_time() - t0
        losses.append(total / (len(x) // batch))
    return losses, t_epoch / epochs, t_reg / epochs


def _train_torch(
    epochs: int, batch: int = 128, samples: int = 4096
) -> tuple[list[float], float] | str:
    try:
        import torch
    except ImportError:
        return "torch is not installed (pip install torch): framework reference skipped"
    torch.set_num_threads(1)
    x, y = _data(samples)
    p = [torch.tensor(a, requires_grad=True) for a in _init()]
    xt, yt = torch.tensor(x), torch.tensor(y)
    kern, bias = p[0::2], p[1::2]
    opt = torch.optim.SGD(
        [{"params": kern, "weight_decay": 2 * L2F}, {"params": bias, "weight_decay": 0.0}], lr=LR
    )
    losses, t_epoch = [], 0.0
    for _ in range(epochs):
        total, t0 = 0.0, time.process_time()
        for s in range(0, len(x), batch):
            h = xt[s : s + batch]
            for i in range(0, len(p), 2):
                h = h @ p[i] + p[i + 1]
                if i + 2 < len(p):
                    h = torch.relu(h)
            loss = torch.nn.functional.cross_entropy(h, yt[s : s + batch])
            l1 = L1F * sum(k.abs().sum() for k in kern)
            opt.zero_grad()
            (loss + l1).backward()
            opt.step()
            with torch.no_grad():
                total += float(loss) + float(l1) + L2F * float(sum((k * k).sum() for k in kern))
        t_epoch += time.process_time() - t0
        losses.append(total / (len(x) // batch))
    return losses, t_epoch / epochs


def mlp(
    quick: bool, samples: int = 4096, epochs: int | None = None, torch: bool = True
) -> tuple[list[str], tuple[str, float, float, str], bool]:
    """(report lines, the speedup goal row, whether the losses agree and fall)."""
    epochs = epochs or (2 if quick else 4)
    runs = {m: _train(m, epochs, samples=samples) for m in ("numpy", "per-array", "group")}
    title = f"MLP 64-256-256-10, {samples} samples, batch 128"
    lines = [f"{title:<46} {'epoch':>9} {'reg+update':>11}  loss, epoch 1 -> {epochs}"]
    for m, (losses, te, tr) in runs.items():
        lines.append(
            f"  {m:<44} {te * 1e3:>7.1f} ms {tr * 1e3:>8.2f} ms  "
            f"{losses[0]:.6f} -> {losses[-1]:.6f}"
        )
    torch_run = _train_torch(epochs, samples=samples) if torch else "not run here"
    if isinstance(torch_run, str):
        lines.append(f"  torch (1 thread): {torch_run}")
    else:
        lines.append(
            f"  {'torch (1 thread, SGD weight_decay + L1 by hand)':<44} "
            f"{torch_run[1] * 1e3:>7.1f} ms {'':>11}  "
            f"{torch_run[0][0]:.6f} -> {torch_run[0][-1]:.6f}"
        )
    ref = np.array(runs["numpy"][0])
    ok = True
    for m in ("per-array", "group"):
        if not np.allclose(runs[m][0], ref, rtol=1e-4, atol=1e-6):
            lines.append(f"  WRONG: {m} losses {runs[m][0]} differ from NumPy's {list(ref)}")
            ok = False
    if epochs > 1 and not ref[-1] < ref[0]:
        lines.append(
            f"  WRONG: the loss did not fall ({list(ref)}): is the learning rate too high?"
        )
        ok = False
    speed = runs["numpy"][2] / runs["group"][2]
    goal = (
        "MLP epoch reg+update: NumPy / ParamGroup (speedup)",
        speed,
        5.0,
        f"{runs['numpy'][2] * 1e3:.2f} ms vs {runs['group'][2] * 1e3:.2f} ms",
    )
    return lines, goal, ok


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """fastreg and the BLAS pools at one thread, restored afterwards."""
    prev = fastreg.set_num_threads(1)
    limiter = None
    try:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(1)
    except ImportError:
        pass
    try:
        yield
    finally:
        fastreg.set_num_threads(prev)
        if limiter is not None:
            limiter.unregister()


def summary() -> tuple[list[str], bool]:
    """The default run's training section: a small MLP and the 32-weight steps.

    Speedups as in the rest of that report (the other's time / ParamGroup's),
    no verdicts; ``python -m bench --training --targets`` has the goals. The
    bool is False when the MLP's losses disagree or do not fall (a WRONG
    line says so).
    """
    with _one_thread():
        lines, goal, ok = mlp(True, samples=1024, epochs=2, torch=False)
        rows = steps(True, big=None, reps=(30, 3))
    out = [
        "",
        "training (ParamGroup; MLP: 1 thread; steps: default threads, wall clock;"
        " full run: python -m bench --training)",
        lines[0],
    ]
    out += [line for line in lines[1:] if "torch" not in line]
    out.append(f"  speedup of reg+update, NumPy / ParamGroup: {goal[1]:.1f}x ({goal[3]})")
    for label, ratio, _, detail in rows:
        step, other = label.split(" / ")
        out.append(f"  {step}: {1 / ratio:.2f}x the speed of a {other} ({detail})")
    return out, ok


def main(quick: bool = False, targets: bool = True) -> int:
    from bench._header import cpu as cpu_name

    with _one_thread():
        print(
            f"# fastreg training benchmark; {cpu_name()}; simd {fastreg.simd_info()['active']}; "
            "MLP at 1 thread in process CPU time, steps on fastreg's default threads in wall time; "
            "medians of interleaved rounds",
            flush=True,
        )
        lines, goal, ok = mlp(quick)
        print("\n".join(lines), flush=True)
        rows = steps(quick)
        print(
            "\n## goals: ratio = ParamGroup time / other time (lower is better), "
            "except the MLP speedup"
        )
        for label, val, need, detail in rows:
            res = "PASS" if val <= need else "MISS"
            print(f"{label:<66} {val:>6.3f}x  <= {need:<5}  {res if targets else ''}  ({detail})")
        label, val, need, detail = goal
        res = "PASS" if val >= need else "MISS"
        print(f"{label:<66} {val:>6.1f}x  >= {need:<5}  {res if targets else ''}  ({detail})")
        return 0 if ok else 1
