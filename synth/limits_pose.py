"""Anatomical joint limits on angles measured from positions (:mod:`hpd3d.anatomy`).

Used by the augmentations, which see only joint positions. Ranges in degrees, from the
usual clinical range-of-motion tables (AAOS / Norkin & White), slightly widened for
measurement from a 17-joint skeleton.
"""

from __future__ import annotations

import numpy as np

from hpd3d import anatomy as an

POSE_LIMITS: dict[str, tuple[float, float]] = {
    "right_knee": (0.0, 160.0),
    "left_knee": (0.0, 160.0),
    "right_elbow": (0.0, 155.0),
    "left_elbow": (0.0, 155.0),
    "right_hip_flexion": (-40.0, 135.0),
    "left_hip_flexion": (-40.0, 135.0),
    "right_hip_abduction": (-35.0, 60.0),
    "left_hip_abduction": (-35.0, 60.0),
    "right_shoulder_flexion": (-180.0, 180.0),  # see SHOULDER_EXTENSION below
    "left_shoulder_flexion": (-180.0, 180.0),
    "right_shoulder_abduction": (-90.0, 180.0),
    "left_shoulder_abduction": (-90.0, 180.0),
    "spine_flexion": (-35.0, 90.0),
    "spine_lateral": (-40.0, 40.0),
    "spine_twist": (-50.0, 50.0),
    "neck_flexion": (-60.0, 75.0),
    "neck_lateral": (-45.0, 45.0),
}


# The arm reaches further behind the body the more it is raised sideways: about 60–70°
# of extension hanging, 45° behind the frontal plane at shoulder height, and past the
# vertical overhead. As one linear bound: flexion + 1.2 · max(abduction, 0) ≥ −70°.
SHOULDER_EXTENSION = (1.2, -70.0)


def within_limits(x: np.ndarray, limits: dict = POSE_LIMITS) -> np.ndarray:
    """(..., 17, 3) → (...) bool: every angle named in ``limits`` inside its range (and
    the shoulders' coupled extension bound where their angles are checked)."""
    angles = an.all_angles(x, names=limits)
    ok = np.ones(x.shape[:-2], dtype=bool)
    for name, (lo, hi) in limits.items():
        a = angles[name]
        ok &= (a >= lo - 1e-6) & (a <= hi + 1e-6)
    k, lo = SHOULDER_EXTENSION
    for side in ("right", "left"):
        f, a = f"{side}_shoulder_flexion", f"{side}_shoulder_abduction"
        if f in angles and a in angles:
            ok &= angles[f] + k * np.maximum(angles[a], 0.0) >= lo - 1e-6
    return ok
