"""The augmentation chain for one sequence: body → knees → joints, then cameras → 2D → noise.

Each augmentation is one file holding its config and its function (``synth/body_augment.py``,
``synth/knee.py``, ``synth/joint_rotation.py``; ``conf/body``, ``conf/knee``,
``conf/joints``); :data:`CHAIN` lists them in the order they run. Cameras
(``hpd3d.camera_sampling``, ``conf/camera``) and noise (``hpd3d.noise``, ``conf/noise``)
follow in :func:`render_views`. The CLI around it is :mod:`synth.augment_h36m`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hpd3d.camera import in_image, project_many
from hpd3d.camera_sampling import CameraConfig, sample_cameras
from hpd3d.dataset import Views
from hpd3d.noise import NoiseModel, add_noise

from . import body_augment, joint_rotation, knee
from .body_augment import BodyConfig, augment_body, scale_bones  # noqa: F401  (old paths)
from .joint_rotation import JointsConfig
from .knee import KneeConfig

# (config section, its step), in the order they run; a step is fn(seq, rng, cfg) → seq
CHAIN = (
    ("body", body_augment.augment),
    ("knee", knee.augment),
    ("joints", joint_rotation.augment),
)


@dataclass
class AugmentConfig:
    knee: KneeConfig = field(default_factory=KneeConfig)
    joints: JointsConfig = field(default_factory=JointsConfig)
    body: BodyConfig = field(default_factory=BodyConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    noise: NoiseModel = field(default_factory=NoiseModel)
    noise_enabled: bool = True

    def check(self):
        for name, _ in CHAIN:
            getattr(self, name).check()
        self.camera.check()
        self.noise.check()


def augment_3d(seq: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """The :data:`CHAIN`'s enabled steps on one (T, 17, 3) sequence, in order."""
    out = np.asarray(seq, dtype=np.float64)
    for name, step in CHAIN:
        section = getattr(cfg, name)
        if section.enabled:
            out = step(out, rng, section)
    return out


def render_views(seq: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig,
                 name: str = "cam") -> Views:
    cams, frac = sample_cameras(rng, cfg.camera, seq, name=name)
    uv, depth = project_many(seq, cams, return_depth=True)
    views = Views(cams, uv.astype(np.float32), in_image(uv, cams, depth), frac)
    if cfg.noise_enabled:
        views.uv_noisy, views.confidence = add_noise(uv, rng, cfg.noise)
    return views
