"""2D keypoints computed elsewhere, read as a per-frame timeline (``detector=file``).

:func:`read_2d` recognises the file and returns a :class:`File2D`: one ``(P_t, J, 3)``
float32 array (x, y px, score) per frame, in a layout the toolkit knows (``"coco"`` or
``"h36m"``). Frames without anybody stay in the timeline as ``(0, J, 3)`` arrays, and
so do gaps in a file's frame numbering. Formats (where the layout was read from):

``mmpose`` — MMPose prediction JSON (``demo/topdown_demo_with_mmdet.py --save-predictions``:
    ``{"meta_info": dataset_meta, "instance_info": [{"frame_id": 1, "instances": [...]}]}``
    for a video, frame ids from 1; for an image ``instance_info`` is the instance list
    itself; the inferencer's ``predictions/*.json`` is a bare instance list). An instance is
    ``mmpose/structures/utils.py: split_instances``: ``keypoints`` (K, 2), ``keypoint_scores``
    (K,), optionally ``bbox`` ``[[x1, y1, x2, y2]]`` and ``bbox_score``. json_tricks'
    ``{"__ndarray__": ...}`` encoding is accepted. K = 17: COCO, or H36M when
    ``meta_info.dataset_name`` says ``h36m``; COCO-WholeBody (133) and Halpe (26/136)
    start with the COCO-17 body, which is kept.
``openpose`` — an OpenPose ``--write_json`` folder: ``<name>_<frame:012d>_keypoints.json``
    per frame, ``people[].pose_keypoints_2d`` flat x, y, c; BODY_25 (75 values) or COCO-18
    (54) → COCO-17 through :data:`hpd3d.skeleton.BODY25_TO_COCO` / ``COCO18_TO_COCO``. One
    such file on its own is one frame.
``coco`` — COCO keypoints: a results list ``[{image_id, keypoints: [51], score}]``
    (frames = distinct image ids in increasing order; persons by decreasing ``score``;
    the third value of each keypoint is its score) or an annotations file
    ``{images, annotations}`` (frames = images ordered by file name, naturally, so
    ``frame_2`` < ``frame_10``; keypoint visibility v > 0 → score 1; crowd and
    keypoint-less annotations skipped; image size from ``images``).
``videopose3d`` — the toolkit's VideoPose3D 2D npz (:func:`hpd3d.formats.load_2d`):
    ``positions_2d[subject][action][camera]`` (T, J, 2); score from ``confidence_2d``
    when present, else 1, times ``in_frame_2d`` when present; layout from
    ``metadata['layout_name']`` or else from ``keypoints_symmetry``; image size from
    ``video_metadata`` under the camera's name (:func:`hpd3d.formats.camera_name`) or the
    subject's (VideoPose3D's custom-video files).

Any bad file raises :class:`hpd3d.errors.InputError` with a one-line problem.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hpd3d.errors import InputError
from hpd3d.formats import camera_name, load_2d
from hpd3d.skeleton import BODY25_TO_COCO, COCO, COCO18_TO_COCO, H36M, convert

__all__ = ["File2D", "read_2d"]

J = 17


@dataclass
class File2D:
    frames: list  # per frame a (P_t, J, 3) float32 array: x, y px, score
    layout: str  # "coco" | "h36m"
    width: int | None
    height: int | None
    fps: float | None
    source: str  # "mmpose" | "openpose" | "coco" | "videopose3d"
    image_sizes: list | None = field(default=None)  # per frame (w, h) where known
    names: list | None = field(default=None)  # per frame image/file name where known

    @property
    def num_frames(self) -> int:
        return len(self.frames)


def read_2d(path, *, subject=None, action=None, camera: int = 0) -> File2D:
    """Read 2D keypoints from any of the formats above (see the module docstring)."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file or folder")
    if path.is_dir():
        return _read_openpose_dir(path)
    if path.suffix.lower() == ".npz":
        return _read_videopose3d(path, subject, action, camera)
    if path.suffix.lower() != ".json":
        raise InputError(path, "unknown 2D input: expected a .json file, a VideoPose3D .npz "
                               "or an OpenPose JSON folder")
    data = _load_json(path)
    if isinstance(data, dict):
        if "instance_info" in data:
            return _read_mmpose(path, data["instance_info"], data.get("meta_info"))
        if "annotations" in data or "images" in data:
            return _read_coco_annotations(path, data)
        if "people" in data:
            return _openpose_file2d([_openpose_frame(path, data)], [path.name])
        raise InputError(path, f"unknown 2D JSON layout (top-level keys: "
                               f"{', '.join(map(str, list(data)[:8])) or 'none'})")
    if isinstance(data, list):
        if not data:
            raise InputError(path, "empty list: no frames")
        first = data[0]
        if isinstance(first, dict) and "instances" in first:
            return _read_mmpose(path, data, None)
        if isinstance(first, dict) and "image_id" in first:
            return _read_coco_results(path, data)
        if isinstance(first, dict) and "keypoint_scores" in first:
            return _read_mmpose(path, data, None)
        what = sorted(first) if isinstance(first, dict) else type(first).__name__
        raise InputError(path, f"unknown 2D JSON list (first item: {what})")
    raise InputError(path, f"unknown 2D JSON: top level is a {type(data).__name__}")


# --------------------------------------------------------------------------- helpers
def _load_json(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(path, f"cannot read: {e}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(path, f"not JSON: {e}") from None


def _untrick(x):
    """json_tricks' ``{"__ndarray__": data, "dtype", "shape"}`` → its data."""
    if isinstance(x, dict) and "__ndarray__" in x:
        return x["__ndarray__"]
    return x


def _array(path, where: str, values, shape_tail: tuple) -> np.ndarray:
    """Numeric, finite float32 array whose trailing shape is ``shape_tail`` (None = any)."""
    try:
        a = np.asarray(_untrick(values), dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(path, f"{where}: not a numeric array") from None
    tail = a.shape[a.ndim - len(shape_tail):] if a.ndim >= len(shape_tail) else None
    if tail is None or any(t is not None and t != s for t, s in zip(shape_tail, tail)):
        want = "(" + ", ".join("N" if s is None else str(s) for s in shape_tail) + ")"
        raise InputError(path, f"{where}: expected shape {want}, got {a.shape}")
    if not np.isfinite(a).all():
        raise InputError(path, f"{where}: non-finite value")
    return a.astype(np.float32)


def _stack(people: list, layout_j: int = J) -> np.ndarray:
    if not people:
        return np.zeros((0, layout_j, 3), np.float32)
    return np.stack(people).astype(np.float32)


def _timeline(path, numbered: dict, what: str) -> tuple[list, list]:
    """{frame number: frame} → frames from the first number to the last, gaps empty."""
    nums = sorted(numbered)
    if not nums:
        raise InputError(path, f"no {what}")
    empty = np.zeros((0, J, 3), np.float32)
    frames = [numbered.get(n, empty) for n in range(nums[0], nums[-1] + 1)]
    return frames, list(range(nums[0], nums[-1] + 1))


def _natural(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


# --------------------------------------------------------------------------- MMPose
_FIRST17 = ("coco_wholebody", "coco-wholebody", "halpe")


def _mmpose_layout(path, K: int, meta) -> tuple[str, int]:
    name = str(meta.get("dataset_name", "")).lower() if isinstance(meta, dict) else ""
    if K == J:
        return ("h36m" if "h36m" in name or "human3.6m" in name else "coco"), J
    if K in (26, 133, 136) and (not name or name.startswith(_FIRST17)):
        return "coco", J  # body part first, in COCO-17 order
    raise InputError(path, f"unknown keypoint layout: {K} keypoints"
                           f"{f' ({name})' if name else ''}; expected COCO-17 or H36M-17")


def _mmpose_instances(path, where: str, instances, meta, layout: dict) -> np.ndarray:
    if not isinstance(instances, list):
        raise InputError(path, f"{where}: expected a list of instances, got "
                               f"{type(instances).__name__}")
    people = []
    for i, inst in enumerate(instances):
        w = f"{where}[{i}]"
        if not isinstance(inst, dict) or "keypoints" not in inst:
            raise InputError(path, f"{w}: expected an instance with 'keypoints'")
        if "keypoint_scores" not in inst:
            raise InputError(path, f"{w}: no 'keypoint_scores'")
        kp = _array(path, f"{w}['keypoints']", inst["keypoints"], (None, None))
        if kp.ndim != 2 or kp.shape[1] != 2:
            raise InputError(path, f"{w}['keypoints']: expected (K, 2) image coordinates, "
                                   f"got shape {kp.shape}")
        sc = _array(path, f"{w}['keypoint_scores']", inst["keypoint_scores"], (None,))
        if sc.shape != (kp.shape[0],):
            raise InputError(path, f"{w}['keypoint_scores']: shape {sc.shape} does not match "
                                   f"{kp.shape[0]} keypoints")
        name, n = _mmpose_layout(path, kp.shape[0], meta)
        first_k = layout.setdefault("K", kp.shape[0])
        if layout.setdefault("name", name) != name or first_k != kp.shape[0]:
            raise InputError(path, f"{w}: {kp.shape[0]} keypoints, earlier instances have "
                                   f"{layout['K']}")
        people.append(np.concatenate([kp[:n], np.clip(sc[:n, None], 0.0, 1.0)], axis=1))
    return _stack(people)


def _read_mmpose(path, info, meta) -> File2D:
    if not isinstance(info, list):
        raise InputError(path, f"instance_info: expected a list, got {type(info).__name__}")
    if not info:
        raise InputError(path, "instance_info is empty: no frames")
    layout: dict = {}
    if isinstance(info[0], dict) and "instances" in info[0]:  # a video: frames
        numbered = {}
        for i, fr in enumerate(info):
            fid = fr.get("frame_id") if isinstance(fr, dict) else None
            if not isinstance(fid, int) or isinstance(fid, bool) or fid < 0:
                raise InputError(path, f"instance_info[{i}]: expected an integer 'frame_id' "
                                       f"≥ 0, got {fid!r}")
            if fid in numbered:
                raise InputError(path, f"instance_info[{i}]: frame_id {fid} appears twice")
            numbered[fid] = _mmpose_instances(path, f"instance_info[{i}]['instances']",
                                              fr.get("instances"), meta, layout)
        frames, ids = _timeline(path, numbered, "frames")
        names = [str(n) for n in ids]
    else:  # one image: the instance list itself
        frames, names = [_mmpose_instances(path, "instances", info, meta, layout)], None
    if not layout:
        raise InputError(path, "no person in any frame: cannot tell the keypoint layout")
    return File2D(frames, layout["name"], None, None, None, "mmpose", names=names)


# --------------------------------------------------------------------------- OpenPose
_OPENPOSE_NAME = re.compile(r"^(.*?)_?(\d+)_keypoints\.json$")
_OPENPOSE_MAPS = {75: ("BODY_25", BODY25_TO_COCO), 54: ("COCO-18", COCO18_TO_COCO)}


def _openpose_frame(path, data, kinds: set | None = None) -> np.ndarray:
    if not isinstance(data, dict) or not isinstance(data.get("people"), list):
        raise InputError(path, "not an OpenPose keypoints file (no 'people' list)")
    kinds = set() if kinds is None else kinds
    people = []
    for i, person in enumerate(data["people"]):
        flat = person.get("pose_keypoints_2d") if isinstance(person, dict) else None
        if flat is None:
            raise InputError(path, f"people[{i}]: no 'pose_keypoints_2d'")
        a = _array(path, f"people[{i}]['pose_keypoints_2d']", flat, (None,))
        if a.size == 0:
            continue  # body keypoints not written for this person
        if a.size not in _OPENPOSE_MAPS:
            raise InputError(path, f"people[{i}]['pose_keypoints_2d']: {a.size} values; "
                                   "expected 75 (BODY_25) or 54 (COCO-18)")
        kinds.add(a.size)
        if len(kinds) > 1:
            raise InputError(path, "BODY_25 and COCO-18 people mixed")
        kp = convert(a.reshape(-1, 3), _OPENPOSE_MAPS[a.size][1])
        kp[:, 2] = np.clip(kp[:, 2], 0.0, 1.0)
        people.append(kp)
    return _stack(people)


def _openpose_file2d(frames, names) -> File2D:
    return File2D(frames, "coco", None, None, None, "openpose", names=names)


def _read_openpose_dir(folder: Path) -> File2D:
    files = sorted(folder.glob("*_keypoints.json"))
    if not files:
        raise InputError(folder, "no OpenPose '*_keypoints.json' files in the folder")
    by_video: dict = {}
    for f in files:
        m = _OPENPOSE_NAME.match(f.name)
        if not m:
            raise InputError(f, "OpenPose file name without a frame number "
                                "(expected <name>_<frame>_keypoints.json)")
        by_video.setdefault(m.group(1), []).append((int(m.group(2)), f))
    if len(by_video) > 1:
        raise InputError(folder, f"OpenPose files of several videos: "
                                 f"{', '.join(sorted(by_video)[:5])}")
    numbered, kinds, named = {}, set(), {}
    for num, f in next(iter(by_video.values())):
        if num in numbered:
            raise InputError(f, f"frame {num} appears twice")
        numbered[num] = _openpose_frame(f, _load_json(f), kinds)
        named[num] = f.name
    frames, ids = _timeline(folder, numbered, "frames")
    return _openpose_file2d(frames, [named.get(n) for n in ids])


# --------------------------------------------------------------------------- COCO
def _coco_keypoints(path, where: str, values, visibility: bool) -> np.ndarray:
    a = _array(path, where, values, (None,))
    if a.size != 3 * J:
        raise InputError(path, f"{where}: {a.size} values; expected 51 (COCO-17 x, y, v)")
    kp = a.reshape(J, 3)
    kp[:, 2] = (kp[:, 2] > 0).astype(np.float32) if visibility else np.clip(kp[:, 2], 0.0, 1.0)
    return kp


def _read_coco_results(path, results: list) -> File2D:
    by_image: dict = {}
    for i, r in enumerate(results):
        if not isinstance(r, dict) or "image_id" not in r or "keypoints" not in r:
            raise InputError(path, f"[{i}]: expected a result with 'image_id' and 'keypoints'")
        kp = _coco_keypoints(path, f"[{i}]['keypoints']", r["keypoints"], visibility=False)
        score = r.get("score", 1.0)
        if not isinstance(score, (int, float)) or isinstance(score, bool):
            raise InputError(path, f"[{i}]['score']: expected a number, got {score!r}")
        by_image.setdefault(r["image_id"], []).append((-float(score), i, kp))
    try:
        ids = sorted(by_image)
    except TypeError:
        raise InputError(path, "image_id values of mixed types cannot be ordered") from None
    frames = [_stack([kp for _, _, kp in sorted(by_image[k], key=lambda t: t[:2])]) for k in ids]
    return File2D(frames, "coco", None, None, None, "coco", names=[str(k) for k in ids])


def _read_coco_annotations(path, data: dict) -> File2D:
    images, anns = data.get("images"), data.get("annotations")
    if not isinstance(images, list) or not images:
        raise InputError(path, "COCO annotations: 'images' is missing or empty")
    if not isinstance(anns, list):
        raise InputError(path, "COCO annotations: 'annotations' is missing or not a list")
    by_id = {}
    for i, im in enumerate(images):
        if not isinstance(im, dict) or "id" not in im:
            raise InputError(path, f"images[{i}]: no 'id'")
        if im["id"] in by_id:
            raise InputError(path, f"images[{i}]: id {im['id']!r} appears twice")
        by_id[im["id"]] = im
    people: dict = {k: [] for k in by_id}
    for i, a in enumerate(anns):
        if not isinstance(a, dict) or "image_id" not in a:
            raise InputError(path, f"annotations[{i}]: no 'image_id'")
        if a["image_id"] not in by_id:
            raise InputError(path, f"annotations[{i}]: image_id {a['image_id']!r} is not in images")
        if "keypoints" not in a or a.get("iscrowd", 0):
            continue
        kp = _coco_keypoints(path, f"annotations[{i}]['keypoints']", a["keypoints"],
                             visibility=True)
        if kp[:, 2].any():
            people[a["image_id"]].append(kp)
    if not any(people.values()):
        raise InputError(path, "COCO annotations: no annotation with keypoints")
    named = all(isinstance(im.get("file_name"), str) for im in images)
    order = sorted(by_id, key=lambda k: _natural(by_id[k]["file_name"])) if named else sorted(by_id)
    sizes = []
    for k in order:
        w, h = by_id[k].get("width"), by_id[k].get("height")
        ok = all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (w, h))
        sizes.append((w, h) if ok else None)
    same = sizes[0] if sizes[0] is not None and all(s == sizes[0] for s in sizes) else (None, None)
    return File2D([_stack(people[k]) for k in order], "coco", same[0], same[1], None, "coco",
                  image_sizes=sizes,
                  names=[by_id[k].get("file_name", str(k)) for k in order])


# --------------------------------------------------------------------------- VideoPose3D
def _pick(path, what: str, value, choices) -> str:
    choices = list(choices)
    if value is None:
        if len(choices) == 1:
            return choices[0]
        raise InputError(path, f"several {what}s ({', '.join(map(str, choices[:10]))}): "
                               f"choose one with {what}=")
    if value not in choices:
        raise InputError(path, f"no {what} {value!r} (has {', '.join(map(str, choices[:10]))})")
    return value


def _npz_layout(path, meta: dict, nj: int) -> str:
    name = meta.get("layout_name")
    if name is None:
        sym = meta.get("keypoints_symmetry")
        for skel in (H36M, COCO):
            if sym == skel.symmetry:
                name = skel.name
        if name is None:
            raise InputError(path, "metadata has no 'layout_name' and its keypoints_symmetry "
                                   "matches neither H36M-17 nor COCO-17")
    if name not in ("h36m", "coco") or nj != J:
        raise InputError(path, f"layout {name!r} with {nj} joints: expected h36m or coco, "
                               "17 joints")
    return name


def _read_videopose3d(path, subject, action, camera) -> File2D:
    positions, meta, extras = load_2d(path)
    s = _pick(path, "subject", subject, positions)
    a = _pick(path, "action", action, positions[s])
    cams = positions[s][a]
    if not isinstance(camera, int) or isinstance(camera, bool) or not 0 <= camera < len(cams):
        raise InputError(path, f"no camera {camera!r} for {s}/{a} (has {len(cams)})")
    layout = _npz_layout(path, meta, cams[camera].shape[1])
    xy = cams[camera]
    score = np.ones(xy.shape[:2], np.float32)
    if "confidence_2d" in extras:
        score = np.clip(np.asarray(extras["confidence_2d"][s][a][camera], np.float32), 0, 1)
        if score.shape != xy.shape[:2]:
            raise InputError(path, f"confidence_2d[{s!r}][{a!r}][{camera}]: shape "
                                   f"{score.shape}, expected {xy.shape[:2]}")
    if "in_frame_2d" in extras:
        score = score * np.asarray(extras["in_frame_2d"][s][a][camera], bool).reshape(score.shape)
    kp = np.concatenate([xy, score[..., None]], axis=-1).astype(np.float32)
    vm = meta.get("video_metadata", {})
    res = vm.get(camera_name(s, a, camera)) or vm.get(s)
    width, height = (res["w"], res["h"]) if res else (None, None)
    fps = meta.get("fps")
    ok = isinstance(fps, (int, float)) and not isinstance(fps, bool) and fps > 0
    fps = float(fps) if ok else None
    return File2D(list(kp[:, None]), layout, width, height, fps, "videopose3d")
