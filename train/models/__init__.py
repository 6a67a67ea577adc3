"""2D→3D lifters, plain PyTorch, checkpoint-compatible with MMPose and the originals.

Three models, one small interface (:class:`Lifter`):

- ``simplebaseline`` — SimpleBaseline3D (Martinez et al. 2017) as MMPose's
  ``image-pose-lift`` config: a TCN with 1×1 kernels, 16 output joints (no root).
- ``videopose3d`` — the VideoPose3D temporal convolution net (Pavllo et al. 2019),
  receptive field 27 / 81 / 243, optionally causal.
- ``motionbert`` — MotionBERT's DSTFormer (Zhu et al. 2023), ``size='full'`` or ``'lite'``.

Input: ``(B, T, 17, 2 | 3)`` 2D keypoints, already normalised (MotionBERT style
``x / W · 2 − [1, H / W]``; the models do not normalise). The third channel is a
confidence: models with ``in_channels == 2`` drop it, models with ``in_channels == 3``
(MotionBERT) get a confidence of 1 when it is absent.

Output of ``forward``: the network's own output ``(B, T_out, 17, 3)`` — exactly what the
original code computes, so checkpoints reproduce it. ``T_out = T`` for SimpleBaseline and
MotionBERT; ``T_out = T − receptive_field + 1`` for VideoPose3D (valid convolutions; its
output frame ``i`` belongs to input frame ``i + (receptive_field − 1) // 2``, or to
``i + receptive_field − 1`` when causal). SimpleBaseline's 16 predicted joints are
returned after a zero root, as joints 1–16 of the 17.

Each model describes its own window (:meth:`Lifter.window` → :class:`Window`: length,
anchor, causal …) and lifts whole sequences its own way (:meth:`Lifter.lift_sequence`:
SimpleBaseline batched over frames, VideoPose3D one convolution over the edge-padded
sequence, MotionBERT overlapping cross-faded clips). The public front is
:func:`lift_sequence` (numpy, any length, frame-aligned, root exactly 0, optional flip
test) with :func:`load_lifter`, which reads a checkpoint once (as data, never code:
:mod:`train.models.safe_load`) into model + normalisation + window + metadata. Nothing
outside this package switches on a model's name.

``lift(x)`` is the one-batch helper: same input, output ``(B, T, 17, 3)`` aligned
frame-for-frame with the input (VideoPose3D pads the sequence by edge replication, as the
original's evaluation does: centred, or all on the left when causal) and root-relative
(the root joint set to exactly 0, as MotionBERT's evaluation does for ``rootrel`` models:
the other joints are already predictions relative to the true root).
"""

from __future__ import annotations

import torch
from torch import nn

from .window import Window


class Lifter(nn.Module):
    """What every lifter has: a name, its rebuild config, and the frame bookkeeping.

    Attributes set by subclasses: ``name`` (the :func:`build_model` name), ``config``
    (keyword arguments that rebuild the same architecture), ``in_channels`` (2 or 3),
    ``num_joints`` (input joints), ``receptive_field`` (input frames that one output frame
    sees), ``clip_len`` (the window length the model is made for: ``receptive_field`` for
    the TCNs, ``maxlen`` for MotionBERT, which also takes any shorter clip).
    """

    name: str
    config: dict
    in_channels: int
    num_joints: int
    receptive_field: int
    clip_len: int

    def fit_input(self, x: torch.Tensor) -> torch.Tensor:
        """Check ``(B, T, J, C)`` and give it the model's channel count."""
        if x.dim() != 4:
            raise ValueError(f"{self.name}: expected input (B, T, J, C), got shape {tuple(x.shape)}")
        if x.shape[2] != self.num_joints:
            raise ValueError(f"{self.name}: expected {self.num_joints} joints, got {x.shape[2]}")
        c = x.shape[3]
        if c == self.in_channels:
            return x
        if c == 3 and self.in_channels == 2:
            return x[..., :2]
        if c == 2 and self.in_channels == 3:
            return torch.cat([x, torch.ones_like(x[..., :1])], dim=-1)
        raise ValueError(f"{self.name}: expected 2 or 3 input channels, got {c}")

    def out_frames(self, t: int) -> int:
        """Output frames of ``forward`` for ``t`` input frames."""
        return t

    def lift(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, J, 2|3)`` → ``(B, T, 17, 3)`` root-relative, frame-aligned."""
        y = self(x).clone()
        y[:, :, 0] = 0.0
        return y

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # -- the model's own window and whole-sequence lifting (overridden per model) -------
    def window(self, clip_len: int | None = None) -> Window:
        """The frames this model sees per prediction (training samples, sequence lifting).
        ``clip_len`` matters only to models that take clips of any length (MotionBERT)."""
        raise NotImplementedError(f"{type(self).__name__} describes no window")

    def lift_sequence(self, x: torch.Tensor, window: Window | None = None, *, batch: int = 8192,
                      progress: bool = False, **kw) -> torch.Tensor:
        """``(B, T, J, 2|3)`` whole sequences → ``(B, T, 17, 3)`` frame-aligned network
        output (any ``T >= 1``). :func:`train.models.lift_sequence` is the public front
        (numpy in/out, flip test, root set to 0); this is the model-specific part."""
        raise NotImplementedError(f"{type(self).__name__} cannot lift sequences")

    @staticmethod
    def _spans(n: int, size: int, progress: bool, desc: str):
        """``(start, stop)`` spans of ``range(n)`` in steps of ``size``, with a tqdm bar."""
        size = max(1, int(size))
        spans = [(i, min(i + size, n)) for i in range(0, n, size)]
        if progress and len(spans) > 1:
            from tqdm import tqdm

            return tqdm(spans, desc=desc, unit="batch", leave=False)
        return spans


# The submodules import Lifter from here, so they come after it.
from .motionbert import DSTFormer  # noqa: E402
from .simplebaseline import SimpleBaseline3D  # noqa: E402
from .videopose3d import TemporalConvNet  # noqa: E402

MODELS = {
    "simplebaseline": SimpleBaseline3D,
    "videopose3d": TemporalConvNet,
    "motionbert": DSTFormer,
}


def build_model(name: str, **cfg) -> Lifter:
    """Build a lifter by name: ``simplebaseline``, ``videopose3d``, ``motionbert``.

    ``cfg`` goes to the model's constructor, e.g. ``build_model('videopose3d',
    receptive_field=81, causal=True)`` or ``build_model('motionbert', size='lite')``.
    ``build_model(m.name, **m.config)`` rebuilds the architecture of any built model ``m``.
    """
    try:
        cls = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}") from None
    return cls(**cfg)


from .checkpoints import load_checkpoint, load_model, save_checkpoint  # noqa: E402
from .lifting import LoadedLifter, lift_sequence, load_lifter  # noqa: E402

__all__ = [
    "Lifter",
    "DSTFormer",
    "SimpleBaseline3D",
    "TemporalConvNet",
    "MODELS",
    "build_model",
    "load_checkpoint",
    "load_model",
    "save_checkpoint",
    "Window",
    "LoadedLifter",
    "load_lifter",
    "lift_sequence",
]
