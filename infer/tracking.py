"""One main subject over time, and frames where nobody was found.

:class:`Tracker` picks one person per frame among a detector's candidates: at the start
(or after the subject has been lost for ``reacquire_s``) the most prominent person (the
largest keypoint box times the mean score); afterwards the candidate closest to the last
chosen pose, measured in that person's size, and only if it is within ``max_jump`` person
sizes — someone else walking past is not the subject. :func:`fill_missing` keeps the
timeline whole: frames without the subject get the values interpolated between the
nearest frames that have it (held at the ends) and confidence 0; a single joint with
score 0 is interpolated the same way along its own track.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _size(p: np.ndarray) -> float:
    ok = p[:, 2] > 0
    q = p[ok, :2] if ok.sum() >= 2 else p[:, :2]
    span = q.max(0) - q.min(0)
    return float(max(span.max(), 1.0))


def _prominence(p: np.ndarray) -> float:
    ok = p[:, 2] > 0
    q = p[ok, :2] if ok.sum() >= 2 else p[:, :2]
    span = q.max(0) - q.min(0)
    return float(np.sqrt(max(span[0] * span[1], 1.0)) * p[:, 2].mean())


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance of the joints both poses see, in units of ``b``'s size."""
    ok = (a[:, 2] > 0) & (b[:, 2] > 0)
    if ok.sum() < 3:
        ok = np.ones(len(a), bool)
    return float(np.linalg.norm(a[ok, :2] - b[ok, :2], axis=-1).mean() / _size(b))


@dataclass
class Tracker:
    min_score: float = 0.2  # a candidate whose mean score is lower is nobody
    max_jump: float = 1.0  # person sizes: farther than this from the last pose is someone else
    reacquire_s: float = 1.0  # after this long without the subject, take the most prominent
    fps: float = 30.0

    def __post_init__(self):
        self.last: np.ndarray | None = None
        self.missing = 0

    def choose(self, cands: np.ndarray) -> np.ndarray | None:
        """``cands`` (P, J, 3) → the subject's (J, 3), or None (nobody this frame)."""
        cands = [c for c in np.asarray(cands, np.float32) if c[:, 2].mean() >= self.min_score
                 and np.isfinite(c).all()]
        pick = None
        if cands:
            lost = self.last is None or self.missing > self.reacquire_s * self.fps
            if lost:
                pick = max(cands, key=_prominence)
            else:
                d = [_distance(c, self.last) for c in cands]
                i = int(np.argmin(d))
                if d[i] <= self.max_jump:
                    pick = cands[i]
        if pick is None:
            self.missing += 1
            return None
        self.last, self.missing = pick, 0
        return pick


def _interp_track(v: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Fill ``v`` (T, C) where ``~ok`` by linear interpolation along time (ends held)."""
    t = np.arange(len(v))
    out = v.copy()
    for c in range(v.shape[1]):
        out[~ok, c] = np.interp(t[~ok], t[ok], v[ok, c])
    return out


def fill_missing(kp: np.ndarray, detected: np.ndarray) -> np.ndarray:
    """``kp`` (T, J, 3) x, y, score with arbitrary values where ``~detected`` → every frame
    filled (see the module doc); scores of filled values are 0. Needs one detected frame."""
    kp = np.array(kp, dtype=np.float32, copy=True)
    detected = np.asarray(detected, bool)
    if not detected.any():
        raise ValueError("no frame with a detection")
    kp[~detected, :, 2] = 0.0
    for j in range(kp.shape[1]):
        ok = detected & (kp[:, j, 2] > 0) & np.isfinite(kp[:, j, :2]).all(-1)
        if not ok.any():
            ok = detected & np.isfinite(kp[:, j, :2]).all(-1)
            if not ok.any():
                continue
        if not ok.all():
            kp[:, j, :2] = _interp_track(kp[:, j, :2], ok)
    return kp
