"""Hydra config → mmengine ``Runner``: ``python -m train +exp=… [overrides]``.

:func:`build_runner` turns the composed config (``conf/train.yaml`` + ``conf/exp/*`` +
``conf/model/*`` + ``conf/data/*``) into an mmengine Runner: the lifter wrapped as
:class:`train.mm_model.LifterModel`, our data loaders (:mod:`train.data`), AdamW with gradient
clipping (``optim.backbone_lr_mult`` for fine-tuning), linear warm-up then cosine decay,
epoch-based training with validation (:class:`train.mm_model.PoseMetric`), CheckpointHook
(``epoch_N.pth`` for resuming), LoggerHook, Local + TensorBoard visualiser backends
(``<work_dir>/<timestamp>/vis_data/scalars.json`` and event files), optional EMA, and our
hooks (:mod:`train.hooks`): per-epoch reseeding, native ``last.pt`` / ``best.pt`` +
``metrics.csv`` export, a tqdm progress bar, and the debug hook. :func:`train` runs it and
turns a NaN loss into a one-line error (exit 3) that names the last good checkpoint.

mmengine's own checkpoints (``epoch_N.pth``) pickle its message hub, numpy scalars and
the like; PyTorch ≥ 2.6 refuses those with ``weights_only=True`` (mmengine 0.10 calls
``torch.load`` without the argument, i.e. ``weights_only=True``). Resuming therefore first
reads the file itself as data (:func:`check_resume_file`: a corrupt or unsafe file is one
line, exit 2), then runs inside ``torch.serialization.safe_globals`` with exactly the
inert objects mmengine stores (:func:`train.models.safe_load.safe_globals`), never with
``weights_only=False`` — unless the user says ``trust_checkpoint=true``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import time
import uuid
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from hpd3d import atomic
from hpd3d.errors import InputError
from hpd3d.normalization import Normalization
from train.checks import check_config
from train import distributed
from train.data import DataConfig, build_data, build_loaders, window_for
from train.hooks import DebugHook, EpochSeedHook, ExportHook, ProgressHook, seed_everything
from train.mm_model import HEADS, LifterModel, NonFiniteLoss, PoseMetric, freeze_backbone
from train.models import build_model, load_checkpoint
from train.models.safe_load import allow_safe_globals, load_file, safe_globals, trusted_loads


def mmengine_safe_globals() -> list:
    """The inert non-tensor globals inside mmengine's checkpoints (meta, message hub), for
    ``torch.serialization.safe_globals`` (:func:`train.models.safe_load.safe_globals`)."""
    return safe_globals()


def resume_file(work_dir: Path) -> Path:
    """The ``epoch_N.pth`` mmengine will resume from (what ``last_checkpoint`` names)."""
    last = work_dir / "last_checkpoint"
    if not last.is_file():
        raise InputError(work_dir, "resume=true but no checkpoint to resume from "
                                   "(no last_checkpoint file in the work dir)")
    name = last.read_text().strip()
    if not name:
        raise InputError(last, "empty: it should name the epoch_N.pth to resume from")
    return Path(name)


def check_resume_file(path: Path, trust_checkpoint: bool) -> None:
    """Read the resume file as data before mmengine does (it calls ``torch.load`` itself,
    by default ``weights_only=True``, inside :func:`allow_safe_globals`): a corrupt,
    foreign or unsafe file is one line here, not a traceback from inside mmengine."""
    obj = load_file(path, trust_checkpoint=trust_checkpoint)
    meta = obj.get("meta") if isinstance(obj, dict) else None
    if not (isinstance(meta, dict) and {"epoch", "iter"} <= set(meta)
            and isinstance(obj.get("state_dict"), dict)):
        raise InputError(path, "not an mmengine training checkpoint (no meta epoch/iter and "
                               "state_dict) to resume from")


def build_lifter(mcfg: dict, trust_checkpoint: bool = False):
    """``model`` section → (lifter, load report or None)."""
    config = dict(mcfg.get("config") or {})
    try:
        lifter = build_model(mcfg["name"], **config)
    except (TypeError, ValueError) as e:
        raise InputError(None, f"model: {e}") from None
    report = None
    if mcfg.get("checkpoint"):
        report = load_checkpoint(lifter, mcfg["checkpoint"], format=mcfg.get("format") or "auto",
                                 trust_checkpoint=trust_checkpoint)
    return lifter, report


def _optim_wrapper(cfg, lifter) -> dict:
    o = cfg.optim
    wrapper = dict(
        type="OptimWrapper",
        optimizer=dict(type="AdamW", lr=o.lr, weight_decay=o.weight_decay, betas=tuple(o.betas)),
    )
    if o.clip_grad:
        wrapper["clip_grad"] = dict(max_norm=float(o.clip_grad))
    mult = float(o.backbone_lr_mult)
    if mult != 1.0:  # longest key wins in mmengine: heads keep lr_mult 1
        keys = {"lifter.": dict(lr_mult=mult)}
        keys.update({f"lifter.{h}": dict(lr_mult=1.0) for h in HEADS[lifter.name]})
        wrapper["paramwise_cfg"] = dict(custom_keys=keys)
    return wrapper


def _schedulers(cfg, iters_per_epoch: int) -> list:
    s, epochs = cfg.scheduler, int(cfg.trainer.max_epochs)
    warm = int(min(s.warmup_iters, max(iters_per_epoch * epochs - 1, 0)))
    out = []
    if warm > 0:
        out.append(dict(type="LinearLR", start_factor=s.warmup_start, by_epoch=False, begin=0,
                        end=warm))
    out.append(dict(type="CosineAnnealingLR", by_epoch=True, begin=0, end=epochs, T_max=epochs,
                    eta_min=cfg.optim.lr * s.min_lr_ratio, convert_to_iter_based=True))
    return out


def normalization_from(cfg) -> Normalization:
    n = OmegaConf.to_container(cfg.normalization, resolve=True) if "normalization" in cfg else {}
    return Normalization(**n)


def build_runner(cfg: DictConfig):
    """Everything the run needs, as an mmengine Runner (not yet started)."""
    from mmengine.runner import Runner

    # the process group first: the samplers split the data by rank
    wrapper = distributed.setup(str(cfg.launcher))
    seed = int(cfg.seed)
    seed_everything(seed)  # model initialisation
    mcfg = OmegaConf.to_container(cfg.model, resolve=True)
    lifter, report = build_lifter(mcfg, bool(cfg.get("trust_checkpoint", False)))
    if mcfg.get("freeze_backbone"):
        freeze_backbone(lifter)
    try:
        window = window_for(lifter, mcfg.get("clip_len"))
        chunk = int(mcfg.get("train_chunk") or 1)
        if chunk > 1:
            if not hasattr(lifter, "train_window"):
                raise ValueError(f"model.train_chunk: {lifter.name} trains on its own window "
                                 "(only videopose3d trains on chunks)")
            window = lifter.train_window(chunk)
        norm = normalization_from(cfg)
    except (TypeError, ValueError) as e:
        raise InputError(None, f"config: {e}") from None
    dcfg = DataConfig.from_dict(OmegaConf.to_container(cfg.data, resolve=True))
    table, train_ds, val_ds = build_data(dcfg, window, seed=seed, normalization=norm,
                                         need_val=cfg.trainer.val_interval > 0)
    if len(train_ds) < 2:
        raise InputError(None, f"data: {len(train_ds)} training sample(s); a batch needs at "
                               f"least two (BatchNorm): use more data or a shorter window")
    t = cfg.trainer
    train_loader, val_loader = build_loaders(dcfg, train_ds, val_ds, int(t.batch_size),
                                             t.get("val_batch_size"), seed, int(t.num_workers))
    iters = len(train_loader)
    loss = OmegaConf.to_container(cfg.loss, resolve=True)
    unknown = sorted(set(loss) - {"mpjpe", "n_mpjpe", "velocity"})
    if unknown:
        raise InputError(None, f"loss: unknown term(s) {unknown} (mpjpe, n_mpjpe, velocity)")
    model = LifterModel(lifter, single_frame=window.single_frame, loss=loss,
                        frozen_backbone=bool(mcfg.get("freeze_backbone")))
    work_dir = Path(cfg.work_dir)
    extra = dict(
        normalization=norm.to_dict(),
        window=window_for(lifter, mcfg.get("clip_len")).to_dict(),  # the window to lift with
        joints="h36m",
        meta=dict(exp=str(cfg.exp), data=table.describe(), data_config=dcfg.describe(),
                  seed=seed, fine_tuned_from=mcfg.get("checkpoint"), train_window=window.to_dict(),
                  command=" ".join(["python -m train", *sys.argv[1:]])),
    )
    ckpt = cfg.checkpoint
    default_hooks = dict(
        timer=dict(type="IterTimerHook"),
        logger=dict(type="LoggerHook", interval=int(cfg.log_interval), log_metric_by_epoch=True),
        param_scheduler=dict(type="ParamSchedulerHook"),
        checkpoint=dict(type="CheckpointHook", interval=int(ckpt.interval), by_epoch=True,
                        save_last=True, max_keep_ckpts=int(ckpt.max_keep)),
        sampler_seed=dict(type="DistSamplerSeedHook"),
    )
    custom_hooks = [EpochSeedHook(seed), ExportHook(extra), ProgressHook(bool(cfg.progress)),
                    DebugHook(cfg.debug.nan_at_iter, cfg.debug.stop_after_epoch)]
    if cfg.ema:
        custom_hooks.append(dict(type="EMAHook", momentum=float(cfg.ema_momentum),
                                 update_buffers=False, priority="NORMAL"))
    val_kw = {}
    if val_loader is not None and t.val_interval > 0:
        val_kw = dict(val_dataloader=val_loader, val_cfg=dict(type="ValLoop"),
                      val_evaluator=[PoseMetric()])
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    quiet = contextlib.nullcontext() if cfg.verbose else contextlib.redirect_stdout(io.StringIO())
    with quiet:  # mmengine logs its environment while it builds; keep that in the log file
        runner = Runner(
            model=model,
            work_dir=str(work_dir),
            train_dataloader=train_loader,
            train_cfg=dict(by_epoch=True, max_epochs=int(t.max_epochs),
                           val_interval=max(1, int(t.val_interval))),
            optim_wrapper=_optim_wrapper(cfg, lifter),
            param_scheduler=_schedulers(cfg, iters),
            default_hooks=default_hooks,
            custom_hooks=custom_hooks,
            visualizer=dict(type="Visualizer", vis_backends=[dict(type="LocalVisBackend"),
                                                             dict(type="TensorboardVisBackend")]),
            log_processor=dict(by_epoch=True, window_size=int(cfg.log_interval)),
            randomness=dict(seed=seed, deterministic=bool(cfg.deterministic)),
            launcher=str(cfg.launcher),
            cfg=dict(model_wrapper_cfg=wrapper) if wrapper else None,
            env_cfg=dict(cudnn_benchmark=False, dist_cfg=dict(backend=backend)),
            resume=bool(cfg.resume),
            log_level="INFO",
            experiment_name=f"{cfg.exp}_{time.strftime('%Y%m%d_%H%M%S')}_{uuid.uuid4().hex[:6]}",
            **val_kw,
        )
    if not cfg.verbose:  # the log file keeps everything; the console gets tqdm + summaries
        for h in runner.logger.handlers:
            if type(h) is logging.StreamHandler:
                h.setStream(sys.stdout)
                h.setLevel(logging.ERROR)
    info = dict(runner=runner, lifter=lifter, table=table, train=train_ds, val=val_ds,
                window=window, load_report=report, iters_per_epoch=iters)
    return info


def _last_good(work_dir: Path) -> str:
    last = work_dir / "last_checkpoint"
    if last.is_file():
        return last.read_text().strip()
    return "none (no epoch finished)"


def _stash_work_dir(work_dir: Path) -> Path | None:
    """overwrite=true on a fresh run: move the old work dir aside (it goes as a whole once
    the run is built; a run that fails to start puts it back)."""
    import tempfile

    if not (work_dir.is_dir() and any(work_dir.iterdir())):
        return None
    old = Path(tempfile.mkdtemp(prefix=f".{work_dir.name}.", suffix=".old", dir=work_dir.parent))
    work_dir.replace(old / work_dir.name)
    return old


def _unstash(work_dir: Path, old: Path | None, restore: bool) -> None:
    import shutil

    if old is None:
        return
    if restore:
        shutil.rmtree(work_dir, ignore_errors=True)
        (old / work_dir.name).replace(work_dir)
    shutil.rmtree(old, ignore_errors=True)


def train(cfg: DictConfig) -> Path:
    """Run training; returns the work dir. Raises InputError for bad input and
    NonFiniteLoss (with the last good checkpoint in the message) on divergence."""
    t0 = time.perf_counter()
    if cfg.get("threads"):
        torch.set_num_threads(int(cfg.threads))
    work_dir = check_config(cfg)
    trust = bool(cfg.get("trust_checkpoint", False))
    if cfg.resume:
        check_resume_file(resume_file(work_dir), trust)
    stash = None if cfg.resume else _stash_work_dir(work_dir)
    try:
        info = build_runner(cfg)
    except BaseException:
        _unstash(work_dir, stash, restore=True)
        raise
    _unstash(work_dir, stash, restore=False)
    runner = info["runner"]
    work_dir.mkdir(parents=True, exist_ok=True)
    atomic.write_text(work_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    n = info["lifter"].num_parameters()
    say = print if distributed.is_main() else (lambda *a, **k: None)  # rank 0 speaks
    say(f"train: {cfg.exp}: {info['lifter'].name} ({n / 1e6:.2f} M parameters), "
          f"{len(info['train'])} training / {len(info['val'])} validation samples "
          f"({info['table'].num_frames} 2D poses), {info['iters_per_epoch']} iterations/epoch, "
          f"work dir {work_dir}")
    if info["load_report"] is not None:
        r = info["load_report"]
        say(f"train: fine-tuning from {r.source} ({r.format}, {r.loaded} tensors)")
    try:
        with allow_safe_globals(), trusted_loads(trust):
            runner.train()
    except NonFiniteLoss as e:
        raise NonFiniteLoss(f"{work_dir}: training stopped at epoch {runner.epoch + 1}, "
                            f"iteration {runner.iter}: {e}; the last good checkpoint is "
                            f"{_last_good(work_dir)}") from None
    say(f"train: done in {time.perf_counter() - t0:.0f} s; {work_dir / 'last.pt'}")
    return work_dir


def main_guarded(cfg: DictConfig) -> None:
    try:
        train(cfg)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except NonFiniteLoss as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(3)


__all__ = ["build_runner", "train", "build_lifter", "main_guarded", "mmengine_safe_globals"]
