"""Checks of `python -m bench`'s report and probe that involve no timing verdict.

    pytest bench/test_report.py

The report is rendered from made-up cells with fixed times, so what is checked is the
wording and the layout: one speedup convention (other's time / fastreg's time), lines
within 120 columns, nothing cut short, and no PASS / MISS / issue words unless the
speed goals were asked for (--targets).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from bench import _probe, _report, _suite
from bench._suite import Case, ProbeCase


def _case(impl, op, label, ns, simd=None, probe=None, aligned=True):
    samples = [ns * f for f in (0.9, 1.0, 1.1)]
    kind = ProbeCase if impl == "probe" else Case
    c = kind(impl, op, label, {"_probe": probe}, label=label, simd=simd)
    if impl == "probe":
        c.aligned = aligned
    c.samples = c.samples_cpu = c.samples_wall = samples
    return c


def _cells():
    """Two cells: fastreg twice as fast as NumPy's best, SciPy twice as fast as fastreg."""
    cells = []
    for n in (16, 1 << 24):
        nbytes = 4 * n
        cases = [
            _case("probe", "read", "C streaming read, 64-byte loads, aligned", 0.5 * n, "avx512"),
            _case(
                "probe",
                "read",
                "C streaming read, 32-byte loads, unaligned",
                0.4 * n,
                "avx2",
                aligned=False,
            ),
        ]
        for op in _suite.OPS:
            cases += [
                _case("fastreg", op, f"fastreg {op}", 1.0 * n, simd="avx2"),
                _case("numpy", op, "a long NumPy idiom " + "x" * 60, 2.0 * n),
                _case("scipy", op, f"0.01*sasum(x) {op}", 0.5 * n),
            ]
        if n == 16:  # a name the report must not cut
            cases.append(_case("scipy", "sum_squares", "sdot(x, x)", 0.25 * n))
        cells.append(_report.Cell("float32", n, nbytes, 16, cases, "avx2"))
    return cells


def _render(targets: bool) -> list[str]:
    cells = _cells()
    out = _report.summary(cells) + _report.detail(cells)
    if targets:
        out += _report.targets(cells)[0]
    out += [_report.alignment(cells)]
    return _report.fit(out)


def test_speedup_convention_in_tables():
    text = "\n".join(_render(targets=False))
    # fastreg vs NumPy (2x slower than fastreg) and vs SciPy (2x faster): other / fastreg
    assert re.search(r"\b2\.00x\b", text)
    assert re.search(r"\b0\.50x\b", text)
    assert "0.01x" not in text
    assert "speedup = the other implementation's time / fastreg's time" in text
    # the old convention's column titles are gone
    assert "/numpy" not in text and "/peer" not in text


def test_speedup_convention_in_json():
    recs = _report.records(_cells(), {})
    fr = [r for r in recs if r["impl"] == "fastreg"]
    assert fr and all(r["speedup_vs_numpy"] == pytest.approx(2.0) for r in fr)
    assert all(r["speedup_vs_scipy"] == pytest.approx(0.5) for r in fr if r["op"] != "sum_squares")
    numpy = [r for r in recs if r["impl"] == "numpy"]
    assert all(r["fastreg_speedup"] == pytest.approx(2.0) for r in numpy)
    assert not any(k.startswith("ratio_") for r in recs for k in r)


def test_lines_fit_and_nothing_is_cut():
    for targets in (False, True):
        lines = _render(targets)
        assert max(len(line) for line in lines) <= _report.WIDTH
        assert not any("~" in line for line in lines)
    # the long NumPy label is printed whole (in the key legend)
    assert any("a long NumPy idiom " + "x" * 60 in line for line in _render(False))


def test_no_internal_words_without_targets():
    text = "\n".join(_render(targets=False))
    for word in ("PASS", "MISS", "issue", "target"):
        assert word not in text
    with_targets = "\n".join(_render(targets=True))
    assert "PASS" in with_targets or "MISS" in with_targets


def test_ceiling_is_fastest_probe():
    cell = _cells()[1]
    assert cell.probe().label.endswith("unaligned")
    assert cell.probe_width(cell.probe()) == "32B u"


def test_fit_wraps_header_lines():
    line = "cpu      : " + " ".join(["word"] * 60)
    out = _report.fit([line])
    assert len(out) > 1 and all(len(s) <= _report.WIDTH for s in out)
    assert all(s.startswith(" " * 11) for s in out[1:])
    assert " ".join(s.strip() for s in out) == line  # wrapped, nothing lost


def test_probe_builds_and_selects_a_level():
    probe, why = _probe.load()
    if probe is None:
        pytest.skip(f"no C compiler here: {why}")
    assert probe.best in _probe.LEVELS
    assert probe.levels[0] == probe.best  # widest first
    with open("/proc/cpuinfo") as f:
        flags = f.read()
    if " avx512f" in flags:
        assert probe.best == "avx512" and probe.load_bytes("avx512") == 64
    elif " avx2" in flags:
        assert probe.best == "avx2"
    desc = probe.describe()
    assert _probe.LEVEL_NAMES[probe.best] in desc and "aligned" in desc
    # a buffer of whole vectors: read from a 64-byte boundary, every variant sums each
    # word once; 16 bytes past it (NumPy's usual offset) the aligned variants wider than
    # 16 bytes re-read the head and the tail, the others still sum each word once
    buf = np.zeros(2048, dtype=np.uint64)
    start = (-buf.ctypes.data % 64) // 8
    for off in (start, start + 2):
        x = buf[off : off + 1024]
        x[:] = np.arange(1, 1025, dtype=np.uint64)
        for level, aligned in probe.variants():
            got = probe.read(x.ctypes.data, x.nbytes, 3, level, aligned)
            want = 3 * int(x.sum())
            if x.ctypes.data % probe.load_bytes(level) == 0 or not aligned:
                assert got == want, (off, level, aligned)
            else:
                assert got > want, (off, level, aligned)


def test_tensor_bench_runs_and_words_its_goal_only_with_targets(capsys):
    torch = pytest.importorskip("torch", reason="torch is not installed (bench.tensors needs it)")
    import fastreg
    from bench import tensors

    rows = tensors.measure(fastreg, torch, [16], rounds=1, reps=2)
    assert {r["op"] for r in rows} == set(tensors._cases(fastreg, torch, 16))
    assert all(r["tensor"] > 0 and r["numpy"] > 0 for r in rows)
    tensors.report(rows, targets=False)
    plain = capsys.readouterr().out
    assert "ratio" in plain and "PASS" not in plain and "MISS" not in plain
    tensors.report(rows, targets=True)
    assert re.search(r"<= 2\.0 (PASS|MISS)", capsys.readouterr().out)


def test_thread_bench_rows_and_goals(capsys):
    import fastreg
    from bench import threads

    prev = fastreg.get_num_threads()
    try:
        rows = threads.measure(fastreg, [1 << 20], [1, 2], "float32", rounds=1, budget=0.01)
    finally:
        fastreg.set_num_threads(prev)
    ops = [r["op"] for r in rows]
    for name in threads.TRAFFIC:
        if name != "read probe":
            assert name in ops and name + " +pause" in ops
    assert all(r["median"][1] > 0 and r["median"][2] > 0 for r in rows)
    threads.report(rows, [1, 2], "float32")
    out = capsys.readouterr().out
    assert "+pause" in out and "PASS" not in out
    lines = threads.goals(rows, [1, 2])
    # every op is checked for never slower, +pause rows included; only plain rows at 1M
    # carry the 1.7x goal
    assert sum("never slower" in line for line in lines) == len(rows)
    assert sum("2 threads vs 1" in line for line in lines) == len(rows) // 2
    assert not any("+pause" in line and "2 threads vs 1" in line for line in lines)


def test_group_calls_times_each_call_and_restores_threads(capsys):
    import fastreg
    from bench import group_calls

    prev = fastreg.get_num_threads()
    times = group_calls.call_times(2, calls=50, warm=5)
    assert fastreg.get_num_threads() == prev
    assert times.shape == (50,) and (times > 0).all()
    group_calls.main(["--calls", "30"])
    out = capsys.readouterr().out
    assert "1 thread(s): percentiles" in out and "calls per bin" in out
    assert fastreg.get_num_threads() == prev
