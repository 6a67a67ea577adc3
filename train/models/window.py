"""The frames a lifter sees around the frame(s) it predicts: its :class:`Window`.

Each model describes its own window (:meth:`train.models.Lifter.window`), so nothing
outside ``train/models`` re-derives it from the model's name:

- SimpleBaseline3D: one frame, the anchor, predicted alone;
- VideoPose3D: ``receptive_field`` frames centred on the anchor (ending at it when
  causal), the anchor predicted (training uses the one-output-frame strided fast path);
  trained on chunks (``model.train_chunk=C``, :meth:`TemporalConvNet.train_window`) the
  window is ``receptive_field + C − 1`` frames and the ``C`` frames from the anchor on are
  predicted by one dense pass (``outputs = C``), which shares the convolutions between
  neighbouring outputs: far less compute and noise sampling per predicted frame;
- MotionBERT: ``clip_len`` (≤ ``maxlen``) frames starting at the anchor, every frame
  predicted.

Training cuts samples with it (:mod:`train.data.clips`), native checkpoints store it
(:meth:`Window.to_dict`), and :func:`train.models.lift_sequence` uses it to lift whole
sequences.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Window:
    length: int  # input frames per sample (= the receptive field of one prediction)
    anchor: int  # the anchor's position in the window
    all_targets: bool  # a target per input frame (MotionBERT) or the anchor's only
    single_frame: bool  # call the TCN's one-output-frame fast path
    causal: bool = False  # the window ends at the anchor (sees no future frame)
    outputs: int = 1  # predicted frames from the anchor on (a TCN trained on chunks: > 1)

    def __post_init__(self):
        if self.length < 1 or not 0 <= self.anchor < self.length:
            raise ValueError(f"window: need length >= 1 and 0 <= anchor < length, got {self}")
        if self.outputs < 1 or self.anchor + self.outputs > self.length:
            raise ValueError(f"window: need 1 <= outputs <= length - anchor, got {self}")

    @property
    def receptive_field(self) -> int:
        """Input frames one output frame depends on."""
        return self.length - self.outputs + 1

    @property
    def past(self) -> int:
        """Frames before the anchor in the window."""
        return self.anchor

    @property
    def future(self) -> int:
        """Frames after the anchor in the window."""
        return self.length - self.outputs - self.anchor

    def to_dict(self) -> dict:
        return dict(length=self.length, anchor=self.anchor, all_targets=self.all_targets,
                    single_frame=self.single_frame, causal=self.causal, outputs=self.outputs)

    @classmethod
    def from_dict(cls, d: dict) -> "Window":
        """From :meth:`to_dict` (also of older files, which have no ``causal`` or ``outputs``)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"window: unknown keys {unknown}")
        return cls(**d)
