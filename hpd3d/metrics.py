"""Pose-error metrics, numpy only, vectorised over any leading shape.

Poses are ``(..., J, C)`` arrays (C = 3 for 3D); sequences are ``(..., T, J, C)`` with
time on axis -3. Errors are in the input's units (metres in this toolkit; multiply by
1000 for the millimetres papers report). Definitions follow VideoPose3D's
``common/loss.py``: ``mpjpe``, ``p_mpjpe`` (Procrustes: rotation without reflection,
scale, translation), ``n_mpjpe`` (scale only) and ``mean_velocity_error``.
"""

from __future__ import annotations

import numpy as np

from .skeleton import H36M, Skeleton, bone_lengths

__all__ = [
    "mpjpe", "p_mpjpe", "n_mpjpe", "procrustes_align", "per_joint_error",
    "bone_length_error", "bone_length_consistency", "velocity_error",
    "acceleration_error", "jitter",
]


def _pair(pred, gt) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape:
        raise ValueError(f"pred shape {pred.shape} != gt shape {gt.shape}")
    if pred.ndim < 2:
        raise ValueError(f"expected (..., J, C) poses, got shape {pred.shape}")
    return pred, gt


def _reduce(err: np.ndarray, weights, reduce: bool):
    """Mean of per-joint errors ``err`` (..., J): over everything, or per sample (...,)."""
    if weights is None:
        return float(err.mean()) if reduce else err.mean(axis=-1)
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), err.shape)
    if (w < 0).any():
        raise ValueError("weights must be non-negative")
    if reduce:
        total = w.sum()
        if total == 0:
            raise ValueError("weights/mask select no joint")
        return float((w * err).sum() / total)
    total = w.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (w * err).sum(axis=-1) / np.where(total > 0, total, 1), np.nan)


def mpjpe(pred, gt, weights=None, reduce: bool = True):
    """Mean per-joint position error: mean over joints (and samples) of ‖pred − gt‖.

    ``weights`` (broadcastable to (..., J)): a bool visibility mask or non-negative
    per-joint weights; the result is the weighted mean. ``reduce=False`` returns the
    per-sample error (...,) (NaN where a sample has no weight).
    """
    pred, gt = _pair(pred, gt)
    return _reduce(np.linalg.norm(pred - gt, axis=-1), weights, reduce)


def procrustes_align(pred, gt) -> np.ndarray:
    """``pred`` aligned to ``gt`` per sample by the similarity transform (rotation with
    det +1, uniform scale, translation) minimising the squared error (VideoPose3D's
    ``p_mpjpe`` alignment, Umeyama). Shapes (..., J, C) → (..., J, C)."""
    pred, gt = _pair(pred, gt)
    shape = pred.shape
    Y = pred.reshape(-1, *shape[-2:])
    X = gt.reshape(-1, *shape[-2:])
    mu_x = X.mean(axis=1, keepdims=True)
    mu_y = Y.mean(axis=1, keepdims=True)
    X0, Y0 = X - mu_x, Y - mu_y
    norm_x = np.sqrt((X0 ** 2).sum(axis=(1, 2), keepdims=True))
    norm_y = np.sqrt((Y0 ** 2).sum(axis=(1, 2), keepdims=True))
    # A sample collapsed to one point: scale 0 is optimal; avoid 0/0.
    X0 = X0 / np.where(norm_x > 0, norm_x, 1)
    Y0 = Y0 / np.where(norm_y > 0, norm_y, 1)
    H = X0.transpose(0, 2, 1) @ Y0
    U, s, Vt = np.linalg.svd(H)
    V = Vt.transpose(0, 2, 1)
    R = V @ U.transpose(0, 2, 1)
    # No reflections: flip the last singular direction where det(R) < 0.
    sign = np.where(np.linalg.det(R) < 0, -1.0, 1.0)
    V[:, :, -1] *= sign[:, None]
    s[:, -1] *= sign
    R = V @ U.transpose(0, 2, 1)
    a = s.sum(axis=1)[:, None, None] * norm_x / np.where(norm_y > 0, norm_y, 1)
    t = mu_x - a * (mu_y @ R)
    return (a * (Y @ R) + t).reshape(shape)


def p_mpjpe(pred, gt, weights=None, reduce: bool = True):
    """MPJPE after per-sample Procrustes alignment (rotation, scale, translation).

    The alignment uses all joints; ``weights`` only weight the error afterwards.
    """
    pred, gt = _pair(pred, gt)
    return mpjpe(procrustes_align(pred, gt), gt, weights=weights, reduce=reduce)


def n_mpjpe(pred, gt, weights=None, reduce: bool = True):
    """MPJPE after the per-sample optimal scale ``<gt, pred> / <pred, pred>`` (no
    centring, as VideoPose3D's ``n_mpjpe``)."""
    pred, gt = _pair(pred, gt)
    pp = (pred * pred).sum(axis=(-2, -1), keepdims=True)
    gp = (gt * pred).sum(axis=(-2, -1), keepdims=True)
    scale = gp / np.where(pp > 0, pp, 1)
    return mpjpe(scale * pred, gt, weights=weights, reduce=reduce)


def per_joint_error(pred, gt) -> np.ndarray:
    """(J,) mean position error of each joint over all leading dimensions."""
    pred, gt = _pair(pred, gt)
    err = np.linalg.norm(pred - gt, axis=-1)
    return err.reshape(-1, err.shape[-1]).mean(axis=0)


def bone_length_error(pred, gt, skeleton: Skeleton = H36M, reduce: bool = True):
    """Mean |L_pred − L_gt| over the skeleton's bones (and samples); ``reduce=False``
    gives (..., B)."""
    pred, gt = _pair(pred, gt)
    _check_joints(pred, skeleton)
    err = np.abs(bone_lengths(pred, skeleton) - bone_lengths(gt, skeleton))
    return float(err.mean()) if reduce else err


def bone_length_consistency(seq, skeleton: Skeleton = H36M) -> np.ndarray:
    """(..., B) coefficient of variation (std / mean) of each bone's length over time
    (axis -3 of (..., T, J, 3)); 0 for a rigid skeleton, NaN for a zero-length bone."""
    seq = _seq(seq, 1)
    _check_joints(seq, skeleton)
    lengths = bone_lengths(seq, skeleton)  # (..., T, B)
    mean = lengths.mean(axis=-2)
    std = lengths.std(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mean > 0, std / np.where(mean > 0, mean, 1), np.nan)


def velocity_error(pred_seq, gt_seq) -> float:
    """Mean ‖Δpred − Δgt‖ over frames and joints (first differences along time, axis -3;
    units per frame). VideoPose3D's ``mean_velocity_error``."""
    return _diff_error(pred_seq, gt_seq, 1)


def acceleration_error(pred_seq, gt_seq) -> float:
    """Mean ‖Δ²pred − Δ²gt‖ (second differences along time; units per frame²)."""
    return _diff_error(pred_seq, gt_seq, 2)


def jitter(seq) -> float:
    """Mean acceleration magnitude ‖Δ²x‖ over frames and joints (units per frame²)."""
    seq = _seq(seq, 3)
    return float(np.linalg.norm(np.diff(seq, n=2, axis=-3), axis=-1).mean())


def _seq(seq, min_frames: int) -> np.ndarray:
    seq = np.asarray(seq, dtype=np.float64)
    if seq.ndim < 3:
        raise ValueError(f"expected a (..., T, J, C) sequence, got shape {seq.shape}")
    if seq.shape[-3] < min_frames:
        raise ValueError(f"need at least {min_frames} frames, got {seq.shape[-3]}")
    return seq


def _diff_error(pred_seq, gt_seq, n: int) -> float:
    pred, gt = _pair(pred_seq, gt_seq)
    _seq(pred, n + 1)
    d = np.diff(pred, n=n, axis=-3) - np.diff(gt, n=n, axis=-3)
    return float(np.linalg.norm(d, axis=-1).mean())


def _check_joints(x: np.ndarray, skeleton: Skeleton) -> None:
    if x.shape[-2] != skeleton.num_joints:
        raise ValueError(f"{skeleton.name} has {skeleton.num_joints} joints, "
                         f"got {x.shape[-2]}")
