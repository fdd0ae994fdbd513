"""The probe: a few kernels on fixed inputs, whose digests differ where the kernels differ.

Each part answers for one cause, measured on a 2-CPU AVX-512 machine: torch's sum splits its
work by the thread count; its softmax takes the ISA torch dispatches to (``ATEN_CPU_CAPABILITY``);
OpenBLAS's solve follows its thread count, its SVD its core type (``OPENBLAS_CORETYPE``); numpy's
``exp`` and ``log`` follow its SIMD targets (``NPY_DISABLE_CPU_FEATURES``). The inputs come from
integer arithmetic, never from a generator: the probe draws nothing and seeds nothing, so a
script's random streams are the same with and without it.
"""

from __future__ import annotations

from hashlib import sha256
from types import ModuleType
from typing import Any

# A multiplicative hash (Knuth's) of 0, 1, 2, ...: inputs in [-0.5, 0.5) that are the same
# bits on every machine.
_MULTIPLIER = 2654435761
_MODULUS = 2**32
DIGEST_LENGTH = 16


def _digest(data: bytes) -> str:
    return sha256(data).hexdigest()[:DIGEST_LENGTH]


def _torch_inputs(torch: Any, *shape: int) -> Any:
    count = 1
    for size in shape:
        count *= size
    # On the CPU whatever the script made the default device (torch.set_default_device).
    values = torch.arange(count, dtype=torch.int64, device="cpu") * _MULTIPLIER % _MODULUS
    return (values.to(torch.float64) / _MODULUS - 0.5).to(torch.float32).reshape(shape)


def _numpy_inputs(numpy: Any, *shape: int) -> Any:
    count = 1
    for size in shape:
        count *= size
    values = numpy.arange(count, dtype=numpy.int64) * _MULTIPLIER % _MODULUS
    return (values / _MODULUS - 0.5).reshape(shape)


def probe_torch(torch: ModuleType) -> dict[str, str]:
    """Digests of torch's matmul, conv2d, sum and softmax on fixed float32 inputs."""
    t: Any = torch
    with t.no_grad():
        left = _torch_inputs(t, 128, 160)
        right = _torch_inputs(t, 160, 96).flip(0)
        images = _torch_inputs(t, 2, 8, 32, 32)
        kernels = _torch_inputs(t, 16, 8, 3, 3)
        long = _torch_inputs(t, 1 << 20)
        results = {
            "torch.matmul": left @ right,
            "torch.conv2d": t.nn.functional.conv2d(images, kernels, padding=1),
            "torch.sum": t.stack([long.sum(), long.mul(1.0001).sum(), long.exp().mean()]),
            "torch.softmax": t.softmax(left, 1),
        }
        return {
            name: _digest(value.contiguous().numpy().tobytes()) for name, value in results.items()
        }


def probe_numpy(numpy: ModuleType) -> dict[str, str]:
    """Digests of numpy's matmul, solve and SVD (its BLAS and LAPACK), exp and log (its SIMD
    loops), on fixed float64 inputs."""
    n: Any = numpy
    square = _numpy_inputs(n, 160, 160)
    other = square[::-1].copy()
    values = _numpy_inputs(n, 1 << 16)
    results = {
        "numpy.matmul": square @ other,
        "numpy.solve": n.linalg.solve(square + n.eye(160) * 160, other),
        "numpy.svd": n.linalg.svd(square, compute_uv=False),
        "numpy.exp": n.stack([n.exp(values), n.log(values + 1)]),
    }
    return {name: _digest(n.ascontiguousarray(value).tobytes()) for name, value in results.items()}
