"""Custom-object registration, as ``tf.keras.utils`` has it (Keras 2).

Custom objects (functions, or classes with ``get_config`` such as
:class:`~fastreg.regularizers.Regularizer` subclasses) become known to
``get``, ``serialize`` and ``deserialize`` of :mod:`fastreg.regularizers`,
:mod:`fastreg.initializers` and :mod:`fastreg.activations` (all three look
names up the same way) in one of two ways:

* :func:`register_keras_serializable` registers them for the whole process
  under Keras's ``"Package>name"`` key;
* :class:`custom_object_scope` makes a ``{name: object}`` mapping visible
  for the duration of a ``with`` block (per thread).

>>> import numpy as np
>>> from fastreg import regularizers
>>> from fastreg.utils import custom_object_scope, register_keras_serializable
>>> @register_keras_serializable(package="Doc", name="half_l1")
... def half_l1(x):
...     return np.float32(0.5) * np.sum(np.abs(x))
>>> regularizers.get("Doc>half_l1") is half_l1
True
>>> with custom_object_scope({"my_fn": half_l1}):
...     regularizers.get("my_fn") is half_l1
True
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
]

T = TypeVar("T")

# "Package>name" -> object, and object -> "Package>name"
_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
_GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}

_LOCAL = threading.local()


def _scopes() -> list[dict[str, Any]]:
    stack = getattr(_LOCAL, "stack", None)
    if stack is None:
        stack = _LOCAL.stack = []
    return stack


def register_keras_serializable(
    package: str = "Custom", name: str | None = None
) -> Callable[[T], T]:
    """Register a class or function under ``"package>name"`` (a decorator).

    Serialized regularizers then carry that name, and
    :func:`fastreg.regularizers.get` / :func:`~fastreg.regularizers.deserialize`
    find the object again by it. Registering the same name again replaces
    the earlier object (as tf-keras 2.x and Keras 3 do; TF 2.4 raised).

    Args:
        package: The package part of the key.
        name: The name part; the object's ``__name__`` when None.

    Returns:
        A decorator that registers its argument and returns it unchanged.

    Raises:
        ValueError: if a class without a ``get_config`` method is registered.

    >>> from fastreg import regularizers
    >>> @register_keras_serializable(package="Doc")
    ... class Zero(regularizers.Regularizer):
    ...     def get_config(self):
    ...         return {}
    >>> regularizers.serialize(Zero())["registered_name"]
    'Doc>Zero'
    """

    def decorator(arg: T) -> T:
        class_name = name if name is not None else arg.__name__  # type: ignore[attr-defined]
        registered_name = f"{package}>{class_name}"
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        old = _GLOBAL_CUSTOM_OBJECTS.get(registered_name)
        if old is not None and _GLOBAL_CUSTOM_NAMES.get(old) == registered_name:
            del _GLOBAL_CUSTOM_NAMES[old]
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


class custom_object_scope:  # noqa: N801 - Keras's name
    """Context manager that makes custom objects visible to deserialization.

    Inside the ``with`` block, :func:`fastreg.regularizers.get` and
    :func:`~fastreg.regularizers.deserialize` look names up in the given
    dictionaries (innermost scope first) before the registry and the
    built-in names. Scopes are per thread.

    Args:
        *dicts: ``{name: class_or_function}`` mappings (``None`` is skipped).

    >>> import numpy as np
    >>> from fastreg import regularizers
    >>> def my_reg(x):
    ...     return np.sum(x)
    >>> with custom_object_scope({"my_reg": my_reg}):
    ...     regularizers.deserialize("my_reg") is my_reg
    True
    """

    def __init__(self, *dicts: Mapping[str, Any] | None) -> None:
        merged: dict[str, Any] = {}
        for d in dicts:
            if d is None:
                continue
            if not isinstance(d, Mapping):
                raise TypeError(f"custom_object_scope takes dictionaries, got {type(d).__name__}")
            merged.update(d)
        self.custom_objects = merged

    def __enter__(self) -> custom_object_scope:
        _scopes().append(self.custom_objects)
        return self

    def __exit__(self, *exc: object) -> None:
        stack = _scopes()
        # remove this scope's entry (normally the last one)
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is self.custom_objects:
                del stack[i]
                break


CustomObjectScope = custom_object_scope


def get_custom_objects() -> dict[str, Any]:
    """The process-wide registry: ``{"Package>name": object}`` (mutable, as Keras's)."""
    return _GLOBAL_CUSTOM_OBJECTS


def get_registered_name(obj: Any) -> str:
    """``"Package>name"`` if ``obj`` is registered, else its ``__name__``."""
    try:
        name = _GLOBAL_CUSTOM_NAMES.get(obj)
    except TypeError:  # unhashable
        name = None
    return name if name is not None else obj.__name__


def get_registered_object(
    name: str,
    custom_objects: Mapping[str, Any] | None = None,
    module_objects: Mapping[str, Any] | None = None,
) -> Any:
    """The object registered or in scope under ``name``, or None.

    Lookup order: ``custom_objects``, the active :class:`custom_object_scope`
    dictionaries (innermost first), the registry, then ``module_objects``.
    """
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    for scope in reversed(_scopes()):
        if name in scope:
            return scope[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None
