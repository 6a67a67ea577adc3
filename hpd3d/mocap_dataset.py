"""A dataset written by the toolkit as VideoPose3D's ``MocapDataset`` (numpy only, no bpy).

VideoPose3D's ``run.py`` (and MixSTE, KTPFormer, PoseFormer … which copy it) reads
``dataset[subject][action]`` (``'positions'`` (T, J, 3) world metres, ``'cameras'``),
``dataset.cameras()[subject]`` (camera dicts by index), ``skeleton()``, ``fps()``,
``subjects()`` and ``supports_semi_supervised()``, and normalises every 2D sequence with
its SUBJECT's camera: ``cam = dataset.cameras()[subject][cam_idx]``, then
``normalize_screen_coordinates(kps, w=cam['res_w'], h=cam['res_h'])`` — Human3.6M has one
fixed rig per subject. The synth stage samples cameras per SEQUENCE (its augmentation is
the point), so that code would normalise most sequences with another sequence's image
size and camera.

This adaptor makes that impossible: a subject whose sequences all share the same cameras
(Human3.6M-like data, and the Blender stage, where every BVH file is one subject with one
action) is exposed as it is; a subject whose sequences have different cameras is exposed
as one subject per sequence, keyed ``"<subject>/<action>"`` (the action key unchanged).
:meth:`MocapDataset.keypoints` returns the 2D keyed the same way, so ``run.py``'s loops and
``fetch`` see exactly one rig per subject key; :meth:`MocapDataset.subject_groups` maps
each original subject to its keys, for subject-level train/test splits (one actor never
on both sides).

Why here and not a fixed rig per subject in the synth stage: this is right for every
dataset already written (synth, Blender, merged shards) without regenerating it, and keeps
the synth stage's per-sequence cameras, each checked to see its own sequence; a rig shared
by a subject's sequences would have to see all of them, which a shard (holding some of
them) cannot check.

Camera dicts are what VideoPose3D's ``Human36mDataset`` holds after its normalisation:
``center = c / w · 2 − [1, h / w]``, ``focal_length = f / w · 2`` (float32),
``orientation`` the camera→world quaternion (w, x, y, z), ``translation`` the camera
centre in metres, ``radial_distortion`` (k1, k2, k3), ``tangential_distortion`` (p1, p2),
``intrinsic`` (9,), ``res_w``, ``res_h`` and ``id`` (the toolkit's camera name). Its
``world_to_camera(positions, R=orientation, t=translation)`` then gives the OpenCV camera
frame.

Usage (a dataset branch in a VideoPose3D-style ``run.py``)::

    from hpd3d.mocap_dataset import MocapDataset
    dataset = MocapDataset("out/augmented", "synth", cameras_dir="out/augmented")
    keypoints, metadata = dataset.keypoints()          # instead of np.load(data_2d_...)
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
from hpd3d.skeleton import Skeleton as _Tree

__all__ = ["MocapDataset", "VideoPose3DSkeleton", "videopose3d_camera"]


class VideoPose3DSkeleton:
    """VideoPose3D's ``common.skeleton.Skeleton`` interface (methods, mutable) over a
    :class:`hpd3d.skeleton.Skeleton`, which does the tree walks."""

    def __init__(self, tree: _Tree = H36M):
        self.tree = tree

    def num_joints(self) -> int:
        return self.tree.num_joints

    def parents(self) -> np.ndarray:
        return np.array(self.tree.parents)

    def has_children(self) -> np.ndarray:
        return self.tree.has_children

    def children(self) -> list[list[int]]:
        return self.tree.children

    def joints_left(self) -> list[int]:
        return list(self.tree.left)

    def joints_right(self) -> list[int]:
        return list(self.tree.right)

    def remove_joints(self, joints_to_remove) -> list[int]:
        """Drop joints (children re-attach to the nearest kept ancestor); returns kept ones."""
        self.tree, kept = self.tree.remove_joints(joints_to_remove)
        return kept


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


def _same_rig(a: list[cm.Camera], b: list[cm.Camera]) -> bool:
    """The same cameras by index (names aside: they carry the sequence's name)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if (x.model, x.width, x.height) != (y.model, y.width, y.height):
            return False
        if not all(np.array_equal(np.asarray(getattr(x, k)), np.asarray(getattr(y, k)))
                   for k in ("fx", "fy", "cx", "cy", "dist", "R", "C")):
            return False
    return True


class MocapDataset:
    """``MocapDataset`` over ``<folder>/data_3d_<name>.npz``, its 2D files and the camera
    files in ``cameras_dir`` (default ``folder``).

    ``fps``: the frame rate :meth:`fps` reports. Default: the rate every sequence shares
    (the Blender stage records it per sequence in ``render_<name>.json``); sequences of
    different rates (a render that kept each file's rate) load fine, each sequence dict
    holds its own ``'fps'``, and only :meth:`fps` asks for an explicit value.
    """

    def __init__(self, folder, name: str, *, cameras_dir=None, fps: float | None = None):
        self.folder, self.name = Path(folder), name
        ds = read_dataset(self.folder, name, cameras_dir)
        rates = self._rates(ds)
        self._fps_given, self._all_rates = fps, sorted(set(rates.values()) - {None})
        self._skeleton = VideoPose3DSkeleton(H36M)
        self._data, self._cameras, self._groups, self._key = {}, {}, {}, {}
        for subject, acts in ds.positions_3d.items():
            rigs = {a: ds.cameras[subject][a] for a in acts}
            first = next(iter(rigs.values()))
            whole = all(_same_rig(first, r) for r in rigs.values())
            self._groups[subject] = []
            for action, positions in acts.items():
                key = subject if whole else f"{subject}/{action}"
                self._key[(subject, action)] = key
                if key not in self._data:
                    self._data[key] = {}
                    self._groups[subject].append(key)
                    self._cameras[key] = [videopose3d_camera(c) for c in rigs[action]]
                self._data[key][action] = {"positions": positions,
                                           "cameras": self._cameras[key],
                                           "fps": rates.get((subject, action))}
        self._in_frame = self._rekey(ds.in_frame)

    def _rates(self, ds) -> dict:
        record = self.folder / f"render_{self.name}.json"
        if not record.is_file():
            return {}
        try:
            seqs = json.loads(record.read_text())["sequences"]
            return {(s["subject"], s["action"]): float(s["fps"]) for s in seqs}
        except (ValueError, KeyError, TypeError) as e:
            raise InputError(record, f"not a render record: {e}") from None

    def _rekey(self, nested: dict) -> dict:
        out = {}
        for subject, acts in nested.items():
            for action, v in acts.items():
                out.setdefault(self._key[(subject, action)], {})[action] = v
        return out

    # ---- MocapDataset interface
    def fps(self) -> float | None:
        if self._fps_given is not None:
            return self._fps_given
        if len(self._all_rates) > 1:
            raise InputError(self.folder / f"render_{self.name}.json",
                             f"sequences have different frame rates {self._all_rates}: pass "
                             f"fps= to MocapDataset, or read dataset[subject][action]['fps']")
        return self._all_rates[0] if self._all_rates else None

    def skeleton(self) -> VideoPose3DSkeleton:
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
    def subject_groups(self) -> dict:
        """``{subject in the files: [subject keys exposed here]}``: split by these."""
        return copy.deepcopy(self._groups)

    def keypoints(self, kind: str = "gt") -> tuple[dict, dict]:
        """``(positions_2d, metadata)`` of ``data_2d_<name>_<kind>.npz`` keyed as
        :meth:`subjects` (copies, float32): use these instead of loading the file."""
        data, meta, _ = load_2d(self.folder / f"data_2d_{self.name}_{kind}.npz")
        return self._rekey(copy.deepcopy(data)), meta

    def in_frame(self) -> dict:
        """``{subject: {action: [per camera (T, J) bool]}}``: keypoint inside the image."""
        return self._in_frame
