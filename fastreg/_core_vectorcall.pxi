# Part of fastreg/_core.pyx (textually included there; shares its module state).

# ---- vectorcall for Penalty and its subclasses (fastreg/_core_glue.h) --------

cdef object _penalty_call1(object self, object x):
    """Penalty instances' vectorcall with one argument (fr_penalty_vectorcall)."""
    return (<Penalty>self)._call(x)


fr_penalty_call1 = _penalty_call1


cdef Py_ssize_t _vectorcall_offset():
    """Where every Penalty instance (and subclass instance) keeps its entry point."""
    cdef Penalty probe = Penalty.__new__(Penalty)
    return <char *>&probe._vectorcall - <char *><void *>probe


cdef Py_ssize_t _VECTORCALL_OFFSET = _vectorcall_offset()


def _enable_vectorcall(cls):
    """Call instances of cls (Penalty or a subclass) through vectorcall.

    A no-op, returning False, for a class whose ``__call__`` is not
    Penalty's (a subclass that overrides it keeps its own).
    """
    return bool(fr_enable_vectorcall(cls, Penalty, _VECTORCALL_OFFSET))


_enable_vectorcall(Penalty)
