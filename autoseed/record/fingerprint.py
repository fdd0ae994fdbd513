"""The fingerprint: what decides a run's bits on this machine, and how two machines differ.

It records the CPU and the ISA torch dispatches to, the thread counts, the BLAS and OpenMP
libraries loaded (threadpoolctl finds them, their core type and threads), the versions, the
GPUs, the pins in force and the probe's digests (``probe.py``). Taking one costs the imports of
torch and numpy and a fraction of a second of kernels: only ``autoseed fingerprint``,
``verify --save/--against`` and the run manifest take one, never an ordinary run.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping
from importlib import import_module, metadata
from types import ModuleType
from typing import Any

from autoseed.record import probe
from autoseed.seeding.portable import PIN_VARIABLES
from autoseed.settings.plan import PORTABLE_VARIABLE

FINGERPRINT_VERSION = 1


def pins_in_force(environ: Mapping[str, str]) -> dict[str, str | None]:
    """``AUTOSEED_PORTABLE`` and every variable it may pin, as they are in ``environ``
    (``None``: not set); a variable you set yourself is read the same way."""
    return {variable: environ.get(variable) for variable in (PORTABLE_VARIABLE, *PIN_VARIABLES)}


def take_fingerprint(*, import_libraries: bool = True, start_cuda: bool = True) -> dict[str, Any]:
    """This process's fingerprint, JSON-ready.

    ``import_libraries``: import torch and numpy where installed (else describe only those
    already imported: a script's manifest never imports a library it did not use).
    ``start_cuda``: ask torch for the GPUs even where CUDA has not started in this process.
    """
    torch = _library("torch", import_libraries)
    numpy = _library("numpy", import_libraries)
    digests: dict[str, str] = {}
    if torch is not None:
        digests.update(probe.probe_torch(torch))
    if numpy is not None:
        digests.update(probe.probe_numpy(numpy))
    return {
        "fingerprint_version": FINGERPRINT_VERSION,
        "cpu": _cpu(torch, numpy),
        "threads": _threads(torch),
        "blas": _thread_pools(),
        "versions": _versions(torch, numpy),
        "gpu": _gpus(torch, start_cuda),
        "torch_flags": _torch_flags(torch),
        "pins": pins_in_force(os.environ),
        "probe": digests,
    }


def _library(name: str, import_it: bool) -> ModuleType | None:
    module = sys.modules.get(name)
    if module is not None or not import_it:
        return module
    try:
        return import_module(name)
    except ImportError:
        return None


def cpu_model() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo), else what the platform says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as file:
            for line in file:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "cpu model"):
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cpus() -> int | None:
    """The CPUs this process may run on (``taskset``, a cgroup's cpuset), not the machine's."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count()


def _cpu(torch: ModuleType | None, numpy: ModuleType | None) -> dict[str, Any]:
    isa = None
    if torch is not None:
        isa = str(torch.backends.cpu.get_cpu_capability())
    return {
        "model": cpu_model(),
        "machine": platform.machine(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "torch_isa": isa,
        "numpy_simd": _numpy_simd(numpy),
    }


def _numpy_simd(numpy: ModuleType | None) -> list[str] | None:
    """The SIMD targets numpy dispatches to here, beyond its baseline (what
    ``NPY_DISABLE_CPU_FEATURES`` takes away); ``numpy.show_runtime()`` reads the same table."""
    if numpy is None:
        return None
    try:
        umath: Any = import_module("numpy._core._multiarray_umath")
    except ImportError:
        return None
    features = getattr(umath, "__cpu_features__", {})
    return [target for target in getattr(umath, "__cpu_dispatch__", []) if features.get(target)]


def _threads(torch: ModuleType | None) -> dict[str, Any]:
    threads: dict[str, Any] = {"torch_intra_op": None, "torch_inter_op": None}
    if torch is not None:
        threads["torch_intra_op"] = int(torch.get_num_threads())
        threads["torch_inter_op"] = int(torch.get_num_interop_threads())
    return threads


def _thread_pools() -> list[dict[str, Any]] | None:
    """The BLAS and OpenMP libraries loaded in this process, with their threads and (OpenBLAS)
    core type; ``None`` where threadpoolctl is not installed. Their files' paths are left out:
    they differ from machine to machine and decide nothing."""
    try:
        threadpoolctl: Any = import_module("threadpoolctl")
    except ImportError:
        return None
    pools = []
    for info in threadpoolctl.threadpool_info():
        pools.append(
            {
                "library": info.get("internal_api"),
                "api": info.get("user_api"),
                "prefix": info.get("prefix"),
                "version": info.get("version"),
                "threads": info.get("num_threads"),
                "threading_layer": info.get("threading_layer"),
                "core": info.get("architecture"),
            }
        )
    return sorted(pools, key=lambda pool: (str(pool["library"]), str(pool["prefix"])))


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _versions(torch: ModuleType | None, numpy: ModuleType | None) -> dict[str, Any]:
    versions: dict[str, Any] = {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "autoseed": _version("autoseed"),
        "torch": None if torch is None else str(torch.__version__),
        "numpy": None if numpy is None else str(numpy.__version__),
        "cuda": None,
        "cudnn": None,
    }
    if torch is not None:
        versions["cuda"] = torch.version.cuda
        cudnn = torch.backends.cudnn
        versions["cudnn"] = cudnn.version() if cudnn.is_available() else None
    return versions


def _gpus(torch: ModuleType | None, start_cuda: bool) -> list[dict[str, Any]]:
    """Each GPU torch sees, with its compute capability; none where CUDA is not started here
    and ``start_cuda`` is off (a manifest never starts CUDA at a script's exit)."""
    if torch is None:
        return []
    cuda: Any = torch.cuda
    if not (cuda.is_initialized() or (start_cuda and cuda.is_available())):
        return []
    gpus = []
    for index in range(cuda.device_count()):
        major, minor = cuda.get_device_capability(index)
        gpus.append({"name": cuda.get_device_name(index), "capability": f"{major}.{minor}"})
    return gpus


def _torch_flags(torch: ModuleType | None) -> dict[str, Any]:
    """torch's flags that choose kernels: TF32 for float32 matmuls and convolutions, cudnn's
    benchmark and deterministic flags, deterministic algorithms."""
    if torch is None:
        return {}
    backends: Any = torch.backends
    flags: dict[str, Any] = {
        "deterministic_algorithms": bool(torch.are_deterministic_algorithms_enabled()),
        "cudnn_deterministic": bool(backends.cudnn.deterministic),
        "cudnn_benchmark": bool(backends.cudnn.benchmark),
    }
    matmul = backends.cuda.matmul
    # The fp32_precision API (torch 2.9+) replaces allow_tf32, whose reading then warns.
    if hasattr(matmul, "fp32_precision"):
        flags["matmul_fp32_precision"] = str(matmul.fp32_precision)
        flags["cudnn_fp32_precision"] = str(backends.cudnn.conv.fp32_precision)
    else:
        flags["matmul_allow_tf32"] = bool(matmul.allow_tf32)
        flags["cudnn_allow_tf32"] = bool(backends.cudnn.allow_tf32)
    return flags


def _or_none(value: Any) -> str:
    return "none" if value is None or value == [] else str(value)


def format_fingerprint(fingerprint: Mapping[str, Any]) -> str:
    """The human-readable form of :func:`take_fingerprint`."""
    cpu, threads, versions = fingerprint["cpu"], fingerprint["threads"], fingerprint["versions"]
    simd = ", ".join(cpu["numpy_simd"] or []) or "none"
    lines = [
        f"cpu: {cpu['model']} ({cpu['machine']}), {cpu['usable_cpus']} usable of "
        f"{cpu['logical_cpus']} logical CPUs; torch dispatches to {_or_none(cpu['torch_isa'])}; "
        f"numpy's SIMD targets: {simd}",
        f"threads: torch {_or_none(threads['torch_intra_op'])} intra-op, "
        f"{_or_none(threads['torch_inter_op'])} inter-op",
    ]
    pools = fingerprint["blas"]
    if pools is None:
        lines.append("BLAS: unknown (threadpoolctl is not installed)")
    for pool in pools or []:
        version = f" {pool['version']}" if pool["version"] else ""
        core = f", core {pool['core']}" if pool["core"] else ""
        layer = f" ({pool['threading_layer']})" if pool["threading_layer"] else ""
        lines.append(
            f"{pool['api']}: {pool['library']}{version} ({pool['prefix']}){core}, "
            f"{pool['threads']} thread{'s' * (pool['threads'] != 1)}{layer}"
        )
    lines.append(
        "versions: "
        + ", ".join(f"{name} {_or_none(version)}" for name, version in versions.items())
    )
    gpus = fingerprint["gpu"]
    lines.append(
        "GPU: "
        + (", ".join(f"{g['name']} (compute capability {g['capability']})" for g in gpus) or "none")
    )
    flags = fingerprint["torch_flags"]
    if flags:
        lines.append("torch flags: " + ", ".join(f"{k} {v}" for k, v in flags.items()))
    pins = fingerprint["pins"]
    lines.append(
        "pins: " + ", ".join(f"{k}={v}" if v is not None else f"{k} unset" for k, v in pins.items())
    )
    lines.append(
        "probe: "
        + (
            ", ".join(f"{k} {v}" for k, v in fingerprint["probe"].items())
            or "none (neither torch nor numpy is installed)"
        )
    )
    return "\n".join(lines)
