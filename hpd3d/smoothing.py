"""Temporal smoothing of keypoint sequences, 2D (pixels) or 3D (metres); numpy + scipy only.

Every function takes a sequence ``x`` of shape ``(T, ...)`` (time first; e.g. (T, 17, 2)
pixels or (T, 17, 3) metres) and returns an array of the same shape and frame count.

- :func:`one_euro`: the One-Euro filter (Casiez et al., CHI 2012), an adaptive low-pass whose
  cut-off rises with speed (little lag on fast moves, strong smoothing at rest). Vectorised
  over every non-time element; the only loop is over time. ``bidirectional=True`` runs it
  forward and backward and averages (offline use: no lag, symmetric).
- :func:`savgol`: Savitzky–Golay (``scipy.signal.savgol_filter``): a sliding least-squares
  polynomial; it preserves polynomials up to its order exactly.
- Confidence awareness: samples whose confidence is below ``min_conf`` are treated as
  missing and filled by linear interpolation over time from their confident neighbours
  (:func:`fill_low_confidence`) before filtering; in the One-Euro filter the remaining
  samples also weigh in proportion to their confidence (a low-confidence sample moves the
  state less).
"""

from __future__ import annotations

import numpy as np

__all__ = ["fill_low_confidence", "one_euro", "savgol", "smooth"]


def _conf_like(conf, x: np.ndarray) -> np.ndarray | None:
    """Confidence (T, J) or (T, ...) broadcast to x's shape without the coordinate axis."""
    if conf is None:
        return None
    c = np.asarray(conf, dtype=np.float64)
    c = np.nan_to_num(c, nan=0.0)
    while c.ndim < x.ndim:
        c = c[..., None]
    return np.broadcast_to(c, x.shape)


def fill_low_confidence(x, conf=None, min_conf: float = 0.0) -> np.ndarray:
    """Replace samples with ``conf < min_conf`` (or non-finite values) by linear interpolation
    over time from the nearest valid samples of the same element (held constant before the
    first / after the last valid one). An element valid nowhere is set to 0, so the output
    is always finite."""
    x = np.array(x, dtype=np.float64)
    T = x.shape[0]
    flat = x.reshape(T, -1)
    valid = np.isfinite(flat)
    c = _conf_like(conf, x)
    if c is not None and min_conf > 0:
        valid &= c.reshape(T, -1) >= min_conf
    if valid.all():
        return x
    t = np.arange(T, dtype=np.float64)
    # vectorised interpolation: index of the previous and next valid sample per element
    idx = np.where(valid, np.arange(T)[:, None], -1)
    prev = np.maximum.accumulate(idx, axis=0)
    idx_n = np.where(valid, np.arange(T)[:, None], T)
    nxt = np.minimum.accumulate(idx_n[::-1], axis=0)[::-1]
    cols = np.arange(flat.shape[1])[None, :]
    has_p, has_n = prev >= 0, nxt < T
    p = np.clip(prev, 0, T - 1)
    n = np.clip(nxt, 0, T - 1)
    vp = np.where(valid[p, cols], flat[p, cols], 0.0)
    vn = np.where(valid[n, cols], flat[n, cols], 0.0)
    denom = np.where(n > p, (n - p).astype(np.float64), 1.0)
    w = (t[:, None] - p) / denom
    interp = np.where(has_p & has_n, vp * (1 - w) + vn * w, np.where(has_p, vp, vn))
    out = np.where(valid, flat, interp)
    none = ~valid.any(axis=0)
    if none.any():
        out[:, none] = 0.0
    return out.reshape(x.shape)


def _one_euro_pass(x: np.ndarray, w: np.ndarray | None, fps: float, min_cutoff: float,
                   beta: float, d_cutoff: float) -> np.ndarray:
    # alpha(c) = 1 / (1 + tau / dt), tau = 1 / (2 pi c)  <=>  alpha = c / (c + k), k = fps / 2 pi
    shape = x.shape
    xf = np.ascontiguousarray(x.reshape(shape[0], -1))
    wf = None if w is None else np.ascontiguousarray(w.reshape(shape[0], -1))
    out = np.empty_like(xf)
    k = fps / (2.0 * np.pi)
    a_d = d_cutoff / (d_cutoff + k)
    prev = xf[0].copy()
    dprev = np.zeros_like(prev)
    step = np.empty_like(prev)
    c = np.empty_like(prev)
    out[0] = prev
    for i in range(1, shape[0]):
        np.subtract(xf[i], prev, out=step)  # x − x̂ (the raw derivative is step · fps)
        if wf is not None:
            step *= wf[i]
        dprev += a_d * (step * fps - dprev)
        np.abs(dprev, out=c)
        c *= beta
        c += min_cutoff
        a = c / (c + k)
        if wf is not None:
            a *= wf[i]
        prev += a * step if wf is None else a * (xf[i] - prev)
        out[i] = prev
    return out.reshape(shape)


def one_euro(x, fps: float, *, min_cutoff: float = 1.0, beta: float = 0.0,
             d_cutoff: float = 1.0, conf=None, min_conf: float = 0.0,
             bidirectional: bool = False) -> np.ndarray:
    """One-Euro filter along axis 0 of ``x`` (T, ...), ``fps`` frames per second.

    ``min_cutoff`` (Hz) sets the smoothing at rest, ``beta`` (per unit of speed: px/s or
    m/s) how fast the cut-off rises with speed, ``d_cutoff`` (Hz) the derivative's filter.
    ``conf`` (T, J) weighs each sample's update (``alpha · conf``; 1 when omitted) after
    samples below ``min_conf`` have been interpolated. ``bidirectional`` averages a forward
    and a backward pass (zero phase lag, for offline sequences).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] < 2:
        return x.copy()
    if fps <= 0 or min_cutoff <= 0 or d_cutoff <= 0 or beta < 0:
        raise ValueError("one_euro: fps, min_cutoff and d_cutoff must be > 0, beta ≥ 0")
    x = fill_low_confidence(x, conf, min_conf)
    w = None
    if conf is not None:
        w = np.clip(_conf_like(conf, x), 0.0, 1.0)
        # a filled (low-confidence) sample follows the interpolation at full weight: the
        # interpolated path is the best estimate there, and holding would lag behind it
        w = np.ascontiguousarray(np.where(w < min_conf, 1.0, w) if min_conf > 0 else w)
    fwd = _one_euro_pass(x, w, fps, min_cutoff, beta, d_cutoff)
    if not bidirectional:
        return fwd
    bwd = _one_euro_pass(x[::-1], None if w is None else w[::-1], fps, min_cutoff, beta,
                         d_cutoff)[::-1]
    return 0.5 * (fwd + bwd)


def savgol(x, window: int, order: int = 2, *, conf=None, min_conf: float = 0.0) -> np.ndarray:
    """Savitzky–Golay smoothing along axis 0 (``window`` frames, odd, shrunk to fit short
    sequences; polynomial ``order``), after interpolating samples below ``min_conf``.
    Edges use scipy's ``mode="interp"`` (a polynomial fit to the edge window)."""
    x = np.asarray(x, dtype=np.float64)
    x = fill_low_confidence(x, conf, min_conf)
    T = x.shape[0]
    window = int(window)
    if window % 2 == 0:
        window += 1
    if window > T:
        window = T if T % 2 else T - 1
    if window <= order:
        return x.copy()
    # imported here: scipy.signal pulls in scipy.stats, whose import-time array-API probing
    # trips over a blocked ``torch`` module (tests/test_skeleton.py imports every hpd3d module
    # with torch set to None in sys.modules, as a stand-in for Blender's Python)
    from scipy.signal import savgol_filter

    return savgol_filter(x, window, order, axis=0, mode="interp")


def smooth(x, fps: float, method: str = "savgol", *, conf=None, min_conf: float = 0.0,
           **kw) -> np.ndarray:
    """Dispatch: ``method`` is ``"savgol"`` (``window_s`` seconds or ``window`` frames,
    ``order``), ``"one_euro"`` (``min_cutoff``, ``beta``, ``d_cutoff``, ``bidirectional``)
    or ``"none"`` (only fills low-confidence samples)."""
    if method == "none":
        return fill_low_confidence(x, conf, min_conf)
    if method == "savgol":
        window = kw.get("window")
        if window is None:
            window = max(3, int(round(float(kw.get("window_s", 0.25)) * fps)) | 1)
        return savgol(x, window, int(kw.get("order", 2)), conf=conf, min_conf=min_conf)
    if method == "one_euro":
        return one_euro(x, fps, min_cutoff=float(kw.get("min_cutoff", 1.0)),
                        beta=float(kw.get("beta", 0.0)), d_cutoff=float(kw.get("d_cutoff", 1.0)),
                        conf=conf, min_conf=min_conf,
                        bidirectional=bool(kw.get("bidirectional", False)))
    raise ValueError(f"unknown smoothing method {method!r} (savgol, one_euro, none)")
