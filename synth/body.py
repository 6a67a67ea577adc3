"""Procedural bodies: an H36M-17 rest skeleton whose proportions vary, and its FK.

Rest pose
    Standing upright, arms hanging straight down at the sides, pelvis at the origin,
    metres, world right-handed Z up, **facing −Y** (Blender's front view looks at the
    body's front; after the BVH Y-up conversion ``(x, y, z) → (x, z, −y)`` it faces +Z, the
    usual BVH forward). The body's left is +X, so the RIGHT hip (H36M joint 1) lies at −X:
    ``forward × up = (0, −1, 0) × (0, 0, 1) = (−1, 0, 0)`` is the body's right.

Proportions (fractions of standing height H, the head top above the ground)
    ========================  ========  ======  ==================================================
    segment                   nominal   spread  source
    ========================  ========  ======  ==================================================
    ankle joint height        0.039     ±10 %   Drillis & Contini (1966), via Winter (2009) fig 4.1
    shank (knee → ankle)      0.246     ±6 %    D&C: knee 0.285 − ankle 0.039
    thigh (hip → knee)        0.245     ±6 %    D&C: hip 0.530 − knee 0.285
    pelvis → spine            0.140     ±8 %    D&C hip 0.530 → neck base ≈ 0.825, split 47/53
    spine → thorax            0.155     ±8 %      as H36M splits its pelvis → thorax chain
    thorax → neck/nose        0.080     ±10 %   D&C chin 0.870, eyes 0.936: nose ≈ 0.905
    neck/nose → head top      0.095     ±8 %    D&C head top 1.000
    upper arm                 0.186     ±6 %    D&C
    forearm                   0.146     ±6 %    D&C
    shoulder joint width      0.200     ±8 %    D&C biacromial 0.259 less the acromion → joint
                                                 centre offsets (≈ 0.03 H a side)
    hip joint width           0.150     ±10 %   H36M-like (its mocap hip joints sit ≈ 0.15 H
                                                 apart); D&C bitrochanteric 0.191 is the outer bound
    shoulder below thorax     0.015     ±30 %   shoulder joints at ≈ 0.81 H (D&C acromion 0.818)
    nose ahead of thorax      0.015     ±30 %   the H36M "neck/nose" joint sits in front
    foot (ankle → toe tip)    0.115     ±8 %    D&C foot length 0.152 less the heel (BVH End Site)
    hand (wrist → knuckles)   0.060     ±8 %    D&C hand 0.108 to the finger tips (BVH End Site)
    ========================  ========  ======  ==================================================

    Each ratio is drawn uniformly within its spread (≈ ±2 SD of adult segment/height
    ratios), then the vertical chain (ankle height … head top) is renormalised to sum to 1,
    so a body is exactly as tall as its sampled height (uniform in 1.50–1.95 m).

Local joint frames
    Every joint's rest frame is the body frame (rest rotations are the identity), and the
    rotation stored at joint ``j`` turns ``j``'s children about ``j`` (BVH convention:
    ``R_global[j] = R_global[parent] · R_local[j]``, ``p[child] = p[j] + R_global[j] ·
    offset[child]``). Its anatomical meaning comes from :data:`ANATOMICAL_AXES`: per joint,
    the axes (columns, a proper rotation) about which a positive angle is flexion,
    abduction and axial rotation — see :mod:`synth.limits` for the angle convention.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hpd3d.skeleton import H36M

PARENTS = np.asarray(H36M.parents)
NUM_JOINTS = 17
FORWARD = np.array([0.0, -1.0, 0.0])  # the rest pose faces −Y
LEFT = np.array([1.0, 0.0, 0.0])
UP = np.array([0.0, 0.0, 1.0])

# name: (nominal fraction of height, relative spread ±)
RATIOS: dict[str, tuple[float, float]] = {
    "ankle": (0.039, 0.10),
    "shank": (0.246, 0.06),
    "thigh": (0.245, 0.06),
    "lumbar": (0.140, 0.08),
    "thoracic": (0.155, 0.08),
    "neck": (0.080, 0.10),
    "head": (0.095, 0.08),
    "upper_arm": (0.186, 0.06),
    "forearm": (0.146, 0.06),
    "shoulder_width": (0.200, 0.08),
    "hip_width": (0.150, 0.10),
    "shoulder_drop": (0.015, 0.30),
    "nose_forward": (0.015, 0.30),
    "foot": (0.115, 0.08),
    "hand": (0.060, 0.08),
}
RATIO_NAMES = tuple(RATIOS)
VERTICAL = ("ankle", "shank", "thigh", "lumbar", "thoracic", "neck", "head")
HEIGHT_RANGE = (1.50, 1.95)

_X, _Y, _Z = np.eye(3)
# Anatomical axes per joint (columns: flexion, abduction, axial rotation), body frame
# (X left, Y back, Z up). Limbs hang down: a positive hip/shoulder/elbow flexion swings
# the bone forward (about −X), a positive knee flexion swings the shank back (about +X);
# abduction moves a limb away from the midline; the third axis completes a right-handed
# frame, which makes positive axial rotation EXTERNAL at hips and shoulders (and elbows:
# supination) and INTERNAL at knees. Trunk and neck (bones point up): positive = forward
# flexion, lateral bend to the left, axial rotation to the left.
_TRUNK = np.stack([_X, _Y, _Z], axis=1)
_LEFT_LIMB = np.stack([-_X, -_Y, _Z], axis=1)
_RIGHT_LIMB = np.stack([-_X, _Y, -_Z], axis=1)
_LEFT_KNEE = np.stack([_X, -_Y, -_Z], axis=1)
_RIGHT_KNEE = np.stack([_X, _Y, _Z], axis=1)
ANATOMICAL_AXES = np.stack([
    _TRUNK,       # 0 pelvis (root orientation relative to the heading frame)
    _RIGHT_LIMB,  # 1 right hip
    _RIGHT_KNEE,  # 2 right knee
    _TRUNK,       # 3 right ankle (leaf: no rotation)
    _LEFT_LIMB,   # 4 left hip
    _LEFT_KNEE,   # 5 left knee
    _TRUNK,       # 6 left ankle (leaf)
    _TRUNK,       # 7 spine (lumbar: moves thorax and above)
    _TRUNK,       # 8 thorax (thoracic/lower neck: moves neck, shoulders, arms)
    _TRUNK,       # 9 neck (head nod: moves the head top)
    _TRUNK,       # 10 head (leaf)
    _LEFT_LIMB,   # 11 left shoulder
    _LEFT_LIMB,   # 12 left elbow
    _TRUNK,       # 13 left wrist (leaf)
    _RIGHT_LIMB,  # 14 right shoulder
    _RIGHT_LIMB,  # 15 right elbow
    _TRUNK,       # 16 right wrist (leaf)
])
assert np.allclose(np.linalg.det(ANATOMICAL_AXES), 1.0)


@dataclass(frozen=True)
class Body:
    """One body or a batch: ``height`` (...,) metres, ``ratios`` (..., R) of height."""

    height: np.ndarray
    ratios: np.ndarray

    def __len__(self) -> int:
        return int(np.shape(self.height)[0]) if np.ndim(self.height) else 1

    def __getitem__(self, i) -> "Body":
        return Body(np.asarray(self.height)[i], np.asarray(self.ratios)[i])

    def length(self, name: str) -> np.ndarray:
        """A segment length in metres (..., )."""
        return np.asarray(self.ratios)[..., RATIO_NAMES.index(name)] * self.height

    @property
    def ankle_height(self):
        return self.length("ankle")

    @property
    def hip_height(self):
        """Hip joint height above the ground in the rest pose."""
        return self.length("ankle") + self.length("shank") + self.length("thigh")

    @property
    def offsets(self) -> np.ndarray:
        """(..., 17, 3) rest offsets of each joint from its parent (pelvis: zero)."""
        g = self.length
        shape = np.shape(self.height)
        o = np.zeros(shape + (NUM_JOINTS, 3))
        hw, sw = g("hip_width") / 2, g("shoulder_width") / 2
        for hip, knee, ankle, side in ((1, 2, 3, -1.0), (4, 5, 6, 1.0)):
            o[..., hip, 0] = side * hw
            o[..., knee, 2] = -g("thigh")
            o[..., ankle, 2] = -g("shank")
        o[..., 7, 2] = g("lumbar")
        o[..., 8, 2] = g("thoracic")
        o[..., 9, 1] = -g("nose_forward")
        o[..., 9, 2] = g("neck")
        o[..., 10, 1] = g("nose_forward")
        o[..., 10, 2] = g("head")
        for sh, el, wr, side in ((11, 12, 13, 1.0), (14, 15, 16, -1.0)):
            o[..., sh, 0] = side * sw
            o[..., sh, 2] = -g("shoulder_drop")
            o[..., el, 2] = -g("upper_arm")
            o[..., wr, 2] = -g("forearm")
        return o

    @property
    def end_sites(self) -> np.ndarray:
        """(..., 3, 3) BVH End Site offsets of (ankles, wrists, head top): toe tip (forward,
        down to the ground), knuckles (down the hand), a short stub forward of the head top."""
        g = self.length
        shape = np.shape(self.height)
        e = np.zeros(shape + (3, 3))
        e[..., 0, 1] = -g("foot")
        e[..., 0, 2] = -g("ankle")
        e[..., 1, 2] = -g("hand")
        e[..., 2, 1] = -0.05 * self.height
        return e

    def rest_pose(self) -> np.ndarray:
        """(..., 17, 3) joint positions of the rest pose (pelvis at the origin)."""
        return fk_offsets(self.offsets)


def fk_offsets(offsets: np.ndarray) -> np.ndarray:
    """Positions of the rest pose from offsets (..., 17, 3)."""
    out = np.zeros_like(offsets)
    for j in range(1, NUM_JOINTS):
        out[..., j, :] = out[..., PARENTS[j], :] + offsets[..., j, :]
    return out


def sample_bodies(rng: np.random.Generator, n: int, height_range=HEIGHT_RANGE) -> Body:
    """``n`` bodies at once: heights uniform in ``height_range``, ratios as tabled."""
    lo_h, hi_h = height_range
    height = rng.uniform(lo_h, hi_h, size=n)
    nominal = np.array([RATIOS[k][0] for k in RATIO_NAMES])
    spread = np.array([RATIOS[k][1] for k in RATIO_NAMES])
    ratios = nominal * (1.0 + spread * rng.uniform(-1.0, 1.0, size=(n, len(RATIO_NAMES))))
    v = [RATIO_NAMES.index(k) for k in VERTICAL]
    ratios[:, v] /= ratios[:, v].sum(axis=1, keepdims=True)
    return Body(height, ratios)


def mean_body(height: float = 1.75) -> Body:
    """The nominal proportions at ``height`` (vertical chain renormalised)."""
    ratios = np.array([RATIOS[k][0] for k in RATIO_NAMES])
    v = [RATIO_NAMES.index(k) for k in VERTICAL]
    ratios[v] /= ratios[v].sum()
    return Body(np.float64(height), ratios)


_HAS_CHILD = H36M.has_children


def fk(offsets: np.ndarray, local: np.ndarray, root: np.ndarray) -> np.ndarray:
    """Forward kinematics over all frames at once.

    ``offsets`` (17, 3); ``local`` (T, 17, 3, 3) local rotation matrices (joint 0: the
    root's global orientation); ``root`` (T, 3) pelvis positions → (T, 17, 3). One
    vectorised step per joint in tree order (``R_global[j] = R_global[parent] ·
    R_local[j]``, ``p[j] = p[parent] + R_global[parent] · offset[j]``).
    """
    local = np.moveaxis(np.asarray(local, dtype=np.float64), 1, 0)   # (17, T, 3, 3)
    glob: list = [None] * NUM_JOINTS
    pos: list = [None] * NUM_JOINTS
    glob[0], pos[0] = local[0], np.asarray(root, dtype=np.float64)
    for j in range(1, NUM_JOINTS):
        p = PARENTS[j]
        pos[j] = pos[p] + glob[p] @ offsets[j]
        if _HAS_CHILD[j]:
            glob[j] = glob[p] @ local[j]
    return np.stack(pos, axis=1)
