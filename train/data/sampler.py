"""A resumable sampler that mixes sources by weight.

Each epoch draws ``epoch_samples`` indices (default: every sample once): source ``s`` gets
``round(epoch_samples · w_s / Σw)`` of them (the rounding remainder goes to the largest
sources), taken from a fresh permutation of that source's samples (repeated if it needs
more than it has), then all are shuffled together. The epoch's order is a pure function
of ``(seed, epoch)`` — like mmengine's ``DefaultSampler`` — so a run resumed at epoch
``e`` sees exactly the batches an uninterrupted run sees; ``set_epoch`` (called by
mmengine's ``DistSamplerSeedHook``) also tells the dataset the epoch for its noise.
Distributed: rank ``r`` of ``n`` takes every n-th index of the same order (no padding;
training drops the last ``total mod n`` so every rank takes the same number of steps).
Without shuffling (validation) the order is sequential and weights are ignored.
"""

from __future__ import annotations

import numpy as np
import torch


def _dist_info() -> tuple[int, int]:
    from mmengine.dist import get_dist_info

    return get_dist_info()


class SourceSampler(torch.utils.data.Sampler):
    def __init__(self, dataset, weights=None, epoch_samples: int | None = None,
                 shuffle: bool = True, seed: int = 0):
        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = int(seed)
        self.epoch = 0
        self.rank, self.world_size = _dist_info()
        src = np.asarray(dataset.source_of)
        self.by_source = [np.flatnonzero(src == s) for s in range(int(src.max(initial=-1)) + 1)]
        n = len(src)
        w = np.ones(len(self.by_source)) if weights is None else np.asarray(weights, float)
        w = np.where([len(b) > 0 for b in self.by_source], w[: len(self.by_source)], 0.0)
        if shuffle and n and w.sum() <= 0:
            raise ValueError("every source with training samples has weight 0")
        total = int(epoch_samples) if epoch_samples else n
        if shuffle and weights is not None and n:
            exact = total * w / w.sum()
            counts = np.floor(exact).astype(int)
            rest = total - counts.sum()
            counts[np.argsort(-(exact - counts), kind="stable")[:rest]] += 1
        else:  # natural proportions: every sample once per epoch
            counts = np.array([len(b) for b in self.by_source])
            total = n
        self.counts = counts
        self.total = int(total)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)

    def indices(self) -> np.ndarray:
        """This epoch's indices for every rank (before the rank split)."""
        if not self.shuffle:
            return np.arange(len(self.dataset))
        rng = np.random.default_rng([self.seed, self.epoch])
        parts = []
        for b, k in zip(self.by_source, self.counts):
            if k == 0:
                continue
            reps = -(-k // len(b))
            parts.append(np.concatenate([b[rng.permutation(len(b))] for _ in range(reps)])[:k])
        out = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        return out[rng.permutation(len(out))]

    def _used(self) -> int:
        """Indices used this epoch: training drops the last ``total mod world_size`` so
        every rank runs the same number of steps (DDP waits for all of them at each)."""
        return self.total - self.total % self.world_size if self.shuffle else self.total

    def __iter__(self):
        return iter(self.indices()[: self._used()][self.rank :: self.world_size].tolist())

    def __len__(self) -> int:
        return len(range(self.rank, self._used(), self.world_size))
