"""Two-bone leg IK: the hip and knee angles that put an ankle on a target.

Used by the motions whose feet stay planted while the pelvis moves (squat, lunge, sit,
jump take-off and landing, kicks' standing leg …). Everything is in the canonical body
frame (heading 0, facing −Y, ground at z = 0) and vectorised over frames. The knee bends
in the plane of the hip → ankle line and a *pole*: the direction the pelvis faces,
taken horizontally (so a pelvis tilted far forward still has its knees ahead), turned
outwards by ``knee_out`` (knees over the toes in a squat). Angles come back clipped to
the limits, so a target out of reach or out of range is missed rather than violated.
"""

from __future__ import annotations

import numpy as np

from .. import limits
from ..body import LEFT, UP, Body
from .track import HIP, KNEE, PELVIS, SIDE_SIGN


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def leg_ik(body: Body, pelvis_pos: np.ndarray, pelvis_angles: np.ndarray,
           ankles: np.ndarray, knee_out=0.0, sides=(0, 1)) -> np.ndarray:
    """Angles (T, 17, 3) — only the hips and knees of ``sides`` filled — that reach
    ``ankles`` (T, 2, 3) (index 0 right, 1 left) from a pelvis at ``pelvis_pos`` (T, 3)
    with tilt ``pelvis_angles`` (T, 3) radians; ``knee_out`` radians, scalar or (T, 2)."""
    pelvis_pos = np.asarray(pelvis_pos, dtype=np.float64)
    T = pelvis_pos.shape[0]
    P = limits.joint_matrix(PELVIS, np.asarray(pelvis_angles, dtype=np.float64))  # (T, 3, 3)
    offsets = body.offsets
    l1, l2 = float(body.length("thigh")), float(body.length("shank"))
    out_ang = np.broadcast_to(np.asarray(knee_out, dtype=np.float64), (T, 2))
    # where the pelvis faces, horizontally: unaffected by its forward tilt
    left_h = (P @ LEFT) * np.array([1.0, 1.0, 0.0])
    ahead = _unit(np.cross(left_h, UP))
    angles = np.zeros((T, 17, 3))
    for s in sides:
        hip = pelvis_pos + P @ offsets[HIP[s]]
        d = np.asarray(ankles, dtype=np.float64)[:, s] - hip
        dist = np.linalg.norm(d, axis=-1)
        u = d / np.maximum(dist, 1e-12)[:, None]
        dist = np.clip(dist, abs(l1 - l2) + 1e-6, (l1 + l2) * (1.0 - 1e-12))
        cos_in = np.clip((l1 * l1 + l2 * l2 - dist * dist) / (2 * l1 * l2), -1.0, 1.0)
        knee = np.pi - np.arccos(cos_in)
        cos_a = np.clip((l1 * l1 + dist * dist - l2 * l2) / (2 * l1 * dist), -1.0, 1.0)
        sin_a = np.sqrt(1.0 - cos_a * cos_a)
        turn = SIDE_SIGN[s] * out_ang[:, s]  # the right knee turns out towards −X
        c, sn = np.cos(turn)[:, None], np.sin(turn)[:, None]
        pole = c * ahead + sn * np.cross(UP, ahead)   # ``ahead`` turned about the vertical
        w = _unit(pole - np.sum(pole * u, axis=-1, keepdims=True) * u)
        t = cos_a[:, None] * u + sin_a[:, None] * w       # thigh direction
        f = -sin_a[:, None] * u + cos_a[:, None] * w      # where the knee points
        G = np.stack([np.cross(f, t), -f, -t], axis=-1)   # hip's global frame (columns)
        R_hip = np.swapaxes(P, -1, -2) @ G
        angles[:, HIP[s]] = limits.joint_from_matrix(HIP[s], R_hip)
        angles[:, KNEE[s], 0] = knee
    return limits.clip(angles)


def standing_height(body: Body, stance_width: float, knee_bend: float = 0.0) -> float:
    """Pelvis height over feet ``stance_width`` apart (ankle to ankle) with the knees
    bent ``knee_bend`` radians."""
    l1, l2 = float(body.length("thigh")), float(body.length("shank"))
    reach = np.sqrt(l1 * l1 + l2 * l2 + 2 * l1 * l2 * np.cos(knee_bend))
    dx = (stance_width - float(body.length("hip_width"))) / 2
    return float(body.ankle_height) + float(np.sqrt(max(reach * reach - dx * dx, 1e-6)))


def feet(body: Body, stance_width: float, T: int, y=(0.0, 0.0)) -> np.ndarray:
    """(T, 2, 3) ankle targets ``stance_width`` apart, at ``y`` (right, left), on the ground."""
    a = np.zeros((T, 2, 3))
    for s in (0, 1):
        a[:, s] = (SIDE_SIGN[s] * stance_width / 2, y[s], float(body.ankle_height))
    return a
