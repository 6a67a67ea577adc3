"""Training samples: windows of frames cut from the view table, built a whole batch at a time.

A sample is an *anchor* frame of one view. The model decides the window around it
(:meth:`train.models.Lifter.window`, a :class:`train.models.Window`): SimpleBaseline
lifts the anchor alone; the VideoPose3D TCN sees
``receptive_field`` frames centred on it (ending at it when causal) and predicts the anchor;
MotionBERT sees ``clip_len`` frames starting at it and predicts all of them. Windows that
run past a sequence end are edge-padded (indices clamped to the view), and ``valid`` marks
the real target frames.

:meth:`LiftingDataset.__getitems__` builds a batch with numpy fancy indexing: gather
pixels, add on-the-fly detector noise (:func:`hpd3d.noise.add_noise`) to frames of
``gt_noise`` sources, normalise with each view's W/H (:class:`hpd3d.normalization.Normalization`),
flip (train) and return tensors. ``torch.utils.data.DataLoader`` calls ``__getitems__``
with the sampler's index list, so there is no per-sample Python work. Randomness comes
from ``np.random.default_rng([seed, epoch, crc32(indices)])``: a batch is the same
whatever happened before it, which is what makes a resumed run repeat an uninterrupted one.
"""

from __future__ import annotations

import zlib

import numpy as np
import torch

from hpd3d.noise import NoiseModel, add_noise
from hpd3d.normalization import Normalization
from hpd3d.skeleton import H36M
from train.models.window import Window

from .sources import PoseTable, bounds

FLIP_PERM = H36M.flip_permutation
_VAL_EPOCH = 2**31 - 1  # the rng "epoch" of validation batches: the same noise every time


def window_for(model, clip_len: int | None = None) -> Window:
    """The training window of a built lifter: the model's own :meth:`Lifter.window`
    (``clip_len`` only matters to MotionBERT). Kept for the training code's callers."""
    return model.window(clip_len)


def flip_batch(x2d: np.ndarray, conf: np.ndarray, xyz: np.ndarray, which: np.ndarray):
    """Mirror the samples ``which`` (B,) bool: screen x → −x and 3D camera x → −x, with
    left/right joints swapped (:func:`hpd3d.skeleton.flip` on the camera x axis). In
    screen coordinates the mirror axis is the image's centre line, so this is exact for a
    camera whose principal point is at the image centre."""
    if not which.any():
        return x2d, conf, xyz
    x2d, conf, xyz = x2d.copy(), conf.copy(), xyz.copy()
    x2d[which] = x2d[which][..., FLIP_PERM, :] * np.array([-1.0, 1.0], np.float32)
    conf[which] = conf[which][..., FLIP_PERM]
    xyz[which] = xyz[which][..., FLIP_PERM, :] * np.array([-1.0, 1.0, 1.0], np.float32)
    return x2d, conf, xyz


class LiftingDataset(torch.utils.data.Dataset):
    """Anchor frames of some views of a :class:`PoseTable`, batched by ``__getitems__``.

    ``stride``: every ``stride``-th frame of a view is an anchor (MotionBERT: clip starts);
    frames out of the image bounds or without a detection (:attr:`PoseTable.usable`) are skipped, and input
    pixels are clamped to the bounds.
    ``train``: flip with probability ``flip_prob`` and draw fresh noise every epoch;
    otherwise no flip and the same noise every time.
    """

    def __init__(self, table: PoseTable, view_ids, window: Window, *, stride: int = 1,
                 train: bool = True, flip_prob: float = 0.0, noise: NoiseModel | None = None,
                 normalization: Normalization | None = None, seed: int = 0):
        self.table = table
        self.window = window
        self.train = train
        self.flip_prob = float(flip_prob) if train else 0.0
        self.noise = noise if noise is not None else NoiseModel()
        self.norm = normalization or Normalization()
        self.seed = int(seed)
        self.epoch = 0
        stride = max(1, int(stride))
        anchors, lo, hi, src = [], [], [], []
        for i in np.asarray(view_ids, dtype=np.int64):
            v = table.views[i]
            a = v.start + np.arange(0, v.length, stride)
            a = a[table.usable[a]]  # never learn from (or score) garbage 2D
            anchors.append(a)
            lo.append(np.full(len(a), v.start))
            hi.append(np.full(len(a), v.start + v.length - 1))
            src.append(np.full(len(a), v.source))
        cat = lambda xs: np.concatenate(xs) if xs else np.zeros(0, np.int64)  # noqa: E731
        self.anchor, self.lo, self.hi = cat(anchors), cat(lo), cat(hi)
        self.source_of = cat(src)
        self.metainfo = dict(window=window.to_dict(), num_samples=len(self.anchor))

    def __len__(self) -> int:
        return len(self.anchor)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def frames(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(B, L) clamped input frame indices of samples ``idx`` and (B, L) ``valid``."""
        w = self.window
        f = self.anchor[idx, None] - w.anchor + np.arange(w.length)
        lo, hi = self.lo[idx, None], self.hi[idx, None]
        return np.clip(f, lo, hi), (f >= lo) & (f <= hi)

    def _rng(self, idx: np.ndarray) -> np.random.Generator:
        epoch = self.epoch if self.train else _VAL_EPOCH
        return np.random.default_rng([self.seed, epoch, zlib.crc32(idx.astype(np.int64).tobytes())])

    def batch(self, idx) -> dict:
        """Numpy batch: ``inputs`` (B, L, 17, 3) screen x, y + confidence; ``target``
        (B, Lt, 17, 3) camera-frame root-relative metres (Lt = L or 1); ``valid`` (B, Lt)."""
        idx = np.asarray(idx, dtype=np.int64)
        t = self.table
        f, valid = self.frames(idx)
        uv, conf = t.uv[f], t.conf[f]
        rng = self._rng(idx)
        on = t.noise_on[self.anchor[idx]]
        if on.any() and self.noise.scale > 0:
            noisy, c = add_noise(uv[on], rng, self.noise)
            uv = uv.copy()
            uv[on], conf = noisy, conf.copy()
            conf[on] = c
        wh = t.wh[t.view_of[self.anchor[idx]]]
        lo, hi = bounds(wh[:, None, None], t.margin)
        uv = np.clip(uv, lo, hi)
        x2d = self.norm.inputs(uv, wh[:, 0, None, None], wh[:, 1, None, None]).astype(np.float32)
        w = self.window
        if w.all_targets:
            xyz = t.xyz[f]
        elif w.outputs > 1:  # a chunk: frames past the sequence's end are not scored
            xyz = t.xyz[f[:, w.anchor : w.anchor + w.outputs]]
            valid = valid[:, w.anchor : w.anchor + w.outputs]
        else:
            xyz = t.xyz[self.anchor[idx]][:, None]
            valid = np.ones((len(idx), 1), dtype=bool)
        xyz = self.norm.targets(xyz).astype(np.float32)
        if self.flip_prob > 0:
            x2d, conf, xyz = flip_batch(x2d, conf, xyz, rng.random(len(idx)) < self.flip_prob)
        inputs = np.concatenate([x2d, conf[..., None]], axis=-1)
        return dict(inputs=inputs, target=xyz, valid=valid)

    def __getitems__(self, idx) -> dict:
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.batch(idx).items()}

    def __getitem__(self, i):  # one sample as a batch of one
        return self.__getitems__([int(i)])


def identity_collate(batch):
    """``collate_fn`` for :class:`LiftingDataset`: ``__getitems__`` already made the batch."""
    return batch
