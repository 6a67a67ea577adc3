"""Realistic 2D detector noise and confidences for synthetic keypoints.

Shared by the synth stage (noisy dataset files) and training (noise on the fly).

In the spirit of MotionBERT's detector-noise model (its published per-joint statistics
are in ``../shared/data/motionbert/`` for comparison), with the toolkit's own defaults:

- noise is measured in units of the person's 2D size (the height of the keypoints'
  bounding box per frame), so it means the same thing for a near and a far camera;
- a temporally smooth part (per-joint Gaussian offsets drawn at keyframes, linearly
  interpolated between them; a fraction of them are outliers drawn uniformly from a
  wider range) plus per-frame white jitter;
- confidence falls with the size of the error, ``a / (d + a) + b·d`` plus Gaussian
  spread, clipped to [0, 1] (the shape of MotionBERT's distance-to-confidence curve);
- occasional dropped joints keep their (noisy) position and get confidence 0: a dropped
  joint is a mask value, never a sentinel coordinate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Per-joint std of the smooth part, in person heights (H36M-17 order). Extremities are
# noisier than the torso, as with real detectors (wrists and ankles worst).
DEFAULT_STD = (0.004, 0.006, 0.007, 0.009, 0.006, 0.007, 0.009, 0.005, 0.005, 0.005,
               0.006, 0.006, 0.008, 0.011, 0.006, 0.008, 0.011)
# Per-joint probability that a keyframe's offset is Gaussian rather than an outlier.
DEFAULT_INLIER = (0.995, 0.98, 0.95, 0.93, 0.98, 0.95, 0.93, 0.98, 0.98, 0.98, 0.98,
                  0.96, 0.93, 0.88, 0.96, 0.93, 0.88)


@dataclass
class NoiseModel:
    std: tuple = DEFAULT_STD
    inlier: tuple = DEFAULT_INLIER
    outlier_range: float = 0.06  # full width of uniform outliers, person heights
    jitter: float = 0.0015  # per-frame white noise std, person heights
    keyframe_every: int = 9  # frames between smooth-noise keyframes
    conf_a: float = 0.028
    conf_b: float = 1.1
    conf_shift_mean: float = 0.0
    conf_shift_std: float = 0.1
    drop_prob: float = 0.01  # per joint per frame
    scale: float = 1.0  # multiplies every noise magnitude (0 = clean keypoints)
    extra: dict = field(default_factory=dict)

    def check(self, where: str = "noise") -> None:
        std = np.asarray(self.std, dtype=float)
        if std.shape != (17,) or np.asarray(self.inlier).shape != (17,):
            raise ValueError(f"{where}: std and inlier need 17 values (one per joint)")
        if (std < 0).any() or self.scale < 0 or self.jitter < 0 or self.outlier_range < 0:
            raise ValueError(f"{where}: noise magnitudes must be ≥ 0")
        if not 0 <= self.drop_prob <= 1 or self.keyframe_every < 1:
            raise ValueError(f"{where}: drop_prob must be in [0, 1], keyframe_every ≥ 1")


def person_size(uv: np.ndarray) -> np.ndarray:
    """(..., T, J, 2) → (..., T, 1, 1) bounding-box height of the keypoints (≥ 1 px)."""
    h = uv[..., 1].max(-1) - uv[..., 1].min(-1)
    w = uv[..., 0].max(-1) - uv[..., 0].min(-1)
    return np.maximum(np.maximum(h, w), 1.0)[..., None, None]


def add_noise(uv: np.ndarray, rng: np.random.Generator, model: NoiseModel
              ) -> tuple[np.ndarray, np.ndarray]:
    """Noisy keypoints and confidences for clean ``uv`` (..., T, J, 2) in pixels.

    Returns ``(uv_noisy (..., T, J, 2), confidence (..., T, J))``; float32.
    """
    *lead, T, J, _ = uv.shape
    s = model.scale
    n_keys = max(2, int(np.ceil((T - 1) / model.keyframe_every)) + 1)
    std = np.asarray(model.std)[:, None] * s
    gauss = rng.standard_normal((*lead, n_keys, J, 2)) * std
    outlier = (rng.random((*lead, n_keys, J, 2)) - 0.5) * model.outlier_range * s
    inlier = rng.random((*lead, n_keys, J, 1)) < np.asarray(model.inlier)[:, None]
    keys = np.where(inlier, gauss, outlier)
    # linear interpolation of the keyframe offsets to every frame
    pos = np.linspace(0, n_keys - 1, T)
    i0 = np.minimum(np.floor(pos).astype(int), n_keys - 2)
    frac = (pos - i0)[:, None, None]
    smooth = keys[..., i0, :, :] * (1 - frac) + keys[..., i0 + 1, :, :] * frac
    delta = smooth + rng.standard_normal(smooth.shape) * model.jitter * s
    dist = np.linalg.norm(delta, axis=-1)
    conf = model.conf_a / (dist + model.conf_a) + model.conf_b * dist
    conf = conf + rng.standard_normal(conf.shape) * model.conf_shift_std + model.conf_shift_mean
    conf = np.clip(conf, 0.0, 1.0)
    conf[rng.random(conf.shape) < model.drop_prob] = 0.0
    noisy = uv + delta * person_size(uv)
    return noisy.astype(np.float32), conf.astype(np.float32)
