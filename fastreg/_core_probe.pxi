# Part of fastreg/_core.pyx (textually included there; shares its module state).

# ---- test-only GIL probe ---------------------------------------------------
# Whether a kernel call really runs without the GIL cannot be told reliably
# from Python by timing other threads (the OS may not schedule them, or the
# kernel may end first). So each `with nogil:` block asks CPython directly:
# when _probe_on is set (by _gil_probe, for tests/test_threads.py only), it
# records PyGILState_Check() next to the kernel call. Off, it costs one
# predictable branch, and only on the released-GIL path (>= GIL_MIN elements).

cdef extern from "Python.h":
    int PyGILState_Check() nogil  # documented as callable without the GIL

cdef bint _probe_on = False
cdef Py_ssize_t _probe_free = 0  # probe calls that found the GIL released
cdef Py_ssize_t _probe_held = 0  # probe calls that found it held


cdef void _probe() noexcept nogil:
    global _probe_free, _probe_held
    if PyGILState_Check():
        _probe_held += 1
    else:
        _probe_free += 1


def _gil_probe(bint enable):
    """Test-only: turn the GIL probe on or off; returns and resets the counts.

    Returns ``(calls_without_gil, calls_with_gil)`` seen since the previous
    call. Not thread-safe: meant for one test thread at a time.
    """
    global _probe_on, _probe_free, _probe_held
    counts = (_probe_free, _probe_held)
    _probe_free = _probe_held = 0
    _probe_on = enable
    return counts


def _gil_probe_calibrate():
    """Test-only: reach the probe as the kernel calls do, once holding the GIL
    and once without it, so a test can show that it tells the two apart."""
    if _probe_on:
        _probe()
    with nogil:
        if _probe_on:
            _probe()
