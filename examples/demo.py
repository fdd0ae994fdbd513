"""Show an unmodified script becoming reproducible under AUTOSEED.

    python examples/demo.py

Runs ``examples/legacy_train.py`` (which seeds nothing) twice as it is and twice under
``AUTOSEED=1024``, with the interpreter running this demo, where autoseed is installed.
Exits 0 when the seeded runs are identical and the unseeded ones are not.
"""

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("legacy_train.py")


def run_legacy(seed: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOSEED")}
    env.pop("PYTHONHASHSEED", None)
    if seed is not None:
        env["AUTOSEED"] = seed
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


def show(title: str, outputs: list[str]) -> bool:
    same = outputs[0] == outputs[1]
    print(f"== {title}: {'identical' if same else 'different'}")
    for number, output in enumerate(outputs, 1):
        print(f"-- run {number}")
        print(output.rstrip())
    print()
    return same


def main() -> int:
    print(f"$ python {SCRIPT.name}   (twice, then twice with AUTOSEED=1024)\n")
    unseeded_same = show("without AUTOSEED", [run_legacy(None), run_legacy(None)])
    seeded_same = show("AUTOSEED=1024", [run_legacy("1024"), run_legacy("1024")])
    if seeded_same and not unseeded_same:
        print(
            "Reproducible: the same AUTOSEED gives bit-identical results; the script is untouched."
        )
        return 0
    print("Unexpected: is autoseed installed in this interpreter? Try `autoseed status`.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
