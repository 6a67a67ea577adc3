"""Lifter training data: VideoPose3D-format datasets → in-memory views → batched windows.

- :mod:`~train.data.sources` reads dataset folders into one :class:`PoseTable` of camera
  views (camera-frame, root-relative 3D; pixel 2D; image sizes);
- :mod:`~train.data.split` assigns train/val by sequence or subject, never per clip;
- :mod:`~train.data.clips` builds batches (windows, noise, normalisation, flip);
- :mod:`~train.data.sampler` mixes sources by weight, reproducibly per epoch;
- :func:`build_data` turns a ``data`` config section into all of that.
"""

from .build import DataConfig, build_data, build_loaders
from .clips import LiftingDataset, Window, flip_batch, identity_collate, window_for
from .sampler import SourceSampler
from .sources import PoseTable, SourceSpec, View, load_table
from .split import SplitRule, assign_splits, group_key

__all__ = [
    "DataConfig", "build_data", "build_loaders", "LiftingDataset", "Window", "flip_batch",
    "identity_collate", "window_for", "SourceSampler", "PoseTable", "SourceSpec", "View",
    "load_table", "SplitRule", "assign_splits", "group_key",
]
