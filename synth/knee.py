"""Knee-rotation foot keypoints: swing each ankle on its circle around the knee.

The ankle moves in the leg's own flexion plane, on the circle of the TRUE shank length
(some public versions set shank = thigh length; that changes the body and is wrong), to a
flexion angle anywhere in the knee's range (0 = straight). The plane is spanned by the
thigh and the current shank where the knee is bent; as the leg straightens it blends
smoothly into the plane of the thigh and the pelvis' forward axis, so a straight leg
still flexes backwards. Vectorised over frames and legs. Config: ``conf/knee/``
(:class:`KneeConfig`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import PchipInterpolator

from hpd3d.anatomy import L_ANKLE, L_HIP, L_KNEE, R_ANKLE, R_HIP, R_KNEE, pelvis_frame, unit

LEGS = ((R_HIP, R_KNEE, R_ANKLE), (L_HIP, L_KNEE, L_ANKLE))


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


def augment(seq: np.ndarray, rng: np.random.Generator, cfg: KneeConfig) -> np.ndarray:
    """The ``knee`` step of the chain (:data:`synth.augment.CHAIN`)."""
    return augment_knees(seq, rng, cfg.prob, tuple(cfg.range), cfg.keyframe_every)


def knee_axis(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, left: np.ndarray,
              blend_deg: tuple[float, float] = (5.0, 20.0)) -> np.ndarray:
    """Unit flexion axis of a knee, (..., 3).

    From the bent leg: ``thigh × shank`` (points to the body's left for a knee that bends
    backwards). Near straight it is undefined, so below ``blend_deg[0]`` of flexion the
    pelvis' left axis (made orthogonal to the thigh) is used, with a smooth blend up to
    ``blend_deg[1]``.
    """
    d = unit(knee - hip)
    s = ankle - knee
    bent = np.cross(d, unit(s))
    sin_flex = np.linalg.norm(bent, axis=-1, keepdims=True)
    lo, hi = np.sin(np.radians(blend_deg[0])), np.sin(np.radians(blend_deg[1]))
    w = np.clip((sin_flex - lo) / (hi - lo), 0.0, 1.0)
    w = w * w * (3 - 2 * w)  # smoothstep
    straight = left - np.sum(left * d, axis=-1, keepdims=True) * d
    bent = unit(bent)
    # keep the blend continuous: orient the bent axis with the straight one
    bent = np.where(np.sum(bent * straight, axis=-1, keepdims=True) < 0, -bent, bent)
    return unit(w * bent + (1 - w) * unit(straight))


def set_knee_flexion(x: np.ndarray, flexion_deg: np.ndarray, legs=(0, 1)) -> np.ndarray:
    """Return a copy of poses ``x`` (..., 17, 3) with each chosen leg's ankle moved to
    flexion ``flexion_deg`` (..., len(legs)) degrees; shank length and plane are kept."""
    out = np.array(x, dtype=np.float64, copy=True)
    left = pelvis_frame(out)[..., 0, :]
    flexion = np.radians(np.asarray(flexion_deg, dtype=np.float64))
    for k, leg in enumerate(legs):
        hip, knee, ankle = (out[..., j, :] for j in LEGS[leg])
        d = unit(knee - hip)
        axis = knee_axis(hip, knee, ankle, left)
        back = np.cross(axis, d)  # the direction the shank swings towards as the knee bends
        length = np.linalg.norm(ankle - knee, axis=-1, keepdims=True)
        th = flexion[..., k, None]
        out[..., LEGS[leg][2], :] = knee + length * (np.cos(th) * d + np.sin(th) * back)
    return out


def smooth_curve(rng: np.random.Generator, n_frames: int, n_curves: int, low: float,
                 high: float, keyframe_every: int) -> np.ndarray:
    """(n_frames, n_curves) smooth random curves within [low, high]: keyframes drawn
    uniformly, joined by a monotone cubic (PCHIP never overshoots its keyframes)."""
    n_keys = max(2, int(np.ceil((n_frames - 1) / max(keyframe_every, 1))) + 1)
    t_keys = np.linspace(0, n_frames - 1, n_keys)
    keys = rng.uniform(low, high, size=(n_keys, n_curves))
    if n_frames == 1:
        return keys[:1]
    return PchipInterpolator(t_keys, keys, axis=0)(np.arange(n_frames))


def augment_knees(seq: np.ndarray, rng: np.random.Generator, prob: float = 0.5,
                  flexion_range: tuple[float, float] = (0.0, 160.0),
                  keyframe_every: int = 25) -> np.ndarray:
    """Swing the ankles of a (T, 17, 3) sequence (or a batch of single poses with
    ``keyframe_every=0``: every pose gets its own flexion), each leg with probability
    ``prob``, over smooth random flexion curves covering ``flexion_range``."""
    T = seq.shape[0]
    if keyframe_every <= 0:
        flex = rng.uniform(*flexion_range, size=(T, 2))
        apply = rng.random((T, 2)) < prob
    else:
        flex = smooth_curve(rng, T, 2, *flexion_range, keyframe_every)
        apply = np.broadcast_to(rng.random(2) < prob, (T, 2))
    out = np.array(seq, dtype=np.float64, copy=True)
    if apply.any():
        swung = set_knee_flexion(out, flex)
        for k, (_, _, ankle) in enumerate(LEGS):
            out[apply[:, k], ankle] = swung[apply[:, k], ankle]
    return out
