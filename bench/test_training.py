"""Smoke tests of bench/training.py (``python -m bench --training``), no timing verdicts.

    pytest bench/test_training.py

Tiny configurations of both parts: the report's shape, and that the NumPy,
per-array and ParamGroup training runs give the same losses, which fall.
"""

from __future__ import annotations

import math

import numpy as np

from bench import __main__ as bench_main
from bench import training


def test_mlp_losses_agree_and_fall() -> None:
    lines, goal, ok = training.mlp(True, samples=256, epochs=2, torch=False)
    assert ok, "\n".join(lines)
    assert not any("WRONG" in line for line in lines)
    assert lines[0].startswith("MLP 64-256-256-10, 256 samples")
    rows = {line.split()[0]: line for line in lines[1:4]}
    assert list(rows) == ["numpy", "per-array", "group"]
    losses = {m: [float(v) for v in line.split()[-3::2]] for m, line in rows.items()}
    for m in ("per-array", "group"):  # same weights, same batches: float32 tolerance
        assert np.allclose(losses[m], losses["numpy"], rtol=1e-4, atol=1e-6), (m, losses)
    first, last = losses["numpy"]
    assert last < first
    label, speedup, need, detail = goal
    assert "ParamGroup" in label and need == 5.0 and speedup > 0 and " ms vs " in detail


def test_the_runs_are_the_same_training() -> None:
    runs = {m: training._train(m, 2, samples=256)[0] for m in ("numpy", "per-array", "group")}
    assert all(math.isfinite(v) for v in runs["numpy"])
    assert np.allclose(runs["group"], runs["numpy"], rtol=1e-4, atol=1e-6)
    assert runs["group"] == runs["per-array"]  # the same fastreg arithmetic


def test_steps_rows() -> None:
    rows = training.steps(True, big=1 << 12, reps=(2, 1))
    assert len(rows) == 4
    for label, ratio, need, detail in rows:
        assert " / " in label and math.isfinite(ratio) and ratio > 0
        assert 0 < need < 1 and " vs " in detail
    assert rows[-1][0].startswith("1 x 4K f32 sgd_step")
    assert len(training.steps(True, big=None, reps=(1, 1))) == 3


def test_summary_is_short_and_without_verdicts() -> None:
    lines, ok = training.summary()
    assert ok, "\n".join(lines)
    assert lines[0] == "" and lines[1].startswith("training (ParamGroup")
    assert len(lines) <= 12
    assert all(len(line) <= 120 for line in lines)
    text = "\n".join(lines)
    for word in ("PASS", "MISS", "WRONG", "torch"):
        assert word not in text
    assert sum("x the speed of" in line for line in lines) == 3


def test_default_run_has_the_summary_unless_told() -> None:
    assert not bench_main.parse_args([]).no_training
    args = bench_main.parse_args(["--no-training"])
    assert bench_main._training_summary(args) == ([], True)
    args = bench_main.parse_args(["--impls", "numpy"])
    assert bench_main._training_summary(args) == ([], True)
