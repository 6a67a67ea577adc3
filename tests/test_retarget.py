"""hpd3d.retarget: bone table, rest pose, rotation solve (round trip, hinges, no flips), BVH."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from hpd3d import retarget as rt
from hpd3d.bvh import dumps_bvh, load_bvh, parse_bvh
from hpd3d.rig import to_h36m
from hpd3d.skeleton import H36M

from conftest import BVH_FILES  # noqa: E402

MM = 1e-3
HINGES = ("LeftLeg", "RightLeg", "LeftForeArm", "RightForeArm")


@pytest.fixture(scope="module")
def clips():
    """Procedural clips: sharp turns, deep knee bends, arms over the head, a jump."""
    from synth import library

    lib = library.generate(5, seed=7, fps=30.0, motions=["turn", "squat", "arm_raise", "jump", "lunge"],
                           duration=(2.0, 2.5))
    return {c.motion: c.positions for c in lib.clips}


def solve(p, kind="T", symmetric=False):
    rest = rt.rest_pose(rt.bone_lengths(p, symmetric), kind, rt.pelvis_shape(p, symmetric))
    return rest, rt.solve_rotations(p, rest)


def err_mm(a, b):
    return float(np.linalg.norm(a - b, axis=-1).max() / MM)


def test_bone_table_is_the_agreed_one():
    want = [("Hips", 0, 7, None), ("Spine", 7, 8, "Hips"), ("Neck", 8, 9, "Spine"),
            ("Head", 9, 10, "Neck"), ("LeftShoulder", 8, 11, "Spine"),
            ("LeftArm", 11, 12, "LeftShoulder"), ("LeftForeArm", 12, 13, "LeftArm"),
            ("RightShoulder", 8, 14, "Spine"), ("RightArm", 14, 15, "RightShoulder"),
            ("RightForeArm", 15, 16, "RightArm"), ("LeftUpLeg", 4, 5, "Hips"),
            ("LeftLeg", 5, 6, "LeftUpLeg"), ("RightUpLeg", 1, 2, "Hips"), ("RightLeg", 2, 3, "RightUpLeg")]
    got = {b.name: tuple(b) for b in rt.BONES}
    for w in want:
        assert got[w[0]] == w
    leaves = {"LeftHand": (13, "LeftForeArm"), "RightHand": (16, "RightForeArm"),
              "LeftFoot": (6, "LeftLeg"), "RightFoot": (3, "RightLeg")}
    for name, (head, parent) in leaves.items():
        assert got[name] == (name, head, None, parent)
    assert len(rt.BONES) == 18
    names = [b.name for b in rt.BONES]
    assert all(names.index(b.parent) < i for i, b in enumerate(rt.BONES) if b.parent)


@pytest.mark.parametrize("kind", ["T", "A"])
def test_rest_pose_geometry(kind):
    L = np.linspace(0.1, 0.45, 16)
    r = rt.rest_pose(L, kind)
    got = np.linalg.norm(r[rt.H36M_BONES[:, 1]] - r[rt.H36M_BONES[:, 0]], axis=-1)
    np.testing.assert_allclose(got, L, atol=1e-12)
    assert min(r[3, 2], r[6, 2]) == pytest.approx(0.0, abs=1e-12)   # feet on the ground
    assert r[11, 0] > r[8, 0] > r[14, 0] and r[4, 0] > r[1, 0]          # left is +X
    # facing −Y: (right hip → left hip) × up is −Y
    f = np.cross(r[4] - r[1], [0, 0, 1])
    np.testing.assert_allclose(f / np.linalg.norm(f), [0, -1, 0], atol=1e-12)
    arm = (r[13] - r[11]) / np.linalg.norm(r[13] - r[11])
    assert np.degrees(np.arcsin(-arm[2])) == pytest.approx(0.0 if kind == "T" else 45.0, abs=1e-9)
    F = rt.rest_frames(r)
    np.testing.assert_allclose(F.transpose(0, 2, 1) @ F, np.broadcast_to(np.eye(3), F.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(F), 1.0, atol=1e-12)
    idx = {b.name: i for i, b in enumerate(rt.BONES)}
    for leg in ("LeftUpLeg", "LeftLeg", "RightUpLeg", "RightLeg", "Hips", "Spine"):
        np.testing.assert_allclose(F[idx[leg]][:, 0], [1, 0, 0], atol=1e-12)  # roll: body's left


def test_round_trip_procedural(clips):
    """Procedural bodies have constant bones and a rigid pelvis: FK reproduces the raw input."""
    for name, p in clips.items():
        rest, m = solve(p)
        assert err_mm(rt.normalize(p, rest), p) < 1e-3, name
        assert err_mm(rt.forward(m.local, m.root, rest), p) < 1.0, name
        # independently: hpd3d.fk through a written + parsed BVH and hpd3d.rig's 1:1 map
        bvh = parse_bvh(dumps_bvh(rt.positions_to_bvh(p, 30.0)))
        assert bvh.fps == 30.0
        assert err_mm(to_h36m(bvh), p) < 1.0, name


def test_round_trip_a_pose_and_symmetric(clips):
    p = clips["squat"]
    rest, m = solve(p, "A", symmetric=True)
    L = rt.bone_lengths(p, symmetric=True)
    assert L[0] == L[3] and L[12] == L[15]
    assert err_mm(rt.forward(m.local, m.root, rest), rt.normalize(p, rest)) < 1.0


@pytest.mark.parametrize("path", BVH_FILES, ids=lambda p: p.name)
def test_round_trip_real_bvh(path):
    p = to_h36m(load_bvh(path))[:200]
    rest, m = solve(p)
    norm = rt.normalize(p, rest)
    assert err_mm(rt.forward(m.local, m.root, rest), norm) < 1.0
    bvh = parse_bvh(dumps_bvh(rt.positions_to_bvh(p, 30.0)))
    assert err_mm(to_h36m(bvh), norm) < 1.0
    # the normalisation only evens bone lengths and the pelvis: it stays near the input
    assert err_mm(norm, p) < 40.0


def test_hinges_rotate_about_local_x(clips):
    idx = [rt.BONE_NAMES.index(n) for n in HINGES]
    for name, p in clips.items():
        _, m = solve(p)
        q = m.local[:, idx]                                   # w, x, y, z
        off = np.degrees(2 * np.arcsin(np.clip(np.linalg.norm(q[..., 2:], axis=-1), 0, 1)))
        bent = np.degrees(np.abs(m.hinge_angle)) > rt.STRAIGHT_DEG[1]
        assert off[bent].max(initial=0) < 1e-6, name            # read plane: pure hinge
        assert off.max() < rt.STRAIGHT_DEG[1], name             # carried (near straight)
        # the x-rotation is the hinge angle, positive = flexion
        ang = 2 * np.arctan2(q[..., 1], q[..., 0])
        ang = (ang + np.pi) % (2 * np.pi) - np.pi
        np.testing.assert_allclose(ang[bent], m.hinge_angle[bent], atol=1e-6)
    _, m = solve(clips["squat"])
    assert np.degrees(m.hinge_angle[:, :2]).max() > 90          # a deep knee bend, positive


def test_no_flips(clips):
    for name, p in clips.items():
        _, m = solve(p)
        q = m.local
        assert (np.einsum("tbi,tbi->tb", q[1:], q[:-1]) >= 0).all(), name
        step = Rotation.from_quat(q[1:].reshape(-1, 4)[:, [1, 2, 3, 0]]).inv() * \
            Rotation.from_quat(q[:-1].reshape(-1, 4)[:, [1, 2, 3, 0]])
        assert np.degrees(step.magnitude()).max() < 45.0, name


def _leg_through_straight(T=120, seed=0):
    """A standing body whose left knee bends, passes straight with ±2° jitter, bends again,
    while the whole body turns 270° about the vertical."""
    rng = np.random.default_rng(seed)
    rest = rt.rest_pose(np.full(16, 0.25))
    t = np.linspace(0, 1, T)
    knee = np.radians(np.concatenate([np.linspace(40, 0, T // 3), rng.uniform(-2, 2, T - 2 * (T // 3)),
                                      np.linspace(0, 60, T // 3)]))
    p = np.broadcast_to(rest, (T, 17, 3)).copy()
    shank = np.stack([np.zeros(T), np.sin(knee), -np.cos(knee)], -1) * 0.25
    p[:, 6] = p[:, 5] + shank
    yaw = Rotation.from_euler("z", 270 * t[:, None], degrees=True).as_matrix()
    return np.einsum("tij,tkj->tki", yaw, p - rest[0]) + rest[0]


def test_straight_limb_keeps_its_plane():
    p = _leg_through_straight()
    rest, m = solve(p)
    assert err_mm(rt.forward(m.local, m.root, rest), rt.normalize(p, rest)) < 1.0
    i = rt.BONE_NAMES.index("LeftUpLeg")
    x = m.pose[:, i, :, 0]
    # the thigh's hinge axis turns with the body (≈ 2.3°/frame), never flips across the
    # straight, jittering stretch
    step = np.degrees(np.arccos(np.clip(np.einsum("ti,ti->t", x[1:], x[:-1]), -1, 1)))
    assert step.max() < 5.0
    # and stays the body's left-right axis (the pelvis x)
    hips = m.pose[:, 0, :, 0]
    assert np.einsum("ti,ti->t", x, hips).min() > 0.99


def test_bones_rig_map_reads_bone_heads(clips):
    """A BVH with the armature's bone names (as Blender's exporter writes) maps back."""
    p = clips["turn"]
    bvh = rt.positions_to_bvh(p, 30.0)
    rename = {v: k for k, v in rt.BVH_NAMES.items()}
    bvh.names = [rename.get(n, n) for n in bvh.names]
    bvh.names[bvh.names.index("head")] = "Head_End"
    assert not set(H36M.joints) <= set(bvh.names)
    assert err_mm(to_h36m(bvh, rig=rt.bones_rig_map(bvh)), p) < 1.0


@pytest.mark.parametrize("bad, msg", [
    (np.zeros((10, 16, 3)), "(T, 17, 3)"),
    (np.zeros((0, 17, 3)), "no frames"),
    (np.full((3, 17, 3), np.nan), "non-finite"),
    (np.zeros((3, 17, 3)), "zero length"),
])
def test_bad_positions(bad, msg):
    with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        rt.validate_positions(bad)


@pytest.mark.parametrize("path", BVH_FILES, ids=lambda p: p.name)
def test_no_twist_flips_real_bvh(path):
    """Frame to frame, no bone turns much more than its own direction does (a twist flip of
    the thighs or upper arms would add up to 180°). Frame 0 is skipped (CMU files start
    with a calibration pose)."""
    p = to_h36m(load_bvh(path))[1:400]
    _, m = solve(p)
    P = m.pose
    R = np.einsum("tbji,tbjk->tbik", P[1:], P[:-1])
    step = np.degrees(np.arccos(np.clip((np.trace(R, axis1=-2, axis2=-1) - 1) / 2, -1, 1)))
    y = P[..., 1]
    swing = np.degrees(np.arccos(np.clip(np.einsum("tbi,tbi->tb", y[1:], y[:-1]), -1, 1)))
    assert (step - swing).max() < 20.0
