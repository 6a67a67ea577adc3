"""Absolute placement of a root-relative pose sequence: camera-frame root trajectory from a
2D↔3D fit, then a world frame (Z up, ground at z = 0, metres). numpy only.

**Root translation** (:func:`fit_translation`). A lifter gives the pose ``X`` (T, J, 3)
relative to its root in the camera frame (OpenCV: x right, y down, z forward); the 2D
keypoints ``uv`` (T, J, 2) and the intrinsics ``K`` fix where it stands. For each frame we
solve for the translation ``t`` with ``project(K, X + t) ≈ uv``. Multiplying the pinhole
equations by the depth makes them linear in ``t``::

    fx·(X+tx) + s·(Y+ty) + (cx − u)·(Z+tz) = 0,      fy·(Y+ty) + (cy − v)·(Z+tz) = 0

— two rows per joint, a 3×3 weighted normal system per frame, solved for all frames at
once. Rows are weighted by the confidence divided by the current depth estimate (two
re-weightings), which turns the algebraic residual into a pixel residual. The uv must be
undistorted (pinhole) pixels. Frames without enough confident joints are interpolated.

**World frame** (:func:`world_frame`). ``world = R · cam + t`` with, in camera
coordinates, the up vector ``n`` (world +Z) found as

1. a prior: ``"torso"`` — the body's own up (:func:`torso_up`: pelvis→thorax and
   ankles→hips on the frames whose legs are straight), or ``"camera"`` — the camera's −y
   (a level camera);
2. ``"ground"`` refinement (:func:`ground_plane`): a robust plane through the lower ankle
   of every frame; the plane's normal is used in the directions the ground points span
   (≥ ``min_spread`` m standard deviation): a 2D spread gives the full normal, a 1D spread
   (walking in a line) only the tilt along the line, no spread keeps the prior; with the
   body prior the plane may tilt it by at most ``max_tilt_deg`` (lifted depth is noisy), a
   full plane by ``max_tilt_plane_deg`` (the lifter leans the body ~15° on MediaPipe 2D);
3. yaw: world +Y is the camera's viewing direction projected on the ground, so **the camera
   looks along +Y** and a subject facing the camera faces −Y (Blender's front view);
4. origin: the ground point under the subject's root at the start of the clip; ground
   ``z = 0`` at the ankles' resting height (median height of the ground points), so
   planted ankles sit at z ≈ 0 (``ankle_height`` puts the floor that much lower).
"""

from __future__ import annotations

import numpy as np

from .smoothing import fill_low_confidence

__all__ = ["fit_translation", "to_ray", "from_ray", "torso_up", "leg_straightness",
           "ground_plane", "world_frame", "apply_frame", "project_points"]

PELVIS, THORAX, R_ANKLE, L_ANKLE = 0, 8, 3, 6


def project_points(X, K) -> np.ndarray:
    """(…, 3) camera-frame points → (…, 2) pixels with the pinhole ``K`` (no distortion)."""
    X = np.asarray(X, dtype=np.float64)
    K = np.asarray(K, dtype=np.float64)
    x = X @ K.T
    return x[..., :2] / x[..., 2:3]


def fit_translation(pose_rel, uv, K, conf=None, *, min_conf: float = 0.1, reweight: int = 2,
                    min_joints: int = 4, init_depth: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame translation ``t`` (T, 3) such that ``project(K, pose_rel + t) ≈ uv``.

    ``pose_rel`` (T, J, 3) metres, camera frame; ``uv`` (T, J, 2) pixels; ``conf`` (T, J)
    weights (joints below ``min_conf`` are ignored). Returns ``(t, valid)`` where frames with
    fewer than ``min_joints`` confident joints (or a solution behind the camera) are
    ``valid=False`` and filled by interpolation from their neighbours (``init_depth``
    straight ahead when no frame is valid).
    """
    X = np.asarray(pose_rel, dtype=np.float64)
    uv = np.asarray(uv, dtype=np.float64)
    K = np.asarray(K, dtype=np.float64)
    T, J, _ = X.shape
    fx, s, cx, fy, cy = K[0, 0], K[0, 1], K[0, 2], K[1, 1], K[1, 2]
    c = np.ones((T, J)) if conf is None else np.nan_to_num(np.asarray(conf, dtype=np.float64))
    ok = (c >= min_conf) & np.isfinite(uv).all(-1) & np.isfinite(X).all(-1)
    w0 = np.where(ok, np.maximum(c, 1e-6), 0.0)
    uvf = np.where(ok[..., None], uv, 0.0)
    Xf = np.where(ok[..., None], X, 0.0)
    # rows a·t = -a·X, b·t = -b·X
    A = np.zeros((T, J, 2, 3))
    A[..., 0, 0] = fx
    A[..., 0, 1] = s
    A[..., 0, 2] = cx - uvf[..., 0]
    A[..., 1, 1] = fy
    A[..., 1, 2] = cy - uvf[..., 1]
    rhs = -np.einsum("tjrk,tjk->tjr", A, Xf)
    depth = np.full((T, J), init_depth)
    t = np.zeros((T, 3))
    for _ in range(reweight + 1):
        w = w0 / np.maximum(depth, 0.1)
        M = np.einsum("tj,tjrk,tjrl->tkl", w ** 2, A, A) + np.eye(3) * 1e-9
        b = np.einsum("tj,tjrk,tjr->tk", w ** 2, A, rhs)
        t = np.linalg.solve(M, b[..., None])[..., 0]
        depth = X[..., 2] + t[:, None, 2]
        depth = np.where(np.isfinite(depth), depth, init_depth)
    valid = (ok.sum(1) >= min_joints) & (t[:, 2] > 0.05) & np.isfinite(t).all(1)
    if not valid.any():
        t = np.tile([0.0, 0.0, init_depth], (T, 1))
        return t, valid
    t = fill_low_confidence(np.where(valid[:, None], t, np.nan))
    return t, valid


def _units(d):
    n = np.linalg.norm(d, axis=-1, keepdims=True)
    return np.divide(d, n, out=np.zeros_like(d), where=n > 1e-9)


def leg_straightness(pose) -> np.ndarray:
    """(T,) the straighter-is-1 ratio hip–ankle distance / (thigh + shin), worse leg."""
    out = np.ones(len(pose))
    for h, k, a in ((1, 2, 3), (4, 5, 6)):
        reach = np.linalg.norm(pose[:, a] - pose[:, h], axis=-1)
        full = (np.linalg.norm(pose[:, k] - pose[:, h], axis=-1)
                + np.linalg.norm(pose[:, a] - pose[:, k], axis=-1))
        out = np.minimum(out, np.divide(reach, full, out=np.zeros_like(reach), where=full > 0))
    return out


def to_ray(t, K) -> tuple[np.ndarray, np.ndarray]:
    """Camera-frame points ``t`` (T, 3) → (pixel position (T, 2), depth (T,)): the 2D part
    is what the image measures well, the depth what a monocular fit gets wrong; smoothing
    them separately (:func:`from_ray` recombines) keeps the root on its 2D track."""
    t = np.asarray(t, dtype=np.float64)
    return project_points(t, K), t[:, 2].copy()


def from_ray(uv, depth, K) -> np.ndarray:
    """Inverse of :func:`to_ray`: ``depth · K⁻¹ (u, v, 1)``."""
    uv = np.asarray(uv, dtype=np.float64)
    h = np.concatenate([uv, np.ones((len(uv), 1))], axis=1)
    rays = h @ np.linalg.inv(np.asarray(K, dtype=np.float64)).T
    return rays / rays[:, 2:3] * np.asarray(depth, dtype=np.float64)[:, None]


def torso_up(pose, conf=None, *, straight: float = 0.93, min_frames: int = 5) -> np.ndarray:
    """(3,) a body-up prior from ``pose`` (T, J, 3): on the frames whose legs are both
    nearly straight (standing, walking; ≥ ``straight``, see :func:`leg_straightness`) the
    mean of the pelvis→thorax and ankles→hips directions; all frames' pelvis→thorax when
    fewer than ``min_frames`` qualify. (On the real BVH clips: ≤ 4.5° from the true up,
    where the plain mean torso direction is 29° off on a clip of deep knee bends.)"""
    pose = np.asarray(pose, dtype=np.float64)
    torso = _units(pose[:, THORAX] - pose[:, PELVIS])
    legs = _units(pose[:, [1, 4]].mean(1) - pose[:, [R_ANKLE, L_ANKLE]].mean(1))
    w = np.ones(len(pose)) if conf is None else np.nan_to_num(
        np.asarray(conf, dtype=np.float64)[:, [PELVIS, THORAX, R_ANKLE, L_ANKLE]].min(1))
    sel = (leg_straightness(pose) >= straight) & (w > 0)
    if sel.sum() >= min_frames:
        m = ((torso + legs) * w[:, None])[sel].sum(0)
    else:
        m = (torso * w[:, None]).sum(0)
    if np.linalg.norm(m) < 1e-9:
        return np.array([0.0, -1.0, 0.0])
    return m / np.linalg.norm(m)


def _unit(v):
    return v / np.linalg.norm(v)


def ground_plane(pose, up0, *, band: float = 0.05, min_spread: float = 0.15,
                 max_tilt_deg: float = 30.0, max_tilt_plane_deg: float | None = None,
                 iterations: int = 6) -> tuple[np.ndarray, float, dict]:
    """Ground plane from the lower ankle of every frame of ``pose`` (T, J, 3) (camera frame).

    A robust plane fit: the per-frame lower ankle (along the prior) is a ground candidate;
    all candidates start with weight 1, then get Tukey weights on their distance to the
    current fitted plane (cut-off 3 × the larger of ``band`` and the robust residual scale),
    refitted ``iterations`` times. The normal is only trusted in the directions the weighted points
    span (standard deviation ≥ ``min_spread``): two → the plane's normal (``"plane"``), one →
    the prior tilted along that line only (``"line"``), none → the prior (``"prior"``); a
    normal more than ``max_tilt_deg`` from the prior is rejected (``max_tilt_plane_deg``, if
    given, for a full plane: a 2D spread of ground points pins the normal much better than a
    line, whose tilt along the walk is where the lifted depth errors go).

    Returns ``(n, d, info)``: unit up normal ``n`` (3,) and offset ``d`` so that the height of
    a point ``p`` above the ground is ``n·p − d``.
    """
    pose = np.asarray(pose, dtype=np.float64)
    up0 = _unit(np.asarray(up0, dtype=np.float64))
    ank = pose[:, [R_ANKLE, L_ANKLE]]
    ank = ank[np.isfinite(ank).all((1, 2))]
    if len(ank) == 0:
        return up0, 0.0, {"mode": "prior", "points": 0}
    n, mode = up0.copy(), "prior"
    h = ank @ n
    pts = ank[np.arange(len(ank)), np.argmin(h, axis=1)]  # (T, 3) the lower ankle
    # Weights from the distance to the current *fitted* plane (Tukey, scale: the larger of
    # ``band`` and 1.48 × the median absolute residual), starting from all points. (Cutting
    # at ``band`` above the lowest points along the prior drops the far end of a walk as soon
    # as the prior is tilted along it: the fit then cannot leave the prior; with MediaPipe 2D
    # the body prior is ~15° off and the ankles drifted up 0.25 m over a 5 m walk.)
    w = np.ones(len(pts))
    for _ in range(iterations):
        if w.sum() < 3:
            break
        cen = (w[:, None] * pts).sum(0) / w.sum()
        Y = (pts - cen) * np.sqrt(w)[:, None]
        _, sv, Vt = np.linalg.svd(Y, full_matrices=False)
        std = sv / np.sqrt(w.sum())
        if std[1] >= min_spread:
            cand, mode = Vt[2], "plane"
        elif std[0] >= min_spread:
            line = Vt[0]
            cand, mode = up0 - (up0 @ line) * line, "line"
        else:
            cand, mode = up0, "prior"
        cand = _unit(cand)
        if cand @ up0 < 0:
            cand = -cand
        limit = max_tilt_deg if mode != "plane" or max_tilt_plane_deg is None else max(
            max_tilt_deg, max_tilt_plane_deg)
        if np.degrees(np.arccos(np.clip(cand @ up0, -1, 1))) > limit:
            cand, mode = up0, "prior"
        n = cand
        r = (pts - cen) @ n
        scale = max(band, 1.4826 * float(np.median(np.abs(r - np.median(r)))))
        w = np.clip(1 - (r / (3 * scale)) ** 2, 0, 1) ** 2
    # the resting level: the median of the points near the lowest ones (a low quantile at
    # first, so that swing-foot frames do not count)
    hh = pts @ n
    d = float(np.quantile(hh, 0.1))
    inl = np.abs(hh - d) <= band
    if inl.any():
        d = float(np.median(hh[inl]))
    return n, d, {"mode": mode, "points": int((w > 0).sum())}


def world_frame(pose_cam, *, up: str = "auto", conf=None, band: float = 0.05,
                min_spread: float = 0.15, max_tilt_deg: float = 10.0,
                max_tilt_plane_deg: float = 30.0, ankle_height: float = 0.0,
                origin_frames: int = 15) -> tuple[np.ndarray, np.ndarray, dict]:
    """``(R, t, info)`` with ``world = R · cam + t`` for the absolute camera-frame sequence
    ``pose_cam`` (T, J, 3): Z up, ground z = 0 (at the resting-ankle height, lowered by
    ``ankle_height``), the camera looking along +Y, origin under the starting root.

    ``up``: ``"auto"`` (body prior refined by the ground plane, by at most ``max_tilt_deg``:
    lifted depth is noisy, so the plane alone can be further off than the body prior),
    ``"ground"`` (level-camera prior refined by the plane, up to 45°), ``"torso"`` or
    ``"camera"`` (prior only).
    """
    pose_cam = np.asarray(pose_cam, dtype=np.float64)
    if up not in ("auto", "ground", "torso", "camera"):
        raise ValueError(f"up must be auto, ground, torso or camera, got {up!r}")
    prior = np.array([0.0, -1.0, 0.0]) if up in ("camera", "ground") else torso_up(pose_cam, conf)
    if up in ("auto", "ground"):
        n, d, info = ground_plane(pose_cam, prior, band=band, min_spread=min_spread,
                                  max_tilt_deg=45.0 if up == "ground" else max_tilt_deg,
                                  max_tilt_plane_deg=max_tilt_plane_deg)
    else:
        n, d, info = ground_plane(pose_cam, prior, band=band, min_spread=np.inf)
        info["mode"] = up
    fwd = np.array([0.0, 0.0, 1.0]) - n[2] * n
    if np.linalg.norm(fwd) < 1e-6:  # looking straight down or up: use the camera's −y
        fwd = np.array([0.0, -1.0, 0.0]) - n[1] * n
    y = _unit(fwd)
    x = np.cross(y, n)
    R = np.stack([x, y, n])
    t = np.zeros(3)
    t[2] = -d + ankle_height
    root0 = pose_cam[: max(1, origin_frames), PELVIS].mean(0)
    t[:2] = -(R @ root0)[:2]
    info = dict(info, up_cam=n.tolist(), tilt_from_prior_deg=float(
        np.degrees(np.arccos(np.clip(n @ prior, -1, 1)))))
    return R, t, info


def apply_frame(X, R, t) -> np.ndarray:
    """``R · X + t`` over (…, 3)."""
    return np.asarray(X, dtype=np.float64) @ np.asarray(R).T + np.asarray(t)
