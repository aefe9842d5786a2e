"""fastreg's benchmark suite: ``python -m bench`` (see bench/README.md).

Importing this package pins every BLAS / OpenMP thread pool to one thread (it
sets ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``, ... to 1),
which has to happen before NumPy is imported; ``bench/__main__.py`` and
``bench/conftest.py`` both run after this file.
"""

from bench import _env

_env.setup()
