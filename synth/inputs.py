"""Inputs of the augmentation stage: procedural motion, VideoPose3D 3D npz, or BVH files.

Every source becomes a sorted list of ``(subject, action, (T, 17, 3) float64)`` sequences
in metres, world Z-up, H36M-17 order. A 32-joint Human3.6M file is reduced to 17 joints
the way VideoPose3D does it.
"""

from __future__ import annotations

import numpy as np

from hpd3d.bvh_files import find_bvh, resample_indices
from hpd3d.errors import InputError
from hpd3d.formats import load_3d
from hpd3d.skeleton import h36m32_to_h36m

Sequence = tuple[str, str, np.ndarray]


def from_npz(path) -> list[Sequence]:
    data = load_3d(path)
    out = []
    for subject in sorted(data):
        for action in sorted(data[subject]):
            seq = data[subject][action]
            if seq.shape[1] == 32:
                seq = h36m32_to_h36m(seq)
            elif seq.shape[1] != 17:
                raise InputError(path, f"positions_3d[{subject!r}][{action!r}]: "
                                       f"{seq.shape[1]} joints; expected 17 (H36M) or 32")
            out.append((subject, action, seq.astype(np.float64)))
    if not out:
        raise InputError(path, "no sequences in positions_3d")
    return out


def from_bvh(spec: str, fps: float | None = None) -> list[Sequence]:
    """Each BVH file becomes subject = file stem, action = ``mocap`` (resampled to
    ``fps`` by nearest frame when given)."""
    from hpd3d.bvh import load_bvh
    from hpd3d.rig import to_h36m

    out = []
    for path in find_bvh(spec):
        bvh = load_bvh(path)
        seq = to_h36m(bvh)
        if fps:
            seq = seq[resample_indices(bvh.num_frames, bvh.frame_time, fps)]
        out.append((path.stem.replace("_", "-"), "mocap", seq))
    return out


def procedural(clips: int, seed: int, fps: float) -> list[Sequence]:
    from .library import generate

    data = generate(n_clips=clips, seed=seed, fps=fps)
    return [(s, a, np.asarray(data[s][a], dtype=np.float64))
            for s in sorted(data) for a in sorted(data[s])]


def load_inputs(spec, fps: float, clips: int, seed: int) -> list[Sequence]:
    if spec is None or str(spec) in ("", "procedural", "None"):
        seqs = procedural(clips, seed, fps)
    elif str(spec).endswith(".npz"):
        seqs = from_npz(spec)
    else:
        seqs = from_bvh(str(spec), fps)
    for subject, action, seq in seqs:
        if not np.isfinite(seq).all():
            raise InputError(spec, f"{subject}/{action}: NaN or infinite joint positions")
    return seqs
