"""A multi-camera pose dataset held while it is built, and written as VideoPose3D files.

Shared by every stage that makes data (synth, blender).

3D in ``data_3d_<name>.npz``; clean 2D per camera in ``data_2d_<name>_gt.npz`` with an
``in_frame_2d`` mask; detector-like noisy 2D with ``confidence_2d`` in
``data_2d_<name>_noisy.npz``; a 2D detector's output on the dataset's videos (``infer.detect_dataset``)
in ``data_2d_<name>_<detector>.npz`` with ``confidence_2d`` and ``detected_2d`` and the
detector's description in ``metadata['detector']`` (:class:`Detections`); cameras in ``camera_intrinsics.txt`` /
``camera_extrinsics.txt`` named ``<subject>/<action>/<index>`` (:func:`camera_name`); each camera's image size
is in ``metadata['video_metadata']``. With ``mmpose=True`` also MMPose's H36M annotation
npz (camera-frame 3D in metres) and ``cameras.pkl``. Files are written into a temporary
folder and moved into place only when every one of them has been written.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hpd3d import camera as cm
from hpd3d.camera_io import read_camera_files, write_camera_files
from hpd3d.errors import InputError
from hpd3d.formats import (camera_name, load_2d, load_3d, save_2d, save_3d,
                           save_mmpose_cameras, save_mmpose_h36m)
from hpd3d.skeleton import H36M


@dataclass
class Views:
    """One sequence seen by several cameras."""

    cameras: list[cm.Camera]
    uv: np.ndarray  # (C, T, J, 2) clean projections, px
    in_frame: np.ndarray  # (C, T, J) bool
    fraction: np.ndarray  # (C,) in-frame fraction at sampling time
    uv_noisy: np.ndarray | None = None  # (C, T, J, 2)
    confidence: np.ndarray | None = None  # (C, T, J)
    visible: np.ndarray | None = None  # (C, T, J) bool: in frame and not hidden (renders)


@dataclass
class Detections:
    """A detector's 2D for every camera of every sequence (same nesting as
    :attr:`Dataset.positions_2d`): ``uv`` (T, J, 2) px, ``confidence`` (T, J) and
    ``detected`` (T, J) bool (the person was found in that frame; where not, ``uv`` holds
    filled values and ``confidence`` 0). ``info``: what made it (``metadata['detector']``)."""

    info: dict = field(default_factory=dict)
    uv: dict = field(default_factory=dict)
    confidence: dict = field(default_factory=dict)
    detected: dict = field(default_factory=dict)

    _NESTS = ("uv", "confidence", "detected")

    def add(self, subject: str, action: str, uv: list, confidence: list, detected: list) -> None:
        for name, v in zip(self._NESTS, (uv, confidence, detected)):
            getattr(self, name).setdefault(subject, {})[action] = list(v)


DETECTOR_TAG = re.compile(r"[A-Za-z0-9]+")  # data_2d_<name>_<tag>.npz: no "_" in a tag
_NOT_DETECTORS = ("gt", "noisy")


@dataclass
class Dataset:
    positions_3d: dict = field(default_factory=dict)  # subject → action → (T, J, 3)
    positions_2d: dict = field(default_factory=dict)  # subject → action → [C × (T, J, 2)]
    in_frame: dict = field(default_factory=dict)  # same nesting, (T, J) bool
    noisy_2d: dict = field(default_factory=dict)
    confidence: dict = field(default_factory=dict)
    cameras: dict = field(default_factory=dict)  # subject → action → [Camera]
    visible: dict = field(default_factory=dict)  # same nesting as in_frame, when known
    detections: dict = field(default_factory=dict)  # detector tag → Detections

    def add(self, subject: str, action: str, seq: np.ndarray, views) -> None:
        for d in (self.positions_3d, self.positions_2d, self.in_frame, self.noisy_2d,
                  self.confidence, self.cameras):
            d.setdefault(subject, {})
        if action in self.positions_3d[subject]:
            raise ValueError(f"duplicate sequence {subject}/{action}")
        self.positions_3d[subject][action] = seq.astype(np.float32)
        self.positions_2d[subject][action] = list(views.uv)
        self.in_frame[subject][action] = list(views.in_frame)
        if getattr(views, "visible", None) is not None:
            self.visible.setdefault(subject, {})[action] = list(views.visible)
        if views.uv_noisy is not None:
            self.noisy_2d[subject][action] = list(views.uv_noisy)
            self.confidence[subject][action] = list(views.confidence)
        named = []
        for c, cam in enumerate(views.cameras):
            named.append(_renamed(cam, camera_name(subject, action, c)))
        self.cameras[subject][action] = named

    def camera_list(self) -> list:
        return [c for acts in self.cameras.values() for cams in acts.values() for c in cams]

    def merge(self, other: "Dataset") -> None:
        for subject, acts in other.positions_3d.items():
            for action in acts:
                if action in self.positions_3d.get(subject, {}):
                    raise ValueError(f"sequence {subject}/{action} is in two inputs")
        for name in ("positions_3d", "positions_2d", "in_frame", "noisy_2d", "confidence",
                     "cameras", "visible"):
            mine, theirs = getattr(self, name), getattr(other, name)
            for subject, acts in theirs.items():
                mine.setdefault(subject, {}).update(acts)
        for tag, det in other.detections.items():
            if tag not in self.detections:
                self.detections[tag] = Detections(info=det.info)
            elif self.detections[tag].info != det.info:
                raise ValueError(f"data_2d_*_{tag}.npz: made by different detectors "
                                 f"({self.detections[tag].info} vs {det.info})")
            for name in Detections._NESTS:
                mine = getattr(self.detections[tag], name)
                for subject, acts in getattr(det, name).items():
                    mine.setdefault(subject, {}).update(acts)

    def select(self, keys) -> "Dataset":
        """A dataset of the sequences ``keys`` [(subject, action)] only (same arrays)."""
        out = Dataset()
        for name in ("positions_3d", "positions_2d", "in_frame", "noisy_2d", "confidence",
                     "cameras", "visible"):
            d = getattr(self, name)
            for s, a in keys:
                if a in d.get(s, {}):
                    getattr(out, name).setdefault(s, {})[a] = d[s][a]
        for tag, det in self.detections.items():
            new = out.detections[tag] = Detections(info=det.info)
            for name in Detections._NESTS:
                d = getattr(det, name)
                for s, a in keys:
                    if a in d.get(s, {}):
                        getattr(new, name).setdefault(s, {})[a] = d[s][a]
        return out

    def sort(self) -> None:
        """Order subjects and actions by name (numbers in names compared as numbers).

        The files then do not depend on the order sequences were added in, so shards
        merged with ``synth.merge`` give the same bytes as one run."""
        def order(d):
            return {s: {a: d[s][a] for a in sorted(d[s], key=natural_key)}
                    for s in sorted(d, key=natural_key)}

        for name in ("positions_3d", "positions_2d", "in_frame", "noisy_2d", "confidence",
                     "cameras"):
            setattr(self, name, order(getattr(self, name)))
        for det in self.detections.values():
            for name in Detections._NESTS:
                setattr(det, name, order(getattr(det, name)))

    @property
    def num_frames(self) -> int:
        return sum(len(a) for acts in self.positions_3d.values() for a in acts.values())

    def metadata(self) -> dict:
        return {
            "num_joints": H36M.num_joints,
            "keypoints_symmetry": H36M.symmetry,
            "layout_name": "h36m",
            "video_metadata": {c.name: {"w": int(c.width), "h": int(c.height)}
                               for c in self.camera_list()},
        }

    def write(self, out: Path, name: str, mmpose: bool = False) -> list[Path]:
        """Write every file into ``out`` (all or nothing), subjects and actions in
        :meth:`sort` order; returns the paths."""
        self.sort()
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out))
        try:
            files = [tmp / f"data_3d_{name}.npz", tmp / f"data_2d_{name}_gt.npz"]
            save_3d(files[0], self.positions_3d)
            masks = {"in_frame_2d": self.in_frame}
            if any(self.visible.values()):
                masks["visible_2d"] = self.visible
            save_2d(files[1], self.positions_2d, self.metadata(), masks)
            if any(self.noisy_2d.values()):
                files.append(tmp / f"data_2d_{name}_noisy.npz")
                save_2d(files[-1], self.noisy_2d, self.metadata(),
                        {"in_frame_2d": self.in_frame, "confidence_2d": self.confidence})
            for tag, det in sorted(self.detections.items()):
                files.append(tmp / f"data_2d_{name}_{tag}.npz")
                save_2d(files[-1], det.uv, {**self.metadata(), "detector": det.info},
                        {"confidence_2d": det.confidence, "detected_2d": det.detected})
            files += list(write_camera_files(tmp, self.camera_list()))
            if mmpose:
                files += self._write_mmpose(tmp / "mmpose", name)
            final = []
            for f in files:
                dest = out / f.relative_to(tmp)
                dest.parent.mkdir(parents=True, exist_ok=True)
                f.replace(dest)
                final.append(dest)
            return final
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _write_mmpose(self, folder: Path, name: str) -> list[Path]:
        imgname, part, S, cams = [], [], [], {}
        k = 0
        for subject, acts in self.positions_3d.items():
            sub = subject.replace("_", "-")
            for action, seq in acts.items():
                act = action.replace(".", "-")
                for c, cam in enumerate(self.cameras[subject][action]):
                    cid = f"{k:06d}{c:02d}"
                    stem = f"{sub}_{act}.{cid}"
                    imgname += [f"{sub}/{stem}/{stem}_{t + 1:06d}.jpg" for t in range(len(seq))]
                    part.append(self.positions_2d[subject][action][c])
                    S.append(cm.world_to_camera(seq, cam))
                    cams[(sub, cid)] = cm.to_mmpose(cam, unit="m")
                k += 1
        folder.mkdir(parents=True, exist_ok=True)
        npz, pkl = folder / f"h36m_{name}.npz", folder / "cameras.pkl"
        save_mmpose_h36m(npz, imgname=np.asarray(imgname), part=np.concatenate(part),
                         S=np.concatenate(S))
        save_mmpose_cameras(pkl, cams)
        return [npz, pkl]


def natural_key(name: str) -> list:
    """Sort key that compares the digit runs in ``name`` as numbers (``clip2`` < ``clip10``)."""
    parts = [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", name)]
    return parts + [(2, 0, name)]  # ties ("a01" vs "a1") broken by the plain string


def _renamed(cam: cm.Camera, name: str) -> cm.Camera:
    import dataclasses

    return dataclasses.replace(cam, name=name)


def read_dataset(folder: Path, name: str, cameras_dir=None) -> Dataset:
    """Read what :meth:`Dataset.write` wrote (VideoPose3D files + camera files); the camera
    files are read from ``cameras_dir`` (default: ``folder``)."""
    folder = Path(folder)
    ds = Dataset(positions_3d=load_3d(folder / f"data_3d_{name}.npz"))
    ds.positions_2d, _, extras = load_2d(folder / f"data_2d_{name}_gt.npz")
    ds.in_frame = extras.get("in_frame_2d", {})
    ds.visible = extras.get("visible_2d", {})
    noisy = folder / f"data_2d_{name}_noisy.npz"
    if noisy.exists():
        ds.noisy_2d, _, extras = load_2d(noisy)
        ds.confidence = extras.get("confidence_2d", {})
    tag_file = re.compile(rf"data_2d_{re.escape(name)}_({DETECTOR_TAG.pattern})\.npz")
    for p in sorted(folder.glob(f"data_2d_{name}_*.npz")):
        m = tag_file.fullmatch(p.name)
        if not m or m.group(1) in _NOT_DETECTORS:
            continue
        uv, meta, extras = load_2d(p)
        def ones(dtype):
            return {s: {a: [np.ones(v.shape[:2], dtype) for v in cams] for a, cams in acts.items()}
                    for s, acts in uv.items()}

        ds.detections[m.group(1)] = Detections(
            info=meta.get("detector", {}), uv=uv,
            confidence=extras.get("confidence_2d") or ones(np.float32),
            detected=extras.get("detected_2d") or ones(bool))
    cam_dir = Path(cameras_dir) if cameras_dir is not None else folder
    by_name = {c.name: c for c in read_camera_files(cam_dir)}
    for subject, acts in ds.positions_2d.items():
        for a, v in acts.items():
            missing = [camera_name(subject, a, c) for c in range(len(v))
                       if camera_name(subject, a, c) not in by_name]
            if missing:
                raise InputError(cam_dir / "camera_intrinsics.txt",
                                 f"no camera {missing[0]} (the 2D of {subject}/{a} has "
                                 f"{len(v)} cameras); are these this dataset's camera files?")
        ds.cameras[subject] = {a: [by_name[camera_name(subject, a, c)] for c in range(len(v))]
                               for a, v in acts.items()}
    return ds
