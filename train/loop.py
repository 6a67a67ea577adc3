"""mmengine glue, kept as the former import path: the lifter model and its metric live in
:mod:`train.mm_model`, the hooks in :mod:`train.hooks`; :mod:`train.runner` builds a run from
them. Names are re-exported here so ``from train.loop import …`` keeps working.
"""

from __future__ import annotations

from train.hooks import (DebugHook, EpochSeedHook, ExportHook, ProgressHook,  # noqa: F401
                         seed_everything)
from train.mm_model import (HEADS, LifterModel, NonFiniteLoss, PoseMetric,  # noqa: F401
                         freeze_backbone, is_head, masked_mean)

__all__ = ["HEADS", "DebugHook", "EpochSeedHook", "ExportHook", "LifterModel", "NonFiniteLoss",
           "PoseMetric", "ProgressHook", "freeze_backbone", "is_head", "masked_mean",
           "seed_everything"]
