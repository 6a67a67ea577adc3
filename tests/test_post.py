"""Inference post-processing: smoothing, bone lengths, trajectory, world frame, contacts.

Ground truth: analytic signals, synthetic camera-frame poses projected with a known K, and
the real BVH walk in ../shared/data/bvh (world Z-up metres through hpd3d.rig.to_h36m).
"""

from pathlib import Path

import numpy as np
import pytest
import yaml

from hpd3d import bones, contacts, smoothing, trajectory
from hpd3d.bvh import load_bvh
from hpd3d.camera import Camera, look_at, project, world_to_camera
from hpd3d.rig import to_h36m
from hpd3d.skeleton import bone_lengths
from infer import post

REPO = Path(__file__).resolve().parents[1]

CFG = yaml.safe_load((REPO / "conf/post/default.yaml").read_text())
NONE = yaml.safe_load((REPO / "conf/post/none.yaml").read_text())
FPS = 30.0


@pytest.fixture(scope="module")
def walk(bvh_dir):
    """The real walk at 30 fps: world (T, 17, 3) Z-up metres, ground at z = 0."""
    b = load_bvh(bvh_dir / "walk_23joint.bvh")
    step = int(round(1.0 / b.frame_time / FPS))
    return to_h36m(b)[::step]


def _camera(X, pitch_deg=20.0, roll_deg=0.0, dist=7.0):
    """A camera looking at the walk's centre from ``dist`` m, ``pitch_deg`` downwards."""
    target = X[:, 0].mean(0)
    el = np.radians(pitch_deg)
    C = target + dist * np.array([0.3 * np.cos(el), -np.cos(el), np.sin(el)])
    R = look_at(C, target, roll=np.radians(roll_deg))
    return Camera(1280, 720, 1100.0, 1100.0, 650.0, 350.0, R=R, C=C)


def _K(cam):
    return np.array([[cam.fx, 0, cam.cx], [0, cam.fy, cam.cy], [0, 0, 1.0]])


def _angle(a, b):
    return np.degrees(np.arccos(np.clip(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b),
                                        -1, 1)))


# ------------------------------------------------------------------ smoothing

def test_smoothing_reduces_noise_variance():
    rng = np.random.default_rng(0)
    t = np.arange(300) / FPS
    clean = np.stack([np.sin(2 * np.pi * 0.1 * t), np.cos(2 * np.pi * 0.15 * t)], -1)[:, None]
    noisy = clean + rng.normal(scale=0.05, size=clean.shape)
    base = np.var(noisy - clean)
    for out in (smoothing.savgol(noisy, 9, 2),
                smoothing.one_euro(noisy, FPS, min_cutoff=1.0, beta=0.0, bidirectional=True)):
        assert out.shape == noisy.shape
        assert np.var(out - clean) < 0.35 * base
    # the causal filter lags a moving signal; at rest it must remove most of the noise
    rest = 0.7 + rng.normal(scale=0.05, size=(300, 17, 3))
    out = smoothing.one_euro(rest, FPS, min_cutoff=1.0, beta=0.0)
    assert np.var(out[30:] - 0.7) < 0.2 * np.var(rest - 0.7)


def test_one_euro_step_latency_bounded():
    x = np.zeros((90, 17, 3))
    x[30:] = 1.0
    out = smoothing.one_euro(x, FPS, min_cutoff=1.0, beta=0.5)
    assert np.allclose(out[:30], 0.0)
    # with beta > 0 the cut-off rises on the jump: 90 % reached within 5 frames (167 ms) …
    lag = np.argmax(out[30:, 0, 0] >= 0.9)
    assert out[30:, 0, 0].max() >= 0.9 and lag <= 5
    # … where a plain low-pass at the resting cut-off (beta = 0) takes much longer
    slow = smoothing.one_euro(x, FPS, min_cutoff=1.0, beta=0.0)
    assert np.argmax(slow[30:, 0, 0] >= 0.9) > 2 * lag
    assert (out <= 1.0 + 1e-12).all()  # no overshoot


def test_savgol_preserves_polynomial():
    t = np.linspace(-1, 1, 61)
    poly = (0.3 - 1.2 * t + 2.0 * t ** 2)[:, None, None] * np.ones((1, 17, 2))
    out = smoothing.savgol(poly, 15, 2)
    np.testing.assert_allclose(out, poly, atol=1e-10)


def test_low_confidence_samples_interpolated():
    x = np.linspace(0, 1, 50)[:, None, None] * np.ones((1, 17, 2))
    conf = np.ones((50, 17))
    bad = x.copy()
    bad[10:20] = 1e3  # garbage where the detector lost the person
    bad[30, 3] = np.nan
    conf[10:20] = 0.0
    conf[30, 3] = 0.0
    filled = smoothing.fill_low_confidence(bad, conf, 0.1)
    np.testing.assert_allclose(filled, x, atol=1e-12)  # linear signal: exact
    # the garbage does not leak: the result equals the filter of the clean signal
    np.testing.assert_allclose(smoothing.savgol(bad, 7, 2, conf=conf, min_conf=0.1),
                               smoothing.savgol(x, 7, 2), atol=1e-9)
    np.testing.assert_allclose(smoothing.one_euro(bad, FPS, conf=conf, min_conf=0.1),
                               smoothing.one_euro(x, FPS), atol=1e-9)


# ---------------------------------------------------------------- bone lengths

def test_constant_bone_lengths(walk):
    rng = np.random.default_rng(1)
    noisy = walk + rng.normal(scale=0.02, size=walk.shape)
    out, L = bones.constant_bone_lengths(noisy, symmetric=False, weighted=False)
    lengths = bone_lengths(out)
    cv = lengths.std(0) / lengths.mean(0)
    assert out.shape == walk.shape and cv.max() < 1e-4
    np.testing.assert_allclose(L, np.median(bone_lengths(noisy), axis=0), atol=1e-12)
    # directions of every bone preserved exactly
    b = np.asarray([(p, c) for c, p in enumerate((-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12,
                                                    8, 14, 15)) if p >= 0])
    d0 = noisy[:, b[:, 1]] - noisy[:, b[:, 0]]
    d1 = out[:, b[:, 1]] - out[:, b[:, 0]]
    cos = (d0 * d1).sum(-1) / np.linalg.norm(d0, axis=-1) / np.linalg.norm(d1, axis=-1)
    assert cos.min() > 1 - 1e-12
    np.testing.assert_allclose(out[:, 0], noisy[:, 0])  # the root stays
    _, Ls = bones.constant_bone_lengths(noisy, symmetric=True, weighted=False)
    for i, j in bones.mirror_pairs():
        assert Ls[i] == Ls[j]
    # clean motion: the clip's limb lengths are the truth's (the rig's spine, neck and
    # shoulder joints are not rigidly attached)
    limbs = [0, 1, 2, 3, 4, 5, 11, 12, 14, 15]
    np.testing.assert_allclose(bones.clip_bone_lengths(walk)[limbs], bone_lengths(walk[0])[limbs],
                               atol=1e-6)


# ----------------------------------------------------------------- trajectory

def test_fit_translation_exact_and_noisy(walk):
    cam = _camera(walk)
    Xc = world_to_camera(walk, cam)
    uv = project(walk, cam)
    rel = Xc - Xc[:, :1]
    t, valid = trajectory.fit_translation(rel, uv, _K(cam))
    assert valid.all()
    assert np.abs(t - Xc[:, 0]).max() < 1e-3  # ≤ 1 mm noise-free
    rng = np.random.default_rng(2)
    t_n, _ = trajectory.fit_translation(rel, uv + rng.normal(scale=2.0, size=uv.shape), _K(cam))
    err = np.linalg.norm(t_n - Xc[:, 0], axis=-1)
    assert err.mean() < 0.1 and err.max() < 0.3  # 2 px noise at ~7 m: centimetres
    # frames without any confident joint are interpolated, not NaN
    conf = np.ones(uv.shape[:2])
    conf[40:50] = 0.0
    t_c, valid_c = trajectory.fit_translation(rel, np.where(conf[..., None] > 0, uv, np.nan),
                                              _K(cam), conf)
    assert not valid_c[40:50].any() and np.isfinite(t_c).all()
    assert np.abs(t_c[40:50] - Xc[40:50, 0]).max() < 0.05


@pytest.mark.parametrize("pitch,roll", [(25.0, 0.0), (5.0, 8.0), (40.0, -5.0)])
def test_up_axis_from_tilted_camera(walk, pitch, roll):
    cam = _camera(walk, pitch, roll)
    Xc = world_to_camera(walk, cam)
    R, t, info = trajectory.world_frame(Xc)
    assert _angle(R[2], cam.R @ [0, 0, 1]) <= 2.0
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) > 0
    # the camera looks along world +Y: its optical axis has no world-X component
    fwd = R @ np.array([0.0, 0.0, 1.0])
    assert fwd[1] > 0 and abs(fwd[0]) < 1e-9


# ------------------------------------------------------------ postprocess / world

def test_postprocess_world_grounded_upright(walk):
    cam = _camera(walk, 15.0, 3.0)
    Xc = world_to_camera(walk, cam)
    uv = project(walk, cam)
    res = post.postprocess(Xc - Xc[:, :1], uv, np.ones(uv.shape[:2]), _K(cam), FPS, CFG)
    T = len(walk)
    for a in (res.cam_rootrel, res.cam, res.world):
        assert a.shape == (T, 17, 3) and np.isfinite(a).all()
    assert res.contacts.shape == (T, 2) and res.bone_lengths.shape == (16,)
    np.testing.assert_allclose(res.world, res.cam @ res.R_world_cam.T + res.t_world_cam,
                               atol=1e-9)
    ank = res.world[:, [3, 6], 2]
    assert ank.min() >= -0.005  # penetration ≤ 5 mm
    assert np.quantile(ank.min(1), 0.05) < 0.01  # and the planted ankles are on z = 0
    lengths = bone_lengths(res.world)
    assert (lengths.std(0) / lengths.mean(0)).max() < 1e-4
    # torso within 10° of vertical on standing frames (legs straight, as in the truth) —
    # on average: the walker's own torso leans up to 11.4° on some of them; per frame the
    # tilt matches the truth's to 2°
    straight = trajectory.leg_straightness(walk) >= 0.95
    tilt = post.torso_tilt(res.world)
    assert straight.sum() > 20 and tilt[straight].mean() < 10.0
    assert np.abs(tilt[straight] - post.torso_tilt(walk)[straight]).max() < 2.0
    # absolute placement: the root in the camera frame matches the truth
    assert np.linalg.norm(res.cam[:, 0] - Xc[:, 0], axis=-1).mean() < 0.05
    # a floor below the ankles: the resting ankles at ankle_height, locked there
    cfg = {k: dict(v) for k, v in CFG.items()}
    cfg["ground"]["ankle_height"] = 0.08
    res8 = post.postprocess(Xc - Xc[:, :1], uv, np.ones(uv.shape[:2]), _K(cam), FPS, cfg)
    ank8 = res8.world[:, [3, 6], 2]
    assert ank8.min() >= 0.075 and np.quantile(ank8.min(1), 0.05) < 0.09
    np.testing.assert_array_equal(res8.contacts, res.contacts)


def _gt_contacts(X):
    Z = X.copy()
    Z[..., 2] -= np.quantile(X[:, [3, 6], 2], 0.02)
    return contacts.detect_contacts(Z, FPS, height=0.05, speed=0.4, release=1.5, min_frames=3)


def test_contacts_and_foot_lock(walk):
    cam = _camera(walk, 20.0)
    Xc = world_to_camera(walk, cam)
    uv = project(walk, cam)
    gt = _gt_contacts(walk)
    assert 0.2 < gt.mean() < 0.8  # a walk: both states occur
    res = post.postprocess(Xc - Xc[:, :1], uv, np.ones(uv.shape[:2]), _K(cam), FPS, CFG)
    assert (res.contacts == gt).mean() >= 0.9
    # a sliding version of the walk (smooth random drift of the whole body and the legs)
    rng = np.random.default_rng(3)
    T = len(walk)
    knots = rng.normal(scale=0.04, size=(T // 10 + 2, 17, 3))
    drift = np.stack([np.stack([np.interp(np.arange(T) / 10, np.arange(len(knots)),
                                          knots[:, j, c]) for c in range(3)], -1)
                      for j in range(17)], 1)
    drift[..., 2] *= 0.2
    noisy = walk + drift
    noisy[..., 2] -= noisy[:, [3, 6], 2].min() - 0.0
    cont = contacts.detect_contacts(noisy, FPS)
    before = contacts.foot_sliding(noisy, cont)
    locked, shift = contacts.foot_lock(noisy, cont, blend=3)
    after = contacts.foot_sliding(locked, cont)
    assert before > 0.003 and after < 0.2 * before
    assert locked.shape == noisy.shape and np.isfinite(locked).all()
    assert locked[:, [3, 6], 2].min() >= -1e-9  # ground clamp
    # the legs keep their lengths (rigid shift + two-bone IK)
    for h, k, a in contacts.FEET:
        for p, c in ((h, k), (k, a)):
            np.testing.assert_allclose(np.linalg.norm(locked[:, c] - locked[:, p], axis=-1),
                                       np.linalg.norm(noisy[:, c] - noisy[:, p], axis=-1),
                                       atol=1e-9)


def test_two_bone_ik_reaches_target():
    rng = np.random.default_rng(4)
    hip = rng.normal(size=(100, 3))
    knee = hip + rng.normal(size=(100, 3)) * 0.1 + [0, 0, -0.4]
    ankle = knee + [0, 0.05, -0.4]
    l1 = np.linalg.norm(knee - hip, axis=-1, keepdims=True)
    l2 = np.linalg.norm(ankle - knee, axis=-1, keepdims=True)
    target = ankle + rng.normal(scale=0.05, size=(100, 3))
    reach = np.linalg.norm(target - hip, axis=-1)
    ok = (reach < (l1 + l2)[:, 0] * 0.999) & (reach > np.abs(l1 - l2)[:, 0])
    nk, na = contacts.two_bone_ik(hip, knee, ankle, target, l1, l2)
    np.testing.assert_allclose(np.linalg.norm(nk - hip, axis=-1, keepdims=True), l1, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(na - nk, axis=-1, keepdims=True), l2, atol=1e-9)
    np.testing.assert_allclose(na[ok], target[ok], atol=1e-9)


# ------------------------------------------------------------- robustness, report

def test_confidence_zero_frames_nan_free_and_frames_kept(walk, tmp_path):
    cam = _camera(walk)
    Xc = world_to_camera(walk, cam)
    uv = project(walk, cam).astype(np.float64)
    conf = np.ones(uv.shape[:2])
    conf[:5] = 0.0  # no detection at the start, in the middle and at the end
    conf[60:80] = 0.0
    conf[-3:] = 0.0
    uv[conf == 0] = np.nan
    rel = Xc - Xc[:, :1]
    rel[conf[:, 0] == 0] = np.nan
    T = len(walk)
    s2 = post.smooth_2d(uv, conf, FPS, {"smooth_2d": dict(CFG["smooth_2d"], enabled=True)})
    assert s2.shape == uv.shape and np.isfinite(s2).all()
    for cfg in (CFG, NONE, {}):
        res = post.postprocess(rel, uv, conf, _K(cam), FPS, cfg)
        for a in (res.cam_rootrel, res.cam, res.world):
            assert a.shape == (T, 17, 3) and np.isfinite(a).all()
        assert np.isfinite(res.R_world_cam).all() and np.isfinite(res.t_world_cam).all()
    assert res.steps["smooth_3d"] is not False  # {} means the defaults: every step on
    res_none = post.postprocess(rel, uv, conf, _K(cam), FPS, NONE)
    assert not any(res_none.steps[k] for k in ("smooth_3d", "bone_lengths", "trajectory",
                                                "ground", "foot_lock"))
    rep = post.quality_report(res, conf, conf.max(1) > 0, FPS)
    assert rep["frames"] == T
    assert rep["detection_rate"] == pytest.approx(1 - 28 / T, abs=1e-4)
    assert rep["bone_length_cv_max"] < 1e-4 and rep["ground_penetration_max_mm"] <= 5.0
    assert rep["torso_tilt_upright_mean_deg"] < 10.0
    png = tmp_path / "report.png"
    post.plot_report(rep, res, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_quality_report_numbers_match_independent_computation(walk):
    X = walk - [0, 0, walk[:, [3, 6], 2].min()]
    X[5, 3, 2] = -0.01  # one ankle 10 mm below the ground
    cont = _gt_contacts(X)
    res = post.PostResult(cam_rootrel=X - X[:, :1], cam=X, world=X, contacts=cont,
                          R_world_cam=np.eye(3), t_world_cam=np.zeros(3),
                          bone_lengths=bone_lengths(X[0]), steps={})
    rep = post.quality_report(res, np.ones(X.shape[:2]), np.ones(len(X), bool), FPS)
    assert rep["ground_penetration_max_mm"] == pytest.approx(10.0, abs=1e-3)
    acc = np.linalg.norm(X[2:] - 2 * X[1:-1] + X[:-2], axis=-1).mean() * 1000
    assert rep["jitter_mm_per_frame2"] == pytest.approx(acc, abs=1e-3)
    both = cont[1:] & cont[:-1]
    step = np.linalg.norm(np.diff(X[:, [3, 6], :2], axis=0), axis=-1)
    assert rep["foot_sliding_mm_per_frame"] == pytest.approx(step[both].mean() * 1000, abs=1e-3)


def test_check_config():
    from hpd3d.errors import InputError

    post.check_config(CFG)
    post.check_config(NONE)
    post.check_config({})
    for bad, what in (({"smooth_3d": {"method": "kalman"}}, "smooth_3d.method"),
                      ({"smooth_3d": {"window_s": 0}}, "smooth_3d.window_s"),
                      ({"smoth_3d": {}}, "smoth_3d"),
                      ({"ground": {"up": "sky"}}, "ground.up"),
                      ({"ground": {"max_tilt_plane_deg": 120}}, "ground.max_tilt_plane_deg"),
                      ({"contacts": {"speed": -1}}, "contacts.speed"),
                      ({"foot_lock": {"blend": 3}}, "foot_lock"),
                      ({"trajectory": {"smooth_depth": {"method": "x"}}},
                       "trajectory.smooth_depth.method")):
        with pytest.raises(InputError, match=what.replace(".", r"\.")):
            post.check_config(bad)


def test_smoothing_3d_after_lifting_beats_2d_before(walk):
    """The default's choice, on the real walk seen by 2 cameras with the toolkit's 2D noise,
    lifted by the shipped lifter: smoothing the 3D after lifting leaves a smaller
    acceleration error against the truth than smoothing the 2D before (same window), and
    both beat no smoothing; MPJPE does not get worse."""
    torch = pytest.importorskip("torch")
    from hpd3d.camera_sampling import CameraConfig, sample_cameras
    from hpd3d.metrics import acceleration_error, mpjpe
    from hpd3d.noise import NoiseModel, add_noise
    from hpd3d.normalization import Normalization
    from train.models import load_model

    torch.set_num_threads(1)
    path = REPO / "data/lifter_default.pt"
    model = load_model(str(path))
    norm = Normalization.from_dict(torch.load(path, weights_only=True)["normalization"])
    rng = np.random.default_rng(5)
    cams, _ = sample_cameras(rng, CameraConfig(count=2, distortion_prob=0.0), walk)
    s3 = CFG["smooth_3d"]
    s2 = dict(s3, enabled=True)  # the same filter on the 2D

    def lift(uv, conf, cam):
        x = np.concatenate([norm.inputs(uv, cam.width, cam.height), conf[..., None]], -1)
        with torch.no_grad():
            y = model.lift(torch.from_numpy(x.astype(np.float32))[None])[0].numpy()
        return y.astype(np.float64) - y[:, :1]

    for cam in cams:
        Xc = world_to_camera(walk, cam)
        gt = Xc - Xc[:, :1]
        uv, conf = add_noise(project(walk, cam), rng, NoiseModel())
        uv, conf = uv.astype(np.float64), conf.astype(np.float64)
        raw = lift(uv, conf, cam)
        before = lift(post.smooth_2d(uv, conf, FPS, {"smooth_2d": s2}), conf, cam)
        after = smoothing.smooth(raw, FPS, s3["method"], conf=conf, min_conf=s3["min_conf"],
                                 window_s=s3["window_s"], order=s3["order"])
        after -= after[:, :1]
        e_raw, e_2d, e_3d = (acceleration_error(p, gt) for p in (raw, before, after))
        assert e_3d < e_2d < e_raw and e_3d < 0.75 * e_raw
        assert mpjpe(after, gt) <= mpjpe(raw, gt) + 0.002


def test_ground_robust_to_a_leaning_lifter(walk):
    """Issue 8 follow-up: with MediaPipe 2D the lifter leans the body ~15° (measured on the
    rendered demo walk: the torso prior 14.9° off the true up), which tilted the ground and made
    the ankles climb 0.25 m over the clip. Here the lifted pose is the truth leaned 15° towards
    the camera plus 2 cm joint noise, with 2 px noise on the 2D: the up vector must come from
    the ground points (within 3°) and the planted ankles must stay on z = 0 over the whole clip."""
    cam = _camera(walk, 20.0)
    Xc = world_to_camera(walk, cam)
    rng = np.random.default_rng(8)
    uv = project(walk, cam) + rng.normal(scale=2.0, size=(len(walk), 17, 2))
    a = np.radians(15.0)
    lean = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    rel = (Xc - Xc[:, :1]) @ lean.T + rng.normal(scale=0.02, size=Xc.shape)
    rel -= rel[:, :1]
    assert _angle(trajectory.torso_up(rel), cam.R @ [0, 0, 1]) > 10  # the prior is off
    res = post.postprocess(rel, uv, np.ones(uv.shape[:2]), _K(cam), FPS, CFG)
    assert _angle(res.R_world_cam[2], cam.R @ [0, 0, 1]) <= 3.0
    # the lower ankle of each frame (on the ground in a walk, up to the lean's distortion of
    # the stride), before foot locking (which clamps it to the ground): at the same height at
    # the start and at the end of the clip (8 cm apart with the prior-bound plane, < 1 cm now)
    cfg = {k: dict(v) for k, v in CFG.items()}
    cfg["foot_lock"]["enabled"] = False
    res = post.postprocess(rel, uv, np.ones(uv.shape[:2]), _K(cam), FPS, cfg)
    low = res.world[:, [3, 6], 2].min(1)
    T = len(low)
    first, last = np.median(low[: T // 3]), np.median(low[-(T // 3):])
    assert abs(last - first) < 0.03, (first, last)
    assert abs(np.quantile(low, 0.1)) < 0.03
