"""A BVH through Blender's own importer, read back as joint positions — one evaluation per frame.

:func:`import_bvh` runs ``bpy.ops.import_anim.bvh`` with arguments that make its output
exactly our world: ``global_scale`` = metres per file unit (:mod:`hpd3d.rig`'s unit
detection on the parsed file), ``axis_up='Y', axis_forward='-Z'`` (the importer's
``axis_conversion`` is then the +90° turn about X of :func:`hpd3d.rig.y_up_to_z_up`, which
it bakes into the armature's rest pose), ``rotate_mode='NATIVE'`` (the file's Euler order)
and ``frame_start=1`` with no FPS scaling: BVH frame ``i`` is Blender frame ``i + 1``.

:class:`ImportedRig` relates every joint of the parsed :class:`hpd3d.bvh.Bvh` — End Sites
included — to the bone that carries it: a joint is its bone's head; an End Site is a point
fixed in its parent's bone (the bone tail when the importer put the tail there, which it
does unless the End Site is shorter than its zero-length guard), so its position is
``M_pose · M_rest⁻¹ · p_rest`` — the same deformation Blender applies to a skinned vertex.
:meth:`ImportedRig.read` evaluates each requested frame once (``scene.frame_set``), reads
every pose-bone matrix in one ``foreach_get`` into a preallocated buffer, and does the
rest for all frames at once in numpy. The H36M-17 joints are then ``RigMap.apply`` of
these positions — the same table as the numpy route (:func:`hpd3d.rig.to_h36m`).

What Blender's importer reads differently from :mod:`hpd3d.bvh` is refused up front with
an :class:`~hpd3d.errors.InputError`: joints with one or two rotation channels (the
importer fails on them) and partial position channels (it takes a missing component as
0, where the BVH convention keeps the OFFSET).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np

from hpd3d.bvh import Bvh
from hpd3d.errors import InputError
from hpd3d.rig import RigMap, y_up_to_z_up
from hpd3d.rig import resolve_units as metres_per_unit  # noqa: F401  (old name)

from .compat import quiet

__all__ = ["metres_per_unit", "check_importable", "with_three_rotation_channels", "import_bvh", "ImportedRig", "read_joints"]

_AXES = {"y": ("Y", "-Z"), "z": ("Z", "Y")}  # file up → importer (axis_up, axis_forward)


def check_importable(bvh: Bvh) -> None:
    """Refuse what Blender's importer would read differently from :mod:`hpd3d.bvh`."""
    for name, chans in zip(bvh.names, bvh.channels):
        rot = [c for c in chans if c.lower().endswith("rotation")]
        pos = [c for c in chans if c.lower().endswith("position")]
        if rot and len(rot) != 3:
            raise InputError(bvh.path, f"joint {name!r} has {len(rot)} rotation channel(s); "
                                       f"Blender's BVH importer needs 0 or 3")
        if pos and len(pos) != 3:
            raise InputError(bvh.path, f"joint {name!r} has {len(pos)} position channel(s); "
                                       f"Blender's BVH importer needs 0 or 3")


def with_three_rotation_channels(bvh: Bvh) -> Bvh:
    """The same motion with 0 or 3 rotation channels per joint (what Blender's importer
    reads): a rig with 1 or 2 rotation channels on some joint (a hinge) gets all three,
    the missing ones zero, so ``synth`` and ``blender.render`` accept the same files.
    Position channels other than the root's 3 cannot be rewritten this way (an error)."""
    from hpd3d.bvh import from_local

    root = int(np.flatnonzero(bvh.parents < 0)[0])
    for j, (name, chans) in enumerate(zip(bvh.names, bvh.channels)):
        pos = [c for c in chans if c.lower().endswith("position")]
        if pos and (j != root or len(pos) != 3):
            raise InputError(bvh.path, f"joint {name!r} has {len(pos)} position channel(s); "
                                       f"Blender's BVH importer needs 0 or 3 (root only)")
    root_pos = bvh.local_translations()[:, root]
    order = "ZXY"
    rot = [c for c in bvh.channels[root] if c.lower().endswith("rotation")]
    if len(rot) == 3:
        order = "".join(c[0].upper() for c in rot)
    out = from_local(bvh.names, bvh.parents, bvh.offsets, bvh.local_rotations(), root_pos,
                     bvh.frame_time, euler_order=order, is_end=bvh.is_end)
    out.path = bvh.path
    return out


def import_bvh(path, scale: float, up: str = "y", verbose: bool = False):
    """Import ``path`` with ``bpy.ops.import_anim.bvh``; returns the new armature object."""
    if up not in _AXES:
        raise InputError(None, f"up={up!r}: 'y' or 'z'")
    axis_up, axis_forward = _AXES[up]
    before = set(bpy.data.objects)
    try:
        with quiet(not verbose):
            result = bpy.ops.import_anim.bvh(
                filepath=str(Path(path).resolve()), target="ARMATURE", global_scale=scale,
                rotate_mode="NATIVE", axis_forward=axis_forward, axis_up=axis_up,
                frame_start=1, use_fps_scale=False, update_scene_fps=False,
                update_scene_duration=False, use_cyclic=False)
    except Exception as e:  # the operator wraps the importer's exception in a RuntimeError
        raise InputError(path, f"Blender's BVH importer failed: {_last_line(e)}") from None
    new = [o for o in bpy.data.objects if o not in before and o.type == "ARMATURE"]
    if result != {"FINISHED"} or len(new) != 1:
        raise InputError(path, f"Blender's BVH importer did not make one armature ({result})")
    return new[0]


def _last_line(e: Exception) -> str:
    lines = [ln.strip() for ln in str(e).strip().splitlines() if ln.strip()]
    msg = lines[-1] if lines else type(e).__name__
    return re.sub(r"^Error:\s*", "", msg)


@dataclass
class ImportedRig:
    """The joints of ``bvh`` (file order, End Sites included) as read from ``obj``."""

    obj: object          # the armature object
    bvh: Bvh
    owner: np.ndarray    # (J,) pose-bone index carrying each joint
    local: np.ndarray    # (J, 4) homogeneous joint position in its bone's rest frame

    @classmethod
    def build(cls, obj, bvh: Bvh, scale: float, up: str = "y") -> "ImportedRig":
        bones = obj.data.bones
        pose_names = [pb.name for pb in obj.pose.bones]
        index = {n: i for i, n in enumerate(pose_names)}
        joints = [j for j in range(bvh.num_joints) if not bvh.is_end[j]]
        if len(joints) != len(pose_names):
            raise InputError(bvh.path, f"Blender made {len(pose_names)} bones for "
                                       f"{len(joints)} joints")
        if all(bvh.names[j] in index for j in joints):
            bone_of = {j: index[bvh.names[j]] for j in joints}
        else:  # renamed by the importer (spaces, duplicates, > 63 bytes): same file order
            bone_of = dict(zip(joints, range(len(joints))))
        # the hierarchy must agree either way
        for j, b in bone_of.items():
            p = bvh.parents[j]
            parent = bones[pose_names[b]].parent
            want = None if p < 0 else pose_names[bone_of[p]]
            if (parent.name if parent else None) != want:
                raise InputError(bvh.path, f"Blender's armature does not match the file's "
                                           f"hierarchy at joint {bvh.names[j]!r}")
        owner = np.array([bone_of[bvh.parents[j]] if bvh.is_end[j] else bone_of[j]
                          for j in range(bvh.num_joints)], dtype=np.int64)
        B = len(pose_names)
        rest = np.empty(B * 16, np.float32)
        obj.data.bones.foreach_get("matrix_local", rest)  # armature.bones: same order
        if [b.name for b in obj.data.bones] != pose_names:
            rest = np.stack([np.asarray(bones[n].matrix_local, np.float32).T.ravel()
                             for n in pose_names]).ravel()
        rest = rest.reshape(B, 4, 4).transpose(0, 2, 1).astype(np.float64)
        p_rest = bvh.rest_positions() * scale
        p_rest = y_up_to_z_up(p_rest) if up == "y" else p_rest
        local = np.zeros((bvh.num_joints, 4))
        local[:, 3] = 1.0  # a joint is the origin of its own bone
        ends = np.flatnonzero(bvh.is_end)
        if len(ends):
            inv = np.linalg.inv(rest[owner[ends]])
            local[ends] = np.einsum("nab,nb->na", inv, np.c_[p_rest[ends], np.ones(len(ends))])
        return cls(obj, bvh, owner, local)

    def read(self, scene, frames, progress=None) -> np.ndarray:
        """(T, J, 3) world positions at BVH frames ``frames`` (0-based): one ``frame_set``
        and one ``foreach_get`` per frame, everything else batched."""
        frames = np.asarray(frames, dtype=np.int64)
        pose_bones = self.obj.pose.bones
        B = len(pose_bones)
        buf = np.empty((len(frames), B * 16), np.float32)
        for k, f in enumerate(frames):
            scene.frame_set(int(f) + 1)
            pose_bones.foreach_get("matrix", buf[k])
            if progress is not None:
                progress.update(1)
        W = np.asarray(self.obj.matrix_world, dtype=np.float64)
        M = buf.reshape(len(frames), B, 4, 4).transpose(0, 1, 3, 2).astype(np.float64)
        M = np.matmul(W, M)[:, self.owner]  # (T, J, 4, 4)
        return np.einsum("tjab,jb->tja", M[..., :3, :], self.local)


def read_joints(path, bvh: Bvh, scale: float, frames, up: str = "y", verbose: bool = False,
                progress=None) -> np.ndarray:
    """Import ``path`` into the current scene, read every joint of ``bvh`` (End Sites
    included) at BVH frames ``frames`` → (T, J, 3) metres, world Z-up; then delete the
    imported armature and its action again."""
    check_importable(bvh)
    obj = import_bvh(path, scale, up, verbose=verbose)
    try:
        action = obj.animation_data.action if obj.animation_data else None
        if action is not None and bvh.num_frames > 1:
            last = int(round(action.frame_range[1]))
            if last != bvh.num_frames:
                raise InputError(path, f"Blender's importer read {last} frames, the file "
                                       f"declares {bvh.num_frames}")
        rig = ImportedRig.build(obj, bvh, scale, up)
        return rig.read(bpy.context.scene, frames, progress)
    finally:
        remove_armature(obj)


def remove_armature(obj) -> None:
    """Delete an imported armature object with its data and action."""
    action = obj.animation_data.action if obj.animation_data else None
    data = obj.data
    bpy.data.objects.remove(obj, do_unlink=True)
    if data is not None and data.users == 0:
        bpy.data.armatures.remove(data)
    if action is not None and action.users == 0:
        bpy.data.actions.remove(action)
