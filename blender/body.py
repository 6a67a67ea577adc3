"""The ``anny`` human body in Blender, bound to an armature in its rest pose.

:func:`add_body` fits anny's body to the armature's rest joints
(:func:`hpd3d.anny_body.body_from_skeleton`: phenotype fit, skin weights moved onto the
armature's bones, mesh moved into the rest pose), makes the mesh (``foreach_set``), one
vertex group per armature bone, an Armature modifier, smooth shading and a skin material.
The armature's bones are named as in :data:`hpd3d.anny_body.BODY_BONES` (Interfaces item
3); a bone the armature lacks (e.g. the leaf ``LeftHand``) hands its weights to its nearest
ancestor that exists.

``armature_rest_joints`` reads the (17, 3) rest joints back from such an armature.
"""

from __future__ import annotations

import bpy
import numpy as np

from hpd3d.anny_body import BODY_BONES, BONE_NAMES, Body, body_from_skeleton

__all__ = ["add_body", "armature_rest_joints", "SKIN_RGBA"]

SKIN_RGBA = (0.80, 0.57, 0.45, 1.0)   # linear; Workbench reads diffuse_color
EYE_RGBA = (0.06, 0.04, 0.03, 1.0)
_PARENT = {b[0]: b[3] for b in BODY_BONES}


def armature_rest_joints(armature_obj) -> np.ndarray:
    """(17, 3) H36M rest joints in the armature's space from its bones' rest heads/tails."""
    bones = armature_obj.data.bones
    out = np.full((17, 3), np.nan)
    for name, h, t, _ in BODY_BONES:
        if name in bones:
            b = bones[name]
            out[h] = b.head_local
            if t is not None:
                out[t] = b.tail_local
    if np.isnan(out).any():
        missing = [i for i in range(17) if np.isnan(out[i]).any()]
        raise ValueError(f"armature {armature_obj.name!r} lacks the bones of joints {missing}")
    return out


def _material(name, rgba, roughness=0.55):
    m = bpy.data.materials.get(name) or bpy.data.materials.new(name)
    m.diffuse_color = rgba
    m.roughness = roughness
    m.use_nodes = True
    bsdf = m.node_tree.nodes.get("Principled BSDF")
    if bsdf is not None:
        bsdf.inputs["Base Color"].default_value = rgba
        bsdf.inputs["Roughness"].default_value = roughness
    return m


def _target_bone(name: str, bones) -> str | None:
    while name is not None and name not in bones:
        name = _PARENT.get(name)
    return name


def body_mesh(body: Body, name: str = "Body") -> "bpy.types.Mesh":
    """A mesh datablock from ``body`` (vertices, faces, smooth shading, materials)."""
    me = bpy.data.meshes.new(name)
    V, F = len(body.vertices), len(body.face_sizes)
    me.vertices.add(V)
    me.vertices.foreach_set("co", body.vertices.astype(np.float32).ravel())
    me.loops.add(len(body.face_verts))
    me.loops.foreach_set("vertex_index", body.face_verts.astype(np.int32))
    me.polygons.add(F)
    starts = np.r_[0, np.cumsum(body.face_sizes)[:-1]].astype(np.int32)
    me.polygons.foreach_set("loop_start", starts)
    me.update(calc_edges=True)
    me.validate(clean_customdata=False)
    me.materials.append(_material("anny_skin", SKIN_RGBA))
    me.materials.append(_material("anny_eyes", EYE_RGBA, 0.2))
    me.polygons.foreach_set("material_index", body.face_part.astype(np.int32))
    me.polygons.foreach_set("use_smooth", np.ones(F, bool))
    me.update()
    return me


def add_body(armature_obj, rest=None, *, gender: float = 0.5, weight: float = 0.5,
             muscle: float = 0.5, age: float | None = None, name: str = "Body",
             preserve_volume: bool = False, collection=None, body: Body | None = None):
    """Make the anny body bound to ``armature_obj`` (its rest pose) and return the mesh
    object (also ``obj["anny_phenotype"]``: the fitted phenotype).

    ``rest``: (17, 3) rest joints in the armature's space (default: read from its bones).
    ``preserve_volume``: dual-quaternion skinning in the Armature modifier (off: linear
    blend, which the landmark test measures). ``body``: a :class:`Body` made beforehand
    (skips the fit)."""
    if rest is None:
        rest = armature_rest_joints(armature_obj)
    if body is None:
        kw = {} if age is None else {"age": age}
        body = body_from_skeleton(rest, gender=gender, weight=weight, muscle=muscle, **kw)
    me = body_mesh(body, name)
    obj = bpy.data.objects.new(name, me)
    (collection or armature_obj.users_collection[0]).objects.link(obj)
    bones = armature_obj.data.bones
    merged: dict[str, np.ndarray] = {}
    for bname in BONE_NAMES:
        target = _target_bone(bname, bones)
        if target is None:
            raise ValueError(f"armature {armature_obj.name!r} has no bone for {bname!r} "
                             f"(nor any of its parents)")
        w = np.asarray(body.groups[bname], np.float64)
        merged[target] = merged.get(target, 0.0) + w
    for bname, w in merged.items():
        vg = obj.vertex_groups.new(name=bname)
        nz = np.flatnonzero(w > 1e-6)
        # one add() per distinct weight value (MakeHuman's weights repeat a lot)
        vals, inv = np.unique(np.round(w[nz], 6), return_inverse=True)
        for k, val in enumerate(vals):
            vg.add(nz[inv == k].tolist(), float(val), "REPLACE")
    obj.parent = armature_obj
    obj.matrix_parent_inverse.identity()
    mod = obj.modifiers.new("Armature", "ARMATURE")
    mod.object = armature_obj
    mod.use_vertex_groups = True
    mod.use_bone_envelopes = False
    mod.use_deform_preserve_volume = preserve_volume
    obj["anny_phenotype"] = {k: float(v) for k, v in body.phenotype.items()}
    obj["anny_fit_rms"] = float(body.fit_rms)
    # how far the soles lie below the lower ankle joint (rest pose): for placing a floor
    obj["anny_sole_depth"] = float(min(rest[3, 2], rest[6, 2]) - body.vertices[:, 2].min())
    return obj
