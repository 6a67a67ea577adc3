"""Keypoints through Blender: one frame evaluation for all cameras vs the original tool's
per-camera re-evaluation, the numpy route beside them, and Workbench render speed.

    .venv/bin/python bench/bench_blender.py [--frames 400] [--cams 8] [--bvh PATH]

On ``cmu_01_01.bvh`` (120 fps) with 8 ring cameras and the first ``--frames`` frames:

- ours: ``frame_set`` once per frame, all pose-bone matrices in one ``foreach_get``, then
  the rig map and :func:`hpd3d.camera.project_many` for all cameras at once;
- per-camera re-evaluation with batched reads: every frame evaluated again for every
  camera (``C`` × the ``frame_set`` calls), the numpy part still batched — the cost of
  re-evaluation alone;
- per-camera re-evaluation (the original tool's loop): for each camera, for each frame,
  ``frame_set`` + the same read + that camera's projection;
- per-camera, per-bone Python (the original tool's reads as well): for each camera and
  frame, ``frame_set``, each joint read from ``pose_bone.head``/``tail`` and projected
  with ``world_to_camera_view`` (measured on fewer frames: it is slow);
- the numpy route: :func:`hpd3d.bvh.load_bvh` + :func:`hpd3d.rig.to_h36m` +
  ``project_many`` on the whole file;
- Workbench render fps at 640×480 of the mannequin driven by the motion (H.264 mp4).

Rates are keypoint poses (frames × cameras, 17 joints each) per second; the BVH import
(the same for every Blender variant) is timed separately.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bpy  # noqa: E402
import numpy as np  # noqa: E402

from blender import scene as sc  # noqa: E402
from blender.bvh_import import ImportedRig, import_bvh, metres_per_unit  # noqa: E402
from hpd3d.bvh import load_bvh  # noqa: E402
from hpd3d.camera import project, project_many  # noqa: E402
from hpd3d.camera_sampling import CameraConfig, sample_cameras  # noqa: E402
from hpd3d.rig import map_rig, to_h36m  # noqa: E402

DEFAULT_BVH = REPO.parent / "shared" / "data" / "bvh" / "cmu_01_01.bvh"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bvh", type=Path, default=DEFAULT_BVH)
    ap.add_argument("--frames", type=int, default=400)
    ap.add_argument("--python-frames", type=int, default=50)
    ap.add_argument("--cams", type=int, default=8)
    ap.add_argument("--render-frames", type=int, default=30)
    a = ap.parse_args()

    bvh = load_bvh(a.bvh)
    rig = map_rig(bvh)
    _, scale = metres_per_unit(bvh, "auto", rig)
    T = min(a.frames, bvh.num_frames)
    frames = np.arange(T)
    ref = to_h36m(bvh)[frames]
    cams = sample_cameras(np.random.default_rng(0),
                          CameraConfig(count=a.cams, distortion_prob=0.0,
                                       resolutions=((640, 480),)), ref)[0]

    scene = sc.open_scene()
    t0 = time.perf_counter()
    obj = import_bvh(a.bvh, scale)
    t_import = time.perf_counter() - t0
    imp = ImportedRig.build(obj, bvh, scale)
    rows = []

    # ours: every frame once, all cameras
    t0 = time.perf_counter()
    x = rig.apply(imp.read(scene, frames))
    uv = project_many(x, cams)
    t_ours = time.perf_counter() - t0
    rows.append(("Blender, one evaluation per frame (ours)", T, t_ours))

    # re-evaluation alone: every frame again for every camera, reads still batched
    t0 = time.perf_counter()
    for cam in cams:
        project(rig.apply(imp.read(scene, frames)), cam)
    t_reeval = time.perf_counter() - t0
    rows.append(("Blender, re-evaluated per camera, batched reads", T, t_reeval))

    # the original tool's loop: per camera, per frame, frame_set + read + project
    t0 = time.perf_counter()
    uv_b = np.empty_like(uv)
    for c, cam in enumerate(cams):
        for k, f in enumerate(frames):
            xk = rig.apply(imp.read(scene, [f]))[0]
            uv_b[c, k] = project(xk, cam)
    t_base = time.perf_counter() - t0
    rows.append(("Blender, re-evaluated per camera, per-frame read+project", T, t_base))
    assert np.abs(uv_b - uv).max() < 1e-9  # same numbers, only slower

    # the original tool's reads too: per-bone Python + world_to_camera_view
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector

    cam_objs = sc.add_cameras(cams)
    Tp = min(a.python_frames, T)
    pbs = obj.pose.bones
    need = np.flatnonzero(np.abs(rig.weights).sum(axis=0) > 0)  # rig joints the map uses
    reads = []
    for j in need:
        if bvh.is_end[j]:
            reads.append((pbs[bvh.names[bvh.parents[j]]], "tail"))
        else:
            reads.append((pbs[bvh.names[j]], "head"))
    t0 = time.perf_counter()
    for c, (cam, cobj) in enumerate(zip(cams, cam_objs)):
        scene.render.resolution_x, scene.render.resolution_y = cam.width, cam.height
        for f in frames[:Tp]:
            scene.frame_set(int(f) + 1)
            mw = obj.matrix_world
            pts = np.array([tuple(mw @ getattr(pb, attr)) for pb, attr in reads])
            xk = rig.weights[:, need] @ pts
            for p in xk:
                world_to_camera_view(scene, cobj, Vector(p))
    t_py = time.perf_counter() - t0
    rows.append(("Blender, per camera, per-bone Python reads", Tp, t_py))

    # the numpy route on the whole file
    t0 = time.perf_counter()
    b2 = load_bvh(a.bvh)
    xn = to_h36m(b2)
    project_many(xn, cams)
    t_np = time.perf_counter() - t0
    rows.append((f"numpy route (parse + FK + project, all {b2.num_frames} frames)",
                 b2.num_frames, t_np))
    max_diff = np.abs(x - xn[frames]).max()

    # Workbench render fps at 640x480
    bpy.data.objects.remove(obj, do_unlink=True)
    n_r = min(a.render_frames, T)
    s = 1.0
    sc.setup_render(scene, "workbench", fps=bvh.fps)
    sc.fit_mannequin(x[:n_r] * s, 1.7)
    sc.drive_mannequin(x[:n_r])
    with tempfile.TemporaryDirectory() as tmp:
        sc.render_camera(scene, cam_objs[0], 1, video=Path(tmp) / "warm.mp4")  # GL start-up
        t0 = time.perf_counter()
        sc.render_camera(scene, cam_objs[0], n_r, video=Path(tmp) / "v.mp4")
        t_render = time.perf_counter() - t0

    C = len(cams)
    print(f"bench_blender: {a.bvh.name}, {C} cameras, Blender {bpy.app.version_string} "
          f"(pip bpy), frames 0..{T - 1} of {bvh.num_frames} (per-bone Python: first {Tp})")
    print(f"BVH import (bpy.ops.import_anim.bvh, whole file, shared by the Blender rows): "
          f"{t_import:.2f} s")
    print(f"{'method':58s} {'frames':>7s} {'time s':>8s} {'poses/s':>10s} {'vs ours':>8s}")
    rate_ours = T * C / t_ours
    for name, n, t in rows:
        rate = n * C / t
        print(f"{name:58s} {n:7d} {t:8.3f} {rate:10.0f} {rate / rate_ours:7.2f}x")
    print(f"Blender vs numpy 3D: max |diff| {max_diff:.1e} m")
    print(f"Workbench render 640x480, H.264, {n_r} frames: {n_r / t_render:.1f} fps "
          f"({t_render / n_r * 1000:.0f} ms/frame; software OpenGL here: "
          f"{_renderer()})")
    return 0


def _renderer() -> str:
    try:
        import gpu

        return gpu.platform.renderer_get()
    except Exception:  # noqa: BLE001
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
