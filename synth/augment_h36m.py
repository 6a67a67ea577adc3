"""``python -m synth.augment_h36m [overrides]``: augmented VideoPose3D datasets.

Reads 3D poses (the procedural default, a VideoPose3D ``data_3d_*.npz`` — real
Human3.6M's 32 joints are reduced to 17 — or BVH files), augments them (body, knees,
quaternion joint motion), samples cameras and projects, adds 2D noise, and writes
VideoPose3D files, camera files, coverage plots and (``format=mmpose``) MMPose's H36M
annotation files. ``shard=i/n`` makes process i of n do every n-th sequence with the
same per-sequence seeds, so shards merged with ``python -m synth.merge`` equal one run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from hpd3d.atomic import atomic_dir, check_out_dir
from hpd3d.camera_sampling import CameraConfig
from hpd3d.config import from_section, hydra_main, parse_shard, shard_dir, shard_name
from hpd3d.dataset import Dataset
from hpd3d.errors import InputError, failed_inputs_error
from hpd3d.progress import progress
from hpd3d.noise import NoiseModel

from .augment import (AugmentConfig, BodyConfig, JointsConfig, KneeConfig, augment_3d,
                      render_views)
from .inputs import load_inputs
from .joint_definitions import JointDefConfig, apply_joint_definition


def build_config(cfg: DictConfig) -> AugmentConfig:
    c = OmegaConf.to_container(cfg, resolve=True)
    knee, k_on = from_section(KneeConfig, c.get("knee"), "knee")
    joints, j_on = from_section(JointsConfig, c.get("joints"), "joints")
    body, b_on = from_section(BodyConfig, c.get("body"), "body")
    cam, _ = from_section(CameraConfig, c.get("camera"), "camera")
    noise, n_on = from_section(NoiseModel, c.get("noise"), "noise")
    knee.enabled, joints.enabled, body.enabled = k_on, j_on, b_on
    aug = AugmentConfig(knee=knee, joints=joints, body=body, camera=cam, noise=noise,
                        noise_enabled=n_on)
    try:
        aug.check()
    except ValueError as e:
        raise InputError(None, f"config: {e}") from None
    return aug


def build_joint_def(cfg: DictConfig) -> JointDefConfig:
    """The ``joint_def`` section (absent: off)."""
    section = OmegaConf.to_container(cfg, resolve=True).get("joint_def")
    jd, on = from_section(JointDefConfig, section, "joint_def")
    jd.enabled = on and section is not None
    jd.variants = tuple(jd.variants)
    try:
        jd.check()
    except ValueError as e:
        raise InputError(None, f"config: {e}") from None
    return jd


def check(cfg: DictConfig) -> tuple[AugmentConfig, JointDefConfig, int, int, Path]:
    """The whole configuration and the output folder, before any work."""
    aug = build_config(cfg)
    joint_def = build_joint_def(cfg)
    shard_i, shard_n = parse_shard(cfg.shard)
    if cfg.format not in ("videopose3d", "mmpose"):
        raise InputError(None, f"format={cfg.format!r}: 'videopose3d' or 'mmpose'")
    if cfg.format == "mmpose" and aug.camera.fisheye_prob > 0:
        raise InputError(None, "format=mmpose with fisheye cameras: MMPose's camera files "
                               "(cameras.pkl) have no fisheye model; use format=videopose3d "
                               "or camera.fisheye_prob=0")
    for key in ("repeats", "stride", "procedural.clips"):
        v = OmegaConf.select(cfg, key)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InputError(None, f"{key}={v!r}: must be an integer ≥ 1")
    fps = cfg.fps
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not np.isfinite(fps) \
            or fps <= 0:
        raise InputError(None, f"fps={fps!r}: must be a number > 0 (frames per second)")
    if not str(cfg.name) or "/" in str(cfg.name):
        raise InputError(None, f"name={cfg.name!r}: must be a plain file-name part")
    out_dir = shard_dir(cfg.out, (shard_i, shard_n))
    check_out_dir(out_dir, bool(cfg.overwrite))
    return aug, joint_def, shard_i, shard_n, out_dir


def run(cfg: DictConfig) -> Path:
    t0 = time.perf_counter()
    aug, joint_def, shard_i, shard_n, out_dir = check(cfg)
    failures: list[tuple[str, str]] = []
    seqs = load_inputs(cfg.input, cfg.fps, cfg.procedural.clips, cfg.procedural.seed, failures)
    n_files = len(seqs) + len(failures)
    if not seqs:
        raise failed_inputs_error(cfg.input, failures, n_files)
    name = shard_name(cfg.name, (shard_i, shard_n))
    jobs = [(k, r) for k in range(len(seqs)) for r in range(cfg.repeats)]
    mine = jobs[shard_i::shard_n]

    ds, before, fractions = Dataset(), [], []
    for k, r in progress(mine, desc=f"augment {name}", unit="seq"):
        subject, action, seq = seqs[k]
        seq = seq[:: cfg.stride]
        rng = np.random.default_rng([cfg.seed, k, r])  # the same for any shard count
        out = augment_3d(seq, rng, aug)
        if joint_def.enabled:  # its own stream: joint_def=none leaves the data unchanged
            out, _ = apply_joint_definition(out, np.random.default_rng([cfg.seed, k, r, 1]),
                                            joint_def)
        views = render_views(out, rng, aug)
        ds.add(subject, f"{action}_aug{r}" if cfg.repeats > 1 else action, out, views)
        before.append(seq)
        fractions.append(views.in_frame.mean())
    if not mine:
        raise InputError(cfg.input, f"shard {shard_i}/{shard_n} has no sequences "
                                    f"(only {len(jobs)} in all)")
    in_frame = float(np.mean(fractions))
    if in_frame < cfg.require_in_frame:
        raise InputError(None, f"in-frame keypoint fraction {in_frame:.3f} < "
                               f"require_in_frame={cfg.require_in_frame}; widen the cameras")
    with atomic_dir(out_dir, bool(cfg.overwrite)) as tmp:  # the whole folder, or nothing
        files = ds.write(tmp, name, mmpose=cfg.format == "mmpose")
        if cfg.plots:
            from .plots import coverage_plots

            files += coverage_plots(np.concatenate(before), np.concatenate(
                [a for acts in ds.positions_3d.values() for a in acts.values()]),
                ds.camera_list(), tmp, name)
    n_cams = len(ds.camera_list())
    print(f"augment_h36m: {len(mine)} sequences, {ds.num_frames} frames, {n_cams} cameras "
          f"({ds.num_frames * aug.camera.count} 2D poses), in-frame keypoints "
          f"{in_frame:.1%}, {time.perf_counter() - t0:.1f} s")
    print(f"augment_h36m: wrote {out_dir}/ ({', '.join(f.name for f in files)})")
    if failures:
        raise failed_inputs_error(cfg.input, failures, n_files, out_dir)
    return out_dir


@hydra_main("augment_h36m")
def main(cfg: DictConfig) -> None:
    run(cfg)


if __name__ == "__main__":
    sys.exit(main())
