"""Pose metrics: hand-computed cases and an independent Procrustes (scipy)."""

import numpy as np
import pytest
from scipy.linalg import orthogonal_procrustes
from scipy.spatial import procrustes
from scipy.spatial.transform import Rotation

from hpd3d import metrics as M
from hpd3d.skeleton import H36M, bone_lengths

RNG = np.random.default_rng(0)


def _poses(*shape):
    return RNG.normal(size=(*shape, 17, 3))


def _similarity(x, rng=RNG):
    """x (N, J, 3) → s · R x + t per sample, with random proper R, s, t."""
    n = x.shape[0]
    R = Rotation.random(n, random_state=1).as_matrix()
    s = rng.uniform(0.5, 2.0, size=(n, 1, 1))
    t = rng.normal(size=(n, 1, 3)) * 3
    return s * np.einsum("nij,nkj->nki", R, x) + t


# ------------------------------------------------------------------------- MPJPE


def test_mpjpe_constant_offset_is_offset_length():
    gt = _poses(4, 5)
    assert M.mpjpe(gt + [1.0, 0.0, 0.0], gt) == pytest.approx(1.0, abs=1e-12)
    assert M.mpjpe(gt + [3.0, 4.0, 0.0], gt) == pytest.approx(5.0, abs=1e-12)


def test_mpjpe_hand_computed_and_per_sample():
    gt = np.zeros((2, 2, 3))
    pred = gt.copy()
    pred[0, 0] = [3, 4, 0]      # sample 0: errors 5, 0  → 2.5
    pred[1, 1] = [0, 0, 2]      # sample 1: errors 0, 2  → 1
    assert M.mpjpe(pred, gt) == pytest.approx(7 / 4)
    np.testing.assert_allclose(M.mpjpe(pred, gt, reduce=False), [2.5, 1.0])


def test_mpjpe_mask_and_weights():
    gt = np.zeros((1, 3, 3))
    pred = gt.copy()
    pred[0, 0] = [1, 0, 0]
    pred[0, 2] = [100, 0, 0]    # an invisible joint with a huge error
    mask = np.array([True, True, False])
    assert M.mpjpe(pred, gt, weights=mask) == pytest.approx(0.5)
    assert M.mpjpe(pred, gt, weights=[2.0, 0.0, 0.0]) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        M.mpjpe(pred, gt, weights=np.zeros(3, bool))


def test_shape_mismatch_raises():
    with pytest.raises(ValueError):
        M.mpjpe(np.zeros((17, 3)), np.zeros((16, 3)))


def test_per_joint_error():
    gt = _poses(10)
    pred = gt.copy()
    pred[:, 5] += [0, 2, 0]
    pj = M.per_joint_error(pred, gt)
    assert pj.shape == (17,)
    assert pj[5] == pytest.approx(2.0)
    assert np.delete(pj, 5).max() == 0


# ------------------------------------------------------------------------- N-MPJPE, P-MPJPE


def test_scaled_pose_is_zero_after_scale_and_procrustes():
    gt = _poses(6)
    pred = 2.0 * gt
    assert M.mpjpe(pred, gt) > 0.5
    assert M.n_mpjpe(pred, gt) == pytest.approx(0, abs=1e-12)
    assert M.p_mpjpe(pred, gt) == pytest.approx(0, abs=1e-12)


def test_n_mpjpe_scale_is_optimal():
    gt = _poses(1)
    pred = 0.7 * gt + 0.05 * RNG.normal(size=gt.shape)
    best = M.n_mpjpe(pred, gt)
    s = (gt * pred).sum() / (pred * pred).sum()
    assert best == pytest.approx(M.mpjpe(s * pred, gt))
    # n_mpjpe is a least-squares scale: its squared error beats any other scale
    sse = lambda k: ((k * pred - gt) ** 2).sum()
    assert all(sse(s) <= sse(k) for k in np.linspace(0.5, 2.0, 61))


def test_similarity_transform_aligns_to_zero():
    gt = _poses(32)
    pred = _similarity(gt)
    assert M.mpjpe(pred, gt) > 0.5
    assert M.p_mpjpe(pred, gt) < 1e-9
    np.testing.assert_allclose(M.procrustes_align(pred, gt), gt, atol=1e-9)


def test_p_mpjpe_any_leading_shape():
    gt = _poses(3, 4)
    pred = _similarity(gt.reshape(12, 17, 3)).reshape(3, 4, 17, 3)
    assert M.p_mpjpe(pred, gt, reduce=False).shape == (3, 4)
    assert M.p_mpjpe(pred, gt) < 1e-9
    single = M.p_mpjpe(pred[1, 2], gt[1, 2])
    assert single < 1e-9


def test_reflection_is_not_aligned():
    gt = _poses(8)
    mirrored = gt * [-1.0, 1.0, 1.0]     # a reflection, det = -1
    ours = M.p_mpjpe(mirrored, gt, reduce=False)
    assert (ours > 0.1).all()
    # scipy's orthogonal Procrustes allows reflections and does align it exactly
    for g, m in zip(gt, mirrored):
        assert procrustes(g, m)[2] < 1e-20


def test_p_mpjpe_matches_scipy():
    gt = _poses(20)
    pred = _similarity(gt) + 0.1 * RNG.normal(size=gt.shape)
    ours = M.p_mpjpe(pred, gt, reduce=False)
    aligned = M.procrustes_align(pred, gt)
    for i, (p, g) in enumerate(zip(pred, gt)):
        X0, Y0 = g - g.mean(0), p - p.mean(0)
        R, sv = orthogonal_procrustes(Y0, X0)       # min ‖Y0 R − X0‖ over orthogonal R
        assert np.linalg.det(R) > 0                  # a proper rotation here
        a = sv / (Y0 ** 2).sum()
        ref = a * Y0 @ R + g.mean(0)
        assert ours[i] == pytest.approx(np.linalg.norm(ref - g, axis=-1).mean(), rel=1e-9)
        # scipy.spatial.procrustes: disparity of standardised poses = SSE / ‖X0‖²
        disparity = procrustes(g, p)[2]
        assert ((aligned[i] - g) ** 2).sum() == pytest.approx(disparity * (X0 ** 2).sum(), rel=1e-9)
    # and P-MPJPE never exceeds MPJPE (identity is one of the candidates)
    assert (ours <= M.mpjpe(pred, gt, reduce=False) + 1e-12).all()


def test_degenerate_prediction_is_finite():
    gt = _poses(2)
    pred = np.zeros_like(gt)      # all joints in one point
    out = M.p_mpjpe(pred, gt, reduce=False)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, np.linalg.norm(gt - gt.mean(1, keepdims=True), axis=-1).mean(-1))


# ------------------------------------------------------------------------- bones


def _h36m_pose():
    x = np.zeros((17, 3))
    for c, p in enumerate(H36M.parents):
        if p >= 0:
            x[c] = x[p] + RNG.normal(size=3) * 0.2
    return x


def test_bone_length_error_hand_computed():
    gt = _h36m_pose()
    pred = gt.copy()
    d = 0.3
    u = gt[2] - gt[1]
    u /= np.linalg.norm(u)
    pred[[2, 3]] += d * u     # lengthen R-hip→R-knee by d; knee→ankle unchanged
    assert M.bone_length_error(pred, gt) == pytest.approx(d / 16)
    per_bone = M.bone_length_error(pred, gt, reduce=False)
    assert per_bone.shape == (16,)


def test_bone_length_consistency_rigid_is_zero():
    pose = _h36m_pose()
    T = 30
    R = Rotation.random(T, random_state=3).as_matrix()
    seq = np.einsum("tij,kj->tki", R, pose) + RNG.normal(size=(T, 1, 3))
    cv = M.bone_length_consistency(seq, H36M)
    assert cv.shape == (16,)
    np.testing.assert_allclose(cv, 0, atol=1e-12)


def test_bone_length_consistency_hand_computed():
    pose = _h36m_pose()
    seq = np.stack([pose, pose])
    u = pose[16] - pose[15]
    L = np.linalg.norm(u)
    seq[1, 16] = pose[15] + 3 * u        # R-elbow→R-wrist: lengths L, 3L → std L, mean 2L
    cv = M.bone_length_consistency(seq, H36M)
    b = [tuple(x) for x in H36M.bones].index((15, 16))
    assert cv[b] == pytest.approx(0.5)
    assert np.delete(cv, b).max() == pytest.approx(0, abs=1e-12)
    np.testing.assert_allclose(bone_lengths(seq, H36M)[:, b], [L, 3 * L])


# ------------------------------------------------------------------------- time


def test_velocity_error_two_frames():
    gt = np.zeros((2, 2, 3))
    pred = np.zeros((2, 2, 3))
    pred[1, 0] = [3, 4, 0]   # joint 0 moves by 5, joint 1 still; gt still
    # one difference frame, 2 joints: (5 + 0) / 2
    assert M.velocity_error(pred, gt) == pytest.approx(2.5)
    # a constant offset has no velocity error
    assert M.velocity_error(gt + 7.0, gt) == 0


def test_acceleration_and_jitter_hand_computed():
    pred = np.zeros((3, 1, 3))
    pred[:, 0, 0] = [0, 1, 4]    # second difference 4 − 2·1 + 0 = 2
    gt = np.zeros_like(pred)
    gt[:, 0, 0] = [0, 1, 2]      # constant velocity: no acceleration
    assert M.acceleration_error(pred, gt) == pytest.approx(2.0)
    assert M.jitter(pred) == pytest.approx(2.0)
    assert M.jitter(gt) == 0
    with pytest.raises(ValueError):
        M.jitter(pred[:2])


def test_velocity_error_batched_matches_loop():
    gt = RNG.normal(size=(3, 10, 17, 3))
    pred = gt + 0.1 * RNG.normal(size=gt.shape)
    batched = M.velocity_error(pred, gt)
    looped = np.mean([M.velocity_error(p, g) for p, g in zip(pred, gt)])
    assert batched == pytest.approx(looped)
