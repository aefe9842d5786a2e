# Part of fastreg/_core.pyx (textually included there; shares its module state).

# ---- pickling and copying Penalty instances (Penalty.__reduce__) -------------

def _new_penalty(cls):
    """An unset instance of cls, for unpickling (Penalty.__reduce__)."""
    return cls.__new__(cls)


def _slot_names(cls):
    """The attribute names of the __slots__ declared by cls and its bases.

    Private names are mangled as Python stores them (``__x`` declared in
    class ``C`` is the attribute ``_C__x``); ``__dict__`` and
    ``__weakref__`` are not values.
    """
    names = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        for name in slots:
            if name in ("__dict__", "__weakref__"):
                continue
            if name.startswith("__") and not name.endswith("__"):
                name = f"_{klass.__name__.lstrip('_')}{name}"
            names.append(name)
    return names
