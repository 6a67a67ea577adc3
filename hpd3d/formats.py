"""Pose file formats: VideoPose3D npz (3D and 2D), MMPose's H36M npz and ``cameras.pkl``.

Every reader raises :class:`~hpd3d.errors.InputError` naming the file and what is wrong
where (a missing file, not an npz archive, a missing key, a wrong structure, a wrong
shape, a NaN); every writer validates first and then writes atomically
(:mod:`hpd3d.atomic`), so a failed write leaves neither the file nor a temporary behind.

VideoPose3D (``facebookresearch/VideoPose3D``)
    ``data_3d_<name>.npz``: ``positions_3d`` = 0-d object array holding
    ``{subject: {action: (T, J, 3) float32}}``, metres, world frame (Z up).
    ``data_2d_<name>_gt.npz`` / ``data_2d_<name>_<detector>.npz``: ``positions_2d`` =
    ``{subject: {action: [per camera (T, J, 2) float32 px]}}`` and ``metadata`` =
    ``{'num_joints': J, 'keypoints_symmetry': [left, right]}``; custom files add
    ``'layout_name'`` and ``'video_metadata' = {video: {'w': W, 'h': H}}``. Per-camera
    extras (``in_frame_2d`` bool (T, J), ``confidence_2d`` float32 (T, J), …) are further
    keys with the same nesting, never sentinel values. VideoPose3D loads these with
    ``np.load(path, allow_pickle=True)[key].item()``; we read them with a restricted
    unpickler that only rebuilds numpy arrays/scalars and plain containers.

MMPose H36M (``open-mmlab/mmpose``: ``tools/dataset_converters/preprocess_h36m.py``
writes it with ``np.savez``; ``mmpose/datasets/datasets/base/base_mocap_dataset.py``
reads it with ``np.load`` *without* ``allow_pickle`` for ``Human36mDataset``)
    ``imgname`` (N,) unicode str, e.g. ``S1/S1_Directions_1.54138969/S1_Directions_1.54138969_000001.jpg``
    (``Human36mDataset._parse_h36m_imgname`` splits the basename into subject
    ``S1``, action ``Directions_1`` and camera id ``54138969``);
    ``center`` (N, 2) float64 px, bbox centre; ``scale`` (N,) float64,
    ``1.2 · max(bbox w, h) / 200`` (bbox of the 2D keypoints);
    ``part`` (N, 17, 3) float64: x, y in pixels (H36M ``D2_Positions``) and a visibility
    column of ones; ``S`` (N, 17, 4) float64: x, y, z in **metres in the camera frame**
    (H36M ``D3_Positions_mono`` / 1000: OpenCV axes, x right, y down, z forward) and a
    visibility column of ones. Both are H36M-17 (the 32 → 17 ``movable_joints`` 0, 1, 2,
    3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27). The dataset casts everything to
    float32 on load.

MMPose ``cameras.pkl`` (same converter, ``generate_cameras_file``)
    A pickled dict keyed ``(subject, camera_id)``, both ``str``: ``('S1', '54138969')``,
    11 subjects × 4 cameras. Each value: ``R`` (3, 3) float64, ``T`` (3, 1) float64 in
    metres, ``f`` (2, 1), ``c`` (2, 1) px, ``k`` (3, 1), ``p`` (2, 1), ``w``, ``h`` int,
    ``name`` (``'camera1'`` …) and ``id`` (the camera id str). MMPose's
    ``SimpleCamera`` (``mmpose/utils/camera.py``) reads ``R`` as camera-to-world and
    ``T`` as the camera centre in world: ``X_cam = Rᵀ (X_world − T)``.
"""

from __future__ import annotations

import importlib
import pickle
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .atomic import savez, write_bytes
from .errors import InputError, reason

__all__ = [
    "save_3d", "load_3d", "save_2d", "load_2d",
    "save_mmpose_h36m", "load_mmpose_h36m", "mmpose_bbox",
    "save_mmpose_cameras", "load_mmpose_cameras",
]

# --------------------------------------------------------------------------- safe pickle

# Only what numpy arrays/scalars need; dict, list, tuple, str, int, float, bool, None and
# bytes are pickle opcodes and need no class at all.
_NUMPY_ALLOWED = {
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("multiarray", "_reconstruct"), ("multiarray", "scalar"), ("numeric", "_frombuffer"),
}
_NUMPY_CORE = "numpy._core" if int(np.__version__.split(".")[0]) >= 2 else "numpy.core"


class _SafeUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays/scalars, nothing else."""

    def find_class(self, module, name):
        if module in ("numpy.core.multiarray", "numpy._core.multiarray",
                      "numpy.core.numeric", "numpy._core.numeric"):
            sub = module.rsplit(".", 1)[1]
            if (sub, name) in _NUMPY_ALLOWED:
                # Pickles written by numpy 2 name numpy._core, by numpy 1 numpy.core.
                return getattr(importlib.import_module(f"{_NUMPY_CORE}.{sub}"), name)
        elif (module, name) in _NUMPY_ALLOWED:
            return getattr(np, name)
        elif (module, name) in (("collections", "OrderedDict"), ("_codecs", "encode")):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")


def _unpickle(path, f):
    try:
        return _SafeUnpickler(f).load()
    except pickle.UnpicklingError as e:
        raise InputError(path, f"not a plain pickle of numpy arrays: {e}") from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            ImportError, MemoryError, OSError, zlib.error, zipfile.BadZipFile) as e:
        raise InputError(path, f"corrupt pickle: {type(e).__name__}: {e}") from None


# --------------------------------------------------------------------------- npz reading


def _check_file(path) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    if not path.is_file():
        raise InputError(path, "not a file")
    return path


class _Npz:
    """Read members of an npz without trusting it (object arrays via the safe unpickler)."""

    def __init__(self, path):
        self.path = _check_file(path)
        if not zipfile.is_zipfile(self.path):
            raise InputError(self.path, "not an npz archive (not a zip file)")
        try:
            self.zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as e:
            raise InputError(self.path, f"not a readable npz archive: {reason(e)}") from None
        self.keys = [n[:-4] for n in self.zip.namelist() if n.endswith(".npy")]

    def close(self):
        self.zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def require(self, key):
        if key not in self.keys:
            raise InputError(self.path, f"no {key!r} array (keys: {', '.join(self.keys) or 'none'})")

    def array(self, key) -> np.ndarray:
        """A non-object array; an object array is an error."""
        self.require(key)
        dtype = self._dtype(key)
        if dtype.hasobject:
            raise InputError(self.path, f"{key!r} is an object (pickled) array, expected plain data")
        try:
            with self.zip.open(key + ".npy") as f:
                return np.lib.format.read_array(f, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as e:
            raise InputError(self.path, f"{key!r}: corrupt array: {e}") from None

    def item(self, key):
        """The Python object held in a 0-d object array (VideoPose3D's ``.item()``)."""
        self.require(key)
        dtype = self._dtype(key)
        if not dtype.hasobject:
            raise InputError(self.path, f"{key!r} is a {dtype} array, expected a pickled dict")
        try:
            with self.zip.open(key + ".npy") as f:
                self._header(f)
                arr = _unpickle(self.path, f)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as e:
            raise InputError(self.path, f"{key!r}: corrupt member: {e}") from None
        if not isinstance(arr, np.ndarray) or arr.shape != ():
            shape = getattr(arr, "shape", None)
            raise InputError(self.path, f"{key!r} is not a 0-d object array (shape {shape})")
        return arr[()]

    def _dtype(self, key) -> np.dtype:
        try:
            with self.zip.open(key + ".npy") as f:
                return self._header(f)[2]
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as e:
            raise InputError(self.path, f"{key!r}: corrupt npy header: {e}") from None

    @staticmethod
    def _header(f):
        fmt = np.lib.format
        version = fmt.read_magic(f)
        if version == (1, 0):
            return fmt.read_array_header_1_0(f)
        if version == (2, 0):
            return fmt.read_array_header_2_0(f)
        return fmt._read_array_header(f, version)


# --------------------------------------------------------------------------- validation


def _where(*keys) -> str:
    return keys[0] + "".join(f"[{k!r}]" for k in keys[1:])


def _check_finite(path, where, a):
    if a.dtype.kind == "f":
        bad = ~np.isfinite(a)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise InputError(path, f"{where}: non-finite value {a[idx]} at index {idx}")


def _pose_array(path, where, a, coord: int, num_joints: dict) -> np.ndarray:
    """Check one (T, J, coord) pose array; return it as float32. ``num_joints`` holds the
    first J seen (and where) so every array in a file must agree."""
    if not isinstance(a, np.ndarray):
        raise InputError(path, f"{where}: expected a numpy array, got {type(a).__name__}")
    if a.dtype.kind not in "fiu":
        raise InputError(path, f"{where}: expected a numeric array, got dtype {a.dtype}")
    if a.ndim != 3 or a.shape[2] != coord:
        raise InputError(path, f"{where}: expected shape (T, J, {coord}), got {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise InputError(path, f"{where}: empty array of shape {a.shape}")
    if "J" not in num_joints:
        num_joints.update(J=a.shape[1], where=where)
    elif a.shape[1] != num_joints["J"]:
        raise InputError(path, f"{where}: {a.shape[1]} joints, but "
                               f"{num_joints['where']} has {num_joints['J']}")
    _check_finite(path, where, a)
    with np.errstate(over="ignore"):
        out = a.astype(np.float32, copy=False)
    _check_finite(path, where, out)  # float64 beyond float32's range
    return out


def _nested_dict(path, where, d, what: str) -> dict:
    if not isinstance(d, dict):
        raise InputError(path, f"{where}: expected a dict {what}, got {type(d).__name__}")
    if not d:
        raise InputError(path, f"{where}: empty (no {what.split()[-1]})")
    for k in d:
        if not isinstance(k, str):
            raise InputError(path, f"{where}: key {k!r} is not a str")
    return d


def _check_3d(path, positions) -> dict:
    out, nj = {}, {}
    for s, actions in _nested_dict(path, "positions_3d", positions, "of subjects").items():
        _nested_dict(path, _where("positions_3d", s), actions, "of actions")
        out[s] = {a: _pose_array(path, _where("positions_3d", s, a), arr, 3, nj)
                  for a, arr in actions.items()}
    return out


def _check_2d(path, positions) -> tuple[dict, int]:
    out, nj = {}, {}
    for s, actions in _nested_dict(path, "positions_2d", positions, "of subjects").items():
        _nested_dict(path, _where("positions_2d", s), actions, "of actions")
        out[s] = {}
        for a, cams in actions.items():
            w = _where("positions_2d", s, a)
            if not isinstance(cams, (list, tuple)):
                raise InputError(path, f"{w}: expected a list of per-camera arrays, "
                                       f"got {type(cams).__name__}")
            if not cams:
                raise InputError(path, f"{w}: empty list (no cameras)")
            out[s][a] = [_pose_array(path, f"{w}[{c}]", arr, 2, nj) for c, arr in enumerate(cams)]
    return out, nj["J"]


def _check_extra(path, name, extra, positions) -> dict:
    """An extra per-camera array set: same nesting as positions_2d, shape[:2] == (T, J)."""
    if not isinstance(extra, dict) or set(extra) != set(positions):
        got = sorted(extra) if isinstance(extra, dict) else type(extra).__name__
        raise InputError(path, f"{name}: subjects {got} do not match positions_2d's "
                               f"{sorted(positions)}")
    out = {}
    for s, actions in positions.items():
        ex = extra[s]
        if not isinstance(ex, dict) or set(ex) != set(actions):
            got = sorted(ex) if isinstance(ex, dict) else type(ex).__name__
            raise InputError(path, f"{_where(name, s)}: actions {got} do not match "
                                   f"positions_2d's {sorted(actions)}")
        out[s] = {}
        for a, cams in actions.items():
            w = _where(name, s, a)
            ecams = ex[a]
            if not isinstance(ecams, (list, tuple)) or len(ecams) != len(cams):
                n = len(ecams) if isinstance(ecams, (list, tuple)) else type(ecams).__name__
                raise InputError(path, f"{w}: {n} cameras, positions_2d has {len(cams)}")
            out[s][a] = []
            for c, (e, p) in enumerate(zip(ecams, cams)):
                wc = f"{w}[{c}]"
                if not isinstance(e, np.ndarray):
                    raise InputError(path, f"{wc}: expected a numpy array, got {type(e).__name__}")
                if e.dtype.kind not in "biuf":
                    raise InputError(path, f"{wc}: expected a bool or numeric array, got {e.dtype}")
                if e.shape[:2] != p.shape[:2] or e.ndim < 2:
                    raise InputError(path, f"{wc}: shape {e.shape} does not match the 2D "
                                           f"keypoints' (T, J) = {p.shape[:2]}")
                _check_finite(path, wc, e)
                if e.dtype.kind == "f":
                    with np.errstate(over="ignore"):
                        e = e.astype(np.float32, copy=False)
                    _check_finite(path, wc, e)
                out[s][a].append(e)
    return out


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _check_metadata(path, metadata, num_joints: int) -> dict:
    if not isinstance(metadata, dict):
        raise InputError(path, f"metadata: expected a dict, got {type(metadata).__name__}")
    for key in ("num_joints", "keypoints_symmetry"):
        if key not in metadata:
            raise InputError(path, f"metadata: no {key!r}")
    out = dict(metadata)
    nj = metadata["num_joints"]
    if not _is_int(nj) or nj != num_joints:
        raise InputError(path, f"metadata['num_joints'] = {nj!r}, but the 2D arrays have "
                               f"{num_joints} joints")
    out["num_joints"] = int(nj)
    sym = metadata["keypoints_symmetry"]
    if (not isinstance(sym, (list, tuple)) or len(sym) != 2
            or not all(isinstance(side, (list, tuple, np.ndarray)) for side in sym)):
        raise InputError(path, "metadata['keypoints_symmetry']: expected [left, right] lists")
    left, right = (list(side) for side in sym)
    if not all(_is_int(i) and 0 <= i < num_joints for i in left + right):
        raise InputError(path, f"metadata['keypoints_symmetry']: indices must be ints in "
                               f"[0, {num_joints}), got {[left, right]}")
    if len(left) != len(right) or set(left) & set(right):
        raise InputError(path, "metadata['keypoints_symmetry']: left and right must pair up "
                               f"and be disjoint, got {[left, right]}")
    out["keypoints_symmetry"] = [[int(i) for i in left], [int(i) for i in right]]
    for k, v in metadata.items():
        _check_plain(path, f"metadata[{k!r}]", v)
    if "layout_name" in metadata and not isinstance(metadata["layout_name"], str):
        raise InputError(path, f"metadata['layout_name']: expected a str, "
                               f"got {type(metadata['layout_name']).__name__}")
    if "video_metadata" in metadata:
        vm = metadata["video_metadata"]
        if not isinstance(vm, dict):
            raise InputError(path, "metadata['video_metadata']: expected a dict "
                                   "{video: {'w': W, 'h': H}}")
        out["video_metadata"] = {}
        for video, res in vm.items():
            w = f"metadata['video_metadata'][{video!r}]"
            if not isinstance(video, str) or not isinstance(res, dict):
                raise InputError(path, f"{w}: expected a str key and a {{'w', 'h'}} dict")
            for k in ("w", "h"):
                if not _is_int(res.get(k)) or res[k] <= 0:
                    raise InputError(path, f"{w}[{k!r}]: expected a positive int, "
                                           f"got {res.get(k)!r}")
            out["video_metadata"][video] = {**res, "w": int(res["w"]), "h": int(res["h"])}
    return out


def _check_plain(path, where, x) -> None:
    """Values the safe unpickler can read back: containers, scalars, numeric arrays."""
    if x is None or isinstance(x, (str, bytes, bool, int, float, np.generic)):
        return
    if isinstance(x, np.ndarray) and not x.dtype.hasobject:
        return
    if isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            _check_plain(path, f"{where}[{i}]", v)
        return
    if isinstance(x, dict):
        for k, v in x.items():
            _check_plain(path, f"{where}[{k!r}]", v)
        return
    raise InputError(path, f"{where}: cannot store a {type(x).__name__} "
                           "(only containers, numbers, str and numeric arrays)")


def _canonical(x):
    """``x`` with every array's dtype the builtin singleton and every str interned.

    Pickle writes an object it has seen before (by identity) as a back-reference; an
    unpickled array carries its own dtype object and an unpickled str is a new object
    per occurrence, so without this the same content read back and written again (as
    ``synth.merge`` does) would pickle to other bytes."""
    if isinstance(x, str):
        return sys.intern(x)
    if isinstance(x, np.ndarray) and not x.dtype.hasobject:
        return x.view(np.dtype(x.dtype.str)) if x.dtype.names is None else x
    if isinstance(x, dict):
        return {_canonical(k): _canonical(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_canonical(v) for v in x)
    return x


def _obj(x) -> np.ndarray:
    """A 0-d object array holding ``x`` (VideoPose3D's ``.item()`` layout); the same
    content always pickles to the same bytes."""
    o = np.empty((), dtype=object)
    o[()] = _canonical(x)
    return o


# --------------------------------------------------------------------------- VideoPose3D 3D


def save_3d(path, positions: dict) -> None:
    """Write VideoPose3D's ``data_3d_<name>.npz``: ``{subject: {action: (T, J, 3)}}``
    metres, world frame; stored float32. Validates everything before writing."""
    data = _check_3d(path, positions)
    savez(path, positions_3d=_obj(data))


def load_3d(path) -> dict:
    """Read ``data_3d_<name>.npz`` → ``{subject: {action: (T, J, 3) float32}}``."""
    with _Npz(path) as z:
        return _check_3d(z.path, z.item("positions_3d"))


# --------------------------------------------------------------------------- VideoPose3D 2D

_RESERVED_2D = ("positions_2d", "metadata")


def save_2d(path, positions_2d: dict, metadata: dict, extras: dict | None = None) -> None:
    """Write ``data_2d_<name>_<gt|detector>.npz``.

    ``positions_2d = {subject: {action: [per camera (T, J, 2) px]}}`` (stored float32,
    never rounded); ``metadata`` needs ``num_joints`` (= J) and ``keypoints_symmetry``
    ``[left, right]``, optionally ``layout_name`` and ``video_metadata``
    ``{video: {'w', 'h'}}``. ``extras = {key: nested}`` are more per-camera arrays with
    the same nesting and shape[:2] == (T, J), e.g. ``in_frame_2d`` (bool) and
    ``confidence_2d`` (float32), each stored under its own key.
    """
    data, nj = _check_2d(path, positions_2d)
    meta = _check_metadata(path, metadata, nj)
    arrays = {"positions_2d": _obj(data), "metadata": _obj(meta)}
    for name, extra in (extras or {}).items():
        if not isinstance(name, str) or not name.isidentifier() or name in _RESERVED_2D:
            raise InputError(path, f"extras: invalid key {name!r}")
        arrays[name] = _obj(_check_extra(path, name, extra, data))
    savez(path, **arrays)


def load_2d(path) -> tuple[dict, dict, dict]:
    """Read a VideoPose3D 2D npz → ``(positions_2d, metadata, extras)``."""
    with _Npz(path) as z:
        data, nj = _check_2d(z.path, z.item("positions_2d"))
        meta = _check_metadata(z.path, z.item("metadata"), nj)
        extras = {k: _check_extra(z.path, k, z.item(k), data)
                  for k in z.keys if k not in _RESERVED_2D}
    return data, meta, extras


# --------------------------------------------------------------------------- MMPose H36M npz

MMPOSE_H36M_JOINTS = 17
_MMPOSE_KEYS = ("imgname", "center", "scale", "part", "S")


def mmpose_bbox(part_xy: np.ndarray, scale_factor: float = 1.2) -> tuple[np.ndarray, np.ndarray]:
    """``center`` (N, 2) and ``scale`` (N,) as mmpose's ``preprocess_h36m.py`` makes them:
    the keypoints' bbox centre and ``scale_factor · max(w, h) / 200``."""
    xy = np.asarray(part_xy, dtype=np.float64)[..., :2]
    lo, hi = xy.min(axis=-2), xy.max(axis=-2)
    return (lo + hi) / 2, scale_factor * (hi - lo).max(axis=-1) / 200


def _parse_imgname(name: str):
    """``Human36mDataset._parse_h36m_imgname``: basename → (subject, action, camera)."""
    base = name.rsplit("/", 1)[-1]  # os.path.basename on POSIX
    subj, rest = base.split("_", 1)
    action, rest = rest.split(".", 1)
    camera, _ = rest.split("_", 1)
    return subj, action, camera


def _check_mmpose(path, imgname, center, scale, part, S) -> dict:
    if not isinstance(imgname, np.ndarray):
        imgname = np.asarray(imgname)
    if imgname.dtype.kind == "S":
        imgname = imgname.astype(str)
    if imgname.dtype.kind != "U" or imgname.ndim != 1 or len(imgname) == 0:
        raise InputError(path, f"imgname: expected a non-empty (N,) str array, got "
                               f"{imgname.dtype} of shape {imgname.shape}")
    n = len(imgname)
    for i, name in enumerate(imgname):
        try:
            _parse_imgname(str(name))
        except ValueError:
            raise InputError(path, f"imgname[{i}] = {str(name)!r}: not of the form "
                                   "<subject>_<action>.<camera>_<frame>.jpg that "
                                   "Human36mDataset parses") from None
    out = {}
    specs = {"center": ((n, 2),), "scale": ((n,),),
             "part": ((n, MMPOSE_H36M_JOINTS, 3), (n, MMPOSE_H36M_JOINTS, 2)),
             "S": ((n, MMPOSE_H36M_JOINTS, 4), (n, MMPOSE_H36M_JOINTS, 3))}
    for key, a in (("part", part), ("S", S), ("center", center), ("scale", scale)):
        a = np.asarray(a) if not isinstance(a, np.ndarray) else a
        if a.dtype.kind not in "fiu":
            raise InputError(path, f"{key}: expected a numeric array, got dtype {a.dtype}")
        if a.shape not in specs[key]:
            want = " or ".join(str(s) for s in specs[key])
            raise InputError(path, f"{key}: expected shape {want}, got {a.shape}")
        _check_finite(path, key, a)
        a = a.astype(np.float64, copy=False)
        if a.shape != specs[key][0]:  # no visibility column: all visible, as mmpose writes
            a = np.concatenate([a, np.ones(a.shape[:-1] + (1,))], axis=-1)
        out[key] = a
    return {"imgname": imgname, **{k: out[k] for k in _MMPOSE_KEYS[1:]}}


def save_mmpose_h36m(path, *, imgname, part, S, center=None, scale=None) -> None:
    """Write MMPose's H36M annotation npz (``h36m_train.npz`` …) as ``np.savez`` would.

    ``imgname`` (N,) str; ``part`` (N, 17, 2|3) px (+ visibility); ``S`` (N, 17, 3|4)
    metres, camera frame (+ visibility); a missing visibility column becomes ones.
    ``center``/``scale`` default to :func:`mmpose_bbox` of ``part``. Stored float64.
    """
    part_a = np.asarray(part)
    if center is None or scale is None:
        if part_a.dtype.kind in "fiu" and part_a.ndim == 3 and part_a.shape[-1] in (2, 3) \
                and np.isfinite(part_a).all():
            c, s = mmpose_bbox(part_a)
            center = c if center is None else center
            scale = s if scale is None else scale
        else:
            center = np.zeros((0, 2)) if center is None else center  # part's error wins below
            scale = np.zeros(0) if scale is None else scale
    data = _check_mmpose(path, imgname, center, scale, part_a, S)
    savez(path, compressed=False, **data)


def load_mmpose_h36m(path) -> dict:
    """Read MMPose's H36M npz → ``{'imgname', 'center', 'scale', 'part', 'S'}`` (float64)."""
    with _Npz(path) as z:
        data = {k: z.array(k) for k in _MMPOSE_KEYS}
        return _check_mmpose(z.path, **data)


# --------------------------------------------------------------------------- cameras.pkl

_CAMERA_ARRAYS = {"R": (3, 3), "T": (3, 1), "f": (2, 1), "c": (2, 1), "k": (3, 1), "p": (2, 1)}


def _check_cameras(path, cameras, strict: bool) -> dict:
    """Validate ``{(subject, camera_id): {R, T, f, c, k, p, w, h, [name, id]}}``.

    ``strict`` (reading) wants MMPose's exact shapes; writing also takes (n,) for (n, 1).
    """
    if not isinstance(cameras, dict) or not cameras:
        raise InputError(path, f"expected a non-empty dict keyed (subject, camera_id), got "
                               f"{type(cameras).__name__}")
    out = {}
    for key, cam in cameras.items():
        if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, str) for k in key)):
            raise InputError(path, f"camera key {key!r}: expected a (subject, camera_id) "
                                   "tuple of str, e.g. ('S1', '54138969')")
        w = f"cameras[{key!r}]"
        if not isinstance(cam, dict):
            raise InputError(path, f"{w}: expected a dict, got {type(cam).__name__}")
        missing = [k for k in (*_CAMERA_ARRAYS, "w", "h") if k not in cam]
        if missing:
            raise InputError(path, f"{w}: missing {', '.join(missing)}")
        c = {}
        for k, shape in _CAMERA_ARRAYS.items():
            a = cam[k]
            if strict and not isinstance(a, np.ndarray):
                raise InputError(path, f"{w}[{k!r}]: expected a numpy array, got {type(a).__name__}")
            a = np.asarray(a)
            if a.dtype.kind not in "fiu":
                raise InputError(path, f"{w}[{k!r}]: expected a numeric array, got {a.dtype}")
            if a.shape != shape and (strict or a.size != shape[0] * shape[1] or a.ndim > 2):
                raise InputError(path, f"{w}[{k!r}]: expected shape {shape}, got {a.shape}")
            _check_finite(path, f"{w}[{k!r}]", a)
            c[k] = a.reshape(shape) if strict else a.astype(np.float64).reshape(shape)
        for k in ("w", "h"):
            if not _is_int(cam[k]) or cam[k] <= 0:
                raise InputError(path, f"{w}[{k!r}]: expected a positive int, got {cam[k]!r}")
            c[k] = int(cam[k])
        for k, v in cam.items():
            if k in c:
                continue
            if k in ("name", "id") and not isinstance(v, str):
                raise InputError(path, f"{w}[{k!r}]: expected a str, got {type(v).__name__}")
            _check_plain(path, f"{w}[{k!r}]", v)
            c[k] = v
        out[key] = c
    return out


def save_mmpose_cameras(path, cameras: dict) -> None:
    """Write MMPose's ``cameras.pkl``: ``{(subject, camera_id): {R (3,3), T (3,1) m,
    f (2,1), c (2,1), k (3,1), p (2,1), w, h, [name, id]}}`` (arrays float64)."""
    data = _check_cameras(path, cameras, strict=False)
    write_bytes(path, pickle.dumps(data, protocol=4))


def load_mmpose_cameras(path) -> dict:
    """Read ``cameras.pkl`` (restricted unpickler: plain dicts/tuples and numpy arrays)."""
    path = _check_file(path)
    try:
        with open(path, "rb") as f:
            data = _unpickle(path, f)
    except OSError as e:
        raise InputError(path, f"cannot read: {reason(e)}") from None
    return _check_cameras(path, data, strict=True)


def camera_name(subject: str, action: str, index: int) -> str:
    """Name of camera ``index`` of a sequence in the camera files that go with a dataset:
    ``<subject>/<action>/<index>``, white space made ``_`` (the files split on it). The
    2D arrays ``positions_2d[subject][action][index]`` and ``video_metadata`` use it too."""
    return "_".join(f"{subject}/{action}/{index}".split())
