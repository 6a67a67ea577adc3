"""One checkpoint read, one way to lift a whole sequence: what evaluation and inference share.

:func:`load_lifter` reads a lifter file once (as data: :mod:`train.models.safe_load`) and
gives a :class:`LoadedLifter`: the model in eval mode, the 2D normalisation it was trained
with, its window and the file's metadata. :func:`lift_sequence` lifts sequences of any
length, frame-aligned; how is each model's own business (:meth:`Lifter.lift_sequence`):
SimpleBaseline batches all frames, VideoPose3D convolves once over the edge-padded
sequence, MotionBERT lifts overlapping clips and cross-fades them. No switch on model names.

    from train.models import load_lifter, lift_sequence
    lifter = load_lifter("data/lifter_default.pt")
    x = lifter.normalize(uv_px, W, H)          # (T, 17, 2) pixels → model input
    pose = lift_sequence(lifter, x, flip=True)  # (T, 17, 3) metres, camera frame, root 0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from hpd3d.errors import InputError
from hpd3d.normalization import Normalization
from hpd3d.skeleton import H36M
from hpd3d.skeleton import flip as flip_pose

from . import Lifter
from .checkpoints import detect_format, model_from_object
from .safe_load import load_file
from .window import Window

FLIP_PERM = H36M.flip_permutation


@dataclass
class LoadedLifter:
    """A lifter read from a file, with everything needed to feed it and read its output."""

    model: Lifter  # eval mode
    normalization: Normalization  # from the checkpoint (the defaults for foreign formats)
    window: Window  # the training window (native files) or the model's own
    meta: dict = field(default_factory=dict)
    path: Path | None = None
    format: str = "native"  # native | mmpose | motionbert | videopose3d

    @property
    def name(self) -> str:
        return self.model.name

    def normalize(self, uv, w, h) -> np.ndarray:
        """Pixels ``(…, 17, 2)`` (or ``(…, 17, 3)`` with a confidence, kept as it is) →
        model input coordinates, float32; ``w``/``h`` broadcast over the leading dims."""
        uv = np.asarray(uv, dtype=np.float32)
        xy = self.normalization.inputs(uv[..., :2], w, h).astype(np.float32)
        return np.concatenate([xy, uv[..., 2:]], axis=-1) if uv.shape[-1] > 2 else xy

    def lift(self, x, **kw) -> np.ndarray:
        """:func:`lift_sequence` with this lifter."""
        return lift_sequence(self, x, **kw)


def load_lifter(path, *, trust_checkpoint: bool = False, format: str = "auto") -> LoadedLifter:
    """Read a lifter checkpoint once → :class:`LoadedLifter`.

    Any format :func:`train.models.load_checkpoint` reads (native ``last.pt``, MMPose,
    official MotionBERT / VideoPose3D). Native files carry their normalisation, training
    window and metadata; the others get the default normalisation (MotionBERT's screen
    one, which their models were trained with) and the model's own window. Every problem
    is an :class:`InputError` naming the file; a file needing full unpickling is refused
    unless ``trust_checkpoint``.
    """
    path = Path(path)
    obj = load_file(path, trust_checkpoint=trust_checkpoint)
    if not isinstance(obj, dict):
        raise InputError(path, f"a lifter checkpoint is a dict, this file holds a {type(obj).__name__}")
    try:
        fmt = detect_format(obj) if format == "auto" else format
    except ValueError as e:
        raise InputError(path, str(e)) from None
    model = model_from_object(obj, path, fmt)
    native = fmt == "native"
    try:
        norm = Normalization.from_dict(dict(obj.get("normalization") or {}) if native else {})
        norm.inputs(np.zeros((1, 2), np.float32), 2.0, 2.0)  # a known kind
        stored = obj.get("window") if native else None
        clip_len = int(stored["length"]) if stored else None
        window = model.window(clip_len)
        if stored:
            Window.from_dict(dict(stored))  # well-formed
    except (TypeError, ValueError, KeyError) as e:
        raise InputError(path, f"bad normalisation or window in the checkpoint ({e})") from None
    meta = obj.get("meta")
    meta = dict(meta) if isinstance(meta, dict) else {}
    if not native:
        meta.update({k: obj[k] for k in ("epoch", "lr", "min_loss") if isinstance(obj.get(k), (int, float))})
    return LoadedLifter(model.eval(), norm, window, meta, path, fmt)


def _as_input(x, num_joints: int) -> tuple[np.ndarray, bool]:
    x = np.asarray(x, dtype=np.float32)
    single = x.ndim == 3
    if single:
        x = x[None]
    if x.ndim != 4 or x.shape[2] != num_joints or x.shape[3] not in (2, 3) or x.shape[1] < 1:
        raise ValueError(f"lift_sequence: expected (T, {num_joints}, 2|3) or (V, T, {num_joints}, 2|3) "
                         f"with T >= 1, got shape {x.shape if x.ndim != 4 else tuple(x.shape)}")
    if not np.isfinite(x).all():
        raise ValueError("lift_sequence: the input has NaN or inf values (fill frames without a "
                         "detection first, e.g. by interpolation, and give them confidence 0)")
    return x, single


def mirror_inputs(x: np.ndarray) -> np.ndarray:
    """Normalised 2D (+ confidence) of the mirrored image: left/right joints swapped, x → −x."""
    m = x[..., FLIP_PERM, :].copy()
    m[..., 0] *= -1.0
    return m


def lift_sequence(lifter: LoadedLifter | Lifter, x, *, flip: bool = False, batch: int = 8192,
                  window: Window | None = None, progress: bool = False, **kw) -> np.ndarray:
    """Lift whole sequences: ``x`` ``(T, 17, 2|3)`` or ``(V, T, 17, 2|3)`` normalised 2D
    (+ confidence; :meth:`LoadedLifter.normalize`), any ``T >= 1`` → float32 ``(T, 17, 3)`` /
    ``(V, T, 17, 3)``, output frame ``i`` belonging to input frame ``i``, root joint exactly 0,
    the other joints relative to it (as predicted: MotionBERT's evaluation also just sets
    its root to 0). With a :class:`LoadedLifter` the output is in metres
    (the checkpoint's ``scale_3d`` undone); a bare :class:`Lifter` gives its raw units.

    ``flip``: test-time augmentation — the mean of the prediction and the un-mirrored
    prediction of the mirrored input (one pass over both). ``batch``: frames per forward
    pass. ``window``: override the lifter's (e.g. MotionBERT's clip length). Extra keywords
    go to the model's :meth:`Lifter.lift_sequence` (MotionBERT: ``stride``).
    """
    if isinstance(lifter, LoadedLifter):
        model, scale = lifter.model, float(lifter.normalization.scale_3d)
        window = window or lifter.window
    elif isinstance(lifter, Lifter):
        model, scale = lifter, 1.0
        window = window or model.window()
    else:
        raise TypeError(f"lift_sequence: expected a LoadedLifter or a Lifter, got {type(lifter).__name__}")
    x, single = _as_input(x, model.num_joints)
    v = len(x)
    if flip:
        x = np.concatenate([x, mirror_inputs(x)])
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            y = model.lift_sequence(torch.from_numpy(np.ascontiguousarray(x)), window,
                                    batch=batch, progress=progress, **kw)
    finally:
        model.train(was_training)
    y = y.numpy().astype(np.float32, copy=False)
    if flip:
        y = (y[:v] + flip_pose(y[v:], axis=0)) / 2
    y = y.copy() if not y.flags.writeable else y
    y[..., 0, :] = 0.0  # the root exactly 0 (the other joints are already root-relative)
    if scale != 1.0:
        y = y / np.float32(scale)
    y = y.astype(np.float32, copy=False)
    return y[0] if single else y


__all__ = ["LoadedLifter", "load_lifter", "lift_sequence", "mirror_inputs", "FLIP_PERM"]
