"""Reading VideoPose3D-format datasets into one in-memory table of camera views.

A *source* is one dataset folder written by ``python -m synth.augment_h36m`` (or any
VideoPose3D-format data with camera files): ``data_3d_<name>.npz`` (world 3D, metres),
``data_2d_<name>_gt.npz`` (clean 2D per camera) and/or ``data_2d_<name>_noisy.npz``
(detector-like 2D with ``confidence_2d``) and/or ``data_2d_<name>_<detector>.npz`` (a real
detector's 2D on rendered videos, ``python -m infer.detect_dataset``: ``confidence_2d`` and
``detected_2d``; frames where it found nobody are neither trained on nor scored, see
:attr:`PoseTable.detected`), ``camera_intrinsics.txt`` /
``camera_extrinsics.txt`` (camera ``<subject>/<action>/<index>``, see
:func:`hpd3d.formats.camera_name`).

Every (subject, action, camera) becomes a *view*: its frames are appended to flat arrays
(``uv`` pixels, ``conf``, ``xyz`` camera-frame root-relative metres) and the view records
where they start, its image size (``metadata['video_metadata']``, else the camera file)
and whether it belongs to the train or val split (:mod:`train.data.split`). Training and
evaluation index these arrays directly (no per-sample Python objects).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hpd3d.camera import world_to_camera
from hpd3d.camera_io import read_camera_files
from hpd3d.errors import InputError
from hpd3d.formats import camera_name, load_2d, load_3d

from .split import SplitRule, assign_splits

DETECTORS_2D = ("mediapipe", "hrnet")  # data_2d_<name>_<detector>.npz (infer.detect_dataset)
INPUTS_2D = ("gt", "gt_noise", "noisy") + DETECTORS_2D


@dataclass(frozen=True)
class SourceSpec:
    """One dataset folder and how to use it (a ``data.sources`` entry)."""

    dir: str
    name: str = "synth"
    weight: float = 1.0  # sampling weight among sources (training)
    use: str = "both"  # both | train | val: which splits this source may feed
    split: SplitRule = field(default_factory=SplitRule)
    input_2d: str | None = None  # gt | gt_noise | noisy | mediapipe | hrnet; None: the data config's

    @classmethod
    def from_dict(cls, d: dict, where: str = "data.sources") -> "SourceSpec":
        d = dict(d)
        unknown = set(d) - {"dir", "name", "weight", "use", "split", "input_2d"}
        if unknown:
            raise InputError(None, f"{where}: unknown key(s) {sorted(unknown)}")
        if not d.get("dir"):
            raise InputError(None, f"{where}: 'dir' is required")
        split = SplitRule.from_dict(d.pop("split", None) or {}, f"{where}.split")
        spec = cls(split=split, **{k: v for k, v in d.items() if v is not None or k == "input_2d"})
        if spec.use not in ("both", "train", "val"):
            raise InputError(None, f"{where}.use: 'both', 'train' or 'val', got {spec.use!r}")
        if spec.input_2d is not None and spec.input_2d not in INPUTS_2D:
            raise InputError(None, f"{where}.input_2d: one of {INPUTS_2D}, got {spec.input_2d!r}")
        if not spec.weight >= 0:
            raise InputError(None, f"{where}.weight: must be ≥ 0, got {spec.weight!r}")
        return spec


@dataclass
class View:
    source: int
    subject: str
    action: str
    camera: int
    width: int
    height: int
    start: int  # first frame in the flat arrays
    length: int
    split: str  # train | val


@dataclass
class PoseTable:
    """Every view of every source, frames concatenated.

    ``uv`` (N, 17, 2) float32 pixels; ``conf`` (N, 17) float32 (1 for clean 2D);
    ``xyz`` (N, 17, 3) float32 camera frame, root-relative, metres; ``noise_on`` (N,) bool:
    on-the-fly 2D noise applies (frames of ``gt_noise`` sources); ``in_bounds`` (N,) bool:
    every keypoint lies inside the image grown by ``margin`` of its size on each side
    (:func:`bounds`). Frames outside are never training anchors or scored: synthetic
    projections of points far outside a distorted image are meaningless (the distortion
    polynomial folds them back or throws them thousands of widths away) and a detector
    never reports them; as window context they are clamped to that box.
    ``view_of`` (N,) int32; ``wh`` (V, 2) float32 image width and height per view.
    ``detected`` (N,) bool: a detector found the person (``input_2d=<detector>``, or
    ``detected_by=<detector>`` for the same frames with other 2D); frames without are
    never training anchors or scored either (:attr:`usable`). All True otherwise.
    """

    uv: np.ndarray
    conf: np.ndarray
    xyz: np.ndarray
    noise_on: np.ndarray
    in_bounds: np.ndarray
    view_of: np.ndarray
    wh: np.ndarray
    views: list[View]
    sources: list[SourceSpec]
    margin: float = 0.5
    detected: np.ndarray | None = None

    def __post_init__(self):
        if self.detected is None:
            self.detected = np.ones(len(self.uv), bool)

    @property
    def usable(self) -> np.ndarray:
        """(N,) frames to train on and score: in bounds and (where known) detected."""
        return self.in_bounds & self.detected

    @property
    def num_frames(self) -> int:
        return len(self.uv)

    def view_ids(self, split: str) -> np.ndarray:
        return np.array([i for i, v in enumerate(self.views) if v.split == split], dtype=np.int64)

    def frames_of(self, view_ids) -> np.ndarray:
        """Global frame indices of the given views, in order."""
        vs = [self.views[i] for i in view_ids]
        if not vs:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([np.arange(v.start, v.start + v.length) for v in vs])

    def describe(self) -> list[dict]:
        """Per source: where it came from and how many views/frames went to each split."""
        out = []
        for s, spec in enumerate(self.sources):
            mine = [v for v in self.views if v.source == s]
            out.append({
                "dir": str(spec.dir), "name": spec.name, "weight": float(spec.weight),
                "input_2d": spec.input_2d, "use": spec.use, "split": spec.split.to_dict(),
                **{f"{sp}_views": sum(v.split == sp for v in mine) for sp in ("train", "val")},
                **{f"{sp}_frames": sum(v.length for v in mine if v.split == sp)
                   for sp in ("train", "val")},
                "out_of_bounds_frames": int(sum((~self.in_bounds[v.start:v.start + v.length]).sum()
                                                for v in mine)),
                "undetected_frames": int(sum((~self.detected[v.start:v.start + v.length]).sum()
                                             for v in mine)),
            })  # fmt: skip
        return out


def bounds(wh: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """Low and high pixel corners (..., 2) of images of size ``wh`` (..., 2) grown by
    ``margin`` of their size on every side."""
    wh = np.asarray(wh, dtype=np.float32)
    return -margin * wh, (1.0 + margin) * wh


def _source_files(spec: SourceSpec, input_2d: str) -> tuple[Path, Path, Path]:
    d = Path(spec.dir)
    if not d.exists():
        raise InputError(d, "no such dataset folder (python -m synth.augment_h36m out=DIR "
                            "makes one)")
    if not d.is_dir():
        raise InputError(d, "not a folder (a dataset is a folder of VideoPose3D files)")
    kind = input_2d if input_2d in ("noisy", *DETECTORS_2D) else "gt"
    return d / f"data_3d_{spec.name}.npz", d / f"data_2d_{spec.name}_{kind}.npz", d


def _detector_file(path: Path, what: str) -> tuple[dict, dict, dict]:
    if not path.is_file():
        raise InputError(path, f"no such file ({what}: python -m infer.detect_dataset "
                               "writes it from rendered videos)")
    pos2d, meta, extras = load_2d(path)
    for key in ("confidence_2d", "detected_2d"):
        if key not in extras:
            raise InputError(path, f"no {key!r} array ({what} needs a detector file)")
    return pos2d, meta, extras


def load_source(spec: SourceSpec, index: int, input_2d: str,
                detected_by: str | None = None) -> tuple[list[dict], list[np.ndarray]]:
    """One source → (view records, [uv, conf, xyz, noise_on, detected] arrays per view).
    ``detected_by``: a detector whose file's ``detected_2d`` masks the frames (default: the
    ``input_2d`` detector, if it is one)."""
    p3d, p2d, folder = _source_files(spec, input_2d)
    pos3d = load_3d(p3d)
    if input_2d in DETECTORS_2D:
        pos2d, meta, extras = _detector_file(p2d, f"input_2d={input_2d}")
    else:
        pos2d, meta, extras = load_2d(p2d)
    if meta["num_joints"] != 17:
        raise InputError(p2d, f"{meta['num_joints']} joints; the lifters take H36M-17")
    if input_2d == "noisy" and "confidence_2d" not in extras:
        raise InputError(p2d, "no 'confidence_2d' array (input_2d=noisy needs the noisy file's "
                              "confidences)")
    conf_all = extras.get("confidence_2d", {})
    detected_by = detected_by or (input_2d if input_2d in DETECTORS_2D else None)
    found_all, p_det = None, None
    if detected_by:
        if detected_by not in DETECTORS_2D:
            raise InputError(None, f"data.detected_by: one of {DETECTORS_2D}, got {detected_by!r}")
        p_det = folder / f"data_2d_{spec.name}_{detected_by}.npz"
        found_all = (extras if p_det == p2d
                     else _detector_file(p_det, f"detected_by={detected_by}")[2])["detected_2d"]
    cams = {c.name: c for c in read_camera_files(folder)}
    video = meta.get("video_metadata", {})
    records, arrays = [], []
    splits = assign_splits([(s, a) for s in sorted(pos2d) for a in sorted(pos2d[s])],
                           spec.split, spec.use)
    for subject in sorted(pos2d):
        if subject not in pos3d:
            raise InputError(p3d, f"no 3D for subject {subject!r} (it is in {p2d.name})")
        for action in sorted(pos2d[subject]):
            if action not in pos3d[subject]:
                raise InputError(p3d, f"no 3D for {subject}/{action} (it is in {p2d.name})")
            world = pos3d[subject][action]
            if world.shape[1] != 17:
                raise InputError(p3d, f"{subject}/{action}: {world.shape[1]} joints; expected 17")
            split = splits[(subject, action)]
            views2d = pos2d[subject][action]
            names = [camera_name(subject, action, c) for c in range(len(views2d))]
            missing = [n for n in names if n not in cams]
            if missing:
                raise InputError(folder / "camera_intrinsics.txt",
                                 f"no camera {missing[0]!r} (needed by {p2d.name})")
            cam_list = [cams[n] for n in names]
            xyz = world_to_camera(world, cam_list).astype(np.float32)  # (C, T, 17, 3)
            xyz -= xyz[:, :, :1]
            for c, (uv, cam) in enumerate(zip(views2d, cam_list)):
                T = min(len(uv), len(world))
                if T == 0:
                    continue
                vm = video.get(names[c])
                w, h = (vm["w"], vm["h"]) if vm else (cam.width, cam.height)
                conf = (conf_all[subject][action][c][:T].astype(np.float32)
                        if input_2d in ("noisy", *DETECTORS_2D) else np.ones((T, 17), np.float32))
                found = np.ones(T, bool)
                if found_all is not None:
                    try:
                        f = np.asarray(found_all[subject][action][c], bool)
                    except (KeyError, IndexError):
                        raise InputError(p_det, f"no detections for {subject}/{action} camera "
                                                f"{c}") from None
                    if len(f) < T:
                        raise InputError(p_det, f"{subject}/{action} camera {c}: {len(f)} "
                                                f"frames, the 3D has {T}")
                    found = f[:T].reshape(T, -1).all(1)
                records.append(dict(source=index, subject=subject, action=action, camera=c,
                                    width=int(w), height=int(h), length=T, split=split))
                arrays.append((uv[:T].astype(np.float32), conf, xyz[c, :T],
                               np.full(T, input_2d == "gt_noise"), found))
    if not records:
        raise InputError(p2d, "no sequences with frames")
    return records, arrays


def load_table(sources: list[SourceSpec], input_2d: str, margin: float = 0.5,
               detected_by: str | None = None) -> PoseTable:
    """Read every source (each with its own ``input_2d`` or the default) into one table;
    ``margin``: see :attr:`PoseTable.in_bounds`; ``detected_by``: :func:`load_source`."""
    if input_2d not in INPUTS_2D:
        raise InputError(None, f"data.input_2d: one of {INPUTS_2D}, got {input_2d!r}")
    if not sources:
        raise InputError(None, "data: no sources (set data.dir or data.sources)")
    records, arrays = [], []
    for i, spec in enumerate(sources):
        r, a = load_source(spec, i, spec.input_2d or input_2d, detected_by)
        records += r
        arrays += a
    lengths = np.array([r["length"] for r in records])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    views = [View(start=int(s), **r) for s, r in zip(starts, records)]
    uv, conf, xyz, noise_on, detected = (np.concatenate(x) for x in zip(*arrays))
    view_of = np.repeat(np.arange(len(views), dtype=np.int32), lengths)
    wh = np.array([[v.width, v.height] for v in views], dtype=np.float32)
    lo, hi = bounds(wh[view_of][:, None], margin)
    in_bounds = ((uv >= lo) & (uv <= hi)).all(axis=(1, 2))
    return PoseTable(uv, conf, xyz, noise_on, in_bounds, view_of, wh, views, list(sources),
                     float(margin), detected)
