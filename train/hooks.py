"""mmengine hooks that make runs reproducible, resumable and easy to read.

- :class:`EpochSeedHook` reseeds torch/numpy/random from ``(seed, epoch)`` at every epoch
  start: a resumed run repeats the uninterrupted one exactly (dropout masks included).
- :class:`ExportHook` writes ``last.pt`` (and ``best.pt`` on the best validation MPJPE) in
  the toolkit's native checkpoint format with the normalisation and run metadata, and a
  ``metrics.csv`` with one row per epoch.
- :class:`DebugHook` injects a NaN at a given iteration and can stop after an epoch (as a
  kill would): the tests of the NaN guard and of resuming use it.
- :class:`ProgressHook`: tqdm over each epoch's iterations and a line per validation.
"""

from __future__ import annotations

import csv
import io
import math
import random
import time
from pathlib import Path

import numpy as np
import torch
from mmengine.dist import master_only
from mmengine.hooks import Hook
from tqdm import tqdm

from hpd3d import atomic
from train.models import Lifter, save_checkpoint


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class EpochSeedHook(Hook):
    """Reseed torch/numpy/random from (seed, epoch) at every epoch start."""

    priority = "VERY_HIGH"

    def __init__(self, seed: int):
        self.seed = int(seed)

    def before_train_epoch(self, runner) -> None:
        seed_everything(int(np.random.SeedSequence([self.seed, runner.epoch]).generate_state(1)[0]))


def _lifter_of(runner) -> Lifter:
    model = runner.model.module if hasattr(runner.model, "module") else runner.model
    return model.lifter


def _ema_lifter(runner) -> Lifter | None:
    from mmengine.hooks import EMAHook

    for h in runner.hooks:
        if isinstance(h, EMAHook) and getattr(h, "ema_model", None) is not None:
            return h.ema_model.module.lifter
    return None


class ExportHook(Hook):
    """Native ``last.pt`` / ``best.pt`` checkpoints and ``metrics.csv`` in the work dir.

    ``extra`` is stored in every exported checkpoint (normalisation, window, data, …);
    ``epoch``, ``iter`` and the latest validation ``metrics`` are added. With EMA the EMA
    weights are exported (they are what validation measured).
    """

    priority = "LOWEST"  # after CheckpointHook and after EMAHook swapped the weights back
    COLUMNS = ("epoch", "iter", "lr", "loss", "val_mpjpe", "val_p_mpjpe", "val_n_mpjpe", "time_s")

    def __init__(self, extra: dict, best_key: str = "val/mpjpe"):
        self.extra = extra
        self.best_key = best_key
        self.best = math.inf
        self.rows: list[dict] = []
        self._loss_sum = 0.0
        self._loss_n = 0
        self._t0 = time.perf_counter()
        self._pending: dict | None = None

    # -- bookkeeping ------------------------------------------------------------------
    def before_train(self, runner) -> None:
        work = Path(runner.work_dir)
        csv_path = work / "metrics.csv"
        if csv_path.is_file():  # resumed: keep the rows of the epochs already done
            with open(csv_path, newline="") as f:
                self.rows = [r for r in csv.DictReader(f) if int(r["epoch"]) <= runner.epoch]
            best = [float(r["val_mpjpe"]) for r in self.rows if r.get("val_mpjpe")]
            self.best = min(best, default=math.inf)

    def before_train_epoch(self, runner) -> None:
        self._loss_sum, self._loss_n = 0.0, 0
        self._t0 = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if outputs and "loss" in outputs:
            self._loss_sum += float(outputs["loss"])
            self._loss_n += 1

    def after_train_epoch(self, runner) -> None:
        lr = runner.optim_wrapper.get_lr()["lr"][0]
        self._pending = dict(epoch=runner.epoch + 1, iter=runner.iter, lr=f"{lr:.6g}",
                             loss=f"{self._loss_sum / max(self._loss_n, 1):.6g}",
                             val_mpjpe="", val_p_mpjpe="", val_n_mpjpe="",
                             time_s=f"{time.perf_counter() - self._t0:.2f}")
        self._export(runner, "last.pt", {})
        if not self._val_due(runner):
            self._flush(runner)

    def _val_due(self, runner) -> bool:
        loop = runner.train_loop
        if runner.val_loop is None:
            return False
        e = runner.epoch + 1
        return e >= loop.val_begin and (e % loop.val_interval == 0 or e == loop.max_epochs)

    def after_val_epoch(self, runner, metrics=None) -> None:
        metrics = dict(metrics or {})
        if self._pending is None:  # a validation outside training
            return
        for k in ("mpjpe", "p_mpjpe", "n_mpjpe"):
            if f"val/{k}" in metrics:
                self._pending[f"val_{k}"] = f"{metrics[f'val/{k}']:.4f}"
        clean = {k: float(v) for k, v in metrics.items()}
        self._export(runner, "last.pt", clean)
        value = metrics.get(self.best_key)
        if value is not None and value < self.best:
            self.best = float(value)
            self._export(runner, "best.pt", clean)
        self._flush(runner)

    @master_only  # one process writes the run's files (DDP)
    def _flush(self, runner) -> None:
        row, self._pending = self._pending, None
        self.rows = [r for r in self.rows if int(r["epoch"]) < row["epoch"]] + [row]
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=self.COLUMNS)
        w.writeheader()
        w.writerows(self.rows)
        atomic.write_text(Path(runner.work_dir) / "metrics.csv", buf.getvalue())

    @master_only
    def _export(self, runner, name: str, metrics: dict) -> None:
        lifter = _ema_lifter(runner) or _lifter_of(runner)
        meta = dict(self.extra.get("meta", {}), epoch=self._pending["epoch"], iter=runner.iter,
                    metrics=metrics, ema=_ema_lifter(runner) is not None)
        extra = {**self.extra, "meta": meta}
        save_checkpoint(lifter, Path(runner.work_dir) / name, **extra)


class DebugHook(Hook):
    """``nan_at_iter``: feed NaN inputs at that (global, 0-based) iteration;
    ``stop_after_epoch``: end training after that many epochs, as if killed there."""

    priority = "HIGHEST"

    def __init__(self, nan_at_iter: int | None = None, stop_after_epoch: int | None = None):
        self.nan_at_iter = nan_at_iter
        self.stop_after_epoch = stop_after_epoch

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if self.nan_at_iter is not None and runner.iter == self.nan_at_iter and data_batch:
            data_batch["inputs"].fill_(float("nan"))

    def after_train_epoch(self, runner) -> None:
        if self.stop_after_epoch is not None and runner.epoch + 1 >= self.stop_after_epoch:
            runner.train_loop.stop_training = True


class ProgressHook(Hook):
    """tqdm over the iterations of each epoch, and a one-line summary per validation."""

    priority = "LOW"

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.bar = None

    def before_train_epoch(self, runner) -> None:
        self.bar = tqdm(total=len(runner.train_dataloader), unit="it", leave=False,
                        desc=f"epoch {runner.epoch + 1}/{runner.max_epochs}",
                        disable=not self.enabled or None)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self.bar is not None:
            self.bar.update(1)
            if outputs and "loss" in outputs and batch_idx % 10 == 0:
                self.bar.set_postfix(loss=f"{float(outputs['loss']):.4g}")

    def after_train_epoch(self, runner) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self.enabled and metrics and "val/mpjpe" in metrics:
            tqdm.write(f"epoch {runner.epoch}/{runner.max_epochs}: val MPJPE "
                       f"{metrics['val/mpjpe']:.1f} mm, P-MPJPE {metrics['val/p_mpjpe']:.1f} mm, "
                       f"N-MPJPE {metrics['val/n_mpjpe']:.1f} mm")
