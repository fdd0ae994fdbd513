"""A Lightning Trainer that saves a checkpoint every epoch, and can resume from one.

Usage: python resume_lightning.py DIR [CHECKPOINT]   (CHECKPOINT: Trainer.fit(ckpt_path=...))
Prints a digest of the final weights.
"""

import hashlib
import sys

import lightning
import torch
from resume_train import Noisy  # the same noisy data as the plain loop (this folder)
from torch.utils.data import DataLoader


class Model(lightning.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(8, 16), torch.nn.Dropout(0.3), torch.nn.ReLU(), torch.nn.Linear(16, 1)
        )

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], index: int) -> torch.Tensor:
        x, y = batch
        return torch.nn.functional.mse_loss(self.net(x), y)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.001)

    def train_dataloader(self) -> DataLoader:  # type: ignore[type-arg]
        return DataLoader(Noisy(), batch_size=8, shuffle=True, num_workers=2)


if __name__ == "__main__":
    model = Model()
    saving = lightning.pytorch.callbacks.ModelCheckpoint(
        dirpath=sys.argv[1], save_top_k=-1, every_n_epochs=1, filename="{epoch}"
    )
    trainer = lightning.Trainer(
        max_epochs=4, callbacks=[saving], logger=False, enable_progress_bar=False,
        enable_model_summary=False, accelerator="cpu", devices=1,
    )  # fmt: skip
    trainer.fit(model, ckpt_path=sys.argv[2] if len(sys.argv) > 2 else None)
    weights = b"".join(p.detach().numpy().tobytes() for p in model.parameters())
    print("digest", hashlib.sha256(weights).hexdigest(), flush=True)
