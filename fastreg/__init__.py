"""fastreg: Keras-exact regularizers on SIMD C kernels, for NumPy.

``from fastreg import regularizers`` is a drop-in for
``from tensorflow.keras import regularizers`` (Keras 2, as documented for
TF 2.4); ``fastreg.layers`` gives NumPy code the Keras layer API for
regularization; ``fastreg.kernels`` exposes the bare reductions.
"""

try:
    from fastreg._core import set_simd, simd_info
except ImportError as _err:  # pragma: no cover - depends on how it was installed
    import os as _os

    _here = _os.path.dirname(__file__)
    if _os.path.exists(_os.path.join(_here, "_core.pyx")) and not any(
        f.startswith("_core.") and f.endswith((".so", ".pyd")) for f in _os.listdir(_here)
    ):
        raise ImportError(
            f"fastreg is being imported from its source tree ({_here}), which has no "
            "built extension. Build it in place with `pip install -e .`, or run from "
            "another directory so that the installed fastreg is found."
        ) from _err
    raise

from fastreg import _threads, backend, kernels, regularizers, utils
from fastreg._threads import get_num_threads, set_num_threads
from fastreg.regularizers import (
    L1,
    L1L2,
    L2,
    OrthogonalRegularizer,
    Regularizer,
    deserialize,
    get,
    l1,
    l1_l2,
    l2,
    orthogonal_regularizer,
    serialize,
)
from fastreg.training import ParamGroup

__version__ = "0.1.0"

_threads.init()  # FASTREG_NUM_THREADS, threadpoolctl

__all__ = [
    "L1",
    "L1L2",
    "L2",
    "OrthogonalRegularizer",
    "ParamGroup",
    "Regularizer",
    "backend",
    "deserialize",
    "get",
    "get_num_threads",
    "kernels",
    "l1",
    "l1_l2",
    "l2",
    "orthogonal_regularizer",
    "regularizers",
    "serialize",
    "set_num_threads",
    "set_simd",
    "simd_info",
    "utils",
]


def __getattr__(name: str):  # lazy: fastreg.layers pulls in more than regularizers need
    if name == "layers":
        import importlib

        return importlib.import_module("fastreg.layers")
    raise AttributeError(f"module 'fastreg' has no attribute {name!r}")
