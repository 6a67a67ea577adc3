"""Constant bone lengths for a pose sequence (numpy only).

A lifter predicts every frame on its own, so its bones stretch and shrink over time. Here
each bone gets one length for the whole clip (the per-bone median over the frames,
optionally confidence-weighted, optionally the same for the left and right twin), and the
skeleton is re-chained from the root along the predicted bone directions: joint ``c`` is
placed at ``new[parent(c)] + L_b · unit(old[c] − old[parent(c)])``. Directions are kept
exactly, so every bone-length coefficient of variation is ~1e-16 afterwards.

Bones follow ``skeleton.bones`` (``(parent, child)`` pairs in child order; H36M-17 has 16).
"""

from __future__ import annotations

import numpy as np

from .skeleton import H36M, Skeleton, bone_lengths

__all__ = ["clip_bone_lengths", "rechain", "constant_bone_lengths", "mirror_pairs"]


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Median along axis 0 of ``values`` (T, B) with non-negative ``weights`` (T, B)."""
    order = np.argsort(values, axis=0)
    v = np.take_along_axis(values, order, axis=0)
    w = np.take_along_axis(weights, order, axis=0)
    cw = np.cumsum(w, axis=0)
    total = cw[-1]
    half = 0.5 * total[None]
    idx = np.minimum((cw < half).sum(axis=0), values.shape[0] - 1)
    cols = np.arange(values.shape[1])
    med = v[idx, cols]
    # the half-weight falls exactly between two samples: their mean (np.median's rule)
    tie = np.isclose(cw[idx, cols], half[0], rtol=1e-12, atol=0) & (idx + 1 < len(v))
    med = np.where(tie, 0.5 * (med + v[np.minimum(idx + 1, len(v) - 1), cols]), med)
    return np.where(total > 0, med, np.median(values, axis=0))


def mirror_pairs(skeleton: Skeleton = H36M) -> list[tuple[int, int]]:
    """(bone index, twin bone index) for every left bone whose child has a right twin."""
    bones = skeleton.bones
    child_to_bone = {int(c): i for i, (_, c) in enumerate(bones)}
    pairs = []
    for lj, rj in zip(skeleton.left, skeleton.right):
        if lj in child_to_bone and rj in child_to_bone:
            pairs.append((child_to_bone[lj], child_to_bone[rj]))
    return pairs


def clip_bone_lengths(pose, conf=None, *, symmetric: bool = False,
                      skeleton: Skeleton = H36M) -> np.ndarray:
    """(B,) one length per bone: the median over frames of ``pose`` (T, J, 3).

    ``conf`` (T, J) weighs each frame's bone by ``min(conf[parent], conf[child])``
    (weighted median). ``symmetric`` gives a left bone and its right twin their mean length.
    """
    pose = np.asarray(pose, dtype=np.float64)
    L = bone_lengths(pose, skeleton)  # (T, B)
    finite = np.isfinite(L)
    if conf is None:
        w = finite.astype(np.float64)
    else:
        c = np.nan_to_num(np.asarray(conf, dtype=np.float64))
        b = skeleton.bones
        w = np.minimum(c[:, b[:, 0]], c[:, b[:, 1]]) * finite
    L = np.where(finite, L, 0.0)
    out = _weighted_median(L, w)
    if symmetric:
        for i, j in mirror_pairs(skeleton):
            out[i] = out[j] = 0.5 * (out[i] + out[j])
    return out


def rechain(pose, lengths, skeleton: Skeleton = H36M) -> np.ndarray:
    """Re-chain ``pose`` (..., J, 3) from its root with bone ``lengths`` (B,) or (..., B)
    along its own bone directions (a zero-length bone keeps a zero offset)."""
    pose = np.asarray(pose, dtype=np.float64)
    lengths = np.asarray(lengths, dtype=np.float64)
    if skeleton.parents is None:
        raise ValueError(f"{skeleton.name} is not a tree")
    out = pose.copy()
    bones = skeleton.bones
    # parents come before children in H36M order; process in a topological order anyway
    done = {i for i, p in enumerate(skeleton.parents) if p < 0}
    order, pending = [], list(range(len(bones)))
    while pending:
        for k in list(pending):
            if int(bones[k, 0]) in done:
                order.append(k)
                done.add(int(bones[k, 1]))
                pending.remove(k)
    for k in order:
        p, c = bones[k]
        d = pose[..., c, :] - pose[..., p, :]
        n = np.linalg.norm(d, axis=-1, keepdims=True)
        u = np.divide(d, n, out=np.zeros_like(d), where=n > 1e-12)
        out[..., c, :] = out[..., p, :] + u * lengths[..., k, None]
    return out


def constant_bone_lengths(pose, conf=None, *, symmetric: bool = False, weighted: bool = True,
                          skeleton: Skeleton = H36M) -> tuple[np.ndarray, np.ndarray]:
    """``(pose', lengths)``: ``pose`` (T, J, 3) re-chained with the clip's median bone
    lengths (see :func:`clip_bone_lengths`; ``weighted`` uses ``conf``)."""
    lengths = clip_bone_lengths(pose, conf if weighted else None, symmetric=symmetric,
                                skeleton=skeleton)
    return rechain(pose, lengths, skeleton), lengths
