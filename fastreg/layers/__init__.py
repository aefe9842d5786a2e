"""The Keras 2 layer API for regularization, on NumPy arrays.

``fastreg.layers`` gives NumPy code what ``tf.keras.layers`` gives TensorFlow
code for regularization: the ``kernel_regularizer``, ``bias_regularizer``
and ``activity_regularizer`` keywords, a settable ``activity_regularizer``
on every layer, ``add_loss`` and ``layer.losses`` exactly as Keras 2
computes them (the project spec's SEMANTICS.md, "Layers"). Weights are plain
NumPy arrays owned by the layer; forward passes are vectorised NumPy (BLAS
matrix products).

Penalties always come from calling the regularizer (so from fastreg's C
kernels for the built-in ones): the layers add no arithmetic of their own,
apart from Keras's division of activity losses by the batch size.

>>> import numpy as np
>>> from fastreg import layers, regularizers
>>> layer = layers.Dense(5, input_dim=5, kernel_initializer="ones",
...                      kernel_regularizer=regularizers.L1(0.01),
...                      activity_regularizer=regularizers.L2(0.01))
>>> out = layer(np.ones((5, 5)) * 2)
>>> [float(v) for v in layer.losses]      # [activity, kernel]
[5.0, 0.25]
>>> float(np.sum(layer.losses, dtype=np.float32))
5.25
"""

# Private names re-exported from when this was one module: pickles of layers
# made then name `fastreg.layers._InputSpec` and `fastreg.layers._Weight`;
# tests/test_layers.py checks `layers._to_snake_case`; `_reset_names` is the
# `clear_session` of the default-name counters.
from fastreg.layers._input_spec import _InputSpec as _InputSpec
from fastreg.layers._nest import _reset_names as _reset_names
from fastreg.layers._nest import _to_snake_case as _to_snake_case
from fastreg.layers._tracking import _Weight as _Weight
from fastreg.layers.base import Layer
from fastreg.layers.convolutional import Conv1D, Conv2D, Conv3D
from fastreg.layers.core import ActivityRegularization, Dense

__all__ = [
    "ActivityRegularization",
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "Dense",
    "Layer",
]

# doctest.testmod(fastreg.layers) skips classes defined in the submodules;
# listing them here runs their examples with the package's doctests too.
__test__ = {name: globals()[name] for name in __all__}
