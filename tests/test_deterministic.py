"""``AUTOSEED_DETERMINISTIC`` follows today's torch: TF32 off through its current API, Inductor's
deterministic mode, and no deprecation warning; real processes, warnings as errors."""

from __future__ import annotations

import json

import pytest

from conftest import Venv, check, clean_env, describe

pytestmark = pytest.mark.slow

SETTINGS = """
import json, os, torch
torch.compile(lambda x: x * 2, backend="eager")(torch.ones(2))
import torch._inductor.config as inductor
print(json.dumps({
    "matmul": torch.backends.cuda.matmul.fp32_precision,
    "conv": torch.backends.cudnn.conv.fp32_precision,
    "rnn": torch.backends.cudnn.rnn.fp32_precision,
    "legacy": [torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32],
    "inductor": inductor.deterministic,
    "inductor_for_children": os.environ.get("TORCHINDUCTOR_DETERMINISTIC"),
    "algorithms": torch.are_deterministic_algorithms_enabled(),
}))
"""


@pytest.mark.parametrize("value", ["1", "warn"])
def test_tf32_off_and_inductor_deterministic_without_a_warning(installed: Venv, value: str) -> None:
    env = clean_env(AUTOSEED="1", AUTOSEED_DETERMINISTIC=value)
    result = check(installed.run("-W", "error", "-c", SETTINGS, env=env))
    assert result.stderr == "", describe(result)
    seen = json.loads(result.stdout)
    assert (seen["matmul"], seen["conv"], seen["rnn"]) == ("ieee", "ieee", "ieee")
    # torch's older readers still answer (the older cuDNN one raises where the flags disagree)
    assert seen["legacy"] == [False, False]
    assert seen["inductor"] is True and seen["inductor_for_children"] == "1"
    assert seen["algorithms"] is True


def test_left_alone_without_it(installed: Venv) -> None:
    result = check(installed.run("-W", "error", "-c", SETTINGS, env=clean_env(AUTOSEED="1")))
    seen = json.loads(result.stdout)
    assert (seen["conv"], seen["inductor"], seen["inductor_for_children"]) == ("tf32", False, None)
