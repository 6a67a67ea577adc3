"""``data`` config section → view table, datasets and data loaders.

The section (``conf/data/*.yaml``)::

    dir: out/data/procedural   # one source: a shortcut for sources: [{dir, name, use}]
    name: synth
    use: both                  # both | train | val (val: an evaluation-only dataset)
    sources: null              # or a list of {dir, name, weight, use, split, input_2d}
    split: {by: sequence, val_fraction: 0.1, seed: 0}   # default split of every source
    input_2d: gt_noise         # gt | gt_noise (clean 2D + on-the-fly noise) | noisy (file)
                               # | mediapipe | hrnet (a real detector's file: infer.detect_dataset)
    detected_by: null          # a detector: only frames where its file found the person are
                               # trained on / scored (input_2d=<detector> implies it)
    noise: {scale: 1.0}        # hpd3d.noise.NoiseModel fields for gt_noise
    flip: 0.5                  # probability of a left/right mirror per training sample
    stride: 1                  # training anchors: every stride-th frame (MotionBERT: clip starts)
    val_stride: null           # validation anchors (null: 1, MotionBERT: clip_len)
    frame_margin: 0.5          # frames with a keypoint beyond the image ± this × its size are
                               # not trained on or scored; inputs are clamped to that box
    epoch_samples: null        # samples per epoch (null: every training sample once)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from torch.utils.data import DataLoader

from hpd3d.errors import InputError
from hpd3d.noise import NoiseModel
from hpd3d.normalization import Normalization

from .clips import LiftingDataset, Window, identity_collate
from .sampler import SourceSampler
from .sources import DETECTORS_2D, INPUTS_2D, PoseTable, SourceSpec, load_table
from .split import SplitRule

_KEYS = {"dir", "name", "use", "sources", "split", "input_2d", "noise", "flip", "stride",
         "val_stride", "epoch_samples", "tag", "frame_margin", "detected_by"}


@dataclass
class DataConfig:
    sources: list[SourceSpec]
    input_2d: str = "gt_noise"
    noise: NoiseModel = field(default_factory=NoiseModel)
    flip: float = 0.5
    stride: int = 1
    val_stride: int | None = None
    epoch_samples: int | None = None
    tag: str = "data"
    frame_margin: float = 0.5
    detected_by: str | None = None

    @classmethod
    def from_dict(cls, d: dict) -> "DataConfig":
        d = dict(d or {})
        unknown = set(d) - _KEYS
        if unknown:
            raise InputError(None, f"data: unknown key(s) {sorted(unknown)}")
        split = dict(d.get("split") or {})
        if d.get("sources"):
            raw = [dict(s) for s in d["sources"]]
        elif d.get("dir"):
            raw = [{"dir": d["dir"], "name": d.get("name") or "synth",
                    "use": d.get("use") or "both"}]
        else:
            raise InputError(None, "data: set data.dir (one dataset folder) or data.sources")
        sources = []
        for i, s in enumerate(raw):
            s["split"] = {**split, **dict(s.get("split") or {})}
            sources.append(SourceSpec.from_dict(s, f"data.sources[{i}]"))
        noise_d = dict(d.get("noise") or {})
        names = {f.name for f in dataclasses.fields(NoiseModel)}
        if set(noise_d) - names:
            raise InputError(None, f"data.noise: unknown option(s) {sorted(set(noise_d) - names)}")
        noise = NoiseModel(**noise_d)
        try:
            noise.check("data.noise")
        except ValueError as e:
            raise InputError(None, str(e)) from None
        input_2d = d.get("input_2d") or "gt_noise"
        if input_2d not in INPUTS_2D:
            raise InputError(None, f"data.input_2d: one of {INPUTS_2D}, got {input_2d!r}")
        detected_by = d.get("detected_by") or None
        if detected_by is not None and detected_by not in DETECTORS_2D:
            raise InputError(None, f"data.detected_by: one of {DETECTORS_2D} or null, "
                                   f"got {detected_by!r}")
        flip = float(d.get("flip") or 0.0)
        if not 0 <= flip <= 1:
            raise InputError(None, f"data.flip: a probability in [0, 1], got {flip}")
        return cls(sources=sources, input_2d=input_2d, noise=noise, flip=flip,
                   stride=int(d.get("stride") or 1), val_stride=d.get("val_stride"),
                   epoch_samples=d.get("epoch_samples"), tag=str(d.get("tag") or "data"),
                   frame_margin=float(0.5 if d.get("frame_margin") is None else d["frame_margin"]),
                   detected_by=detected_by)

    def describe(self) -> dict:
        return dict(input_2d=self.input_2d, noise_scale=self.noise.scale, flip=self.flip,
                    stride=self.stride, tag=self.tag, frame_margin=self.frame_margin,
                    detected_by=self.detected_by)


def build_data(cfg: DataConfig, window: Window, *, seed: int = 0,
               normalization: Normalization | None = None, need_val: bool = True):
    """→ ``(table, train_dataset, val_dataset)``; errors if a needed split is empty."""
    table = load_table(cfg.sources, cfg.input_2d, cfg.frame_margin, cfg.detected_by)
    norm = normalization or Normalization()
    train_views, val_views = table.view_ids("train"), table.view_ids("val")
    if len(train_views) == 0:
        raise InputError(cfg.sources[0].dir, "no training sequences (every sequence went to "
                                             "val: check data.split / use)")
    if need_val and len(val_views) == 0:
        raise InputError(cfg.sources[0].dir, "no validation sequences (data.split.val_fraction "
                                             "is 0, or too few sequences to split)")
    val_stride = cfg.val_stride or (window.length if window.all_targets else window.outputs)
    common = dict(window=window, noise=cfg.noise, normalization=norm, seed=seed)
    train = LiftingDataset(table, train_views, stride=cfg.stride, train=True,
                           flip_prob=cfg.flip, **common)
    val = LiftingDataset(table, val_views, stride=val_stride, train=False, **common)
    return table, train, val


def build_loaders(cfg: DataConfig, train: LiftingDataset, val: LiftingDataset | None,
                  batch_size: int, val_batch_size: int | None = None, seed: int = 0,
                  num_workers: int = 0):
    weights = [s.weight for s in cfg.sources]
    epoch_samples = cfg.epoch_samples
    if not epoch_samples and train.window.outputs > 1:  # chunks: each frame about once an epoch
        epoch_samples = -(-len(train) // train.window.outputs)
    natural = all(w == 1.0 for w in weights) and not epoch_samples
    sampler = SourceSampler(train, None if natural else weights, epoch_samples,
                            shuffle=True, seed=seed)
    kw = dict(collate_fn=identity_collate, num_workers=num_workers,
              persistent_workers=num_workers > 0)
    # drop the ragged last batch (a batch of one breaks BatchNorm); never drop everything
    batch_size = max(1, min(batch_size, len(sampler)))
    train_loader = DataLoader(train, batch_size=batch_size, sampler=sampler, drop_last=True, **kw)
    val_loader = None
    if val is not None and len(val):
        val_loader = DataLoader(val, batch_size=val_batch_size or batch_size,
                                sampler=SourceSampler(val, shuffle=False, seed=seed), **kw)
    return train_loader, val_loader


__all__ = ["DataConfig", "build_data", "build_loaders", "PoseTable", "SplitRule"]
