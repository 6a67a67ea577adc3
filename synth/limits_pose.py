"""Anatomical joint limits on angles measured from positions (:mod:`hpd3d.anatomy`).

Used by the augmentations, which see only joint positions. Ranges in degrees, from the
usual clinical range-of-motion tables (AAOS / Norkin & White), slightly widened for
measurement from a 17-joint skeleton.

Why a second table beside :mod:`synth.limits` (and how the two agree)
    :mod:`synth.limits` bounds the Euler angles (flexion, abduction, axial rotation) of
    each joint's LOCAL rotation: what motion made by forward kinematics needs (three
    degrees of freedom per joint, sampled independently). This table bounds angles
    MEASURED from 17 positions, what data that is only positions (Human3.6M, BVH mapped
    to 17 joints, a lifter's output) can show: no axial rotation at all (a bone's twist
    moves no joint), hinge flexion as the angle between two bones (≥ 0), ball joints as
    the swing from hanging down in the parent's body frame, the trunk as the thorax frame
    against the pelvis frame (which the spine AND thorax joints and the shoulders all
    move). The measurement maps the Euler box onto a region that is not a box, so one
    table cannot be computed from the other exactly; the tests pin how they agree:

    - hinges: the knee's measured range over its Euler range is 0 … 160°, this table's;
      the elbow's is 0 … 150°, this table allows 155° (5° for measurement noise);
    - every joint alone, anywhere in the middle 70 % of its Euler ranges (about neutral),
      and all joints together in the middle 50 %, measure inside this table;
    - beyond that they differ by design at the hips and shoulders: the Euler box combines
      full flexion (125°) with full abduction (50°), which measures as up to 92° of swing
      abduction (and the shoulders' extension behind a raised arm): extremes no one
      reaches together, which this table's coupled bounds refuse; and the trunk: spine
      and thorax joints both at their lateral extremes measure ±59° against 40° here.
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
