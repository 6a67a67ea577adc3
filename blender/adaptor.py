"""The Blender stage's output as a VideoPose3D-style dataset (numpy + hpd3d only; no bpy).

VideoPose3D and the code built on it (PoseFormer, MixSTE, MotionBERT's VideoPose3D
loaders …) read a ``MocapDataset``: ``dataset[subject][action]`` is a dict with
``'positions'`` (T, J, 3) world metres and ``'cameras'`` (a list of camera dicts),
``dataset.cameras()[subject]`` is the camera list by index, plus ``fps()``,
``skeleton()``, ``subjects()`` and ``supports_semi_supervised()``. Their 2D file is read
separately; ``data_2d_<name>_gt.npz`` already is in their format (``positions_2d``,
``metadata`` with ``keypoints_symmetry``), so :meth:`BlenderDataset.keypoints` only
loads it.

Camera dicts are exactly what VideoPose3D's ``Human36mDataset`` holds after its own
normalisation: ``center`` ``= c / w · 2 − [1, h / w]`` and ``focal_length`` ``= f / w · 2``
(both float32), ``orientation`` the camera→world quaternion ``(w, x, y, z)``,
``translation`` the camera centre in metres, ``radial_distortion`` (k1, k2, k3),
``tangential_distortion`` (p1, p2), ``intrinsic`` the 9-vector ``focal_length, center,
radial, tangential``, ``res_w``, ``res_h`` and ``id`` (our camera name). VideoPose3D's
``world_to_camera(positions, R=orientation, t=translation)`` then gives our camera
frame (OpenCV: x right, y down, z forward).

``cameras()`` is per subject, as VideoPose3D expects; every BVH file is one subject with
one action (``mocap``), so that is the action's camera list.

Usage (inside a VideoPose3D-style ``run.py``)::

    from blender.adaptor import BlenderDataset
    dataset = BlenderDataset("out/blender", "blender")
    keypoints, metadata = dataset.keypoints()
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np

from hpd3d import camera as cm
from hpd3d.dataset import read_dataset
from hpd3d.errors import InputError
from hpd3d.formats import load_2d
from hpd3d.skeleton import H36M

__all__ = ["Skeleton", "BlenderDataset", "videopose3d_camera"]


class Skeleton:
    """VideoPose3D's ``common.skeleton.Skeleton`` interface over a parent list."""

    def __init__(self, parents, joints_left, joints_right):
        assert len(joints_left) == len(joints_right)
        self._parents = np.array(parents)
        self._joints_left = list(joints_left)
        self._joints_right = list(joints_right)
        self._compute_metadata()

    def num_joints(self) -> int:
        return len(self._parents)

    def parents(self) -> np.ndarray:
        return self._parents

    def has_children(self) -> np.ndarray:
        return self._has_children

    def children(self) -> list[list[int]]:
        return self._children

    def joints_left(self) -> list[int]:
        return self._joints_left

    def joints_right(self) -> list[int]:
        return self._joints_right

    def remove_joints(self, joints_to_remove) -> list[int]:
        """Drop joints (children re-attach to the nearest kept ancestor); returns kept ones."""
        remove = set(int(j) for j in joints_to_remove)
        valid = [j for j in range(self.num_joints()) if j not in remove]
        parents = self._parents.copy()
        for j in range(len(parents)):
            while parents[j] in remove:
                parents[j] = parents[parents[j]]
        index = {j: k for k, j in enumerate(valid)}
        self._parents = np.array([index[parents[j]] if parents[j] >= 0 else -1 for j in valid])
        self._joints_left = [index[j] for j in self._joints_left if j in index]
        self._joints_right = [index[j] for j in self._joints_right if j in index]
        self._compute_metadata()
        return valid

    def _compute_metadata(self) -> None:
        n = len(self._parents)
        self._has_children = np.zeros(n, dtype=bool)
        self._children = [[] for _ in range(n)]
        for j, p in enumerate(self._parents):
            if p != -1:
                self._has_children[p] = True
                self._children[p].append(j)


def videopose3d_camera(cam: cm.Camera) -> dict:
    """A :class:`hpd3d.camera.Camera` as VideoPose3D's normalised camera dict."""
    h = cm.to_h36m(cam)
    w, hh = cam.width, cam.height
    out = {"id": cam.name, "res_w": w, "res_h": hh}
    out["center"] = (np.asarray(h["center"]) / w * 2 - [1, hh / w]).astype("float32")
    out["focal_length"] = (np.asarray(h["focal_length"]) / w * 2).astype("float32")
    out["radial_distortion"] = np.asarray(h["radial_distortion"], "float32")
    out["tangential_distortion"] = np.asarray(h["tangential_distortion"], "float32")
    out["orientation"] = np.asarray(h["orientation"], "float32")
    out["translation"] = (np.asarray(h["translation"]) / 1000.0).astype("float32")
    out["intrinsic"] = np.concatenate([out["focal_length"], out["center"],
                                       out["radial_distortion"], out["tangential_distortion"]])
    return out


class BlenderDataset:
    """``MocapDataset`` over ``<folder>/data_3d_<name>.npz`` + the camera files."""

    def __init__(self, folder, name: str = "blender", fps: float | None = None):
        self.folder, self.name = Path(folder), name
        ds = read_dataset(self.folder, name)
        self._in_frame = ds.in_frame
        record = self.folder / f"render_{name}.json"
        rates = []
        if record.is_file():
            seqs = json.loads(record.read_text())["sequences"]
            rates = sorted({round(s["fps"], 6) for s in seqs})
        if fps is None:
            if len(rates) > 1:
                raise InputError(record, f"sequences have different frame rates {rates}; "
                                         f"pass fps= explicitly")
            fps = rates[0] if rates else None
        self._fps = fps
        self._skeleton = Skeleton(H36M.parents, H36M.left, H36M.right)
        self._data, self._cameras = {}, {}
        for subject, acts in ds.positions_3d.items():
            self._data[subject] = {}
            per_action = {a: [videopose3d_camera(c) for c in ds.cameras[subject][a]] for a in acts}
            first = next(iter(per_action.values()))
            self._cameras[subject] = first
            for action, positions in acts.items():
                self._data[subject][action] = {"positions": positions,
                                               "cameras": per_action[action]}

    # ---- MocapDataset interface
    def fps(self):
        return self._fps

    def skeleton(self) -> Skeleton:
        return self._skeleton

    def cameras(self) -> dict:
        return self._cameras

    def subjects(self):
        return self._data.keys()

    def __getitem__(self, subject):
        return self._data[subject]

    def supports_semi_supervised(self) -> bool:
        return False

    def remove_joints(self, joints_to_remove) -> list[int]:
        kept = self._skeleton.remove_joints(joints_to_remove)
        for acts in self._data.values():
            for a in acts.values():
                if "positions" in a:
                    a["positions"] = a["positions"][:, kept]
        return kept

    # ---- extras
    def keypoints(self, kind: str = "gt") -> tuple[dict, dict]:
        """``(positions_2d, metadata)`` of ``data_2d_<name>_<kind>.npz`` (copies, float32)."""
        data, meta, _ = load_2d(self.folder / f"data_2d_{self.name}_{kind}.npz")
        return copy.deepcopy(data), meta

    def in_frame(self) -> dict:
        """``{subject: {action: [per camera (T, J) bool]}}``: keypoint inside the image."""
        return self._in_frame
