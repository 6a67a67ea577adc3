"""hpd3d.noise's fitted detector model (mode=fitted): synthesising from known parameters and
fitting them back (bias, SD, correlation, outlier, swap and miss rates within sampling
error), the 2D view estimate, shapes, seeds, the shipped model file."""

from __future__ import annotations

import numpy as np
import pytest

from hpd3d.noise import (VIEWS, FittedNoise, NoiseModel, add_noise, add_noise_fitted,
                         azimuth_bins, detect_swaps, fit_noise, person_size, view_azimuth_3d,
                         view_bins)

# a standing person seen from the front, pixels (y down): the person's left on image right
FRONT = np.array([[0, 0], [-30, 0], [-32, 100], [-33, 200], [30, 0], [32, 100], [33, 200],
                  [0, -60], [0, -120], [0, -150], [0, -175], [40, -120], [50, -70],
                  [55, -20], [-40, -120], [-50, -70], [-55, -20]], float)


def _clips(n, T, rng, back=False):
    base = FRONT * np.array([-1.0, 1.0]) if back else FRONT
    scale = rng.uniform(0.8, 1.5, (n, 1, 1, 1))
    shift = rng.uniform(200, 600, (n, 1, 1, 2))
    sway = np.sin(np.linspace(0, 6, T))[None, :, None, None] * 5
    return base[None, None] * scale + shift + sway * np.array([1.0, 0.0])


def _model():
    V = len(VIEWS)
    rng = np.random.default_rng(5)
    bias = rng.normal(0, 0.01, (V, 17, 2))
    sd = rng.uniform(0.006, 0.02, (V, 34))
    corr = np.full((34, 34), 0.3) + 0.7 * np.eye(34)  # every coordinate correlated 0.3
    chol = np.linalg.cholesky(corr)[None] * sd[:, :, None]
    return FittedNoise(
        bias=bias, chol=chol, out_rate=np.full((V, 17), 0.02), out_sd=np.full((V, 17), 0.12),
        swap_rate=np.array([[0.06, 0.03], [0.0, 0.0], [0.1, 0.05]]),
        miss_rate=np.array([0.5, 0.2, 0.06]), conf_mean=np.full((V, 17), 0.8),
        conf_sd=np.full((V, 17), 0.05), rho=0.5, step_s=0.1, swap_run=3.0, miss_run=2.0)


def test_view_bins_front_back_and_3d():
    rng = np.random.default_rng(0)
    assert (view_bins(_clips(3, 10, rng)) == 0).all()
    assert (view_bins(_clips(3, 10, rng, back=True)) == 2).all()
    # 3D: person at 4 m facing the camera (−z in the OpenCV frame), then turned
    up, right = np.array([0, -1.0, 0]), np.array([-1.0, 0, 0])  # their right on image left
    pts = np.zeros((17, 3))
    pts[[1, 14]] += right * 0.2
    pts[[4, 11]] -= right * 0.2
    pts[[8, 11, 14]] += up * 0.5
    for yaw, want in ((0, 0), (30, 0), (90, 1), (180, 2), (215, 2), (270, 1)):
        a = np.radians(yaw)  # rotate the body about the vertical (−y) axis
        Rz = np.array([[np.cos(a), 0, -np.sin(a)], [0, 1, 0], [np.sin(a), 0, np.cos(a)]])
        p = pts @ Rz.T + np.array([0, 0, 4.0])
        az = view_azimuth_3d(p[None])
        assert azimuth_bins(az)[0] == want, (yaw, az)


def test_fitted_noise_recovers_its_parameters():
    fm = _model()
    rng = np.random.default_rng(1)
    seqs = []
    for back in (False, True):
        uv = _clips(40, 100, rng, back=back)
        noisy, conf = add_noise_fitted(uv, rng, fm)
        noisy = noisy.astype(float)
        noisy[conf[..., 0] == 0] = np.nan  # missed frames
        seqs += [(uv[i], noisy[i], conf[i]) for i in range(len(uv))]
    fit = fit_noise(seqs, step_s=0.1)
    for v in (0, 2):  # the two views present
        n_eff = fit.count[v] / 3  # AR(1) with rho 0.5: ~3 frames per independent sample
        se = fm.sd[v] / np.sqrt(n_eff)
        assert np.abs(fit.bias[v] - fm.bias[v]).max() < 5 * se.max()
        np.testing.assert_allclose(fit.sd[v], fm.sd[v], rtol=0.12)
        cov = fit.chol[v] @ fit.chol[v].T
        r = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
        off = r[~np.eye(34, dtype=bool)].mean()
        assert abs(off - 0.3 * (1 - 0.2)) < 0.05  # the fit shrinks off-diagonals by 0.2
        assert abs(fit.out_rate[v].mean() - 0.02) < 0.006
        np.testing.assert_allclose(fit.swap_rate[v], fm.swap_rate[v], atol=0.02)
        np.testing.assert_allclose(fit.conf_mean[v], 0.8, atol=0.01)
    assert abs(fit.miss_rate[2] - 0.06) < 0.02  # every person here is > 192 px
    assert abs(fit.rho - 0.5) < 0.05
    assert 1.5 < fit.swap_run < 5 and fit.miss_run > 1.3
    assert fit.count[1] == 0


def test_misses_follow_person_size():
    fm = _model()
    rng = np.random.default_rng(2)
    small = _clips(200, 30, rng) * 0.2  # 60-115 px tall: the first size bin
    _, conf = add_noise_fitted(small, rng, fm)
    assert abs((conf.max(-1) == 0).mean() - 0.5) < 0.06


def test_fitted_noise_shapes_seed_scale_and_swaps():
    fm = _model()
    uv = _clips(3, 50, np.random.default_rng(0))
    a = add_noise_fitted(uv, np.random.default_rng(7), fm)
    b = add_noise_fitted(uv, np.random.default_rng(7), fm)
    c = add_noise_fitted(uv, np.random.default_rng(8), fm)
    assert a[0].shape == uv.shape and a[1].shape == uv.shape[:-1]
    assert a[0].dtype == np.float32 and a[1].dtype == np.float32
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    clean, _ = add_noise_fitted(uv, np.random.default_rng(7), fm, scale=0.0)
    np.testing.assert_allclose(clean, uv, atol=1e-3)
    # only swaps: every frame of the front view swaps its legs, never its arms
    fm.swap_rate[0] = [1.0, 0.0]
    fm.out_rate[:] = 0
    fm.chol *= 0.01
    fm.bias[:] = 0
    n, _ = add_noise_fitted(uv, np.random.default_rng(1), fm)
    sw = detect_swaps(uv, n)
    assert sw[..., 0].all() and not sw[..., 1].any()
    np.testing.assert_allclose(n[..., [1, 2, 3], :], uv[..., [4, 5, 6], :], atol=0.5)
    # a single frame and a flat (T, 17, 2) input work too
    one, conf = add_noise_fitted(uv[0, :1], np.random.default_rng(1), fm)
    assert one.shape == (1, 17, 2) and conf.shape == (1, 17)


def test_noise_model_mode_fitted_uses_file(tmp_path):
    fm = _model()
    path = tmp_path / "m.npz"
    fm.save(path)
    back = FittedNoise.load(path)
    np.testing.assert_allclose(back.chol, fm.chol, rtol=1e-6, atol=1e-8)
    assert back.rho == fm.rho and back.swap_run == fm.swap_run
    nm = NoiseModel(mode="fitted", fitted=str(path))
    nm.check()
    uv = _clips(2, 30, np.random.default_rng(0))
    a = add_noise(uv, np.random.default_rng(3), nm)
    b = add_noise_fitted(uv, np.random.default_rng(3), back)
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ValueError):
        NoiseModel(mode="fitted", fitted=str(tmp_path / "missing.npz")).check()
    with pytest.raises(ValueError):
        NoiseModel(mode="detector").check()


def test_shipped_mediapipe_model_is_sane():
    from hpd3d.noise import load_fitted, resolve_model_path
    p = resolve_model_path("data/noise_mediapipe.npz")
    if not p.is_file():
        pytest.skip("data/noise_mediapipe.npz not fitted yet")
    fm = load_fitted(p)
    assert p.stat().st_size < 100_000 and "MediaPipe" in fm.provenance
    assert (fm.sd > 0).all() and (fm.sd < 0.2).all()
    assert np.abs(fm.bias).max() < 0.2
    assert ((fm.swap_rate >= 0) & (fm.swap_rate <= 1)).all() and 0 <= fm.rho < 1
    uv = _clips(2, 20, np.random.default_rng(0))
    noisy, conf = add_noise(uv, np.random.default_rng(0), NoiseModel(mode="fitted"))
    err = np.linalg.norm(noisy - uv, axis=-1) / person_size(uv)[..., 0]
    assert 0.005 < np.median(err) < 0.2


def _tool():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "tools" / "fit_detector_noise.py"
    spec = importlib.util.spec_from_file_location("fit_detector_noise", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_blazepose_to_h36m_map():
    tool = _tool()
    rng = np.random.default_rng(0)
    lm = rng.uniform(0, 400, (3, 33, 3))
    lm[..., 2] = rng.uniform(0, 1, (3, 33))
    uv, vis = tool._blaze_to_h36m(lm)
    np.testing.assert_allclose(uv[:, 0], (lm[:, 23, :2] + lm[:, 24, :2]) / 2)  # pelvis
    np.testing.assert_allclose(uv[:, 1], lm[:, 24, :2])  # right hip = BlazePose 24
    np.testing.assert_allclose(uv[:, 13], lm[:, 15, :2])  # left wrist = BlazePose 15
    np.testing.assert_allclose(uv[:, 9], lm[:, 0, :2])  # neck/nose = nose
    np.testing.assert_allclose(vis[:, 0], np.minimum(lm[:, 23, 2], lm[:, 24, 2]))
    np.testing.assert_allclose(vis[:, 16], lm[:, 16, 2])


def test_fit_tool_rejects_missing_input(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    repo = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, str(repo / "tools" / "fit_detector_noise.py"),
                        f"inputs=[{{dir: {tmp_path}, name: x}}]", f"out={tmp_path}/m.npz"],
                       capture_output=True, text=True, cwd=repo, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "not found" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "m.npz").exists()


def test_outliers_inside_the_torso():
    from hpd3d.noise import torso_occluded
    fm = _model()
    fm.occ_out_rate = np.full(17, 0.02)
    fm.occ_out_rate[13] = 0.4  # the left wrist in front of the torso
    rng = np.random.default_rng(4)
    uv = _clips(60, 60, rng)
    uv[:, :30, 13] = uv[:, :30, 7]  # first half: left wrist on the spine, inside the torso
    occ = torso_occluded(uv)
    assert occ[:, :30, 13].all() and not occ[:, 30:].any() and not occ[..., 16].any()
    noisy, conf = add_noise_fitted(uv, rng, fm)
    noisy = noisy.astype(float)
    noisy[conf[..., 0] == 0] = np.nan
    fit = fit_noise([(uv[i], noisy[i], conf[i]) for i in range(len(uv))], step_s=0.1)
    assert abs(fit.occ_out_rate[13] - 0.4) < 0.05
    assert abs(fit.out_rate[0, 13] - 0.02) < 0.02
