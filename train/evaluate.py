"""``python -m train.evaluate checkpoint=… [data=…] [overrides]``: how good is a lifter?

Lifts every evaluated view as a whole sequence the way inference does
(:func:`train.models.lift_sequence`: SimpleBaseline frame by frame, the VideoPose3D TCN
with edge padding, MotionBERT in overlapping ``clip_len`` windows cross-faded) and compares with the camera-frame, root-relative ground truth. Reports, in millimetres:

- MPJPE, P-MPJPE (Procrustes), N-MPJPE (scale) overall, per action and per subject;
- per-joint MPJPE;
- bone-length consistency (coefficient of variation of each predicted bone over a
  sequence, %) and bone-length error;
- temporal quality: velocity and acceleration error, jitter (mean ‖Δ²x‖) of prediction
  and ground truth, mm/frame(²);
- the limb-distance check: hip–knee and hip–ankle distances of prediction vs ground truth
  (bias and absolute error), over all frames and over deep-flexion frames (ground-truth
  knee flexion > ``deep_flexion_deg``): short or long predicted legs show up here.

Writes ``metrics.json`` (atomically), ``per_joint_error.png`` and ``skeletons.png`` into
``out`` (default ``<checkpoint folder>/eval_<data tag>``) and prints the tables. The data
config is the training one (``conf/data/*.yaml``); ``split=val`` (default) evaluates its
validation sequences, ``split=all`` everything. Needs no ``synth``: the dataset files are
all it reads.

This module is the command's front: the whole configuration and the output folder checked
before the work (:func:`check`), :func:`run`, :func:`main`. The lifting and measuring worker
(:func:`evaluate`, :func:`summarise`, :func:`limb_distances`, :func:`format_tables`) is
:mod:`train.evaluation`; those names are re-exported here.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from hpd3d import atomic
from hpd3d.config import hydra_main
from hpd3d.errors import InputError, cli_guard
from train.data import DataConfig
# the worker (:mod:`train.evaluation`); its names stay importable from here
from train.evaluation import (LIMBS, evaluate, format_tables, limb_distances,  # noqa: F401
                              summarise)


def default_out(ckpt: Path, tag: str) -> Path:
    """``<checkpoint folder>/eval_<tag>``; for a checkpoint the toolkit ships (``data/``,
    never an output folder) ``out/eval_<checkpoint stem>_<tag>``."""
    from hpd3d.atomic import SHIPPED_DATA

    if Path(os.path.realpath(ckpt.parent)) == SHIPPED_DATA:
        return Path("out") / f"eval_{ckpt.stem}_{tag}"
    return ckpt.parent / f"eval_{tag}"


def check(cfg: DictConfig) -> tuple[Path, DataConfig, Path]:
    """The whole configuration and the output folder, before the (long) work."""
    from hpd3d.atomic import check_out_dir

    if not cfg.get("checkpoint"):
        raise InputError(None, "checkpoint=PATH is required (a lifter checkpoint, e.g. "
                               "runs/simplebaseline/last.pt)")
    ckpt = Path(str(cfg.checkpoint))
    if not ckpt.is_file():
        raise InputError(ckpt, "checkpoint: no such file" if not ckpt.exists()
                         else "checkpoint: not a file")
    if cfg.split not in ("val", "train", "all"):
        raise InputError(None, f"split={cfg.split!r}: 'val', 'train' or 'all'")
    for key, low in (("num_skeletons", 1), ("threads", 1), ("seed", 0)):
        v = cfg.get(key)
        if key == "threads" and v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise InputError(None, f"{key}={v!r}: must be an integer ≥ {low}")
    v = cfg.deep_flexion_deg
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 180:
        raise InputError(None, f"deep_flexion_deg={v!r}: must be a number in [0, 180]")
    d = OmegaConf.to_container(cfg.data, resolve=True)
    if cfg.get("input_2d"):
        d["input_2d"] = cfg.input_2d
    data = DataConfig.from_dict(d)
    out = Path(str(cfg.out)) if cfg.get("out") else default_out(ckpt, data.tag)
    check_out_dir(out, bool(cfg.get("overwrite")))
    return ckpt, data, out


def run(cfg: DictConfig) -> Path:
    from hpd3d.atomic import atomic_dir

    t0 = time.perf_counter()
    ckpt, data, out = check(cfg)
    if cfg.get("threads"):
        torch.set_num_threads(int(cfg.threads))
    if not sys.stderr.isatty():  # a plain line per stage in logs (a terminal has the bars)
        print(f"evaluate: {ckpt} on {data.tag} ({cfg.split}): loading and lifting ...",
              flush=True)
    summary, preds, gts, views, masks = evaluate(ckpt, data, str(cfg.split), bool(cfg.test_flip),
                                          float(cfg.deep_flexion_deg), int(cfg.seed),
        trust_checkpoint=bool(cfg.get("trust_checkpoint", False)))
    if not sys.stderr.isatty():
        print(f"evaluate: lifted {summary['views']} views ({summary['frames']} 2D poses) in "
              f"{time.perf_counter() - t0:.1f} s; writing {out}/", flush=True)
    files = ["metrics.json"]
    with atomic_dir(out, bool(cfg.get("overwrite"))) as tmp:  # the whole folder, or nothing
        atomic.write_text(tmp / "metrics.json", json.dumps(summary, indent=2) + "\n")
        if cfg.plots:
            from train.plots import per_joint_bar, skeleton_grid

            per_joint_bar(summary["per_joint_mm"], tmp / "per_joint_error.png",
                          title=f"{ckpt.name} on {data.tag}: MPJPE {summary['mpjpe_mm']:.1f} mm")
            skeleton_grid(preds, gts, views, tmp / "skeletons.png", n=int(cfg.num_skeletons),
                          masks=masks)
            files += ["per_joint_error.png", "skeletons.png"]
    print(format_tables(summary))
    print(f"\nevaluate: {time.perf_counter() - t0:.1f} s; wrote {out}/ ({', '.join(files)})")
    return out


@hydra_main("evaluate")
def main(cfg: DictConfig) -> None:
    run(cfg)


def main_guarded(cfg: DictConfig) -> None:
    """``run`` with bad input as one line and exit status 2 (for in-process callers)."""
    cli_guard(run)(cfg)


def _hydra_main():  # the former name of :func:`main`
    return main()


if __name__ == "__main__":
    sys.exit(main())
