"""How two fingerprints differ: each field that differs, named as a user knows it, and whether
``AUTOSEED_PORTABLE`` pins it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autoseed.settings.plan import PORTABLE_VARIABLE

THREADS = "threads"
CPUS = "CPUs"
ISA = "ISA"
BLAS_CORE = "BLAS core"
CPU = "CPU"
VERSIONS = "versions"
GPU = "GPU"
TF32 = "TF32"
TORCH_FLAGS = "torch flags"
PINS = "pins"
PROBE = "probe"
# What AUTOSEED_PORTABLE pins: a difference of these is one the mode removes.
PINNED_BY_PORTABLE = frozenset({THREADS, ISA, BLAS_CORE, CPU, TF32})
# How many CPUs a machine has decides no bit by itself: the thread counts it leads to are
# fields of their own.
DECIDES_NO_BITS = frozenset({CPUS})

# (section, field) -> (what it is, the cause it belongs to)
_FIELDS: dict[tuple[str, str], tuple[str, str]] = {
    ("cpu", "model"): ("CPU model", CPU),
    ("cpu", "machine"): ("CPU architecture", VERSIONS),
    ("cpu", "logical_cpus"): ("logical CPUs", CPUS),
    ("cpu", "usable_cpus"): ("usable CPUs", CPUS),
    ("cpu", "torch_isa"): ("the ISA torch dispatches to", ISA),
    ("cpu", "numpy_simd"): ("numpy's SIMD targets", ISA),
    ("threads", "torch_intra_op"): ("torch intra-op threads", THREADS),
    ("threads", "torch_inter_op"): ("torch inter-op threads", THREADS),
    ("versions", "python"): ("Python", VERSIONS),
    ("versions", "autoseed"): ("autoseed", VERSIONS),
    ("versions", "torch"): ("torch", VERSIONS),
    ("versions", "numpy"): ("numpy", VERSIONS),
    ("versions", "cuda"): ("CUDA", VERSIONS),
    ("versions", "cudnn"): ("cuDNN", VERSIONS),
    ("torch_flags", "matmul_fp32_precision"): ("float32 matmul precision (TF32)", TF32),
    ("torch_flags", "cudnn_fp32_precision"): ("cuDNN float32 precision (TF32)", TF32),
    ("torch_flags", "matmul_allow_tf32"): ("TF32 for float32 matmuls", TF32),
    ("torch_flags", "cudnn_allow_tf32"): ("TF32 for cuDNN", TF32),
    ("torch_flags", "deterministic_algorithms"): ("deterministic algorithms", TORCH_FLAGS),
    ("torch_flags", "cudnn_deterministic"): ("cudnn deterministic", TORCH_FLAGS),
    ("torch_flags", "cudnn_benchmark"): ("cudnn benchmark", TORCH_FLAGS),
}
# A BLAS or OpenMP library's field -> its cause.
_POOL_FIELDS = {
    "threads": THREADS,
    "core": BLAS_CORE,
    "version": VERSIONS,
    "threading_layer": VERSIONS,
}


class Difference:
    """One field of the fingerprint that differs between the reference and here."""

    __slots__ = ("cause", "what", "reference", "here")

    def __init__(self, cause: str, what: str, reference: Any, here: Any) -> None:
        self.cause, self.what, self.reference, self.here = cause, what, reference, here

    def describe(self) -> str:
        here, reference = _shown(self.here), _shown(self.reference)
        return f"{self.cause}: {self.what} {here} here, {reference} in the reference"

    def as_json(self) -> dict[str, Any]:
        return {
            "cause": self.cause,
            "field": self.what,
            "reference": self.reference,
            "here": self.here,
        }

    def __repr__(self) -> str:
        return f"Difference({self.describe()!r})"


def _shown(value: Any, limit: int = 60) -> str:
    """A value for a message, cut short: a reference is data from disk, whatever it holds."""
    if value is None or value == []:
        return "none"
    text = "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list) else str(value)
    return text if len(text) <= limit else f"{text[:limit]}..."


def _section(fingerprint: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = fingerprint.get(name)
    return section if isinstance(section, Mapping) else {}


def fingerprint_differences(
    reference: Mapping[str, Any], here: Mapping[str, Any]
) -> list[Difference]:
    """Every field in which ``here`` differs from ``reference``, causes first, the probe last."""
    found: list[Difference] = []
    for (section, field), (what, cause) in _FIELDS.items():
        before, now = _section(reference, section).get(field), _section(here, section).get(field)
        if before != now:
            found.append(Difference(cause, what, before, now))
    found.extend(_pool_differences(reference.get("blas"), here.get("blas")))
    before_gpus, gpus = reference.get("gpu") or [], here.get("gpu") or []
    if before_gpus != gpus:
        found.append(Difference(GPU, "GPUs", _gpu_names(before_gpus), _gpu_names(gpus)))
    before_pins, pins = _section(reference, "pins"), _section(here, "pins")
    for variable in sorted(set(before_pins) | set(pins)):
        if before_pins.get(variable) != pins.get(variable):
            found.append(Difference(PINS, variable, before_pins.get(variable), pins.get(variable)))
    before_probe, probe = _section(reference, "probe"), _section(here, "probe")
    for part in sorted(set(before_probe) & set(probe)):
        if before_probe[part] != probe[part]:
            found.append(
                Difference(PROBE, f"{part} on fixed inputs", before_probe[part], probe[part])
            )
    return found


def _gpu_names(gpus: Any) -> list[str]:
    return [
        f"{gpu.get('name')} ({gpu.get('capability')})" for gpu in gpus if isinstance(gpu, Mapping)
    ]


def _pool_differences(reference: Any, here: Any) -> list[Difference]:
    """The BLAS and OpenMP libraries' differences, library by library."""
    if reference is None or here is None:
        return []  # threadpoolctl missing on one side: nothing to compare, nothing to blame

    def by_name(pools: Any) -> dict[str, Mapping[str, Any]]:
        return {
            f"{pool.get('library')} ({pool.get('prefix')})": pool
            for pool in pools
            if isinstance(pool, Mapping)
        }

    before, now = by_name(reference), by_name(here)
    found = []
    for name in sorted(set(before) | set(now)):
        if name not in before or name not in now:
            found.append(
                Difference(
                    VERSIONS,
                    f"library {name}",
                    "loaded" if name in before else "not loaded",
                    "loaded" if name in now else "not loaded",
                )
            )
            continue
        for field, cause in _POOL_FIELDS.items():
            if before[name].get(field) != now[name].get(field):
                found.append(
                    Difference(
                        cause,
                        f"{name} {field.replace('_', ' ')}",
                        before[name].get(field),
                        now[name].get(field),
                    )
                )
    return found


def portable_advice(
    differences: list[Difference], reference: Mapping[str, Any], here: Mapping[str, Any]
) -> str | None:
    """What ``AUTOSEED_PORTABLE`` would do about ``differences``, when anything."""
    pinnable = ", ".join(sorted({d.cause for d in differences if d.cause in PINNED_BY_PORTABLE}))
    if not pinnable:
        return None
    before, now = (_section(side, "pins").get(PORTABLE_VARIABLE) for side in (reference, here))
    if not before and not now:
        return (
            f"{PORTABLE_VARIABLE}=1 pins {pinnable} to the same values on every machine: "
            "save the reference again with it set, and check with it set here"
        )
    if not now:
        return f"the reference was saved with {PORTABLE_VARIABLE}={before}: set it here too"
    if not before:
        return (
            f"{PORTABLE_VARIABLE}={now} is set here, not in the reference: save the reference "
            "again with it set"
        )
    if before != now:
        return f"{PORTABLE_VARIABLE} is {before} in the reference and {now} here: set one value"
    return _despite_the_pins(pinnable, differences, here)


def _despite_the_pins(pinnable: str, differences: list[Difference], here: Mapping[str, Any]) -> str:
    """Why ``pinnable`` still differ with the same ``AUTOSEED_PORTABLE`` on both sides."""
    threads = str(_section(here, "pins").get("OMP_NUM_THREADS") or "")
    usable = _section(here, "cpu").get("usable_cpus")
    if threads.isdigit() and isinstance(usable, int) and int(threads) > usable:
        return (
            f"{pinnable} differ: {threads} threads are pinned, and this machine lets the run use "
            f"{usable} CPU{'s' * (usable != 1)}, so OpenBLAS runs fewer threads: pin a count "
            "every machine has (1 is)"
        )
    variables = [d.what for d in differences if d.cause == PINS and d.what != PORTABLE_VARIABLE]
    if variables:
        return (
            f"{pinnable} differ with {PORTABLE_VARIABLE} set on both sides: "
            f"{', '.join(variables)} differ, which a value set by hand decides over the pin "
            "(autoseed status names them)"
        )
    return (
        f"{pinnable} differ with {PORTABLE_VARIABLE} set on both sides: where the mode cannot "
        "pin them on one of the machines, autoseed status there says why"
    )
