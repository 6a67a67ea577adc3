"""blender.import_skeleton (pip bpy): depsgraph round trip, hinges, IK + foot lock, exports,
CLI and bad input, the add-on; the X3D conversion (numpy)."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from blender import import_skeleton as isk  # noqa: E402
from hpd3d import atomic, formats  # noqa: E402
from hpd3d import retarget as rt  # noqa: E402
from hpd3d.bvh import load_bvh  # noqa: E402
from hpd3d.rig import to_h36m  # noqa: E402

from conftest import BVH_FILES, REPO  # noqa: E402

MM = 1e-3
FPS = 30.0


def err_mm(a, b):
    return float(np.linalg.norm(a - b, axis=-1).max() / MM)


@pytest.fixture(scope="module")
def clips():
    from synth import library

    lib = library.generate(4, seed=11, fps=FPS, motions=["turn", "squat", "arm_raise", "walk"],
                           duration=(2.0, 2.5))
    return {c.motion: c.positions for c in lib.clips}


@pytest.fixture(scope="module")
def npz(clips, tmp_path_factory):
    d = tmp_path_factory.mktemp("poses")
    out = {}
    for name, p in clips.items():
        out[name] = d / f"{name}.npz"
        atomic.savez(out[name], world=p.astype(np.float64), fps=np.float64(FPS))
    return out


def fresh():
    bpy.ops.wm.read_factory_settings(use_empty=True)


def frames_of(T):
    return np.arange(1, T + 1)


# ------------------------------------------------------------------- round trip
def test_round_trip_procedural(clips, npz):
    """FK pose evaluated through the depsgraph = the input, every frame (procedural clips have
    constant bones and a rigid pelvis, so the input itself)."""
    for name in ("turn", "squat", "arm_raise"):
        fresh()
        b = isk.load(bpy.context, npz[name])
        p = clips[name]
        assert bpy.context.scene.frame_end == len(p)
        j = isk.read_joints(b.obj, frames_of(len(p)))
        assert err_mm(j, p) < 1.0, name
        # fps carried into the scene
        r = bpy.context.scene.render
        assert r.fps / r.fps_base == pytest.approx(FPS)


@pytest.mark.parametrize("path", BVH_FILES, ids=lambda p: p.name)
def test_round_trip_real_bvh(path):
    fresh()
    b = isk.load(bpy.context, path, ik=False)
    p = to_h36m(load_bvh(path))
    T = len(p)
    frames = frames_of(T) if T <= 300 else np.unique(np.linspace(1, T, 300).astype(int))
    j = isk.read_joints(b.obj, frames)
    assert err_mm(j, rt.normalize(p, b.rest)[frames - 1]) < 1.0
    assert bpy.context.scene.render.fps / bpy.context.scene.render.fps_base == pytest.approx(
        load_bvh(path).fps)


def test_knees_and_elbows_bend_about_local_x(clips, npz):
    """From Blender's evaluated pose matrices: the shank's rotation relative to the thigh
    (and forearm to upper arm) is about the bones' local x (their rolls agree)."""
    fresh()
    b = isk.load(bpy.context, npz["squat"])
    T = len(clips["squat"])
    pbs = b.obj.pose.bones
    names = [pb.name for pb in pbs]
    buf = np.empty((T, len(pbs) * 16), np.float32)
    for k, f in enumerate(frames_of(T)):
        bpy.context.scene.frame_set(int(f))
        pbs.foreach_get("matrix", buf[k])
    M = buf.reshape(T, len(pbs), 4, 4).transpose(0, 1, 3, 2)[..., :3, :3].astype(np.float64)
    from scipy.spatial.transform import Rotation

    bent_total = 0
    for up, lo in (("LeftUpLeg", "LeftLeg"), ("RightUpLeg", "RightLeg"),
                   ("LeftArm", "LeftForeArm"), ("RightArm", "RightForeArm")):
        rel = np.swapaxes(M[:, names.index(up)], -1, -2) @ M[:, names.index(lo)]
        rv = Rotation.from_matrix(rel).as_rotvec()
        ang = np.linalg.norm(rv, axis=-1)
        bent = ang > np.radians(rt.STRAIGHT_DEG[1])
        bent_total += bent.sum()
        off = np.degrees(np.linalg.norm(rv[:, 1:], axis=-1))
        assert off[bent].max(initial=0) < 0.01, up          # pure hinge (float32 matrices)
        assert (rv[bent, 0] > 0).all(), up                   # flexion is +x
    assert bent_total > T


# ------------------------------------------------------------------- IK + foot lock
def test_ik_reproduces_fk_and_foot_lock_holds(clips, tmp_path):
    p = clips["walk"].copy()
    T = len(p)
    contacts = isk.compute_contacts(p, FPS)
    assert contacts.any(axis=0).all()
    # a slow sideways drift: the planted feet slide by ~1 mm per frame in the data
    drift = np.stack([0.01 * np.sin(np.arange(T) / 6.0), np.zeros(T), np.zeros(T)], -1)
    q = p + drift[:, None]
    f = tmp_path / "walk.npz"
    atomic.savez(f, world=q, fps=np.float64(FPS), contacts=contacts)
    fresh()
    b = isk.load(bpy.context, f)
    norm = rt.normalize(q, b.rest)
    isk.set_switch(b.obj, ik_fk=1.0, foot_lock=0.0)
    j_ik = isk.read_joints(b.obj, frames_of(T))
    assert err_mm(j_ik, norm) < 1.0
    isk.set_switch(b.obj, ik_fk=1.0, foot_lock=1.0)
    j_lock = isk.read_joints(b.obj, frames_of(T))
    for col, (hip, ankle) in ((0, (1, 3)), (1, (4, 6))):
        c = contacts[:, col]
        # frames of a contact run whose held point the leg can reach (else it is pulled in)
        reach = sum(np.linalg.norm(b.rest[k + 1] - b.rest[k]) for k in (hip, hip + 1))
        free = isk.locked_track(norm[:, ankle], c, 4)
        ok = c & (np.linalg.norm(free - norm[:, hip], axis=-1) < 0.999 * reach)
        core = ok & np.roll(ok, 1)
        core[0] = False
        assert core.sum() > 0.4 * c.sum()
        step_lock = np.linalg.norm(np.diff(j_lock[:, ankle], axis=0), axis=-1)[core[1:]]
        step_data = np.linalg.norm(np.diff(norm[:, ankle], axis=0), axis=-1)[core[1:]]
        assert step_lock.max() < 0.05 * MM                     # held still
        assert step_data.mean() > 0.5 * MM                     # while the data slides
        assert err_mm(j_lock[c, ankle], free[c]) < 50          # near the plant everywhere
    # FK again: the data
    isk.set_switch(b.obj, ik_fk=0.0)
    assert err_mm(isk.read_joints(b.obj, frames_of(T)), norm) < 1.0


# ------------------------------------------------------------------- exports
def test_exports_round_trip(clips, npz, tmp_path):
    p = clips["arm_raise"]
    T = len(p)
    fresh()
    b = isk.load(bpy.context, npz["arm_raise"])
    out = tmp_path / "clip.blend"
    files = isk.export(b, out, ["bvh", "fbx", "glb"])
    assert [f.suffix for f in files] == [".fbx", ".glb", ".bvh"]
    head_len = float(np.linalg.norm(b.rest[10] - b.rest[9]))

    bvh = load_bvh(out.with_suffix(".bvh"))        # Blender's exporter writes Z-up metres
    assert bvh.num_frames == T and bvh.fps == pytest.approx(FPS)
    assert err_mm(to_h36m(bvh, units="m", up="z", rig=rt.bones_rig_map(bvh)), p) < 1.0

    for kind in ("fbx", "glb"):
        fresh()
        bpy.context.scene.render.fps = int(FPS)
        if kind == "fbx":
            bpy.ops.import_scene.fbx(filepath=str(out.with_suffix(".fbx")))
        else:
            bpy.ops.import_scene.gltf(filepath=str(out.with_suffix(".glb")))
        arm = next(o for o in bpy.data.objects if o.type == "ARMATURE")
        start = int(round(arm.animation_data.action.frame_range[0]))
        j = isk.read_joints(arm, np.arange(start, start + T), head_length=head_len)
        assert err_mm(j, p) < 1.0, kind
    fresh()


# ------------------------------------------------------------------- CLI, bad input
def run_main(args, capsys):
    with pytest.raises(SystemExit) as e:
        isk.main(args)
    return e.value.code, capsys.readouterr().err


def test_cli_writes_blend(npz, tmp_path):
    out = tmp_path / "sub" / "walk.blend"
    r = subprocess.run([sys.executable, "-m", "blender.import_skeleton", f"input={npz['walk']}",
                        f"out={out}", "rest=A", "symmetric=true"], cwd=REPO, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert out.is_file() and sorted(p.name for p in out.parent.iterdir()) == ["walk.blend"]
    bpy.ops.wm.open_mainfile(filepath=str(out))
    obj = bpy.data.objects["walk"]
    assert {b.name for b in obj.data.bones} >= set(rt.BONE_NAMES)
    assert obj["ik_fk"] == 0.0 and "IK" in obj.pose.bones["LeftLeg"].constraints
    p = np.load(npz["walk"])["world"]
    rest = rt.rest_pose(rt.bone_lengths(p, True), "A", rt.pelvis_shape(p, True))
    assert err_mm(isk.read_joints(obj, [1, len(p)]), rt.normalize(p, rest)[[0, -1]]) < 1.0
    fresh()


def _bad_files(tmp):
    good = np.zeros((5, 17, 3))
    nan = np.random.default_rng(0).normal(size=(5, 17, 3))
    nan[2, 4, 1] = np.nan
    files = {
        "must be (T, 17, 3)": (tmp / "shape.npz", dict(world=np.ones((5, 16, 3)), fps=30.0)),
        "non-finite": (tmp / "nan.npz", dict(world=nan, fps=30.0)),
        "no frames": (tmp / "empty_frames.npz", dict(world=good[:0], fps=30.0)),
        "not a pose file": (tmp / "other.npz", dict(something=good)),
    }
    for path, arrays in files.values():
        np.savez(path, **arrays)
    (tmp / "empty.npz").write_bytes(b"")
    (tmp / "text.bvh").write_text("hello\n")
    (tmp / "text.npy").write_text("not numpy\n")
    return {**{k: v[0] for k, v in files.items()}, "empty file": tmp / "empty.npz",
            "not a BVH file": tmp / "text.bvh", "not a pose file: not a readable": tmp / "text.npy"}


def test_bad_input_one_line_exit_2_no_output(tmp_path, capsys):
    outdir = tmp_path / "out"
    outdir.mkdir()
    for problem, path in _bad_files(tmp_path).items():
        code, err = run_main([f"input={path}", f"out={outdir / 'x.blend'}"], capsys)
        assert code == 2, problem
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}: "), (problem, err)
        assert problem in lines[0], (problem, err)
        assert list(outdir.iterdir()) == [], problem
    good = tmp_path / "good.npz"
    np.savez(good, world=np.random.default_rng(1).normal(size=(4, 17, 3)), fps=30.0)
    (tmp_path / "file").write_text("")
    for args, what in (([f"out={tmp_path / 'file' / 'x.blend'}"], "cannot write here"),
                       ([f"out={outdir / 'x.txt'}"], "must end in .blend"),
                       ([f"out={outdir / 'x.blend'}", "body=anny"], "body=anny needs blender/body.py"),
                       ([f"out={outdir / 'x.blend'}", "rest=Q"], "rest must be T or A"),
                       ([f"out={outdir / 'x.blend'}", "export=[obj]"], "export must be")):
        if what.startswith("body=anny") and (REPO / "blender" / "body.py").is_file():
            continue
        code, err = run_main([f"input={good}", *args], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1 and what in err, (args, err)
        assert err.startswith("error: ")
        assert list(outdir.iterdir()) == []


# ------------------------------------------------------------------- formats
def test_videopose3d_and_bvh_inputs(clips, tmp_path):
    f = tmp_path / "data_3d_test.npz"
    formats.save_3d(f, {"S1": {"walk": clips["walk"].astype(np.float32),
                               "turn": clips["turn"].astype(np.float32)}})
    with pytest.raises(Exception, match="2 actions in the file: choose action="):
        isk.read_pose(f)
    clip = isk.read_pose(f, action="turn", fps=25)
    assert clip.source == "vp3d" and clip.fps == 25 and err_mm(clip.positions, clips["turn"]) < 0.01
    assert isk.read_pose(f, action="walk").fps == 50.0
    bclip = isk.read_pose(BVH_FILES[0])
    assert bclip.source == "bvh" and bclip.positions.shape[1:] == (17, 3)


def _to_x3d(p, pitch_deg, scale):
    """World → a MotionBERT-like camera frame (x right, y down, z forward), camera in
    front of the subject looking along +Y, pitched down by ``pitch_deg``; unitless."""
    from scipy.spatial.transform import Rotation

    world_to_cam = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])   # inverse of (x, z, -y)
    tilt = Rotation.from_euler("x", pitch_deg, degrees=True).as_matrix()
    c = (p - p[0, 0]) @ world_to_cam.T @ tilt.T
    return c * scale


def test_x3d_to_world(clips):
    p = clips["walk"]
    rest = rt.rest_pose(rt.bone_lengths(p))
    height = rest[10, 2]
    # no tilt, up=camera: exactly the input (scaled to height, pelvis at 0, feet on 0)
    w = isk.x3d_to_world(_to_x3d(p, 0.0, 0.37), height=height, up="camera")
    want = p - p[0, 0] * np.array([1, 1, 0])
    want[..., 2] -= np.percentile(np.minimum(p[:, 3, 2], p[:, 6, 2]), 2)
    assert err_mm(w, want) < 0.01
    # a camera pitched by 15°: up is recovered from the body to within a few degrees
    w = isk.x3d_to_world(_to_x3d(p, 15.0, 0.37), height=1.6, up="auto")
    spine = np.median(w[:, 8] - w[:, 0], axis=0)
    spine_true = np.median(p[:, 8] - p[:, 0], axis=0)
    tilt = np.degrees(np.arccos(spine[2] / np.linalg.norm(spine)))
    tilt_true = np.degrees(np.arccos(spine_true[2] / np.linalg.norm(spine_true)))
    assert abs(tilt - tilt_true) < 4.0
    assert rt.rest_pose(rt.bone_lengths(w))[10, 2] == pytest.approx(1.6)


# ------------------------------------------------------------------- add-on
def test_addon_registers_imports_unregisters(npz, tmp_path):
    import blender.addon as addon

    fresh()
    addon.register()
    try:
        assert hasattr(bpy.types, "IMPORT_SCENE_OT_hpd3d_keypoints")
        assert hasattr(bpy.types, "VIEW3D_PT_hpd3d_pose")
        r = bpy.ops.import_scene.hpd3d_keypoints(filepath=str(npz["turn"]), rest="A", ik=True)
        assert r == {"FINISHED"}
        obj = bpy.data.objects["turn"]
        assert len([b for b in obj.data.bones if b.use_deform]) == len(rt.BONES)
        assert bpy.context.scene.frame_end == len(np.load(npz["turn"])["world"])
        with pytest.raises(RuntimeError, match="not a pose file"):
            bad = tmp_path / "bad.npz"
            np.savez(bad, other=np.zeros(3))
            bpy.ops.import_scene.hpd3d_keypoints(filepath=str(bad))
    finally:
        addon.unregister()
    assert not hasattr(bpy.types, "IMPORT_SCENE_OT_hpd3d_keypoints")
    assert not hasattr(bpy.types, "VIEW3D_PT_hpd3d_pose")
    fresh()


def test_addon_zip(tmp_path):
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import build_addon
    finally:
        sys.path.pop(0)
    z = build_addon.build(tmp_path / "addon.zip")
    names = zipfile.ZipFile(z).namelist()
    for f in ("__init__.py", "blender_manifest.toml", "import_skeleton.py", "compat.py",
              "hpd3d/retarget.py", "hpd3d/bvh.py", "hpd3d/rig.py"):
        assert f"hpd3d_pose_import/{f}" in names
    text = zipfile.ZipFile(z).read("hpd3d_pose_import/blender_manifest.toml").decode()
    assert 'id = "hpd3d_pose_import"' in text and 'type = "add-on"' in text
    init = zipfile.ZipFile(z).read("hpd3d_pose_import/__init__.py").decode()
    assert "bl_info" in init and "import_skeleton" in init


def test_body_hook_calls_add_body(npz, monkeypatch):
    """body=anny hands the armature and its rest pose to blender.body.add_body."""
    import importlib.machinery
    import types

    calls = []
    fake = types.ModuleType("blender.body")
    fake.__spec__ = importlib.machinery.ModuleSpec("blender.body", None)
    fake.add_body = lambda obj, rest, **kw: calls.append((obj, np.array(rest), kw))
    monkeypatch.setitem(sys.modules, "blender.body", fake)
    fresh()
    b = isk.load(bpy.context, npz["turn"], body="anny", body_options={"gender": 0.3}, ik=False)
    assert len(calls) == 1 and calls[0][0] == b.obj and calls[0][2] == {"gender": 0.3}
    np.testing.assert_allclose(calls[0][1], b.rest)
    assert calls[0][1].shape == (17, 3) and calls[0][1][[3, 6], 2].min() == pytest.approx(0.0)
    fresh()


def test_positions_to_bvh_through_blenders_importer(clips, tmp_path):
    """infer's <name>.bvh (hpd3d.retarget.positions_to_bvh) read by Blender's own BVH importer
    (blender.bvh_import, as blender.render does) gives the input back."""
    from blender.bvh_import import metres_per_unit
    from blender.bvh_import import read_joints as read_bvh_joints
    from hpd3d.bvh import save_bvh
    from hpd3d.rig import map_rig

    p = clips["arm_raise"]
    f = tmp_path / "clip.bvh"
    save_bvh(f, rt.positions_to_bvh(p, FPS))
    bvh = load_bvh(f)
    rig = map_rig(bvh)
    assert metres_per_unit(bvh, "auto", rig)[1] == 1.0
    fresh()
    x = rig.apply(read_bvh_joints(f, bvh, 1.0, np.arange(bvh.num_frames)))
    assert err_mm(x, p) < 1.0
