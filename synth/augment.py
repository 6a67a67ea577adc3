"""The augmentation chain for one sequence: body → knees → joints → cameras → 2D → noise.

Each step is switched on and parameterised by its own config group (``conf/knee``,
``conf/joints``, ``conf/body``, ``conf/camera``, ``conf/noise``); this module holds the
steps themselves, vectorised over frames and cameras. The CLI around it is
:mod:`synth.augment_h36m`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from hpd3d.camera import in_image, project_many
from hpd3d.camera_sampling import CameraConfig, sample_cameras
from hpd3d.dataset import Views
from hpd3d.noise import NoiseModel, add_noise
from hpd3d.skeleton import H36M

from .joint_rotation import JOINTS, augment_joints
from .knee import augment_knees


@dataclass
class KneeConfig:
    enabled: bool = True
    prob: float = 0.5  # per leg and sequence
    range: tuple = (0.0, 160.0)  # flexion degrees
    keyframe_every: int = 25  # frames between flexion keyframes; 0 = independent poses

    def check(self, where="knee"):
        if self.range[0] > self.range[1] or self.range[0] < 0 or self.range[1] > 180:
            raise ValueError(f"{where}.range: need 0 ≤ min ≤ max ≤ 180, got {list(self.range)}")
        if not 0 <= self.prob <= 1:
            raise ValueError(f"{where}.prob: must lie in [0, 1]")


@dataclass
class JointsConfig:
    enabled: bool = True
    prob: float = 0.3  # per joint and sequence
    joints: tuple = tuple(JOINTS)
    max_deg: tuple = (30.0, 20.0, 20.0)  # about the joint frame's x, y, z axes
    keyframe_every: int = 25

    def check(self, where="joints"):
        unknown = set(self.joints) - set(JOINTS)
        if unknown:
            raise ValueError(f"{where}.joints: unknown {sorted(unknown)}; known: {list(JOINTS)}")
        if not 0 <= self.prob <= 1 or min(self.max_deg) < 0:
            raise ValueError(f"{where}: prob must lie in [0, 1] and max_deg be ≥ 0")


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


@dataclass
class AugmentConfig:
    knee: KneeConfig = field(default_factory=KneeConfig)
    joints: JointsConfig = field(default_factory=JointsConfig)
    body: BodyConfig = field(default_factory=BodyConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    noise: NoiseModel = field(default_factory=NoiseModel)
    noise_enabled: bool = True

    def check(self):
        self.knee.check()
        self.joints.check()
        self.body.check()
        self.camera.check()
        self.noise.check()


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


def augment_3d(seq: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """Body, knee and joint augmentations of one (T, 17, 3) sequence, in that order."""
    out = np.asarray(seq, dtype=np.float64)
    if cfg.body.enabled:
        out = augment_body(out, rng, cfg.body)
    if cfg.knee.enabled:
        out = augment_knees(out, rng, cfg.knee.prob, tuple(cfg.knee.range),
                            cfg.knee.keyframe_every)
    if cfg.joints.enabled:
        out = augment_joints(out, rng, tuple(cfg.joints.joints), cfg.joints.prob,
                             tuple(cfg.joints.max_deg), cfg.joints.keyframe_every)
    return out


def render_views(seq: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig,
                 name: str = "cam") -> Views:
    cams, frac = sample_cameras(rng, cfg.camera, seq, name=name)
    uv, depth = project_many(seq, cams, return_depth=True)
    views = Views(cams, uv.astype(np.float32), in_image(uv, cams, depth), frac)
    if cfg.noise_enabled:
        views.uv_noisy, views.confidence = add_noise(uv, rng, cfg.noise)
    return views
