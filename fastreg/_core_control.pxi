# Part of fastreg/_core.pyx (textually included there; shares its module state).

# ---- SIMD level control ----------------------------------------------------

def simd_info():
    """{"detected": [...], "compiled": [...], "active": name}."""
    cdef unsigned det = c.fr_isa_detected(), comp = c.fr_isa_compiled()
    cdef int i
    names = [c.fr_isa_name(i).decode() for i in range(c.FR_ISA_COUNT)]
    return {
        "detected": [names[i] for i in range(c.FR_ISA_COUNT) if det >> i & 1],
        "compiled": [names[i] for i in range(c.FR_ISA_COUNT) if comp >> i & 1],
        "active": names[c.fr_isa_active()],
    }


def set_simd(name):
    """Force a SIMD level by name (any case); returns the previous one.

    Meant for tests and benchmarks: it changes the level for every thread.
    A name that is not a level raises ValueError, a level this CPU or build
    cannot run ValueError, a non-str TypeError.
    """
    cdef bytes b
    cdef int isa, prev
    b = _convert.simd_level(name).encode()
    isa = c.fr_isa_from_name(b)
    if isa < 0:
        raise ValueError(_convert.simd_unknown(name))
    prev = c.fr_isa_set(isa)
    if prev < 0:
        raise ValueError(_convert.simd_unavailable(name, simd_info()))
    return c.fr_isa_name(prev).decode()


# ---- threads (fastreg/_threads.py checks the arguments) ----------------------

MAX_THREADS = c.FR_MAX_THREADS


def _set_num_threads(int n):
    """Set the pool's thread count (1 .. MAX_THREADS); returns the previous one."""
    cdef int prev = c.fr_set_num_threads(n)
    if prev < 0:
        raise ValueError(f"number of threads must be 1 .. {MAX_THREADS}, got {n}")
    return prev


def _get_num_threads():
    return c.fr_get_num_threads()


def _set_parallel_min(int superblocks):
    """Fewest superblocks that go parallel (tests, benchmarks); returns the previous."""
    cdef int prev = c.fr_set_parallel_min(superblocks)
    if prev < 0:
        raise ValueError(f"parallel minimum must be >= 2 superblocks, got {superblocks}")
    return prev


def _init():
    """Apply FASTREG_SIMD: a cap, lowered to what this CPU and build can run."""
    info = simd_info()
    usable = [n for n in info["detected"] if n in info["compiled"]]
    level = _convert.simd_from_env(os.environ.get("FASTREG_SIMD", ""), usable)
    cdef bytes name = level.encode() if level else b""
    err = c.fr_init(name)
    if err != c.FR_OK:  # level is one of usable: C and Python disagree on the names
        raise RuntimeError(f"fastreg: cannot select SIMD level {level!r} (error {err})")


_init()
