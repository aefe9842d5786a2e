"""Keras's nested-structure and naming helpers, for the layers.

``tf.nest`` (flatten and map over lists, tuples and dicts) and the default
layer names (``dense``, ``dense_1``, ...) that Keras derives from the class
name.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

_NAME_LOCK = threading.Lock()
_NAME_UIDS: dict[str, int] = {}


def _unique_name(base: str) -> str:
    """Keras's zero-based unique names: ``dense``, ``dense_1``, ``dense_2``, ..."""
    with _NAME_LOCK:
        n = _NAME_UIDS.get(base, 0)
        _NAME_UIDS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _reset_names() -> None:
    """Forget the default-name counters (Keras's ``clear_session`` does this)."""
    with _NAME_LOCK:
        _NAME_UIDS.clear()


def _to_snake_case(name: str) -> str:
    """Keras's ``generic_utils.to_snake_case`` (``Conv2D`` → ``conv2d``)."""
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    insecure = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    if insecure[0] != "_":
        return insecure
    return "private" + insecure


def _nest_flatten(x: Any) -> list:
    """``tf.nest.flatten``: lists/tuples in order, dicts in sorted key order."""
    if isinstance(x, dict):
        try:
            keys = sorted(x)
        except TypeError:
            keys = list(x)
        return [leaf for k in keys for leaf in _nest_flatten(x[k])]
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in _nest_flatten(item)]
    return [x]


def _nest_map(fn: Callable[[Any], Any], x: Any) -> Any:
    """``tf.nest.map_structure`` over lists, tuples (incl. namedtuples) and dicts."""
    if isinstance(x, dict):
        return type(x)((k, _nest_map(fn, v)) for k, v in x.items())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(_nest_map(fn, v) for v in x))
    if isinstance(x, (list, tuple)):
        return type(x)(_nest_map(fn, v) for v in x)
    return fn(x)
