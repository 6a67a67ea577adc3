"""3D keypoints → an animated, rigged armature in Blender (headless import, add-on back end).

Two ways to run it (same config, ``conf/import_skeleton.yaml``; overrides after ``--``
when present, else all arguments)::

    python -m blender.import_skeleton input=result.npz out=result.blend [overrides]
    blender -b --python-exit-code 2 -P blender/import_skeleton.py -- input=result.npz out=result.blend

and inside Blender through the add-on (``blender/addon``), which calls :func:`load`.

Inputs (``format=auto`` picks by name and content; every reader gives (T, 17, 3) metres,
world Z-up, H36M-17):

- ``infer`` npz: ``world`` (or ``pose_world``) (T, 17, 3) metres Z-up, ``fps``, optional
  ``contacts`` (T, 2) bool [right ankle, left ankle].
- MotionBERT ``X3D.npy`` (T, 17, 3): ``infer_wild.py`` saves it BEFORE its optional
  ``--pixel`` scaling, so it is always in MotionBERT's normalised screen units: camera
  frame (x right, y down, z forward), x, y the 2D keypoints mapped to [−1, 1], z in the same
  units. Upright world: ``(x, y, z)_cam → (x, z, −y)`` (a proper rotation: the camera looks
  along +Y, up is +Z, a subject facing the camera faces −Y like Blender's front view); then
  the up direction is estimated from the body (median pelvis→thorax and ankles→pelvis
  directions) and rotated onto +Z (the camera's tilt); the scale makes the clip's rest pose
  (median bone lengths, ankle to head top) ``height`` metres (default 1.6 m, the span
  ``hpd3d.rig`` assumes); the ground (2nd percentile of the lower ankle) goes to z = 0 and
  the first frame's pelvis to x = y = 0. ``fps``: the file has none — ``fps=`` (default 30).
- VideoPose3D ``data_3d_<name>.npz`` (``positions_3d[subject][action]``, metres, world
  Z-up; 32-joint H36M sequences are mapped to 17): ``subject=``/``action=`` pick one (may
  be omitted when there is only one); ``fps=`` (default 50, Human3.6M's rate).
- BVH: through :func:`hpd3d.rig.to_h36m` (any common rig; units detected); its frame rate.

The armature (:mod:`hpd3d.retarget`): bones of :data:`hpd3d.retarget.BONES` in a T- (or
A-) rest pose from the clip's median bone lengths (``symmetric``: left/right averaged),
rolls from the body's left–right axis so knees and elbows bend about local +X; the pose
is quaternion F-curves written with ``keyframe_points.add`` + ``foreach_set`` (frames
1…T), the Hips location in metres. IK (``ik=true``): a ``<Side>FootIK``/``<Side>HandIK``
controller per limb baked from the data, pole bones ``<Side>KneePole``/``<Side>ElbowPole``
baked in the limb's plane, IK constraints on the shanks and forearms, Copy Rotation on
feet and hands; the armature object's custom property ``ik_fk`` (0 = FK, 1 = IK; default
``ik_fk=``) drives every IK constraint's influence. Foot locking: ``<Side>FootLock``
bones hold each contact run's median ankle position (ramping in and out over
``lock_blend`` frames), and ``foot_lock`` (0/1) drives a Copy Location from them onto
the foot controllers — in IK mode planted feet do not slide. Contacts come from the infer
npz, else :func:`hpd3d.contacts.detect_contacts` when present, else a simple rule (ankle
within 5 cm of the floor and slower than 0.35 m/s). FK (``ik_fk=0``) reproduces the input
with constant bone lengths exactly (:func:`hpd3d.retarget.normalize`).

Output: the ``.blend`` (atomic: written under a temporary name, then renamed), and with
``export=[bvh,fbx,glb]`` the same name with those suffixes, all from the FK pose of the
deform bones (Blender's own exporters). ``body=anny`` calls ``blender.body.add_body``.
``preview=path.png`` renders one frame (Workbench) of a capsule figure skinned to the
armature.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

if not globals().get("__package__"):  # run as a script (blender -P): make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from blender.script_path import add_site_packages

    add_site_packages()  # scipy, hydra, tqdm from .venv, after Blender's own modules

import numpy as np  # noqa: E402

from hpd3d import retarget as rt  # noqa: E402
from hpd3d.errors import InputError  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf"
FORMATS = ("auto", "infer", "x3d", "vp3d", "bvh")
EXPORTS = ("bvh", "fbx", "glb")
SIDES = ("Left", "Right")
# per side: (upper, lower, leaf, controller, pole, lock) bone names, H36M (a, b, c)
LEGS = {s: (f"{s}UpLeg", f"{s}Leg", f"{s}Foot", f"{s}FootIK", f"{s}KneePole", f"{s}FootLock")
        for s in SIDES}
ARMS = {s: (f"{s}Arm", f"{s}ForeArm", f"{s}Hand", f"{s}HandIK", f"{s}ElbowPole", None)
        for s in SIDES}
CONTACT_COLUMN = {"Right": 0, "Left": 1}  # contacts (T, 2): [right ankle, left ankle]

DEFAULTS = dict(format="auto", subject=None, action=None, fps=None, height=1.6, x3d_up="auto",
                rest="T", symmetric=False, ik=True, ik_fk=0.0, foot_lock=True, contacts="auto",
                lock_blend=4, pole_distance=0.5, body="none", body_options=None, name=None,
                export=(), preview=None, preview_frame=None, verbose=False)


def _compat():
    """``blender.compat`` in the repository, or the copy beside this file in the add-on zip."""
    try:
        from blender import compat
    except ImportError:
        from . import compat
    return compat


# ============================================================================ reading
@dataclass
class PoseClip:
    """One motion: ``positions`` (T, 17, 3) metres, world Z-up, H36M-17; ``fps``;
    ``contacts`` (T, 2) bool [right, left] or None; ``source`` the format read."""

    positions: np.ndarray
    fps: float
    contacts: np.ndarray | None
    source: str
    name: str


def _check_positions(path, p) -> np.ndarray:
    try:
        return rt.validate_positions(p, "keypoints")
    except ValueError as e:
        raise InputError(path, str(e)) from None


def _npz_keys(path: Path) -> list[str]:
    import zipfile

    if not zipfile.is_zipfile(path):
        raise InputError(path, "not a pose file: not an npz archive")
    with zipfile.ZipFile(path) as z:
        return [n[:-4] for n in z.namelist() if n.endswith(".npy")]


def detect_format(path) -> str:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".bvh":
        return "bvh"
    if suffix == ".npy":
        return "x3d"
    if suffix == ".npz":
        keys = _npz_keys(path)
        if "positions_3d" in keys:
            return "vp3d"
        if "world" in keys or "pose_world" in keys:
            return "infer"
        raise InputError(path, f"not a pose file: no 'world', 'pose_world' or 'positions_3d' "
                               f"array (keys: {', '.join(keys) or 'none'})")
    raise InputError(path, f"not a pose file: expected .npz, .npy or .bvh, got {suffix or 'no suffix'!r}")


def _plain_array(path, z, key):
    try:
        return np.asarray(z[key])
    except ValueError as e:  # pickled member
        raise InputError(path, f"{key!r}: {e}") from None


def read_infer(path, fps=None) -> PoseClip:
    path = Path(path)
    try:
        z = np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001 - any unreadable file is bad input
        raise InputError(path, f"not a readable npz: {e}") from None
    with z:
        key = "world" if "world" in z.files else "pose_world"
        if key not in z.files:
            raise InputError(path, f"no 'world' array (keys: {', '.join(z.files) or 'none'})")
        p = _check_positions(path, _plain_array(path, z, key))
        rate = fps
        if rate is None:
            if "fps" not in z.files:
                raise InputError(path, "no 'fps' in the file: give fps=")
            rate = float(np.asarray(z["fps"]).reshape(-1)[0])
        contacts = None
        if "contacts" in z.files:
            c = _plain_array(path, z, "contacts")
            if c.shape != (len(p), 2):
                raise InputError(path, f"'contacts' must be ({len(p)}, 2), got {c.shape}")
            contacts = c.astype(bool)
    return PoseClip(p, _check_fps(path, rate), contacts, "infer", path.stem)


def _check_fps(path, fps) -> float:
    fps = float(fps)
    if not (math.isfinite(fps) and fps > 0):
        raise InputError(path, f"fps must be positive, got {fps}")
    return fps


def x3d_to_world(x3d, height: float = 1.6, up: str = "auto") -> np.ndarray:
    """MotionBERT ``X3D.npy`` (T, 17, 3) camera frame, normalised units → world Z-up metres
    (see the module docstring)."""
    c = np.asarray(x3d, dtype=np.float64)
    w = np.stack([c[..., 0], c[..., 2], -c[..., 1]], axis=-1)       # camera → upright
    if up == "auto":
        def unit(v):
            return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)
        u = np.median(unit(w[:, 8] - w[:, 0]), axis=0) + \
            np.median(unit(w[:, 0] - 0.5 * (w[:, 3] + w[:, 6])), axis=0)
        u = u / np.linalg.norm(u)
        z = np.array([0.0, 0.0, 1.0])
        axis = np.cross(u, z)
        s, cth = np.linalg.norm(axis), float(np.dot(u, z))
        if s > 1e-9:
            from scipy.spatial.transform import Rotation

            R = Rotation.from_rotvec(axis / s * math.atan2(s, cth)).as_matrix()
            w = w @ R.T
    elif up != "camera":
        raise ValueError(f"x3d_up must be 'auto' or 'camera', got {up!r}")
    rest = rt.rest_pose(rt.bone_lengths(w))
    w = w * (height / rest[10, 2])
    w[..., 2] -= np.percentile(np.minimum(w[:, 3, 2], w[:, 6, 2]), 2)
    w[..., :2] -= w[0, 0, :2]
    return w


def read_x3d(path, fps=None, height=1.6, up="auto") -> PoseClip:
    path = Path(path)
    try:
        a = np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001
        raise InputError(path, f"not a pose file: not a readable .npy ({e})") from None
    p = _check_positions(path, a)
    try:
        w = x3d_to_world(p, height, up)
    except ValueError as e:
        raise InputError(path, str(e)) from None
    return PoseClip(_check_positions(path, w), _check_fps(path, 30.0 if fps is None else fps),
                    None, "x3d", path.stem)


def read_vp3d(path, subject=None, action=None, fps=None) -> PoseClip:
    from hpd3d.formats import load_3d
    from hpd3d.skeleton import h36m32_to_h36m

    path = Path(path)
    data = load_3d(path)

    def pick(what, options, value):
        if value is None:
            if len(options) != 1:
                raise InputError(path, f"{len(options)} {what}s in the file: choose {what}= "
                                       f"({', '.join(map(str, sorted(options)))})")
            return next(iter(options))
        if value not in options:
            raise InputError(path, f"no {what} {value!r} ({', '.join(map(str, sorted(options)))})")
        return value

    s = pick("subject", list(data), subject)
    a = pick("action", list(data[s]), action)
    p = np.asarray(data[s][a], dtype=np.float64)
    if p.ndim == 3 and p.shape[1] == 32:
        p = h36m32_to_h36m(p)
    p = _check_positions(path, p)
    return PoseClip(p, _check_fps(path, 50.0 if fps is None else fps), None, "vp3d", f"{s}_{a}")


def read_bvh(path, fps=None) -> PoseClip:
    from hpd3d.bvh import load_bvh
    from hpd3d.rig import to_h36m

    path = Path(path)
    bvh = load_bvh(path)
    p = _check_positions(path, to_h36m(bvh))
    return PoseClip(p, _check_fps(path, bvh.fps if fps is None else fps), None, "bvh", path.stem)


def read_pose(path, format="auto", *, subject=None, action=None, fps=None, height=1.6,
              x3d_up="auto") -> PoseClip:
    """Any supported pose file → :class:`PoseClip` (bad input: :class:`InputError`)."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    if not path.is_file():
        raise InputError(path, "not a file")
    if path.stat().st_size == 0:
        raise InputError(path, "empty file")
    fmt = detect_format(path) if format == "auto" else format
    if fmt == "infer":
        return read_infer(path, fps)
    if fmt == "x3d":
        return read_x3d(path, fps, height, x3d_up)
    if fmt == "vp3d":
        return read_vp3d(path, subject, action, fps)
    if fmt == "bvh":
        return read_bvh(path, fps)
    raise InputError(path, f"format must be one of {', '.join(FORMATS)}, got {format!r}")


# ============================================================================ contacts
def compute_contacts(positions, fps: float) -> np.ndarray:
    """(T, 2) bool [right, left] foot contacts: :func:`hpd3d.contacts.detect_contacts`
    when that module exists, else ankle ≤ 5 cm above the floor and slower than 0.35 m/s.
    The floor is the clip's 2nd percentile of the lower ankle height."""
    p = np.array(positions, dtype=np.float64)
    ankles = p[:, [3, 6]]
    p[..., 2] -= np.percentile(ankles[..., 2].min(axis=1), 2)
    try:
        from hpd3d.contacts import detect_contacts
    except ImportError:
        detect_contacts = None
    if detect_contacts is not None:
        return np.asarray(detect_contacts(p, fps), dtype=bool)
    a = p[:, [3, 6]]
    speed = np.linalg.norm(np.gradient(a, axis=0), axis=-1) * fps if len(a) > 1 else np.zeros((len(a), 2))
    c = (a[..., 2] < 0.05) & (speed < 0.35)
    for k in range(2):  # close gaps shorter than 3 frames, then drop runs shorter than 3
        for s, e in _runs(~c[:, k]):
            if e - s < 3 and s > 0 and e < len(c):
                c[s:e, k] = True
        for s, e in _runs(c[:, k]):
            if e - s < 3:
                c[s:e, k] = False
    return c


def _runs(mask) -> list[tuple[int, int]]:
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.flatnonzero(np.diff(m.astype(np.int8)))
    return list(zip(d[0::2].tolist(), d[1::2].tolist()))


def locked_track(track, contact, blend: int = 4, hip=None, reach=None) -> np.ndarray:
    """(T, 3) ``track`` with each contact run held at the run's median position; outside
    the runs the hold ramps in and out linearly over ``blend`` frames (a ramp never moves
    a frame of another run). With ``hip`` (T, 3) and ``reach`` (thigh + shank), a held
    point the leg cannot reach is pulled towards the hip to 0.999 of the reach (the leg
    would otherwise jump to full stretch in IK mode)."""
    track = np.asarray(track, dtype=np.float64)
    contact = np.asarray(contact, bool)
    out = track.copy()
    T = len(track)
    runs = _runs(contact)
    anchors = [np.median(track[s:e], axis=0) for s, e in runs]
    for (s, e), anchor in zip(runs, anchors):
        lo, hi = max(0, s - blend), min(T, e + blend)
        t = np.arange(lo, hi)
        keep = ~contact[lo:hi]
        w = np.where(t < s, 1.0 - (s - t) / (blend + 1.0), 1.0 - (t - e + 1) / (blend + 1.0))
        t, w = t[keep], w[keep]
        out[t] = track[t] + w[:, None] * (anchor - track[t])
    for (s, e), anchor in zip(runs, anchors):
        out[s:e] = anchor
    if hip is not None and reach is not None:
        v = out - hip
        d = np.linalg.norm(v, axis=-1, keepdims=True)
        out = hip + v * np.minimum(1.0, 0.999 * reach / np.maximum(d, 1e-9))
    return out


# ============================================================================ armature
def _pole_angle(base_head, base_tail, base_x, ik_tail, pole) -> float:
    """Blender's IK pole angle for a two-bone chain (rest pose, armature space)."""
    axis = base_tail - base_head
    normal = np.cross(ik_tail - base_head, pole - base_head)
    proj = np.cross(normal, axis)
    a = base_x / np.linalg.norm(base_x)
    b = proj / np.linalg.norm(proj)
    ang = math.acos(float(np.clip(np.dot(a, b), -1.0, 1.0)))
    # Blender measures the angle the other way round (checked: the IK pose then equals FK)
    return ang if np.dot(np.cross(a, b), axis) < 0 else -ang


def _fcurves_set(fcurves, data_path: str, values: np.ndarray, frame_start: int = 1,
                 group: str | None = None) -> None:
    """One F-curve per column of ``values`` (T, K): keyframes at frames start…start+T−1,
    written with ``keyframe_points.add`` + ``foreach_set`` (linear interpolation)."""
    values = np.asarray(values, dtype=np.float32)
    T = values.shape[0]
    co = np.empty(2 * T, np.float32)
    co[0::2] = np.arange(frame_start, frame_start + T, dtype=np.float32)
    interp = np.ones(T, np.int32)  # LINEAR
    for k in range(values.shape[1]):
        fc = fcurves.new(data_path, index=k)
        if group is not None:
            with contextlib.suppress(Exception):
                fc.group = _group(fcurves, group)
        kp = fc.keyframe_points
        kp.add(T)
        co[1::2] = values[:, k]
        kp.foreach_set("co", co)
        kp.foreach_set("interpolation", interp)
        fc.update()


def _group(fcurves, name):
    groups = getattr(fcurves, "groups", None) or getattr(getattr(fcurves, "id_data", None), "groups", None)
    if groups is None:
        raise AttributeError("no groups")
    return groups.get(name) or groups.new(name)


@dataclass
class Built:
    obj: object
    motion: rt.Motion
    rest: np.ndarray
    positions: np.ndarray       # the clip's positions (world, metres)
    contacts: np.ndarray | None
    fps: float
    seconds: dict


def _set_active(obj) -> None:
    import bpy

    for o in bpy.context.view_layer.objects:
        if o is not None:
            o.select_set(False)
    bpy.context.view_layer.objects.active = obj
    obj.select_set(True)


def build_armature(scene, name: str, clip: PoseClip, *, rest_kind="T", symmetric=False,
                   ik=True, ik_fk=0.0, foot_lock=True, contacts="auto", lock_blend=4,
                   pole_distance=0.5, collection=None) -> Built:
    """Create the armature object animated by ``clip`` in ``scene`` (see the module docstring)."""
    import bpy

    compat = _compat()

    t0 = time.perf_counter()
    p = clip.positions
    T = len(p)
    rest = rt.rest_pose(rt.bone_lengths(p, symmetric), rest_kind, rt.pelvis_shape(p, symmetric))
    motion = rt.solve_rotations(p, rest)
    t_solve = time.perf_counter() - t0
    frames = motion.frames
    heads, tails = rt.bone_tails(rest)
    idx = {b.name: i for i, b in enumerate(rt.BONES)}

    if bpy.context.object is not None and bpy.context.object.mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")   # the add-on may be called from any mode
    arm = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, arm)
    (collection or scene.collection).objects.link(obj)
    arm.display_type = "OCTAHEDRAL"
    obj.show_in_front = True
    _set_active(obj)

    # --- controllers' rest geometry (armature space)
    ctrl = {}   # name → (head, tail, z axis)
    if ik:
        for side in SIDES:
            for up_, lo_, leaf, target, pole, lock in (LEGS[side], ARMS[side]):
                iu, il, ie = idx[up_], idx[lo_], idx[leaf]
                length = 0.5 * np.linalg.norm(tails[ie] - heads[ie])
                F = frames[ie]
                ctrl[target] = (heads[ie], heads[ie] + F[:, 1] * length, F[:, 2])
                if lock:
                    ctrl[lock] = (heads[ie], heads[ie] + F[:, 1] * 0.8 * length, F[:, 2])
                ph = heads[il] - pole_distance * frames[iu][:, 2]   # away from the flexion side
                ctrl[pole] = (ph, ph + np.array([0.0, 0.0, 0.05]), np.array([0.0, -1.0, 0.0]))

    bpy.ops.object.mode_set(mode="EDIT")
    eb = arm.edit_bones
    for i, b in enumerate(rt.BONES):
        e = eb.new(b.name)
        e.head, e.tail = heads[i].tolist(), tails[i].tolist()
        e.align_roll(frames[i][:, 2].tolist())
        e.use_deform = True
        if b.parent is not None:
            e.parent = eb[b.parent]
            e.use_connect = bool(np.allclose(heads[i], tails[idx[b.parent]], atol=1e-9))
    for cname, (h, t, z) in ctrl.items():
        e = eb.new(cname)
        e.head, e.tail = h.tolist(), t.tolist()
        e.align_roll(list(z))
        e.use_deform = False
    bpy.ops.object.mode_set(mode="OBJECT")

    # the rest frames Blender made (float32) must be ours
    got = np.array([np.asarray(arm.bones[b.name].matrix_local)[:3, :3] for b in rt.BONES])
    err = np.abs(got - frames).max()
    if err > 1e-5:
        raise RuntimeError(f"Blender's bone rest frames differ from hpd3d.retarget's by {err:g}")
    ctrl_rest = {n: np.asarray(arm.bones[n].matrix_local) for n in ctrl}

    # --- custom properties: FK/IK switch, foot lock
    obj["ik_fk"] = float(ik_fk)
    obj["foot_lock"] = 1.0 if foot_lock else 0.0
    with contextlib.suppress(Exception):
        for prop in ("ik_fk", "foot_lock"):
            ui = obj.id_properties_ui(prop)
            ui.update(min=0.0, max=1.0, soft_min=0.0, soft_max=1.0,
                      description="0 = FK (the data), 1 = IK (controllers)" if prop == "ik_fk"
                      else "1 = planted feet hold still (IK mode)")
    obj["hpd3d_source"] = clip.source
    obj["hpd3d_rest"] = rest.ravel().tolist()

    for pb in obj.pose.bones:
        pb.rotation_mode = "QUATERNION"

    def drive(con, prop):
        fc = con.driver_add("influence")
        d = fc.driver
        d.type = "AVERAGE"
        v = d.variables.new()
        v.name = "v"
        v.type = "SINGLE_PROP"
        v.targets[0].id_type = "OBJECT"
        v.targets[0].id = obj
        v.targets[0].data_path = f'["{prop}"]'

    if ik:
        for side in SIDES:
            for chain in (LEGS[side], ARMS[side]):
                up_, lo_, leaf, target, pole, lock = chain
                iu, il = idx[up_], idx[lo_]
                pb = obj.pose.bones[lo_]
                con = pb.constraints.new("IK")
                con.name = "IK"
                con.target, con.subtarget = obj, target
                con.pole_target, con.pole_subtarget = obj, pole
                con.chain_count = 2
                con.use_tail = True
                con.iterations = 500
                con.pole_angle = _pole_angle(heads[iu], tails[iu], frames[iu][:, 0], tails[il],
                                             ctrl[pole][0])
                drive(con, "ik_fk")
                cr = obj.pose.bones[leaf].constraints.new("COPY_ROTATION")
                cr.name = "IK rotation"
                cr.target, cr.subtarget = obj, target
                drive(cr, "ik_fk")
                if lock:
                    cl = obj.pose.bones[target].constraints.new("COPY_LOCATION")
                    cl.name = "Foot lock"
                    cl.target, cl.subtarget = obj, lock
                    drive(cl, "foot_lock")

    # --- contacts
    cts = None
    if ik and contacts != "none":
        cts = clip.contacts if (clip.contacts is not None and contacts == "auto") else None
        if cts is None:
            cts = compute_contacts(p, clip.fps)

    # --- animation
    t1 = time.perf_counter()
    action, fcurves = compat.new_action(obj, f"{name}Action")
    for i, b in enumerate(rt.BONES):
        _fcurves_set(fcurves, f'pose.bones["{b.name}"].rotation_quaternion', motion.local[:, i],
                     group=b.name)
    loc = (motion.root - heads[0]) @ frames[0]                      # Rᵀ·(p − h) per row
    _fcurves_set(fcurves, 'pose.bones["Hips"].location', loc, group="Hips")
    if ik:
        def bake(name_, pos, rot=None):
            M = ctrl_rest[name_]
            R, h = M[:3, :3], M[:3, 3]
            _fcurves_set(fcurves, f'pose.bones["{name_}"].location', (pos - h) @ R, group=name_)
            if rot is not None:
                basis = np.einsum("ji,tjk->tik", R, rot)                 # Rᵀ · pose
                _fcurves_set(fcurves, f'pose.bones["{name_}"].rotation_quaternion',
                             rt.quaternions(basis), group=name_)

        norm = rt.normalize(p, rest)            # = FK of the solved pose (tests pin it)
        for side in SIDES:
            for chain in (LEGS[side], ARMS[side]):
                up_, lo_, leaf, target, pole, lock = chain
                iu, ie = idx[up_], idx[leaf]
                b_, c = rt.BONES[idx[lo_]].head, rt.BONES[ie].head
                bake(target, norm[:, c], motion.pose[:, ie])
                bake(pole, norm[:, b_] - pole_distance * motion.pose[:, iu, :, 2])
                if lock:
                    track = norm[:, c]
                    if cts is not None:
                        a = rt.BONES[iu].head
                        reach = np.linalg.norm(rest[b_] - rest[a]) + np.linalg.norm(rest[c] - rest[b_])
                        track = locked_track(track, cts[:, CONTACT_COLUMN[side]], lock_blend,
                                             hip=norm[:, a], reach=reach)
                    bake(lock, track)
        for n in ctrl:
            obj.pose.bones[n].rotation_mode = "QUATERNION"
    t_keys = time.perf_counter() - t1

    fps_int = max(1, round(clip.fps))
    scene.render.fps, scene.render.fps_base = fps_int, fps_int / clip.fps
    scene.frame_start, scene.frame_end = 1, T
    scene.frame_set(1)
    return Built(obj, motion, rest, p, cts, clip.fps,
                 {"solve": t_solve, "keyframes": t_keys, "total": time.perf_counter() - t0})


def set_switch(obj, ik_fk=None, foot_lock=None) -> None:
    """Set the FK/IK switch and/or foot lock from Python (the add-on panel's sliders do the
    same); tags the object so the drivers re-evaluate."""
    if ik_fk is not None:
        obj["ik_fk"] = float(ik_fk)
    if foot_lock is not None:
        obj["foot_lock"] = float(foot_lock)
    obj.update_tag()
    import bpy

    bpy.context.view_layer.update()


def read_joints(obj, frames, head_length=None) -> np.ndarray:
    """(len(frames), 17, 3) H36M joints of the posed armature in world space, evaluated
    through the depsgraph (``frame_set`` + one ``foreach_get`` of pose matrices per frame).
    Joint j is the head of the bone on it; the head top is the head of a ``Head_end`` leaf
    bone (FBX re-import) when there is one, else the Head bone's tail (``head_length``
    overrides the bone's length: importers that do not store lengths guess them)."""
    import bpy

    scene = bpy.context.scene
    pbs = obj.pose.bones
    order = [pb.name for pb in pbs]
    B = len(pbs)
    buf = np.empty((len(frames), B * 16), np.float32)
    for k, f in enumerate(frames):
        scene.frame_set(int(f))
        pbs.foreach_get("matrix", buf[k])
    M = buf.reshape(len(frames), B, 4, 4).transpose(0, 1, 3, 2).astype(np.float64)
    M = np.asarray(obj.matrix_world, dtype=np.float64) @ M
    out = np.empty((len(frames), 17, 3))
    for b in rt.BONES:
        i = order.index(b.name)
        out[:, b.head] = M[:, i, :3, 3]
    i = order.index("Head")
    leaf = [k for k, pb in enumerate(pbs) if pb.parent is not None and pb.parent.name == "Head"]
    if leaf:
        out[:, 10] = M[:, leaf[0], :3, 3]
    else:
        L = obj.data.bones["Head"].length if head_length is None else float(head_length)
        out[:, 10] = M[:, i, :3, 3] + M[:, i, :3, 1] * L
    return out


# ============================================================================ export
def export(built: Built, path: Path, kinds, verbose=False) -> list[Path]:
    """Write ``path.with_suffix('.bvh'/'.fbx'/'.glb')`` for ``kinds`` (atomically), from
    the FK pose of the deform bones."""
    import bpy

    compat = _compat()
    from hpd3d import atomic

    obj, out = built.obj, []
    scene = bpy.context.scene
    T = len(built.positions)
    saved = obj.get("ik_fk", 0.0)
    obj["ik_fk"] = 0.0
    try:
        # the BVH goes last: it needs a temporary clone, and Blender may crash exporting
        # after an object was removed
        for kind in sorted(kinds, key=lambda k: k == "bvh"):
            dest = path.with_suffix("." + kind)
            with atomic.atomic_path(dest, suffix="." + kind) as tmp:
                if kind == "bvh":
                    clone = _fk_clone(built)
                    try:
                        _set_active(clone)
                        with compat.quiet(not verbose):
                            bpy.ops.export_anim.bvh(filepath=str(tmp), check_existing=False,
                                                    frame_start=1, frame_end=T,
                                                    rotate_mode="NATIVE", root_transform_only=True)
                    finally:
                        _remove(clone)
                        bpy.context.view_layer.update()
                elif kind == "fbx":
                    _set_active(obj)
                    for ch in obj.children:
                        ch.select_set(True)
                    with compat.quiet(not verbose):
                        bpy.ops.export_scene.fbx(
                            filepath=str(tmp), check_existing=False, use_selection=True,
                            object_types={"ARMATURE", "MESH"}, add_leaf_bones=True,
                            use_armature_deform_only=True, bake_anim=True,
                            bake_anim_use_all_actions=False, bake_anim_use_nla_strips=False,
                            bake_anim_force_startend_keying=True, bake_anim_simplify_factor=0.0,
                            bake_anim_step=1.0, primary_bone_axis="Y", secondary_bone_axis="X")
                elif kind == "glb":
                    _set_active(obj)
                    for ch in obj.children:
                        ch.select_set(True)
                    with compat.quiet(not verbose):
                        bpy.ops.export_scene.gltf(
                            filepath=str(tmp), check_existing=False, export_format="GLB",
                            use_selection=True, export_animations=True, export_def_bones=True,
                            export_force_sampling=True, export_frame_range=True)
                    if not Path(tmp).is_file() or Path(tmp).stat().st_size == 0:
                        raise RuntimeError("glTF exporter wrote nothing")
                else:
                    raise InputError(None, f"export: unknown kind {kind!r}")
            out.append(dest)
    finally:
        obj["ik_fk"] = saved
        scene.frame_set(1)
    return out


def _fk_clone(built: Built):
    """A plain armature of the deform bones with the FK action (no controllers, no
    constraints): what the BVH exporter should see."""
    import bpy

    src = built.obj
    arm = bpy.data.armatures.new(src.data.name + "_bvh")
    obj = bpy.data.objects.new(src.name, arm) if src.name not in bpy.data.objects else \
        bpy.data.objects.new(src.name + "_bvh", arm)
    bpy.context.scene.collection.objects.link(obj)
    _set_active(obj)
    bpy.ops.object.mode_set(mode="EDIT")
    for b in rt.BONES:
        sb = src.data.bones[b.name]
        e = arm.edit_bones.new(b.name)
        e.head, e.tail = sb.head_local, sb.tail_local
        e.matrix = sb.matrix_local
        if b.parent:
            e.parent = arm.edit_bones[b.parent]
            e.use_connect = sb.use_connect
    bpy.ops.object.mode_set(mode="OBJECT")
    for pb in obj.pose.bones:
        pb.rotation_mode = "QUATERNION"
    compat = _compat()

    _, fcurves = compat.new_action(obj, src.name + "_bvhAction")
    m = built.motion
    for i, b in enumerate(rt.BONES):
        _fcurves_set(fcurves, f'pose.bones["{b.name}"].rotation_quaternion', m.local[:, i])
    heads, _ = rt.bone_tails(built.rest)
    _fcurves_set(fcurves, 'pose.bones["Hips"].location', (m.root - heads[0]) @ m.frames[0])
    return obj


def _remove(obj) -> None:
    from blender.bvh_import import remove_armature

    remove_armature(obj)


# ============================================================================ preview
def render_preview(built: Built, path: Path, frame=None, size=(480, 360), verbose=False) -> Path:
    """Render one frame (Workbench) of a capsule figure skinned to the armature, a floor,
    and the camera in front of the subject; write ``path`` (PNG) atomically."""
    import bpy
    from mathutils import Matrix, Vector

    compat = _compat()
    from blender.scene import _capsule
    from hpd3d import atomic

    obj, rest = built.obj, built.rest
    heads, tails = rt.bone_tails(rest)
    verts, faces, groups, face_mat = [], [], [], []
    n = 0
    radius = {"Hips": 0.11, "Spine": 0.12, "Neck": 0.05, "Head": 0.09, "UpLeg": 0.075,
              "Leg": 0.06, "Foot": 0.045, "Shoulder": 0.045, "Arm": 0.05, "ForeArm": 0.045,
              "Hand": 0.04}
    for i, b in enumerate(rt.BONES):
        key = next(k for k in ("ForeArm", "UpLeg", "Shoulder", "Leg", "Foot", "Arm", "Hand")
                   if b.name.endswith(k)) if b.name.startswith(("Left", "Right")) else b.name
        v, f = _capsule(heads[i], tails[i], radius[key], 0.0, 0.0)
        verts.append(v)
        faces.extend(tuple(j + n for j in face) for face in f)
        face_mat += [0 if b.name.startswith("Left") else 1 if b.name.startswith("Right") else 2] * len(f)
        groups.append((b.name, n, n + len(v)))
        n += len(v)
    mesh = bpy.data.meshes.new("PreviewFigure")
    mesh.from_pydata(np.concatenate(verts).tolist(), [], faces)
    for mname, rgba in (("Left", (0.85, 0.40, 0.12, 1.0)), ("Right", (0.12, 0.38, 0.85, 1.0)),
                        ("Centre", (0.6, 0.6, 0.62, 1.0))):
        m = bpy.data.materials.new(f"Preview{mname}")
        m.diffuse_color = rgba
        mesh.materials.append(m)
    mesh.polygons.foreach_set("material_index", np.asarray(face_mat, np.int32))
    mesh.update()
    fig = bpy.data.objects.new("PreviewFigure", mesh)
    bpy.context.scene.collection.objects.link(fig)
    for name, a, b in groups:
        vg = fig.vertex_groups.new(name=name)
        vg.add(list(range(a, b)), 1.0, "REPLACE")
    mod = fig.modifiers.new("Armature", "ARMATURE")
    mod.object = obj
    scene = bpy.context.scene
    T = len(built.positions)
    f = (T + 1) // 2 if frame is None else int(frame)
    scene.frame_set(f)
    p = built.positions[f - 1]
    centre = p.mean(axis=0)
    floor_z = float(np.percentile(np.minimum(built.positions[:, 3, 2], built.positions[:, 6, 2]), 2)) - 0.08
    bpy.ops.mesh.primitive_plane_add(size=8.0, location=(centre[0], centre[1], floor_z))
    plane = bpy.context.active_object
    cam_data = bpy.data.cameras.new("PreviewCam")
    cam = bpy.data.objects.new("PreviewCam", cam_data)
    scene.collection.objects.link(cam)
    fwd = np.cross(p[4] - p[1], [0.0, 0.0, 1.0])
    fwd = fwd / max(np.linalg.norm(fwd), 1e-9)
    side = np.cross([0.0, 0.0, 1.0], fwd)
    eye = centre + 3.2 * fwd + 1.2 * side + np.array([0.0, 0.0, 0.5])
    direction = Vector((centre - eye).tolist())
    cam.matrix_world = Matrix.Translation(Vector(eye.tolist())) @ \
        direction.to_track_quat("-Z", "Y").to_matrix().to_4x4()
    cam_data.lens = 35
    scene.camera = cam
    r = scene.render
    r.engine = "BLENDER_WORKBENCH"
    r.resolution_x, r.resolution_y = size
    r.resolution_percentage = 100
    scene.display.shading.light = "STUDIO"
    scene.display.shading.color_type = "MATERIAL"
    floor_mat = bpy.data.materials.new("PreviewFloor")
    floor_mat.diffuse_color = (0.75, 0.75, 0.72, 1.0)
    plane.data.materials.append(floor_mat)
    world = scene.world or bpy.data.worlds.new("PreviewWorld")
    scene.world = world
    world.color = (0.82, 0.86, 0.9)
    scene.display.render_aa = "FXAA"
    compat.set_image_output(scene, "PNG")
    with atomic.atomic_path(path, suffix=".png") as tmp:
        r.filepath = str(tmp)
        r.use_file_extension = False
        with compat.quiet(not verbose):
            bpy.ops.render.render(write_still=True)
    for o in (fig, plane, cam):
        bpy.data.objects.remove(o, do_unlink=True)
    bpy.context.view_layer.update()
    return path


# ============================================================================ load
def _options(options) -> dict:
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise InputError(None, f"unknown option(s): {', '.join(sorted(unknown))}")
    o = dict(DEFAULTS)
    o.update(options)
    if o["rest"] not in ("T", "A"):
        raise InputError(None, f"config: rest must be T or A, got {o['rest']!r}")
    if o["format"] not in FORMATS:
        raise InputError(None, f"config: format must be one of {', '.join(FORMATS)}, got {o['format']!r}")
    if o["body"] not in ("none", "anny"):
        raise InputError(None, f"config: body must be none or anny, got {o['body']!r}")
    if o["contacts"] not in ("auto", "compute", "none"):
        raise InputError(None, f"config: contacts must be auto, compute or none, got {o['contacts']!r}")
    if o["x3d_up"] not in ("auto", "camera"):
        raise InputError(None, f"config: x3d_up must be auto or camera, got {o['x3d_up']!r}")
    ex = o["export"] or ()
    ex = [ex] if isinstance(ex, str) else list(ex)
    bad = [e for e in ex if e not in EXPORTS]
    if bad:
        raise InputError(None, f"config: export must be a list of {', '.join(EXPORTS)}, got {bad}")
    o["export"] = list(dict.fromkeys(ex))
    if o["fps"] is not None and not (float(o["fps"]) > 0 and math.isfinite(float(o["fps"]))):
        raise InputError(None, f"config: fps must be positive, got {o['fps']}")
    if not float(o["height"]) > 0:
        raise InputError(None, f"config: height must be positive, got {o['height']}")
    if not 0.0 <= float(o["ik_fk"]) <= 1.0:
        raise InputError(None, f"config: ik_fk must be in [0, 1], got {o['ik_fk']}")
    if int(o["lock_blend"]) < 0 or not float(o["pole_distance"]) > 0:
        raise InputError(None, "config: lock_blend ≥ 0 and pole_distance > 0")
    if o["body"] == "anny":
        import importlib.util

        try:
            found = importlib.util.find_spec("blender.body") is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise InputError(None, "body=anny needs blender/body.py")
    return o


def load(context, filepath, **options) -> Built:
    """Import ``filepath`` into ``context.scene`` as an animated armature (the add-on's
    and the CLI's work). Options: see ``conf/import_skeleton.yaml``."""
    o = _options(options)
    clip = read_pose(filepath, o["format"], subject=o["subject"], action=o["action"], fps=o["fps"],
                     height=float(o["height"]), x3d_up=o["x3d_up"])
    name = o["name"] or clip.name or "Skeleton"
    built = build_armature(context.scene, name, clip, rest_kind=o["rest"],
                           symmetric=bool(o["symmetric"]), ik=bool(o["ik"]), ik_fk=float(o["ik_fk"]),
                           foot_lock=bool(o["foot_lock"]),
                           contacts="compute" if o["contacts"] == "compute" else o["contacts"],
                           lock_blend=int(o["lock_blend"]), pole_distance=float(o["pole_distance"]))
    if o["body"] == "anny":
        from blender.body import add_body

        add_body(built.obj, built.rest, **dict(o["body_options"] or {}))
    return built


# ============================================================================ CLI
def _args(argv=None) -> list[str]:
    argv = sys.argv if argv is None else argv
    return argv[argv.index("--") + 1:] if "--" in argv else argv[1:]


def load_config(overrides):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    # ``body=`` names a config group elsewhere in conf/ (augmentation bodies): here it is
    # the plain key ``body_model``, and ``body=...`` on the command line means it
    overrides = [f"body_model={o[5:]}" if o.startswith("body=") else o for o in overrides]
    try:
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3", job_name="import_skeleton"):
            cfg = compose(config_name="import_skeleton", overrides=list(overrides))
        OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    except Exception as e:  # bad override, unknown key, missing value
        raise InputError(None, f"config: {str(e).strip().splitlines()[0]}") from None
    return cfg


def _check_out(out, suffix: str = ".blend") -> Path:
    """``out`` ends in ``suffix`` and its folder is (or can be made) writable."""
    key = "out" if suffix == ".blend" else "preview"
    if out is None or str(out) == "":
        raise InputError(None, f"{key}=...: the {suffix} to write is required")
    out = Path(str(out))
    if out.suffix.lower() != suffix:
        raise InputError(out, f"{key} must end in {suffix}")
    if out.is_dir():
        raise InputError(out, f"is a folder; {key}= names the {suffix} file")
    anc = out.parent
    while not anc.exists():
        anc = anc.parent
    if not anc.is_dir() or not os.access(anc, os.W_OK | os.X_OK):
        raise InputError(out, f"cannot write here ({anc} is not a writable folder)")
    return out


def run(cfg) -> Built:
    """The headless command: validate everything, read, build, export, save. Nothing is
    left behind on failure (each file is written under a temporary name and renamed; the
    exports of a run that fails later are removed again)."""
    import bpy
    from omegaconf import OmegaConf
    from tqdm import tqdm

    from hpd3d import atomic

    t0 = time.perf_counter()
    c = OmegaConf.to_container(cfg, resolve=True)
    if c.get("input") is None or str(c["input"]) == "":
        raise InputError(None, "input=...: a pose file (.npz, .npy or .bvh) is required")
    out = _check_out(c.get("out"))
    opts = {k: c[k] for k in DEFAULTS if k in c}
    opts["body"] = c.get("body_model", "none")
    o = _options(opts)
    if o["preview"]:
        _check_out(c.get("preview"), ".png")
    steps = ["read", "armature"] + [f"export {e}" for e in set(o["export"])] + ["save"] + \
        (["preview"] if o["preview"] else [])
    bar = tqdm(total=len(steps), desc="blender.import_skeleton", unit="step", disable=None)
    # read and validate the input before touching Blender
    bar.set_postfix_str(steps[0])
    src = Path(str(c["input"]))
    clip = read_pose(src, o["format"], subject=o["subject"], action=o["action"], fps=o["fps"],
                     height=float(o["height"]), x3d_up=o["x3d_up"])
    bar.update()
    written: list[Path] = []
    try:
        bar.set_postfix_str("armature")
        bpy.ops.wm.read_factory_settings(use_empty=True)
        bpy.context.preferences.filepaths.save_version = 0  # no .blend1 beside the temporary file
        built = load(bpy.context, src, **opts)
        bar.update()
        for kind in sorted(o["export"], key=lambda k: k == "bvh"):  # BVH last (see export)
            bar.set_postfix_str(f"export {kind}")
            written += export(built, out, [kind], verbose=bool(o["verbose"]))
            bar.update()
        bar.set_postfix_str("save")
        with atomic.atomic_path(out, suffix=".blend") as tmp:
            bpy.ops.wm.save_as_mainfile(filepath=str(tmp), check_existing=False, copy=True)
        written.insert(0, out)
        bar.update()
        if o["preview"]:
            bar.set_postfix_str("preview")
            written.append(render_preview(built, Path(str(o["preview"])), o["preview_frame"],
                                          verbose=bool(o["verbose"])))
            bar.update()
    except BaseException:
        for f in written:
            with contextlib.suppress(OSError):
                f.unlink()
        raise
    finally:
        bar.close()
    T = len(clip.positions)
    print(f"blender.import_skeleton: {src.name} ({clip.source}, {T} frames at {clip.fps:g} fps) → "
          f"{', '.join(str(f) for f in written)} in {time.perf_counter() - t0:.2f} s "
          f"(solve {built.seconds['solve']:.2f} s, keyframes {built.seconds['keyframes']:.2f} s)")
    return built


def main(overrides=None) -> int:
    """Entry point; ``overrides`` default to the command line (after ``--`` if present)."""
    from hpd3d.errors import cli_guard

    @cli_guard
    def _main():
        args = _args() if overrides is None else list(overrides)
        if any(a in ("--help", "-h") for a in args):
            print(__doc__)
            return
        run(load_config(args))

    _main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
