"""A Lightning Trainer that saves a checkpoint every epoch, and can resume from one.

Usage: python resume_lightning.py DIR [CHECKPOINT] [--keep-last] [--every-2-steps]
(CHECKPOINT: Trainer.fit(ckpt_path=...)). Prints a digest of the final weights.
--keep-last: ModelCheckpoint keeps the last checkpoint only (it deletes the one before);
--every-2-steps: a checkpoint every 2 training steps (4 steps an epoch), named epoch-step.
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
    flags = {word for word in sys.argv[1:] if word.startswith("--")}
    arguments = [word for word in sys.argv[1:] if not word.startswith("--")]
    model = Model()
    if "--every-2-steps" in flags:
        when = {"every_n_train_steps": 2, "filename": "{epoch}-{step}"}
    else:
        when = {"every_n_epochs": 1, "filename": "{epoch}"}
    saving = lightning.pytorch.callbacks.ModelCheckpoint(
        dirpath=arguments[0], save_top_k=1 if "--keep-last" in flags else -1, **when
    )
    trainer = lightning.Trainer(
        max_epochs=4, callbacks=[saving], logger=False, enable_progress_bar=False,
        enable_model_summary=False, accelerator="cpu", devices=1,
    )  # fmt: skip
    trainer.fit(model, ckpt_path=arguments[1] if len(arguments) > 1 else None)
    weights = b"".join(p.detach().numpy().tobytes() for p in model.parameters())
    print("digest", hashlib.sha256(weights).hexdigest(), flush=True)
