"""Which BVH files an ``input=`` names, and which of their frames a stage takes.

Shared by the synth stage (``synth.augment_h36m input=…``) and the Blender stage
(``blender.render input=…``), so both read the same files in the same order and resample
them the same way.
"""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np

from hpd3d.errors import InputError

__all__ = ["find_bvh", "resample_indices", "select_frames"]


def find_bvh(spec) -> list[Path]:
    """The BVH files of ``spec`` (one file, a folder searched recursively, or a glob),
    sorted; an :class:`InputError` when there are none."""
    if spec is None or str(spec) == "":
        raise InputError(None, "input=...: a .bvh file, a folder or a glob is required")
    spec = str(spec)
    p = Path(spec)
    if p.is_dir():
        paths = sorted(x for x in p.rglob("*.bvh") if x.is_file())
    elif any(ch in spec for ch in "*?["):
        paths = sorted(Path(x) for x in glob.glob(spec, recursive=True) if Path(x).is_file())
    elif p.is_file():
        paths = [p]
    else:
        raise InputError(spec, "no such file or folder")
    if not paths:
        raise InputError(spec, "no .bvh files found")
    return paths


def resample_indices(num_frames: int, frame_time: float, fps: float) -> np.ndarray:
    """Source frame of each output frame at ``fps`` (nearest frame; the clip's duration
    kept, at least one frame)."""
    n = max(1, int(round(num_frames * frame_time * fps)))
    return np.minimum(np.round(np.arange(n) / fps / frame_time).astype(np.int64),
                      num_frames - 1)


def select_frames(num_frames: int, frame_time: float, file_fps: float, fps, start: int = 0,
                  stride: int = 1, max_frames=None) -> tuple[np.ndarray, float]:
    """Source frame indices (resampled to ``fps`` when given, then ``start``, ``stride``
    and ``max_frames``) and the output frame rate."""
    if fps:
        idx, rate = resample_indices(num_frames, frame_time, fps), float(fps)
    else:
        idx, rate = np.arange(num_frames), float(file_fps)
    idx = idx[int(start)::int(stride)]
    if max_frames is not None:
        idx = idx[: int(max_frames)]
    return idx, rate / stride
