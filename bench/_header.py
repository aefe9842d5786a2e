"""The header of ``python -m bench``'s report, and the one-line CPU description every
benchmark module prints (bench.threads, bench.tensors, the training benchmark)."""

from __future__ import annotations

import os
import platform
import sys
from datetime import datetime

from bench import _env


def cpu() -> str:
    """The CPU in one line: model, family/model, logical CPUs, vector ISAs, caches."""
    model, fam, mod, flags = platform.processor() or platform.machine(), "", "", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                k, v = k.strip(), v.strip()
                if k == "model name" and model in ("", platform.machine(), platform.processor()):
                    model = v
                elif k == "cpu family" and not fam:
                    fam = v
                elif k == "model" and not mod:
                    mod = v
                elif k == "flags" and not flags:
                    flags = set(v.split())
    except OSError:
        pass
    isa = [f.upper() for f in ("sse2", "avx2", "fma", "avx512f") if f in flags]
    if flags and "avx512f" not in flags:
        isa.append("no AVX-512")
    caches = []
    for idx in range(6):
        d = f"/sys/devices/system/cpu/cpu0/cache/index{idx}"
        try:
            level = open(f"{d}/level").read().strip()
            ctype = open(f"{d}/type").read().strip()
            size = open(f"{d}/size").read().strip()
        except OSError:
            continue
        if ctype != "Instruction":
            caches.append(f"L{level}{'d' if ctype == 'Data' else ''} {size}")
    parts = [
        model + (f" (family {fam} model {mod})" if fam else ""),
        f"{os.cpu_count()} logical CPUs",
    ]
    if isa:
        parts.append(" ".join(isa))
    if caches:
        parts.append("cache/core-instance: " + ", ".join(caches))
    return "; ".join(parts)


def _blas(mod) -> str:
    try:
        cfg = mod.show_config(mode="dicts")
        b = cfg["Build Dependencies"]["blas"]
        return f"{b.get('name', '?')} {b.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - informational only
        return "?"


def header(args, fastreg, np, peers, notes, probe, probe_why, levels, floor) -> list[str]:
    """The report's header lines: machine, versions, threads, load, probe, timing."""
    env = _env.setup()
    info = fastreg.simd_info()
    vers = [f"python {platform.python_version()}", f"numpy {np.__version__} (BLAS {_blas(np)})"]
    for name in ("scipy", "torch", "tensorflow"):
        if name in peers:
            mod = sys.modules[name]
            extra = f" (BLAS {_blas(mod)})" if name == "scipy" else ""
            vers.append(f"{name} {mod.__version__}{extra}")
        elif name in notes:
            vers.append(f"{name}: {notes[name]}")
    thr = (
        "pinned to 1 thread before NumPy was imported: "
        + ", ".join(f"{k}=1" for k in _env.THREAD_VARS[:6])
        + ", ..."
    )
    if "torch" in peers:
        thr += "; torch.set_num_threads(1)"
    if "tensorflow" in peers:
        thr += "; TF intra/inter-op threads 1"
    lines = [
        f"# fastreg benchmark, {datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"cpu      : {cpu()}",
        f"os       : {platform.platform()}",
        f"fastreg  : {getattr(fastreg, '__version__', '?')} from "
        f"{os.path.dirname(fastreg.__file__)}; SIMD active {info['active']} "
        f"(detected {','.join(info['detected'])}; compiled {','.join(info['compiled'])})"
        + (f"; timing levels {','.join(levels)}" if levels != [info["active"]] else ""),
        f"versions : {'; '.join(vers)}",
        f"threads  : {thr}",
    ]
    if env.get("numpy_preloaded"):
        lines.append(
            "WARNING  : NumPy was imported before bench pinned the thread pools; "
            "BLAS calls may be multithreaded"
        )
    if env.get("overridden"):
        lines.append(f"note     : overrode {env['overridden']}")
    if env.get("fastreg_shadow"):
        lines.append(
            f"note     : {env['fastreg_shadow']} holds an unbuilt fastreg/ source tree; "
            "using the installed package"
        )
    try:
        lines.append(
            f"load     : 1-minute load average {os.getloadavg()[0]:.2f} on "
            f"{os.cpu_count()} CPUs at start"
        )
    except OSError:
        pass
    lines.append(
        "probe    : "
        + (f"read ceiling = {probe.describe()}" if probe else f"unavailable ({probe_why})")
    )
    lines.append(
        f"timing   : timeit, each case calibrated to blocks of about {args.block_s * 1e3:g} ms, "
        "clock " + ("process CPU time" if args.clock == "cpu" else "wall (perf_counter)") + "; "
        f"{args.rounds_small} rounds ({args.rounds_big} from 1M elements on), all cases shuffled "
        "anew every round; "
        f"medians. Harness floor {floor[0]:.1f} ns/iteration, len(x) {floor[1]:.0f} ns "
        "(not subtracted)"
    )
    return lines
