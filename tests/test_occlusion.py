"""Occlusion flags on the Blender route (:mod:`blender.occlusion`): the mannequin's body and
the floor hide joints; ``visible_2d`` is written beside ``in_frame_2d``."""

from __future__ import annotations

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from blender import scene as sc  # noqa: E402
from blender.occlusion import hidden_joints  # noqa: E402
from hpd3d.camera import Camera, look_at  # noqa: E402


def _cam(centre, target) -> Camera:
    centre, target = np.asarray(centre, float), np.asarray(target, float)
    return Camera(1000, 1000, 1200.0, 1200.0, 500.0, 500.0, R=look_at(centre, target), C=centre)


def test_body_and_floor_hide_the_joints_behind_them():
    scene = sc.open_scene()
    pose = sc.nominal_rest(1.75)  # standing, facing −Y, left = +X, feet on z = 0
    x = np.repeat(pose[None], 3, axis=0)
    sc.set_floor(0.0)
    sc.fit_mannequin(x, 1.75)
    sc.drive_mannequin(x)
    hip = pose[0]
    knee = pose[5]
    cams = [_cam(knee + [4.0, 0, 0], knee),  # from the left side, knee height
            _cam(hip + [0, -4.0, 0.3], hip),  # from the front
            _cam([0.5, -4.0, -1.0], hip)]   # from under the floor
    hidden = hidden_joints(scene, cams, x, floor=0.0)
    assert hidden.shape == (3, 3, 17)
    assert (hidden == hidden[:, :1]).all()  # the same pose every frame
    side, front, under = hidden[:, 0]
    # from the left, the right knee and ankle hide behind the left ones (same height,
    # 0.26 m apart, capsules 0.15 and 0.11 m thick); the left side and the head are in view
    assert side[[2, 3]].all() and not side[[5, 6, 10, 11]].any()
    assert not front.any()  # facing the camera: everything in view
    assert under.all()  # below the floor, looking up: the floor hides everything


def test_render_writes_visible_beside_in_frame(tmp_path, bvh_dir):
    from blender.render import load_config, run
    from hpd3d.dataset import read_dataset

    run(load_config([f"out={tmp_path}", f"input={bvh_dir / 'mixamo_rig.bvh'}", "max_frames=8",
                     "camera.count=2"]))
    ds = read_dataset(tmp_path, "blender")
    vis = np.stack(ds.visible["mixamo-rig"]["mocap"])
    inf = np.stack(ds.in_frame["mixamo-rig"]["mocap"])
    assert vis.shape == inf.shape == (2, 8, 17) and vis.dtype == bool
    assert not (vis & ~inf).any()  # visible implies in frame
    assert 0.5 < vis.mean() < 1.0  # some joints hidden: a body is not transparent


def test_dataset_route_honours_fisheye_cameras(tmp_path, bvh_dir):
    from blender.render import load_config, run
    from hpd3d.camera import project_many
    from hpd3d.dataset import read_dataset

    run(load_config([f"out={tmp_path}", f"input={bvh_dir / 'mixamo_rig.bvh'}", "max_frames=6",
                     "camera=fisheye", "camera.count=2"]))
    ds = read_dataset(tmp_path, "blender")
    cams = ds.cameras["mixamo-rig"]["mocap"]
    assert [c.model for c in cams] == ["fisheye", "fisheye"]
    x = ds.positions_3d["mixamo-rig"]["mocap"].astype(np.float64)
    uv = np.stack(ds.positions_2d["mixamo-rig"]["mocap"])
    assert np.abs(project_many(x, cams) - uv).max() < 0.05  # the 2D is the fisheye projection
