"""Blender add-on: File > Import > "3D pose keypoints (.npz/.npy/.bvh)" and a sidebar panel.

Only operators, options and registration live here (as in Blender's ``io_anim_bvh``); the
work is :func:`import_skeleton.load` (``blender/import_skeleton.py`` in the repository,
copied beside this file by ``make addon``, with the ``hpd3d`` package; needs numpy and
scipy in Blender's Python). Loads as a 4.2+ extension (``blender_manifest.toml``) and, by
``bl_info``, as a legacy add-on in 3.6 – 4.1.
"""

from __future__ import annotations

import os
import sys

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, StringProperty
from bpy_extras.io_utils import ImportHelper

bl_info = {
    "name": "HPD3D: 3D pose keypoints import",
    "author": "hpd3d",
    "version": (0, 1, 0),
    "blender": (3, 6, 0),
    "location": "File > Import > 3D pose keypoints (.npz/.npy/.bvh); View3D > Sidebar > Pose",
    "description": "3D joint positions (infer npz, MotionBERT X3D.npy, VideoPose3D npz, BVH) "
                   "as a rigged, animated armature with IK and foot locking",
    "category": "Import-Export",
}


def _work():
    """The ``import_skeleton`` module: beside this file (packaged) or the repository's."""
    here = os.path.dirname(os.path.abspath(__file__))
    if os.path.isfile(os.path.join(here, "import_skeleton.py")):
        if here not in sys.path:  # the vendored ``hpd3d`` package
            sys.path.append(here)
        from . import import_skeleton
    else:
        from blender import import_skeleton
    return import_skeleton


class IMPORT_SCENE_OT_hpd3d_keypoints(bpy.types.Operator, ImportHelper):
    """Import 3D pose keypoints as an animated, rigged armature"""

    bl_idname = "import_scene.hpd3d_keypoints"
    bl_label = "Import 3D pose keypoints"
    bl_options = {"REGISTER", "UNDO", "PRESET"}

    filename_ext = ".npz"
    filter_glob: StringProperty(default="*.npz;*.npy;*.bvh", options={"HIDDEN"})

    format: EnumProperty(name="Format", default="auto", items=(
        ("auto", "Auto", "By suffix and content"),
        ("infer", "infer npz", "world (T, 17, 3) metres, fps, contacts"),
        ("x3d", "MotionBERT X3D.npy", "Camera frame, normalised units"),
        ("vp3d", "VideoPose3D npz", "positions_3d[subject][action]"),
        ("bvh", "BVH", "Any common rig, mapped to H36M-17"),
    ))
    subject: StringProperty(name="Subject", description="VideoPose3D npz: subject (empty: the only one)")
    action: StringProperty(name="Action", description="VideoPose3D npz: action (empty: the only one)")
    fps: FloatProperty(name="Frame rate", default=0.0, min=0.0,
                       description="Override the file's rate (0: the file's; X3D 30, VideoPose3D 50)")
    height: FloatProperty(name="Height (X3D)", default=1.6, min=0.3, max=3.0, unit="LENGTH",
                          description="X3D only: rest-pose ankle-to-head-top span")
    x3d_up: EnumProperty(name="Up (X3D)", default="auto", items=(
        ("auto", "From the body", "Estimate up from the torso and feet"),
        ("camera", "Camera", "The camera's -y is up"),
    ))
    rest: EnumProperty(name="Rest pose", default="T", items=(("T", "T-pose", ""), ("A", "A-pose", "")))
    symmetric: BoolProperty(name="Symmetric bones", default=False,
                            description="Average left and right bone lengths")
    ik: BoolProperty(name="IK rig", default=True, description="IK controllers, poles, foot locking")
    ik_fk: FloatProperty(name="FK/IK", default=0.0, min=0.0, max=1.0,
                         description="0 = FK (the data), 1 = IK (controllers)")
    foot_lock: BoolProperty(name="Foot lock", default=True,
                            description="Planted feet hold still in IK mode")
    contacts: EnumProperty(name="Contacts", default="auto", items=(
        ("auto", "Auto", "From the file, else computed"),
        ("compute", "Compute", "From ankle height and speed"),
        ("none", "None", "No foot locking"),
    ))
    body: EnumProperty(name="Body", default="none", items=(
        ("none", "None", "Armature only"),
        ("anny", "anny", "A skinned human body (needs blender/body.py)"),
    ))

    def execute(self, context):
        work = _work()
        opts = {k: getattr(self, k) for k in (
            "format", "subject", "action", "fps", "height", "x3d_up", "rest", "symmetric",
            "ik", "ik_fk", "foot_lock", "contacts", "body")}
        for k in ("subject", "action"):
            opts[k] = opts[k] or None
        opts["fps"] = opts["fps"] or None
        try:
            built = work.load(context, self.filepath, **opts)
        except ValueError as e:  # hpd3d.errors.InputError is a ValueError
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        self.report({"INFO"}, f"{built.obj.name}: {len(built.positions)} frames at {built.fps:g} fps")
        return {"FINISHED"}


class VIEW3D_PT_hpd3d_pose(bpy.types.Panel):
    """FK/IK switch, foot lock and body visibility of an imported armature"""

    bl_label = "3D pose"
    bl_idname = "VIEW3D_PT_hpd3d_pose"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Pose"

    @classmethod
    def poll(cls, context):
        obj = context.active_object
        return obj is not None and obj.type == "ARMATURE" and "ik_fk" in obj

    def draw(self, context):
        obj = context.active_object
        col = self.layout.column()
        col.prop(obj, '["ik_fk"]', text="FK / IK", slider=True)
        col.prop(obj, '["foot_lock"]', text="Foot lock", slider=True)
        for child in obj.children:
            if child.type == "MESH":
                col.prop(child, "hide_viewport", text=f"Hide {child.name}")


def _menu(self, context):
    self.layout.operator(IMPORT_SCENE_OT_hpd3d_keypoints.bl_idname,
                         text="3D pose keypoints (.npz/.npy/.bvh)")


CLASSES = (IMPORT_SCENE_OT_hpd3d_keypoints, VIEW3D_PT_hpd3d_pose)


def register():
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.TOPBAR_MT_file_import.append(_menu)


def unregister():
    bpy.types.TOPBAR_MT_file_import.remove(_menu)
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
