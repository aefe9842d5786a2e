"""Shared pytest fixtures.

``simd_level`` runs a test once per SIMD level this machine can execute
(SimSIMD's pattern): every level in ``simd_info()["detected"]`` that is also
``"compiled"``, forced with ``fastreg.set_simd`` and restored afterwards.
Levels the CPU lacks are not faked: AVX-512 on a machine without it is
tested through ``tools/avx512_emu.sh`` and NEON on x86 through
``tools/neon_qemu.sh`` (both wired into ``tests/test_kernels.py``).

When ``FASTREG_SIMD`` is set (``tools/test_isa.sh`` runs the whole suite
once per level that way) the fixture keeps to that one level, so the
per-level runs do not repeat each other.

Every test also gets the global custom-object registry back as it found it
(``_isolated_registry``): a test that registers ``"Custom>l1"`` must not
change what another module's registration of that name resolves to, in
whatever order the modules run.

No verdict may depend on the machine's speed or load, so Hypothesis runs
with its two timing checks off for every test (the ``fastreg`` profile):
no per-example deadline and no ``too_slow`` health check (which fails a
test whose inputs take too long to generate, e.g. on a busy machine).
It is also derandomized (and keeps no example database): the default run
tries the same examples on every machine and every run, so its verdict
cannot depend on luck either; the slow fuzz tier (``-m slow``) explores
with fresh random examples. Tests that pass their own ``@settings`` inherit
all of this unless they override it.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import fastreg
from fastreg import utils

settings.register_profile(
    "fastreg",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
)
settings.load_profile("fastreg")


def available_levels() -> list[str]:
    """Levels this CPU and build can run, lowest first."""
    info = fastreg.simd_info()
    return [name for name in info["detected"] if name in info["compiled"]]


def levels_under_test() -> list[str]:
    """The levels the ``simd_level`` fixture runs over."""
    levels = available_levels()
    if not os.environ.get("FASTREG_SIMD"):
        return levels
    # FASTREG_SIMD caps the level at import (any case, falling back below an
    # unavailable one): keep to the level it chose
    return [fastreg.simd_info()["active"]]


@pytest.fixture(params=levels_under_test())
def simd_level(request):
    """Force one SIMD level for the test, then restore the previous one."""
    previous = fastreg.set_simd(request.param)
    try:
        yield request.param
    finally:
        fastreg.set_simd(previous)


@pytest.fixture(autouse=True)
def _isolated_registry():
    """Restore fastreg.utils' global registry after the test."""
    objects = dict(utils._GLOBAL_CUSTOM_OBJECTS)
    names = dict(utils._GLOBAL_CUSTOM_NAMES)
    try:
        yield
    finally:
        utils._GLOBAL_CUSTOM_OBJECTS.clear()
        utils._GLOBAL_CUSTOM_OBJECTS.update(objects)
        utils._GLOBAL_CUSTOM_NAMES.clear()
        utils._GLOBAL_CUSTOM_NAMES.update(names)
