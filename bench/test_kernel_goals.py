"""Smoke tests of the issue-13 bench code (numba loops, goal table, widening probe), no
timing verdicts:

    pytest bench/test_kernel_goals.py

The numba tests skip (with the reason) when numba is not installed; the widening probe
tests skip without a C compiler or a CPU with AVX2 / AVX-512F.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from bench import _numba, _widen, kernel_goals
from bench._report import WIDTH, fit
from bench._suite import Case


def _numba_or_skip():
    kernels, why = _numba.load()
    if kernels is None:
        pytest.skip(why)
    return kernels


def test_numba_loops_compute_the_ops():
    kernels = _numba_or_skip()
    rng = np.random.default_rng(5)
    x = rng.standard_normal(5000).astype(np.float32)
    x64 = x.astype(np.float64)
    want = 0.01 * np.abs(x64).sum() + 0.02 * np.dot(x64, x64)
    for v in _numba.VARIANTS:
        k = kernels[v]
        assert k["l1l2"](x, 0.01, 0.02) == pytest.approx(want, rel=1e-12)
        g = np.ones_like(x)
        assert k["vag"](x, g, 0.01, 0.02) == pytest.approx(want, rel=1e-12)
        np.testing.assert_allclose(g, 1 + 0.01 * np.sign(x) + 0.04 * x, rtol=1e-5, atol=1e-6)
        t, d = 0.005, 1.01
        out = np.empty_like(x64)
        k["prox"](x64, out, t, d)
        ref = np.sign(x64) * np.maximum(np.abs(x64) - t, 0) / d
        np.testing.assert_allclose(out, ref, rtol=1e-15, atol=0)
        if v == "fastmath=False":  # the division itself: the bits of the formula
            np.testing.assert_array_equal(out, ref)


def test_numba_missing_is_reported(monkeypatch):
    monkeypatch.setattr(_numba, "_cache", {})
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba -> ImportError
    kernels, why = _numba.load()
    assert kernels is None and why.startswith("numba not installed")


def _fake_cells(with_numba: bool) -> dict:
    """Cells with fixed per-round times: fastreg at avx512 twice as fast as everything."""
    cells = {}
    for dtype, n in kernel_goals.cells_wanted((4096, 1 << 20, 1 << 24)):
        cases = []
        for lv in kernel_goals.LEVELS:
            for op, stmt in kernel_goals.LEVEL_CASES:
                c = Case("fastreg", op, stmt, {}, simd=lv)
                c.samples = [1.0 if lv == "avx512" else 2.0] * 5
                cases.append(c)
        if with_numba:
            for op, dt, lo, hi, stmt in kernel_goals.NUMBA_CASES:
                if dt == dtype and lo <= n <= hi:
                    for v in _numba.VARIANTS:
                        c = Case("numba", op, stmt.format(v=v), {}, label=v)
                        c.samples = [2.0 if v.endswith("True") else 8.0] * 5
                        cases.append(c)
        cells[(dtype, n)] = cases
    return cells


def test_goal_table_renders():
    lines, rows = kernel_goals.goals(_fake_cells(True), list(kernel_goals.LEVELS), "numba 0.0")
    lines = fit(lines)
    text = "\n".join(lines)
    assert max(len(line) for line in lines) <= WIDTH
    assert "PASS" in text and "speedup = other's time / fastreg's time" in text
    numba_rows = [r for r in rows if "numba" in r["target"]]
    assert numba_rows and all(r["measured"] == pytest.approx(2.0) for r in numba_rows)
    level_rows = [r for r in rows if "avx512 vs avx2" in r["target"]]
    assert len(level_rows) == len(kernel_goals.LEVEL_CASES) * 6  # 2 dtypes x 3 sizes
    assert all(r["measured"] == pytest.approx(2.0) for r in level_rows)


def test_goal_table_without_numba_says_why():
    why = "numba not installed (pip install '.[numba]')"
    lines, rows = kernel_goals.goals(_fake_cells(False), list(kernel_goals.LEVELS), why)
    lines = fit(lines)
    text = "\n".join(lines)
    assert why in text
    assert any(r["result"] == "n/a" and "numba" in r["target"] for r in rows)
    assert max(len(line) for line in lines) <= WIDTH


def _widen_or_skip():
    w, why = _widen.load()
    if w is None:
        pytest.skip(f"widening probe unavailable: {why}")
    if not w.levels:
        pytest.skip("this CPU has neither AVX2 nor AVX-512F")
    return w


def test_widening_paths_are_exact():
    import fastreg

    w = _widen_or_skip()
    ok, bad = _widen.exact(w, fastreg)
    assert ok, bad
    # the unchecked integer path is wrong exactly where the check matters (inf, NaN),
    # and the checked one redid just the blocks holding them (inf in the first of the
    # two blocks, NaN in the second)
    x = _widen.check_data(4096)[1]
    for level in w.levels:
        assert w.run(level, 1, 3, x)[2] == 2
        assert w.run(level, 1, 3, x[:2048])[2] == 1
        a, s, _ = w.run(level, 2, 3, x)
        assert np.isfinite(a) and np.isfinite(s)


def test_widening_report_layout():
    w = _widen_or_skip()
    del w
    lines = _widen.report(cpu="test cpu", rounds=1)
    assert any(line.startswith("exact    : every exact variant") for line in lines)
    body = [line for line in lines if line.startswith(("sum |x|", "|x| + x^2"))]
    assert body and all(len(line) <= WIDTH for line in body)
    assert not any("PASS" in line or "MISS" in line for line in lines)
