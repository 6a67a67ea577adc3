"""What ``infer`` writes. The run stages everything in a temporary folder beside ``out``
and swaps it in at the end (:class:`OutputFolder`), so a failed or interrupted run leaves
neither a partial file nor a half-written folder; single files also go through
:mod:`hpd3d.atomic`.

Files (``<name>`` is the input's stem):

``<name>.npz``
    ``keypoints_2d`` (T, 17, 2) px H36M-17 as lifted (after gap filling and 2D smoothing),
    ``keypoints_2d_raw`` (T, 17, 2) px before smoothing, ``confidence`` (T, 17),
    ``detected`` (T,) bool, ``frame_index`` (T,) source frame numbers,
    ``pose_cam_rootrel`` (T, 17, 3) m camera frame root-relative, ``pose_cam`` (T, 17, 3) m
    camera frame absolute, ``pose_world`` (T, 17, 3) m world Z-up ground z = 0,
    ``contacts`` (T, 2) bool [right ankle, left ankle], ``R_world_cam`` (3, 3),
    ``t_world_cam`` (3,) (world = R · cam + t), ``bone_lengths`` (16,), ``fps``,
    ``image_size`` (W, H), ``intrinsics`` K (3, 3), ``intrinsics_source``, ``detector``,
    ``lifter``, ``layout`` ("h36m"), ``config`` (the run's yaml).
``X3D.npy``
    (T, 17, 3) float32 in the convention of MotionBERT's ``infer_wild.py`` (which saves
    ``X3D.npy`` before its optional ``--pixel`` conversion): H36M-17, camera frame (x right,
    y down, z forward), in MotionBERT's normalised screen units — the 2D keypoints scaled by
    ``WildDetDataset(scale_range=[1, 1])``'s ``crop_scale`` (the bounding square of all
    keypoints, here over the whole clip rather than per 243-frame clip, mapped to [−1, 1])
    and depth in the same units, the first frame's root at z = 0 (the ``global`` models'
    convention). Here x, y are the projection of our placed 3D skeleton and z its depth
    relative to the first frame's root, times ``f / Z_root`` (pixels at the subject's
    distance) in those units. ``X3D * min(W, H) / 2 + [W / 2, H / 2, 0]`` is its ``--pixel``.
``<name>.bvh``, ``<name>_overlay.mp4``, ``<name>_skeleton.mp4``, ``<name>_report.json``,
``<name>_report.png``, ``infer.json`` (inputs, timings, files).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np

from hpd3d import atomic
from hpd3d.errors import InputError
from hpd3d.skeleton import H36M

MARKER = ".hpd3d-infer"  # a folder holding this was written by infer: a run may replace it


# -- the output folder ---------------------------------------------------------------
class OutputFolder:
    """``out`` is owned by the run: checked first, staged in a temporary sibling folder,
    swapped in by :meth:`commit`; :meth:`discard` (or an exception) leaves no trace."""

    def __init__(self, out):
        self.out = Path(out)
        self.tmp: Path | None = None
        self._made: list[Path] = []

    def check(self) -> None:
        out = self.out
        if out.exists() and not out.is_dir():
            raise InputError(out, "exists and is a file; out= must name a folder")
        if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
            raise InputError(out, "exists and holds files infer did not write; "
                                  "choose another out= or empty it")
        anc = out.parent
        while not anc.exists():
            anc = anc.parent
        if not anc.is_dir() or not os.access(anc, os.W_OK | os.X_OK):
            raise InputError(out, f"cannot write here ({anc} is not a writable folder)")

    def open(self) -> Path:
        self.check()
        parents = []
        p = self.out.parent
        while not p.exists():
            parents.append(p)
            p = p.parent
        try:
            for d in reversed(parents):
                d.mkdir()
                self._made.append(d)
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".tmp",
                                             dir=self.out.parent))
        except OSError as e:
            self.discard()
            raise InputError(self.out, f"cannot write here: {e.strerror or e}") from None
        (self.tmp / MARKER).write_text("written by python -m infer\n")
        return self.tmp

    def commit(self) -> Path:
        old = None
        if self.out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".old",
                                        dir=self.out.parent))
            os.rmdir(old)
            os.replace(self.out, old)
        os.replace(self.tmp, self.out)
        self.tmp = None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.out

    def discard(self) -> None:
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        for d in reversed(self._made):
            with contextlib.suppress(OSError):
                d.rmdir()
        self._made = []


# -- arrays -----------------------------------------------------------------------------
def write_npz(path, **arrays) -> None:
    atomic.savez(path, **arrays)


def motionbert_x3d(pose_cam: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Camera-frame metres (T, 17, 3) → MotionBERT ``X3D.npy`` units (see the module doc)."""
    X = np.asarray(pose_cam, np.float64)
    z = np.maximum(X[..., 2], 1e-6)
    f = float(K[0, 0])
    u = f * X[..., 0] / z + K[0, 2]
    v = f * X[..., 1] / z + K[1, 2]
    xmin, xmax, ymin, ymax = u.min(), u.max(), v.min(), v.max()
    scale = max(xmax - xmin, ymax - ymin, 1e-9)
    xs, ys = (xmin + xmax - scale) / 2, (ymin + ymax - scale) / 2
    out = np.empty_like(X)
    out[..., 0] = ((u - xs) / scale - 0.5) * 2
    out[..., 1] = ((v - ys) / scale - 0.5) * 2
    zroot = z[:, :1]
    out[..., 2] = (X[..., 2] - X[0, 0, 2]) * f / zroot / scale * 2
    return out.astype(np.float32)


def write_npy(path, a: np.ndarray) -> None:
    with atomic.atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, a)


# -- drawing ------------------------------------------------------------------------------
_BONES = H36M.bones
_LEFT = {4, 5, 6, 11, 12, 13}
_RIGHT = {1, 2, 3, 14, 15, 16}
_COL_L, _COL_R, _COL_C = (255, 140, 0), (0, 120, 255), (230, 230, 230)  # BGR


def _bone_colour(c: int):
    return _COL_L if c in _LEFT else _COL_R if c in _RIGHT else _COL_C


class VideoWriter:
    """cv2 ``mp4v`` MPEG-4 writer into a temporary name, renamed on :meth:`close`.

    ``threaded=True``: :meth:`submit` hands ``(fn, args)`` to a writer thread that renders
    the frame (``fn(*args)`` → BGR) and encodes it, so drawing and encoding overlap with the
    caller's work (OpenCV releases the GIL); a few frames are queued at most."""

    def __init__(self, path, fps: float, size: tuple[int, int], codec: str = "mp4v",
                 threaded: bool = False, queue_size: int = 8):
        self.path = Path(path)
        self._ctx = atomic.atomic_path(self.path, suffix=self.path.suffix)
        self._tmp = self._ctx.__enter__()
        self._w = cv2.VideoWriter(str(self._tmp), cv2.VideoWriter_fourcc(*codec), float(fps),
                                  (int(size[0]), int(size[1])))
        if not self._w.isOpened():
            self._ctx.__exit__(RuntimeError, RuntimeError("writer"), None)
            raise InputError(self.path, f"OpenCV cannot write {codec!r} video here")
        self.size = (int(size[0]), int(size[1]))
        self._q = self._thread = None
        self._error: BaseException | None = None
        if threaded:
            import queue
            import threading

            self._q = queue.Queue(maxsize=queue_size)
            self._thread = threading.Thread(target=self._work, name="video-writer", daemon=True)
            self._thread.start()

    def _work(self):
        while True:
            item = self._q.get()
            if item is None:
                return
            if self._error is not None:
                continue  # drain
            try:
                fn, args = item
                self._w.write(fn(*args))
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller
                self._error = e

    def write(self, bgr: np.ndarray) -> None:
        self._w.write(bgr)

    def submit(self, fn, *args) -> None:
        if self._q is None:
            self._w.write(fn(*args))
            return
        if self._error is not None:
            raise self._error
        self._q.put((fn, args))

    def _join(self):
        if self._thread is not None:
            self._q.put(None)
            self._thread.join()
            self._thread = None

    def close(self) -> None:
        self._join()
        self._w.release()
        if self._error is not None:
            self._ctx.__exit__(type(self._error), self._error, None)
            raise self._error
        self._ctx.__exit__(None, None, None)

    def abort(self) -> None:
        self._error = self._error or RuntimeError("aborted")
        self._join()
        self._w.release()
        with contextlib.suppress(Exception):
            self._ctx.__exit__(RuntimeError, RuntimeError("aborted"), None)


def draw_2d(bgr: np.ndarray, kp: np.ndarray | None, layout: str = "h36m",
            min_score: float = 0.1) -> np.ndarray:
    """Draw a 2D skeleton (J, 3) x, y, score on a BGR frame (in place); None: "no person"."""
    h, w = bgr.shape[:2]
    t = max(1, round(max(h, w) / 320))
    if kp is None:
        cv2.putText(bgr, "no person", (8, 12 + 8 * t), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * t,
                    (0, 0, 255), t, cv2.LINE_AA)
        return bgr
    from hpd3d.skeleton import COCO

    bones = _BONES if layout == "h36m" else COCO.bones
    left = _LEFT if layout == "h36m" else set(COCO.left)
    right = _RIGHT if layout == "h36m" else set(COCO.right)
    p = kp[:, :2]
    s = kp[:, 2] if kp.shape[1] > 2 else np.ones(len(kp))
    for a, b in bones:
        if min(s[a], s[b]) < min_score or not np.isfinite(p[[a, b]]).all():
            continue
        col = _COL_L if b in left else _COL_R if b in right else _COL_C
        cv2.line(bgr, tuple(np.round(p[a]).astype(int)), tuple(np.round(p[b]).astype(int)),
                 col, t, cv2.LINE_AA)
    for j in range(len(p)):
        if s[j] >= min_score and np.isfinite(p[j]).all():
            cv2.circle(bgr, tuple(np.round(p[j]).astype(int)), t + 1, (0, 255, 0), -1, cv2.LINE_AA)
    return bgr


def overlay_size(w: int, h: int, max_side: int) -> tuple[int, int, float]:
    """Output size of the overlay video (the longer side at most ``max_side``; even)."""
    s = min(1.0, max_side / max(w, h)) if max_side else 1.0
    return int(round(w * s / 2)) * 2, int(round(h * s / 2)) * 2, s


class SkeletonVideo:
    """A fast 3D view: the world skeleton (metres, Z up) drawn with cv2 from the front
    (x–z) and the side (y–z) side by side, ground line at z = 0, planted feet marked."""

    def __init__(self, world: np.ndarray, panel: int = 360):
        self.panel = panel
        lo = world.reshape(-1, 3).min(0)
        hi = world.reshape(-1, 3).max(0)
        span = float(max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - min(lo[2], 0.0), 1.0)) * 1.1
        self.scale = panel / span
        self.centre = (lo + hi) / 2
        self.zmin = min(lo[2], 0.0)

    def _to_px(self, x, z):
        u = (x * self.scale + self.panel / 2).astype(int)
        v = (self.panel - 10 - (z - self.zmin) * self.scale * 0.95).astype(int)
        return u, v

    def frame(self, pose: np.ndarray, contacts=None, label: str = "") -> np.ndarray:
        P = self.panel
        img = np.full((P, 2 * P, 3), 32, np.uint8)
        for k, (ax, name) in enumerate(((0, "front (x-z)"), (1, "side (y-z)"))):
            x = pose[:, ax] - self.centre[ax]
            u, v = self._to_px(x, pose[:, 2])
            u = u + k * P
            g = self._to_px(np.zeros(1), np.zeros(1))[1][0]
            cv2.line(img, (k * P, g), (k * P + P - 1, g), (90, 90, 90), 1)
            for a, b in _BONES:
                cv2.line(img, (u[a], v[a]), (u[b], v[b]), _bone_colour(b), 2, cv2.LINE_AA)
            if contacts is not None:
                for j, c in zip((3, 6), contacts):
                    if c:
                        cv2.circle(img, (u[j], v[j]), 5, (0, 255, 255), 1, cv2.LINE_AA)
            cv2.putText(img, name, (k * P + 6, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                        (200, 200, 200), 1, cv2.LINE_AA)
        if label:
            cv2.putText(img, label, (6, P - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (200, 200, 200),
                        1, cv2.LINE_AA)
        return img
