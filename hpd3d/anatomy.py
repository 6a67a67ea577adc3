"""Body frames and anatomical angles measured from H36M-17 joint positions.

Everything here works on positions alone (any leading shape ``(..., 17, 3)``, world Z-up),
so it applies equally to procedural motion, mocap and a lifter's output. Conventions:

- Body frame (pelvis): ``left`` = unit R-hip → L-hip, ``up`` = pelvis → spine made
  orthogonal to ``left``, ``forward = left × up`` (only joints of the pelvis itself, so a
  rotation at the spine joint does not change the hip angles). The same construction on
  the shoulders and the spine → thorax direction gives the thorax frame (unchanged by a
  rotation at the neck).
- Hinge flexion (knee, elbow): the angle between the proximal and the distal bone,
  0° straight, 180° fully folded.
- Ball joints (hip, shoulder): the swing from hanging straight down to the distal bone's
  direction, as a rotation vector in the parent frame: ``flexion`` is its component about
  the lateral axis (+90° pointing forward), ``abduction`` about the forward axis (+90°
  straight out sideways), in degrees. Continuous through the hanging pose, unlike
  Euler-style angles.
"""

from __future__ import annotations

import numpy as np

PELVIS, R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE = range(7)
SPINE, THORAX, NECK, HEAD = 7, 8, 9, 10
L_SHOULDER, L_ELBOW, L_WRIST, R_SHOULDER, R_ELBOW, R_WRIST = range(11, 17)

# hinge name → (proximal joint, hinge joint, distal joint)
HINGES = {
    "right_knee": (R_HIP, R_KNEE, R_ANKLE),
    "left_knee": (L_HIP, L_KNEE, L_ANKLE),
    "right_elbow": (R_SHOULDER, R_ELBOW, R_WRIST),
    "left_elbow": (L_SHOULDER, L_ELBOW, L_WRIST),
}
# ball joint name → (joint, child, side: +1 left, −1 right, frame: "pelvis" | "thorax")
BALLS = {
    "right_hip": (R_HIP, R_KNEE, -1, "pelvis"),
    "left_hip": (L_HIP, L_KNEE, +1, "pelvis"),
    "right_shoulder": (R_SHOULDER, R_ELBOW, -1, "thorax"),
    "left_shoulder": (L_SHOULDER, L_ELBOW, +1, "thorax"),
}


def unit(v: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), eps)


def _frame(left_vec: np.ndarray, up_vec: np.ndarray) -> np.ndarray:
    left = unit(left_vec)
    up = unit(up_vec - np.sum(up_vec * left, axis=-1, keepdims=True) * left)
    forward = np.cross(left, up)
    return np.stack([left, forward, up], axis=-2)  # (..., 3 axes, 3)


def pelvis_frame(x: np.ndarray) -> np.ndarray:
    """(..., 17, 3) → (..., 3, 3) rows ``left, forward, up`` of the pelvis frame."""
    return _frame(x[..., L_HIP, :] - x[..., R_HIP, :], x[..., SPINE, :] - x[..., PELVIS, :])


def thorax_frame(x: np.ndarray) -> np.ndarray:
    """(..., 17, 3) → (..., 3, 3) rows ``left, forward, up`` of the thorax frame."""
    return _frame(x[..., L_SHOULDER, :] - x[..., R_SHOULDER, :],
                  x[..., THORAX, :] - x[..., SPINE, :])


def facing(x: np.ndarray) -> np.ndarray:
    """Unit horizontal forward direction of the pelvis (..., 3)."""
    f = pelvis_frame(x)[..., 1, :].copy()
    f[..., 2] = 0.0
    return unit(f)


def hinge_flexion(x: np.ndarray, name: str) -> np.ndarray:
    """Knee/elbow flexion in degrees (0 = straight)."""
    a, b, c = HINGES[name]
    u = x[..., b, :] - x[..., a, :]
    v = x[..., c, :] - x[..., b, :]
    cross = np.linalg.norm(np.cross(u, v), axis=-1)
    return np.degrees(np.arctan2(cross, np.sum(u * v, axis=-1)))


def ball_angles(x: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Hip/shoulder (flexion, abduction) in degrees: the swing that takes the hanging bone
    to its direction, as a rotation vector in the parent frame; flexion is its component
    about the lateral axis, abduction about the forward axis (continuous through the
    hanging pose; an arm raised forward overhead reads flexion 180°, sideways overhead
    abduction 180°)."""
    j, c, side, frame = BALLS[name]
    axes = pelvis_frame(x) if frame == "pelvis" else thorax_frame(x)
    d = unit(x[..., c, :] - x[..., j, :])
    loc = np.einsum("...ij,...j->...i", axes, d)  # components along left, forward, up
    elevation = np.degrees(np.arccos(np.clip(-loc[..., 2], -1.0, 1.0)))  # from hanging
    plane = np.arctan2(loc[..., 1], side * loc[..., 0])  # 0 sideways out, 90° forward
    return elevation * np.sin(plane), elevation * np.cos(plane)


ANGLE_NAMES = (*HINGES, *(f"{b}_{k}" for b in BALLS for k in ("flexion", "abduction")),
               "spine_flexion", "spine_lateral", "spine_twist", "neck_flexion", "neck_lateral")


def all_angles(x: np.ndarray, names=None) -> dict[str, np.ndarray]:
    """The angles this module measures (all, or those in ``names``), keyed
    ``right_knee``, ``left_hip_flexion``, ``spine_twist`` … (see :data:`ANGLE_NAMES`)."""
    want = set(ANGLE_NAMES if names is None else names)
    out = {name: hinge_flexion(x, name) for name in HINGES if name in want}
    for name in BALLS:
        if {f"{name}_flexion", f"{name}_abduction"} & want:
            out[f"{name}_flexion"], out[f"{name}_abduction"] = ball_angles(x, name)
    if {"spine_flexion", "spine_lateral", "spine_twist"} & want:
        out["spine_flexion"], out["spine_lateral"], out["spine_twist"] = trunk_angles(x)
    if {"neck_flexion", "neck_lateral"} & want:
        out["neck_flexion"], out["neck_lateral"] = neck_angles(x)
    return {k: v for k, v in out.items() if k in want}


def trunk_angles(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thorax relative to pelvis: (flexion forward, lateral bend to the left, twist to
    the left) in degrees, as intrinsic x-y-z Euler angles of the relative frame."""
    from scipy.spatial.transform import Rotation

    rel = pelvis_frame(x) @ np.swapaxes(thorax_frame(x), -1, -2)
    shape = rel.shape[:-2]
    e = Rotation.from_matrix(rel.reshape(-1, 3, 3)).as_euler("XYZ", degrees=True)
    e = e.reshape(*shape, 3)
    return -e[..., 0], e[..., 1], e[..., 2]


def neck_angles(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Head (thorax → head top) direction in the thorax frame: (flexion forward, lateral
    tilt to the left) in degrees; 0, 0 is upright."""
    d = unit(x[..., HEAD, :] - x[..., THORAX, :])
    loc = np.einsum("...ij,...j->...i", thorax_frame(x), d)
    return (np.degrees(np.arctan2(loc[..., 1], loc[..., 2])),
            np.degrees(np.arcsin(np.clip(loc[..., 0], -1.0, 1.0))))


def ground_point(x: np.ndarray, floor_z: float | None = None) -> np.ndarray:
    """(3,) the point a body stands on over a clip: the pelvis's mean x, y and the floor
    height (default: the lowest joint of the clip). ``x`` is (T, 17, 3), world Z-up."""
    z = float(np.min(x[..., 2])) if floor_z is None else float(floor_z)
    return np.array([x[:, PELVIS, 0].mean(), x[:, PELVIS, 1].mean(), z])


def scale_about_ground(x: np.ndarray, s: float, floor_z: float | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """A body made ``s`` times as large about its :func:`ground_point`, so it still stands
    on the floor where it stood (its path scaled with it, as a larger person's strides);
    returns ``(scaled, ground point)``."""
    g = ground_point(x, floor_z)
    return g + s * (np.asarray(x) - g), g
