"""SimpleBaseline3D (Martinez et al., ICCV 2017) as MMPose's ``image-pose-lift`` model.

MMPose builds it as its VideoPose3D ``TCN`` with 1×1 kernels (``kernel_sizes=(1, 1, 1)``,
1024 channels, 2 residual blocks, BatchNorm, dropout 0.5, ``in_channels=2·17``) and a
``TemporalRegressionHead`` (a 1×1 conv) with ``num_joints=16``: its ``ImagePoseLifting``
codec has ``remove_root=True``, so the net predicts joints 1–16 relative to the root and
never the root itself (configs/body_3d_keypoint/pose_lift/h36m/
pose-lift_simplebaseline3d_8xb64-200e_h36m.py). 4.29 M parameters.

With 1×1 kernels every frame is lifted on its own, so ``T`` may be anything; the output
is ``(B, T, 17, 3)`` with a zero root prepended to the 16 predicted joints. MMPose
trains it on 2D and 3D standardised by per-joint mean/std (its codec); those statistics
are data, not weights, and are not in the checkpoint.
"""

from __future__ import annotations

import torch

from .videopose3d import TemporalConvNet
from .window import Window


class SimpleBaseline3D(TemporalConvNet):
    name = "simplebaseline"

    def __init__(
        self,
        num_joints: int = 17,
        in_channels: int = 2,
        channels: int = 1024,
        num_blocks: int = 2,
        dropout: float = 0.5,
        bn_momentum: float = 0.1,
    ):
        super().__init__(
            kernel_sizes=(1,) * (num_blocks + 1),
            num_joints=num_joints,
            in_channels=in_channels,
            num_joints_out=num_joints - 1,
            channels=channels,
            dropout=dropout,
            causal=False,
            bn_momentum=bn_momentum,
        )
        self.config = dict(
            num_joints=num_joints,
            in_channels=in_channels,
            channels=channels,
            num_blocks=num_blocks,
            dropout=dropout,
            bn_momentum=bn_momentum,
        )

    def forward(self, x: torch.Tensor, single_frame: bool = False) -> torch.Tensor:
        """``(B, T, J, C)`` → ``(B, T, J, 3)``: joint 0 (root) is 0, joints 1… predicted."""
        y = super().forward(x, single_frame)
        return torch.cat([torch.zeros_like(y[:, :, :1]), y], dim=2)

    def lift(self, x: torch.Tensor) -> torch.Tensor:
        return self(x)

    def window(self, clip_len: int | None = None) -> Window:
        """One frame, predicted alone."""
        return Window(1, 0, False, False)

    def lift_sequence(self, x: torch.Tensor, window: Window | None = None, *, batch: int = 8192,
                      progress: bool = False, **kw) -> torch.Tensor:
        """Every frame on its own: all frames of all sequences in batches of ``batch``."""
        b, t = x.shape[:2]
        flat = x.reshape(b * t, 1, *x.shape[2:])
        out = [self(flat[i:j]) for i, j in self._spans(len(flat), batch, progress, self.name)]
        return torch.cat(out).reshape(b, t, -1, 3)
