"""``prox`` and the slow-path hooks of the C-backed regularizers L1, L2 and L1L2 (private).

Beyond Keras: the proximal map of ``step * penalty``, for NumPy training
loops (SEMANTICS.md, "Beyond Keras").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fastreg import _core, _slow


class Proximal:
    """The Python hooks of the C-backed regularizers (mixed into L1, L2, L1L2)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # L1, L2, L1L2 and their subclasses are called through vectorcall
        # (see fastreg/_core.pyx); a subclass that overrides __call__ is not.
        super().__init_subclass__(**kwargs)
        _core._enable_vectorcall(cls)

    # The slow path of _core.Penalty (bfloat16 input): see fastreg/_slow.py.
    def _call_slow(self, x: np.ndarray) -> Any:
        return _slow.value(self, x)

    def _elementwise_slow(
        self, x: np.ndarray, out: Any, flags: int, prox: bool, t: float, d: float
    ) -> Any:
        return _slow.elementwise(self, x, out, flags, prox, t, d)

    # prox itself is _core.Penalty.prox: a float step is checked there in C,
    # any other step by fastreg._steps.check_step.
