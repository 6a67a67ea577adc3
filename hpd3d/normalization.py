"""2D (and 3D) normalisation for lifters, one definition shared by training and inference.

The default is MotionBERT's screen normalisation: ``x / W · 2 − [1, H / W]``, which maps
the image width to [−1, 1] and keeps the aspect ratio (y spans [−H/W, H/W]). 3D in pixel
units (camera frame, as MotionBERT trains on H36M) scales its depth by the same ``2 / W``.
The normalisation a model was trained with is stored in its checkpoint as
:meth:`Normalization.to_dict` and applied identically at inference.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


def normalize_screen(uv: np.ndarray, w, h) -> np.ndarray:
    """Pixels (..., 2) → MotionBERT screen coordinates; ``w``/``h`` broadcast over leading dims."""
    w = np.asarray(w, dtype=np.float64)[..., None]
    h = np.asarray(h, dtype=np.float64)[..., None]
    offset = np.concatenate([np.ones_like(h), h / w], axis=-1)
    return (uv / w * 2.0 - offset).astype(np.result_type(uv, np.float32), copy=False)


def denormalize_screen(xy: np.ndarray, w, h) -> np.ndarray:
    """Inverse of :func:`normalize_screen`."""
    w = np.asarray(w, dtype=np.float64)[..., None]
    h = np.asarray(h, dtype=np.float64)[..., None]
    offset = np.concatenate([np.ones_like(h), h / w], axis=-1)
    return ((xy + offset) * w / 2.0).astype(np.result_type(xy, np.float32), copy=False)


@dataclass(frozen=True)
class Normalization:
    """What a lifter's inputs and targets were normalised with (stored in checkpoints).

    ``kind``: ``"screen"`` (MotionBERT, the default). ``root_relative``: the 3D target
    has the root joint subtracted. ``scale_3d``: metres → target units multiplier.
    """

    kind: str = "screen"
    root_relative: bool = True
    root_joint: int = 0
    scale_3d: float = 1.0

    def inputs(self, uv: np.ndarray, w, h) -> np.ndarray:
        if self.kind != "screen":
            raise ValueError(f"unknown normalisation {self.kind!r}")
        return normalize_screen(uv, w, h)

    def targets(self, xyz: np.ndarray) -> np.ndarray:
        out = xyz - xyz[..., self.root_joint : self.root_joint + 1, :] if self.root_relative else xyz
        return out * self.scale_3d

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Normalization":
        return cls(**d)
