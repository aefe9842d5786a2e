"""Build of fastreg's one extension module, fastreg._core.

The C kernels in csrc/ are compiled as a static library with their own
flags (C99, warnings on, no FP contraction so that no product is fused into
an FMA behind our back). No -march / -mavx flag is ever passed: the wide
kernels switch instruction sets per function with target attributes and
are only called after run-time detection (csrc/fr_dispatch.c).
"""

import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_clib import build_clib

CSRC = sorted(
    os.path.join("csrc", f) for f in os.listdir("csrc") if f.startswith("fr_") and f.endswith(".c")
)

UNIX_CFLAGS = ["-std=c99", "-O3", "-ffp-contract=off", "-fno-math-errno", "-Wall", "-Wextra"]
MSVC_CFLAGS = ["/O2", "/fp:precise", "/W3"]


class BuildClib(build_clib):
    """Pick the C flags for the compiler family actually in use."""

    def build_libraries(self, libraries):
        msvc = self.compiler.compiler_type == "msvc"
        extra = os.environ.get("FASTREG_CFLAGS", "").split()
        fixed = []
        for name, info in libraries:
            info = dict(info)
            # -fvisibility=hidden: the kernels are private to the extension,
            # so calls into them (fr_reduce, fr_active, ...) are direct, not
            # through the PLT; only PyInit__core is exported (and the two
            # thread-count functions that threadpoolctl calls, FR_EXPORT).
            unix = UNIX_CFLAGS + ["-fPIC", "-fvisibility=hidden", "-pthread"]
            info["cflags"] = (MSVC_CFLAGS if msvc else unix) + extra
            fixed.append((name, info))
        super().build_libraries(fixed)


ext = Extension(
    "fastreg._core",
    sources=["fastreg/_core.pyx"],
    include_dirs=["csrc", "fastreg", numpy.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")],
    # relink when the C library changes (build_ext does not look at it otherwise)
    depends=CSRC
    + sorted(os.path.join("csrc", f) for f in os.listdir("csrc") if f.endswith(".h"))
    + ["fastreg/_core_glue.h", "fastreg/_core_arrays.h"]
    + sorted(os.path.join("fastreg", f) for f in os.listdir("fastreg") if f.endswith(".pxi")),
    # the worker pool (csrc/fr_threads.c): libpthread on older glibc
    extra_link_args=(["-pthread"] if os.name == "posix" else [])
    + os.environ.get("FASTREG_LDFLAGS", "").split(),
)

setup(
    libraries=[("fastreg_kernels", {"sources": CSRC, "include_dirs": ["csrc"]})],
    cmdclass={"build_clib": BuildClib},
    ext_modules=cythonize(
        [ext],
        compiler_directives={"language_level": "3"},
        include_path=["fastreg"],
    ),
)
