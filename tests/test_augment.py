"""The H36M augmentation stage: geometry properties against independent computations."""

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from hpd3d import anatomy as an
from hpd3d.camera import to_opencv
from hpd3d.formats import load_2d, load_3d, save_3d
from hpd3d.skeleton import H36M, H36M32, H36M32_TO_17, bone_lengths
from synth.augment import augment_body, BodyConfig, scale_bones
from synth.augment_h36m import run
from hpd3d.dataset import read_dataset
from synth.joint_rotation import JOINTS, augment_joints
from synth.knee import augment_knees, set_knee_flexion
from synth.limits_pose import POSE_LIMITS, within_limits

REPO = Path(__file__).resolve().parents[1]
BVH = REPO.parent / "shared" / "data" / "bvh"


def standing(n=1):
    """A plain standing H36M pose facing +Y (metres, Z up)."""
    x = np.zeros((17, 3))
    x[0] = [0, 0, 1.0]
    x[1], x[2], x[3] = [0.12, 0, 1.0], [0.12, 0.01, 0.55], [0.12, 0, 0.1]
    x[4], x[5], x[6] = [-0.12, 0, 1.0], [-0.12, 0.01, 0.55], [-0.12, 0, 0.1]
    x[7], x[8], x[9], x[10] = [0, 0, 1.25], [0, 0, 1.5], [0, 0.02, 1.6], [0, 0, 1.75]
    x[11], x[12], x[13] = [-0.2, 0, 1.48], [-0.22, 0.02, 1.2], [-0.22, 0.05, 0.95]
    x[14], x[15], x[16] = [0.2, 0, 1.48], [0.22, 0.02, 1.2], [0.22, 0.05, 0.95]
    return np.repeat(x[None], n, axis=0)


@pytest.fixture(scope="module")
def mocap():
    """Real motion (CMU walk) as H36M-17, a few hundred frames."""
    from synth.inputs import from_bvh

    (_, _, seq), = from_bvh(str(BVH / "cmu_01_01.bvh"), fps=30)
    return seq[:300]


def test_knee_swing_keeps_shank_and_plane_and_hits_the_angle(mocap):
    rng = np.random.default_rng(0)
    target = rng.uniform(0, 160, size=(len(mocap), 2))
    out = set_knee_flexion(mocap, target)
    for leg, (h, k, a) in enumerate(((1, 2, 3), (4, 5, 6))):
        np.testing.assert_allclose(np.linalg.norm(out[:, a] - out[:, k], axis=-1),
                                   np.linalg.norm(mocap[:, a] - mocap[:, k], axis=-1), atol=1e-9)
        name = "right_knee" if leg == 0 else "left_knee"
        np.testing.assert_allclose(an.hinge_flexion(out, name), target[:, leg], atol=1e-6)
        # the ankle stays in the plane of hip, knee and the original ankle where bent
        bent = an.hinge_flexion(mocap, name) > 25
        n = np.cross(mocap[:, k] - mocap[:, h], mocap[:, a] - mocap[:, k])
        n /= np.linalg.norm(n, axis=-1, keepdims=True)
        off = np.abs(np.sum((out[:, a] - mocap[:, k]) * n, axis=-1))
        assert off[bent].max() < 1e-6
    # nothing but the ankles moves
    others = [j for j in range(17) if j not in (3, 6)]
    np.testing.assert_array_equal(out[:, others], mocap[:, others])


def test_knee_flexes_backwards_from_straight():
    x = standing()
    out = set_knee_flexion(x, np.array([[90.0, 90.0]]))
    assert out[0, 3, 1] < x[0, 2, 1] - 0.3 and out[0, 6, 1] < x[0, 5, 1] - 0.3  # behind


def test_knee_coverage_spans_full_range(mocap):
    rng = np.random.default_rng(1)
    out = np.concatenate([augment_knees(mocap, rng, prob=1.0) for _ in range(6)])
    flex = np.concatenate([an.hinge_flexion(out, "right_knee"), an.hinge_flexion(out, "left_knee")])
    assert flex.min() >= -1e-6 and flex.max() <= 160 + 1e-6
    assert flex.min() < 5 and flex.max() > 155
    hist, _ = np.histogram(flex, bins=8, range=(0, 160))
    assert (hist > 0.03 * len(flex)).all()  # every 20° bin well populated
    # smooth in time: frame-to-frame flexion steps stay small
    assert np.abs(np.diff(an.hinge_flexion(out[:300], "right_knee"))).max() < 15


@pytest.mark.parametrize("joint", list(JOINTS))
def test_joint_rotation_preserves_bones_and_limits(joint, mocap):
    rng = np.random.default_rng(2)
    out = augment_joints(mocap, rng, joints=(joint,), prob=1.0, max_deg=(60, 45, 45))
    np.testing.assert_allclose(bone_lengths(out), bone_lengths(mocap), atol=1e-6)
    ok_before = within_limits(mocap)
    assert ok_before.mean() > 0.5
    assert within_limits(out)[ok_before].all()
    assert np.abs(out - mocap).max() > 0.02  # it did move something


def test_limits_table_is_sane():
    for name, (lo, hi) in POSE_LIMITS.items():
        assert lo < hi, name
    assert POSE_LIMITS["right_knee"] == (0.0, 160.0)
    assert within_limits(standing())[0]


def test_body_scaling_is_exact_and_rigid_parts_stay_rigid(mocap):
    f = np.linspace(0.8, 1.2, 16)
    out = scale_bones(mocap, f)
    np.testing.assert_allclose(bone_lengths(out), bone_lengths(mocap) * f, atol=1e-9)
    rng = np.random.default_rng(3)
    cfg = BodyConfig(proportions="keep", scale=(1.0, 1.0), bone_jitter=0.0)
    moved = augment_body(mocap, rng, cfg)
    np.testing.assert_allclose(bone_lengths(moved), bone_lengths(mocap), atol=1e-9)


# ---- body proportions (synth.body_augment, proportions=sampled | keep) ----------------

STILL = dict(scale=(1.0, 1.0), yaw_deg=(0.0, 0.0), translate=((0.0, 0.0),) * 3)


def _all_bvh(n_frames=120):
    from synth.inputs import from_bvh

    return [(s, seq[:n_frames]) for s, _, seq in from_bvh(str(BVH), fps=30)]


def _angle(a, b):
    """Angle (rad) between vectors (..., 3), stable near 0."""
    return np.arctan2(np.linalg.norm(np.cross(a, b), axis=-1), np.sum(a * b, axis=-1))


def _bone_vectors(x):
    bones = np.asarray(H36M.bones)
    return x[..., bones[:, 1], :] - x[..., bones[:, 0], :]


def test_body_bone_lengths_follow_the_h36m_bone_list():
    """synth.body's bone lengths, bone by bone in H36M.bones order, against the named
    segments they are built from (hips and shoulders half the widths, …)."""
    from synth import body as B

    b = B.sample_bodies(np.random.default_rng(5), 50)
    g = b.length
    hyp = np.hypot
    want = {(0, 1): g("hip_width") / 2, (1, 2): g("thigh"), (2, 3): g("shank"),
            (0, 7): g("lumbar"), (7, 8): g("thoracic"),
            (8, 9): hyp(g("neck"), g("nose_forward")), (9, 10): hyp(g("head"), g("nose_forward")),
            (8, 11): hyp(g("shoulder_width") / 2, g("shoulder_drop")),
            (11, 12): g("upper_arm"), (12, 13): g("forearm")}
    flip = H36M.flip_permutation
    got = b.bone_lengths
    for i, (p, c) in enumerate(np.asarray(H36M.bones).tolist()):
        key = (p, c) if (p, c) in want else (flip[p], flip[c])  # a right bone → its left twin
        np.testing.assert_allclose(got[:, i], want[key], rtol=1e-12, err_msg=str((p, c)))
    # the rest pose really has these lengths
    np.testing.assert_allclose(bone_lengths(b.rest_pose()), got, rtol=1e-12)


def test_sampled_proportions_keep_directions_constant_bones_feet_on_floor():
    """Every real BVH file: bones constant over frames, left = right, each bone's direction
    the input's in every frame, the lowest ankle where it was, the root unmoved."""
    from synth.body_augment import BodyConfig as BC

    cfg = BC(proportions="sampled", **STILL)
    for name, seq in _all_bvh():
        out = augment_body(seq, np.random.default_rng([0, len(name)]), cfg)
        L = bone_lengths(out)
        assert np.ptp(L, axis=0).max() < 1e-6, name
        flip = H36M.flip_permutation
        twin = [next(j for j, (q, d) in enumerate(H36M.bones) if (q, d) == (flip[p], flip[c]))
                for p, c in H36M.bones]
        np.testing.assert_allclose(L[0], L[0, twin], rtol=1e-12, err_msg=name)
        assert np.max(np.abs(L[0] / np.median(bone_lengths(seq), 0) - 1)) > 0.02, name  # changed
        assert _angle(_bone_vectors(out), _bone_vectors(seq)).max() < 1e-6, name
        assert abs(out[:, [3, 6], 2].min() - seq[:, [3, 6], 2].min()) < 1e-12, name
        np.testing.assert_allclose(out[:, 0, :2], seq[:, 0, :2], atol=1e-12)


def _clipped_moments(m, s, c=2.5):
    """E[X], E[X²] of X = clip(Y, −c, c), Y ~ N(m, s²), by quadrature."""
    y = np.linspace(m - 12 * s, m + 12 * s, 400001)
    w = np.exp(-0.5 * ((y - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))
    x = np.clip(y, -c, c)
    return np.trapz(x * w, y), np.trapz(x * x * w, y)


def _factor(nominal, rel_sd, m=0.0, s=1.0):
    """Moments of nominal · (1 + rel_sd · clip(N(m, s²)))."""
    e1, e2 = _clipped_moments(m, s)
    return nominal * (1 + rel_sd * e1), nominal ** 2 * (1 + 2 * rel_sd * e1 + rel_sd ** 2 * e2)


def test_sampled_proportion_ratios_have_the_models_mean_and_sd():
    """Thigh, shank, upper arm, forearm and hip width over height, measured on 3000
    augmented copies of a real 1.52 m walk (so 1.6 SD below the model's mid height), against
    the moments of synth.body's documented model at that height, computed here by
    quadrature from the factor table: leg = 0.488 (1 + 3 % z), z ~ N(0.4 u, 1 − 0.4²)
    clipped at ±2.5, u the standardised height; shank share 0.5 ± 4 %, arm 0.315 ± 4 %,
    forearm share 0.45 ± 5 %, hip width 0.135 ± 10 %, all independent of one another
    (zero correlations among these) and clipped. Tolerances: 4 standard errors of the
    mean (σ/√N ≈ 0.1 % of the mean) and of the SD (σ/√(2N) ≈ 1.3 %)."""
    from synth.body_augment import BodyConfig as BC

    (name, seq), = [(n, s) for n, s in _all_bvh(10) if n == "cmu-01-01"]
    L0 = np.median(bone_lengths(seq), axis=0)
    # the height synth.body gives this bone chain: shank + thigh + trunk + neck + head
    # bones over their nominal share of the height (1 − ankle 0.042, neck and head bones
    # lengthened by the 0.015 nose offset)
    chain = (L0[1] + L0[2] + L0[4] + L0[5]) / 2 + L0[6:10].sum()
    share = 1 - 0.042 - 0.080 - 0.095 + np.hypot(0.080, 0.015) + np.hypot(0.095, 0.015)
    H = chain / share
    u = (np.clip(H, 1.50, 1.95) - 1.725) / 0.225 * np.sqrt(3)
    assert u < -1.0  # a short body: the height coupling matters for the legs
    leg = _factor(0.488, 0.03, 0.4 * u, np.sqrt(1 - 0.16))
    shank_share = _factor(0.5, 0.04)
    thigh_share = (1 - shank_share[0], 1 - 2 * shank_share[0] + shank_share[1])
    arm, fore = _factor(0.315, 0.04), _factor(0.45, 0.05)
    upper = (1 - fore[0], 1 - 2 * fore[0] + fore[1])

    def prod(a, b):
        return a[0] * b[0], a[1] * b[1]

    want = {"thigh": prod(leg, thigh_share), "shank": prod(leg, shank_share),
            "upper_arm": prod(arm, upper), "forearm": prod(arm, fore),
            "hip_width": _factor(0.135, 0.10)}
    cfg = BC(proportions="sampled", **STILL)
    n = 3000
    L = np.array([bone_lengths(augment_body(seq, np.random.default_rng([0, 0, r]), cfg)[:1])[0]
                  for r in range(n)])
    got = {"thigh": L[:, 1], "shank": L[:, 2], "upper_arm": L[:, 11], "forearm": L[:, 12],
           "hip_width": 2 * L[:, 0]}
    for k, (e1, e2) in want.items():
        r = got[k] / H
        mean, sd = e1, np.sqrt(e2 - e1 ** 2)
        assert abs(r.mean() - mean) < 4 * sd / np.sqrt(n), (k, r.mean(), mean)
        assert abs(r.std(ddof=1) - sd) < 4 * sd / np.sqrt(2 * n), (k, r.std(), sd)
    # the legs really are shorter than the model's mid-height nominal 0.244 (coupling)
    assert got["thigh"].mean() / H < 0.244 - 4 * 0.0122 / np.sqrt(n)


def test_keep_proportions_is_the_old_body_augmentation(mocap):
    """proportions=keep with bone_jitter=0.04: the old algorithm (whole-body scale ×
    symmetric per-pair jitter from the input's own bones, feet shift, yaw, translation;
    draws in that order), written out here."""
    from scipy.spatial.transform import Rotation

    from synth.body_augment import BodyConfig as BC, _PAIR

    cfg = BC(proportions="keep", bone_jitter=0.04)
    for seed in range(3):
        got = augment_body(mocap, np.random.default_rng(seed), cfg)
        rng = np.random.default_rng(seed)
        s = rng.uniform(0.9, 1.1)
        pair = 1 + rng.uniform(-0.04, 0.04, 10)
        want = scale_bones(mocap, s * pair[_PAIR])
        want[..., 2] -= want[..., [3, 6], 2].min() - mocap[..., [3, 6], 2].min()
        yaw = Rotation.from_euler("z", rng.uniform(-180, 180), degrees=True).as_matrix()
        pivot = want[:, 0].mean(axis=0) * np.array([1.0, 1.0, 0.0])
        want = (want - pivot) @ yaw.T + pivot + [rng.uniform(-1, 1), rng.uniform(-1, 1), 0.0]
        np.testing.assert_array_equal(got, want)
        # and the input's own proportions survive: every bone ratio up to the one jitter
        ratio = bone_lengths(got) / bone_lengths(mocap)
        np.testing.assert_allclose(ratio, s * pair[_PAIR] + 0 * ratio, rtol=1e-9)


def test_sampled_proportions_on_a_data_3d_npz(tmp_path):
    """The CLI on a data_3d npz (Human3.6M-like 32 joints): the written 3D has constant
    bones (float32 output), the input's bone directions and its lowest ankle height."""
    from synth.inputs import from_bvh

    (_, _, seq17), = from_bvh(str(BVH / "mocapbank_19joint.bvh"), fps=25)
    seq32 = np.zeros((len(seq17), 32, 3))
    seq32[:, H36M32_TO_17] = seq17
    path = tmp_path / "data_3d_h36m.npz"
    save_3d(path, {"S9": {"Walking": seq32}})
    out = run(_cfg(tmp_path / "o", f"input={path}", "knee=none", "joints=none", "noise=none",
                   "body.proportions=sampled", "body.yaw_deg=[0,0]",
                   "body.translate=[[0,0],[0,0],[0,0]]", "repeats=3"))
    data = load_3d(out / "data_3d_synth.npz")["S9"]
    lengths = []
    for r in range(3):
        x = data[f"Walking_aug{r}"].astype(np.float64)
        L = bone_lengths(x)
        assert np.ptp(L, axis=0).max() < 1e-6  # float32 positions: ~1e-7 m rounding
        assert _angle(_bone_vectors(x), _bone_vectors(seq17)).max() < 1e-5  # float32
        assert abs(x[:, [3, 6], 2].min() - seq17[:, [3, 6], 2].min()) < 1e-6
        lengths.append(L[0])
    assert np.ptp(np.array(lengths)[:, 1]) > 1e-3  # each copy its own body


def _cfg(tmp_path, *overrides):
    with initialize_config_dir(str(REPO / "conf"), version_base="1.3"):
        return compose("augment_h36m", overrides=[f"out={tmp_path}", "plots=false",
                                                  *overrides])


def _bvh_run(tmp_path, *overrides):
    return run(_cfg(tmp_path, f"input={BVH / 'walk_23joint.bvh'}", "fps=25", *overrides))


def test_2d_equals_opencv_projection_with_distortion_and_fisheye(tmp_path):
    out = _bvh_run(tmp_path / "a", "camera.distortion_prob=1.0", "repeats=2")
    out_f = _bvh_run(tmp_path / "b", "camera=fisheye")
    n_pin = n_fish = 0
    for folder in (out, out_f):
        ds = read_dataset(folder, "synth")
        for s, acts in ds.positions_3d.items():
            for a, seq in acts.items():
                for cam, uv in zip(ds.cameras[s][a], ds.positions_2d[s][a]):
                    rvec, tvec, K, dist = to_opencv(cam)
                    pts = seq.reshape(-1, 1, 3).astype(np.float64)
                    if cam.model == "fisheye":
                        ref, _ = cv2.fisheye.projectPoints(pts, rvec, tvec, K, dist)
                        n_fish += 1
                    else:
                        ref, _ = cv2.projectPoints(pts, rvec, tvec, K, dist)
                        n_pin += bool(np.any(dist))
                    # float32 storage of 3D and 2D limits the agreement, not the geometry
                    ref32, _ = (cv2.fisheye.projectPoints if cam.model == "fisheye"
                                else cv2.projectPoints)(pts.astype(np.float32).astype(np.float64),
                                                        rvec, tvec, K, dist)
                    np.testing.assert_allclose(uv.reshape(-1, 2), ref32.reshape(-1, 2), atol=1e-3)
    assert n_pin >= 4 and n_fish >= 4


def test_2d_projection_exact_in_float64():
    from synth.augment import AugmentConfig, render_views

    rng = np.random.default_rng(5)
    seq = standing(20) + np.linspace(0, 1, 20)[:, None, None] * [1, 0, 0]
    cfg = AugmentConfig()
    cfg.camera.distortion_prob = 1.0
    cfg.noise_enabled = False
    views = render_views(seq, rng, cfg)
    from hpd3d.camera import project_many

    uv = project_many(seq, views.cameras)
    for cam, u in zip(views.cameras, uv):
        rvec, tvec, K, dist = to_opencv(cam)
        ref, _ = cv2.projectPoints(seq.reshape(-1, 1, 3), rvec, tvec, K, dist)
        assert np.abs(u.reshape(-1, 2) - ref.reshape(-1, 2)).max() <= 1e-4


def test_cameras_see_the_subject(tmp_path):
    out = _bvh_run(tmp_path)
    ds = read_dataset(out, "synth")
    for s, acts in ds.positions_3d.items():
        for a, seq in acts.items():
            for cam, mask in zip(ds.cameras[s][a], ds.in_frame[s][a]):
                from hpd3d.camera import world_to_camera

                assert (world_to_camera(seq, cam)[..., 2] > 0.1).all()
                assert mask.mean() >= 0.9


def test_same_seed_same_bytes_and_shards_equal_one_run(tmp_path):
    common = ["knee.prob=1.0", "joints.prob=1.0"]
    a = run(_cfg(tmp_path / "a", f"input={BVH}", "fps=10", *common))
    b = run(_cfg(tmp_path / "b", f"input={BVH}", "fps=10", *common))
    for f in ("data_3d_synth.npz", "data_2d_synth_gt.npz", "data_2d_synth_noisy.npz",
              "camera_intrinsics.txt", "camera_extrinsics.txt"):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    c = run(_cfg(tmp_path / "c", f"input={BVH}", "fps=10", "seed=1", *common))
    assert (a / "data_3d_synth.npz").read_bytes() != (c / "data_3d_synth.npz").read_bytes()
    for i in range(2):
        run(_cfg(tmp_path / "s", f"input={BVH}", "fps=10", f"shard={i}/2", *common))
    from synth.merge import merge

    merge(tmp_path / "s", "synth")
    whole, merged = load_3d(a / "data_3d_synth.npz"), load_3d(tmp_path / "s" / "data_3d_synth.npz")
    assert whole.keys() == merged.keys()
    for s in whole:
        for act in whole[s]:
            np.testing.assert_array_equal(whole[s][act], merged[s][act])
    p2a, _, _ = load_2d(a / "data_2d_synth_gt.npz")
    p2m, _, _ = load_2d(tmp_path / "s" / "data_2d_synth_gt.npz")
    for s in p2a:
        for act in p2a[s]:
            for u, v in zip(p2a[s][act], p2m[s][act]):
                np.testing.assert_array_equal(u, v)


def test_h36m32_input_reduces_to_the_right_17(tmp_path):
    rng = np.random.default_rng(7)
    # a 32-joint file: put recognisable values on the kept joints (a standing pose)
    seq32 = rng.normal(size=(30, 32, 3)) * 0.01
    seq32[:, H36M32_TO_17] += standing(30)
    path = tmp_path / "data_3d_h36m.npz"
    save_3d(path, {"S1": {"Walking 1": seq32}, "S5": {"Sitting": seq32[:20]}})
    out = run(_cfg(tmp_path / "o", f"input={path}", "knee=none", "joints=none", "body=none",
                   "noise=none"))
    got = load_3d(out / "data_3d_synth.npz")
    np.testing.assert_array_equal(got["S1"]["Walking 1"], seq32[:, H36M32_TO_17].astype(np.float32))
    assert got["S5"]["Sitting"].shape == (20, 17, 3)
    # the right leg (1-3) came from H36M-32's right leg (1-3), the left (4-6) from 6-8
    np.testing.assert_array_equal(got["S1"]["Walking 1"][:, 4], seq32[:, 6].astype(np.float32))
    assert H36M32.joints[6] == "left_hip" and H36M32.joints[1] == "right_hip"


def test_mmpose_format(tmp_path):
    from hpd3d.formats import load_mmpose_cameras, load_mmpose_h36m
    from hpd3d.camera import from_mmpose, project

    out = _bvh_run(tmp_path, "format=mmpose", "camera.count=2")
    ann = load_mmpose_h36m(out / "mmpose" / "h36m_synth.npz")
    cams = load_mmpose_cameras(out / "mmpose" / "cameras.pkl")
    n = len(ann["imgname"])
    assert ann["S"].shape == (n, 17, 4) and ann["part"].shape == (n, 17, 3)
    # S is camera-frame metres: projecting it with the intrinsics gives part
    name = str(ann["imgname"][0]).rsplit("/", 1)[-1]
    subj, rest = name.split("_", 1)
    cid = rest.split(".", 1)[1].split("_")[0]
    cam = from_mmpose(cams[(subj, cid)], unit="m")
    uv = project(ann["S"][:5, :, :3] @ cam.R + cam.C, cam)  # camera → world → pixels
    np.testing.assert_allclose(uv, ann["part"][:5, :, :2], atol=1e-3)


BAD = [
    (["camera.distance=[0.2,5.0]"], "inside the body"),
    (["camera.focal_mm=[-5,20]"], "focal_mm"),
    (["knee.range=[120,30]"], "min"),
    (["body.scale=[1.2,0.8]"], "min"),
    (["body.proportions=stretched"], "proportions"),
    (["joints.joints=[tail]"], "unknown"),
    (["shard=3/2"], "shard"),
]


@pytest.mark.parametrize("overrides,needle", BAD)
def test_bad_config_fails_before_work(tmp_path, overrides, needle):
    from hpd3d.errors import InputError

    with pytest.raises(InputError, match=needle):
        _bvh_run(tmp_path / "o", *overrides)
    assert not (tmp_path / "o").exists()


def test_bad_inputs_one_line_error_exit_2_nothing_written(tmp_path):
    bad_j = tmp_path / "data_3d_bad.npz"
    save_3d(bad_j, {"S1": {"a": np.zeros((5, 20, 3))}})
    nan = tmp_path / "data_3d_nan.npz"
    x = standing(5)
    x[2, 3, 1] = np.nan
    np.savez(nan, positions_3d={"S1": {"a": x}})
    for path, needle in ((bad_j, "20 joints"), (nan, "non-finite"),
                         (tmp_path / "missing.npz", "missing.npz")):
        r = subprocess.run([sys.executable, "-m", "synth.augment_h36m", f"input={path}",
                            f"out={tmp_path / 'o'}"], capture_output=True, text=True, cwd=REPO)
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0] and str(path.name) in lines[0], lines
        assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("joint", list(JOINTS))
def test_a_rotation_changes_only_its_own_angles(joint, mocap):
    """What limits_of() relies on: every other measured angle is invariant."""
    from scipy.spatial.transform import Rotation

    from synth.joint_rotation import limits_of, local_to_world, rotate_subtree

    x = mocap[:50]
    rot = Rotation.from_rotvec(np.random.default_rng(4).normal(size=(len(x), 3)) * 0.5)
    y = rotate_subtree(x, joint, local_to_world(x, joint, rot))
    a, b = an.all_angles(x), an.all_angles(y)
    own = limits_of(joint)
    assert own and any(np.abs(a[k] - b[k]).max() > 1 for k in own)
    for k in a:
        if k not in own:
            np.testing.assert_allclose(b[k], a[k], atol=1e-6, err_msg=k)


def test_left_stays_left_after_augmentation(mocap):
    """H36M 1-3 stay the RIGHT leg: bent knees still bend backwards in the body frame
    built from the (unchanged) hip labels — swapped sides would make them bend forwards."""
    from synth.augment import AugmentConfig, augment_3d

    def backwards_fraction(x):
        fwd = an.pelvis_frame(x)[:, 1]
        out = []
        for name, (h, k, a) in (("right_knee", (1, 2, 3)), ("left_knee", (4, 5, 6))):
            bent = an.hinge_flexion(x, name) > 30
            shank = x[:, a] - x[:, k]
            out.append((np.sum(shank * fwd, axis=-1) < 0)[bent])
        return np.concatenate(out).mean()

    assert backwards_fraction(mocap) > 0.95
    rng = np.random.default_rng(9)
    cfg = AugmentConfig()
    cfg.knee.prob = cfg.joints.prob = 1.0
    # joint rotations push a bent shank past the frontal plane in a few frames: 0.87-1.0
    # over seeds (either proportions mode); a side swap would give < 0.05
    for _ in range(3):
        assert backwards_fraction(augment_3d(mocap, rng, cfg)) > 0.8
    mirrored = mocap * [-1, 1, 1]  # a mirror image keeps labels but swaps the body's sides
    assert backwards_fraction(mirrored) < 0.05
