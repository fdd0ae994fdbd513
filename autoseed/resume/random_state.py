"""This process's random state, as plain JSON: ``random``, numpy's legacy generator, torch's
CPU generator and every initialised CUDA device, and autoseed's own counts (the derived
streams' counters and the children numbered so far).

JSON (with the generators' bytes in base64) so that a record loads with any reader, never
through pickle: torch's ``weights_only`` loading refuses pickled numpy objects.
"""

from __future__ import annotations

import base64
import sys
from typing import Any

from autoseed.seeding import streams


def capture() -> dict[str, Any]:
    """The states of the libraries imported in this process."""
    state: dict[str, Any] = {"streams": streams.capture()}
    random = sys.modules.get("random")
    if random is not None:
        version, internal, gauss = random.getstate()
        state["random"] = {"version": version, "state": list(internal), "gauss": gauss}
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        legacy = numpy_random.get_state(legacy=False)
        state["numpy"] = {
            "bit_generator": legacy["bit_generator"],
            "key": [int(word) for word in legacy["state"]["key"]],
            "pos": int(legacy["state"]["pos"]),
            "has_gauss": int(legacy["has_gauss"]),
            "gauss": float(legacy["gauss"]),
        }
    torch = sys.modules.get("torch")
    if torch is not None:
        state["torch"] = _encode(torch.get_rng_state())
        cuda = getattr(torch, "cuda", None)
        if cuda is not None and cuda.is_initialized():
            state["cuda"] = [_encode(device_state) for device_state in cuda.get_rng_state_all()]
    return state


def restore(state: dict[str, Any]) -> list[str]:
    """Put the states back; the names of the libraries restored."""
    restored = []
    random = sys.modules.get("random")
    if random is not None and "random" in state:
        saved = state["random"]
        random.setstate((saved["version"], tuple(saved["state"]), saved["gauss"]))
        restored.append("random")
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None and "numpy" in state:
        import numpy

        saved = state["numpy"]
        key = numpy.array(saved["key"], dtype=numpy.uint32)
        numpy_random.set_state(
            (saved["bit_generator"], key, saved["pos"], saved["has_gauss"], saved["gauss"])
        )
        restored.append("numpy")
    torch = sys.modules.get("torch")
    if torch is not None and "torch" in state:
        torch.set_rng_state(_decode(torch, state["torch"]))
        restored.append("torch")
        if state.get("cuda"):
            torch.cuda.set_rng_state_all([_decode(torch, saved) for saved in state["cuda"]])
            restored.append("cuda")
    streams.restore(state.get("streams", {}))
    return restored


def _encode(tensor: Any) -> str:
    return base64.b64encode(tensor.numpy().tobytes()).decode("ascii")


def _decode(torch: Any, text: str) -> Any:
    return torch.frombuffer(bytearray(base64.b64decode(text)), dtype=torch.uint8).clone()
