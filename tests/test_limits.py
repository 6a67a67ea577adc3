"""Anatomical joint limits and the angle convention of synth.limits / synth.body."""

import numpy as np
import pytest

from hpd3d import anatomy
from synth import body as B
from synth import limits as L

DEG = np.pi / 180


def _fk(angles_deg: dict, body=None) -> np.ndarray:
    """Rest body posed by {joint: (flexion, abduction, rotation) degrees}, pelvis at 0."""
    body = body or B.mean_body(1.75)
    a = np.zeros((17, 3))
    for j, v in angles_deg.items():
        a[j] = np.radians(v)
    return B.fk(body.offsets, L.to_matrix(a)[None], np.zeros((1, 3)))[0]


def test_table_values():
    d = L.LIMITS_DEG
    assert tuple(d[2, 0]) == (-5, 160) and tuple(d[5, 0]) == (-5, 160)   # knees
    assert tuple(d[12, 0]) == (0, 150) and tuple(d[15, 0]) == (0, 150)   # elbows
    assert (d[list(L.LEAVES)] == 0).all()
    assert set(L.ROTATING) | set(L.LEAVES) == set(range(17))
    # left and right twins share their limits
    for a, b in ((1, 4), (2, 5), (11, 14), (12, 15)):
        assert (d[a] == d[b]).all()
    assert (L.LOWER <= L.NEUTRAL).all() and (L.NEUTRAL <= L.UPPER).all()
    assert "right_knee" in L.limits_table()


def test_sample_within_and_spans_the_box():
    rng = np.random.default_rng(0)
    a = L.sample(rng, 20000)
    assert a.shape == (20000, 17, 3)
    assert L.within(a).all()
    rot = list(L.ROTATING)
    span = L.UPPER[rot] - L.LOWER[rot]
    assert np.all(a[:, rot].min(0) - L.LOWER[rot] < 0.01 * span)
    assert np.all(L.UPPER[rot] - a[:, rot].max(0) < 0.01 * span)
    half = L.sample(rng, 5000, joints=[2], scale=0.5)
    assert np.allclose(half[:, [j for j in range(17) if j != 2]], 0)
    assert half[:, 2, 0].max() <= 80 * DEG + 1e-12 and half[:, 2, 0].min() >= -2.5 * DEG - 1e-12


def test_clip_and_within():
    a = np.zeros((4, 17, 3))
    a[1, 2, 0] = -20 * DEG          # knee hyperextension
    a[2, 12, 0] = 170 * DEG         # elbow past 150
    a[3, 6, 1] = 1 * DEG            # a leaf may not rotate
    m = L.within(a)
    assert m.shape == (4, 17)
    assert m[0].all() and not m[1, 2] and not m[2, 12] and not m[3, 6]
    assert m[1].sum() == 16
    c = L.clip(a)
    assert L.within(c).all()
    assert c[1, 2, 0] == pytest.approx(-5 * DEG) and c[2, 12, 0] == pytest.approx(150 * DEG)
    assert np.allclose(L.violation(c), 0)


def test_rotation_round_trip():
    rng = np.random.default_rng(1)
    a = L.sample(rng, 5000)
    r = L.to_rotation(a)
    assert r.shape == (5000, 17)
    back = L.from_rotation(r)
    assert np.abs(back - a).max() < 1e-9        # the in-limits decomposition is unique
    # any rotation: from_rotation → to_rotation is the identity on rotating joints
    raw = np.random.default_rng(2).uniform(-np.pi, np.pi, (500, 17, 3))
    again = L.to_matrix(L.from_rotation(L.to_rotation(raw)))
    assert np.abs(again - L.to_matrix(raw))[:, list(L.ROTATING)].max() < 1e-9


def test_shoulder_above_horizontal_reads_back_within_limits():
    a = np.zeros((3, 17, 3))
    a[0, 11] = (0, 120 * DEG, 0)        # side raise above the shoulder
    a[1, 14] = (10 * DEG, 170 * DEG, 40 * DEG)
    a[2, 11] = (20 * DEG, 90 * DEG, 10 * DEG)   # exactly at the Euler singularity
    back = L.from_rotation(L.to_rotation(a))
    assert L.within(back).all()
    assert np.allclose(back[:2], a[:2], atol=1e-9)
    assert np.allclose(L.to_matrix(back), L.to_matrix(a), atol=1e-9)


def test_anatomical_directions():
    fwd, left, up = B.FORWARD, B.LEFT, B.UP
    x = _fk({1: (90, 0, 0)})
    assert (x[2] - x[1]) @ fwd == pytest.approx(B.mean_body().length("thigh"))  # hip flexion
    x = _fk({2: (90, 0, 0)})
    assert (x[3] - x[2]) @ fwd < -0.4                                   # knee: shank back
    x = _fk({15: (90, 0, 0), 12: (90, 0, 0)})
    assert (x[16] - x[15]) @ fwd > 0.2 and (x[13] - x[12]) @ fwd > 0.2  # elbows: forward
    for sh, el, side in ((11, 12, +1), (14, 15, -1), (4, 5, +1), (1, 2, -1)):
        x = _fk({sh: (0, 45, 0)})
        assert side * ((x[el] - x[sh]) @ left) > 0.2                     # abduction: outwards
    x = _fk({7: (30, 0, 0)})
    assert (x[8] - x[7]) @ fwd > 0.1                                     # trunk flexion
    x = _fk({7: (0, 20, 0)})
    assert (x[8] - x[7]) @ left > 0.05                                   # bend to the left
    x = _fk({7: (0, 0, 30)})
    assert (x[11] - x[8]) @ fwd < -0.05                                  # turn left: L shoulder back
    # external rotation of a hip with the knee bent 90°: the foot swings towards the midline
    for hip, knee, ankle, side in ((1, 2, 3, -1), (4, 5, 6, +1)):
        x = _fk({hip: (0, 0, 30), knee: (90, 0, 0)})
        assert side * ((x[ankle] - x[knee]) @ left) < -0.1
    assert np.allclose(up, np.cross(left, -fwd))


def test_hinge_angles_agree_with_anatomy_measurement():
    rng = np.random.default_rng(3)
    a = L.sample(rng, 300)
    a[:, [2, 5, 12, 15], 1] = 0       # pure hinge: flexion is the angle between the bones
    a[:, [2, 5], 0] = np.abs(a[:, [2, 5], 0])
    body = B.mean_body()
    x = B.fk(body.offsets, L.to_matrix(a), np.zeros((300, 3)))
    for j, name in ((2, "right_knee"), (5, "left_knee"), (12, "left_elbow"), (15, "right_elbow")):
        assert np.allclose(anatomy.hinge_flexion(x, name), np.degrees(a[:, j, 0]), atol=1e-6)


def test_moves_lists_the_subtree_and_only_it_moves():
    assert L.MOVES[2] == (3,) and L.MOVES[5] == (6,)
    assert L.MOVES[1] == (2, 3) and L.MOVES[0] == tuple(range(1, 17))
    assert L.MOVES[8] == tuple(range(9, 17)) and L.MOVES[9] == (10,)
    assert L.MOVES[3] == () and L.MOVES_BY_NAME["right_knee"] == ("right_ankle",)
    base = _fk({})
    rng = np.random.default_rng(4)
    for j in L.ROTATING:
        x = _fk({j: tuple(rng.uniform(20, 40, 3))})
        moved = set(np.flatnonzero(np.linalg.norm(x - base, axis=1) > 1e-9))
        assert moved <= set(L.MOVES[j])
        assert moved, j


def test_joint_matrix_matches_full_pose():
    rng = np.random.default_rng(5)
    a = L.sample(rng, 50)
    full = L.to_matrix(a)
    for j in (1, 11, 0):
        assert np.allclose(L.joint_matrix(j, a[:, j]), full[:, j])
        assert np.allclose(L.joint_from_matrix(j, full[:, j]), a[:, j], atol=1e-9)


def test_matrices_match_scipy_euler_in_the_anatomical_frame():
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(6)
    a = rng.uniform(-np.pi, np.pi, (200, 17, 3))
    ref = B.ANATOMICAL_AXES @ Rotation.from_euler("XYZ", a.reshape(-1, 3)).as_matrix().reshape(
        200, 17, 3, 3) @ np.swapaxes(B.ANATOMICAL_AXES, -1, -2)
    assert np.abs(L.to_matrix(a) - ref).max() < 1e-12


# ------------------------------------------- the two limit tables (synth.limits_pose says why)
def _measure(a):
    body = B.mean_body()
    return B.fk(body.offsets, L.to_matrix(a), np.zeros((len(a), 3)))


def test_position_limits_agree_with_the_angle_table():
    from synth.limits_pose import POSE_LIMITS, within_limits

    rng = np.random.default_rng(0)
    # hinges: the measured range over the Euler range is the position table's
    for j, name in ((2, "right_knee"), (5, "left_knee"), (12, "left_elbow"), (15, "right_elbow")):
        a = np.zeros((2002, 17, 3))
        a[:, j, 0] = np.append(np.linspace(L.LOWER[j, 0], L.UPPER[j, 0], 2001), 0.0)
        flex = anatomy.hinge_flexion(_measure(a), name)
        lo, hi = POSE_LIMITS[name]
        assert lo == 0 and flex.min() == pytest.approx(0, abs=1e-6)
        assert flex.max() == pytest.approx(np.degrees(L.UPPER[j, 0]), abs=1e-6)
        assert 0 <= hi - flex.max() <= 5 + 1e-6  # knee: equal; elbow: 5° of slack
    # every joint alone within the middle 70 % of its Euler ranges; all in the middle 50 %
    for j in L.ROTATING:
        assert within_limits(_measure(L.sample(rng, 2000, joints=[j], scale=0.7))).all(), j
    assert within_limits(_measure(L.sample(rng, 4000, scale=0.5))).all()
    # where they differ (by design, documented): hips at full flexion + abduction
    a = np.zeros((1, 17, 3))
    a[0, 1] = [L.UPPER[1, 0], L.UPPER[1, 1], 0]
    ab = anatomy.all_angles(_measure(a), names=["right_hip_abduction"])["right_hip_abduction"]
    assert ab[0] > POSE_LIMITS["right_hip_abduction"][1] + 20
