"""Joint definitions as an augmentation: datasets place the same joints differently.

Motion-capture datasets and rigs disagree on where a "joint" is: hip joint centres
higher/wider (a functional hip centre) or lower/narrower (a skeleton solver's, a game
rig's thigh bone head); the pelvis joint at the hips' midpoint or a point above it; where
the spine joint splits pelvis → thorax; the "neck/nose" joint at the nose or nearer the
neck base; the head joint at the crown or the head's centre; the shoulder centres. The five
real BVH files of ``shared/data/bvh`` through :func:`hpd3d.rig.to_h36m` show it (ratios of
their pelvis → head-top chain): neck/nose → head 0.07–0.12, thorax → neck 0.05–0.14, hip
joint width 0.10–0.14 (of the chain; 2.5–97.5 % of sequences: thorax → neck/nose
0.12–0.32, neck/nose → head top 0.16–0.25 of pelvis → head top) — spreads far wider than body proportions explain.

Per sequence, :func:`apply_joint_definition` picks one named variant of :data:`VARIANTS`
and draws its parameters uniformly within the variant's ranges; the offsets are expressed
in the body's own frames and sizes, fixed for the sequence:

=============  ================================================================  =========
parameter      meaning (per frame, in the body's frames)                          joints
=============  ================================================================  =========
hip_out        each hip centre moves outward along the pelvis' left–right axis,  1, 4
               × the sequence's hip joint width (both sides alike)
hip_up         hip centres move along the pelvis' up axis, × the thigh length     1, 4
hip_fwd        hip centres move along the pelvis' forward axis, × the hip width   1, 4
pelvis_up      the pelvis joint moves from the hips' midpoint toward the spine,   0
               × the pelvis → thorax length
spine_shift    the spine joint moves along pelvis → thorax, × that length         7
neck_to_base   "neck/nose" = nose + β · (thorax − nose): 0 = the nose            9
nose_up        "neck/nose" moves toward the head top by this fraction (a head      9
               centre joint, as BVH "Head" joints are)
head_top       head = nose + α · (head − nose), from the original nose: 1 = crown  10
shoulder_in    shoulder centres move inward along the trunk's left–right axis,   11, 14
               × the shoulder width
shoulder_up    shoulder centres move along the trunk's up axis, × shoulder width  11, 14
=============  ================================================================  =========

Pelvis frame: ``left`` = left hip − right hip, ``up`` = spine − pelvis made orthogonal to
it, ``forward = left × up``. Trunk frame: the same from the shoulders and thorax − spine.
Only the joints in a variant's ``joints`` move; left and right move mirror-symmetrically.
The head top is placed from the ORIGINAL nose, so the two head parameters compose.

Variant ranges are educated spreads, not any one dataset's numbers: ``toolkit`` is the
procedural body's own definition (nothing moves); ``functional_hips`` is a studio marker
set's functional hip centres (higher, wider) with a head-top joint lower than the crown;
``solver_hips`` a skeleton solver's (lower, narrower hips, the "neck/nose" joint a head
joint above the nose, a short head-top bone); ``game_rig`` a
character rig (pelvis bone above the hips, neck base and head bone instead of nose and
crown, shoulders nearer the midline).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PARAMS = ("hip_out", "hip_up", "hip_fwd", "pelvis_up", "spine_shift", "neck_to_base",
          "nose_up", "head_top", "shoulder_in", "shoulder_up")
IDENTITY = {"hip_out": 0.0, "hip_up": 0.0, "hip_fwd": 0.0, "pelvis_up": 0.0,
            "spine_shift": 0.0, "neck_to_base": 0.0, "nose_up": 0.0, "head_top": 1.0, "shoulder_in": 0.0,
            "shoulder_up": 0.0}
# which joints each parameter may move
MOVES = {"hip_out": (1, 4), "hip_up": (1, 4), "hip_fwd": (1, 4), "pelvis_up": (0,),
         "spine_shift": (7,), "neck_to_base": (9,), "nose_up": (9,), "head_top": (10,),
         "shoulder_in": (11, 14), "shoulder_up": (11, 14)}

# name → {parameter: (min, max)}; parameters not named keep their IDENTITY value
VARIANTS: dict[str, dict[str, tuple[float, float]]] = {
    "toolkit": {},
    "functional_hips": {"hip_out": (0.03, 0.12), "hip_up": (0.02, 0.08),
                        "hip_fwd": (-0.05, 0.05), "spine_shift": (-0.08, 0.08),
                        "head_top": (0.70, 0.95)},
    "solver_hips": {"hip_out": (-0.15, -0.04), "hip_up": (-0.08, -0.02),
                    "spine_shift": (-0.08, 0.08), "nose_up": (0.0, 0.4),
                    "head_top": (0.55, 0.85)},
    "game_rig": {"hip_up": (0.0, 0.10), "pelvis_up": (0.05, 0.15), "spine_shift": (-0.1, 0.1),
                 "neck_to_base": (0.3, 0.7), "head_top": (0.5, 0.8),
                 "shoulder_in": (0.02, 0.10), "shoulder_up": (-0.05, 0.05)},
}


@dataclass
class JointDefConfig:
    enabled: bool = False
    variants: tuple = tuple(VARIANTS)   # drawn uniformly per sequence
    prob: float = 1.0                   # probability a sequence gets a drawn variant at all

    def check(self, where="joint_def"):
        unknown = set(self.variants) - set(VARIANTS)
        if unknown or not self.variants:
            raise ValueError(f"{where}.variants: unknown {sorted(unknown)} or empty; "
                             f"known: {list(VARIANTS)}")
        if not 0 <= self.prob <= 1:
            raise ValueError(f"{where}.prob: must lie in [0, 1]")


def variant_joints(name: str) -> tuple[int, ...]:
    """The joints a variant may move."""
    return tuple(sorted({j for p in VARIANTS[name] for j in MOVES[p]}))


def sample_params(rng: np.random.Generator, name: str) -> dict[str, float]:
    """A variant's parameters, each uniform in its range (the others at IDENTITY)."""
    p = dict(IDENTITY)
    for k in PARAMS:                       # a fixed order: reproducible with a seed
        if k in VARIANTS[name]:
            p[k] = float(rng.uniform(*VARIANTS[name][k]))
    return p


def _unit(v):
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _frame(left_pt, right_pt, low, high):
    """Per-frame (left, up, forward) unit axes: left from right → left, up from low → high
    made orthogonal to left, forward = left × up."""
    left = _unit(left_pt - right_pt)
    up = high - low
    up = _unit(up - (up * left).sum(-1, keepdims=True) * left)
    return left, up, np.cross(left, up)


def _median_len(a, b) -> float:
    return float(np.median(np.linalg.norm(a - b, axis=-1)))


def apply_params(seq: np.ndarray, p: dict[str, float]) -> np.ndarray:
    """Move the joints of ``seq`` (T, 17, 3) (or (17, 3)) per the parameters ``p``."""
    x = np.asarray(seq, dtype=np.float64)
    single = x.ndim == 2
    x = x[None] if single else x
    out = x.copy()
    left, up, fwd = _frame(x[:, 4], x[:, 1], x[:, 0], x[:, 7])
    hip_w = _median_len(x[:, 1], x[:, 4])
    thigh = (_median_len(x[:, 1], x[:, 2]) + _median_len(x[:, 4], x[:, 5])) / 2
    trunk = _median_len(x[:, 0], x[:, 8])
    if p["hip_out"] or p["hip_up"] or p["hip_fwd"]:
        common = p["hip_up"] * thigh * up + p["hip_fwd"] * hip_w * fwd
        out[:, 4] += p["hip_out"] * hip_w * left + common
        out[:, 1] += -p["hip_out"] * hip_w * left + common
    if p["pelvis_up"]:
        out[:, 0] += p["pelvis_up"] * trunk * _unit(x[:, 8] - x[:, 0])
    if p["spine_shift"]:
        out[:, 7] += p["spine_shift"] * (x[:, 8] - x[:, 0])
    if p["neck_to_base"]:
        out[:, 9] += p["neck_to_base"] * (x[:, 8] - x[:, 9])
    if p["nose_up"]:
        out[:, 9] += p["nose_up"] * (x[:, 10] - x[:, 9])
    if p["head_top"] != 1.0:
        out[:, 10] = x[:, 9] + p["head_top"] * (x[:, 10] - x[:, 9])
    if p["shoulder_in"] or p["shoulder_up"]:
        t_left, t_up, _ = _frame(x[:, 11], x[:, 14], x[:, 7], x[:, 8])
        sh_w = _median_len(x[:, 11], x[:, 14])
        common = p["shoulder_up"] * sh_w * t_up
        out[:, 11] += -p["shoulder_in"] * sh_w * t_left + common
        out[:, 14] += p["shoulder_in"] * sh_w * t_left + common
    return out[0] if single else out


def apply_joint_definition(seq: np.ndarray, rng: np.random.Generator,
                           cfg: JointDefConfig) -> tuple[np.ndarray, str]:
    """One sequence (T, 17, 3) under a drawn joint definition → (moved copy, variant name)."""
    if not cfg.enabled or rng.uniform() >= cfg.prob:
        return np.asarray(seq, dtype=np.float64), "toolkit"
    name = cfg.variants[int(rng.integers(len(cfg.variants)))]
    return apply_params(seq, sample_params(rng, name)), name
