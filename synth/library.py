"""The procedural motion library: many seeded clips on many sampled bodies, and writers.

``generate(n_clips, seed)`` returns ``{subject: {action: (T, 17, 3) float32}}`` (a
:class:`Library`: a dict that also holds the clips' rotations and root paths). It samples
``ceil(n_clips / clips_per_subject)`` bodies (subjects ``P000``, ``P001`` …,
:mod:`synth.body`) and makes each clip with one motion (:data:`synth.motions.MOTIONS`,
every motion once per block of ``len(motions)`` clips in a seeded order), named
``"<motion>_<k>"`` within its subject. Everything is reproducible:
the bodies come from ``default_rng([seed, 0])``, clip ``i`` from ``default_rng([seed, 1,
i])`` and the motion order from ``default_rng([seed, 2, block])`` — same seed, identical
arrays. Each path's horizontal extent is centred on the origin.

Writers
    * :func:`save_npz` — VideoPose3D ``data_3d_<name>.npz`` (``{subject: {action: (T, 17, 3)
      float32}}``, metres, world Z-up), via :func:`hpd3d.formats.save_3d`.
    * :func:`save_tracks` — ``motions_<name>.npz``: per clip the joint angles (radians,
      :mod:`synth.limits` convention), heading, root path, contact codes and the body
      (height, ratios), for stages that want rotations rather than positions.
    * :func:`save_bvh_dir` — one BVH per clip, ``<subject>_<action>.bvh``.

BVH layout
    All 17 H36M joints are BVH joints with their H36M names (``pelvis`` is the ROOT, 6
    channels; the others 3 rotation channels, intrinsic ``ZXY`` by default; the leaves
    ankles, wrists and ``head`` keep zero rotations). H36M joint 10 ``head`` is the head
    top, a JOINT; below the five leaves an End Site gives each a bone tail: ankle → toe tip
    (forward, on the ground), wrist → knuckles, head top → 5 % of height forward. Axes are
    BVH's Y-up: world ``(x, y, z)`` → BVH ``(x, z, −y)`` (the body faces +Z at heading 0);
    units are metres (``units="cm"`` scales by 100). Rotations are the local rotations of
    :mod:`synth.body` conjugated into the Y-up frame, so ``load_bvh(...).fk()`` mapped back
    with BVH ``(x, y, z)`` → world ``(x, −z, y)`` reproduces the joints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from hpd3d import atomic, bvh as bvh_io, formats
from hpd3d.errors import InputError
from hpd3d.rig import Y_UP_TO_Z_UP
from hpd3d.skeleton import H36M

from . import limits
from .body import Body, fk, sample_bodies
from .motions import MOTIONS, make
from .motions.ground import place, root_matrix

# world (x, y, z), Z up → BVH (x, z, −y), Y up: the inverse of hpd3d.rig's reader convention
Z_UP_TO_Y_UP = Y_UP_TO_Z_UP.T
BVH_UNITS = {"m": 1.0, "cm": 100.0}
_LEAVES_WITH_END = (3, 6, 13, 16, 10)  # ankles, wrists, head top (order of Body.end_sites rows)
_END_ROW = {3: 0, 6: 0, 13: 1, 16: 1, 10: 2}


@dataclass
class Clip:
    """One generated clip. ``angles`` (T, 17, 3) radians, ``heading`` (T,), ``root``
    (T, 3) metres, ``contact`` (T,) int8 (as placed: see :func:`synth.motions.ground.place`)
    ``heel`` (T, 2) metres and ``base`` (T, 3) rotation vectors (zero: upright) as in
    :class:`synth.motions.track.Track`; ``positions``
    (T, 17, 3) float64 metres, world."""

    subject: str
    action: str
    motion: str
    fps: float
    body: Body
    angles: np.ndarray
    heading: np.ndarray
    root: np.ndarray
    contact: np.ndarray
    heel: np.ndarray
    positions: np.ndarray
    base: np.ndarray | None = None

    @property
    def num_frames(self) -> int:
        return int(self.angles.shape[0])

    def local_matrices(self) -> np.ndarray:
        """(T, 17, 3, 3) local rotations, joint 0 = global pelvis orientation."""
        m = limits.to_matrix(self.angles)
        m[:, 0] = root_matrix(self.heading, self.base) @ m[:, 0]
        return m

    def local_rotations(self) -> Rotation:
        """Local rotations as a ``Rotation`` of shape (T, 17) (root: heading · base · pelvis)."""
        return Rotation.from_matrix(self.local_matrices())


class Library(dict):
    """The generated data: a dict ``{subject: {action: (T, 17, 3) float32}}`` (VideoPose3D
    ``positions_3d``, metres, world Z-up) that also carries ``clips`` (:class:`Clip`, with
    the joint angles, heading and root path a BVH needs), ``bodies``, ``seed`` and ``fps``.
    """

    def __init__(self, clips: list[Clip], bodies: Body, seed: int, fps: float):
        super().__init__()
        for c in clips:
            self.setdefault(c.subject, {})[c.action] = c.positions.astype(np.float32)
        self.clips, self.bodies, self.seed, self.fps = clips, bodies, seed, fps

    @property
    def positions_3d(self) -> dict:
        """A plain-dict copy of the mapping."""
        return {s: dict(v) for s, v in self.items()}

    @property
    def num_frames(self) -> int:
        return sum(c.num_frames for c in self.clips)

    def summary(self) -> dict:
        per: dict = {}
        for c in self.clips:
            per[c.motion] = per.get(c.motion, 0) + 1
        return {"clips": len(self.clips), "subjects": len(self), "frames": self.num_frames,
                "seconds": self.num_frames / self.fps, "motions": per}


def check_args(n_clips, fps, motions, duration, clips_per_subject, height_range=(1.5, 1.95)):
    """Validate :func:`generate`'s arguments; :class:`InputError` names the bad one."""
    if isinstance(n_clips, bool) or not isinstance(n_clips, (int, np.integer)) or n_clips <= 0:
        raise InputError("clips", f"must be a positive integer, got {n_clips!r}")
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise InputError("fps", f"must be a positive number, got {fps!r}")
    unknown = [m for m in motions if m not in MOTIONS]
    if unknown:
        raise InputError("motions", f"unknown motion {unknown[0]!r} (known: {', '.join(MOTIONS)})")
    if not motions:
        raise InputError("motions", "is empty")
    lo, hi = _pair("duration", duration)
    if lo <= 0 or lo > hi:
        raise InputError("duration", f"needs 0 < min <= max seconds, got [{lo}, {hi}]")
    if round(lo * fps) < 2:
        raise InputError("duration", f"min {lo} s is under 2 frames at {fps} fps")
    if isinstance(clips_per_subject, bool) or not isinstance(clips_per_subject, (int, np.integer)) \
            or clips_per_subject <= 0:
        raise InputError("clips_per_subject", f"must be a positive integer, got {clips_per_subject!r}")
    hlo, hhi = _pair("height", height_range)
    if not 0.5 <= hlo <= hhi <= 2.5:
        raise InputError("height", f"needs 0.5 <= min <= max <= 2.5 metres, got [{hlo}, {hhi}]")


def _pair(key, v) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in v)
    except (TypeError, ValueError):
        raise InputError(key, f"must be [min, max], got {v!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise InputError(key, f"must be finite, got [{lo}, {hi}]")
    return lo, hi


def motion_order(n_clips: int, motions, seed: int) -> list[str]:
    """Which motion each clip gets: every motion once per block, block order seeded."""
    motions = list(motions)
    out: list[str] = []
    for block in range(math.ceil(n_clips / len(motions))):
        perm = np.random.default_rng([seed, 2, block]).permutation(len(motions))
        out += [motions[i] for i in perm]
    return out[:n_clips]


def make_clip(motion: str, rng: np.random.Generator, body: Body, fps: float,
              duration=(2.0, 4.0), subject: str = "P000", action: str | None = None) -> Clip:
    """One clip of ``motion`` on ``body`` (a single body), ``duration`` drawn uniformly."""
    T = max(2, int(round(rng.uniform(*duration) * fps)))
    track = make(motion, rng, body, T, fps)
    root, contact = place(body, track, fps)
    clip = Clip(subject=subject, action=action or f"{motion}_0", motion=motion, fps=float(fps),
                body=body, angles=track.angles, heading=np.asarray(track.heading, np.float64),
                root=root, contact=contact,
                heel=np.zeros((T, 2)) if track.heel is None else np.asarray(track.heel, np.float64),
                positions=np.empty(0),
                base=np.zeros((T, 3)) if track.base is None else np.asarray(track.base, np.float64))
    clip.positions = fk(body.offsets, clip.local_matrices(), root)
    return clip


def generate(n_clips: int, seed: int = 0, fps: float = 50.0, motions=None, duration=(2.0, 4.0),
             clips_per_subject: int = 5, height_range=(1.50, 1.95), progress=None) -> Library:
    """Generate ``n_clips`` clips (see the module docstring): a :class:`Library`, i.e.
    ``{subject: {action: (T, 17, 3) float32}}`` plus ``.clips`` with the rotations and root
    paths. ``motions``: names from :data:`synth.motions.MOTIONS` (default all);
    ``duration`` (min, max) seconds per clip; ``progress``: an optional callable wrapping
    the clip iterator (e.g. ``tqdm``)."""
    motions = list(MOTIONS) if motions is None else list(motions)
    check_args(n_clips, fps, motions, duration, clips_per_subject, height_range)
    fps = float(fps)
    duration = _pair("duration", duration)
    n_subjects = math.ceil(n_clips / clips_per_subject)
    bodies = sample_bodies(np.random.default_rng([seed, 0]), n_subjects, _pair("height", height_range))
    order = motion_order(n_clips, motions, seed)
    counts: dict = {}
    clips = []
    it = range(n_clips) if progress is None else progress(range(n_clips))
    for i in it:
        s = i // clips_per_subject
        subject = f"P{s:03d}"
        k = counts.get((s, order[i]), 0)
        counts[(s, order[i])] = k + 1
        clips.append(make_clip(order[i], np.random.default_rng([seed, 1, i]), bodies[s], fps,
                               duration, subject, f"{order[i]}_{k}"))
    return Library(clips, bodies, int(seed), fps)


# ------------------------------------------------------------------------------ writers
def save_npz(lib: Library, path) -> None:
    """VideoPose3D ``data_3d_<name>.npz``."""
    formats.save_3d(path, lib.positions_3d)


def save_tracks(lib: Library, path) -> None:
    """``motions_<name>.npz``: ``tracks = {subject: {action: {angles, heading, root,
    contact, heel, base, motion}}}``, ``bodies = {subject: {height, ratios}}``, ``fps``."""
    tracks: dict = {}
    bodies: dict = {}
    for c in lib.clips:
        tracks.setdefault(c.subject, {})[c.action] = {
            "motion": c.motion, "angles": c.angles.astype(np.float32),
            "heading": c.heading.astype(np.float32), "root": c.root.astype(np.float32),
            "contact": c.contact, "heel": c.heel.astype(np.float32),
            "base": (np.zeros((c.num_frames, 3)) if c.base is None else c.base).astype(np.float32)}
        bodies[c.subject] = {"height": float(c.body.height),
                             "ratios": np.asarray(c.body.ratios, np.float64)}
    obj = np.empty((), dtype=object)
    obj[()] = tracks
    bobj = np.empty((), dtype=object)
    bobj[()] = bodies
    atomic.savez(path, tracks=obj, bodies=bobj, fps=np.float64(lib.fps),
                 limits_deg=limits.LIMITS_DEG)


def bvh_skeleton(body: Body, units: str = "m"):
    """Names, parents, offsets (BVH axes and units) and End Site flags: 17 joints + 5 ends."""
    scale = BVH_UNITS[units]
    names = list(H36M.joints) + [f"{H36M.joints[j]}_End" for j in _LEAVES_WITH_END]
    parents = list(H36M.parents) + list(_LEAVES_WITH_END)
    ends = body.end_sites
    offsets = np.concatenate([body.offsets, np.stack([ends[_END_ROW[j]] for j in _LEAVES_WITH_END])])
    is_end = np.zeros(len(names), bool)
    is_end[17:] = True
    return names, np.asarray(parents), offsets @ Z_UP_TO_Y_UP.T * scale, is_end


def to_bvh(clip: Clip, units: str = "m", euler_order: str = "ZXY") -> bvh_io.Bvh:
    """The clip as a :class:`hpd3d.bvh.Bvh` (Y-up, ``units``)."""
    if units not in BVH_UNITS:
        raise InputError("bvh_units", f"must be one of {', '.join(BVH_UNITS)}, got {units!r}")
    names, parents, offsets, is_end = bvh_skeleton(clip.body, units)
    T = clip.num_frames
    C = Z_UP_TO_Y_UP
    local = C @ clip.local_matrices() @ C.T                       # (T, 17, 3, 3)
    mats = np.broadcast_to(np.eye(3), (T, len(names), 3, 3)).copy()
    mats[:, :17] = local
    root = clip.root @ C.T * BVH_UNITS[units]
    return bvh_io.from_local(names, parents, offsets, mats, root, 1.0 / clip.fps,
                             euler_order=euler_order, is_end=is_end)


def bvh_filename(clip: Clip) -> str:
    return f"{clip.subject}_{clip.action}.bvh"


def save_bvh_dir(lib: Library, folder, units: str = "m", progress=None) -> list[Path]:
    """One BVH per clip into ``folder`` (replaced as a whole, atomically)."""
    folder = Path(folder)
    clips = lib.clips if progress is None else progress(lib.clips)
    with atomic.atomic_dir(folder, overwrite=True, what="bvh folder") as tmp:
        for c in clips:
            bvh_io.save_bvh(tmp / bvh_filename(c), to_bvh(c, units))
    return [folder / bvh_filename(c) for c in lib.clips]
