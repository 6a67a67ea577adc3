"""Map any common BVH rig (CMU, Mixamo, MotionBuilder-style, …) to H36M-17.

Everything a rig is recognised by lives in one table, :data:`ROLE_PATTERNS`. A joint name
is normalised by :func:`split_name`: namespaces (``mixamorig:``, ``a|b``, Biped's
``Bip01 ``) are dropped; the side is read from a ``Left``/``Right`` prefix, an ``L``/``R``
(or DAZ-style ``l``/``r``) prefix before a capital (``LHipJoint``, ``RThumb``,
``lShldr``), ``_L``/``.R``/``-L`` suffixes, ``l_``/``r_`` and ``left_``/``right_``
prefixes; the rest is lower-cased with separators removed (``LeftUpLeg`` → (L,
``upleg``)). A role's patterns are tried in priority order and must match that whole
remainder; among several matches the one nearest the root wins; limb roles are searched
below the previous joint of their chain (knee below hip, …).

How each H36M-17 joint is made (``RigMap.interpolated`` lists the derived ones):

- hips, knees, ankles, shoulders, elbows, wrists: one rig joint each. Priorities settle
  the usual clashes: ``UpLeg`` beats ``Hip`` (CMU's ``LHipJoint`` sits at the pelvis and
  does not match; ``Hips`` is the root); ``Arm`` beats ``Shoulder`` (in CMU, Mixamo and
  many exporters ``LeftShoulder`` is the clavicle and ``LeftArm`` the shoulder, while
  rigs without ``Arm`` — MotionBuilder-style with ``LeftCollar`` — use ``LeftShoulder``).
- thorax (8): the Neck joint nearest the root; else ``UpperChest``; else the midpoint of
  the two shoulders (as the COCO → H36M map does) — interpolated.
- neck/nose (9): the ``Head`` joint (the head's pivot: what H36M's nose joint is closest
  to on a mocap rig).
- head top (10): a ``HeadTop``/``HeadTop_End``/``Head_End``/``HeadNub`` joint below the head, else the
  head's End Site (either only when it lies away from the head: a zero-length End Site is
  no head top); else extrapolated ``head + k·(head − thorax)`` with
  ``k = HEAD_TOP_RATIO = 1.0`` (Human3.6M's own skeleton has thorax→nose ≈ 121 mm and
  nose→head-top ≈ 115 mm) — interpolated.
- pelvis (0): midpoint of the two hips — always derived. spine (7): midpoint of pelvis
  and thorax — always derived (rigs disagree on how many spine joints they have and where;
  H36M's spine joint sits about halfway), so every rig gives the same definition.

A rig that already carries all 17 H36M joint names (``pelvis``, ``right_hip`` … ``head``,
e.g. the toolkit's own procedural BVH files) maps one to one.

Units: :func:`detect_units` measures the rest-pose standing span in file units — leg
(hip→knee→ankle) + pelvis→thorax→head→head-top — and picks, among :data:`UNIT_SCALES`
(m, cm, mm, inch and CMU ASF's 1/0.45 inch), the scale that puts it closest (in log
ratio) to :data:`REST_SPAN_M` = 1.6 m, ankle to head top of a ~1.7 m person. Neighbouring
candidates differ by ≥ 2.2×, so the choice is unambiguous for any adult.

Axes: BVH files are Y-up; the world is right-handed Z-up (see DESIGN.md).
:func:`y_up_to_z_up` is the one conversion: a right-handed rotation by +90° about X,
``(x, y, z) → (x, −z, y)``: up (+Y) becomes +Z, a file's forward +Z becomes −Y.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from hpd3d.bvh import Bvh
from hpd3d.errors import InputError
from hpd3d.skeleton import H36M, Skeleton

__all__ = [
    "ROLE_PATTERNS", "UNIT_SCALES", "REST_SPAN_M", "HEAD_TOP_RATIO", "Y_UP_TO_Z_UP",
    "RigMap", "split_name", "map_rig", "detect_units", "standing_height", "y_up_to_z_up",
    "to_h36m",
]

# --------------------------------------------------------------------- the table
# role → regexes in priority order, matched against the whole normalised name (side
# removed, lower case, no separators). Sided roles need a Left/Right joint; the others
# must have no side.
ROLE_PATTERNS: dict[str, tuple[str, ...]] = {
    # sided chains (each searched below the previous role of its chain)
    "hip":      (r"up(per)?leg", r"thigh", r"hip"),
    "knee":     (r"leg", r"lower?leg", r"shin", r"calf", r"knee"),
    "ankle":    (r"foot", r"ankle"),
    "shoulder": (r"(up(per)?)?arm", r"shoulder", r"shldr"),
    "elbow":    (r"forearm", r"lower?arm", r"elbow"),
    "wrist":    (r"hand", r"wrist"),
    # centre line
    "thorax":   (r"neck\d*", r"upperchest"),
    "head":     (r"head",),
    "head_top": (r"headtop(end|nub)?\d*", r"head(end|nub)\d*"),
}
SIDED = ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")
CHAIN_PARENT = {"knee": "hip", "ankle": "knee", "elbow": "shoulder", "wrist": "elbow",
                "head_top": "head"}
HEAD_TOP_RATIO = 1.0

UNIT_SCALES: dict[str, float] = {  # metres per file unit
    "m": 1.0,
    "cm": 0.01,
    "mm": 0.001,
    "inch": 0.0254,
    "cmu": 0.0254 / 0.45,  # CMU ASF/AMC "length 0.45": one unit is 1/0.45 inch
}
REST_SPAN_M = 1.6

# Right-handed +90° about X: BVH Y-up (x, y, z) → world Z-up (x, −z, y).
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])

_SIDE_PATTERNS = (  # (regex, flags): groups "side" and "base"
    (r"(?P<side>left|right)[\s_.\-]*(?P<base>.+)", re.IGNORECASE),
    (r"(?P<base>.+?)[\s_.\-]+(?P<side>left|right|l|r)", re.IGNORECASE),
    (r"(?P<side>l|r)[\s_.\-]+(?P<base>.+)", re.IGNORECASE),
    (r"(?P<side>[LlRr])(?P<base>[A-Z].*)", 0),
)
_SIDE_RE = [re.compile(p, f) for p, f in _SIDE_PATTERNS]


def split_name(name: str) -> tuple[str | None, str]:
    """``(side, base)``: side ``'L'``, ``'R'`` or None; base lower-case, separators removed."""
    s = re.split(r"[:|]", name)[-1].strip()
    s = re.sub(r"^bip\d+[\s_]+", "", s, flags=re.IGNORECASE)  # 3ds Max Biped: "Bip01 L Thigh"
    side = None
    for rx in _SIDE_RE:
        m = rx.fullmatch(s)
        if m:
            side = m.group("side")[0].upper()
            s = m.group("base")
            break
    return side, re.sub(r"[\s_.\-]+", "", s).lower()


# -------------------------------------------------------------------- the map
@dataclass(frozen=True)
class RigMap:
    """How to read H36M-17 from a rig: ``positions_h36m = weights @ positions_rig``."""

    joint_names: tuple[str, ...]   # the rig's joints (``Bvh.names``)
    weights: np.ndarray            # (17, J), each row sums to 1
    sources: tuple[str, ...]       # per H36M joint, what it was made from (readable)
    interpolated: tuple[str, ...]  # H36M joints derived rather than read from one rig joint

    def apply(self, positions: np.ndarray) -> np.ndarray:
        """(..., J, 3) rig positions → (..., 17, 3) (one broadcast matmul; 7× faster than einsum)."""
        return np.matmul(self.weights, np.asarray(positions, dtype=np.float64))


def _h36m_named(bvh: Bvh) -> RigMap | None:
    """A rig whose joints carry all 17 H36M names (as the toolkit's own procedural BVH
    files do) maps one to one: there, ``neck`` IS H36M's joint 9 and ``head`` the head top,
    not the mocap meanings the pattern table gives those words."""
    names = [n.rsplit(":", 1)[-1].lower() for n in bvh.names]
    if not set(H36M.joints) <= set(names):
        return None
    w = np.zeros((17, bvh.num_joints))
    for i, name in enumerate(H36M.joints):
        w[i, names.index(name)] = 1.0
    return RigMap(tuple(bvh.names), w, tuple(bvh.names[names.index(n)] for n in H36M.joints), ())


def map_rig(bvh: Bvh) -> RigMap:
    """Find the H36M-17 roles in ``bvh``'s joint names (see the module docstring)."""
    direct = _h36m_named(bvh)
    if direct is not None:
        return direct
    J = bvh.num_joints
    parents = bvh.parents
    tree = Skeleton(name="bvh", joints=tuple(bvh.names), parents=tuple(int(p) for p in parents),
                    left=(), right=())
    depth = [tree.depth(j) for j in range(J)]
    split = [split_name(n) for n in bvh.names]

    def below(j: int, anc: int) -> bool:
        return anc in tree.chain(j)[1:]

    def find(role: str, side: str | None, anc: int | None) -> int | None:
        for pat in ROLE_PATTERNS[role]:
            rx = re.compile(pat)
            hits = [j for j, (s, base) in enumerate(split)
                    if s == side and rx.fullmatch(base) and (anc is None or below(j, anc))]
            if hits:
                return min(hits, key=lambda j: (depth[j], j))
        return None

    found: dict[tuple[str, str | None], int | None] = {}
    for side in ("L", "R"):
        for role in SIDED:
            anc = found.get((CHAIN_PARENT.get(role, ""), side))
            if role in CHAIN_PARENT and anc is None:
                found[(role, side)] = None
                continue
            found[(role, side)] = find(role, side, anc)
    for role in ("thorax", "head"):
        found[(role, None)] = find(role, None, None)
    head = found[("head", None)]
    head_top = None
    if head is not None:  # a head top that sits on the head (zero length) is no head top
        rest = bvh.rest_positions()
        tol = 1e-3 * float(np.ptp(rest, axis=0).max() or 1.0)

        def apart(j):
            return j is not None and np.linalg.norm(rest[j] - rest[head]) > tol

        head_top = find("head_top", None, head)
        if not apart(head_top):
            ends = [j for j in range(J) if bvh.is_end[j] and parents[j] == head and apart(j)]
            head_top = ends[0] if ends else None

    side_name = {"L": "left", "R": "right"}
    missing = [f"{side_name[s]} {r}" for s in ("L", "R") for r in SIDED if found[(r, s)] is None]
    if head is None:
        missing.append("head")
    thorax = found[("thorax", None)]
    shoulders_ok = found[("shoulder", "L")] is not None and found[("shoulder", "R")] is not None
    if thorax is None and not shoulders_ok:
        missing.append("thorax (neck)")
    if missing:
        seen = ", ".join(n for n, e in zip(bvh.names, bvh.is_end) if not e)
        raise InputError(bvh.path or "<bvh>", f"cannot map this rig to H36M-17: no joint for "
                         f"{', '.join(missing)}; joints seen: {seen}")

    names = bvh.names
    w = np.zeros((17, J))
    src = [""] * 17
    interp = []

    def one(j):
        v = np.zeros(J)
        v[j] = 1.0
        return v

    def put(i, vec, how, derived=False):
        w[i] = vec
        src[i] = how
        if derived:
            interp.append(H36M.joints[i])

    for side, base in (("R", 1), ("L", 4)):
        for k, role in enumerate(("hip", "knee", "ankle")):
            j = found[(role, side)]
            put(base + k, one(j), names[j])
    for side, base in (("L", 11), ("R", 14)):
        for k, role in enumerate(("shoulder", "elbow", "wrist")):
            j = found[(role, side)]
            put(base + k, one(j), names[j])
    lh, rh = found[("hip", "L")], found[("hip", "R")]
    put(0, (one(lh) + one(rh)) / 2, f"mid({names[lh]}, {names[rh]})", True)
    if thorax is not None:
        put(8, one(thorax), names[thorax])
    else:
        ls, rs = found[("shoulder", "L")], found[("shoulder", "R")]
        put(8, (one(ls) + one(rs)) / 2, f"mid({names[ls]}, {names[rs]})", True)
    put(7, (w[0] + w[8]) / 2, "mid(pelvis, thorax)", True)
    put(9, one(head), names[head])
    if head_top is not None:
        put(10, one(head_top), names[head_top])
    else:
        k = HEAD_TOP_RATIO
        put(10, (1 + k) * w[9] - k * w[8], f"{names[head]} + {k:g}*({names[head]} - thorax)", True)
    return RigMap(tuple(names), w, tuple(src), tuple(interp))


# ------------------------------------------------------------- units and axes
def y_up_to_z_up(x: np.ndarray) -> np.ndarray:
    """Y-up → Z-up: +90° about X, ``(x, y, z) → (x, −z, y)``, on (..., 3) points."""
    x = np.asarray(x)
    out = np.empty(x.shape, dtype=np.result_type(x, np.float64))
    out[..., 0] = x[..., 0]
    out[..., 1] = -x[..., 2]
    out[..., 2] = x[..., 1]
    return out


def rest_span(bvh: Bvh, rig: RigMap | None = None) -> float:
    """Rest-pose standing span in file units: mean leg (hip→knee→ankle) + pelvis→thorax→head→top."""
    rig = rig or map_rig(bvh)
    p = rig.apply(bvh.rest_positions())

    def d(a, b):
        return float(np.linalg.norm(p[a] - p[b]))

    leg = (d(1, 2) + d(2, 3) + d(4, 5) + d(5, 6)) / 2
    return leg + d(0, 8) + d(8, 9) + d(9, 10)


UPRIGHT_COS = math.cos(math.radians(30.0))


def standing_height(bvh: Bvh, rig: RigMap | None = None, up: str = "y") -> tuple[float, str]:
    """``(height in file units, how it was measured)``: the head top (joint 10) above the
    lowest joint of the rig, standing.

    In the rest pose when that pose is upright (pelvis → neck within 30° of the file's up
    axis); else (a rig modelled lying down, e.g. spine offsets along +X, stood up by its
    root rotation) from the motion: per frame after forward kinematics, then the 90th
    percentile over frames (standing frames, not crouches)."""
    if up not in ("y", "z"):
        raise ValueError(f"up must be 'y' or 'z', got {up!r}")
    rig = rig or map_rig(bvh)
    ax = 1 if up == "y" else 2
    rest = bvh.rest_positions()
    h = rig.apply(rest)
    spine = h[9] - h[0]
    n = float(np.linalg.norm(spine))
    if n > 0 and spine[ax] / n >= UPRIGHT_COS:
        return float(h[10, ax] - rest[:, ax].min()), "rest pose"
    pos = bvh.fk()
    per_frame = rig.apply(pos)[:, 10, ax] - pos[..., ax].min(axis=1)
    return float(np.percentile(per_frame, 90)), "motion (rest pose not upright)"


def detect_units(bvh: Bvh, rig: RigMap | None = None) -> tuple[str, float]:
    """``(name, metres per file unit)`` that makes the rest span closest to 1.6 m."""
    span = rest_span(bvh, rig)
    if not (span > 0 and math.isfinite(span)):
        raise InputError(bvh.path or "<bvh>", "cannot detect units: the skeleton has zero size")
    name = min(UNIT_SCALES, key=lambda u: abs(math.log(span * UNIT_SCALES[u] / REST_SPAN_M)))
    return name, UNIT_SCALES[name]


def resolve_units(bvh: Bvh, units="auto", rig: RigMap | None = None) -> tuple[str, float]:
    """``(name, metres per file unit)`` for ``units``: ``'auto'`` (:func:`detect_units`),
    a name in :data:`UNIT_SCALES`, or metres per file unit (a number). The one place both
    the numpy route and the Blender route turn a ``units=`` setting into a scale."""
    if isinstance(units, str):
        if units == "auto":
            return detect_units(bvh, rig)
        if units in UNIT_SCALES:
            return units, UNIT_SCALES[units]
        raise InputError(None, f"units={units!r}: 'auto', one of {sorted(UNIT_SCALES)} or "
                               f"metres per file unit")
    try:
        scale = float(units)
    except (TypeError, ValueError):
        scale = math.nan
    if not (scale > 0 and math.isfinite(scale)):
        raise InputError(None, f"units={units!r}: metres per file unit must be positive")
    return f"{scale:g} m", scale


def to_h36m(bvh: Bvh, units="auto", up: str = "y", rig: RigMap | None = None) -> np.ndarray:
    """(T, 17, 3) H36M-17 positions in metres, right-handed Z-up world.

    ``units``: ``'auto'`` (:func:`detect_units`), a name in :data:`UNIT_SCALES`, or metres
    per file unit. ``up``: the file's up axis, ``'y'`` (BVH's usual; converted with
    :func:`y_up_to_z_up`) or ``'z'`` (kept). Global trajectory is kept as in the file.
    """
    if up not in ("y", "z"):
        raise ValueError(f"up must be 'y' or 'z', got {up!r}")
    rig = rig or map_rig(bvh)
    scale = resolve_units(bvh, units, rig)[1]
    x = rig.apply(bvh.fk()) * scale
    return y_up_to_z_up(x) if up == "y" else x
