"""A workload whose bits depend on the machine: prints one digest for torch, one for numpy.

torch: a small conv-net trained for a few steps (its reductions split by thread count, its
kernels by CPU level). numpy: an SVD and a matmul large enough for OpenBLAS to use threads,
and transcendental functions whose SIMD loops differ by CPU feature. Seeds itself, so that it
runs the same with or without AUTOSEED.
"""

import hashlib

import numpy as np
import torch


def torch_digest() -> str:
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(16, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(4),
        torch.nn.Flatten(),
        torch.nn.Linear(256, 10),
    )
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    images, labels = torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,))
    for _ in range(5):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(images), labels).backward()
        optimizer.step()
    digest = hashlib.sha256()
    for parameter in net.parameters():
        digest.update(parameter.detach().numpy().tobytes())
    return digest.hexdigest()[:16]


def numpy_digest() -> str:
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((300, 300))
    digest = hashlib.sha256(np.linalg.svd(matrix, compute_uv=False).tobytes())
    digest.update((matrix @ matrix.T).tobytes())
    values = rng.standard_normal(100_000) * 3
    for array in (values, values.astype(np.float32)):
        for function in (np.tan, np.arctan, np.log1p, np.expm1, np.sinh):
            with np.errstate(all="ignore"):
                digest.update(function(np.abs(array) if function is np.log1p else array).tobytes())
    return digest.hexdigest()[:16]


print(torch_digest(), numpy_digest())
