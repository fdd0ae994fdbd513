"""A Lightning script as users write it: ``seed_everything(42, workers=True)``, then a Trainer
whose DataLoader has 2 workers (Lightning gives each its ``pl_worker_init_function``, which
seeds numpy with an array). The workers add noise from random, numpy and torch.

Usage: python sweep_lightning.py. Prints the final training loss.
"""

import random

import lightning
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


class Noisy(Dataset):  # type: ignore[type-arg]
    def __len__(self) -> int:
        return 32

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        noise = torch.randn(8) + random.random() + float(np.random.rand())
        return torch.full((8,), float(index % 5)) + noise, torch.tensor([float(index % 3)])


class Model(lightning.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1)
        )
        self.last_loss = 0.0

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], index: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.last_loss = loss.item()
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.01)

    def train_dataloader(self) -> DataLoader:  # type: ignore[type-arg]
        return DataLoader(Noisy(), batch_size=8, shuffle=True, num_workers=2)


if __name__ == "__main__":
    lightning.seed_everything(42, workers=True)
    model = Model()
    trainer = lightning.Trainer(
        max_epochs=2, logger=False, enable_progress_bar=False, enable_checkpointing=False,
        enable_model_summary=False, accelerator="cpu", devices=1,
    )  # fmt: skip
    trainer.fit(model)
    print(f"loss {model.last_loss:.6f}", flush=True)
