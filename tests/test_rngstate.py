"""random_state.parse: a saved random state read back from disk is checked whole, and every way it
can be wrong names the part (pure: random and numpy in this process, nothing restored)."""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Callable
from typing import Any

import numpy.random
import pytest

from autoseed.resume import random_state


def saved() -> dict[str, Any]:
    """A state as a record holds it (through JSON), without torch's part."""
    numpy.random.rand()  # numpy 2 imports numpy.random lazily: make sure it is there
    state = json.loads(json.dumps(random_state.capture()))
    state.pop("torch", None)
    state.pop("cuda", None)
    return state


def test_a_captured_state_parses_and_restores_what_it_captured() -> None:
    state = saved()
    expected = (random.random(), float(numpy.random.rand()))
    restored = random_state.parse(state).restore()
    assert {"random", "numpy"} <= set(restored)
    assert (random.random(), float(numpy.random.rand())) == expected


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def damage(state: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            state = state[key]
        state[last] = value

    return damage


DAMAGES = [
    (_set("random", []), "state.random is not a JSON object"),
    (_set("random.version", 2), "state.random.version is not 3"),
    (_set("random.state", [0] * 625 + [0]), "state.random.state is not 624 integers"),
    (_set("random.state", [2**32] * 624 + [0]), "state.random.state is not 624 integers"),
    (_set("random.state", [True] * 624 + [0]), "state.random.state is not 624 integers"),
    (
        _set("random.state", [0] * 624 + [625]),
        "state.random.state is not 624 integers 0..4294967295 and a position 0..624",
    ),
    (_set("random.gauss", "x"), "state.random.gauss is not a number"),
    (_set("numpy.bit_generator", "PCG64"), "state.numpy.bit_generator is not 'MT19937'"),
    (_set("numpy.key", [0] * 623), "state.numpy.key is not a list of 624 integers"),
    (_set("numpy.key", "0" * 624), "state.numpy.key is not a list of 624 integers"),
    (_set("numpy.pos", 625), "state.numpy.pos is not an integer 0..624"),
    (_set("numpy.pos", 1.0), "state.numpy.pos is not an integer 0..624"),
    (_set("numpy.has_gauss", 2), "state.numpy.has_gauss is not an integer 0..1"),
    (_set("numpy.gauss", None), "state.numpy.gauss is not a number"),
    (_set("torch", "not base64!"), "state.torch is not base64"),
    (_set("cuda", {}), "state.cuda is not a list"),
    (_set("streams", []), "state.streams is not a JSON object"),
    (_set("streams.fork_path", [["fork"]]), "state.streams.fork_path is not a list of"),
    (_set("streams.forks", -1), "state.streams.forks is not an integer 0 or more"),
    (_set("streams.counters", {"numpy": "1"}), "state.streams.counters[] is not an integer"),
    (_set("streams.counted_for", False), "state.streams.counted_for is not an integer"),
]


@pytest.mark.parametrize(("damage", "said"), DAMAGES, ids=[said for _, said in DAMAGES])
def test_every_damaged_part_is_named(damage: Callable[[dict[str, Any]], None], said: str) -> None:
    state = copy.deepcopy(saved())
    damage(state)
    with pytest.raises(random_state.DamagedState, match=f"^{re.escape(said)}"):
        random_state.parse(state)


def test_a_state_that_is_no_object_is_damaged() -> None:
    with pytest.raises(random_state.DamagedState, match="^state is not a JSON object$"):
        random_state.parse([])
