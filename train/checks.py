"""The training settings checked before anything heavy is imported or read.

:func:`check_config` needs no torch: ``python -m train`` runs it straight after Hydra has
composed the config, so ``trainer.batch_size=1`` or a work dir of another run fails in a
blink with one line, not after the model libraries load or the data is read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from hpd3d.atomic import check_out_dir
from hpd3d.errors import InputError


def _number(cfg, key: str, kind=float, low=None, low_open=False, null=False):
    v = OmegaConf.select(cfg, key)
    if v is None and null:
        return None
    ok = not isinstance(v, bool) and isinstance(v, (int, float) if kind is float else int)
    if ok and kind is float:
        ok = bool(np.isfinite(v))
    if ok and low is not None:
        ok = v > low if low_open else v >= low
    if not ok:
        need = {int: "an integer", float: "a number"}[kind]
        if low is not None:
            need += f" {'>' if low_open else '≥'} {low:g}"
        raise InputError(None, f"{key}={v!r}: must be {need}{' (or null)' if null else ''}")
    return v


def check_config(cfg: DictConfig) -> Path:
    """The settings that would otherwise fail late (or silently do nothing), and the work
    dir, BEFORE any data is read; returns the work dir."""
    _number(cfg, "trainer.max_epochs", int, 1)
    _number(cfg, "trainer.batch_size", int, 2)  # BatchNorm needs two samples per batch
    _number(cfg, "trainer.val_batch_size", int, 1, null=True)
    _number(cfg, "trainer.val_interval", int, 0)
    _number(cfg, "trainer.num_workers", int, 0)
    _number(cfg, "optim.lr", float, 0, low_open=True)
    _number(cfg, "optim.weight_decay", float, 0)
    _number(cfg, "optim.backbone_lr_mult", float, 0)
    _number(cfg, "optim.clip_grad", float, 0, low_open=True, null=True)
    _number(cfg, "scheduler.warmup_iters", int, 0)
    _number(cfg, "checkpoint.interval", int, 1)
    _number(cfg, "log_interval", int, 1)
    _number(cfg, "threads", int, 1, null=True)
    for k, v in OmegaConf.to_container(cfg.loss, resolve=True).items():
        _number(cfg, f"loss.{k}", float, 0)
    work_dir = Path(str(cfg.work_dir))
    if cfg.resume:
        check_out_dir(work_dir, overwrite=True, what="work_dir")
        if not (work_dir / "last_checkpoint").is_file():
            raise InputError(work_dir, "resume=true but no checkpoint to resume from "
                                       "(no last_checkpoint file in the work dir)")
    else:  # a fresh run owns its work dir: no stale epoch_N.pth / metrics.csv of another
        check_out_dir(work_dir, bool(cfg.get("overwrite")), what="work_dir")
    return work_dir
