"""``AUTOSEED_PORTABLE``: pin what makes a run's bits depend on the machine it runs on.

The same seed gives other bits on another machine where the libraries compute differently
there: torch splits its reductions by its thread count and dispatches to the best vector
instructions the CPU has (AVX-512 on one machine, AVX2 on the next); OpenBLAS and MKL pick
their kernels by CPU and split by threads; numpy's loops differ by CPU feature. Each of these
is chosen once, when the library loads, from environment variables: so the pins are variables,
put into ``os.environ`` before numpy and torch are imported, and inherited by every child (a
DataLoader worker, a rank) so that it computes as its parent does.

One level for every library: AVX2 (x86-64-v3), which nearly every x86-64 machine of the last
ten years has, and one thread count, the same everywhere. A variable the user set wins.
Imported only while the setting is on.
"""

import os
import sys

from autoseed.hook import before_next_import
from autoseed.names import INDUCTOR_DETERMINISTIC_VARIABLE, reported, say_once

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

# What autoseed itself pinned, as VARIABLE=value words: a child inherits the pins and this
# record of them, so that it (and `autoseed status` there) can tell them from the user's.
PINNED_VARIABLE = "_AUTOSEED_PINNED"
BY_AUTOSEED = "autoseed"
BY_USER = "user"

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
ISA_VARIABLES = ("ATEN_CPU_CAPABILITY", "OPENBLAS_CORETYPE", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA")
NUMPY_FEATURES_VARIABLE = "NPY_DISABLE_CPU_FEATURES"
# Every variable AUTOSEED_PORTABLE may set, on any machine (the fingerprint reads them too).
PIN_VARIABLES = (
    *THREAD_VARIABLES,
    "MKL_DYNAMIC",
    *ISA_VARIABLES,
    NUMPY_FEATURES_VARIABLE,
    INDUCTOR_DETERMINISTIC_VARIABLE,
)
# The key under which TF32, a torch setting rather than a variable, is listed among the pins.
TF32_SETTING = "torch TF32 (cuBLAS matmul, cuDNN conv and RNN)"

# Variables that, set by the user, mean the pin is theirs to decide: numpy refuses to import
# with both of its feature variables set; oneDNN still reads its older name.
USER_ALTERNATIVES = {
    NUMPY_FEATURES_VARIABLE: ("NPY_ENABLE_CPU_FEATURES",),
    "ONEDNN_MAX_CPU_ISA": ("DNNL_MAX_CPU_ISA",),
}

# numpy's dispatched CPU features above AVX2, by the numpy version that introduced the list.
# A build warns (ImportWarning, an error under -W error) about a name it does not dispatch, so
# each version gets its own list; checked against the wheels of numpy 1.26, 2.0 to 2.4.
_AVX512 = "AVX512F,AVX512CD,AVX512_KNL,AVX512_KNM,AVX512_SKX,AVX512_CLX,AVX512_CNL,AVX512_ICL"
NUMPY_FEATURES_ABOVE_AVX2 = (
    ((2, 4), "X86_V4,AVX512_ICL,AVX512_SPR"),
    ((2, 3), f"{_AVX512},AVX512_SPR"),
    ((1, 26), _AVX512),
)


def machine() -> str:
    """The architecture: ``x86_64``, ``aarch64`` or what the system calls it."""
    if hasattr(os, "uname"):
        name = os.uname().machine.lower()
    else:  # Windows
        name = os.environ.get("PROCESSOR_ARCHITECTURE", "").lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(name, name)


def cpu_has_avx2() -> "bool | None":
    """Whether the CPU has AVX2 and FMA, from Linux's ``/proc/cpuinfo``; ``None`` elsewhere.

    torch takes ``ATEN_CPU_CAPABILITY=avx2`` on trust (a CPU without it would stop on an illegal
    instruction), and so does OpenBLAS its core type: they are pinned only where it holds.
    """
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as file:
            for line in file:
                if line.startswith("flags"):
                    flags = line.split()
                    return "avx2" in flags and "fma" in flags
    except OSError:
        pass
    return None


def numpy_version() -> "tuple[int, int] | None":
    """numpy's version as the next ``import numpy`` would find it, read without importing it
    (its features are fixed at that import): from ``numpy/version.py`` on ``sys.path``."""
    for directory in sys.path:
        try:
            with open(os.path.join(directory or os.curdir, "numpy", "version.py")) as file:
                text = file.read(4096)
        except OSError:
            continue
        for line in text.splitlines():
            name, equals, value = line.partition("=")
            if equals and name.strip() == "version":
                major, _, rest = value.strip().strip("\"'").partition(".")
                minor = rest.partition(".")[0]
                if major.isdigit() and minor.isdigit():
                    return int(major), int(minor)
        return None
    return None


def numpy_features_above_avx2(version: "tuple[int, int] | None") -> "str | None":
    for first, features in NUMPY_FEATURES_ABOVE_AVX2:
        if version is not None and version >= first:
            return features
    return None


def plan_pins(
    threads: int, environ: "Mapping[str, str]"
) -> "tuple[dict[str, str], dict[str, str]]":
    """What ``AUTOSEED_PORTABLE`` pins on this machine, with ``environ`` (variable -> value),
    and what it cannot pin here (variable -> why)."""
    pins, unpinned = _library_pins(threads, environ)
    numpy_pin, numpy_why = _numpy_pin()
    pins.update(numpy_pin)
    unpinned.update(numpy_why)
    return pins, unpinned


def _library_pins(
    threads: int, environ: "Mapping[str, str]"
) -> "tuple[dict[str, str], dict[str, str]]":
    """The pins of threads, torch, the BLAS libraries and Inductor; numpy's are apart."""
    pins = dict.fromkeys(THREAD_VARIABLES, thread_count(threads, environ))
    # MKL may use fewer threads than asked where it judges more would not pay: never.
    pins["MKL_DYNAMIC"] = "FALSE"
    unpinned: dict[str, str] = {}
    architecture = machine()
    if architecture == "x86_64":
        avx2 = cpu_has_avx2()
        if avx2:
            pins.update(
                ATEN_CPU_CAPABILITY="avx2",
                OPENBLAS_CORETYPE="Haswell",
                MKL_CBWR="AVX2",
                ONEDNN_MAX_CPU_ISA="AVX2",
            )
        else:
            why = (
                "this CPU has no AVX2, so its results cannot match an AVX2 machine's"
                if avx2 is False
                else "whether this CPU has AVX2 is known only on Linux"
            )
            unpinned.update(dict.fromkeys(ISA_VARIABLES, why))
    elif architecture == "aarch64":
        # NEON is every aarch64 CPU's; torch's SVE kernels and OpenBLAS's per-core ones are not.
        pins.update(ATEN_CPU_CAPABILITY="default", OPENBLAS_CORETYPE="ARMV8")
        unpinned.update(dict.fromkeys(("MKL_CBWR", "ONEDNN_MAX_CPU_ISA"), "not pinned on aarch64"))
    else:
        unpinned.update(
            dict.fromkeys(ISA_VARIABLES, f"not pinned on {architecture or 'this architecture'}")
        )
    pins[INDUCTOR_DETERMINISTIC_VARIABLE] = "1"
    return pins, unpinned


def thread_count(threads: int, environ: "Mapping[str, str]") -> str:
    """The one thread count: the user's, where they set one of the thread variables (torch
    reads MKL's over OpenMP's, OpenBLAS OpenMP's where its own is unset: one count for all, or
    the libraries would split by different counts), else ``AUTOSEED_PORTABLE``'s."""
    for variable in THREAD_VARIABLES:
        count = environ.get(variable, "").strip()
        if count.isascii() and count.isdigit() and set_by_user(variable, environ):
            return count
    return str(threads)


def disagreeing_thread_counts(environ: "Mapping[str, str]") -> "str | None":
    """A line for thread counts the user set that differ from each other (torch follows MKL's,
    OpenBLAS OpenMP's: the libraries would split by different counts), or ``None``."""
    counts = {
        variable: environ[variable]
        for variable in THREAD_VARIABLES
        if set_by_user(variable, environ) and environ[variable].strip()
    }
    if len({value.strip() for value in counts.values()}) < 2:
        return None
    given = " and ".join(f"{variable}={value!r}" for variable, value in counts.items())
    return (
        f"AUTOSEED_PORTABLE: you set {given}: the libraries split their work by different "
        "counts, so another machine may not give the same bits; set one count"
    )


def _numpy_pin() -> "tuple[dict[str, str], dict[str, str]]":
    """numpy's features above AVX2 switched off (x86-64), or why not."""
    architecture = machine()
    if architecture != "x86_64":
        why = f"not pinned on {architecture or 'this architecture'}"
        return {}, {NUMPY_FEATURES_VARIABLE: why}
    version = numpy_version()
    features = numpy_features_above_avx2(version)
    if features is not None:
        return {NUMPY_FEATURES_VARIABLE: features}, {}
    if version is None:
        return {}, {NUMPY_FEATURES_VARIABLE: "no numpy here whose version autoseed can read"}
    why = (
        f"numpy {version[0]}.{version[1]} is older than the versions whose CPU features "
        "autoseed knows (1.26 and later)"
    )
    return {}, {NUMPY_FEATURES_VARIABLE: why}


def _marked(environ: "Mapping[str, str]") -> "set[str]":
    return set(environ.get(PINNED_VARIABLE, "").split())


def set_by_user(variable: str, environ: "Mapping[str, str]") -> bool:
    """Whether the user set ``variable`` (or what stands for it): autoseed then leaves it."""
    if any(environ.get(other, "").strip() for other in USER_ALTERNATIVES.get(variable, ())):
        return True
    value = environ.get(variable, "")
    # Empty is unset to the libraries: pinned.
    return bool(value.strip()) and f"{variable}={value}" not in _marked(environ)


def pin_environment(threads: int) -> None:
    """Put the pins into ``os.environ`` (so into every child's), except the user's own."""
    _pin(_library_pins(threads, os.environ)[0])
    # numpy is looked for on sys.path, which site.py is still building while the start-up runs
    # (a venv's base site-packages comes after it): at the program's next import, before any
    # import of numpy.
    before_next_import(_pin_numpy)
    disagreeing = disagreeing_thread_counts(os.environ)
    if disagreeing is not None:
        say_once(disagreeing)
    count = int(thread_count(threads, os.environ))
    usable = available_cpus()
    if usable is not None and count > usable:
        say_once(
            f"AUTOSEED_PORTABLE: {count} threads, but this process may use only {usable} "
            f"CPU{'s' if usable > 1 else ''}, and OpenBLAS uses at most that many threads: "
            f"numpy's results may differ from a machine with {count}"
        )


@reported("pin numpy's CPU features")
def _pin_numpy() -> None:
    _pin(_numpy_pin()[0])


def _pin(pins: "dict[str, str]") -> None:
    marked = _marked(os.environ)
    for variable, value in pins.items():
        if set_by_user(variable, os.environ):
            continue
        marked.discard(f"{variable}={os.environ.get(variable)}")
        os.environ[variable] = value
        marked.add(f"{variable}={value}")
    os.environ[PINNED_VARIABLE] = " ".join(sorted(marked))


def available_cpus() -> "int | None":
    """The CPUs this process may run on (``taskset``, cgroups' cpusets), else all of them."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count()


def pins_in_force(threads: int, environ: "Mapping[str, str]") -> "dict[str, tuple[str, str]]":
    """Every pin of ``AUTOSEED_PORTABLE=threads`` here: variable -> (value in force, who set
    it: :data:`BY_AUTOSEED` or :data:`BY_USER`). ``environ`` is a process's environment
    after autoseed pinned it, or one before, to say what a process started there gets."""
    pins, _ = plan_pins(threads, environ)
    found: dict[str, tuple[str, str]] = {}
    for variable, value in pins.items():
        others = [o for o in USER_ALTERNATIVES.get(variable, ()) if environ.get(o, "").strip()]
        if others:  # the user's own variable for the same thing, listed by its name
            found[others[0]] = (environ[others[0]], BY_USER)
        elif set_by_user(variable, environ):
            found[variable] = (environ[variable], BY_USER)
        else:
            found[variable] = (value, BY_AUTOSEED)
    found[TF32_SETTING] = ("off", BY_AUTOSEED)
    return found


def unpinned_here(threads: int) -> "dict[str, str]":
    """The pins ``AUTOSEED_PORTABLE`` cannot set on this machine, and why."""
    return plan_pins(threads, {})[1]


def keep_inductor_deterministic(torch: "Any") -> None:
    """Keep Inductor's deterministic mode on through ``torch.compile``.

    ``TORCHINDUCTOR_DETERMINISTIC=1`` is read once, but torch (2.13) ties the mode to
    ``use_deterministic_algorithms``, which ``torch._dynamo`` calls after each frame it compiles
    to restore the flag it found: off, unless deterministic algorithms are on. Whatever that
    call turns off, the pin turns back on.
    """
    from autoseed.seeding.calls import mark_wrapper, original_of

    original = original_of(getattr(torch, "use_deterministic_algorithms", None))
    if original is None:
        return

    def use_deterministic_algorithms(*args: "Any", **kwargs: "Any") -> "Any":
        result = original(*args, **kwargs)
        config: Any = sys.modules.get("torch._inductor.config")
        if config is not None and os.environ.get(INDUCTOR_DETERMINISTIC_VARIABLE) == "1":
            config.deterministic = True
        return result

    torch.use_deterministic_algorithms = mark_wrapper(use_deterministic_algorithms, original)
