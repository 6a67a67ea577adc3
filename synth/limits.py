"""Anatomical joint limits, defined once, as ranges of anatomical angles.

Angle convention
    A pose's joint angles are an array ``(..., 17, 3)`` in **radians**: per H36M-17 joint
    (flexion, abduction, axial rotation), intrinsic Euler angles ``"XYZ"`` in the joint's
    anatomical frame :data:`synth.body.ANATOMICAL_AXES` ``A_j`` (columns: flexion,
    abduction, rotation axes). The local rotation is

        ``R_local[j] = A_j · Rx(flexion) · Ry(abduction) · Rz(rotation) · A_jᵀ``

    i.e. flex about the joint's lateral axis first, then abduct about the floating
    forward axis, then turn about the bone itself — the Grood–Suntay / ISB joint
    coordinate system order. Signs (see :mod:`synth.body`): + flexion = the limb swings
    forward (knee: the shank swings back), + abduction = away from the midline (trunk,
    neck: bend to the left), + rotation = external at hips, shoulders and elbows
    (supination), internal at knees, to the left for trunk and neck. The pelvis' angles
    are its tilt relative to the *heading* frame (yaw about world Z, kept separately).
    The five leaves (ankles, wrists, head top) carry no rotation: their range is [0, 0].

Which rotation moves what
    The rotation at joint ``j`` turns everything below ``j`` about ``j``:
    :data:`MOVES` ``[j]`` lists those joints (``MOVES[2] == (3,)``: the right knee swings
    the right ankle; ``MOVES[0]`` is every other joint).

Ranges (degrees; clinical active ranges of motion, AAOS / Norkin & White, rounded; the
spine's total range split between the lumbar ``spine`` and the thoracic ``thorax`` joint):

    ==============  ==============  ==============  ==============
    joint           flexion         abduction       rotation
    ==============  ==============  ==============  ==============
    pelvis          −30 … 90        −30 … 30        −45 … 45
    hips            −30 … 125       −30 … 50        −40 … 50 (ext +)
    knees           −5 … 160        −5 … 5          −15 … 15 (int +)
    spine           −25 … 55        −25 … 25        −20 … 20
    thorax          −20 … 35        −20 … 20        −35 … 35
    neck            −50 … 50        −40 … 40        −70 … 70
    shoulders       −60 … 175       −30 … 175       −70 … 90 (ext +)
    elbows          0 … 150         −5 … 10         −80 … 80 (supination +)
    ==============  ==============  ==============  ==============

These bound rotations; the augmentations check poses they only see as positions against
:data:`synth.limits_pose.POSE_LIMITS`, angles measured from positions (no axial rotation,
trunk and shoulders coupled); that module says why both exist and where they agree.

Shoulder abduction crosses 90° (Euler gimbal lock of the middle angle): every rotation has
two XYZ decompositions, ``(a, b, c)`` and ``(a + π, π − b, c + π)``; :func:`from_rotation`
returns the one inside (or nearest to) the limits.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.spatial.transform import Rotation

from hpd3d.skeleton import H36M

from .body import ANATOMICAL_AXES, NUM_JOINTS

DOFS = ("flexion", "abduction", "rotation")
EULER = "XYZ"
LEAVES = (3, 6, 10, 13, 16)
ROTATING = tuple(j for j in range(NUM_JOINTS) if j not in LEAVES)

_TABLE_DEG = {
    "pelvis": ((-30, 90), (-30, 30), (-45, 45)),
    "hip": ((-30, 125), (-30, 50), (-40, 50)),
    "knee": ((-5, 160), (-5, 5), (-15, 15)),
    "spine": ((-25, 55), (-25, 25), (-20, 20)),
    "thorax": ((-20, 35), (-20, 20), (-35, 35)),
    "neck": ((-50, 50), (-40, 40), (-70, 70)),
    "shoulder": ((-60, 175), (-30, 175), (-70, 90)),
    "elbow": ((0, 150), (-5, 10), (-80, 80)),
}
_KIND = {0: "pelvis", 1: "hip", 4: "hip", 2: "knee", 5: "knee", 7: "spine", 8: "thorax",
         9: "neck", 11: "shoulder", 14: "shoulder", 12: "elbow", 15: "elbow"}

LIMITS_DEG = np.zeros((NUM_JOINTS, 3, 2))
for _j, _k in _KIND.items():
    LIMITS_DEG[_j] = _TABLE_DEG[_k]
LOWER = np.radians(LIMITS_DEG[..., 0])  # (17, 3)
UPPER = np.radians(LIMITS_DEG[..., 1])
NEUTRAL = np.clip(0.0, LOWER, UPPER)


MOVES: dict[int, tuple[int, ...]] = {j: tuple(H36M.subtree(j)[1:]) for j in range(NUM_JOINTS)}
MOVES_BY_NAME = {H36M.joints[j]: tuple(H36M.joints[k] for k in v) for j, v in MOVES.items()}

_A = ANATOMICAL_AXES  # (17, 3, 3)
_SIGN = np.einsum("jkk->jk", _A)  # the axes are signed coordinate axes: A_j = diag(_SIGN[j])
assert np.allclose(_A, _SIGN[:, :, None] * np.eye(3))


def limits_table() -> str:
    """The limits as a text table (degrees)."""
    rows = [f"{'joint':16s}" + "".join(f"{d:>18s}" for d in DOFS)]
    for j in ROTATING:
        cells = "".join(f"{f'{lo:.0f} … {hi:.0f}':>18s}" for lo, hi in LIMITS_DEG[j])
        rows.append(f"{H36M.joints[j]:16s}{cells}")
    return "\n".join(rows)


def clip(angles: np.ndarray) -> np.ndarray:
    """Clamp angles (..., 17, 3) into the limits."""
    return np.clip(angles, LOWER, UPPER)


def within(angles: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """(..., 17, 3) → (..., 17) bool: each joint's three angles inside its range."""
    a = np.asarray(angles)
    return ((a >= LOWER - tol) & (a <= UPPER + tol)).all(axis=-1)


def violation(angles: np.ndarray) -> np.ndarray:
    """(..., 17, 3) → (..., 17, 3) how far (radians, ≥ 0) each angle lies outside its range."""
    return np.maximum(LOWER - angles, 0.0) + np.maximum(angles - UPPER, 0.0)


def sample(rng: np.random.Generator, n: int, joints=ROTATING, scale: float = 1.0) -> np.ndarray:
    """``n`` poses (n, 17, 3), each listed joint's angles uniform within its limits.

    ``scale`` in (0, 1] shrinks every range about the neutral angle (0 clamped into the
    range) — ``scale=0.5`` samples the middle half around the neutral pose. Joints not
    listed stay neutral.
    """
    lo = NEUTRAL + scale * (LOWER - NEUTRAL)
    hi = NEUTRAL + scale * (UPPER - NEUTRAL)
    out = np.broadcast_to(NEUTRAL, (n, NUM_JOINTS, 3)).copy()
    idx = list(joints)
    out[:, idx] = rng.uniform(lo[idx], hi[idx], size=(n, len(idx), 3))
    return out


def _xyz_matrix(a: np.ndarray) -> np.ndarray:
    """Matrices (..., 3, 3) of intrinsic XYZ Euler angles (..., 3): ``Rx · Ry · Rz``, each
    factor from scipy's ``from_rotvec`` (scipy 1.17's ``from_euler`` is ~50× slower),
    multiplied as matrices."""
    flat = a.reshape(-1, 3)
    m = None
    for k in range(3):
        rv = np.zeros_like(flat)
        rv[:, k] = flat[:, k]
        mk = Rotation.from_rotvec(rv).as_matrix()
        m = mk if m is None else m @ mk
    return m.reshape(a.shape[:-1] + (3, 3))


def to_matrix(angles: np.ndarray) -> np.ndarray:
    """Local rotation matrices (..., 17, 3, 3) of angles (..., 17, 3).

    ``A_j · E(angles) · A_jᵀ``; every ``A_j`` is diagonal (±1), so this is ``E`` of the
    angles with the axes' signs applied.
    """
    a = np.asarray(angles, dtype=np.float64)
    return _xyz_matrix(a * _SIGN)


def to_rotation(angles: np.ndarray) -> Rotation:
    """Local rotations, a ``Rotation`` of shape ``angles.shape[:-1]`` (..., 17)."""
    return Rotation.from_matrix(to_matrix(angles))


def _decompose(e: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """XYZ angles (..., 3) of matrices e (..., 3, 3) already in the anatomical frame,
    choosing between the two decompositions by their excess over [lower, upper]."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gimbal lock: still a valid decomposition
        a1 = Rotation.from_matrix(e.reshape(-1, 3, 3)).as_euler(EULER).reshape(e.shape[:-2] + (3,))
    a2 = a1 + np.array([np.pi, 0.0, np.pi])
    a2[..., 1] = np.pi - a1[..., 1]
    a2 = (a2 + np.pi) % (2 * np.pi) - np.pi

    def excess(a):
        return (np.maximum(lower - a, 0.0) + np.maximum(a - upper, 0.0)).sum(-1)

    better = excess(a2) < excess(a1) - 1e-12
    return np.where(better[..., None], a2, a1)


def from_matrix(m: np.ndarray) -> np.ndarray:
    """Angles (..., 17, 3) of local rotation matrices (..., 17, 3, 3); see :func:`from_rotation`."""
    m = np.asarray(m, dtype=np.float64)
    out = _decompose(np.swapaxes(_A, -1, -2) @ m @ _A, LOWER, UPPER)
    out[..., LEAVES, :] = 0.0
    return out


def joint_matrix(joint: int, angles: np.ndarray) -> np.ndarray:
    """Local rotation matrices (..., 3, 3) of one joint's angles (..., 3)."""
    return _xyz_matrix(np.asarray(angles, dtype=np.float64) * _SIGN[joint])


def joint_from_matrix(joint: int, m: np.ndarray) -> np.ndarray:
    """One joint's angles (..., 3) of its local rotation matrices (..., 3, 3)."""
    return _decompose(_A[joint].T @ np.asarray(m, dtype=np.float64) @ _A[joint],
                      LOWER[joint], UPPER[joint])


def from_rotation(rot: Rotation) -> np.ndarray:
    """Angles (..., 17, 3) of local rotations (a ``Rotation`` of shape (..., 17)).

    Of the two XYZ decompositions the one inside the limits is returned (the one with the
    smaller total excess when neither is); leaves read 0. ``to_rotation(from_rotation(r))
    == r`` for every non-leaf joint.
    """
    return from_matrix(rot.as_matrix())


def project(angles: np.ndarray) -> np.ndarray:
    """Nearest-in-angles pose within limits: ``clip`` after re-reading the rotation (so an
    equivalent decomposition inside the limits is preferred to clipping)."""
    return clip(from_matrix(to_matrix(angles)))
