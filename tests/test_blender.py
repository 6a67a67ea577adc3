"""The Blender stage: scene file, BVH → dataset parity with the numpy route, cameras,
rendering with ground truth, bad input. Runs on the pip ``bpy`` module (one global state:
every case opens the scene file afresh)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from blender import compat  # noqa: E402
from blender import scene as sc  # noqa: E402
from blender.bvh_import import import_bvh, metres_per_unit, read_joints  # noqa: E402
from blender.render import load_config, main, run, select_frames  # noqa: E402
from hpd3d.bvh import load_bvh  # noqa: E402
from hpd3d.camera import Camera, look_at, project, project_many  # noqa: E402
from hpd3d.camera_sampling import CameraConfig, sample_cameras  # noqa: E402
from hpd3d.dataset import read_dataset  # noqa: E402
from hpd3d.errors import InputError  # noqa: E402
from hpd3d.rig import map_rig, to_h36m  # noqa: E402
from hpd3d.skeleton import H36M  # noqa: E402

from conftest import BVH_FILES, REPO  # noqa: E402

PY = sys.executable
SMALL = "cmu_skeleton_example.bvh"  # 278 frames, CMU rig


def bvh_names():
    return [f.name for f in BVH_FILES]


# ----------------------------------------------------------------------------- compat
def test_compat_eevee_engine_names():
    v = bpy.app.version
    expect = "BLENDER_EEVEE_NEXT" if (4, 2) <= v[:2] < (5, 0) else "BLENDER_EEVEE"
    assert compat.eevee_engine() == expect
    assert compat.eevee_engine((5, 0, 0)) == "BLENDER_EEVEE"
    assert compat.eevee_engine((4, 2, 0)) == "BLENDER_EEVEE_NEXT"
    assert compat.eevee_engine((4, 1, 0)) == "BLENDER_EEVEE"
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    for name in ("workbench", "eevee", "cycles"):
        scene.render.engine = compat.engine_name(name)  # raises TypeError if unknown here
        assert scene.render.engine == compat.engine_name(name)
    with pytest.raises(ValueError):
        compat.engine_name("povray")


def test_compat_action_fcurves_this_branch():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    e = bpy.data.objects.new("E", None)
    scene.collection.objects.link(e)
    action, fcurves = compat.new_action(e, "A")
    for axis in range(3):
        fc = fcurves.new("location", index=axis)
        fc.keyframe_points.add(2)
        fc.keyframe_points.foreach_set("co", np.array([1, axis, 3, 10 + axis], np.float32))
    scene.frame_set(3)
    assert tuple(e.location) == (10.0, 11.0, 12.0)
    got = compat.action_fcurves(action)
    assert sorted((f.data_path, f.array_index) for f in got) == [("location", i) for i in range(3)]
    if bpy.app.version >= (4, 4, 0):  # the channelbag branch
        bag = action.layers[0].strips[0].channelbag(action.slots[0])
        assert len(bag.fcurves) == 3 and e.animation_data.action_slot == action.slots[0]
        empty = bpy.data.actions.new("B")
        assert len(compat.action_fcurves(empty)) == 0  # no slot, nothing created
        assert len(empty.layers) == 0


def test_compat_outputs_this_branch():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    compat.set_video_output(scene)
    img = scene.render.image_settings
    assert img.file_format == "FFMPEG"
    assert scene.render.ffmpeg.codec == "H264" and scene.render.ffmpeg.format == "MPEG4"
    if bpy.app.version >= (5, 0, 0):
        assert img.media_type == "VIDEO"
    else:
        assert not hasattr(img, "media_type")
    compat.set_image_output(scene, "PNG", rgba=True)
    assert img.file_format == "PNG" and img.color_mode == "RGBA"
    strips = compat.sequencer_strips(scene)
    assert hasattr(strips, "new_image") and len(strips) == 0


def test_compat_quiet_silences_fd1(capfd):
    with compat.quiet():
        os.write(1, b"Fra:1 noise\n")
    os.write(1, b"kept\n")
    with compat.quiet(False):
        os.write(1, b"also kept\n")
    assert capfd.readouterr().out == "kept\nalso kept\n"


def test_arguments_after_double_dash():
    from blender.render import _args

    assert _args(["blender", "-b", "x.blend", "-P", "render.py", "--", "a=1", "b=2"]) == [
        "a=1", "b=2"]
    assert _args(["render.py", "a=1"]) == ["a=1"]


# ------------------------------------------------------------------------------ scene
def test_scene_file_small_and_complete():
    size = sc.SCENE_FILE.stat().st_size
    assert 0 < size < 2 * 1024 * 1024
    scene = sc.open_scene()
    assert bpy.data.version[:2] == (4, 5)  # saved by the oldest Blender we support
    arm = bpy.data.objects["Mannequin"]
    names = [b.name for b in arm.data.bones]
    assert sorted(names) == sorted(H36M.joints[1:])
    for b in arm.data.bones:  # bone parent → child segments of H36M-17
        c = H36M.joints.index(b.name)
        p = H36M.parents[c]
        assert (b.parent.name if b.parent else None) == (H36M.joints[p] if p > 0 else None)
    body = bpy.data.objects["MannequinMesh"]
    assert {g.name for g in body.vertex_groups} == set(names)
    assert body.modifiers["Armature"].object == arm
    assert len(bpy.data.collections["Cameras"].objects) == 0
    assert len(bpy.data.actions) == 0  # no animation in the file (4.2 can open it)
    assert {f"J.{j}" for j in H36M.joints} <= set(bpy.data.objects.keys())
    assert "Floor" in bpy.data.objects and "Sun" in bpy.data.objects
    assert scene.render.engine == "BLENDER_WORKBENCH"


def test_make_scene_rebuilds(tmp_path):
    from blender.make_scene import make_scene

    out = make_scene(tmp_path / "s.blend")
    assert out.stat().st_size < 2 * 1024 * 1024
    sc.open_scene(out)
    assert len(bpy.data.objects["MannequinMesh"].data.vertices) > 1000


# ----------------------------------------------------------------------------- parity
def _cameras(seq, seed=0, **kw):
    cfg = CameraConfig(count=4, **kw)
    return sample_cameras(np.random.default_rng(seed), cfg, seq)[0]


@pytest.mark.parametrize("name", bvh_names())
def test_parity_with_numpy_route(bvh_dir, name):
    """Blender's importer + our read-back = hpd3d.rig.to_h36m (3D ≤ 1e-4 m, 2D ≤ 0.01 px)."""
    path = bvh_dir / name
    bvh = load_bvh(path)
    rig = map_rig(bvh)
    _, scale = metres_per_unit(bvh, "auto", rig)
    frames = np.unique(np.linspace(0, bvh.num_frames - 1, 24).astype(int))
    assert len(frames) >= 20
    sc.open_scene()
    xyz = read_joints(path, bvh, scale, frames)
    ours = rig.apply(xyz)
    ref = to_h36m(bvh)[frames]
    assert np.abs(ours - ref).max() <= 1e-4
    # every rig joint, End Sites included, not only the mapped ones
    from hpd3d.rig import y_up_to_z_up

    assert np.abs(xyz - y_up_to_z_up(bvh.fk()[frames] * scale)).max() <= 1e-4
    cams = _cameras(ref)  # with lens distortion half of the time
    d2 = np.abs(project_many(ours, cams) - project_many(ref, cams)).max()
    assert d2 <= 0.01
    assert len(bpy.data.armatures) == 1  # the imported armature was removed again


def test_blender_camera_matches_our_projection():
    """world_to_camera_view through cameras made from hpd3d.camera.to_blender ≤ 1e-3 px."""
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Vector

    scene = sc.open_scene()
    pts = sc.nominal_rest() + [0.3, -0.2, 0.0]
    target = pts.mean(axis=0)
    cams = []
    for i, (W, H, f, cx, cy, C) in enumerate([
            (1920, 1080, 1500.0, 960.0, 540.0, (3.0, -4.0, 1.5)),
            (1080, 1920, 1700.0, 530.5, 980.25, (-4.5, 1.0, 2.5)),      # portrait, shifted
            (1000, 1000, 700.0, 510.0, 488.0, (0.5, 5.0, 0.4)),
            (640, 480, 500.0, 300.0, 250.0, (2.0, 2.0, 3.5))]):
        C = np.asarray(C)
        cams.append(Camera(W, H, f, f, cx, cy, R=look_at(C, target, roll=0.1 * i), C=C))
    objs = sc.add_cameras(cams)
    worst = 0.0
    for cam, obj in zip(cams, objs):
        scene.render.resolution_x, scene.render.resolution_y = cam.width, cam.height
        scene.render.resolution_percentage = 100
        uv = project(pts, cam)
        for p, (u, v) in zip(pts, uv):
            x, y, _ = world_to_camera_view(scene, obj, Vector(p))
            worst = max(worst, abs(x * cam.width - u), abs((1 - y) * cam.height - v))
    assert worst <= 1e-3


def test_select_frames():
    idx, fps = select_frames(120, 1 / 120, 120.0, None, 0, 1, None)
    assert fps == 120 and len(idx) == 120
    idx, fps = select_frames(120, 1 / 120, 120.0, 30, 2, 2, 5)
    assert fps == 15 and idx.tolist() == [8, 16, 24, 32, 40]


# ------------------------------------------------------------------------ CLI runs
def _run(tmp, *overrides):
    cfg = load_config([f"out={tmp}", *overrides])
    return run(cfg)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory, bvh_dir):
    out = tmp_path_factory.mktemp("blender_run")
    _run(out, f"input={bvh_dir / SMALL}", "start=40", "stride=3", "max_frames=30",
         "camera.count=3", "seed=7")
    return out


def test_run_writes_dataset_and_record(small_run, bvh_dir):
    ds = read_dataset(small_run, "blender")
    x = ds.positions_3d["cmu-skeleton-example"]["mocap"]
    assert x.shape == (30, 17, 3) and x.dtype == np.float32
    uv = ds.positions_2d["cmu-skeleton-example"]["mocap"]
    assert len(uv) == 3 and uv[0].shape == (30, 17, 2)
    allv = np.stack(uv)
    assert np.all(allv != -1) and np.any(allv != np.round(allv))  # float, no sentinels
    inf = ds.in_frame["cmu-skeleton-example"]["mocap"]
    assert inf[0].dtype == bool and np.mean(inf) > 0.9
    cams = ds.cameras["cmu-skeleton-example"]["mocap"]
    assert all(c.fx == c.fy and np.all(c.dist == 0) for c in cams)
    # the 2D is the projection of the 3D through the written cameras
    assert np.abs(project_many(x.astype(np.float64), cams) - allv).max() < 0.05  # float32 storage
    intr = (small_run / "camera_intrinsics.txt").read_text().splitlines()
    assert len(intr[1].split()) == 13  # name model w h fx fy cx cy k1 k2 k3 p1 p2: no extrinsics
    rec = json.loads((small_run / "render_blender.json").read_text())
    assert rec["blender_version"] == bpy.app.version_string and rec["seed"] == 7
    assert rec["input_files"] == [str(bvh_dir / SMALL)] and rec["failures"] == []
    assert rec["config"]["camera"]["count"] == 3
    s = rec["sequences"][0]
    assert s["seed"] == [7, 0] and s["frames"] == 30 and s["source_frames"][:2] == [40, 43]
    # body scale: the numpy route's joints scaled about the ground point
    assert 1.55 <= s["height_m"] <= 1.85
    assert s["body_scale"] == pytest.approx(s["height_m"] / s["actor_height_m"])
    bvh = load_bvh(bvh_dir / SMALL)
    ref = to_h36m(bvh)[s["source_frames"]]
    g = np.asarray(s["ground_point"])
    assert np.abs(x - (g + s["body_scale"] * (ref - g))).max() < 2e-5  # float32 file
    assert not list(small_run.glob(".*"))  # no temporary leftovers


def test_run_without_body_scale_is_the_numpy_route(tmp_path, bvh_dir):
    _run(tmp_path, f"input={bvh_dir / 'mixamo_rig.bvh'}", "body.enabled=false",
         "max_frames=12", "camera.count=2")
    x = read_dataset(tmp_path, "blender").positions_3d["mixamo-rig"]["mocap"]
    assert np.abs(x - to_h36m(load_bvh(bvh_dir / "mixamo_rig.bvh"))[:12]).max() < 1e-5


def test_shards_equal_one_run(tmp_path, bvh_dir):
    folder = tmp_path / "in"
    folder.mkdir()
    for n in ("mixamo_rig.bvh", "mocapbank_19joint.bvh"):
        (folder / n).write_bytes((bvh_dir / n).read_bytes())
    common = [f"input={folder}", "max_frames=8", "camera.count=2"]
    _run(tmp_path / "all", *common)
    for i in range(2):
        _run(tmp_path / "sh", *common, f"shard={i}/2")
    whole = read_dataset(tmp_path / "all", "blender")
    for i, subject in enumerate(["mixamo-rig", "mocapbank-19joint"]):
        part = read_dataset(tmp_path / "sh" / f"shard-{i}of2", f"blender-{i}of2")
        assert list(part.positions_3d) == [subject]
        np.testing.assert_array_equal(part.positions_3d[subject]["mocap"],
                                      whole.positions_3d[subject]["mocap"])
        assert part.cameras[subject]["mocap"] == whole.cameras[subject]["mocap"]


def test_adaptor_videopose3d(small_run):
    from blender.adaptor import BlenderDataset

    d = BlenderDataset(small_run, "blender")
    assert list(d.subjects()) == ["cmu-skeleton-example"] and d.fps() == pytest.approx(40.0)
    assert d.skeleton().num_joints() == 17 and d.skeleton().joints_left() == list(H36M.left)
    anim = d["cmu-skeleton-example"]["mocap"]
    kps, meta = d.keypoints()
    assert meta["keypoints_symmetry"] == [list(H36M.left), list(H36M.right)]
    for c, cam in enumerate(anim["cameras"]):
        assert cam is d.cameras()["cmu-skeleton-example"][c] or cam["id"] == d.cameras()[
            "cmu-skeleton-example"][c]["id"]
        # VideoPose3D: world_to_camera with the camera→world quaternion, then its projection
        q = cam["orientation"].astype(np.float64)
        from scipy.spatial.transform import Rotation

        R_c2w = Rotation.from_quat(q, scalar_first=True).as_matrix()
        Xc = (anim["positions"] - cam["translation"]) @ R_c2w
        xy = Xc[..., :2] / Xc[..., 2:]
        uv_norm = cam["focal_length"] * xy + cam["center"]
        w, h = cam["res_w"], cam["res_h"]
        expect = kps["cmu-skeleton-example"]["mocap"][c] / w * 2 - [1, h / w]
        assert np.abs(uv_norm - expect).max() < 1e-4
        assert cam["intrinsic"].shape == (9,)
    kept = d.remove_joints([9])
    assert len(kept) == 16 and anim["positions"].shape[1] == 16


# ------------------------------------------------------------------------- rendering
def test_render_ground_truth_on_the_figure(tmp_path, bvh_dir):
    """Projected joints fall inside the rendered mannequin's silhouette (alpha)."""
    import cv2

    out = tmp_path / "r"
    _run(out, f"input={bvh_dir / 'mixamo_rig.bvh'}", "start=20", "stride=15", "max_frames=3",
         "camera.count=2", "camera.resolutions=[[320,240]]", "render.enabled=true",
         "render.frames=true", "render.transparent=true", "render.floor=false")
    ds = read_dataset(out, "blender")
    uv = ds.positions_2d["mixamo-rig"]["mocap"]
    inside, total = 0, 0
    for c in range(2):
        for t in range(3):
            png = out / "frames" / "mixamo-rig" / "mocap" / str(c) / f"{t + 1:06d}.png"
            im = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
            assert im.shape == (240, 320, 4)
            alpha = im[..., 3]
            for u, v in uv[c][t]:
                if 0 <= u < 320 and 0 <= v < 240:
                    total += 1
                    inside += alpha[int(v), int(u)] > 127
        cap = cv2.VideoCapture(str(out / "video" / "mixamo-rig" / "mocap" / f"{c}.mp4"))
        assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
        assert int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 320
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode()
        assert fourcc.lower() in ("h264", "avc1")
        cap.release()
    assert total >= 90 and inside / total >= 0.9
    rec = json.loads((out / "render_blender.json").read_text())
    assert rec["sequences"][0]["videos"] == ["video/mixamo-rig/mocap/0.mp4",
                                             "video/mixamo-rig/mocap/1.mp4"]


def test_render_refuses_distorting_cameras(tmp_path, bvh_dir):
    with pytest.raises(InputError, match="distortion"):
        _run(tmp_path, f"input={bvh_dir / SMALL}", "render.enabled=true",
             "camera.distortion_prob=0.5")


# ------------------------------------------------------------------------- bad input
def _write_bad_bvhs(folder: Path, bvh_dir: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    text = (bvh_dir / "mocapbank_19joint.bvh").read_text()
    files = {
        "garbage.bvh": "this is not a BVH file\n",
        # every Left/Right name changed: no rig role can be found
        "unmappable.bvh": text.replace("Left", "Port").replace("Right", "Starboard"),
    }
    for name, body in files.items():
        (folder / name).write_text(body)
    return files


def test_blender_importer_failure_names_the_file(tmp_path, bvh_dir):
    text = (bvh_dir / "mocapbank_19joint.bvh").read_text()
    # two rotation channels on the left knee: hpd3d reads it, Blender's importer cannot
    lines = text.splitlines()
    k = next(i for i, ln in enumerate(lines) if "JOINT LeftKnee" in ln)
    ch = next(i for i in range(k, k + 4) if "CHANNELS" in lines[i])
    assert lines[ch].split()[1] == "3"
    lines[ch] = lines[ch].replace("CHANNELS 3", "CHANNELS 2").rsplit(" ", 1)[0]
    bad = tmp_path / "two_channels.bvh"
    # drop the last column of the knee's channels from every motion line
    hdr_end = next(i for i, ln in enumerate(lines) if ln.strip().upper() == "MOTION")
    before = sum(int(ln.split()[1]) for ln in text.splitlines()[:ch] if "CHANNELS" in ln)
    col = before + 2  # the knee's third rotation channel
    for i in range(hdr_end + 3, len(lines)):
        vals = lines[i].split()
        if vals:
            del vals[col]
            lines[i] = " ".join(vals)
    bad.write_text("\n".join(lines) + "\n")
    bvh = load_bvh(bad)  # fine for the numpy route
    sc.open_scene()
    with pytest.raises(InputError) as e:
        import_bvh(bad, 0.01)
    assert str(bad) in str(e.value) and "Blender's BVH importer failed" in str(e.value)
    # the run rewrites it with three rotation channels per joint (as synth reads it, the
    # same motion): its joints are the numpy route's
    _run(tmp_path / "o", f"input={bad}", "body.enabled=false", "max_frames=12",
         "camera.count=2")
    x = read_dataset(tmp_path / "o", "blender").positions_3d["two-channels"]["mocap"]
    assert np.abs(x - to_h36m(bvh)[:12]).max() < 1e-5
    assert bvh.num_frames > 0 and not list((tmp_path / "o").glob(".*"))


def test_unmappable_rig_and_blind_camera(tmp_path, bvh_dir):
    _write_bad_bvhs(tmp_path / "in", bvh_dir)
    with pytest.raises(InputError) as e:
        _run(tmp_path / "o", f"input={tmp_path / 'in' / 'unmappable.bvh'}")
    assert "unmappable.bvh" in str(e.value) and "cannot map this rig" in str(e.value)
    with pytest.raises(InputError) as e:  # cameras look 100 m above the subject
        _run(tmp_path / "o", f"input={bvh_dir / 'mixamo_rig.bvh'}", "camera.target_height=100")
    assert "mixamo_rig.bvh" in str(e.value) and "sees 0%" in str(e.value)
    assert not (tmp_path / "o").exists()  # nothing written, no leftovers
    assert not list(tmp_path.glob(".*"))


def test_unwritable_output_folder(tmp_path, bvh_dir):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(InputError) as e:
        _run(blocker / "out", f"input={bvh_dir / SMALL}")
    assert str(blocker / "out") in str(e.value) and "cannot write the output folder" in str(e.value)


def test_main_exit_code_in_process(tmp_path, bvh_dir, capsys):
    _write_bad_bvhs(tmp_path / "in", bvh_dir)
    with pytest.raises(SystemExit) as e:
        main([f"input={tmp_path / 'in' / 'garbage.bvh'}", f"out={tmp_path / 'o'}"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "garbage.bvh" in err and "nothing written" in err
    assert not (tmp_path / "o" / "data_3d_blender.npz").exists()
    with pytest.raises(SystemExit) as e:
        main(["input=", f"out={tmp_path / 'o'}", "no_such_key=1"])
    assert e.value.code == 2


def test_folder_run_carries_on_and_exits_nonzero(tmp_path, bvh_dir):
    """As a script (the way Blender runs it: -P blender/render.py -- overrides)."""
    folder = tmp_path / "in"
    _write_bad_bvhs(folder, bvh_dir)
    (folder / "good.bvh").write_bytes((bvh_dir / "mixamo_rig.bvh").read_bytes())
    out = tmp_path / "o"
    env = dict(os.environ, PYTHONPATH="")
    p = subprocess.run([PY, str(REPO / "blender" / "render.py"), "--", f"input={folder}",
                        f"out={out}", "max_frames=6", "camera.count=2"],
                       cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 2, p.stderr
    err_lines = [ln for ln in p.stderr.splitlines() if "bvh" in ln]
    assert any("garbage.bvh" in ln for ln in err_lines)
    assert any("unmappable.bvh" in ln and "cannot map this rig" in ln for ln in err_lines)
    assert "2 of 3 input files failed" in p.stderr
    ds = read_dataset(out, "blender")
    assert list(ds.positions_3d) == ["good"]  # the good file is complete
    rec = json.loads((out / "render_blender.json").read_text())
    assert sorted(Path(f["file"]).name for f in rec["failures"]) == ["garbage.bvh",
                                                                      "unmappable.bvh"]
    assert not list(out.glob(".*"))
