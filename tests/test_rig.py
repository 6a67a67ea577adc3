"""Rig → H36M-17 mapping on the five real rigs: roles, units, axes and sane anatomy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from hpd3d.bvh import Bvh, load_bvh, parse_bvh
from hpd3d.errors import InputError
from hpd3d.rig import (HEAD_TOP_RATIO, UNIT_SCALES, Y_UP_TO_Z_UP, detect_units, map_rig,
                       split_name, to_h36m, y_up_to_z_up)
from hpd3d.skeleton import H36M

# name → (detected units, source of H36M L-hip, L-shoulder, thorax, head top)
REAL = {
    "cmu_01_01.bvh": ("cmu", "LeftUpLeg", "LeftArm", "Neck", "Head_End"),
    "cmu_skeleton_example.bvh": ("cmu", "LeftUpLeg", "LeftArm", "Neck", "Head_End"),
    "mixamo_rig.bvh": ("cm", "mixamorig:LeftUpLeg", "mixamorig:LeftArm", "mixamorig:Neck",
                       "mixamorig:HeadTop_End"),
    "mocapbank_19joint.bvh": ("cm", "LeftHip", "LeftShoulder", "Neck", "Head_End"),
    "walk_23joint.bvh": ("inch", "LeftUpLeg", "LeftArm", "mid(LeftArm, RightArm)", "Head_End"),
}
L_LEG, R_LEG, L_ARM, R_ARM = (4, 5, 6), (1, 2, 3), (11, 12, 13), (14, 15, 16)
_cache: dict[str, Bvh] = {}


def real(bvh_dir, name) -> Bvh:
    if name not in _cache:
        _cache[name] = load_bvh(bvh_dir / name)
    return _cache[name]


def chain_length(x, chain):
    return sum(np.linalg.norm(x[..., a, :] - x[..., b, :], axis=-1) for a, b in zip(chain, chain[1:]))


def facing(x):
    """Forward direction per frame: (right hip → left hip) × up, horizontal, unit."""
    f = np.cross(x[:, 4] - x[:, 1], [0.0, 0.0, 1.0])
    return f / np.linalg.norm(f, axis=-1, keepdims=True)


def toe_dot_forward(bvh: Bvh, rig, scale) -> np.ndarray:
    """Per foot, mean over frames of (toe − ankle)·forward: > 0 when the sides are right."""
    pos = y_up_to_z_up(bvh.fk() * scale)
    x = rig.apply(pos)
    fwd = facing(x)
    out = []
    for i in (3, 6):
        ankle = int(np.argmax(rig.weights[i]))
        toe = [j for j in range(bvh.num_joints) if bvh.parents[j] == ankle][0]
        out.append(float(np.mean(np.sum((pos[:, toe] - pos[:, ankle]) * fwd, -1))))
    return np.array(out)


@pytest.mark.parametrize(
    "name, side, base",
    [("mixamorig:LeftUpLeg", "L", "upleg"), ("LHipJoint", "L", "hipjoint"), ("RThumb", "R", "thumb"),
     ("LowerBack", None, "lowerback"), ("UpperArm_L", "L", "upperarm"), ("thigh.R", "R", "thigh"),
     ("l_hip", "L", "hip"), ("left_knee", "L", "knee"), ("Right_Elbow", "R", "elbow"),
     ("Hips", None, "hips"), ("lShldr", "L", "shldr"), ("calf_r", "R", "calf"),
     ("neck_01", None, "neck01"), ("Head_End", None, "headend"), ("RightHand_End", "R", "handend"),
     ("upper_arm.L", "L", "upperarm"), ("Root", None, "root"), ("LEFT FOOT", "L", "foot"),
     ("Bip01 L Thigh", "L", "thigh"), ("Bip01 HeadNub", None, "headnub")],
)
def test_split_name(name, side, base):
    assert split_name(name) == (side, base)


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_rig_maps(bvh_dir, name):
    b = real(bvh_dir, name)
    units, lhip, lsho, thorax, top = REAL[name]
    rig = map_rig(b)
    assert rig.weights.shape == (17, b.num_joints)
    np.testing.assert_allclose(rig.weights.sum(1), 1.0)
    assert rig.sources[4] == lhip and rig.sources[11] == lsho
    assert rig.sources[8] == thorax and rig.sources[10] == top
    assert set(rig.interpolated) >= {"pelvis", "spine"}
    assert ("thorax" in rig.interpolated) == thorax.startswith("mid(")
    assert detect_units(b)[0] == units


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_rig_anatomy(bvh_dir, name):
    b = real(bvh_dir, name)
    x = to_h36m(b)
    assert x.shape == (b.num_frames, 17, 3) and x.dtype == np.float64
    x0 = x[0]
    scale = detect_units(b)[1]
    floor = y_up_to_z_up(b.fk()[0] * scale)[:, 2].min()  # lowest rig point: toes / foot End Sites
    height = x0[10, 2] - floor  # standing height in the first frame
    assert 1.4 <= height <= 2.1, height
    rest = map_rig(b).apply(b.rest_positions()) * scale
    thigh = np.linalg.norm(rest[[1, 4]] - rest[[2, 5]], axis=-1)
    assert ((0.3 <= thigh) & (thigh <= 0.6)).all(), thigh
    for left, right in ((L_LEG, R_LEG), (L_ARM, R_ARM)):  # whole limbs, every frame
        ratio = chain_length(x, left) / chain_length(x, right)
        assert np.abs(ratio - 1).max() < 0.05, ratio
    assert x0[3, 2] < x0[0, 2] and x0[6, 2] < x0[0, 2]  # feet below pelvis
    assert x0[10, 2] > x0[9, 2] > x0[8, 2] > x0[0, 2]  # head top > head > thorax > pelvis
    np.testing.assert_allclose(x[:, 0], (x[:, 1] + x[:, 4]) / 2)
    np.testing.assert_allclose(x[:, 7], (x[:, 0] + x[:, 8]) / 2)


@pytest.mark.parametrize("name", sorted(REAL))
def test_left_is_left(bvh_dir, name):
    """Sides are anatomical: with forward = (R-hip → L-hip) × up, the toes point forward."""
    b = real(bvh_dir, name)
    rig = map_rig(b)
    scale = detect_units(b)[1]
    assert (toe_dot_forward(b, rig, scale) > 0).all()
    # the check has teeth: swap the Left/Right names and it fails
    mirrored = Bvh([n.replace("Left", "\0").replace("Right", "Left").replace("\0", "Right")
                    for n in b.names], b.parents, b.offsets, b.channels, b.motion, b.frame_time, b.is_end)
    assert (toe_dot_forward(mirrored, map_rig(mirrored), scale) < 0).all()


def test_units_override_and_axes(bvh_dir):
    b = real(bvh_dir, "mixamo_rig.bvh")
    auto = to_h36m(b)
    np.testing.assert_array_equal(to_h36m(b, units="cm"), auto)
    np.testing.assert_allclose(to_h36m(b, units=0.01), auto)
    np.testing.assert_allclose(to_h36m(b, units="mm"), auto / 10)
    np.testing.assert_allclose(to_h36m(b, units="inch"), auto * 2.54)
    assert UNIT_SCALES["cmu"] == pytest.approx(0.0254 / 0.45)
    zup = to_h36m(b, up="z")  # kept as is: only scaled
    np.testing.assert_allclose(zup, map_rig(b).apply(b.fk()) * 0.01)
    np.testing.assert_allclose(y_up_to_z_up(zup), auto)
    for bad in ({"units": "furlong"}, {"units": -1.0}, {"up": "x"}):
        with pytest.raises(ValueError):
            to_h36m(b, **bad)


def test_y_up_to_z_up():
    np.testing.assert_array_equal(y_up_to_z_up(np.eye(3)), [[1, 0, 0], [0, 0, 1], [0, -1, 0]])
    rx90 = Rotation.from_euler("X", 90, degrees=True).as_matrix()
    np.testing.assert_allclose(Y_UP_TO_Z_UP, rx90, atol=1e-15)
    p = np.random.default_rng(0).normal(size=(5, 4, 3))
    np.testing.assert_allclose(y_up_to_z_up(p), p @ Y_UP_TO_Z_UP.T)
    assert np.linalg.det(Y_UP_TO_Z_UP) == 1.0


def test_unit_detection_is_scale_invariant(bvh_dir):
    b = real(bvh_dir, "walk_23joint.bvh")  # inches
    for unit, scale in UNIT_SCALES.items():
        k = 0.0254 / scale  # same body written in `unit`
        m = b.motion.copy()
        m[:, :3] *= k
        scaled = Bvh(b.names, b.parents, b.offsets * k, b.channels, m, b.frame_time, b.is_end)
        assert detect_units(scaled)[0] == unit
        np.testing.assert_allclose(to_h36m(scaled), to_h36m(b), atol=1e-9)


# ------------------------------------------------ other naming schemes, fallbacks
RENAMES = {  # mocapbank's joints under other exporters' names
    "daz": {"Hips": "hip", "Chest": "abdomen", "Chest2": "chest", "LeftCollar": "lCollar",
            "LeftShoulder": "lShldr", "LeftElbow": "lForeArm", "LeftWrist": "lHand", "Neck": "neck",
            "Head": "head", "LeftHip": "lThigh", "LeftKnee": "lShin", "LeftAnkle": "lFoot"},
    "unreal": {"Hips": "pelvis", "Chest": "spine_01", "Chest2": "spine_02", "LeftCollar": "clavicle_l",
               "LeftShoulder": "upperarm_l", "LeftElbow": "lowerarm_l", "LeftWrist": "hand_l",
               "Neck": "neck_01", "Head": "head", "LeftHip": "thigh_l", "LeftKnee": "calf_l",
               "LeftAnkle": "foot_l"},
    "rigify": {"Hips": "torso", "Chest": "spine", "Chest2": "chest", "LeftCollar": "shoulder.L",
               "LeftShoulder": "upper_arm.L", "LeftElbow": "forearm.L", "LeftWrist": "hand.L",
               "Neck": "neck", "Head": "head", "LeftHip": "thigh.L", "LeftKnee": "shin.L",
               "LeftAnkle": "foot.L"},
    "smpl": {"Hips": "Pelvis", "Chest": "Spine1", "Chest2": "Spine3", "LeftCollar": "L_Collar",
             "LeftShoulder": "L_Shoulder", "LeftElbow": "L_Elbow", "LeftWrist": "L_Wrist", "Neck": "Neck",
             "Head": "Head", "LeftHip": "L_Hip", "LeftKnee": "L_Knee", "LeftAnkle": "L_Ankle"},
    "biped": {"Hips": "Bip01 Pelvis", "Chest": "Bip01 Spine", "Chest2": "Bip01 Spine1",
              "LeftCollar": "Bip01 L Clavicle", "LeftShoulder": "Bip01 L UpperArm",
              "LeftElbow": "Bip01 L Forearm", "LeftWrist": "Bip01 L Hand", "Neck": "Bip01 Neck",
              "Head": "Bip01 Head", "LeftHip": "Bip01 L Thigh", "LeftKnee": "Bip01 L Calf",
              "LeftAnkle": "Bip01 L Foot"},
}


TO_RIGHT = {"biped": lambda v: v.replace(" L ", " R "), "daz": lambda v: "r" + v[1:], "unreal": lambda v: v[:-2] + "_r",
            "rigify": lambda v: v[:-2] + ".R", "smpl": lambda v: "R_" + v[2:]}


def _rename(b: Bvh, scheme: str) -> Bvh:
    table = RENAMES[scheme]
    full = dict(table)
    for k, v in table.items():
        if k.startswith("Left"):
            full[k.replace("Left", "Right")] = TO_RIGHT[scheme](v)
    names = [n if b.is_end[j] else full.get(n, n) for j, n in enumerate(b.names)]
    names = [f"{names[b.parents[j]]}_End" if b.is_end[j] else n for j, n in enumerate(names)]
    return Bvh(names, b.parents, b.offsets, b.channels, b.motion, b.frame_time, b.is_end)


@pytest.mark.parametrize("scheme", sorted(RENAMES))
def test_other_naming_schemes(bvh_dir, scheme):
    b = real(bvh_dir, "mocapbank_19joint.bvh")
    renamed = _rename(b, scheme)
    assert len(set(renamed.names)) == len(renamed.names)
    np.testing.assert_allclose(to_h36m(renamed), to_h36m(b))


def test_head_top_extrapolated_without_end_site(bvh_dir):
    b = real(bvh_dir, "mocapbank_19joint.bvh")
    head_end = b.index("Head_End")
    keep = [j for j in range(b.num_joints) if j != head_end]  # End Sites carry no channels
    remap = {j: i for i, j in enumerate(keep)}
    cut = Bvh([b.names[j] for j in keep], [remap.get(int(b.parents[j]), -1) for j in keep],
              b.offsets[keep], [b.channels[j] for j in keep], b.motion, b.frame_time, b.is_end[keep])
    rig = map_rig(cut)
    assert "head" in rig.interpolated
    x = to_h36m(cut, units="cm")
    np.testing.assert_allclose(x[:, 10], x[:, 9] + HEAD_TOP_RATIO * (x[:, 9] - x[:, 8]))
    np.testing.assert_allclose(np.delete(x, 10, axis=1), np.delete(to_h36m(b), 10, axis=1))


def test_unknown_rig_lists_roles_and_names(tmp_path):
    path = tmp_path / "robot_arm.bvh"
    path.write_text("HIERARCHY\nROOT Base\n{\n OFFSET 0 0 0\n CHANNELS 3 Zrotation Xrotation Yrotation\n"
                    " JOINT Link1\n {\n  OFFSET 0 1 0\n  CHANNELS 1 Zrotation\n  End Site\n  {\n"
                    "   OFFSET 0 1 0\n  }\n }\n}\nMOTION\nFrames: 1\nFrame Time: 0.1\n0 0 0 0\n")
    with pytest.raises(InputError) as e:
        map_rig(load_bvh(path))
    msg = str(e.value)
    for part in ("robot_arm.bvh", "left hip", "right wrist", "head", "thorax", "Base", "Link1"):
        assert part in msg, msg
    assert "\n" not in msg


def test_h36m_layout_pinned():
    assert H36M.joints[1] == "right_hip" and H36M.joints[11] == "left_shoulder"
    # a minimal hand-written rig in metres: sides by name, mapped in H36M order
    text = ("HIERARCHY\nROOT Hips\n{\n OFFSET 0 1 0\n CHANNELS 6 Xposition Yposition Zposition "
            "Zrotation Xrotation Yrotation\n")
    text += "".join(
        f" JOINT {s}UpLeg\n {{\n  OFFSET {x} 0 0\n  CHANNELS 3 Zrotation Xrotation Yrotation\n"
        f"  JOINT {s}Leg\n  {{\n   OFFSET 0 -0.45 0\n   CHANNELS 3 Zrotation Xrotation Yrotation\n"
        f"   JOINT {s}Foot\n   {{\n    OFFSET 0 -0.45 0\n    CHANNELS 3 Zrotation Xrotation Yrotation\n"
        f"    End Site\n    {{\n     OFFSET 0 -0.05 0.15\n    }}\n   }}\n  }}\n }}\n"
        for s, x in (("Left", 0.1), ("Right", -0.1)))
    text += (" JOINT Neck\n {\n  OFFSET 0 0.5 0\n  CHANNELS 3 Zrotation Xrotation Yrotation\n"
             "  JOINT Head\n  {\n   OFFSET 0 0.15 0\n   CHANNELS 3 Zrotation Xrotation Yrotation\n"
             "   End Site\n   {\n    OFFSET 0 0.15 0\n   }\n  }\n")
    rot = "CHANNELS 3 Zrotation Xrotation Yrotation"
    text += "".join(
        f"  JOINT {s}Arm\n  {{\n   OFFSET {x} 0 0\n   CHANNELS 3 Zrotation Xrotation Yrotation\n"
        f"   JOINT {s}ForeArm\n   {{\n    OFFSET {x * 1.5} 0 0\n    {rot}\n"
        f"    JOINT {s}Hand\n    {{\n     OFFSET {x * 1.5} 0 0\n     {rot}\n"
        f"     End Site\n     {{\n      OFFSET 0.05 0 0\n     }}\n    }}\n   }}\n  }}\n"
        for s, x in (("Left", 0.2), ("Right", -0.2)))
    # root position channels (0, 1, 0) replace its OFFSET
    text += " }\n}\nMOTION\nFrames: 1\nFrame Time: 0.1\n0 1 0 " + " ".join(["0"] * (3 + 3 * 14)) + "\n"
    b = parse_bvh(text)
    assert detect_units(b)[0] == "m"
    x = to_h36m(b)[0]
    # file +X (the figure's left, facing +Z) stays +X; file +Z (forward) becomes world −Y
    expect = {1: (-0.1, 0, 1), 2: (-0.1, 0, 0.55), 3: (-0.1, 0, 0.1), 4: (0.1, 0, 1), 6: (0.1, 0, 0.1),
              8: (0, 0, 1.5), 9: (0, 0, 1.65), 10: (0, 0, 1.8), 11: (0.2, 0, 1.5), 13: (0.8, 0, 1.5),
              14: (-0.2, 0, 1.5), 16: (-0.8, 0, 1.5), 0: (0, 0, 1), 7: (0, 0, 1.25)}
    for i, p in expect.items():
        np.testing.assert_allclose(x[i], p, atol=1e-12, err_msg=H36M.joints[i])
