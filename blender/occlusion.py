"""Which keypoints the render really shows: an occlusion flag per camera, frame and joint.

"In frame" (:func:`hpd3d.camera.in_image`) only says a joint projects inside the image;
the mannequin's own body and the floor can still hide it. For every frame the driven
mannequin is evaluated once, its deformed mesh becomes a BVH tree in world coordinates,
and a ray is cast from each camera centre towards each joint: the joint is hidden when the
first hit lies nearer than the joint by more than a margin AND belongs to a body part the
joint is not part of. A joint sits inside the capsules of the bones that meet at it (the
pelvis inside the hips' and the spine's), so the first surface a ray meets on its way to a
visible joint is one of those; any other part in front (the torso before the far wrist,
the near leg before the far hip) hides it. The floor is the plane ``z = floor``: a joint on
the other side of it from the camera is hidden.

``visible = in_image & not hidden`` is written as ``visible_2d`` beside ``in_frame_2d``.
"""

from __future__ import annotations

import numpy as np

from hpd3d.camera import Camera
from hpd3d.skeleton import H36M

MARGIN = 0.02  # metres: a hit this close to the joint does not hide it


def adjacent_bones() -> np.ndarray:
    """(17, 16) bool: bone k (``scene.BONES`` order) meets joint j."""
    from .scene import BONES

    adj = np.zeros((H36M.num_joints, len(BONES)), bool)
    for k, (p, c) in enumerate(BONES):
        adj[p, k] = adj[c, k] = True
    return adj


def hidden_joints(scene, cams: list[Camera], joints: np.ndarray, floor: float | None,
                  frame_start: int = 1, progress=None) -> np.ndarray:
    """(C, T, 17) bool: joint hidden from camera by the mannequin (already fitted and
    driven to ``joints`` (T, 17, 3) from ``frame_start``) or by the floor plane."""
    import bpy
    from mathutils import Vector
    from mathutils.bvhtree import BVHTree

    from .scene import _capsules, nominal_rest

    body = bpy.data.objects["MannequinMesh"]
    polys = [tuple(p.vertices) for p in body.data.polygons]
    face_bone = _capsules(nominal_rest(), 1.0)[3]  # the mesh's faces, in build order
    if len(face_bone) != len(polys):
        raise RuntimeError("mannequin mesh does not match scene.py; re-run make_scene")
    adj = adjacent_bones()
    centres = np.stack([np.asarray(c.C, dtype=np.float64) for c in cams])  # (C, 3)
    T, J = joints.shape[:2]
    d = joints[None] - centres[:, None, None]  # (C, T, J, 3)
    dist = np.linalg.norm(d, axis=-1)
    unit = d / np.maximum(dist, 1e-9)[..., None]
    hidden = np.zeros((len(cams), T, J), bool)
    if floor is not None:  # the segment camera → joint crosses the floor before the joint
        cz = centres[:, 2][:, None, None] - floor
        jz = joints[None, ..., 2] - floor
        cross = (cz * jz < 0) & (np.abs(jz) > MARGIN)
        hidden |= cross
    origins = [Vector(c) for c in centres]
    frames = range(T) if progress is None else progress(range(T))
    for t in frames:
        scene.frame_set(frame_start + t)
        dg = bpy.context.evaluated_depsgraph_get()
        ev = body.evaluated_get(dg)
        mesh = ev.to_mesh()
        try:
            co = np.empty(len(mesh.vertices) * 3, np.float64)
            mesh.vertices.foreach_get("co", co)
            M = np.array(ev.matrix_world)
        finally:
            ev.to_mesh_clear()
        co = co.reshape(-1, 3) @ M[:3, :3].T + M[:3, 3]
        tree = BVHTree.FromPolygons(co.tolist(), polys)
        for c, origin in enumerate(origins):
            for j in range(J):
                loc, _, face, hit = tree.ray_cast(origin, Vector(unit[c, t, j]), dist[c, t, j])
                if loc is not None and hit < dist[c, t, j] - MARGIN \
                        and not adj[j, face_bone[face]]:
                    hidden[c, t, j] = True
    return hidden
