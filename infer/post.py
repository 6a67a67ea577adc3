"""Inference post-processing: smoothing, constant bone lengths, root trajectory, world frame,
foot contacts and locking, and the quality report. The numerics live in ``hpd3d``
(``smoothing``, ``bones``, ``trajectory``, ``contacts``; shared with the Blender import);
this module only orchestrates them from the ``post`` config node (``conf/post/*.yaml``),
each step switchable.

Order: (``smooth_2d`` is called by the pipeline before lifting) → ``smooth_3d`` (root-
relative camera-frame pose) → ``bone_lengths`` → ``trajectory`` (root translation from the
2D↔3D fit with K, its image position and depth smoothed separately) → ``ground`` (world
frame: Z up, ground z = 0 at the resting ankles, metres, **the camera looks along +Y** so a
subject facing the camera faces −Y, origin under the subject's starting root) → contacts →
``foot_lock`` (planted ankles pinned, the body follows them, two-bone leg IK). The pixels
must be undistorted (``K`` only). :func:`check_config` validates a ``post`` node before any
work. What each choice buys is measured in ``conf/post/default.yaml`` (``tools/measure_post.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from hpd3d import bones as _bones
from hpd3d import contacts as _contacts
from hpd3d import smoothing as _smoothing
from hpd3d import trajectory as _trajectory
from hpd3d.errors import InputError
from hpd3d.skeleton import bone_lengths

__all__ = ["PostResult", "check_config", "smooth_2d", "postprocess", "quality_report",
           "plot_report"]


@dataclass
class PostResult:
    """What :func:`postprocess` returns (all float64 arrays, metres)."""

    cam_rootrel: np.ndarray  # (T, 17, 3) camera frame, root at 0 (smoothed, constant bones)
    cam: np.ndarray  # (T, 17, 3) absolute camera frame
    world: np.ndarray  # (T, 17, 3) world: Z up, ground z = 0, camera looking along +Y
    contacts: np.ndarray  # (T, 2) bool [right ankle, left ankle]
    R_world_cam: np.ndarray  # (3, 3) world = R · cam + t
    t_world_cam: np.ndarray  # (3,)
    bone_lengths: np.ndarray  # (16,) metres, H36M bone order (child 1..16)
    steps: dict = field(default_factory=dict)  # step name → what ran (bool or details)


def _get(cfg, path: str, default=None):
    """``cfg.a.b`` for a dict, an OmegaConf node or an object; ``default`` when absent."""
    node = cfg
    for key in path.split("."):
        if node is None:
            return default
        if isinstance(node, Mapping) or hasattr(node, "get") and not hasattr(node, "__dict__"):
            try:
                node = node.get(key, None)
            except Exception:  # noqa: BLE001 (an OmegaConf interpolation error etc.)
                return default
        else:
            node = getattr(node, key, None)
    return default if node is None else node


def _smooth_kwargs(node) -> dict:
    kw = {}
    for k in ("window_s", "window", "order", "min_cutoff", "beta", "d_cutoff", "bidirectional"):
        v = _get(node, k)
        if v is not None:
            kw[k] = v
    return kw


def _run_smoothing(x, conf, fps, node):
    method = str(_get(node, "method", "savgol"))
    return _smoothing.smooth(x, fps, method, conf=conf, min_conf=float(_get(node, "min_conf", 0.0)),
                             **_smooth_kwargs(node))


_SMOOTH_KEYS = {"enabled", "method", "window_s", "window", "order", "min_cutoff", "beta",
                "d_cutoff", "bidirectional", "min_conf"}
_SCHEMA = {
    "smooth_2d": _SMOOTH_KEYS,
    "smooth_3d": _SMOOTH_KEYS,
    "bone_lengths": {"enabled", "symmetric", "weighted"},
    "trajectory": {"enabled", "min_conf", "default_depth", "smooth", "smooth_depth"},
    "ground": {"enabled", "up", "band", "min_spread", "max_tilt_deg", "max_tilt_plane_deg",
               "ankle_height"},
    "contacts": {"height", "speed", "release", "min_s", "local_s", "root_ratio"},
    "foot_lock": {"enabled", "blend_s", "root_follow", "ground_clamp"},
}
_POSITIVE = {"window_s", "min_cutoff", "d_cutoff", "default_depth", "band", "height", "speed"}
_NON_NEGATIVE = {"beta", "min_spread", "min_s", "local_s", "blend_s", "order", "min_conf",
                 "root_ratio"}


def _keys(node) -> list:
    if isinstance(node, Mapping) or hasattr(node, "keys"):
        return list(node.keys())
    return list(vars(node)) if hasattr(node, "__dict__") else []


def check_config(cfg, where: str = "post") -> None:
    """Validate a ``post`` config node before any work: unknown sections or keys (typos),
    unknown methods, out-of-range numbers → :class:`hpd3d.errors.InputError`."""
    if cfg is None:
        return

    def fail(key, problem):
        raise InputError(where, f"{key}: {problem}")

    def check_smooth(name, node):
        extra = set(_keys(node)) - _SMOOTH_KEYS
        if extra:
            fail(name, f"unknown key(s) {sorted(extra)} (known: {sorted(_SMOOTH_KEYS)})")
        m = str(_get(node, "method", "savgol"))
        if m not in ("savgol", "one_euro", "none"):
            fail(f"{name}.method", f"unknown {m!r} (savgol, one_euro, none)")
        for k in _keys(node):
            check_number(f"{name}.{k}", k, _get(node, k))

    def check_number(path, k, v):
        if k in _POSITIVE | _NON_NEGATIVE | {"window", "max_tilt_deg", "max_tilt_plane_deg",
                                            "release", "ankle_height"}:
            try:
                x = float(v)
            except (TypeError, ValueError):
                fail(path, f"must be a number, got {v!r}")
            if not np.isfinite(x) or (k in _POSITIVE and x <= 0) or (
                    k in _NON_NEGATIVE and x < 0):
                fail(path, f"must be {'> 0' if k in _POSITIVE else '≥ 0'}, got {v!r}")
            if k == "min_conf" and x > 1:
                fail(path, f"is a confidence in [0, 1], got {v!r}")
            if k == "release" and x < 1:
                fail(path, f"hysteresis factor must be ≥ 1, got {v!r}")
            if k in ("max_tilt_deg", "max_tilt_plane_deg") and not 0 <= x <= 90:
                fail(path, f"must lie in [0, 90], got {v!r}")
            if k == "window" and x < 1:
                fail(path, f"must be ≥ 1 frame, got {v!r}")

    extra = set(_keys(cfg)) - set(_SCHEMA)
    if extra:
        fail(",".join(sorted(map(str, extra))), f"unknown section (known: {sorted(_SCHEMA)})")
    for sec, known in _SCHEMA.items():
        node = _get(cfg, sec)
        if node is None:
            continue
        if not _keys(node) and not isinstance(node, Mapping):
            fail(sec, f"must be a mapping, got {node!r}")
        bad = set(_keys(node)) - known
        if bad:
            fail(sec, f"unknown key(s) {sorted(bad)} (known: {sorted(known)})")
        if sec.startswith("smooth_"):
            check_smooth(sec, node)
            continue
        for k in _keys(node):
            v = _get(node, k)
            if k in ("smooth", "smooth_depth"):
                if v is not None:
                    check_smooth(f"{sec}.{k}", v)
            elif k == "up":
                if str(v) not in ("auto", "ground", "torso", "camera"):
                    fail(f"{sec}.up", f"unknown {v!r} (auto, ground, torso, camera)")
            else:
                check_number(f"{sec}.{k}", k, v)


def smooth_2d(uv, conf, fps, cfg) -> np.ndarray:
    """(T, 17, 2) pixels smoothed over time per ``cfg.smooth_2d`` (returned unchanged, as
    float32, when disabled; low-confidence samples are interpolated when enabled)."""
    uv = np.asarray(uv)
    if not bool(_get(cfg, "smooth_2d.enabled", False)):
        return uv.astype(np.float32, copy=True)
    out = _run_smoothing(uv, conf, float(fps), _get(cfg, "smooth_2d"))
    return out.astype(np.float32)


def postprocess(pose_rootrel, uv, conf, K, fps, cfg) -> PostResult:
    """Root-relative camera-frame poses (T, 17, 3) m + their 2D (T, 17, 2) px, confidence
    (T, 17), intrinsics ``K`` (3, 3) (undistorted pixels) and ``fps`` → :class:`PostResult`."""
    fps = float(fps)
    X = np.asarray(pose_rootrel, dtype=np.float64)
    uv = np.asarray(uv, dtype=np.float64)
    T = len(X)
    conf = np.ones(X.shape[:2]) if conf is None else np.nan_to_num(
        np.asarray(conf, dtype=np.float64))
    X = np.where(np.isfinite(X), X, np.nan)
    X = _smoothing.fill_low_confidence(X)  # non-finite values only
    X = X - X[:, :1]
    steps: dict = {}

    # 1. temporal smoothing of the 3D pose
    if bool(_get(cfg, "smooth_3d.enabled", True)) and T >= 3:
        node = _get(cfg, "smooth_3d")
        X = _run_smoothing(X, conf, fps, node)
        X = X - X[:, :1]
        steps["smooth_3d"] = str(_get(node, "method", "savgol"))
    else:
        steps["smooth_3d"] = False

    # 2. constant bone lengths
    if bool(_get(cfg, "bone_lengths.enabled", True)):
        X, lengths = _bones.constant_bone_lengths(
            X, conf, symmetric=bool(_get(cfg, "bone_lengths.symmetric", True)),
            weighted=bool(_get(cfg, "bone_lengths.weighted", True)))
        steps["bone_lengths"] = True
    else:
        lengths = np.median(bone_lengths(X), axis=0)
        steps["bone_lengths"] = False

    # 3. root trajectory in the camera frame
    if bool(_get(cfg, "trajectory.enabled", True)):
        t, valid = _trajectory.fit_translation(
            X, uv, K, conf, min_conf=float(_get(cfg, "trajectory.min_conf", 0.1)),
            init_depth=float(_get(cfg, "trajectory.default_depth", 4.0)))
        w = valid.astype(np.float64)
        node = _get(cfg, "trajectory.smooth")
        node_d = _get(cfg, "trajectory.smooth_depth")
        if T >= 3 and node_d is not None:  # the image position and the depth separately
            uv_r, depth = _trajectory.to_ray(t, K)
            if str(_get(node, "method", "savgol")) != "none":
                uv_r = _run_smoothing(uv_r, w, fps, node)
            if str(_get(node_d, "method", "savgol")) != "none":
                depth = _run_smoothing(depth[:, None], w, fps, node_d)[:, 0]
            t = _trajectory.from_ray(uv_r, np.maximum(depth, 0.05), K)
        elif T >= 3 and node is not None and str(_get(node, "method", "savgol")) != "none":
            t = _run_smoothing(t, w, fps, node)
        steps["trajectory"] = {"valid_frames": int(valid.sum())}
    else:
        t = np.tile([0.0, 0.0, float(_get(cfg, "trajectory.default_depth", 4.0))], (T, 1))
        steps["trajectory"] = False
    cam = X + t[:, None, :]

    # 4. world frame
    if bool(_get(cfg, "ground.enabled", True)):
        up = str(_get(cfg, "ground.up", "auto"))
    else:
        up = "camera"
    ankle_z = float(_get(cfg, "ground.ankle_height", 0.0))  # resting ankles' height
    R, tw, info = _trajectory.world_frame(
        cam, up=up, conf=conf, band=float(_get(cfg, "ground.band", 0.05)),
        min_spread=float(_get(cfg, "ground.min_spread", 0.15)),
        max_tilt_deg=float(_get(cfg, "ground.max_tilt_deg", 10.0)),
        max_tilt_plane_deg=float(_get(cfg, "ground.max_tilt_plane_deg", 30.0)),
        ankle_height=ankle_z)
    steps["ground"] = info if bool(_get(cfg, "ground.enabled", True)) else False
    world = _trajectory.apply_frame(cam, R, tw)

    # 5. contacts and foot locking
    contacts = _contacts.detect_contacts(
        world, fps, height=float(_get(cfg, "contacts.height", 0.08)),
        speed=float(_get(cfg, "contacts.speed", 0.6)),
        release=float(_get(cfg, "contacts.release", 1.5)),
        min_frames=max(1, int(round(float(_get(cfg, "contacts.min_s", 0.1)) * fps))),
        local_window=int(round(float(_get(cfg, "contacts.local_s", 1.0)) * fps)),
        root_ratio=float(_get(cfg, "contacts.root_ratio", 0.5)), ground_z=ankle_z)
    if bool(_get(cfg, "foot_lock.enabled", True)) and T >= 2:
        before = _contacts.foot_sliding(world, contacts)
        world, _ = _contacts.foot_lock(
            world, contacts, blend=max(0, int(round(float(_get(cfg, "foot_lock.blend_s", 0.1))
                                                    * fps))),
            root_follow=bool(_get(cfg, "foot_lock.root_follow", True)),
            ground_clamp=bool(_get(cfg, "foot_lock.ground_clamp", True)), ground_z=ankle_z)
        cam = (world - tw) @ R  # R orthonormal: cam = Rᵀ (world − t)
        X = cam - cam[:, :1]
        steps["foot_lock"] = {"sliding_before_mm_per_frame":
                              None if not np.isfinite(before) else round(before * 1000, 3)}
    else:
        steps["foot_lock"] = False
    steps["contacts"] = [int(c) for c in contacts.sum(0)]
    return PostResult(cam_rootrel=X, cam=cam, world=world, contacts=contacts, R_world_cam=R,
                      t_world_cam=tw, bone_lengths=np.asarray(lengths, dtype=np.float64),
                      steps=steps)


def torso_tilt(world) -> np.ndarray:
    """(T,) angle (deg) between the pelvis→thorax direction and world +Z."""
    d = world[:, 8] - world[:, 0]
    n = np.linalg.norm(d, axis=-1)
    c = np.divide(d[:, 2], n, out=np.zeros_like(n), where=n > 1e-9)
    return np.degrees(np.arccos(np.clip(c, -1, 1)))


def upright_frames(world, straight: float = 0.9) -> np.ndarray:
    """(T,) frames whose legs are both nearly straight (hip–ankle ≥ ``straight`` × thigh +
    shin) and whose ankles are below the hips: standing or walking."""
    ok = np.ones(len(world), dtype=bool)
    for h, k, a in _contacts.FEET:
        reach = np.linalg.norm(world[:, a] - world[:, h], axis=-1)
        full = (np.linalg.norm(world[:, k] - world[:, h], axis=-1)
                + np.linalg.norm(world[:, a] - world[:, k], axis=-1))
        ok &= (reach >= straight * full) & (world[:, a, 2] < world[:, h, 2])
    return ok


def quality_report(result: PostResult, conf, detected, fps) -> dict:
    """Numbers that say how trustworthy a run is (JSON-ready; lengths in mm)."""
    W = result.world
    T = len(W)
    conf = np.zeros((T, 17)) if conf is None else np.nan_to_num(np.asarray(conf, dtype=float))
    detected = np.ones(T, dtype=bool) if detected is None else np.asarray(detected, dtype=bool)
    L = bone_lengths(W)
    mean = L.mean(0)
    cv = np.where(mean > 0, L.std(0) / np.where(mean > 0, mean, 1), 0.0)
    acc = np.linalg.norm(np.diff(W, n=2, axis=0), axis=-1) if T >= 3 else np.zeros((0, 17))
    acc_rel = (np.linalg.norm(np.diff(result.cam_rootrel, n=2, axis=0), axis=-1)
               if T >= 3 else np.zeros((0, 17)))
    slide = _contacts.foot_sliding(W, result.contacts)
    ank_z = W[:, list(_contacts.ANKLES), 2]
    pen = np.maximum(-ank_z, 0.0)
    tilt = torso_tilt(W)
    up = upright_frames(W)
    nan = float("nan")

    def f(x):
        x = float(x)
        return None if not np.isfinite(x) else round(x, 4)

    return {
        "frames": int(T),
        "fps": float(fps),
        "detection_rate": f(detected.mean()) if T else None,
        "mean_confidence": f(conf[detected].mean()) if detected.any() else None,
        "bone_length_cv_max": f(cv.max()) if T else None,
        "bone_length_cv_mean": f(cv.mean()) if T else None,
        "bone_lengths_mm": [round(float(x) * 1000, 1) for x in result.bone_lengths],
        "jitter_mm_per_frame2": f(acc.mean() * 1000) if acc.size else None,
        "jitter_rootrel_mm_per_frame2": f(acc_rel.mean() * 1000) if acc_rel.size else None,
        "contact_fraction": [f(x) for x in result.contacts.mean(0)] if T else None,
        "foot_sliding_mm_per_frame": f(slide * 1000),
        "foot_sliding_before_lock_mm_per_frame": (
            result.steps["foot_lock"].get("sliding_before_mm_per_frame")
            if isinstance(result.steps.get("foot_lock"), dict) else None),
        "ground_penetration_max_mm": f(pen.max() * 1000) if T else None,
        "ground_penetration_mean_mm": f(pen.mean() * 1000) if T else None,
        "upright_frames": int(up.sum()),
        "torso_tilt_upright_mean_deg": f(tilt[up].mean()) if up.any() else None,
        "torso_tilt_upright_p95_deg": f(np.percentile(tilt[up], 95)) if up.any() else None,
        "distance_travelled_m": f(np.linalg.norm(np.diff(W[:, 0, :2], axis=0), axis=-1).sum())
        if T > 1 else f(nan),
        "steps": result.steps,
    }


def plot_report(report: dict, result: PostResult, path_png) -> None:
    """One PNG with four panels: top view of the trajectory and footprints, ankle heights
    with contacts, bone lengths over time, per-frame jitter. Written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hpd3d.atomic import atomic_path

    W = result.world
    T = len(W)
    t = np.arange(T)
    fig, ax = plt.subplots(2, 2, figsize=(12, 8))
    a = ax[0, 0]
    a.plot(W[:, 0, 0], W[:, 0, 1], "k-", lw=1, label="root")
    for f, (j, col) in enumerate(zip(_contacts.ANKLES, ("tab:red", "tab:blue"))):
        c = result.contacts[:, f]
        a.plot(W[c, j, 0], W[c, j, 1], ".", ms=3, color=col,
               label=("right" if f == 0 else "left") + " ankle in contact")
    cam_w = result.t_world_cam  # camera centre in the world (cam = 0)
    a.plot([cam_w[0]], [cam_w[1]], "k^", label="camera")
    a.set_aspect("equal", "datalim")
    a.set_title("top view (world, m)")
    a.legend(fontsize=7)
    a = ax[0, 1]
    for f, (j, col) in enumerate(zip(_contacts.ANKLES, ("tab:red", "tab:blue"))):
        a.plot(t, W[:, j, 2] * 1000, color=col, lw=1)
        for s, e in _contacts.runs(result.contacts[:, f]):
            a.axvspan(s, e, ymin=0.0 + 0.05 * f, ymax=0.05 + 0.05 * f, color=col, alpha=0.6)
    a.axhline(0, color="k", lw=0.5)
    a.set_title(f"ankle height (mm); sliding {report.get('foot_sliding_mm_per_frame')} mm/frame, "
                f"penetration {report.get('ground_penetration_max_mm')} mm", fontsize=9)
    a = ax[1, 0]
    L = bone_lengths(W) * 1000
    a.plot(t, L, lw=0.8)
    a.set_title(f"bone lengths (mm); max CV {report.get('bone_length_cv_max')}", fontsize=9)
    a = ax[1, 1]
    if T >= 3:
        acc = np.linalg.norm(np.diff(W, n=2, axis=0), axis=-1).mean(1) * 1000
        a.plot(t[1:-1], acc, lw=0.8)
    a.set_title(f"jitter (mean |accel|, mm/frame²): {report.get('jitter_mm_per_frame2')}; "
                f"detection {report.get('detection_rate')}", fontsize=9)
    a.set_xlabel("frame")
    fig.tight_layout()
    with atomic_path(path_png) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
