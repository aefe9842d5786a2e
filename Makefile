# Developer targets. The README's two commands are what CI and users run;
# these are the longer jobs and the tools around them.
PY ?= python
PYTEST ?= $(PY) -m pytest

.PHONY: build test test-slow soak-load test-isa test-avx512-emu test-neon sanitize valgrind callgrind bench bench-quick lint format clean

build:        ## rebuild the extension in place (serialised: helpers share the tree)
	flock /tmp/fastreg-build.lock $(PY) setup.py -q build_clib build_ext --inplace

test:         ## the default test run (what CI runs)
	$(PYTEST)

test-slow:    ## soak and huge-array tests
	$(PYTEST) -m slow

soak-load:    ## the default run 10 times under two busy loops (no verdict may depend on load)
	tools/load_soak.sh 10

test-isa:     ## the whole suite once per SIMD level this CPU has
	tools/test_isa.sh

test-avx512-emu: ## the AVX-512 kernels compiled against SIMDe's emulation, on any x86-64
	tools/avx512_emu.sh

test-neon:    ## the NEON kernels cross-compiled for aarch64 and run under qemu
	tools/neon_qemu.sh

sanitize:     ## ASan + UBSan build of the extension running the test suite
	tools/sanitize.sh

valgrind:     ## valgrind memcheck over the kernel tests
	tools/valgrind.sh

callgrind:    ## instructions per small call (n = 16), counted by callgrind
	$(PY) tools/callgrind_calls.py

bench:        ## the full benchmark table
	$(PY) -m bench

bench-quick:
	$(PY) -m bench --quick

lint:         ## pip install -e '.[lint]' first (plus Debian's clang-format); CI runs it
	ruff check fastreg tests bench tools
	ruff format --check fastreg tests bench tools
	cython-lint fastreg/*.pyx fastreg/*.pxi fastreg/*.pxd
	clang-format --dry-run --Werror csrc/*.c csrc/*.h fastreg/*.h
	mypy
	$(PY) -m mypy.stubtest --mypy-config-file pyproject.toml fastreg._core

format:
	ruff format fastreg tests bench tools
	clang-format -i csrc/*.c csrc/*.h fastreg/*.h

clean:
	rm -rf build dist *.egg-info fastreg/_core.c fastreg/*.so tools/out
