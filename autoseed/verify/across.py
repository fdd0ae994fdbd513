"""``verify --save`` and ``--against``: the same command on another machine, compared with a
reference saved on this one.

The reference holds the seed, what was compared and each output's digest, and the fingerprint
of the machine that saved it. The check runs the command once with the reference's seed and
compares digests; where they differ it names the fields of the two fingerprints that differ,
and ``AUTOSEED_PORTABLE`` where its pins would remove the difference. The reference is data from
disk: read as a regular file of bounded size, and checked whole before anything is run.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from autoseed.names import MAX_SEED, warn
from autoseed.record.data_file import DataFileError, read_json, write_json
from autoseed.record.differences import (
    DECIDES_NO_BITS,
    fingerprint_differences,
    portable_advice,
)
from autoseed.record.fingerprint import FINGERPRINT_VERSION
from autoseed.settings.plan import SEED_VARIABLE
from autoseed.verify.runs import (
    NOTHING_COMPARED,
    Comparison,
    RunOutcome,
    nothing_to_compare,
    run_once,
    say_failures,
)
from autoseed.verify.verdict import NOTHING_COMPARED_STATUS

REFERENCE_FORMAT = "autoseed verify reference"
REFERENCE_VERSION = 1
# A reference holds digests and a fingerprint (a few KB): anything much larger is not one.
MAX_REFERENCE_BYTES = 1 << 20
_SHORT = 12  # hex digits of a digest shown in a message


class FingerprintError(Exception):
    """No interpreter could take the fingerprint: what each said."""


class ReferenceError(Exception):
    """Why a reference cannot be used, worded to follow its path."""


class Reference:
    """A reference, checked whole: the seed, what was compared, the digests, the fingerprint."""

    __slots__ = ("command", "seed", "compare", "with_stderr", "ignore", "outputs", "fingerprint")

    def __init__(
        self,
        command: list[str],
        seed: int,
        comparison: Comparison,
        outputs: dict[str, str],
        fingerprint: dict[str, Any],
    ) -> None:
        self.command = command
        self.seed = seed
        self.compare = list(comparison.compare)
        self.with_stderr = comparison.with_stderr
        self.ignore = [pattern.pattern for pattern in comparison.ignore]
        self.outputs = outputs
        self.fingerprint = fingerprint

    def comparison(self, keep: str | None) -> Comparison:
        """What the check compares: what the reference compared."""
        return Comparison(self.compare, with_stderr=self.with_stderr, ignore=self.ignore, keep=keep)

    def as_json(self) -> dict[str, Any]:
        return {
            "format": REFERENCE_FORMAT,
            "version": REFERENCE_VERSION,
            "command": self.command,
            "seed": self.seed,
            "compared": {"files": self.compare, "stderr": self.with_stderr, "ignore": self.ignore},
            "outputs": self.outputs,
            "fingerprint": self.fingerprint,
        }


def output_digests(outcome: RunOutcome) -> dict[str, str]:
    """Each compared output's sha256, as compared (stderr without autoseed's lines, less what
    ``--ignore`` matches)."""
    return {name: hashlib.sha256(data or b"").hexdigest() for name, data in outcome.outputs.items()}


def _run(
    command: list[str], env: Mapping[str, str], comparison: Comparison, seed: int, lines: list[str]
) -> RunOutcome | int:
    """One seeded run, or the exit status where it failed (1) or compared nothing (3), said
    in ``lines``."""
    outcome = run_once(command, env, comparison, f"run ({SEED_VARIABLE}={seed})", kept_as="run-1")
    if say_failures([outcome], lines):
        return 1
    if nothing_to_compare([outcome]):
        compared = "stdout and stderr" if comparison.with_stderr else "stdout"
        files = f" and {', '.join(comparison.compare)}" if comparison.compare else ""
        lines.append(
            f"{NOTHING_COMPARED}: the command left {compared}{files} empty, so equal digests "
            "prove nothing; add --stderr if it logs there, or --compare FILE for what it writes"
        )
        return NOTHING_COMPARED_STATUS
    return outcome


def fingerprint_of(python: str | None, env: Mapping[str, str]) -> dict[str, Any]:
    """The fingerprint that a process started with ``env`` takes: asked of the command's own
    interpreter (``python``) where it has autoseed, else of this one's."""
    tried: list[str] = []
    for interpreter in dict.fromkeys([python or sys.executable, sys.executable]):
        try:
            result = subprocess.run(
                [interpreter, "-m", "autoseed", "fingerprint", "--json"],
                env=dict(env),
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=600,
            )
        except (OSError, subprocess.SubprocessError) as error:
            tried.append(f"{interpreter}: {error}")
            continue
        try:
            fingerprint = json.loads(result.stdout) if result.returncode == 0 else None
        except ValueError:
            fingerprint = None
        if isinstance(fingerprint, dict):
            return fingerprint
        tail = result.stderr.decode(errors="replace").strip().splitlines()[-1:]
        tried.append(f"{interpreter}: exit status {result.returncode} {' '.join(tail)}".strip())
    raise FingerprintError("; ".join(tried))


def save(
    path: str,
    command: list[str],
    *,
    seed: int,
    env: Mapping[str, str],
    comparison: Comparison,
    python: str | None,
    as_json: bool,
) -> int:
    """``verify --save``: 0 saved; 1 the run failed; 3 nothing to compare."""
    lines: list[str] = []
    outcome = _run(command, env, comparison, seed, lines)
    status = outcome if isinstance(outcome, int) else 0
    if isinstance(outcome, int):
        report: dict[str, Any] = {"verdict": "failed" if status == 1 else NOTHING_COMPARED}
    else:
        fingerprint = fingerprint_of(python, env)
        reference = Reference(command, seed, comparison, output_digests(outcome), fingerprint)
        try:
            write_json(path, reference.as_json())
        except OSError as error:
            warn(f"verify: --save {path}: cannot be written ({error.strerror or error})")
            return 1
        report = {"verdict": "saved", **reference.as_json()}
        digests = ", ".join(
            f"{name} {digest[:_SHORT]}" for name, digest in reference.outputs.items()
        )
        lines.append(
            f"saved the reference {path} ({SEED_VARIABLE}={seed}): {digests}; "
            f"this machine: {_machine(fingerprint)}"
        )
        lines.append(f"check elsewhere: autoseed verify --against {path} -- {_shell(command)}")
    _print(report, lines, as_json)
    return status


def check_against(
    path: str,
    reference: Reference,
    command: list[str],
    *,
    env: Mapping[str, str],
    comparison: Comparison,
    python: str | None,
    as_json: bool,
) -> int:
    """``verify --against``: 0 the outputs equal the reference's; 1 they differ (or the run
    failed); 3 nothing to compare. ``comparison`` is the reference's."""
    lines: list[str] = []
    if command != reference.command:
        lines.append(f"note: {path} was saved for `{_shell(reference.command)}`")
    outcome = _run(command, env, comparison, reference.seed, lines)
    if isinstance(outcome, int):
        _print({"verdict": "failed" if outcome == 1 else NOTHING_COMPARED}, lines, as_json)
        return outcome
    here = fingerprint_of(python, env)
    digests = output_digests(outcome)
    differing = [name for name in reference.outputs if digests.get(name) != reference.outputs[name]]
    differences = fingerprint_differences(reference.fingerprint, here)
    seed = f"{SEED_VARIABLE}={reference.seed}"
    if differing:
        lines.append(
            f"differs from the reference {path} ({seed}): "
            + "; ".join(
                f"{name} (sha256 {str(digests.get(name))[:_SHORT]} here, "
                f"{reference.outputs[name][:_SHORT]} in the reference)"
                for name in differing
            )
        )
    else:
        lines.append(
            f"matches the reference {path} ({seed}): {', '.join(reference.outputs)} identical"
        )
    if differences:
        lines.append(
            "this machine differs from the reference's in:"
            if differing
            else "the outputs agree although this machine differs from the reference's in:"
        )
        lines.extend(f"  {difference.describe()}" for difference in differences)
    deciding = [d for d in differences if d.cause not in DECIDES_NO_BITS]
    if differing and not deciding:
        agree = "the fingerprints agree" + (
            " on all that decides the bits (the CPUs alone decide none)" if differences else ""
        )
        lines.append(
            f"{agree}: the difference is not the machine's; check that the command repeats "
            f"here: autoseed verify -- {_shell(command)}"
        )
    advice = portable_advice(differences, reference.fingerprint, here) if differing else None
    if advice is not None:
        lines.append(advice)
    report = {
        "verdict": "differs from the reference" if differing else "matches the reference",
        "reference": path,
        "seed": reference.seed,
        "differing_outputs": differing,
        "outputs": digests,
        "fingerprint_differences": [difference.as_json() for difference in differences],
        "advice": advice,
        "fingerprint": here,
    }
    _print(report, lines, as_json)
    return 1 if differing else 0


def _print(report: dict[str, Any], lines: list[str], as_json: bool) -> None:
    if as_json:
        print(json.dumps({**report, "lines": lines}, indent=2))
    elif lines:
        print("\n".join(lines))


def _shell(command: list[str]) -> str:
    return shlex.join(command)


def _machine(fingerprint: Mapping[str, Any]) -> str:
    """A few words on what the fingerprint found: threads, ISA, BLAS cores."""
    cpu, threads = fingerprint.get("cpu", {}), fingerprint.get("threads", {})
    words = [
        f"{cpu.get('usable_cpus')} CPU{'s' * (cpu.get('usable_cpus') != 1)}",
        f"torch {threads.get('torch_intra_op')} thread{'s' * (threads.get('torch_intra_op') != 1)}",
        f"ISA {cpu.get('torch_isa')}",
    ]
    words += [
        f"{pool.get('library')} core {pool.get('core')}"
        for pool in fingerprint.get("blas") or []
        if pool.get("core")
    ]
    return ", ".join(words)


def read_reference(path: str) -> Reference:
    """The reference at ``path``, checked whole. Raises :class:`ReferenceError`."""
    try:
        data = read_json(path, MAX_REFERENCE_BYTES)
    except DataFileError as error:
        raise ReferenceError(str(error)) from None
    if not isinstance(data, dict) or data.get("format") != REFERENCE_FORMAT:
        raise ReferenceError(
            f"is not a reference that `autoseed verify --save` wrote (no "
            f'"format": "{REFERENCE_FORMAT}")'
        )
    if data.get("version") != REFERENCE_VERSION:
        raise ReferenceError(
            f"is a reference of version {_scalar(data.get('version'))}; this "
            f"autoseed reads version {REFERENCE_VERSION}"
        )
    command, seed, compared = data.get("command"), data.get("seed"), data.get("compared")
    outputs, fingerprint = data.get("outputs"), data.get("fingerprint")
    if not _strings(command) or not command:
        raise ReferenceError('is damaged: "command" is not a list of words')
    if type(seed) is not int or not 0 <= seed <= MAX_SEED:
        raise ReferenceError(f'is damaged: "seed" is not an integer 0..{MAX_SEED}')
    if not (
        isinstance(compared, dict)
        and _strings(compared.get("files"))
        and isinstance(compared.get("stderr"), bool)
        and _strings(compared.get("ignore"))
    ):
        raise ReferenceError('is damaged: "compared" is not files, stderr and ignore')
    if not (
        isinstance(outputs, dict)
        and outputs
        and all(isinstance(digest, str) and len(digest) == 64 for digest in outputs.values())
    ):
        raise ReferenceError('is damaged: "outputs" is not each output\'s sha256')
    expected = {"stdout", *compared["files"], *(["stderr"] if compared["stderr"] else [])}
    if set(outputs) != expected:
        raise ReferenceError('is damaged: "outputs" does not match what it says was compared')
    fingerprint = _checked_fingerprint(fingerprint)
    try:
        comparison = Comparison(
            compared["files"], with_stderr=compared["stderr"], ignore=compared["ignore"]
        )
    except Exception:  # re.error, or a pattern too deep for re: the file's fault either way
        raise ReferenceError(
            'is damaged: an "ignore" pattern is not a regular expression'
        ) from None
    return Reference(command, seed, comparison, outputs, fingerprint)


_SECTIONS = {
    "cpu": dict,
    "threads": dict,
    "versions": dict,
    "gpu": list,
    "torch_flags": dict,
    "pins": dict,
    "probe": dict,
}


def _checked_fingerprint(fingerprint: Any) -> dict[str, Any]:
    if not isinstance(fingerprint, dict):
        raise ReferenceError('is damaged: "fingerprint" is not an object')
    if fingerprint.get("fingerprint_version") != FINGERPRINT_VERSION:
        raise ReferenceError(
            f"holds a fingerprint of version {_scalar(fingerprint.get('fingerprint_version'))}; "
            f"this autoseed reads version {FINGERPRINT_VERSION}"
        )
    for section, kind in _SECTIONS.items():
        if not isinstance(fingerprint.get(section), kind):
            raise ReferenceError(f'is damaged: the fingerprint\'s "{section}" is missing')
    blas = fingerprint.get("blas")
    if not (blas is None or isinstance(blas, list) and all(isinstance(p, dict) for p in blas)):
        raise ReferenceError('is damaged: the fingerprint\'s "blas" is not a list of libraries')
    if not all(isinstance(gpu, dict) for gpu in fingerprint["gpu"]):
        raise ReferenceError('is damaged: the fingerprint\'s "gpu" is not a list of GPUs')
    if not all(isinstance(value, str | None) for value in fingerprint["pins"].values()):
        raise ReferenceError("is damaged: the fingerprint's \"pins\" are not variables' values")
    if not all(isinstance(value, str) for value in fingerprint["probe"].values()):
        raise ReferenceError('is damaged: the fingerprint\'s "probe" is not digests')
    return fingerprint


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(word, str) for word in value)


def _scalar(value: Any) -> str:
    """A value from the file, shown short whatever it is."""
    text = json.dumps(value)
    return text if len(text) <= 20 else f"{text[:20]}..."
