"""Foot contacts and foot locking for world-frame pose sequences (Z up, ground z = 0,
metres; H36M-17). numpy only.

**Contacts** (:func:`detect_contacts`): an ankle is planted when it is near the ground
(``z < height``) and slow (speed < ``speed`` m/s, central differences), with hysteresis: a
contact starts when both hold and lasts until the ankle rises above ``height · release`` or
moves faster than ``speed · release``; runs shorter than ``min_frames`` are dropped and gaps
shorter than ``min_frames`` are closed. Optionally heights are taken from a local ground
level and an ankle much slower than the root counts as slow (see :func:`detect_contacts`).
Columns: ``[right ankle (3), left ankle (6)]``.

**Locking** (:func:`foot_lock`): each contact run gets one anchor (the run's median ankle
position, on the ground: z = ``ground_z``, the resting ankle height, 0 by default). The
correction ``anchor − ankle`` is applied in two parts:

1. the root (the whole body) follows the planted feet: the mean correction of the planted
   feet at contact frames, linearly interpolated over time between contacts (so the body
   never jumps between steps) and smoothed (Gaussian, σ = ``blend / 2`` frames), and
2. the rest, per leg, by re-solving the two-bone (hip–knee–ankle) IK onto the target,
   keeping the thigh and shin lengths and the knee's bending plane; its weight ramps in and
   out over ``blend`` frames around each run.

Finally ankles below the ground (outside contacts too) are lifted to ``ground_z`` by the same
leg IK. Bone lengths are unchanged (rigid root shift, length-preserving IK).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d, percentile_filter

__all__ = ["FEET", "ankle_speed", "detect_contacts", "runs", "two_bone_ik", "foot_lock",
           "foot_sliding"]

FEET = ((1, 2, 3), (4, 5, 6))  # (hip, knee, ankle): right, left
ANKLES = (3, 6)


def ankle_speed(pose, fps: float) -> np.ndarray:
    """(T, 2) ankle speeds in m/s (central differences, one-sided at the ends)."""
    a = np.asarray(pose, dtype=np.float64)[:, list(ANKLES)]
    if len(a) < 2:
        return np.zeros((len(a), 2))
    v = np.gradient(a, axis=0) * fps
    return np.linalg.norm(v, axis=-1)


def runs(mask) -> list[tuple[int, int]]:
    """[start, end) index pairs of the True runs of a 1D boolean array."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def _clean(mask: np.ndarray, min_frames: int) -> np.ndarray:
    mask = mask.copy()
    T = len(mask)
    for s, e in runs(~mask):  # close short gaps between contacts
        if s > 0 and e < T and e - s < min_frames:
            mask[s:e] = True
    for s, e in runs(mask):  # drop short blips
        if e - s < min_frames:
            mask[s:e] = False
    return mask


def detect_contacts(pose, fps: float, *, height: float = 0.05, speed: float = 0.5,
                    release: float = 1.5, min_frames: int = 3,
                    local_window: int = 0, root_ratio: float = 0.0,
                    ground_z: float = 0.0) -> np.ndarray:
    """(T, 2) bool foot contacts [right, left] of the world-frame ``pose`` (T, J, 3).

    Heights are measured from ``ground_z``, the resting ankles' height (0 when the ground
    z = 0 was put at the ankles, as :func:`hpd3d.trajectory.world_frame` does by default).

    ``local_window`` > 0 (frames) measures heights from a local ground level — the 10th
    percentile of the lower ankle's height in a centred window — instead of z = 0, so a
    slightly tilted or drifting ground estimate does not hide contacts. ``root_ratio`` > 0
    also counts an ankle as slow when it moves slower than that fraction of the root (a
    planted foot is still while the body moves over it; a swinging foot is faster than the
    body): robust to a root trajectory whose speed is off, as monocular depth often is."""
    pose = np.asarray(pose, dtype=np.float64)
    T = len(pose)
    z = pose[:, list(ANKLES), 2] - ground_z
    if local_window > 1 and T > 1:
        level = percentile_filter(z.min(1), 10, size=min(int(local_window), T), mode="nearest")
        z = z - level[:, None]
    v = ankle_speed(pose, fps)
    if root_ratio > 0 and T > 1:
        vr = np.linalg.norm(np.gradient(pose[:, 0], axis=0), axis=-1) * fps
        v = np.where(v < root_ratio * vr[:, None], 0.0, v)
    on = (z < height) & (v < speed)
    hold = (z < height * release) & (v < speed * release)
    out = np.zeros((T, 2), dtype=bool)
    # hysteresis: a contact grows from an "on" frame through connected "hold" frames
    for f in range(2):
        for s, e in runs(hold[:, f]):
            if on[s:e, f].any():
                out[s:e, f] = True
        out[:, f] = _clean(out[:, f], max(1, min_frames))
    return out


def two_bone_ik(hip, knee, ankle, target, l1, l2) -> tuple[np.ndarray, np.ndarray]:
    """Knee and ankle (…, 3) placing the ankle at ``target`` (clipped to the leg's reach)
    with thigh ``l1`` and shin ``l2`` lengths, the knee staying in the plane of the old
    knee. Vectorised over leading dims."""
    d = target - hip
    dist = np.linalg.norm(d, axis=-1, keepdims=True)
    u = np.divide(d, dist, out=np.zeros_like(d), where=dist > 1e-9)
    lo, hi = abs(l1 - l2) + 1e-6, (l1 + l2) * (1 - 1e-6)
    dist = np.clip(dist, lo, hi)
    a = (l1 ** 2 - l2 ** 2 + dist ** 2) / (2 * dist)
    r = np.sqrt(np.maximum(l1 ** 2 - a ** 2, 0.0))
    k = knee - hip
    pole = k - np.sum(k * u, axis=-1, keepdims=True) * u
    pn = np.linalg.norm(pole, axis=-1, keepdims=True)
    # a straight leg has no bending plane: bend the knee forward-ish (any perpendicular)
    alt = np.cross(u, np.array([1.0, 0.0, 0.0]))
    alt_n = np.linalg.norm(alt, axis=-1, keepdims=True)
    alt = np.divide(alt, alt_n, out=np.zeros_like(alt), where=alt_n > 1e-9)
    pole = np.where(pn > 1e-9, pole / np.maximum(pn, 1e-12), alt)
    new_knee = hip + a * u + r * pole
    new_ankle = hip + dist * u
    return new_knee, new_ankle


def _ramp(mask: np.ndarray, blend: int) -> np.ndarray:
    """1 on the mask, falling linearly to 0 over ``blend`` frames outside it."""
    T = len(mask)
    if blend <= 0 or not mask.any():
        return mask.astype(np.float64)
    idx = np.flatnonzero(mask)
    t = np.arange(T)
    pos = np.searchsorted(idx, t)
    dl = np.abs(t - idx[np.clip(pos - 1, 0, len(idx) - 1)])
    dr = np.abs(idx[np.clip(pos, 0, len(idx) - 1)] - t)
    dist = np.minimum(dl, dr)
    return np.clip(1.0 - dist / (blend + 1.0), 0.0, 1.0)


def _leg_ik(out: np.ndarray, f: int, target: np.ndarray, weight: np.ndarray) -> None:
    """In place: move leg ``f`` of ``out`` so its ankle goes ``weight`` of the way to
    ``target`` (frames with weight 0 untouched)."""
    h, k, a = FEET[f]
    sel = weight > 0
    if not sel.any():
        return
    l1 = np.linalg.norm(out[sel, k] - out[sel, h], axis=-1)[:, None]
    l2 = np.linalg.norm(out[sel, a] - out[sel, k], axis=-1)[:, None]
    cur = out[sel, a]
    tgt = cur + weight[sel, None] * (target[sel] - cur)
    nk, na = two_bone_ik(out[sel, h], out[sel, k], cur, tgt, l1, l2)
    out[sel, k] = nk
    out[sel, a] = na


def foot_lock(pose, contacts, *, blend: int = 4, root_follow: bool = True,
              ground_clamp: bool = True, ground_z: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Planted feet do not slide: ``(pose', root_shift (T, 3))`` for the world-frame
    ``pose`` (T, J, 3) and ``contacts`` (T, 2); planted ankles are pinned at height
    ``ground_z`` and no ankle goes below it. See the module docstring."""
    pose = np.asarray(pose, dtype=np.float64)
    contacts = np.asarray(contacts, dtype=bool)
    T = len(pose)
    anchor = np.full((T, 2, 3), np.nan)
    for f, a in enumerate(ANKLES):
        for s, e in runs(contacts[:, f]):
            p = np.median(pose[s:e, a], axis=0)
            p[2] = ground_z
            anchor[s:e, f] = p
    delta = anchor - pose[:, list(ANKLES)]  # NaN where not in contact
    shift = np.zeros((T, 3))
    if root_follow and contacts.any():
        planted = contacts.any(1)
        mean = np.nanmean(np.where(contacts[..., None], delta, np.nan)[planted], axis=1)
        t = np.arange(T)
        idx = np.flatnonzero(planted)
        for c in range(3):
            shift[:, c] = np.interp(t, idx, mean[:, c])
        if blend > 0:  # no kinks at the contact boundaries (the leg IK pins the feet exactly)
            shift = gaussian_filter1d(shift, sigma=blend / 2.0, axis=0, mode="nearest")
    out = pose + shift[:, None, :]
    for f, a in enumerate(ANKLES):
        mask = contacts[:, f]
        if not mask.any():
            continue
        w = _ramp(mask, blend)
        # the target outside a run is the nearest run's anchor, moved with the root
        tgt = anchor[:, f].copy()
        idx = np.flatnonzero(mask)
        t = np.arange(T)
        pos = np.clip(np.searchsorted(idx, t), 0, len(idx) - 1)
        prev = idx[np.clip(pos - 1, 0, len(idx) - 1)]
        near = np.where(np.abs(idx[pos] - t) < np.abs(t - prev), idx[pos], prev)
        tgt = np.where(mask[:, None], tgt, anchor[near, f])
        _leg_ik(out, f, tgt, w)
    if ground_clamp:
        for f, a in enumerate(ANKLES):
            below = out[:, a, 2] < ground_z
            if below.any():
                tgt = out[:, a].copy()
                tgt[:, 2] = ground_z
                _leg_ik(out, f, tgt, below.astype(np.float64))
    return out, shift


def foot_sliding(pose, contacts) -> float:
    """Mean horizontal ankle displacement (metres per frame) between consecutive frames
    that are both in contact (NaN when there are none)."""
    pose = np.asarray(pose, dtype=np.float64)
    contacts = np.asarray(contacts, dtype=bool)
    a = pose[:, list(ANKLES), :2]
    step = np.linalg.norm(np.diff(a, axis=0), axis=-1)  # (T-1, 2)
    both = contacts[1:] & contacts[:-1]
    return float(step[both].mean()) if both.any() else float("nan")
