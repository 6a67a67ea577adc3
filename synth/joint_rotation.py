"""Quaternion joint motion: rotate a joint's subtree about the joint, within limits.

A rotation "at" a joint turns everything below it rigidly about it: at the right hip it
swings the knee and ankle, at the knee the ankle, at the spine joint the whole upper
body, at the thorax (``neck``) the head. Rotations are quaternions (scipy ``Rotation``)
drawn in the joint's anatomical frame, slerped between keyframes for smooth sequences.
Bone lengths are preserved exactly (rigid rotations). After rotating, the anatomical
angles (:mod:`hpd3d.anatomy`) are checked against the joint limits; a frame that would
leave them has its rotation shortened along the same geodesic (a bisection on the slerp
fraction from the identity), so every augmented pose stays within limits. Config:
``conf/joints/`` (:class:`JointsConfig`).
"""

from __future__ import annotations

from dataclasses import dataclass

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
    return np.asarray(H36M.subtree(first))


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


def rotate_subtree(x: np.ndarray, joint: str, rot) -> np.ndarray:
    """Rotate ``joint``'s subtree about its pivot by world rotations ``rot`` (a scipy
    ``Rotation`` or (N, 3, 3) matrices, one per pose; ``x`` is (N, 17, 3))."""
    pivot, first, _ = JOINTS[joint]
    idx = subtree(first)
    out = np.array(x, dtype=np.float64, copy=True)
    centre = out[:, pivot : pivot + 1, :]
    m = rot.as_matrix() if isinstance(rot, Rotation) else rot
    out[:, idx] = np.einsum("nij,nkj->nki", m, out[:, idx] - centre) + centre
    return out


def world_matrices(x: np.ndarray, joint: str, local: np.ndarray) -> np.ndarray:
    """Rotation matrices drawn in the joint's frame, expressed in the world: Fᵀ · R · F."""
    f = joint_frame(x, joint)
    return np.swapaxes(f, -1, -2) @ local @ f


def local_to_world(x: np.ndarray, joint: str, local: Rotation) -> Rotation:
    """A rotation drawn in the joint's frame, expressed in the world (as a ``Rotation``)."""
    return Rotation.from_matrix(world_matrices(x, joint, local.as_matrix()))


def sample_rotvec(rng: np.random.Generator, n: int, max_deg) -> np.ndarray:
    """``n`` rotation vectors (joint frame, radians), each component uniform in
    ±``max_deg`` (3,) degrees."""
    m = np.radians(np.broadcast_to(np.asarray(max_deg, dtype=np.float64), (3,)))
    return rng.uniform(-m, m, size=(n, 3))


def sample_local(rng: np.random.Generator, n: int, max_deg) -> Rotation:
    """:func:`sample_rotvec` as scipy rotations (quaternions)."""
    return Rotation.from_rotvec(sample_rotvec(rng, n, max_deg))


def smooth_local(rng: np.random.Generator, n_frames: int, max_deg, keyframe_every: int
                 ) -> Rotation:
    """Keyframe quaternions drawn like :func:`sample_local`, slerped over ``n_frames``."""
    n_keys = max(2, int(np.ceil((n_frames - 1) / max(keyframe_every, 1))) + 1)
    keys = sample_local(rng, n_keys, max_deg)
    times = np.linspace(0, max(n_frames - 1, 1), n_keys)
    return Slerp(times, keys)(np.arange(n_frames))


def limits_of(joint: str, limits=POSE_LIMITS) -> dict:
    """The limits a rotation at ``joint`` can change. A rotation moves its subtree
    rigidly, so only the angles measured at the joint itself change: the pelvis frame
    is built from pelvis, hips and spine, the thorax frame from spine, thorax and
    shoulders, and a hinge angle lies within one rigid part."""
    prefix = joint if joint in ("spine", "neck") or joint.endswith(("knee", "elbow")) \
        else joint + "_"
    return {k: v for k, v in limits.items() if k == joint or k.startswith(prefix)}


def apply_within_limits(x: np.ndarray, joint: str, local, limits=POSE_LIMITS,
                        iterations: int = 6) -> np.ndarray:
    """Rotate by ``local`` (one per pose, in the joint frame: a ``Rotation`` or (N, 3)
    rotation vectors), shortening each rotation along its geodesic where the result
    would leave the limits (a bisection on the slerp fraction, run only on the poses that
    need it); poses that start outside the limits are left as they are."""
    limits = limits_of(joint, limits)
    rotvec = local.as_rotvec() if isinstance(local, Rotation) else np.asarray(local)
    frame = joint_frame(x, joint)  # the pose before rotating: fixed for every attempt

    def attempt(sel, frac):
        f = frame[sel]
        m = Rotation.from_rotvec(rotvec[sel] * frac[:, None]).as_matrix()
        return rotate_subtree(x[sel], joint, np.swapaxes(f, -1, -2) @ m @ f)

    everything = slice(None)
    frac = within_limits(x, limits).astype(np.float64)  # 0: start outside, leave alone
    out = attempt(everything, frac)
    bad = np.flatnonzero(~within_limits(out, limits))
    if len(bad):
        lo, hi = np.zeros(len(bad)), frac[bad]
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            ok = within_limits(attempt(bad, mid), limits)
            lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
        out[bad] = attempt(bad, lo)
    return out


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
            local = sample_rotvec(rng, len(out), max_deg)
        else:
            local = smooth_local(rng, len(out), max_deg, keyframe_every)
        out = apply_within_limits(out, joint, local)
    return out


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


def augment(seq: np.ndarray, rng: np.random.Generator, cfg: JointsConfig) -> np.ndarray:
    """The ``joints`` step of the chain (:data:`synth.augment.CHAIN`)."""
    return augment_joints(seq, rng, tuple(cfg.joints), cfg.prob, tuple(cfg.max_deg),
                          cfg.keyframe_every)
