"""Build and load bench/probe.c (the C streaming-read probe) at run time.

The probe holds one read loop per x86 vector width (SSE2, AVX2, AVX-512F), each compiled
with a function ``target`` attribute; probe_best_level() says which of them this CPU runs
(the build itself uses no ``-march`` flag). The shared library is cached under
``$FASTREG_BENCH_CACHE``, else ``$XDG_CACHE_HOME/fastreg-bench``, else
``~/.cache/fastreg-bench`` (a temporary directory if none is writable), keyed by a hash of
the source, the compiler and its flags.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shlex
import shutil
import subprocess
import sysconfig
import tempfile
from pathlib import Path

SOURCE = Path(__file__).with_name("probe.c")
FLAG_SETS = (["-O3"],)
# probe.c's level numbers, narrowest first
LEVELS = ("generic", "sse2", "avx2", "avx512")
LEVEL_NAMES = {"generic": "portable C", "sse2": "SSE2", "avx2": "AVX2", "avx512": "AVX-512F"}


class Probe:
    """ctypes handle on the compiled probe."""

    def __init__(self, lib: ctypes.CDLL, compiler: str, flags: list[str], path: Path):
        self.lib = lib
        self.compiler = compiler
        self.flags = flags
        self.path = path
        lib.probe_read.restype = ctypes.c_uint64
        lib.probe_read.argtypes = (
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_size_t,
        )
        self.best = LEVELS[lib.probe_best_level()]  # the widest loads this CPU runs
        self.accumulators = lib.probe_accumulators()

    @property
    def levels(self) -> list[str]:
        """The levels the benchmark times, widest first. Each is a candidate ceiling: on
        some CPUs (Zen 4 from DRAM, for one) narrower loads stream a little faster, and a
        kernel using them would otherwise beat the "ceiling". The portable loop is left
        out wherever a SIMD level exists (on x86-64 it is the SSE2 loop again)."""
        upto = LEVELS[: LEVELS.index(self.best) + 1]
        return [lv for lv in reversed(upto) if lv != "generic" or len(upto) == 1]

    def variants(self) -> list[tuple[str, bool]]:
        """(level, aligned) pairs the benchmark times: every level, with loads aligned to
        their width and with loads at the array's own address."""
        return [(lv, aligned) for lv in self.levels for aligned in (True, False)]

    def load_bytes(self, level: str) -> int:
        return self.lib.probe_load_bytes(LEVELS.index(level))

    def describe(self) -> str:
        widths = ", ".join(f"{LEVEL_NAMES[lv]} {self.load_bytes(lv)}-byte" for lv in self.levels)
        return (
            f"the fastest C streaming read of each timed array itself (same n, same address) "
            f"with {widths} loads, each aligned to its width (one unaligned load for head and "
            f"tail) or at the array's own address; {self.accumulators} integer accumulators; "
            f"built by {Path(self.compiler).name} {' '.join(self.flags)}"
        )

    def read(
        self, address: int, nbytes: int, reps: int, level: str | None = None, aligned=True
    ) -> int:
        lv = LEVELS.index(level or self.best)
        return self.lib.probe_read(lv, int(aligned), address, nbytes, reps)


def _compiler() -> list[str] | None:
    for cand in (os.environ.get("CC"), sysconfig.get_config_var("CC"), "cc", "gcc", "clang"):
        if not cand:
            continue
        argv = shlex.split(cand)
        if argv and shutil.which(argv[0]):
            return argv
    return None


def _cache_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("FASTREG_BENCH_CACHE"):
        dirs.append(Path(os.environ["FASTREG_BENCH_CACHE"]))
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    dirs.append(Path(base) / "fastreg-bench")
    dirs.append(Path(tempfile.gettempdir()) / f"fastreg-bench-{os.getuid()}")
    return dirs


def build(source: Path, flag_sets=FLAG_SETS, prefix: str = "probe"):
    """Compile ``source`` into a cached shared library: ((CDLL, compiler, flags, path), "")
    or (None, why not). The first flag set that compiles wins."""
    cc = _compiler()
    if cc is None:
        return None, "no C compiler found (set CC)"
    src = source.read_bytes()
    errors = []
    for flags in flag_sets:
        key = hashlib.sha256(
            b"\0".join([src, " ".join(cc).encode(), " ".join(flags).encode()])
        ).hexdigest()[:16]
        for d in _cache_dirs():
            lib_path = d / f"{prefix}-{key}.so"
            if not lib_path.exists():
                try:
                    d.mkdir(parents=True, exist_ok=True)
                    fd, tmp = tempfile.mkstemp(suffix=".so", dir=d)
                    os.close(fd)
                except OSError as e:
                    errors.append(f"{d}: {e}")
                    continue
                cmd = [*cc, *flags, "-shared", "-fPIC", "-o", tmp, str(source)]
                try:
                    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
                except (OSError, subprocess.SubprocessError) as e:
                    res = None
                    errors.append(f"{' '.join(cmd)}: {e}")
                if res is None or res.returncode != 0:
                    if res is not None:
                        errors.append(f"{' '.join(cmd)}: {res.stderr.strip()[:300]}")
                    Path(tmp).unlink(missing_ok=True)
                    break  # same flags fail in any directory; try the next flag set
                os.replace(tmp, lib_path)
            try:
                return (ctypes.CDLL(str(lib_path)), cc[0], flags, lib_path), ""
            except OSError as e:
                errors.append(f"{lib_path}: {e}")
    return None, "; ".join(errors) or f"could not build {source.name}"


def load() -> tuple[Probe | None, str]:
    """Return (probe, "") or (None, reason it is unavailable)."""
    built, why = build(SOURCE)
    if built is None:
        return None, why
    return Probe(*built), ""
