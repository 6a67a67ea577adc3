"""VideoPose3D's temporal convolution net (Pavllo et al., CVPR 2019).

Parameter names are those of the official ``common/model.py`` ``TemporalModel``
(``expand_conv``, ``expand_bn``, ``layers_conv.N``, ``layers_bn.N``, ``shrink``), so an
official ``model_pos`` state dict loads as it is; MMPose's ``TCN`` + ``TemporalRegressionHead``
names are mapped in :mod:`train.models.checkpoints`.

Structure (kernel sizes ``k0 … kn``, dilation of block ``i`` = ``k0 · … · k(i-1)``)::

    expand: conv(k0) → BN → ReLU → dropout
    block i: res = x[centre (or last, causal) frames]
             x = dropout(ReLU(BN(conv(k_i, dilation))))
             x = res + dropout(ReLU(BN(conv1x1(x))))
    shrink: conv1x1 (with bias) → J_out · 3

Valid convolutions: ``T`` input frames give ``T − receptive_field + 1`` output frames.
``causal`` changes only which frame of each window the residual connections take (the
last instead of the centre), as in the original; an output frame then belongs to the last
input frame of its window, and :meth:`TemporalConvNet.lift` pads on the left only.

``forward(x, single_frame=True)`` is the original's "optimised for single-frame
batching" variant (``TemporalModelOptimized1f``, MMPose ``use_stride_conv``): the same
weights run as strided convolutions on an input of exactly ``receptive_field`` frames,
computing only the one output frame — the fast path for training.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import Lifter
from .window import Window

RECEPTIVE_FIELDS = {1: (1, 1, 1), 27: (3, 3, 3), 81: (3, 3, 3, 3), 243: (3, 3, 3, 3, 3)}


class TemporalConvNet(Lifter):
    """VideoPose3D TCN.

    Args:
        receptive_field: 27, 81 or 243 (picks ``kernel_sizes``); ignored when
            ``kernel_sizes`` is given.
        kernel_sizes: odd filter widths, first the expand conv's, then one per block.
        num_joints: input joints; ``in_channels``: 2 (x, y) or 3 (with confidence).
        num_joints_out: output joints (17 for H36M).
        channels: convolution channels (1024).
        dropout: dropout probability (0.25).
        causal: residuals take the last frame of each window (real-time use).
        bn_momentum: BatchNorm momentum (0.1; the original decays it while training).
    """

    name = "videopose3d"

    def __init__(
        self,
        receptive_field: int = 243,
        kernel_sizes: tuple[int, ...] | None = None,
        num_joints: int = 17,
        in_channels: int = 2,
        num_joints_out: int = 17,
        channels: int = 1024,
        dropout: float = 0.25,
        causal: bool = False,
        bn_momentum: float = 0.1,
    ):
        super().__init__()
        if kernel_sizes is None:
            if receptive_field not in RECEPTIVE_FIELDS:
                raise ValueError(
                    f"receptive_field must be one of {sorted(RECEPTIVE_FIELDS)} "
                    f"(or give kernel_sizes), got {receptive_field}"
                )
            kernel_sizes = RECEPTIVE_FIELDS[receptive_field]
        kernel_sizes = tuple(int(k) for k in kernel_sizes)
        if len(kernel_sizes) < 2 or any(k % 2 == 0 for k in kernel_sizes):
            raise ValueError(f"kernel_sizes must be >= 2 odd widths, got {kernel_sizes}")
        self.kernel_sizes = kernel_sizes
        self.num_joints = num_joints
        self.in_channels = in_channels
        self.num_joints_out = num_joints_out
        self.causal = causal

        self.expand_conv = nn.Conv1d(num_joints * in_channels, channels, kernel_sizes[0], bias=False)
        self.expand_bn = nn.BatchNorm1d(channels, momentum=bn_momentum)
        layers_conv, layers_bn = [], []
        self.pads = [kernel_sizes[0] // 2]
        self.causal_shifts = [kernel_sizes[0] // 2 if causal else 0]
        self.dilations = []
        dilation = kernel_sizes[0]
        for k in kernel_sizes[1:]:
            self.pads.append((k - 1) * dilation // 2)
            self.causal_shifts.append(k // 2 * dilation if causal else 0)
            self.dilations.append(dilation)
            layers_conv.append(nn.Conv1d(channels, channels, k, dilation=dilation, bias=False))
            layers_bn.append(nn.BatchNorm1d(channels, momentum=bn_momentum))
            layers_conv.append(nn.Conv1d(channels, channels, 1, bias=False))
            layers_bn.append(nn.BatchNorm1d(channels, momentum=bn_momentum))
            dilation *= k
        self.layers_conv = nn.ModuleList(layers_conv)
        self.layers_bn = nn.ModuleList(layers_bn)
        self.shrink = nn.Conv1d(channels, num_joints_out * 3, 1)
        self.drop = nn.Dropout(dropout)

        self.receptive_field = 1 + 2 * sum(self.pads)
        self.clip_len = self.receptive_field
        self.config = dict(
            kernel_sizes=kernel_sizes,
            num_joints=num_joints,
            in_channels=in_channels,
            num_joints_out=num_joints_out,
            channels=channels,
            dropout=dropout,
            causal=causal,
            bn_momentum=bn_momentum,
        )

    # -- bookkeeping ------------------------------------------------------------------
    def out_frames(self, t: int) -> int:
        return t - self.receptive_field + 1

    @property
    def total_causal_shift(self) -> int:
        """Frames the window's reference frame sits right of its centre (0 or half the field)."""
        return (self.receptive_field - 1) // 2 if self.causal else 0

    def set_bn_momentum(self, momentum: float) -> None:
        for bn in [self.expand_bn, *self.layers_bn]:
            bn.momentum = momentum

    # -- forward ----------------------------------------------------------------------
    def _blocks_dense(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(F.relu(self.expand_bn(self.expand_conv(x))))
        for i in range(len(self.kernel_sizes) - 1):
            pad, shift = self.pads[i + 1], self.causal_shifts[i + 1]
            res = x[:, :, pad + shift : x.shape[2] - pad + shift]
            x = self.drop(F.relu(self.layers_bn[2 * i](self.layers_conv[2 * i](x))))
            x = res + self.drop(F.relu(self.layers_bn[2 * i + 1](self.layers_conv[2 * i + 1](x))))
        return self.shrink(x)

    def _blocks_strided(self, x: torch.Tensor) -> torch.Tensor:
        # Same weights, stride = kernel width, no dilation: only the frames the one
        # output needs are computed (TemporalModelOptimized1f / MMPose use_stride_conv).
        k0 = self.kernel_sizes[0]
        x = F.conv1d(x, self.expand_conv.weight, stride=k0)
        x = self.drop(F.relu(self.expand_bn(x)))
        for i, k in enumerate(self.kernel_sizes[1:]):
            shift = k // 2 if self.causal else 0
            res = x[:, :, shift + k // 2 :: k]
            y = F.conv1d(x, self.layers_conv[2 * i].weight, stride=k)
            x = self.drop(F.relu(self.layers_bn[2 * i](y)))
            x = res + self.drop(F.relu(self.layers_bn[2 * i + 1](self.layers_conv[2 * i + 1](x))))
        return self.shrink(x)

    def forward_features(self, x: torch.Tensor, single_frame: bool = False) -> torch.Tensor:
        """``(B, T, J, C)`` → ``(B, J_out · 3, T_out)``, the raw conv output."""
        x = self.fit_input(x)
        b, t = x.shape[:2]
        if t < self.receptive_field:
            raise ValueError(
                f"videopose3d: {t} frames is fewer than the receptive field {self.receptive_field} "
                "(pad the sequence, or use lift())"
            )
        x = x.reshape(b, t, -1).transpose(1, 2)
        if single_frame:
            if t != self.receptive_field:  # == prod(kernel_sizes) by construction
                raise ValueError(
                    f"videopose3d: single_frame needs exactly {self.receptive_field} frames, got {t}"
                )
            return self._blocks_strided(x)
        return self._blocks_dense(x)

    def forward(self, x: torch.Tensor, single_frame: bool = False) -> torch.Tensor:
        """``(B, T, J, C)`` → ``(B, T − receptive_field + 1, J_out, 3)``."""
        y = self.forward_features(x, single_frame)
        return y.transpose(1, 2).reshape(y.shape[0], y.shape[2], self.num_joints_out, 3)

    def pad_input(self, x: torch.Tensor) -> torch.Tensor:
        """Edge-pad ``(B, T, J, C)`` along T so ``forward`` returns T frames aligned with it."""
        pad = (self.receptive_field - 1) // 2
        shift = self.total_causal_shift
        left, right = pad + shift, pad - shift
        idx = torch.arange(-left, x.shape[1] + right, device=x.device).clamp_(0, x.shape[1] - 1)
        return x.index_select(1, idx)

    def lift(self, x: torch.Tensor) -> torch.Tensor:
        y = self(self.pad_input(x)).clone()
        y[:, :, 0] = 0.0
        return y

    def window(self, clip_len: int | None = None) -> Window:
        """``receptive_field`` frames centred on the predicted frame (ending at it when causal)."""
        rf = self.receptive_field
        return Window(rf, rf - 1 if self.causal else (rf - 1) // 2, False, True, causal=self.causal)

    def train_window(self, chunk: int) -> Window:
        """Training on chunks: ``receptive_field + chunk − 1`` input frames, the ``chunk``
        frames from the anchor on predicted by one dense pass (same weights, same outputs
        as ``chunk`` single-frame windows; the convolutions are shared between neighbours)."""
        if int(chunk) <= 1:
            return self.window()
        w = self.window()
        return Window(w.length + int(chunk) - 1, w.anchor, False, False, causal=self.causal,
                      outputs=int(chunk))

    def lift_sequence(self, x: torch.Tensor, window: Window | None = None, *, batch: int = 8192,
                      progress: bool = False, **kw) -> torch.Tensor:
        """One dense convolution over the edge-padded sequence (:meth:`pad_input`: centred,
        or all on the left when causal), cut into spans of about ``batch`` output frames
        (each with its ``receptive_field − 1`` frames of context: the same numbers as one
        pass), so memory stays bounded on long videos."""
        b, t = x.shape[:2]
        xp = self.pad_input(x)
        ctx = self.receptive_field - 1
        step = max(1, batch // b)
        out = [self(xp[:, i : j + ctx]) for i, j in self._spans(t, step, progress, self.name)]
        return torch.cat(out, dim=1)
