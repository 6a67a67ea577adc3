"""Quaternion joint motion: rotate a joint's subtree about the joint, within limits.

A rotation "at" a joint turns everything below it rigidly about it: at the right hip it
swings the knee and ankle, at the knee the ankle, at the spine joint the whole upper
body, at the thorax (``neck``) the head. Rotations are quaternions (scipy ``Rotation``)
drawn in the joint's anatomical frame, slerped between keyframes for smooth sequences.
Bone lengths are preserved exactly (rigid rotations). After rotating, the anatomical
angles (:mod:`hpd3d.anatomy`) are checked against the joint limits; a frame that would
leave them has its rotation shortened along the same geodesic (a bisection on the slerp
fraction from the identity), so every augmented pose stays within limits.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from hpd3d import anatomy as an
from hpd3d.skeleton import H36M

from .knee import knee_axis
from .limits_pose import POSE_LIMITS, within_limits

# rotatable joint → (pivot joint, first joint it moves, frame used to draw the rotation)
JOINTS = {
    "right_hip": (an.R_HIP, an.R_KNEE, "pelvis"),
    "left_hip": (an.L_HIP, an.L_KNEE, "pelvis"),
    "right_knee": (an.R_KNEE, an.R_ANKLE, "right_knee"),
    "left_knee": (an.L_KNEE, an.L_ANKLE, "left_knee"),
    "spine": (an.SPINE, an.THORAX, "pelvis"),
    "neck": (an.THORAX, an.NECK, "thorax"),
    "right_shoulder": (an.R_SHOULDER, an.R_ELBOW, "thorax"),
    "left_shoulder": (an.L_SHOULDER, an.L_ELBOW, "thorax"),
    "right_elbow": (an.R_ELBOW, an.R_WRIST, "right_elbow"),
    "left_elbow": (an.L_ELBOW, an.L_WRIST, "left_elbow"),
}


def subtree(first: int) -> np.ndarray:
    """``first`` and all its descendants in the H36M tree."""
    parents = np.asarray(H36M.parents)
    keep = np.zeros(len(parents), dtype=bool)
    keep[first] = True
    for j in range(len(parents)):  # parents precede children in H36M order
        if parents[j] >= 0 and keep[parents[j]]:
            keep[j] = True
    return np.flatnonzero(keep)


def joint_frame(x: np.ndarray, joint: str) -> np.ndarray:
    """(..., 3, 3) rows (lateral, forward, up)-like axes in which ``joint`` rotates."""
    frame = JOINTS[joint][2]
    if frame == "pelvis":
        return an.pelvis_frame(x)
    if frame == "thorax":
        return an.thorax_frame(x)
    a, b, c = an.HINGES[frame]  # hinge: x = flexion axis, y = distal bone ⟂, z = proximal bone
    left = an.pelvis_frame(x)[..., 0, :]
    axis = knee_axis(x[..., a, :], x[..., b, :], x[..., c, :], left)
    d = an.unit(x[..., b, :] - x[..., a, :])
    return np.stack([axis, np.cross(d, axis), d], axis=-2)


def rotate_subtree(x: np.ndarray, joint: str, rot: Rotation) -> np.ndarray:
    """Rotate ``joint``'s subtree about its pivot by world rotations ``rot`` (one per
    pose; ``x`` is (N, 17, 3))."""
    pivot, first, _ = JOINTS[joint]
    idx = subtree(first)
    out = np.array(x, dtype=np.float64, copy=True)
    centre = out[:, pivot : pivot + 1, :]
    m = rot.as_matrix()  # (N, 3, 3)
    out[:, idx] = np.einsum("nij,nkj->nki", m, out[:, idx] - centre) + centre
    return out


def local_to_world(x: np.ndarray, joint: str, local: Rotation) -> Rotation:
    """A rotation drawn in the joint's frame, expressed in the world: F^T · R · F."""
    f = joint_frame(x, joint)
    return Rotation.from_matrix(np.swapaxes(f, -1, -2) @ local.as_matrix() @ f)


def sample_local(rng: np.random.Generator, n: int, max_deg) -> Rotation:
    """``n`` rotations with intrinsic x-y-z angles uniform in ±``max_deg`` (3,)."""
    m = np.broadcast_to(np.asarray(max_deg, dtype=np.float64), (3,))
    return Rotation.from_euler("XYZ", rng.uniform(-m, m, size=(n, 3)), degrees=True)


def smooth_local(rng: np.random.Generator, n_frames: int, max_deg, keyframe_every: int
                 ) -> Rotation:
    """Keyframe quaternions drawn like :func:`sample_local`, slerped over ``n_frames``."""
    n_keys = max(2, int(np.ceil((n_frames - 1) / max(keyframe_every, 1))) + 1)
    keys = sample_local(rng, n_keys, max_deg)
    times = np.linspace(0, max(n_frames - 1, 1), n_keys)
    return Slerp(times, keys)(np.arange(n_frames))


def apply_within_limits(x: np.ndarray, joint: str, local: Rotation, limits=POSE_LIMITS,
                        iterations: int = 10) -> np.ndarray:
    """Rotate by ``local`` (one per pose, joint frame), shortening each rotation along
    its geodesic where the result would leave the limits; poses that start outside the
    limits are left as they are."""
    rotvec = local.as_rotvec()
    ok0 = within_limits(x, limits)
    lo = np.zeros(len(x))
    hi = np.where(ok0, 1.0, 0.0)

    def attempt(frac):
        return rotate_subtree(x, joint, local_to_world(x, joint,
                                                       Rotation.from_rotvec(rotvec * frac[:, None])))

    full = attempt(hi)
    good = within_limits(full, limits)
    if good.all():
        return full
    lo_, hi_ = lo.copy(), hi.copy()
    hi_[good] = lo_[good] = hi[good]  # already fine at the full rotation
    for _ in range(iterations):
        mid = 0.5 * (lo_ + hi_)
        ok = within_limits(attempt(mid), limits)
        lo_ = np.where(ok, mid, lo_)
        hi_ = np.where(ok, hi_, mid)
    return attempt(lo_)


def augment_joints(seq: np.ndarray, rng: np.random.Generator, joints=tuple(JOINTS),
                   prob: float = 0.3, max_deg=(30.0, 20.0, 20.0), keyframe_every: int = 25
                   ) -> np.ndarray:
    """Each joint in ``joints`` (in order, proximal first) is rotated with probability
    ``prob`` by a smooth quaternion track (``keyframe_every`` frames between keyframes;
    0 = independent per pose) within ±``max_deg`` about its frame axes."""
    out = np.array(seq, dtype=np.float64, copy=True)
    for joint in joints:
        if rng.random() >= prob:
            continue
        if keyframe_every <= 0:
            local = sample_local(rng, len(out), max_deg)
        else:
            local = smooth_local(rng, len(out), max_deg, keyframe_every)
        out = apply_within_limits(out, joint, local)
    return out
