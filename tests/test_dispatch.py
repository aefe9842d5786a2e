"""SIMD level selection: FASTREG_SIMD at import, set_simd, simd_info.

FASTREG_SIMD is read once, when fastreg._core is imported, so it is tested
in fresh interpreters (subprocesses).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

import fastreg
from fastreg import _reference as ref
from fastreg.kernels import sum_abs

ALL_NAMES = ["scalar", "sse2", "avx2", "avx512", "neon"]
INFO = fastreg.simd_info()
AVAILABLE = [n for n in INFO["detected"] if n in INFO["compiled"]]
UNAVAILABLE = [n for n in ALL_NAMES if n not in AVAILABLE]

PROBE = (
    "import json, fastreg, numpy as np\n"
    "from fastreg.kernels import sum_abs\n"
    "x = np.linspace(-3, 5, 1001, dtype=np.float32)\n"
    "print(json.dumps({'info': fastreg.simd_info(), 'sum': sum_abs(x).hex()}))\n"
)


def run_probe(simd: str | None, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "FASTREG_SIMD"}
    if simd is not None:
        env["FASTREG_SIMD"] = simd
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("level", AVAILABLE)
def test_env_caps_level(level, tmp_path):
    proc = run_probe(level, tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["info"]["active"] == level
    x = np.linspace(-3, 5, 1001, dtype=np.float32)
    assert float.fromhex(out["sum"]) == ref.sum_abs(x)


def test_env_unset_or_empty_is_best(tmp_path):
    for value in (None, ""):
        proc = run_probe(value, tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["info"]["active"] == AVAILABLE[-1]


# "\udcff" is how os.environ shows the byte 0xff (not UTF-8): it must give the
# documented ValueError, not a UnicodeEncodeError
@pytest.mark.parametrize("name", ["avx3", "sse4", " avx2", "avx2 ", "auto", "\udcff"])
def test_env_unknown_name_fails_at_import(name, tmp_path):
    proc = run_probe(name, tmp_path)
    assert proc.returncode != 0
    err = proc.stderr
    assert "ValueError" in err and "FASTREG_SIMD" in err
    assert repr(name) in err, err  # names the bad value
    assert "scalar, sse2, avx2, avx512, neon" in err  # and the valid ones


# FASTREG_SIMD is a cap: a level this CPU or build lacks falls back to the best
# level below it. The documented order: each x86-64 level includes the ones
# before it, scalar is below every level, NEON is ARM's only level (so "neon"
# on x86-64, or "avx2" on ARM, gives scalar).
BELOW = {
    "scalar": [],
    "sse2": ["scalar"],
    "avx2": ["sse2", "scalar"],
    "avx512": ["avx2", "sse2", "scalar"],
    "neon": ["scalar"],
}


def expected_cap(name: str, usable: list[str]) -> str:
    return next(level for level in [name, *BELOW[name]] if level in usable)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_env_caps_to_best_level_at_or_below(name, tmp_path):
    # every machine lacks some level (x86-64 has no NEON, ARM no SSE2), so the
    # fallback runs everywhere; levels it has are used as they are, silently
    want = expected_cap(name, AVAILABLE)
    proc = run_probe(name.upper(), tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["info"]["active"] == want
    x = np.linspace(-3, 5, 1001, dtype=np.float32)
    assert float.fromhex(out["sum"]) == ref.sum_abs(x)
    if want == name:
        assert proc.stderr == ""
    else:
        assert proc.stderr.count("RuntimeWarning") == 1, proc.stderr
        assert f"cannot run {name!r}" in proc.stderr and f"using {want!r}" in proc.stderr


@pytest.mark.parametrize(
    "usable",
    [
        ["scalar", "sse2", "avx2"],  # an AVX2 machine
        ["scalar", "sse2"],
        ["scalar", "sse2", "avx512"],  # a build without avx2 kernels (gaps are skipped)
        ["scalar", "neon"],
        ["scalar"],
    ],
)
def test_env_cap_on_simulated_cpus(usable):
    from fastreg import _convert

    for name in ALL_NAMES:
        want = expected_cap(name, usable)
        for value in (name, name.upper()):
            if want == name:
                assert _convert.simd_from_env(value, usable) == want  # no warning (errors here)
            else:
                with pytest.warns(RuntimeWarning) as record:
                    assert _convert.simd_from_env(value, usable) == want
                assert len(record) == 1
                assert str(record[0].message) == (
                    f"FASTREG_SIMD={value!r}: this CPU and build cannot run {name!r} "
                    f"(they can run {', '.join(usable)}); using {want!r}, the best level below it"
                )
    assert _convert.simd_from_env("", usable) is None  # unset: the best level
    for bad in ("avx3", " avx2", "avx2\udcff"):
        with pytest.raises(ValueError, match="FASTREG_SIMD: unknown SIMD level"):
            _convert.simd_from_env(bad, usable)


def test_set_simd_returns_previous_and_switches():
    start = fastreg.simd_info()["active"]
    try:
        for level in AVAILABLE:
            previous = fastreg.simd_info()["active"]
            assert fastreg.set_simd(level) == previous
            assert fastreg.simd_info()["active"] == level
    finally:
        fastreg.set_simd(start)
    assert fastreg.simd_info()["active"] == start


def test_set_simd_errors_leave_level_unchanged():
    start = fastreg.simd_info()["active"]
    with pytest.raises(ValueError, match="unknown SIMD level 'avx3'"):
        fastreg.set_simd("avx3")
    for name in UNAVAILABLE:
        with pytest.raises(ValueError, match=f"'{name}' is not available"):
            fastreg.set_simd(name)
    for bad in (None, 2, b"avx2", ["avx2"]):
        with pytest.raises(TypeError, match="must be a str"):
            fastreg.set_simd(bad)
    assert fastreg.simd_info()["active"] == start


@pytest.mark.parametrize("bad", ["avx2\x00garbage", "scalar\x00", "\x00", "\ud800", "avx2\udcff"])
def test_set_simd_names_are_checked_whole(bad):
    # the C lookup stops at a NUL and cannot take a lone surrogate: neither
    # may select a level or escape as anything but the documented ValueError
    start = fastreg.simd_info()["active"]
    with pytest.raises(ValueError) as info:
        fastreg.set_simd(bad)
    assert str(info.value) == (
        f"unknown SIMD level {bad!r}; the levels are scalar, sse2, avx2, avx512, neon"
    )
    assert fastreg.simd_info()["active"] == start


def test_level_names_in_any_case(tmp_path):
    start = fastreg.simd_info()["active"]
    try:
        for level in AVAILABLE:
            for name in (level.upper(), level.capitalize()):
                fastreg.set_simd(name)
                assert fastreg.simd_info()["active"] == level
        assert fastreg.set_simd(start) == AVAILABLE[-1]  # the previous level, canonical
    finally:
        fastreg.set_simd(start)
    for name in ("SCALAR", "Scalar", AVAILABLE[-1].upper()):
        proc = run_probe(name, tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["info"]["active"] == name.lower()


def test_simd_info_structure():
    info = fastreg.simd_info()
    assert set(info) == {"detected", "compiled", "active"}
    for key in ("detected", "compiled"):
        names = info[key]
        assert isinstance(names, list) and all(isinstance(n, str) for n in names)
        assert names == [n for n in ALL_NAMES if n in names]  # canonical order, no repeats
        assert "scalar" in names
    assert isinstance(info["active"], str)
    assert info["active"] in info["detected"] and info["active"] in info["compiled"]
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        assert {"sse2", "avx2", "avx512"} <= set(info["compiled"])
        assert "sse2" in info["detected"] and "neon" not in info["compiled"]
    elif machine in ("aarch64", "arm64"):
        assert "neon" in info["detected"] and "neon" in info["compiled"]


def test_levels_give_same_bits_after_switching():
    x = np.random.default_rng(5).standard_normal(10_001).astype(np.float32)
    start = fastreg.simd_info()["active"]
    try:
        got = set()
        for level in AVAILABLE:
            fastreg.set_simd(level)
            got.add(sum_abs(x).hex())
    finally:
        fastreg.set_simd(start)
    assert got == {ref.sum_abs(x).hex()}
