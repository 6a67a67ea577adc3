"""Body augmentation: whole-body size, symmetric per-bone length jitter, yaw about the
pelvis' vertical and a translation. Bones are scaled from the root outwards and the feet
kept on the floor. Config: ``conf/body/`` (:class:`BodyConfig`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from hpd3d.skeleton import H36M


@dataclass
class BodyConfig:
    enabled: bool = True
    scale: tuple = (0.9, 1.1)  # whole-body size factor
    bone_jitter: float = 0.04  # extra per-bone-pair factor, ±, left/right kept symmetric
    yaw_deg: tuple = (-180.0, 180.0)  # rotation about the vertical through the pelvis
    translate: tuple = ((-1.0, 1.0), (-1.0, 1.0), (0.0, 0.0))  # metres, per axis

    def check(self, where="body"):
        for name, (lo, hi) in (("scale", self.scale), ("yaw_deg", self.yaw_deg),
                               *((f"translate[{i}]", r) for i, r in enumerate(self.translate))):
            if lo > hi:
                raise ValueError(f"{where}.{name}: min {lo} > max {hi}")
        if self.scale[0] <= 0 or not 0 <= self.bone_jitter < 0.5:
            raise ValueError(f"{where}: scale must be > 0 and bone_jitter in [0, 0.5)")


def _bone_pairs() -> np.ndarray:
    """Bone index → symmetric-pair id (a left bone and its right twin share one)."""
    perm = H36M.flip_permutation
    bones = [tuple(b) for b in H36M.bones]
    ids = np.empty(len(bones), dtype=int)
    seen: dict = {}
    for i, (p, c) in enumerate(bones):
        key = min((p, c), (perm[p], perm[c]))
        ids[i] = seen.setdefault(key, len(seen))
    return ids


_PAIR = _bone_pairs()


def scale_bones(seq: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Scale each H36M bone by ``factors`` (B,), rebuilding the tree from the root."""
    out = np.array(seq, dtype=np.float64, copy=True)
    for b, (p, c) in enumerate(H36M.bones):  # parents come first in H36M order
        out[..., c, :] = out[..., p, :] + factors[b] * (seq[..., c, :] - seq[..., p, :])
    return out


def augment_body(seq: np.ndarray, rng: np.random.Generator, cfg: BodyConfig) -> np.ndarray:
    s = rng.uniform(*cfg.scale)
    pair = 1 + rng.uniform(-cfg.bone_jitter, cfg.bone_jitter, _PAIR.max() + 1)
    out = scale_bones(seq, s * pair[_PAIR])
    # keep the feet where they were relative to the ground: scale about the ground point
    out[..., 2] -= out[..., [3, 6], 2].min() - seq[..., [3, 6], 2].min()
    yaw = Rotation.from_euler("z", rng.uniform(*cfg.yaw_deg), degrees=True).as_matrix()
    pivot = out[:, 0].mean(axis=0) * np.array([1.0, 1.0, 0.0])
    out = (out - pivot) @ yaw.T + pivot
    return out + np.array([rng.uniform(lo, hi) for lo, hi in cfg.translate])


def augment(seq: np.ndarray, rng: np.random.Generator, cfg: BodyConfig) -> np.ndarray:
    """The ``body`` step of the chain (:data:`synth.augment.CHAIN`)."""
    return augment_body(seq, rng, cfg)
