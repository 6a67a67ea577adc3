"""Procedural bodies: an H36M-17 rest skeleton whose proportions vary, and its FK.

Rest pose
    Standing upright, arms hanging straight down at the sides, pelvis at the origin,
    metres, world right-handed Z up, **facing −Y** (Blender's front view looks at the
    body's front; after the BVH Y-up conversion ``(x, y, z) → (x, z, −y)`` it faces +Z, the
    usual BVH forward). The body's left is +X, so the RIGHT hip (H36M joint 1) lies at −X:
    ``forward × up = (0, −1, 0) × (0, 0, 1) = (−1, 0, 0)`` is the body's right.

Proportions (fractions of standing height H, the head top above the ground)
    A body is a height (uniform in 1.50–1.95 m) and a few CORRELATED factors, each a
    standard normal clipped at ±2.5 SD, so segment ratios vary as they do across people
    rather than bone by bone:

    ==================  =======  =====  =================================================
    factor              nominal  SD     sources (what was measured, see below)
    ==================  =======  =====  =================================================
    leg (thigh+shank)   0.488    3.0 %  D&C hip 0.530 − ankle 0.039 = 0.491; anny 0.484
                                        (cv 2.0 %); widened for hip-centre definitions
    shank share of leg  0.500    4.0 %  D&C 0.501; anny 0.522; BVH 0.44–0.51
    arm (upper+fore)    0.315    4.0 %  D&C 0.332; anny 0.292 (cv 2.1 %); BVH ≈ 0.30–0.32
    forearm share       0.450    5.0 %  D&C 0.440; anny 0.472; BVH 0.39–0.50
    hip joint width     0.135   10.0 %  anny 0.129 (cv 6.0 %); BVH 0.10–0.14; H36M-like 0.15
    shoulder width      0.205    8.0 %  D&C 0.200 (joint centres); anny 0.205 (cv 7.6 %);
                                        BVH 0.20–0.25
    head (thorax→top)   0.175    6.0 %  D&C neck base 0.825 → top; anny neck→top 0.148
                                        (cv 3.1 %), scaling neck 0.080 and head 0.095 alike
    lumbar share        0.475    6.0 %  of pelvis→thorax; D&C split 47/53 (as H36M)
    ankle height        0.042    6.0 %  D&C 0.039; anny 0.045 (cv 3.9 %)
    ==================  =======  =====  =================================================

    Correlations (anny adults 1.50–1.95 m, 178 phenotypes): leg–arm +0.4 (anny +0.44),
    leg–hip width −0.5 (−0.69), leg–head −0.5 (−0.67), arm–head −0.4 (−0.49), hip–shoulder
    width +0.25 (+0.24); taller people have proportionally longer legs (+0.4 with height;
    anny +0.82 within its height range) and smaller heads (−0.4; anny −0.85). The trunk
    (pelvis → thorax) takes what is left of H, so the vertical chain sums to exactly 1 and
    a body is exactly as tall as its height; it then anti-correlates with the legs, as in
    anny (−0.84). Resulting ranges (±2.5 SD): thigh and shank 0.20–0.29 H, upper arm
    0.14–0.21 H, forearm 0.11–0.17 H, hip width 0.10–0.17 H, shoulder width 0.16–0.25 H.
    Foot, hand, shoulder drop and nose offset keep independent uniform jitter (table below).

    Sources: Drillis & Contini (1966) segment/height ratios, via Winter (2009) fig 4.1
    ("D&C"); the anny body model 0.6.2 (``anny.create_fullbody_model()``, 400 phenotypes
    with gender, muscle, weight, height, proportions uniform in [0, 1] and age in
    [0.5, 0.9], rest-pose bone heads: hip = ``upperleg01``, knee = ``lowerleg01``, ankle =
    ``foot``, shoulder = ``upperarm01``, elbow = ``lowerarm01``, wrist = ``wrist``, neck
    base = ``neck01``, H = the mesh's vertical extent; the 178 of 1.50–1.95 m); the five
    real BVH files in ``shared/data/bvh`` through :func:`hpd3d.rig.to_h36m` (ratios of
    their pelvis → head chain, so only the splits and widths are used from them).

    ========================  ========  ======  ==================================================
    other segment             nominal   spread  source
    ========================  ========  ======  ==================================================
    foot (ankle → toe tip)    0.115     ±8 %    D&C foot length 0.152 less the heel (BVH End Site)
    hand (wrist → knuckles)   0.060     ±8 %    D&C hand 0.108 to the finger tips (BVH End Site)
    shoulder below thorax     0.015     ±30 %   shoulder joints at ≈ 0.81 H (D&C acromion 0.818)
    nose ahead of thorax      0.015     ±30 %   the H36M "neck/nose" joint sits in front
    ========================  ========  ======  ==================================================

    :data:`RATIOS` keeps one nominal value per segment (:func:`mean_body`); how each joint
    is *defined* (hip centres, neck/nose, head top …) varies in
    :mod:`synth.joint_definitions`.

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

# name: (nominal fraction of height, relative spread: uniform ± for the independent
# segments; the correlated ones are drawn from FACTORS)
RATIOS: dict[str, tuple[float, float]] = {
    "ankle": (0.042, 0.06),
    "shank": (0.244, 0.0),
    "thigh": (0.244, 0.0),
    "lumbar": (0.140, 0.0),
    "thoracic": (0.155, 0.0),
    "neck": (0.080, 0.0),
    "head": (0.095, 0.0),
    "upper_arm": (0.173, 0.0),
    "forearm": (0.142, 0.0),
    "shoulder_width": (0.205, 0.0),
    "hip_width": (0.135, 0.0),
    "shoulder_drop": (0.015, 0.30),
    "nose_forward": (0.015, 0.30),
    "foot": (0.115, 0.08),
    "hand": (0.060, 0.08),
}
RATIO_NAMES = tuple(RATIOS)
VERTICAL = ("ankle", "shank", "thigh", "lumbar", "thoracic", "neck", "head")
HEIGHT_RANGE = (1.50, 1.95)

# Correlated proportion factors: name → (nominal, relative SD); see the module docstring.
FACTORS: dict[str, tuple[float, float]] = {
    "leg": (0.488, 0.030),           # (thigh + shank) / H
    "shank_share": (0.500, 0.040),   # shank / (thigh + shank)
    "arm": (0.315, 0.040),           # (upper arm + forearm) / H
    "forearm_share": (0.450, 0.050), # forearm / (upper arm + forearm)
    "hip_width": (0.135, 0.100),
    "shoulder_width": (0.205, 0.080),
    "head": (0.175, 0.060),          # (neck + head) / H, thorax → head top
    "lumbar_share": (0.475, 0.060),  # lumbar / (lumbar + thoracic)
    "ankle": (0.042, 0.060),
}
FACTOR_NAMES = tuple(FACTORS)
CLIP_SD = 2.5
_F = {k: i for i, k in enumerate(FACTOR_NAMES)}
_CORR = np.eye(len(FACTOR_NAMES))
for (a, b), r in {("leg", "arm"): 0.4, ("leg", "hip_width"): -0.5, ("leg", "head"): -0.5,
                  ("arm", "head"): -0.4, ("hip_width", "shoulder_width"): 0.25}.items():
    _CORR[_F[a], _F[b]] = _CORR[_F[b], _F[a]] = r
_CHOL = np.linalg.cholesky(_CORR)
# coupling of the factors to standardised height (uniform height → mean 0, SD 1)
HEIGHT_COUPLING = {"leg": 0.4, "head": -0.4}

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

    @property
    def bone_lengths(self) -> np.ndarray:
        """(..., 16) rest lengths of the H36M bones (``H36M.bones`` order): the norm of
        each bone's child offset (so hips and shoulders are half the widths, shoulders with
        their drop, neck and head with the nose offset). Left = right."""
        return np.linalg.norm(self.offsets[..., np.asarray(H36M.bones)[:, 1], :], axis=-1)

    def rest_pose(self) -> np.ndarray:
        """(..., 17, 3) joint positions of the rest pose (pelvis at the origin)."""
        return fk_offsets(self.offsets)


def fk_offsets(offsets: np.ndarray) -> np.ndarray:
    """Positions of the rest pose from offsets (..., 17, 3)."""
    out = np.zeros_like(offsets)
    for j in range(1, NUM_JOINTS):
        out[..., j, :] = out[..., PARENTS[j], :] + offsets[..., j, :]
    return out


def sample_factors(rng: np.random.Generator, n: int, u_height: np.ndarray) -> np.ndarray:
    """(n, len(FACTOR_NAMES)) correlated standard-normal factors clipped at ±CLIP_SD;
    ``u_height`` (n,) is the standardised height they couple to (:data:`HEIGHT_COUPLING`)."""
    z = rng.standard_normal((n, len(FACTOR_NAMES))) @ _CHOL.T
    for name, c in HEIGHT_COUPLING.items():
        i = _F[name]
        z[:, i] = c * u_height + np.sqrt(1.0 - c * c) * z[:, i]
    return np.clip(z, -CLIP_SD, CLIP_SD)


def ratios_from_factors(z: np.ndarray) -> np.ndarray:
    """Segment ratios (n, R) from factors (n, F) (nominal · (1 + SD · z)); the trunk takes
    what the ankle, legs and head leave of the height."""
    nom = np.array([FACTORS[k][0] for k in FACTOR_NAMES])
    sd = np.array([FACTORS[k][1] for k in FACTOR_NAMES])
    f = nom * (1.0 + sd * z)
    g = {k: f[:, i] for k, i in _F.items()}
    r = np.tile([RATIOS[k][0] for k in RATIO_NAMES], (len(z), 1))
    col = RATIO_NAMES.index
    r[:, col("ankle")] = g["ankle"]
    r[:, col("shank")] = g["leg"] * g["shank_share"]
    r[:, col("thigh")] = g["leg"] * (1.0 - g["shank_share"])
    r[:, col("upper_arm")] = g["arm"] * (1.0 - g["forearm_share"])
    r[:, col("forearm")] = g["arm"] * g["forearm_share"]
    r[:, col("hip_width")] = g["hip_width"]
    r[:, col("shoulder_width")] = g["shoulder_width"]
    head_scale = g["head"] / (RATIOS["neck"][0] + RATIOS["head"][0])
    r[:, col("neck")] *= head_scale
    r[:, col("head")] *= head_scale
    trunk = 1.0 - g["ankle"] - g["leg"] - g["head"]
    r[:, col("lumbar")] = trunk * g["lumbar_share"]
    r[:, col("thoracic")] = trunk * (1.0 - g["lumbar_share"])
    return r


def sample_bodies(rng: np.random.Generator, n: int, height_range=HEIGHT_RANGE,
                  height=None) -> Body:
    """``n`` bodies at once: heights uniform in ``height_range``; the correlated
    proportions of :data:`FACTORS`; foot, hand, shoulder drop and nose offset uniform
    within their :data:`RATIOS` spread. The vertical chain sums to 1 (exact heights).

    ``height`` (n,) or a number: these heights instead of drawn ones (no draw is made for
    them); the proportions couple to each one's standardised place in ``height_range``,
    clipped to the range's ends (a 1.40 m input gets the proportions of a 1.50 m body)."""
    lo_h, hi_h = height_range
    mid, half = (lo_h + hi_h) / 2, (hi_h - lo_h) / 2
    if height is None:
        height = rng.uniform(lo_h, hi_h, size=n)
    else:
        height = np.broadcast_to(np.asarray(height, dtype=np.float64), (n,)).copy()
    u = (np.clip(height, lo_h, hi_h) - mid) / half * np.sqrt(3.0) if half > 0 else np.zeros(n)
    ratios = ratios_from_factors(sample_factors(rng, n, u))
    for k in ("foot", "hand", "shoulder_drop", "nose_forward"):
        nom, spread = RATIOS[k]
        ratios[:, RATIO_NAMES.index(k)] = nom * (1.0 + spread * rng.uniform(-1.0, 1.0, n))
    return Body(height, ratios)


def mean_body(height: float = 1.75) -> Body:
    """The nominal proportions (every factor at its mean) at ``height``."""
    return Body(np.float64(height), ratios_from_factors(np.zeros((1, len(FACTOR_NAMES))))[0])


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
