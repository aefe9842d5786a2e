"""Keras-exact weight regularizers for NumPy: a drop-in for ``tf.keras.regularizers``.

Change ``from tensorflow.keras import regularizers`` to
``from fastreg import regularizers`` and every value, dtype, config, error and
serialized dict is what Keras 2 (as documented for TF 2.4) gives; the
contract is ``SEMANTICS.md`` in the project's shared spec. ``L1``, ``L2`` and
``L1L2`` run on SIMD C kernels; calling one on a float ndarray goes straight
to C. Beyond Keras, the built-in regularizers have ``gradient``,
``value_and_gradient`` and (``L1``, ``L2``, ``L1L2``) ``prox`` for NumPy
training loops.

>>> import numpy as np
>>> from fastreg import regularizers
>>> print(regularizers.L2(2.0)(np.ones((5, 5))))
50.0
>>> regularizers.L1(0.01).get_config()
{'l1': 0.009999999776482582}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from fastreg import _core
from fastreg._orthogonal import OrthogonalRegularizer
from fastreg._proximal import Proximal
from fastreg._regularizer_base import (
    Regularizer,
    assigned_factor,
    check_penalty_number,
    fmt,
    keras_signature,
    to_floatx,
)
from fastreg._serialization import Family

__all__ = [
    "L1",
    "L1L2",
    "L2",
    "OrthogonalRegularizer",
    "Regularizer",
    "deserialize",
    "get",
    "l1",
    "l1_l2",
    "l2",
    "orthogonal_regularizer",
    "serialize",
]


class L1(_core.Penalty, Proximal, Regularizer):
    """L1 penalty: ``l1 * sum(abs(x))``.

    The factor is stored rounded to ``floatx()`` (float32 by default) as a 0-d
    NumPy array, as in Keras 2; assigning ``.l1`` changes it (rounded the same
    way; ``reg.l1 *= 0.5`` works too). Writing into the stored array without
    assigning (``reg.l1[...] = v``) does not reach the C state. The result is
    a 0-d value of ``x``'s float dtype; the sum is accumulated in higher
    precision and rounded once.

    Args:
        l1: The factor, a Python ``int`` or ``float`` (finite; negative
            values are accepted, as in Keras 2). ``None`` means 0.01.
        **kwargs: Only the legacy ``l=`` (overrides ``l1``).

    Raises:
        ValueError: if ``l1`` is not an int or float, or is inf or NaN.
        TypeError: for any keyword other than ``l``.

    >>> import numpy as np
    >>> reg = L1(0.5)
    >>> reg
    L1(l1=0.5)
    >>> print(reg(np.array([[1.0, -2.0], [3.0, -4.0]], np.float32)))
    5.0
    >>> reg.gradient(np.array([-2.0, 0.0, 3.0]))
    array([-0.5,  0. ,  0.5])
    >>> reg.prox(np.array([-2.0, 0.25, 3.0]), step=1.0)
    array([-1.5,  0. ,  2.5])
    """

    @keras_signature
    def __init__(self, l1: float | None = 0.01, **kwargs: Any) -> None:
        l1 = kwargs.pop("l", l1)  # backwards compatibility, as Keras 2
        if kwargs:
            raise TypeError(f"Argument(s) not recognized: {kwargs}")
        l1 = 0.01 if l1 is None else l1
        check_penalty_number(l1)
        self._l1 = to_floatx(l1)
        self._set(float(self._l1), 0.0, _core.FR_ABS, False)

    @property
    def l1(self) -> np.ndarray:
        """The factor: a 0-d array of ``floatx()``; assignable."""
        return self._l1

    @l1.setter
    def l1(self, value: Any) -> None:
        self._l1 = assigned_factor(value, "l1")
        self._set(float(self._l1), 0.0, _core.FR_ABS, False)

    def get_config(self) -> dict[str, Any]:
        """``{"l1": float}``."""
        return {"l1": float(self._l1)}

    def __repr__(self) -> str:
        return f"L1(l1={fmt(self._l1)})"


class L2(_core.Penalty, Proximal, Regularizer):
    """L2 penalty: ``l2 * sum(square(x))`` (no ½).

    Stored, rounded and computed as :class:`L1`.

    Args:
        l2: The factor, a Python ``int`` or ``float`` (finite; negative
            accepted). ``None`` means 0.01.
        **kwargs: Only the legacy ``l=`` (overrides ``l2``).

    Raises:
        ValueError: if ``l2`` is not an int or float, or is inf or NaN.
        TypeError: for any keyword other than ``l``.

    >>> import numpy as np
    >>> reg = L2(2.0)
    >>> print(reg(np.ones((5, 5))))
    50.0
    >>> value, grad = reg.value_and_gradient(np.array([1.0, -3.0]))
    >>> print(value, grad)
    20.0 [  4. -12.]
    >>> reg.prox(np.array([5.0, -10.0]), step=1.0)
    array([ 1., -2.])
    """

    @keras_signature
    def __init__(self, l2: float | None = 0.01, **kwargs: Any) -> None:
        l2 = kwargs.pop("l", l2)
        if kwargs:
            raise TypeError(f"Argument(s) not recognized: {kwargs}")
        l2 = 0.01 if l2 is None else l2
        check_penalty_number(l2)
        self._l2 = to_floatx(l2)
        self._set(0.0, float(self._l2), _core.FR_SQ, False)

    @property
    def l2(self) -> np.ndarray:
        """The factor: a 0-d array of ``floatx()``; assignable."""
        return self._l2

    @l2.setter
    def l2(self, value: Any) -> None:
        self._l2 = assigned_factor(value, "l2")
        self._set(0.0, float(self._l2), _core.FR_SQ, False)

    def get_config(self) -> dict[str, Any]:
        """``{"l2": float}``."""
        return {"l2": float(self._l2)}

    def __repr__(self) -> str:
        return f"L2(l2={fmt(self._l2)})"


class L1L2(_core.Penalty, Proximal, Regularizer):
    """L1 and L2 penalties: ``l1 * sum(abs(x)) + l2 * sum(square(x))``.

    As Keras: the result starts at 0 in ``x``'s dtype and a term is added
    only when its factor is non-zero, so ``L1L2(0, 0)`` gives exactly 0 even
    for NaN or inf input.

    Args:
        l1: The L1 factor (``None`` means 0.0).
        l2: The L2 factor (``None`` means 0.0).

    Raises:
        ValueError: if a factor is not an int or float, or is inf or NaN.

    >>> import numpy as np
    >>> reg = L1L2(l1=0.5, l2=0.25)
    >>> reg
    L1L2(l1=0.5, l2=0.25)
    >>> print(reg(np.array([1.0, -2.0, 2.0], np.float32)))
    4.75
    >>> reg.gradient(np.array([1.0, -2.0, 0.0]))
    array([ 1. , -1.5,  0. ])
    """

    @keras_signature
    def __init__(self, l1: float | None = 0.0, l2: float | None = 0.0) -> None:
        l1 = 0.0 if l1 is None else l1
        l2 = 0.0 if l2 is None else l2
        check_penalty_number(l1)
        check_penalty_number(l2)
        self._l1 = to_floatx(l1)
        self._l2 = to_floatx(l2)
        self._sync()

    def _sync(self) -> None:
        a = float(self._l1)
        b = float(self._l2)
        # Keras 2 tests the truthiness of each stored factor (so -0.0 is off)
        self._set(a, b, (_core.FR_ABS if a else 0) | (_core.FR_SQ if b else 0), True)

    @property
    def l1(self) -> np.ndarray:
        """The L1 factor: a 0-d array of ``floatx()``; assignable."""
        return self._l1

    @l1.setter
    def l1(self, value: Any) -> None:
        self._l1 = assigned_factor(value, "l1")
        self._sync()

    @property
    def l2(self) -> np.ndarray:
        """The L2 factor: a 0-d array of ``floatx()``; assignable."""
        return self._l2

    @l2.setter
    def l2(self, value: Any) -> None:
        self._l2 = assigned_factor(value, "l2")
        self._sync()

    def get_config(self) -> dict[str, Any]:
        """``{"l1": float, "l2": float}``."""
        return {"l1": float(self._l1), "l2": float(self._l2)}

    def __repr__(self) -> str:
        return f"L1L2(l1={fmt(self._l1)}, l2={fmt(self._l2)})"


l1 = L1
l2 = L2
orthogonal_regularizer = OrthogonalRegularizer


@keras_signature
def l1_l2(l1: float | None = 0.01, l2: float | None = 0.01) -> L1L2:
    """An :class:`L1L2` with Keras 2's function defaults (0.01 each).

    Args:
        l1: The L1 factor.
        l2: The L2 factor.

    Returns:
        ``L1L2(l1=l1, l2=l2)``.

    >>> l1_l2()
    L1L2(l1=0.01, l2=0.01)
    """
    return L1L2(l1=l1, l2=l2)


# ---- get / serialize / deserialize ---------------------------------------------

# The names strings and dict class names can use (the same table for get()
# and deserialize()). Module functions such as "serialize" are not in it.
_FAMILY = Family(
    "regularizer",
    "keras.regularizers",
    {
        "Regularizer": Regularizer,
        "L1": L1,
        "l1": L1,
        "L2": L2,
        "l2": L2,
        "L1L2": L1L2,
        "l1l2": L1L2,  # Keras 3's alias, accepted for interop
        "l1_l2": l1_l2,
        "OrthogonalRegularizer": OrthogonalRegularizer,
        "orthogonal_regularizer": OrthogonalRegularizer,
    },
    functions_as_dicts=True,  # tf-keras 2.13+'s format, the one SEMANTICS.md pins
    # Keras 2's special case: the string is the function's defaults, not the class's
    factories={"l1_l2": lambda: L1L2(l1=0.01, l2=0.01)},
)


@keras_signature
def serialize(regularizer: Any, use_legacy_format: bool = False) -> dict[str, Any] | Any:
    """Serialize a regularizer to a JSON-able dict (Keras 2's format).

    Built-ins give ``{"module": "keras.regularizers", "class_name", "config",
    "registered_name": None}``, which real Keras reads back; custom classes
    carry ``"module": None`` and their ``registered_name`` (``"Package>name"``
    when registered, else the class name); a plain function gives
    ``{"module": "builtins", "class_name": "function", "config": name,
    "registered_name": "function"}``. ``use_legacy_format=True`` gives TF
    2.4's ``{"class_name", "config"}`` (a custom class's ``class_name`` is
    then its registered name), and a plain function becomes its name.

    Args:
        regularizer: A regularizer instance, a function, or None.
        use_legacy_format: Produce TF 2.4's two-key format.

    Returns:
        The dict (legacy format: a dict, or a string for functions), or None.

    Raises:
        NotImplementedError: when the object's ``get_config`` raises it.
        ValueError: for anything that is not a regularizer or a function.

    >>> serialize(L1(0.5))
    {'module': 'keras.regularizers', 'class_name': 'L1', 'config': {'l1': 0.5}, \
'registered_name': None}
    >>> serialize(L1(0.5), use_legacy_format=True)
    {'class_name': 'L1', 'config': {'l1': 0.5}}
    """
    return _FAMILY.serialize(regularizer, use_legacy_format)


@keras_signature
def deserialize(config: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """Rebuild a regularizer from :func:`serialize`'s output, or from a name.

    Accepts both dict forms (with or without ``"module"`` /
    ``"registered_name"``), names (``"l1"``, ``"L1L2"``, ``"l1_l2"`` →
    ``L1L2(0.01, 0.01)``, ``"l1l2"``, ``"Package>name"``, or names in
    ``custom_objects`` / an active ``custom_object_scope``). A class named by
    a string is instantiated with no arguments; a function is returned as it
    is. Objects that are already callables are returned unchanged.

    Args:
        config: A dict, a string, None, or a callable.
        custom_objects: Extra ``{name: class_or_function}`` to look names up in.

    Returns:
        The regularizer (or function), or None for None.

    Raises:
        ValueError: for unknown names, malformed dicts, numbers, lists and
            other values that do not describe a regularizer.
        TypeError: when the config holds unknown arguments.

    >>> deserialize({"class_name": "L1", "config": {"l1": 0.5}})
    L1(l1=0.5)
    >>> deserialize("l1_l2")
    L1L2(l1=0.01, l2=0.01)
    """
    return _FAMILY.deserialize(config, custom_objects)


@keras_signature
def get(identifier: Any) -> Any:
    """Retrieve a regularizer from a name, a dict, a class or a callable.

    ``None`` → None; an instance or a function → itself; a string or a dict
    → what :func:`deserialize` gives, as it is (as Keras 2: a class named in
    a ``custom_object_scope`` is instantiated even if its instances are not
    callable); a class → an instance made with no arguments.

    Args:
        identifier: What to interpret.

    Returns:
        A regularizer (or the given function), or None.

    Raises:
        ValueError: ``"Could not interpret regularizer identifier: …"`` for
            numbers, lists and other non-callables; ``"Unknown regularizer:
            …"`` for unknown names (module functions such as ``"serialize"``
            included).

    >>> get("l1")
    L1(l1=0.01)
    >>> get(None) is None
    True
    """
    return _FAMILY.get(identifier)
