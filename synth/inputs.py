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


def from_bvh(spec: str, fps: float | None = None, failures: list | None = None) -> list[Sequence]:
    """Each BVH file becomes subject = file stem, action = ``mocap`` (resampled to
    ``fps`` by nearest frame when given). With a ``failures`` list, a bad file (unreadable,
    no frames, rig not mappable, a name already taken) is skipped and listed there as
    ``(path, problem)``, as ``blender.render`` does; without, it raises."""
    from hpd3d.bvh import load_bvh
    from hpd3d.rig import to_h36m

    out, taken = [], {}
    for path in find_bvh(spec):
        subject = path.stem.replace("_", "-")
        try:
            if subject in taken:
                raise InputError(path, f"subject {subject!r} is already taken by another "
                                       f"input file ({taken[subject]}); rename one")
            bvh = load_bvh(path)
            if bvh.num_frames == 0:
                raise InputError(path, "has no motion frames (Frames: 0)")
            seq = to_h36m(bvh)
            if not np.isfinite(seq).all():
                raise InputError(path, "NaN or infinite joint positions")
        except InputError as e:
            if failures is None:
                raise
            failures.append((str(path), e.problem))
            continue
        taken[subject] = path
        if fps:
            seq = seq[resample_indices(bvh.num_frames, bvh.frame_time, fps)]
        out.append((subject, "mocap", seq))
    return out


def procedural(clips: int, seed: int, fps: float) -> list[Sequence]:
    from .library import generate

    data = generate(n_clips=clips, seed=seed, fps=fps)
    return [(s, a, np.asarray(data[s][a], dtype=np.float64))
            for s in sorted(data) for a in sorted(data[s])]


def load_inputs(spec, fps: float, clips: int, seed: int,
                failures: list | None = None) -> list[Sequence]:
    """The sequences of ``spec``; bad BVH files go to ``failures`` when given (see
    :func:`from_bvh`)."""
    if spec is None or str(spec) in ("", "procedural", "None"):
        seqs = procedural(clips, seed, fps)
    elif str(spec).endswith(".npz"):
        seqs = from_npz(spec)
    else:
        seqs = from_bvh(str(spec), fps, failures)
    for subject, action, seq in seqs:
        if not np.isfinite(seq).all():
            raise InputError(spec, f"{subject}/{action}: NaN or infinite joint positions")
    return seqs
