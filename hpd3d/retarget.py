"""3D joint positions (H36M-17) → an armature: bone table, rest pose, local rotations, BVH.

The armature (the one table, :data:`BONES`, shared with Blender's import and the body):
each bone runs from a head joint to a tail joint (H36M-17 indices); the four leaf bones
(hands, feet) have no tail joint: their tails are made by rule (:func:`bone_tails`).

Frames. Every bone has a rest frame (columns x, y, z; world Z-up, the figure faces −Y, its
left is +X): y along the bone (Blender's convention), x the bone's bend axis:

- trunk (Hips, Spine, Neck, Head): x = the body's left (+X);
- legs (UpLeg, Leg): x = the body's left, so the knee bends about local +x (positive angle
  = flexion: the shank swings backwards);
- arms (Shoulder, Arm, ForeArm, Hand): x = y × forward, i.e. −Z for the left arm and +Z
  for the right arm in a T-pose, so the elbow flexes about local +x too;
- feet: y forward (−Y), x the body's left.

Posed frames come from the positions (:func:`solve_rotations`): swing to the child joint
plus a twist from the body —

- pelvis (Hips): the rest offsets pelvis→right hip, pelvis→left hip, pelvis→spine fitted
  to the data (Kabsch, per frame): the pelvis is one rigid bone;
- chest (Spine), Neck: y to the next joint, x from the shoulder line (left − right);
- Head: y from neck to head top, x from the shoulder line;
- clavicles (Shoulder bones): y to the shoulder, x = y × the chest's forward axis;
- thigh + shank, upper arm + forearm: y along the bone, x = the normal of the limb plane
  (hip, knee, ankle / shoulder, elbow, wrist) oriented so that the hinge angle is
  positive. Thigh and shank share that x axis, so the knee's local rotation is a rotation
  about x only — a hinge. Where the limb is straight (angle < :data:`STRAIGHT_DEG`) the
  plane is undefined: the last bent frame's normal is carried in the parent bone's frame
  (the first frames take the rest-pose axis); normals keep their sign from frame to
  frame (no 180° twist flip), and the overall sign is the one that makes most bent
  frames a positive (anatomical) flexion;
- hands: rigid with the forearm; feet: level (y = forward in the ground plane, from the
  shank's hinge axis), rigid with the shank when the shank's axis is near vertical.

Quaternions are made sign-continuous over time (``q_t · q_{t−1} ≥ 0``).

Constant bone lengths (:func:`bone_lengths`: per-bone median over frames, optionally
left/right averaged) and the rigid pelvis (:func:`pelvis_shape`: median offsets in the
pelvis frame) define the rest pose (:func:`rest_pose`); the armature reproduces
:func:`normalize` (the input with those lengths and that pelvis) exactly, and that is
what the round-trip tests check.

BVH (:func:`positions_to_bvh`): the bones' heads become BVH joints named after the H36M
joints they sit on (``pelvis``, ``spine``, ``thorax`` (Neck), ``neck`` (Head),
``left_collar``/``right_collar`` (the Shoulder bones, on the thorax), ``left_shoulder``
(LeftArm), … ``head`` (the head top, a joint with an End Site)), so
:func:`hpd3d.rig.to_h36m` maps it one to one. A BVH written by Blender from the armature
(bones named as in :data:`BONES`) maps with :func:`bones_rig_map`.

numpy + scipy only (imported inside Blender).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.spatial.transform import Rotation

from hpd3d.skeleton import H36M

__all__ = [
    "Bone", "BONES", "BONE_NAMES", "H36M_BONES", "STRAIGHT_DEG", "HAND_RATIO", "FOOT_RATIO",
    "Motion", "bone_lengths", "pelvis_shape", "rest_pose", "rest_frames", "bone_tails",
    "normalize", "solve_rotations", "forward", "positions_to_bvh", "bones_rig_map",
    "BVH_NAMES", "validate_positions", "quaternions", "motion_to_bvh",
]


class Bone(NamedTuple):
    name: str
    head: int            # H36M joint at the bone's head
    tail: int | None     # H36M joint at its tail; None for leaf bones (tail by rule)
    parent: str | None


# The armature (Interfaces item 3). Parents come before children.
BONES: tuple[Bone, ...] = (
    Bone("Hips", 0, 7, None),
    Bone("Spine", 7, 8, "Hips"),
    Bone("Neck", 8, 9, "Spine"),
    Bone("Head", 9, 10, "Neck"),
    Bone("LeftShoulder", 8, 11, "Spine"),
    Bone("LeftArm", 11, 12, "LeftShoulder"),
    Bone("LeftForeArm", 12, 13, "LeftArm"),
    Bone("LeftHand", 13, None, "LeftForeArm"),
    Bone("RightShoulder", 8, 14, "Spine"),
    Bone("RightArm", 14, 15, "RightShoulder"),
    Bone("RightForeArm", 15, 16, "RightArm"),
    Bone("RightHand", 16, None, "RightForeArm"),
    Bone("LeftUpLeg", 4, 5, "Hips"),
    Bone("LeftLeg", 5, 6, "LeftUpLeg"),
    Bone("LeftFoot", 6, None, "LeftLeg"),
    Bone("RightUpLeg", 1, 2, "Hips"),
    Bone("RightLeg", 2, 3, "RightUpLeg"),
    Bone("RightFoot", 3, None, "RightLeg"),
)
BONE_NAMES: tuple[str, ...] = tuple(b.name for b in BONES)
_IDX = {b.name: i for i, b in enumerate(BONES)}
_PARENT = np.array([-1 if b.parent is None else _IDX[b.parent] for b in BONES])

# BVH joint name of each bone's head (H36M names where the head is that H36M joint).
BVH_NAMES: dict[str, str] = {
    "Hips": "pelvis", "Spine": "spine", "Neck": "thorax", "Head": "neck",
    "LeftShoulder": "left_collar", "LeftArm": "left_shoulder", "LeftForeArm": "left_elbow",
    "LeftHand": "left_wrist",
    "RightShoulder": "right_collar", "RightArm": "right_shoulder", "RightForeArm": "right_elbow",
    "RightHand": "right_wrist",
    "LeftUpLeg": "left_hip", "LeftLeg": "left_knee", "LeftFoot": "left_ankle",
    "RightUpLeg": "right_hip", "RightLeg": "right_knee", "RightFoot": "right_ankle",
}

# The 16 H36M bones (parent, child) in child order: bone k ends at joint k + 1.
H36M_BONES = np.array([(p, c) for c, p in enumerate(H36M.parents) if p >= 0], dtype=np.int64)
_LR_BONES = ((0, 3), (1, 4), (2, 5), (10, 13), (11, 14), (12, 15))  # right/left twins (bone ids)

STRAIGHT_DEG = (3.0, 12.0)  # limb bend (deg) below which its plane is carried, above which it is read
HAND_RATIO = 0.75    # hand bone length / forearm length (rule: leaf tails are not data)
FOOT_RATIO = 0.55    # foot bone length / shank length

_LEFT = np.array([1.0, 0.0, 0.0])
_FORWARD = np.array([0.0, -1.0, 0.0])
_UP = np.array([0.0, 0.0, 1.0])
_EPS = 1e-9


# ----------------------------------------------------------------------- small helpers
def _unit(v, eps=_EPS):
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, eps), n[..., 0]


def _dot(a, b):
    return np.einsum("...i,...i->...", a, b)


def _ffill(valid: np.ndarray) -> np.ndarray:
    """Index of the last valid frame at or before each frame (−1 before the first)."""
    idx = np.where(valid, np.arange(len(valid)), -1)
    return np.maximum.accumulate(idx) if len(idx) else idx


def _frame(y: np.ndarray, x_ref: np.ndarray) -> np.ndarray:
    """(…, 3, 3) frames with columns x, y, z: y given (unit), x = x_ref made ⟂ y."""
    x = x_ref - _dot(x_ref, y)[..., None] * y
    x, _ = _unit(x)
    z = np.cross(x, y)
    return np.stack([x, y, z], axis=-1)


def _quat_wxyz(m: np.ndarray) -> np.ndarray:
    q = Rotation.from_matrix(m.reshape(-1, 3, 3)).as_quat()  # x, y, z, w
    return q[:, [3, 0, 1, 2]].reshape(m.shape[:-2] + (4,))


def _matrix_wxyz(q: np.ndarray) -> np.ndarray:
    q = np.asarray(q, dtype=np.float64)
    return Rotation.from_quat(q.reshape(-1, 4)[:, [1, 2, 3, 0]]).as_matrix().reshape(q.shape[:-1] + (3, 3))


def quaternions(m: np.ndarray) -> np.ndarray:
    """(T, …, 3, 3) rotation matrices → (T, …, 4) w, x, y, z, sign-continuous along axis 0."""
    return _continuous(_quat_wxyz(np.asarray(m, dtype=np.float64)))


def _continuous(q: np.ndarray) -> np.ndarray:
    """Flip quaternion signs along axis 0 so that consecutive ones have a dot product ≥ 0."""
    if len(q) < 2:
        return q
    d = np.sign(_dot(q[1:], q[:-1]))
    d[d == 0] = 1.0
    s = np.concatenate([np.ones((1,) + d.shape[1:]), np.cumprod(d, axis=0)], axis=0)
    return q * s[..., None]


def validate_positions(positions, name: str = "positions") -> np.ndarray:
    """(T, 17, 3) finite float64, T ≥ 1; raises ValueError naming the problem."""
    p = np.asarray(positions, dtype=np.float64)
    if p.ndim != 3 or p.shape[1:] != (17, 3):
        raise ValueError(f"{name} must be (T, 17, 3) H36M-17 joints, got shape {p.shape}")
    if p.shape[0] == 0:
        raise ValueError(f"{name} has no frames")
    if not np.isfinite(p).all():
        t = int(np.argwhere(~np.isfinite(p))[0][0])
        raise ValueError(f"{name} has non-finite values (first at frame {t})")
    lengths = np.linalg.norm(p[:, H36M_BONES[:, 1]] - p[:, H36M_BONES[:, 0]], axis=-1)
    if (np.median(lengths, axis=0) < 1e-4).any():
        k = int(np.argmin(np.median(lengths, axis=0)))
        a, b = H36M_BONES[k]
        raise ValueError(f"{name}: bone {H36M.joints[a]}→{H36M.joints[b]} has zero length")
    return p


# ---------------------------------------------------------------- lengths and rest pose
def bone_lengths(positions, symmetric: bool = False) -> np.ndarray:
    """(16,) per-bone median length over frames (H36M bone k ends at joint k + 1);
    ``symmetric``: left and right twins averaged."""
    p = np.asarray(positions, dtype=np.float64)
    lengths = np.median(np.linalg.norm(p[:, H36M_BONES[:, 1]] - p[:, H36M_BONES[:, 0]], axis=-1), axis=0)
    if symmetric:
        for r, l in _LR_BONES:
            lengths[r] = lengths[l] = 0.5 * (lengths[r] + lengths[l])
    return lengths


def _pelvis_frames(p: np.ndarray) -> np.ndarray:
    """(T, 3, 3) pelvis frames of positions: z along pelvis→spine, x the hip line (right → left)."""
    z, _ = _unit(p[:, 7] - p[:, 0])
    x = p[:, 4] - p[:, 1]
    x = x - _dot(x, z)[:, None] * z
    x, _ = _unit(x)
    return np.stack([x, np.cross(z, x), z], axis=-1)


def pelvis_shape(positions, symmetric: bool = False) -> np.ndarray:
    """(3, 3) rows: median offsets pelvis→right hip, pelvis→left hip, pelvis→spine in the
    pelvis frame (x = hip line to the left, z = up the spine, y = z × x = backwards).
    ``symmetric``: the hips mirrored and averaged."""
    p = np.asarray(positions, dtype=np.float64)
    F = _pelvis_frames(p)
    off = p[:, [1, 4, 7]] - p[:, None, 0]
    local = np.einsum("tji,tkj->tki", F, off)   # Fᵀ · offset
    shape = np.median(local, axis=0)
    if symmetric:
        m = np.array([-1.0, 1.0, 1.0])
        hip = 0.5 * (shape[1] + shape[0] * m)
        shape[1], shape[0] = hip, hip * m
    return shape


def rest_pose(bone_lengths, kind: str = "T", pelvis=None) -> np.ndarray:
    """(17, 3) rest joint positions in metres, Z-up, facing −Y, lowest ankle on z = 0.

    ``kind``: ``"T"`` (arms horizontal) or ``"A"`` (arms 45° down). The spine, neck and
    head are vertical, legs straight down, clavicles horizontal. ``pelvis``: (3, 3) from
    :func:`pelvis_shape` (hips and spine offsets in the pelvis frame, which is the world
    frame at rest); default: hips on the ±X axis, spine straight up.
    """
    L = np.asarray(bone_lengths, dtype=np.float64).reshape(16)
    if kind not in ("T", "A"):
        raise ValueError(f"rest kind must be 'T' or 'A', got {kind!r}")

    def length(child):
        return L[child - 1]

    if pelvis is None:
        pelvis = np.array([[-length(1), 0, 0], [length(4), 0, 0], [0, 0, length(7)]])
    pelvis = np.asarray(pelvis, dtype=np.float64)
    # rescale the shape's offsets to the given lengths (they agree when both come from one clip)
    pelvis = pelvis / np.maximum(np.linalg.norm(pelvis, axis=1, keepdims=True), _EPS) * \
        np.array([length(1), length(4), length(7)])[:, None]
    down, up = -_UP, _UP
    a = np.deg2rad(45.0) if kind == "A" else 0.0
    arm_l = np.array([np.cos(a), 0.0, -np.sin(a)])
    arm_r = arm_l * np.array([-1.0, 1.0, 1.0])
    r = np.zeros((17, 3))
    r[1], r[4], r[7] = pelvis
    r[2] = r[1] + length(2) * down
    r[3] = r[2] + length(3) * down
    r[5] = r[4] + length(5) * down
    r[6] = r[5] + length(6) * down
    r[8] = r[7] + length(8) * up
    r[9] = r[8] + length(9) * up
    r[10] = r[9] + length(10) * up
    r[11] = r[8] + length(11) * _LEFT
    r[12] = r[11] + length(12) * arm_l
    r[13] = r[12] + length(13) * arm_l
    r[14] = r[8] - length(14) * _LEFT
    r[15] = r[14] + length(15) * arm_r
    r[16] = r[15] + length(16) * arm_r
    r[:, 2] -= min(r[3, 2], r[6, 2])
    return r


def _rest_lengths(rest: np.ndarray) -> np.ndarray:
    return np.linalg.norm(rest[H36M_BONES[:, 1]] - rest[H36M_BONES[:, 0]], axis=-1)


def bone_tails(rest) -> tuple[np.ndarray, np.ndarray]:
    """Heads and tails (B, 3) of :data:`BONES` in the rest pose. Leaf tails by rule: hands
    continue the forearm (:data:`HAND_RATIO` of its length), feet point forward (−Y,
    :data:`FOOT_RATIO` of the shank) at ankle height."""
    rest = np.asarray(rest, dtype=np.float64)
    heads = rest[[b.head for b in BONES]]
    tails = np.empty_like(heads)
    for i, b in enumerate(BONES):
        if b.tail is not None:
            tails[i] = rest[b.tail]
        elif b.name.endswith("Hand"):
            e = rest[BONES[_PARENT[i]].head]
            tails[i] = rest[b.head] + HAND_RATIO * (rest[b.head] - e)
        else:
            k = rest[BONES[_PARENT[i]].head]
            tails[i] = rest[b.head] + FOOT_RATIO * np.linalg.norm(rest[b.head] - k) * _FORWARD
    return heads, tails


def _kind(name: str) -> str:
    if name.endswith(("UpLeg", "Leg")):
        return "leg"
    if name.endswith("Foot"):
        return "foot"
    if name.endswith(("Shoulder", "Arm", "Hand")):
        return "arm"
    return "trunk"


def rest_frames(rest) -> np.ndarray:
    """(B, 3, 3) rest frames of :data:`BONES` (columns x, y, z; y along the bone; see the
    module docstring for x). These are the bones' rest matrices in armature space."""
    heads, tails = bone_tails(rest)
    y, _ = _unit(tails - heads)
    out = np.empty((len(BONES), 3, 3))
    for i, b in enumerate(BONES):
        k = _kind(b.name)
        if k in ("trunk", "leg", "foot"):
            out[i] = _frame(y[i], _LEFT)
        else:  # arms: x = y × forward (T-pose: −Z left, +Z right)
            out[i] = _frame(y[i], np.cross(y[i], _FORWARD))
    return out


# ------------------------------------------------------------------------ normalise
def _kabsch(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotations R minimising Σ |R a_i − b_it|²; a (N, 3), b (T, N, 3)."""
    H = np.einsum("ni,tnj->tij", a, b)
    U, _, Vt = np.linalg.svd(H)
    V = np.swapaxes(Vt, -1, -2)
    d = np.sign(np.linalg.det(V @ np.swapaxes(U, -1, -2)))
    d[d == 0] = 1.0
    D = np.zeros_like(H)
    D[:, 0, 0] = D[:, 1, 1] = 1.0
    D[:, 2, 2] = d
    return V @ D @ np.swapaxes(U, -1, -2)


def _pelvis_delta(p: np.ndarray, rest: np.ndarray) -> np.ndarray:
    return _kabsch(rest[[1, 4, 7]] - rest[0], p[:, [1, 4, 7]] - p[:, None, 0])


def normalize(positions, rest) -> np.ndarray:
    """(T, 17, 3): the input made representable by the armature of ``rest`` — the pelvis's
    rest offsets (hips, spine) fitted rigidly to each frame, then every other joint placed
    at its rest bone length along the input's bone direction. Independent of the rotation
    solve (the round-trip tests compare the two)."""
    p = validate_positions(positions)
    rest = np.asarray(rest, dtype=np.float64)
    L = _rest_lengths(rest)
    out = np.empty_like(p)
    out[:, 0] = p[:, 0]
    D = _pelvis_delta(p, rest)
    for j in (1, 4, 7):
        out[:, j] = p[:, 0] + D @ (rest[j] - rest[0])
    for k, (a, c) in enumerate(H36M_BONES):
        if a == 0:
            continue
        d, _ = _unit(p[:, c] - p[:, a])
        out[:, c] = out[:, a] + L[k] * d
    return out


# ---------------------------------------------------------------------------- solve
@dataclass
class Motion:
    """Solved armature motion.

    ``local`` (T, B, 4) w, x, y, z: each bone's rotation in its own rest frame relative to
    its parent (Blender's pose-bone ``rotation_quaternion``); ``root`` (T, 3) the Hips
    head (pelvis) in metres, world; ``pose`` (T, B, 3, 3) posed bone frames in world;
    ``rest`` (17, 3) and ``frames`` (B, 3, 3) the rest pose and rest frames;
    ``hinge_angle`` (T, 4) knee/elbow angles (rad, LeftLeg, RightLeg, LeftForeArm,
    RightForeArm) about their local x.
    """

    local: np.ndarray
    root: np.ndarray
    pose: np.ndarray
    rest: np.ndarray
    frames: np.ndarray
    hinge_angle: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.local.shape[0])

    def delta(self) -> np.ndarray:
        """(T, B, 3, 3) world rotations taking each bone from rest to pose (BVH's global
        joint rotation): ``pose · frameᵀ``."""
        return self.pose @ np.swapaxes(self.frames, -1, -2)[None]


_HINGES = (("LeftUpLeg", "LeftLeg", 4, 5, 6), ("RightUpLeg", "RightLeg", 1, 2, 3),
           ("LeftArm", "LeftForeArm", 11, 12, 13), ("RightArm", "RightForeArm", 14, 15, 16))


def _carry_normals(r: np.ndarray, w: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Hinge normals in the parent's frame: ``n_t = unit(w_t·±r_t + (1 − w_t)·n_{t−1})``
    with the sign of ``r_t`` chosen so that ``r_t · n_{t−1} ≥ 0`` (continuity) and
    ``n_{−1} = start``. A plain-float loop (numpy per-element calls would be 10× slower)."""
    out = []
    nx, ny, nz = (float(v) for v in start)
    for (rx, ry, rz), wt in zip(r.tolist(), w.tolist()):
        if wt > 0.0:
            if rx * nx + ry * ny + rz * nz < 0.0:
                rx, ry, rz = -rx, -ry, -rz
            mx = wt * rx + (1.0 - wt) * nx
            my = wt * ry + (1.0 - wt) * ny
            mz = wt * rz + (1.0 - wt) * nz
            k = (mx * mx + my * my + mz * mz) ** 0.5
            if k > 1e-12:
                nx, ny, nz = mx / k, my / k, mz / k
        out.append((nx, ny, nz))
    return np.asarray(out, dtype=np.float64).reshape(-1, 3)


def _limb_normal(p, a, b, c, parent_pose, default_local):
    """(T, 3) world unit hinge axes of limb a→b→c (see the module docstring), and the
    unit bone directions a→b, b→c."""
    u, _ = _unit(p[:, b] - p[:, a])
    f, _ = _unit(p[:, c] - p[:, b])
    n, s = _unit(np.cross(u, f))
    angle = np.degrees(np.arcsin(np.clip(s, 0.0, 1.0)))
    angle = np.where(_dot(u, f) < 0, 180.0 - angle, angle)
    lo, hi = STRAIGHT_DEG
    w = np.clip((angle - lo) / (hi - lo), 0.0, 1.0)
    w = w * w * (3.0 - 2.0 * w)                       # smoothstep: no kink at lo, hi
    Rt = np.swapaxes(parent_pose, -1, -2)
    n_loc = np.einsum("tij,tj->ti", Rt, n)             # in the parent's frame
    n_loc = _carry_normals(n_loc, w, default_local)
    # overall sign: most bent frames (weighted by bend) are positive flexions
    flex = _dot(np.cross(u, f), np.einsum("tij,tj->ti", parent_pose, n_loc))
    if np.sum(flex * w) < 0:
        n_loc = -n_loc
    n_world = np.einsum("tij,tj->ti", parent_pose, n_loc)
    x = n_world - _dot(n_world, u)[:, None] * u
    x, xn = _unit(x)
    bad = xn < 1e-3  # carried axis along the bone (cannot happen after a bend): rest axis
    if bad.any():
        alt = np.einsum("tij,j->ti", parent_pose[bad], default_local)
        x[bad] = _unit(alt - _dot(alt, u[bad])[:, None] * u[bad])[0]
    return x, u, f


def solve_rotations(positions, rest) -> Motion:
    """Local bone rotations of :data:`BONES` from (T, 17, 3) world positions (metres,
    Z-up) for the armature of ``rest`` (:func:`rest_pose`). FK of the result
    (:func:`forward`) equals :func:`normalize` ``(positions, rest)``."""
    p = validate_positions(positions)
    rest = np.asarray(rest, dtype=np.float64)
    T, B = p.shape[0], len(BONES)
    frames = rest_frames(rest)
    pose = np.empty((T, B, 3, 3))
    I = _IDX

    def ffill_frames(y, x_ref):
        """Frames from y and x_ref; frames where x_ref ∥ y reuse the previous good x."""
        x = x_ref - _dot(x_ref, y)[:, None] * y
        _, n = _unit(x)
        ok = n > 1e-6
        if not ok.all():
            last = _ffill(ok)
            fallback = np.where(last[:, None] >= 0, x_ref[np.maximum(last, 0)], _LEFT)
            x_ref = np.where(ok[:, None], x_ref, fallback)
        return _frame(y, x_ref)

    # pelvis: rigid fit of the rest offsets
    Dh = _pelvis_delta(p, rest)
    pose[:, I["Hips"]] = Dh @ frames[I["Hips"]]
    shoulders = p[:, 11] - p[:, 14]                     # the body's left, at the chest
    for name, a, b in (("Spine", 7, 8), ("Neck", 8, 9), ("Head", 9, 10)):
        y, _ = _unit(p[:, b] - p[:, a])
        pose[:, I[name]] = ffill_frames(y, shoulders)
    chest_fwd = pose[:, I["Spine"], :, 2]
    for name, a, b in (("LeftShoulder", 8, 11), ("RightShoulder", 8, 14)):
        y, _ = _unit(p[:, b] - p[:, a])
        pose[:, I[name]] = ffill_frames(y, np.cross(y, chest_fwd))
    hinge = np.empty((T, 4))
    for k, (upper, lower, a, b, c) in enumerate(_HINGES):
        par = I[BONES[I[upper]].parent]
        # the rest-pose hinge axis in the parent's rest frame
        default_local = frames[par].T @ frames[I[upper]][:, 0]
        x, u, f = _limb_normal(p, a, b, c, pose[:, par], default_local)
        pose[:, I[upper]] = np.stack([x, u, np.cross(x, u)], axis=-1)
        pose[:, I[lower]] = _frame(f, x)  # x ⟂ f already, except on carried (straight) frames
        hinge[:, k] = np.arctan2(_dot(np.cross(u, f), x), _dot(u, f))
    for name in ("LeftHand", "RightHand"):  # rigid with the forearm
        par = _PARENT[I[name]]
        pose[:, I[name]] = pose[:, par] @ (frames[par].T @ frames[I[name]])
    for name in ("LeftFoot", "RightFoot"):  # level; turns about the shank's hinge axis only
        par = _PARENT[I[name]]
        rigid = pose[:, par] @ (frames[par].T @ frames[I[name]])
        x = pose[:, par, :, 0]
        y_ref = np.cross(x, _UP) + 0.05 * rigid[:, :, 1]   # rest: X × Z = −Y, forward
        y, _ = _unit(y_ref - _dot(y_ref, x)[:, None] * x)
        pose[:, I[name]] = np.stack([x, y, np.cross(x, y)], axis=-1)

    # local rotations in the bones' own rest frames: Rᵇᵀ R_pᵀ… (Blender's matrix_basis)
    local = np.empty((T, B, 3, 3))
    root_rel = pose[:, 0] @ frames[0].T
    local[:, 0] = frames[0].T @ root_rel @ frames[0]
    for i in range(1, B):
        par = _PARENT[i]
        # basis = (Restᵢᵀ Rest_p)(Pose_pᵀ Poseᵢ)
        local[:, i] = (frames[i].T @ frames[par]) @ (np.swapaxes(pose[:, par], -1, -2) @ pose[:, i])
    q = _continuous(_quat_wxyz(local))
    return Motion(local=q, root=p[:, 0].copy(), pose=pose, rest=rest, frames=frames,
                  hinge_angle=hinge)


def forward(local, root, rest) -> np.ndarray:
    """(T, 17, 3) joint positions of the armature of ``rest`` posed by ``local`` (T, B, 4)
    w, x, y, z (Blender pose-bone quaternions) with the Hips head at ``root`` (T, 3)."""
    rest = np.asarray(rest, dtype=np.float64)
    frames = rest_frames(rest)
    heads, tails = bone_tails(rest)
    M = _matrix_wxyz(local)
    T, B = M.shape[:2]
    pose = np.empty((T, B, 3, 3))
    head = np.empty((T, B, 3))
    out = np.empty((T, 17, 3))
    for i, b in enumerate(BONES):
        par = _PARENT[i]
        if par < 0:
            pose[:, i] = frames[i] @ M[:, i]
            head[:, i] = root
        else:
            pose[:, i] = pose[:, par] @ (frames[par].T @ frames[i]) @ M[:, i]
            delta = pose[:, par] @ frames[par].T
            head[:, i] = head[:, par] + delta @ (heads[i] - heads[par])
        out[:, b.head] = head[:, i]
    hb = _IDX["Head"]
    out[:, 10] = head[:, hb] + (pose[:, hb] @ frames[hb].T) @ (tails[hb] - heads[hb])
    return out


# ------------------------------------------------------------------------------ BVH
def positions_to_bvh(positions, fps: float, rest_kind: str = "T", *, symmetric: bool = False,
                     euler_order: str = "ZXY"):
    """A :class:`hpd3d.bvh.Bvh` (Y-up, metres) of the armature driven by ``positions``
    (T, 17, 3) world Z-up metres. Rest pose from the clip's median bone lengths and pelvis
    (:func:`rest_pose`); joints named after the H36M joints (module docstring), so
    :func:`hpd3d.rig.to_h36m` of it gives :func:`normalize` ``(positions, rest)``."""
    p = validate_positions(positions)
    if not (float(fps) > 0 and np.isfinite(fps)):
        raise ValueError(f"fps must be positive, got {fps!r}")
    rest = rest_pose(bone_lengths(p, symmetric), rest_kind, pelvis_shape(p, symmetric))
    return motion_to_bvh(solve_rotations(p, rest), fps, euler_order=euler_order)


def motion_to_bvh(motion: Motion, fps: float, euler_order: str = "ZXY"):
    """The BVH of a solved :class:`Motion` (see :func:`positions_to_bvh`)."""
    from hpd3d.bvh import from_local
    from hpd3d.rig import Y_UP_TO_Z_UP

    C = Y_UP_TO_Z_UP.T                          # world Z-up → BVH Y-up
    heads, tails = bone_tails(motion.rest)
    B = len(BONES)
    names = [BVH_NAMES[b.name] for b in BONES]
    parents = list(_PARENT)
    offsets = [heads[0]] + [heads[i] - heads[_PARENT[i]] for i in range(1, B)]
    is_end = [False] * B
    D = motion.delta()                           # (T, B, 3, 3) world rest → pose
    T = motion.num_frames
    local = np.empty((T, B, 3, 3))
    local[:, 0] = D[:, 0]
    for i in range(1, B):
        local[:, i] = np.swapaxes(D[:, _PARENT[i]], -1, -2) @ D[:, i]
    mats = [local[:, i] for i in range(B)]
    hb = _IDX["Head"]
    # the head top: a joint (H36M "head") with identity rotation and an End Site
    names.append("head")
    parents.append(hb)
    offsets.append(tails[hb] - heads[hb])
    is_end.append(False)
    mats.append(np.broadcast_to(np.eye(3), (T, 3, 3)))
    ends = [(len(names) - 1, 0.5 * (tails[hb] - heads[hb]))]
    ends += [(i, tails[i] - heads[i]) for i, b in enumerate(BONES) if b.tail is None]
    for j, off in ends:
        names.append(f"{names[j]}_End")
        parents.append(j)
        offsets.append(off)
        is_end.append(True)
        mats.append(np.broadcast_to(np.eye(3), (T, 3, 3)))
    offsets = np.asarray(offsets) @ C.T
    mats = C @ np.stack(mats, axis=1) @ C.T
    root = motion.root @ C.T
    return from_local(names, np.asarray(parents), offsets, mats, root, 1.0 / float(fps),
                      euler_order=euler_order, is_end=np.asarray(is_end))


def bones_rig_map(bvh):
    """:class:`hpd3d.rig.RigMap` for a BVH whose joints are named as :data:`BONES` (e.g.
    Blender's BVH export of the armature; ``namespace:`` prefixes ignored): each H36M
    joint is the head of the bone on it, the head top the Head bone's End Site."""
    from hpd3d.errors import InputError
    from hpd3d.rig import RigMap

    names = [n.rsplit(":", 1)[-1] for n in bvh.names]
    w = np.zeros((17, bvh.num_joints))
    src = [""] * 17
    for b in BONES:
        if b.name not in names:
            raise InputError(bvh.path or "<bvh>", f"no joint {b.name!r}: not this armature's BVH")
        if not src[b.head]:
            w[b.head, names.index(b.name)] = 1.0
            src[b.head] = bvh.names[names.index(b.name)]
    hb = names.index("Head")
    kids = [j for j in range(bvh.num_joints) if bvh.parents[j] == hb]
    if len(kids) != 1:
        raise InputError(bvh.path or "<bvh>", "the Head joint must have exactly one child (its tail)")
    w[10, kids[0]] = 1.0
    src[10] = bvh.names[kids[0]]
    return RigMap(tuple(bvh.names), w, tuple(src), ())
