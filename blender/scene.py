"""The render scene: floor, light, a capsule mannequin on an H36M-17 armature, cameras.

``blender/HPD3D.blend`` is made by :func:`build_scene` (``python -m blender.make_scene``)
and opened fresh for every input file (:func:`open_scene`). It holds no animation: the
motion, the cameras and the mannequin's proportions are set per run.

Mannequin
    An armature ``Mannequin`` with one bone per H36M-17 segment: the bone of the segment
    parent → child is named after the CHILD joint (``right_knee`` runs from the right hip
    to the right knee), so joint ``j`` (j ≠ 0) is the tail of bone ``H36M.joints[j]`` and
    the pelvis is the head of ``right_hip``/``left_hip``/``spine``. The mesh
    ``MannequinMesh`` is one capsule per bone, every vertex weighted 1 to its bone
    (rigid vertex-group skinning through an Armature modifier); left limbs orange, right
    limbs blue, so a flip is visible.

Retargeting
    One empty per H36M joint (``J.<joint>`` in collection ``Targets``) carries the joint's
    world position as keyframes (:func:`drive_mannequin`: three F-curves per empty,
    filled with ``foreach_set``). Every bone has COPY_LOCATION to its head joint's empty
    and STRETCH_TO its tail joint's empty, so at every frame each bone runs exactly from
    joint to joint: the ground-truth joints lie on the capsule axes, inside the rendered
    silhouette. :func:`fit_mannequin` first sets the rest pose to the actor's own segment
    lengths (median over the sequence), so the stretch stays close to 1 and the capsules
    keep their shape; radii scale with the actor's height.

Cameras
    :func:`add_cameras` makes one Blender camera per :class:`hpd3d.camera.Camera` from
    :func:`hpd3d.camera.to_blender` (sensor fit AUTO, shift for the principal point);
    the render resolution is a scene setting, set per camera by :func:`render_camera`.
"""

from __future__ import annotations

import os
from pathlib import Path

import bpy
import numpy as np
from mathutils import Matrix

from hpd3d.camera import Camera, to_blender
from hpd3d.skeleton import H36M

from . import compat

__all__ = [
    "SCENE_FILE", "BONES", "NOMINAL_HEIGHT", "nominal_rest", "build_scene", "open_scene",
    "fit_mannequin", "drive_mannequin", "add_cameras", "setup_render", "render_camera",
    "set_floor", "add_anny", "ANNY_RIG",
]

SCENE_FILE = Path(__file__).resolve().parent / "HPD3D.blend"
NOMINAL_HEIGHT = 1.75
# one bone per segment parent → child, named after the child joint
BONES = tuple((int(p), int(c)) for p, c in H36M.bones)
BONE_NAMES = tuple(H36M.joints[c] for _, c in BONES)

# capsule per bone at the nominal height: (radius, inset at the head, inset at the tail) m;
# an inset moves the capsule's axis end inwards so its round cap ends near the joint.
_CAPSULE = {
    "right_hip": (0.085, 0.0, 0.0), "left_hip": (0.085, 0.0, 0.0),
    "right_knee": (0.075, 0.0, 0.0), "left_knee": (0.075, 0.0, 0.0),
    "right_ankle": (0.055, 0.0, 0.0), "left_ankle": (0.055, 0.0, 0.0),
    "spine": (0.125, 0.0, 0.0), "thorax": (0.14, 0.0, 0.03),
    "neck": (0.05, 0.0, 0.0), "head": (0.095, 0.0, 0.07),
    "left_shoulder": (0.06, 0.06, 0.0), "right_shoulder": (0.06, 0.06, 0.0),
    "left_elbow": (0.052, 0.0, 0.0), "right_elbow": (0.052, 0.0, 0.0),
    "left_wrist": (0.042, 0.0, 0.0), "right_wrist": (0.042, 0.0, 0.0),
}
_MATERIALS = {  # name: RGBA (linear)
    "body": (0.55, 0.55, 0.6, 1.0),
    "left": (0.85, 0.40, 0.12, 1.0),
    "right": (0.12, 0.38, 0.85, 1.0),
    "head": (0.80, 0.52, 0.36, 1.0),
}
_SEG, _CAP = 16, 4  # capsule resolution: segments around, rings per half sphere


def _material_of(bone: str) -> str:
    if bone in ("head", "neck"):
        return "head"
    if bone.startswith("left_") and bone not in ("left_hip", "left_shoulder"):
        return "left"
    if bone.startswith("right_") and bone not in ("right_hip", "right_shoulder"):
        return "right"
    return "body"


def nominal_rest(height: float = NOMINAL_HEIGHT) -> np.ndarray:
    """(17, 3) standing rest pose (arms 12° out), facing −Y, left = +X, feet at z = 0."""
    H = height
    z_hip = (0.039 + 0.246 + 0.245) * H
    z_spine, z_thorax = z_hip + 0.140 * H, z_hip + 0.295 * H
    z_shoulder = z_thorax - 0.015 * H
    p = np.zeros((17, 3))
    for side, (hip, knee, ankle) in ((-1, (1, 2, 3)), (1, (4, 5, 6))):
        p[hip] = (side * 0.075 * H, 0, z_hip)
        p[knee] = (side * 0.075 * H, 0, (0.039 + 0.246) * H)
        p[ankle] = (side * 0.075 * H, 0, 0.039 * H)
    p[0] = (0, 0, z_hip)
    p[7] = (0, 0, z_spine)
    p[8] = (0, 0, z_thorax)
    p[9] = (0, -0.015 * H, z_thorax + 0.080 * H)
    p[10] = (0, 0, H)
    a = np.radians(12.0)
    down = np.array([np.sin(a), 0.0, -np.cos(a)])
    for side, (sh, el, wr) in ((1, (11, 12, 13)), (-1, (14, 15, 16))):
        d = down * [side, 1, 1]
        p[sh] = (side * 0.100 * H, 0, z_shoulder)
        p[el] = p[sh] + 0.186 * H * d
        p[wr] = p[el] + 0.146 * H * d
    return p


# ---------------------------------------------------------------------- meshes
def _capsule(head, tail, r, inset_a, inset_b):
    """Vertices (N, 3) and quads/triangles of a capsule around head → tail (insets in m)."""
    head, tail = np.asarray(head, float), np.asarray(tail, float)
    u = tail - head
    L = np.linalg.norm(u)
    u = u / L if L > 1e-9 else np.array([0.0, 0.0, 1.0])
    a = head + u * min(inset_a, 0.45 * L)
    b = tail - u * min(inset_b, 0.45 * L)
    helper = np.array([1.0, 0, 0]) if abs(u[0]) < 0.9 else np.array([0, 1.0, 0])
    v = np.cross(u, helper)
    v /= np.linalg.norm(v)
    w = np.cross(u, v)
    phi = np.linspace(0, 2 * np.pi, _SEG, endpoint=False)
    circle = np.cos(phi)[:, None] * v + np.sin(phi)[:, None] * w  # (SEG, 3)
    rings = []  # (centre, along-axis offset, ring radius)
    for k in range(1, _CAP + 1):  # start cap: from near the pole to the equator
        t = -np.pi / 2 + np.pi / 2 * k / _CAP
        rings.append((a, np.sin(t) * r, np.cos(t) * r))
    for k in range(0, _CAP):  # end cap: equator to near the pole
        t = np.pi / 2 * k / _CAP
        rings.append((b, np.sin(t) * r, np.cos(t) * r))
    verts = [a - u * r]
    for c, off, rr in rings:
        verts.extend(c + u * off + rr * circle)
    verts.append(b + u * r)
    verts = np.asarray(verts)
    n_r = len(rings)
    faces = []
    for s in range(_SEG):  # start pole fan
        faces.append((0, 1 + (s + 1) % _SEG, 1 + s))
    for i in range(n_r - 1):
        r0, r1 = 1 + i * _SEG, 1 + (i + 1) * _SEG
        for s in range(_SEG):
            s1 = (s + 1) % _SEG
            faces.append((r0 + s, r0 + s1, r1 + s1, r1 + s))
    last, top = 1 + (n_r - 1) * _SEG, len(verts) - 1
    for s in range(_SEG):
        faces.append((last + s, last + (s + 1) % _SEG, top))
    return verts, faces


def _capsules(rest: np.ndarray, size: float):
    """All bones' capsules: vertices, faces, per-bone vertex ranges, per-face bone."""
    verts, faces, ranges, face_bone = [], [], [], []
    n = 0
    for k, (p, c) in enumerate(BONES):
        r, ia, ib = _CAPSULE[BONE_NAMES[k]]
        v, f = _capsule(rest[p], rest[c], r * size, ia * size, ib * size)
        verts.append(v)
        faces.extend(tuple(i + n for i in face) for face in f)
        face_bone.extend([k] * len(f))
        ranges.append((n, n + len(v)))
        n += len(v)
    return np.concatenate(verts), faces, ranges, np.asarray(face_bone)


# ----------------------------------------------------------------------- build
def _material(name: str, rgba) -> "bpy.types.Material":
    m = bpy.data.materials.new(name)
    m.diffuse_color = rgba  # Workbench (color type MATERIAL)
    m.roughness = 0.6
    m.use_nodes = True  # EEVEE and Cycles
    bsdf = m.node_tree.nodes.get("Principled BSDF")
    if bsdf is not None:
        bsdf.inputs["Base Color"].default_value = rgba
        bsdf.inputs["Roughness"].default_value = 0.6
    return m


def _set_active(obj) -> None:
    for o in bpy.context.view_layer.objects:
        o.select_set(False)
    bpy.context.view_layer.objects.active = obj
    obj.select_set(True)


def build_scene() -> "bpy.types.Scene":
    """Make the whole scene from an empty file (what ``make_scene`` saves)."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.name = "HPD3D"
    root = scene.collection
    cols = {}
    for name in ("Stage", "Mannequin", "Targets", "Cameras"):
        cols[name] = bpy.data.collections.new(name)
        root.children.link(cols[name])

    # world: plain grey background
    world = bpy.data.worlds.new("World")
    world.color = (0.18, 0.19, 0.21)
    world.use_nodes = True
    bg = world.node_tree.nodes.get("Background")
    if bg is not None:
        bg.inputs["Color"].default_value = (0.18, 0.19, 0.21, 1.0)
        bg.inputs["Strength"].default_value = 1.0
    scene.world = world

    # floor and light
    mesh = bpy.data.meshes.new("Floor")
    s = 100.0  # wide enough that its edge is beyond the horizon of any sampled camera
    mesh.from_pydata([(-s, -s, 0), (s, -s, 0), (s, s, 0), (-s, s, 0)], [], [(0, 1, 2, 3)])
    mesh.materials.append(_material("floor", (0.35, 0.36, 0.34, 1.0)))
    floor = bpy.data.objects.new("Floor", mesh)
    cols["Stage"].objects.link(floor)
    sun_data = bpy.data.lights.new("Sun", type="SUN")
    sun_data.energy = 3.0
    sun_data.angle = np.radians(10.0)
    sun = bpy.data.objects.new("Sun", sun_data)
    sun.rotation_euler = (np.radians(40.0), np.radians(10.0), np.radians(30.0))
    cols["Stage"].objects.link(sun)

    # mannequin: armature, capsule mesh, joint targets with constraints
    arm_data = bpy.data.armatures.new("Mannequin")
    arm_data.display_type = "STICK"
    arm = bpy.data.objects.new("Mannequin", arm_data)
    cols["Mannequin"].objects.link(arm)
    rest = nominal_rest()
    _set_active(arm)
    bpy.ops.object.mode_set(mode="EDIT")
    ebs = {}
    for (p, c), name in zip(BONES, BONE_NAMES):
        eb = arm_data.edit_bones.new(name)
        eb.head, eb.tail = rest[p], rest[c]
        ebs[c] = eb
    for (p, c), name in zip(BONES, BONE_NAMES):
        if p in ebs:
            ebs[c].parent = ebs[p]
            ebs[c].use_connect = False
    bpy.ops.object.mode_set(mode="OBJECT")
    for b in arm_data.bones:
        b.inherit_scale = "NONE"

    verts, faces, ranges, face_bone = _capsules(rest, 1.0)
    me = bpy.data.meshes.new("MannequinMesh")
    me.from_pydata(verts.tolist(), [], faces)
    names = list(_MATERIALS)
    for n in names:
        me.materials.append(_material(f"mannequin_{n}", _MATERIALS[n]))
    mat_index = np.array([names.index(_material_of(BONE_NAMES[k])) for k in face_bone], np.int32)
    me.polygons.foreach_set("material_index", mat_index)
    me.polygons.foreach_set("use_smooth", np.ones(len(me.polygons), bool))
    me.update()
    body = bpy.data.objects.new("MannequinMesh", me)
    cols["Mannequin"].objects.link(body)
    for name, (v0, v1) in zip(BONE_NAMES, ranges):
        vg = body.vertex_groups.new(name=name)
        vg.add(list(range(v0, v1)), 1.0, "REPLACE")
    body.parent = arm
    mod = body.modifiers.new("Armature", "ARMATURE")
    mod.object = arm
    mod.use_vertex_groups = True

    empties = []
    for j, joint in enumerate(H36M.joints):
        e = bpy.data.objects.new(f"J.{joint}", None)
        e.empty_display_type = "SPHERE"
        e.empty_display_size = 0.03
        e.location = rest[j]
        e.hide_render = True
        cols["Targets"].objects.link(e)
        empties.append(e)
    for (p, c), name in zip(BONES, BONE_NAMES):
        pb = arm.pose.bones[name]
        cl = pb.constraints.new("COPY_LOCATION")
        cl.target = empties[p]
        st = pb.constraints.new("STRETCH_TO")
        st.target = empties[c]
        st.volume = "NO_VOLUME"
        st.keep_axis = "PLANE_X"
        st.rest_length = arm_data.bones[name].length

    # render defaults (per-run settings override resolution, engine, output)
    r = scene.render
    r.engine = "BLENDER_WORKBENCH"
    r.resolution_x, r.resolution_y, r.resolution_percentage = 640, 480, 100
    r.pixel_aspect_x = r.pixel_aspect_y = 1.0
    r.fps, r.fps_base = 30, 1.0
    r.film_transparent = False
    sh = scene.display.shading
    sh.light = "STUDIO"
    sh.color_type = "MATERIAL"
    sh.show_shadows = True
    scene.display.render_aa = "OFF"  # software OpenGL: AA costs 5-20x
    scene.view_settings.view_transform = "Standard"
    scene.frame_start, scene.frame_end = 1, 1
    return scene


def open_scene(path=None) -> "bpy.types.Scene":
    """Open the scene file afresh (bpy is one global state: every input starts clean)."""
    path = Path(path or SCENE_FILE)
    bpy.ops.wm.open_mainfile(filepath=str(path), load_ui=False)
    scene = bpy.context.scene
    for name in ("Mannequin", "MannequinMesh", "Floor", "Cameras", "Targets"):
        if name not in bpy.data.objects and name not in bpy.data.collections:
            from hpd3d.errors import InputError

            raise InputError(path, f"not an HPD3D scene: no {name!r} (make it with "
                                   f"python -m blender.make_scene)")
    return scene


# ------------------------------------------------------------------ per run
def fit_mannequin(joints: np.ndarray, height: float) -> None:
    """Rest pose with the actor's segment lengths (median over ``joints`` (T, 17, 3)),
    capsule radii scaled by ``height`` / 1.75 m; rebuilds bones and mesh in place."""
    arm = bpy.data.objects["Mannequin"]
    body = bpy.data.objects["MannequinMesh"]
    nominal = nominal_rest()
    lengths = {c: float(np.median(np.linalg.norm(joints[:, c] - joints[:, p], axis=-1)))
               for p, c in BONES}
    rest = np.zeros((17, 3))
    rest[0] = nominal[0] * height / NOMINAL_HEIGHT
    for p, c in BONES:  # parents come first in H36M order
        d = nominal[c] - nominal[p]
        rest[c] = rest[p] + d / np.linalg.norm(d) * max(lengths[c], 1e-3)
    _set_active(arm)
    bpy.ops.object.mode_set(mode="EDIT")
    for (p, c), name in zip(BONES, BONE_NAMES):
        eb = arm.data.edit_bones[name]
        eb.head, eb.tail = rest[p], rest[c]
        eb.roll = 0.0
    bpy.ops.object.mode_set(mode="OBJECT")
    for name in BONE_NAMES:
        for con in arm.pose.bones[name].constraints:
            if con.type == "STRETCH_TO":
                con.rest_length = arm.data.bones[name].length
    verts, _, _, _ = _capsules(rest, height / NOMINAL_HEIGHT)
    if len(verts) != len(body.data.vertices):
        raise RuntimeError("mannequin mesh does not match this scene.py; re-run make_scene")
    body.data.vertices.foreach_set("co", verts.astype(np.float32).ravel())
    body.data.update()


def drive_mannequin(joints: np.ndarray, frame_start: int = 1) -> None:
    """Key every joint empty at frames ``frame_start …`` to ``joints`` (T, 17, 3)."""
    T = len(joints)
    t = np.arange(frame_start, frame_start + T, dtype=np.float64)
    for j, joint in enumerate(H36M.joints):
        e = bpy.data.objects[f"J.{joint}"]
        if e.animation_data is not None:
            e.animation_data_clear()
        _, fcurves = compat.new_action(e, f"J.{joint}")
        for axis in range(3):
            fc = fcurves.new("location", index=axis)
            fc.keyframe_points.add(T)
            co = np.empty((T, 2), np.float32)
            co[:, 0], co[:, 1] = t, joints[:, j, axis]
            fc.keyframe_points.foreach_set("co", co.ravel())
            fc.keyframe_points.foreach_set("interpolation", np.ones(T, np.int32))  # LINEAR
            fc.update()


ANNY_RIG = "AnnyRig"


def add_anny(joints: np.ndarray, gender: float = 0.5, weight: float = 0.5,
             muscle: float = 0.5):
    """The realistic subject (``render.subject=anny``): anny's body on an armature of the
    agreed bone table (:data:`hpd3d.anny_body.BODY_BONES`) driven by the same joint empties
    as the mannequin, which is hidden. Returns the body mesh object.

    Rest pose: a T-pose with the sequence's median segment lengths (``joints`` (T, 17, 3)).
    Every bone with a tail joint has COPY_LOCATION to its head joint's empty and STRETCH_TO
    its tail joint's empty, so it runs exactly from joint to joint on every frame (the
    ground truth is the joints, the skin follows them by linear blend skinning); Hips and
    Spine also have LOCKED_TRACK (about the bone, x toward the left hip / left shoulder)
    so the pelvis and chest turn with the body; limbs, neck and head take their twist from
    their parents (no twist data in joint positions); hands and feet follow their parents.
    """
    from hpd3d.anny_body import BODY_BONES, t_pose

    from .body import add_body

    lengths = np.median(np.linalg.norm(joints[:, 1:] - joints[:, np.asarray(H36M.parents)[1:]], axis=-1), axis=0)
    rest = t_pose(np.maximum(lengths, 1e-3))
    col = bpy.data.collections["Mannequin"]
    for name in ("Mannequin", "MannequinMesh"):
        bpy.data.objects[name].hide_render = True
        bpy.data.objects[name].hide_viewport = True
    old = bpy.data.objects.get(ANNY_RIG)
    if old is not None:
        for ch in list(old.children):
            bpy.data.objects.remove(ch)
        bpy.data.objects.remove(old)
    arm = bpy.data.objects.new(ANNY_RIG, bpy.data.armatures.new(ANNY_RIG))
    arm.data.display_type = "STICK"
    col.objects.link(arm)
    _set_active(arm)
    bpy.ops.object.mode_set(mode="EDIT")
    fwd, left = np.array([0.0, -1.0, 0.0]), np.array([1.0, 0.0, 0.0])
    ebs = {}
    for name, h, t, parent in BODY_BONES:
        eb = arm.data.edit_bones.new(name)
        head = rest[h]
        if t is not None:
            tail = rest[t]
        elif name.endswith("Hand"):  # leaf tails by rule (hpd3d.retarget.bone_tails)
            tail = head + 0.75 * (head - rest[h - 1])
        else:
            tail = head + 0.55 * np.linalg.norm(rest[h] - rest[h - 1]) * fwd
        eb.head, eb.tail = head, tail
        y = (tail - head) / np.linalg.norm(tail - head)
        x = np.cross(y, fwd) if name.endswith(("Shoulder", "Arm", "Hand")) else left
        eb.align_roll(np.cross(x, y))  # x = the bend axis, as the armature import sets it
        if parent:
            eb.parent = ebs[parent]
            eb.use_connect = False
        ebs[name] = eb
    bpy.ops.object.mode_set(mode="OBJECT")
    twist = {"Hips": "left_hip", "Spine": "left_shoulder"}
    for name, h, t, _ in BODY_BONES:
        arm.data.bones[name].inherit_scale = "NONE"
        if t is None:
            continue
        pb = arm.pose.bones[name]
        cl = pb.constraints.new("COPY_LOCATION")
        cl.target = bpy.data.objects[f"J.{H36M.joints[h]}"]
        st = pb.constraints.new("STRETCH_TO")
        st.target = bpy.data.objects[f"J.{H36M.joints[t]}"]
        st.volume = "NO_VOLUME"
        st.keep_axis = "PLANE_X"
        st.rest_length = arm.data.bones[name].length
        if name in twist:
            lt = pb.constraints.new("LOCKED_TRACK")
            lt.target = bpy.data.objects[f"J.{twist[name]}"]
            lt.lock_axis, lt.track_axis = "LOCK_Y", "TRACK_X"
    body = add_body(arm, rest, gender=gender, weight=weight, muscle=muscle, collection=col)
    body.name = "AnnyBody"
    return body


def set_floor(z: float) -> None:
    bpy.data.objects["Floor"].location = (0.0, 0.0, float(z))


def add_cameras(cams: list[Camera], prefix: str = "Cam") -> list:
    """One Blender camera object per :class:`Camera` (pinhole, no distortion, fx = fy)."""
    col = bpy.data.collections["Cameras"]
    out = []
    for i, cam in enumerate(cams):
        b = to_blender(cam)
        data = bpy.data.cameras.new(f"{prefix}.{i}")
        data.lens = b["lens"]
        data.sensor_width = b["sensor_width"]
        data.sensor_fit = b["sensor_fit"]
        data.shift_x, data.shift_y = b["shift_x"], b["shift_y"]
        data.clip_start, data.clip_end = 0.02, 1000.0
        obj = bpy.data.objects.new(f"{prefix}.{i}", data)
        obj.matrix_world = Matrix(b["matrix_world"].tolist())
        obj["resolution"] = (b["resolution_x"], b["resolution_y"])
        col.objects.link(obj)
        out.append(obj)
    return out


def setup_render(scene, engine: str = "workbench", samples: int = 16,
                 transparent: bool = False, floor: bool = True, fps: float = 30.0,
                 aa: str = "OFF", shadows: bool = True) -> None:
    """Engine and output settings. ``aa`` (Workbench anti-aliasing: OFF, FXAA, 5, 8, 11, 16,
    32) and ``shadows`` matter for speed on software OpenGL (llvmpipe): 640×480 renders in
    ≈ 0.1 s with OFF and shadows, ≈ 1.8 s with 8 samples."""
    r = scene.render
    scene.display.render_aa = str(aa)
    scene.display.shading.show_shadows = bool(shadows)
    r.engine = compat.engine_name(engine)
    if r.engine == "CYCLES":
        scene.cycles.samples = samples
        scene.cycles.device = "CPU"
        scene.cycles.use_denoising = False
    elif r.engine == compat.eevee_engine():
        scene.eevee.taa_render_samples = samples
    r.film_transparent = transparent
    r.resolution_percentage = 100
    r.use_border = False
    fps_int = max(1, round(fps))
    r.fps, r.fps_base = fps_int, fps_int / fps
    bpy.data.objects["Floor"].hide_render = not floor
    for o in bpy.data.collections["Targets"].objects:
        o.hide_render = True


def render_camera(scene, cam_obj, num_frames: int, video: Path | None = None,
                  frames_dir: Path | None = None, verbose: bool = False) -> None:
    """Render frames ``1 … num_frames`` through ``cam_obj``: PNG frames into ``frames_dir``
    (``000001.png`` …, RGBA when the film is transparent) and/or an H.264 ``video``."""
    scene.camera = cam_obj
    scene.render.resolution_x, scene.render.resolution_y = (int(v) for v in cam_obj["resolution"])
    scene.frame_start, scene.frame_end = 1, num_frames
    if frames_dir is not None:
        frames_dir.mkdir(parents=True, exist_ok=True)
        compat.set_image_output(scene, "PNG", rgba=scene.render.film_transparent)
        scene.render.filepath = str(frames_dir) + os.sep + "######"
        scene.render.use_file_extension = True
        with compat.quiet(not verbose):
            bpy.ops.render.render(animation=True, scene=scene.name)
        if video is not None:
            _encode(scene, frames_dir, num_frames, video, verbose)
    elif video is not None:
        video.parent.mkdir(parents=True, exist_ok=True)
        compat.set_video_output(scene)
        scene.render.filepath = str(video)
        scene.render.use_file_extension = False
        with compat.quiet(not verbose):
            bpy.ops.render.render(animation=True, scene=scene.name)


def _encode(scene, frames_dir: Path, num_frames: int, video: Path, verbose: bool) -> None:
    """PNG frames → H.264 through the sequencer of a scratch scene (no second 3D render)."""
    enc = bpy.data.scenes.new("encode")
    try:
        r = enc.render
        r.resolution_x, r.resolution_y = scene.render.resolution_x, scene.render.resolution_y
        r.resolution_percentage = 100
        r.fps, r.fps_base = scene.render.fps, scene.render.fps_base
        enc.frame_start, enc.frame_end = 1, num_frames
        enc.view_settings.view_transform = "Standard"  # the PNGs are display-referred already
        strips = compat.sequencer_strips(enc)
        names = [f"{k:06d}.png" for k in range(1, num_frames + 1)]
        strip = strips.new_image("frames", str(frames_dir / names[0]), channel=1, frame_start=1)
        for n in names[1:]:
            strip.elements.append(n)
        r.use_sequencer = True
        video.parent.mkdir(parents=True, exist_ok=True)
        compat.set_video_output(enc)
        r.filepath = str(video)
        r.use_file_extension = False
        with compat.quiet(not verbose):
            bpy.ops.render.render(animation=True, scene=enc.name)
    finally:
        bpy.data.scenes.remove(enc)
