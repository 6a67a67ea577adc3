"""Realistic 2D detector noise and confidences for synthetic keypoints.

Shared by the synth stage (noisy dataset files) and training (noise on the fly).

In the spirit of MotionBERT's detector-noise model (its published per-joint statistics
are in ``../shared/data/motionbert/`` for comparison), with the toolkit's own defaults:

- noise is measured in units of the person's 2D size (the height of the keypoints'
  bounding box per frame), so it means the same thing for a near and a far camera;
- a temporally smooth part (per-joint Gaussian offsets drawn at keyframes, linearly
  interpolated between them; a fraction of them are outliers drawn uniformly from a
  wider range) plus per-frame white jitter;
- confidence falls with the size of the error, ``a / (d + a) + b·d`` plus Gaussian
  spread, clipped to [0, 1] (the shape of MotionBERT's distance-to-confidence curve);
- occasional dropped joints keep their (noisy) position and get confidence 0: a dropped
  joint is a mask value, never a sentinel coordinate.

``mode="fitted"`` (``conf/noise/mediapipe.yaml``) replaces all of that by a detector's
error model measured on rendered humans (:class:`FittedNoise`, fitted by
``tools/fit_detector_noise.py``, shipped as ``data/noise_mediapipe.npz``): per joint and
view a bias (systematic offset, joint-definition differences included) and a noise that
is correlated across joints and in time (AR(1)), per-joint outliers, left/right swaps of
whole limbs with the rate measured for that view, and missed frames by person size in
pixels. The view (front / side / back towards the camera) is read from the clean 2D
itself (:func:`view_bins`), so callers need nothing beyond ``uv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Per-joint std of the smooth part, in person heights (H36M-17 order). Extremities are
# noisier than the torso, as with real detectors (wrists and ankles worst).
DEFAULT_STD = (0.004, 0.006, 0.007, 0.009, 0.006, 0.007, 0.009, 0.005, 0.005, 0.005,
               0.006, 0.006, 0.008, 0.011, 0.006, 0.008, 0.011)
# Per-joint probability that a keyframe's offset is Gaussian rather than an outlier.
DEFAULT_INLIER = (0.995, 0.98, 0.95, 0.93, 0.98, 0.95, 0.93, 0.98, 0.98, 0.98, 0.98,
                  0.96, 0.93, 0.88, 0.96, 0.93, 0.88)


@dataclass
class NoiseModel:
    std: tuple = DEFAULT_STD
    inlier: tuple = DEFAULT_INLIER
    outlier_range: float = 0.06  # full width of uniform outliers, person heights
    jitter: float = 0.0015  # per-frame white noise std, person heights
    keyframe_every: int = 9  # frames between smooth-noise keyframes
    conf_a: float = 0.028
    conf_b: float = 1.1
    conf_shift_mean: float = 0.0
    conf_shift_std: float = 0.1
    drop_prob: float = 0.01  # per joint per frame
    scale: float = 1.0  # multiplies every noise magnitude (0 = clean keypoints)
    extra: dict = field(default_factory=dict)
    mode: str = "default"  # default | fitted (a measured detector model: FittedNoise)
    fitted: str = "data/noise_mediapipe.npz"  # mode=fitted: the model (relative: repo root)
    fps: float | None = None  # mode=fitted: frame rate of the clips (None: the fit's step)

    def check(self, where: str = "noise") -> None:
        std = np.asarray(self.std, dtype=float)
        if std.shape != (17,) or np.asarray(self.inlier).shape != (17,):
            raise ValueError(f"{where}: std and inlier need 17 values (one per joint)")
        if (std < 0).any() or self.scale < 0 or self.jitter < 0 or self.outlier_range < 0:
            raise ValueError(f"{where}: noise magnitudes must be ≥ 0")
        if not 0 <= self.drop_prob <= 1 or self.keyframe_every < 1:
            raise ValueError(f"{where}: drop_prob must be in [0, 1], keyframe_every ≥ 1")
        if self.mode not in ("default", "fitted"):
            raise ValueError(f"{where}: mode is default or fitted, got {self.mode!r}")
        if self.mode == "fitted":
            if not resolve_model_path(self.fitted).is_file():
                raise ValueError(f"{where}: fitted model {self.fitted} not found")
            if self.fps is not None and not self.fps > 0:
                raise ValueError(f"{where}: fps must be > 0")


def person_size(uv: np.ndarray) -> np.ndarray:
    """(..., T, J, 2) → (..., T, 1, 1) bounding-box height of the keypoints (≥ 1 px)."""
    h = uv[..., 1].max(-1) - uv[..., 1].min(-1)
    w = uv[..., 0].max(-1) - uv[..., 0].min(-1)
    return np.maximum(np.maximum(h, w), 1.0)[..., None, None]


def add_noise(uv: np.ndarray, rng: np.random.Generator, model: NoiseModel
              ) -> tuple[np.ndarray, np.ndarray]:
    """Noisy keypoints and confidences for clean ``uv`` (..., T, J, 2) in pixels.

    Returns ``(uv_noisy (..., T, J, 2), confidence (..., T, J))``; float32.
    ``model.mode == "fitted"`` uses :func:`add_noise_fitted` with the model file.
    """
    if model.mode == "fitted":
        return add_noise_fitted(uv, rng, load_fitted(model.fitted), scale=model.scale,
                                fps=model.fps)
    *lead, T, J, _ = uv.shape
    s = model.scale
    n_keys = max(2, int(np.ceil((T - 1) / model.keyframe_every)) + 1)
    std = np.asarray(model.std)[:, None] * s
    gauss = rng.standard_normal((*lead, n_keys, J, 2)) * std
    outlier = (rng.random((*lead, n_keys, J, 2)) - 0.5) * model.outlier_range * s
    inlier = rng.random((*lead, n_keys, J, 1)) < np.asarray(model.inlier)[:, None]
    keys = np.where(inlier, gauss, outlier)
    # linear interpolation of the keyframe offsets to every frame
    pos = np.linspace(0, n_keys - 1, T)
    i0 = np.minimum(np.floor(pos).astype(int), n_keys - 2)
    frac = (pos - i0)[:, None, None]
    smooth = keys[..., i0, :, :] * (1 - frac) + keys[..., i0 + 1, :, :] * frac
    delta = smooth + rng.standard_normal(smooth.shape) * model.jitter * s
    dist = np.linalg.norm(delta, axis=-1)
    conf = model.conf_a / (dist + model.conf_a) + model.conf_b * dist
    conf = conf + rng.standard_normal(conf.shape) * model.conf_shift_std + model.conf_shift_mean
    conf = np.clip(conf, 0.0, 1.0)
    conf[rng.random(conf.shape) < model.drop_prob] = 0.0
    noisy = uv + delta * person_size(uv)
    return noisy.astype(np.float32), conf.astype(np.float32)


# --------------------------------------------------------------------------- fitted detector model

VIEWS = ("front", "side", "back")  # which side of the person faces the camera
MISS_EDGES = (128.0, 192.0)  # person size (px) bins of the miss rate: <128, 128-192, >=192
# whole limbs that a detector swaps left/right: (right joints, left joints), H36M-17
LIMBS = {"leg": ((1, 2, 3), (4, 5, 6)), "arm": ((14, 15, 16), (11, 12, 13))}
SWAP_MARGIN = 0.7  # a limb counts as swapped when the crossed assignment is this much closer
_REPO = Path(__file__).resolve().parents[1]
_CACHE: dict = {}


def resolve_model_path(path) -> Path:
    p = Path(path)
    return p if p.is_absolute() or p.exists() else _REPO / p


@dataclass
class FittedNoise:
    """A detector's 2D error model, per view ``v`` (:data:`VIEWS`) and joint ``j``; every
    length is in person sizes (:func:`person_size` of the clean keypoints).

    The residual of a detected joint after removing ``bias[v, j]`` is, with probability
    ``1 - out_rate[v, j]``, a Gaussian whose covariance over the 34 coordinates (x, y per
    joint) is ``chol[v] @ chol[v].T`` and whose lag-1 autocorrelation between frames
    ``step_s`` seconds apart is ``rho``; otherwise an outlier, isotropic Gaussian of SD
    ``out_sd[v, j]`` per axis. Each limb of :data:`LIMBS` is swapped left↔right with
    probability ``swap_rate[v, limb]`` in runs of ``swap_run`` steps on average; the whole
    person is missed (confidence 0) with probability ``miss_rate[k]`` for a person size in
    pixels in bin ``k`` of :data:`MISS_EDGES` (small people are missed: the detector's
    misses depend on pixels, not on the view), in runs of ``miss_run`` steps. Confidence
    (the detector's visibility) is ``N(conf_mean, conf_sd)`` clipped to [0, 1].
    ``view_lo``/``view_hi`` are :func:`view_bins`' thresholds. A joint whose clean 2D
    lies inside the torso (:func:`torso_occluded`: in front of or behind it) is an outlier
    with probability ``occ_out_rate[j]`` instead (wrists there: ~3-8× more often).
    """

    bias: np.ndarray  # (V, 17, 2)
    chol: np.ndarray  # (V, 34, 34) lower-triangular
    out_rate: np.ndarray  # (V, 17)
    out_sd: np.ndarray  # (V, 17)
    swap_rate: np.ndarray  # (V, 2) leg, arm
    miss_rate: np.ndarray  # (len(MISS_EDGES) + 1,) by person size in px
    conf_mean: np.ndarray  # (V, 17)
    conf_sd: np.ndarray  # (V, 17)
    rho: float = 0.0
    step_s: float = 0.1
    swap_run: float = 1.0
    miss_run: float = 1.0
    view_lo: float = -0.13
    view_hi: float = 0.13
    occ_out_rate: np.ndarray | None = None  # (17,) outlier rate inside the torso (None: as others)
    count: np.ndarray | None = None  # (V,) detected frames the fit saw per view
    provenance: str = ""

    _ARRAYS = ("bias", "chol", "out_rate", "out_sd", "swap_rate", "miss_rate", "conf_mean",
               "conf_sd", "occ_out_rate", "count")
    _SCALARS = ("rho", "step_s", "swap_run", "miss_run", "view_lo", "view_hi")

    @property
    def sd(self) -> np.ndarray:
        """(V, 17, 2) inlier SD per joint and axis."""
        cov = self.chol @ np.swapaxes(self.chol, -1, -2)
        return np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1)).reshape(len(VIEWS), 17, 2)

    def save(self, path) -> None:
        from hpd3d.atomic import savez
        arrays = {k: np.asarray(getattr(self, k), np.float32) for k in self._ARRAYS
                  if getattr(self, k) is not None}
        arrays.update({k: np.float64(getattr(self, k)) for k in self._SCALARS})
        savez(path, views=np.array(VIEWS), provenance=np.array(self.provenance), **arrays)

    @classmethod
    def load(cls, path) -> "FittedNoise":
        with np.load(path, allow_pickle=False) as z:
            kw = {k: z[k].astype(np.float64) for k in cls._ARRAYS if k in z.files}
            kw.update({k: float(z[k]) for k in cls._SCALARS})
            kw["provenance"] = str(z["provenance"])
            if tuple(z["views"]) != VIEWS:
                raise ValueError(f"{path}: views {tuple(z['views'])}, expected {VIEWS}")
        fm = cls(**kw)
        if (fm.bias.shape != (len(VIEWS), 17, 2) or fm.chol.shape != (len(VIEWS), 34, 34)
                or fm.miss_rate.shape != (len(MISS_EDGES) + 1,)):
            raise ValueError(f"{path}: bias/chol/miss_rate shapes {fm.bias.shape}, "
                             f"{fm.chol.shape}, {fm.miss_rate.shape}")
        return fm


def load_fitted(path) -> FittedNoise:
    p = resolve_model_path(path)
    key = (str(p), p.stat().st_mtime_ns)
    if key not in _CACHE:
        _CACHE[key] = FittedNoise.load(p)
    return _CACHE[key]


def view_feature(uv: np.ndarray) -> np.ndarray:
    """(..., T, 17, 2) clean keypoints → (..., T): how far the person's left lies to the
    image right of their right (shoulders and hips, in person sizes): about +0.19 seen
    from the front, 0 from the side, −0.19 from the back."""
    x = uv[..., 0]
    size = person_size(uv)[..., 0, 0]
    return ((x[..., 11] - x[..., 14]) + (x[..., 4] - x[..., 1])) / 2 / size


def view_azimuth_3d(pos_cam: np.ndarray) -> np.ndarray:
    """Azimuth (degrees, [0, 360)) of the camera around the person from camera-frame 3D
    joints (..., T, 17, 3) (OpenCV frame): 0 in front, 90 on the person's left, 180
    behind, 270 on their right."""
    p = pos_cam
    right = (p[..., 1, :] - p[..., 4, :]) + (p[..., 14, :] - p[..., 11, :])
    up = p[..., 8, :] - p[..., 0, :]
    up = up / np.maximum(np.linalg.norm(up, axis=-1, keepdims=True), 1e-9)
    fwd = np.cross(up, right)
    fwd /= np.maximum(np.linalg.norm(fwd, axis=-1, keepdims=True), 1e-9)
    left = np.cross(fwd, up)  # = -right made orthogonal to up
    to_cam = -p[..., 0, :]
    return np.degrees(np.arctan2((to_cam * left).sum(-1), (to_cam * fwd).sum(-1))) % 360.0


def azimuth_bins(azimuth_deg: np.ndarray) -> np.ndarray:
    """Azimuth → index into :data:`VIEWS`: front within 45° of 0, back within 45° of 180."""
    a = np.abs((np.asarray(azimuth_deg) + 180.0) % 360.0 - 180.0)  # 0 … 180 from the front
    return np.where(a <= 45.0, 0, np.where(a >= 135.0, 2, 1)).astype(np.int64)


def view_bins(uv: np.ndarray, fm: FittedNoise | None = None) -> np.ndarray:
    """(..., T) index into :data:`VIEWS` from clean 2D alone (:func:`view_feature` above
    ``view_hi``: front, below ``view_lo``: back, else side), so callers need no 3D."""
    lo, hi = (fm.view_lo, fm.view_hi) if fm is not None else (-0.13, 0.13)
    c = view_feature(uv)
    return np.where(c > hi, 0, np.where(c < lo, 2, 1)).astype(np.int64)


def miss_bins(uv: np.ndarray) -> np.ndarray:
    """(..., T) person-size bin (:data:`MISS_EDGES`, px) of clean keypoints."""
    return np.searchsorted(np.asarray(MISS_EDGES), person_size(uv)[..., 0, 0], side="right")


def torso_occluded(uv: np.ndarray) -> np.ndarray:
    """(..., T, 17) bool: the joint's 2D lies inside the torso quadrilateral (left
    shoulder, right shoulder, right hip, left hip) — hidden by it or hiding it."""
    quad = uv[..., [11, 14, 1, 4], :]
    sides = []
    for k in range(4):
        a, b = quad[..., k, None, :], quad[..., (k + 1) % 4, None, :]
        sides.append((b[..., 0] - a[..., 0]) * (uv[..., 1] - a[..., 1])
                     - (b[..., 1] - a[..., 1]) * (uv[..., 0] - a[..., 0]))
    sides = np.stack(sides, -1)
    inside = (sides > 0).all(-1) | (sides < 0).all(-1)
    inside[..., [0, 1, 4, 7, 8, 11, 14]] = False  # the torso's own joints
    return inside


def detect_swaps(gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """(..., T, 2) bool: each limb of :data:`LIMBS` detected left↔right swapped."""
    out = []
    for r, l in LIMBS.values():
        r, l = list(r), list(l)
        same = (np.linalg.norm(pred[..., r, :] - gt[..., r, :], axis=-1)
                + np.linalg.norm(pred[..., l, :] - gt[..., l, :], axis=-1)).sum(-1)
        cross = (np.linalg.norm(pred[..., r, :] - gt[..., l, :], axis=-1)
                 + np.linalg.norm(pred[..., l, :] - gt[..., r, :], axis=-1)).sum(-1)
        out.append(cross < SWAP_MARGIN * same)
    return np.stack(out, -1)


def swap_limbs(x: np.ndarray, swapped: np.ndarray) -> np.ndarray:
    """Exchange the left and right joints of each limb of ``x`` (..., T, 17, C) where
    ``swapped`` (..., T, 2) is True."""
    y = x.copy()
    for k, (r, l) in enumerate(LIMBS.values()):
        r, l = list(r), list(l)
        m = swapped[..., k, None, None]
        y[..., r, :] = np.where(m, x[..., l, :], x[..., r, :])
        y[..., l, :] = np.where(m, x[..., r, :], x[..., l, :])
    return y


def _runs(rng, lead, T: int, run: float, rate_t: np.ndarray) -> np.ndarray:
    """Bernoulli events with per-frame probability ``rate_t`` (..., T, k), constant over
    runs of ``run`` frames (random phase per sequence)."""
    L = max(1, int(round(run)))
    k = rate_t.shape[-1]
    phase = rng.integers(0, L, size=(*lead, 1))
    idx = (np.arange(T) + phase) // L  # (..., T)
    u = rng.random((*lead, T // L + 2, k))
    u_t = np.take_along_axis(u, np.repeat(idx[..., None], k, -1), axis=-2)
    return u_t < rate_t


def add_noise_fitted(uv: np.ndarray, rng: np.random.Generator, fm: FittedNoise,
                     scale: float = 1.0, fps: float | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Detector-like keypoints and confidences for clean ``uv`` (..., T, 17, 2) px with the
    fitted model ``fm`` (vectorised over the leading axes, frames and joints). ``fps``: the
    clips' frame rate, to convert the fit's per-step correlation and run lengths; None
    treats consecutive frames as the fit's step. ``scale`` multiplies bias and noise
    (0 = clean keypoints). Returns float32 ``(uv_noisy, confidence)``."""
    from scipy.signal import lfilter

    uv = np.asarray(uv, dtype=np.float64)
    *lead, T, J, _ = uv.shape
    if J != 17:
        raise ValueError(f"fitted noise needs H36M-17 keypoints, got {J} joints")
    steps = 1.0 if fps is None else fps * fm.step_s  # frames per fitted step
    rho = float(np.clip(fm.rho, 0.0, 0.999)) ** (1.0 / steps)
    size = person_size(uv)
    v = view_bins(uv, fm)  # (..., T)
    z = rng.standard_normal((*lead, T, 2 * J))
    e = z * np.sqrt(1 - rho ** 2)
    e[..., 0, :] = z[..., 0, :]
    ar = lfilter([1.0], [1.0, -rho], e, axis=-2) if T > 1 else e  # unit-variance AR(1)
    corr = np.zeros_like(ar)  # each frame's noise through its view's Cholesky factor
    for b in range(len(VIEWS)):
        m = v == b
        if m.any():
            corr[m] = ar[m] @ fm.chol[b].T
    corr = corr.reshape(*lead, T, J, 2)
    bias = fm.bias[v]
    p_out = fm.out_rate[v]
    if fm.occ_out_rate is not None:
        p_out = np.where(torso_occluded(uv), fm.occ_out_rate, p_out)
    outl = rng.random((*lead, T, J)) < p_out
    wild = rng.standard_normal((*lead, T, J, 2)) * fm.out_sd[v][..., None]
    delta = bias + np.where(outl[..., None], wild, corr)
    noisy = uv + delta * scale * size
    if scale > 0:
        noisy = swap_limbs(noisy, _runs(rng, lead, T, fm.swap_run * steps, fm.swap_rate[v]))
    conf = np.clip(fm.conf_mean[v] + rng.standard_normal((*lead, T, J)) * fm.conf_sd[v], 0, 1)
    if scale > 0:
        rate = fm.miss_rate[miss_bins(uv)][..., None]
        miss = _runs(rng, lead, T, fm.miss_run * steps, rate)[..., 0]
        conf = np.where(miss[..., None], 0.0, conf)
    return noisy.astype(np.float32), conf.astype(np.float32)


def _mean_run(flags: np.ndarray) -> float:
    """Mean length of runs of True along the last axis (1 if none)."""
    f = np.asarray(flags, bool).reshape(-1, flags.shape[-1])
    pad = np.zeros((f.shape[0], 1), bool)
    d = np.diff(np.concatenate([pad, f, pad], 1).astype(np.int8), axis=1)
    starts = (d == 1).sum()
    return float(f.sum() / starts) if starts else 1.0


def fit_noise(seqs, step_s: float, view_lo: float = -0.13, view_hi: float = 0.13,
              out_k: float = 3.5, shrink: float = 0.2, provenance: str = "") -> FittedNoise:
    """Fit :class:`FittedNoise` on sequences ``(gt (T, 17, 2), pred (T, 17, 2) with NaN
    where the detector missed the frame, conf (T, 17))`` in pixels, frames ``step_s``
    seconds apart. ``view_lo``/``view_hi``: the 2D view thresholds (:func:`view_bins`).

    Limbs detected swapped (:func:`detect_swaps`) are swapped back before the error is
    measured. Per view and joint: outliers are residuals beyond ``out_k`` robust SDs
    (1.4826·MAD about the median), the bias is the inliers' mean, the covariance over the
    34 coordinates is the inliers' (pairwise), off-diagonals shrunk by ``shrink``.
    """
    V, J = len(VIEWS), 17
    proto = FittedNoise(bias=np.zeros((V, J, 2)), chol=np.zeros((V, 34, 34)),
                        out_rate=np.zeros((V, J)), out_sd=np.zeros((V, J)),
                        swap_rate=np.zeros((V, 2)), miss_rate=np.zeros(len(MISS_EDGES) + 1),
                        conf_mean=np.zeros((V, J)), conf_sd=np.zeros((V, J)),
                        view_lo=view_lo, view_hi=view_hi)
    E, VB, C, SW, OCC, MISS_V, MISS_FL, SW_FL, LAGS = [], [], [], [], [], [], [], [], []
    for gt, pred, conf in seqs:
        gt, pred = np.asarray(gt, float), np.asarray(pred, float)
        v = view_bins(gt, proto)
        det = np.isfinite(pred).all((-1, -2))
        MISS_V.append(np.stack([miss_bins(gt), ~det], -1))
        MISS_FL.append(~det)
        if not det.any():
            continue
        sw = detect_swaps(gt[det], pred[det])
        p = swap_limbs(pred[det], sw)
        e = (p - gt[det]) / person_size(gt[det])
        E.append(e)
        OCC.append(torso_occluded(gt[det]))
        VB.append(v[det])
        C.append(np.asarray(conf, float)[det])
        SW.append(sw)
        swf = np.zeros((len(gt), 2), bool)
        swf[det] = sw
        SW_FL.append(swf)
        idx = np.flatnonzero(det)
        LAGS.append((len(np.concatenate(E)) - len(idx) + np.arange(len(idx) - 1),
                     np.diff(idx) == 1))
    E, VB, C, SW, OCC = (np.concatenate(a) for a in (E, VB, C, SW, OCC))
    mv = np.concatenate(MISS_V)
    out = np.zeros((len(E), J), bool)
    resid = np.zeros_like(E)
    count = np.zeros(V)
    for b in range(V):
        m = VB == b
        count[b] = m.sum()
        if m.sum() < 5:  # too few frames in this view: use all views
            m = np.ones(len(E), bool)
        eb = E[m]
        med = np.median(eb, 0)
        r = np.linalg.norm(eb - med, axis=-1)
        sig = 1.4826 * np.median(np.abs(eb - med), 0).mean(-1)  # (J,)
        o = r > out_k * np.maximum(sig, 1e-6)
        inl = np.where(o[..., None], np.nan, eb)
        proto.bias[b] = np.nanmean(inl, 0)
        rr = inl - proto.bias[b]
        proto.out_rate[b] = o.mean(0)
        ro = np.where(o[..., None], eb - proto.bias[b], np.nan)
        n_o = o.sum(0)
        osd = np.sqrt(np.nansum((ro ** 2).sum(-1), 0) / np.maximum(n_o, 1) / 2)
        osd = np.where(n_o > 0, osd, np.nan)
        proto.out_sd[b] = np.where(np.isfinite(osd), osd, out_k * sig)
        x = rr.reshape(len(rr), 34)
        ok = np.isfinite(x)
        x0 = np.where(ok, x, 0.0)
        cov = (x0.T @ x0) / np.maximum(ok.T.astype(float) @ ok.astype(float), 1.0)
        cov = cov * (1 - shrink) + np.diag(np.diag(cov)) * shrink
        w, q = np.linalg.eigh(cov)
        cov = (q * np.maximum(w, 1e-12)) @ q.T
        proto.chol[b] = np.linalg.cholesky(cov + 1e-12 * np.eye(34))
        proto.swap_rate[b] = SW[VB == b].mean(0) if (VB == b).any() else SW.mean(0)
        proto.conf_mean[b] = C[m].mean(0)
        proto.conf_sd[b] = C[m].std(0)
        sel = VB[m] == b  # this view's frames among those fitted
        out[VB == b] = o[sel]
        resid[VB == b] = np.where(np.isnan(rr[sel]), 0.0, rr[sel])
    # outlier rates apart for joints inside the torso (≥ 10 such frames), else as others
    proto.occ_out_rate = proto.out_rate.mean(0).copy()
    for j in range(J):
        occ = OCC[:, j]
        if occ.sum() >= 10:
            proto.occ_out_rate[j] = out[occ, j].mean()
            for b in range(V):
                vis = (VB == b) & ~occ
                if vis.sum() >= 5:
                    proto.out_rate[b, j] = out[vis, j].mean()
    for k in range(len(MISS_EDGES) + 1):
        mb = mv[:, 0] == k
        proto.miss_rate[k] = mv[mb, 1].mean() if mb.any() else mv[:, 1].mean()
    # lag-1 autocorrelation of the inlier residual between consecutive detected frames
    num = den = 0.0
    for i0, consecutive in LAGS:
        i0 = i0[consecutive]
        a, b_ = resid[i0], resid[i0 + 1]
        good = ~(out[i0] | out[i0 + 1])[..., None]
        num += (a * b_ * good).sum()
        den += (np.sqrt((a ** 2 * good).sum() * (b_ ** 2 * good).sum()))
    proto.rho = float(num / den) if den > 0 else 0.0
    proto.step_s = float(step_s)
    proto.swap_run = _mean_run(np.concatenate([s.T for s in SW_FL], 1))
    proto.miss_run = max(1.0, _mean_run(np.concatenate([m[None] for m in MISS_FL], 1)))
    proto.count = count
    proto.provenance = provenance
    return proto
