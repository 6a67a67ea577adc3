"""MotionBERT's DSTFormer (Zhu et al., ICCV 2023): dual-stream spatio-temporal transformer.

Parameter names are those of the official ``lib/model/DSTformer.py`` (``joints_embed``,
``pos_embed``, ``temp_embed``, ``blocks_st.N`` / ``blocks_ts.N`` with ``norm1_s``,
``attn_s.qkv``, ``attn_s.proj``, ``mlp_s.fc1`` …, ``norm``, ``pre_logits.fc``, ``head``,
``ts_attn.N``), so an official ``model_pos`` state dict (less DataParallel's ``module.``)
loads as it is; MMPose's ``DSTFormer`` + ``MotionRegressionHead`` names are mapped in
:mod:`train.models.checkpoints`.

Per depth ``i`` two blocks read the same input: ``blocks_st[i]`` runs spatial attention →
MLP → temporal attention → MLP, ``blocks_ts[i]`` temporal first. Their outputs are fused
per token by learned weights ``softmax(ts_attn[i](cat(x_st, x_ts)))`` (``att_fuse``;
``ts_attn`` starts at weight 0, bias 0.5, i.e. an even mix). Spatial attention runs over
the J joints of a frame, temporal attention over the T frames of a joint; each head is
``dim / num_heads`` wide, pre-norm residual blocks, GELU MLPs, then LayerNorm →
``pre_logits`` (Linear + tanh, ``dim_rep``) → ``head`` (Linear → 3).

Sizes: ``full`` (dim_feat 512, mlp_ratio 2: MB_ft_h36m.yaml, MMPose's motionbert configs)
42.5 M parameters; ``lite`` (dim_feat 256, mlp_ratio 4: MB_ft_h36m_global_lite.yaml)
16.0 M; both depth 5, 8 heads, dim_rep 512, maxlen 243, 17 joints, input (x, y, conf).

The official model builds its LayerNorms with ``eps=1e-6`` (``lib/utils/learning.py``
``load_backbone``); MMPose's port uses PyTorch's default 1e-5. ``norm_eps`` picks one
(default 1e-6, the original's); the difference in outputs is far below a millimetre.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from . import Lifter
from .window import Window

SIZES = {
    "full": dict(dim_feat=512, mlp_ratio=2),
    "lite": dict(dim_feat=256, mlp_ratio=4),
}


class DropPath(nn.Module):
    """Stochastic depth: drop whole residual branches per sample while training."""

    def __init__(self, p: float = 0.0):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep


class MLP(nn.Module):
    def __init__(self, dim: int, hidden: int, drop: float = 0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class Attention(nn.Module):
    """Multi-head self-attention over joints (``spatial``) or over frames (``temporal``).

    Tokens arrive as ``(B·T, J, C)``; temporal attention regroups them as
    ``(B, heads, J, T, C / heads)``.
    """

    def __init__(self, dim, num_heads=8, qkv_bias=True, qk_scale=None, attn_drop=0.0, proj_drop=0.0, mode="spatial"):
        super().__init__()
        if mode not in ("spatial", "temporal"):
            raise ValueError(mode)
        self.num_heads = num_heads
        self.scale = qk_scale or (dim // num_heads) ** -0.5
        self.mode = mode
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor, seqlen: int) -> torch.Tensor:
        bt, n, c = x.shape
        h = self.num_heads
        qkv = self.qkv(x).reshape(bt, n, 3, h, c // h).permute(2, 0, 3, 1, 4)  # 3, BT, H, N, d
        if self.mode == "temporal":
            # (BT, H, N, d) → (B, T, H, N, d) → (B, H, N, T, d)
            qkv = qkv.reshape(3, bt // seqlen, seqlen, h, n, c // h).permute(0, 1, 3, 4, 2, 5)
        q, k, v = qkv.unbind(0)
        y = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop if self.training else 0.0, scale=self.scale
        )
        if self.mode == "temporal":
            y = y.permute(0, 3, 2, 1, 4).reshape(bt, n, c)  # (B, T, N, H, d)
        else:
            y = y.transpose(1, 2).reshape(bt, n, c)  # (BT, N, H, d)
        return self.proj_drop(self.proj(y))


class Block(nn.Module):
    """Pre-norm transformer block: spatial then temporal (``st``) or the reverse (``ts``)."""

    def __init__(self, dim, num_heads, mlp_ratio, qkv_bias, qk_scale, drop, attn_drop, drop_path, norm_eps, order):
        super().__init__()
        self.order = order
        self.norm1_s = nn.LayerNorm(dim, eps=norm_eps)
        self.norm1_t = nn.LayerNorm(dim, eps=norm_eps)
        self.attn_s = Attention(dim, num_heads, qkv_bias, qk_scale, attn_drop, drop, mode="spatial")
        self.attn_t = Attention(dim, num_heads, qkv_bias, qk_scale, attn_drop, drop, mode="temporal")
        self.drop_path = DropPath(drop_path)
        self.norm2_s = nn.LayerNorm(dim, eps=norm_eps)
        self.norm2_t = nn.LayerNorm(dim, eps=norm_eps)
        hidden = int(dim * mlp_ratio)
        self.mlp_s = MLP(dim, hidden, drop)
        self.mlp_t = MLP(dim, hidden, drop)

    def _spatial(self, x, seqlen):
        x = x + self.drop_path(self.attn_s(self.norm1_s(x), seqlen))
        return x + self.drop_path(self.mlp_s(self.norm2_s(x)))

    def _temporal(self, x, seqlen):
        x = x + self.drop_path(self.attn_t(self.norm1_t(x), seqlen))
        return x + self.drop_path(self.mlp_t(self.norm2_t(x)))

    def forward(self, x: torch.Tensor, seqlen: int) -> torch.Tensor:
        if self.order == "st":
            return self._temporal(self._spatial(x, seqlen), seqlen)
        return self._spatial(self._temporal(x, seqlen), seqlen)


class DSTFormer(Lifter):
    """MotionBERT's DSTFormer 2D→3D lifter.

    Args:
        size: ``'full'`` or ``'lite'`` presets for ``dim_feat`` / ``mlp_ratio`` (explicit
            values override the preset).
        in_channels: 3 (x, y, confidence); out_channels: 3.
        dim_feat, dim_rep, depth, num_heads, mlp_ratio: the architecture.
        num_joints: 17; maxlen: longest clip (243), the length of ``temp_embed``.
        att_fuse: learned per-token fusion of the two streams (else their mean).
        drop_rate, attn_drop_rate, drop_path_rate: regularisation (0 in the release).
        norm_eps: LayerNorm epsilon (1e-6 as the original; MMPose uses 1e-5).
    """

    name = "motionbert"

    def __init__(
        self,
        size: str = "full",
        in_channels: int = 3,
        out_channels: int = 3,
        dim_feat: int | None = None,
        dim_rep: int = 512,
        depth: int = 5,
        num_heads: int = 8,
        mlp_ratio: float | None = None,
        num_joints: int = 17,
        maxlen: int = 243,
        qkv_bias: bool = True,
        qk_scale: float | None = None,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        att_fuse: bool = True,
        norm_eps: float = 1e-6,
    ):
        super().__init__()
        if size not in SIZES:
            raise ValueError(f"motionbert size must be one of {sorted(SIZES)}, got {size!r}")
        dim_feat = SIZES[size]["dim_feat"] if dim_feat is None else dim_feat
        mlp_ratio = SIZES[size]["mlp_ratio"] if mlp_ratio is None else mlp_ratio
        if dim_feat % num_heads:
            raise ValueError(f"dim_feat {dim_feat} is not a multiple of num_heads {num_heads}")
        self.in_channels = in_channels
        self.num_joints = num_joints
        self.maxlen = maxlen
        self.receptive_field = maxlen
        self.clip_len = maxlen
        self.att_fuse = att_fuse
        self.config = dict(
            size=size, in_channels=in_channels, out_channels=out_channels, dim_feat=dim_feat,
            dim_rep=dim_rep, depth=depth, num_heads=num_heads, mlp_ratio=mlp_ratio,
            num_joints=num_joints, maxlen=maxlen, qkv_bias=qkv_bias, qk_scale=qk_scale,
            drop_rate=drop_rate, attn_drop_rate=attn_drop_rate, drop_path_rate=drop_path_rate,
            att_fuse=att_fuse, norm_eps=norm_eps,
        )  # fmt: skip

        self.joints_embed = nn.Linear(in_channels, dim_feat)
        self.pos_drop = nn.Dropout(drop_rate)
        dpr = torch.linspace(0, drop_path_rate, depth).tolist()
        args = (dim_feat, num_heads, mlp_ratio, qkv_bias, qk_scale, drop_rate, attn_drop_rate)
        self.blocks_st = nn.ModuleList([Block(*args, dpr[i], norm_eps, "st") for i in range(depth)])
        self.blocks_ts = nn.ModuleList([Block(*args, dpr[i], norm_eps, "ts") for i in range(depth)])
        self.norm = nn.LayerNorm(dim_feat, eps=norm_eps)
        self.pre_logits = nn.Sequential(OrderedDict([("fc", nn.Linear(dim_feat, dim_rep)), ("act", nn.Tanh())]))
        self.head = nn.Linear(dim_rep, out_channels)
        self.temp_embed = nn.Parameter(torch.zeros(1, maxlen, 1, dim_feat))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_joints, dim_feat))
        nn.init.trunc_normal_(self.temp_embed, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.apply(self._init_weights)
        if att_fuse:
            self.ts_attn = nn.ModuleList([nn.Linear(dim_feat * 2, 2) for _ in range(depth)])
            for lin in self.ts_attn:
                nn.init.zeros_(lin.weight)
                nn.init.constant_(lin.bias, 0.5)

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor, return_rep: bool = False) -> torch.Tensor:
        """``(B, T, J, C)`` with ``T <= maxlen`` → ``(B, T, J, 3)`` (or the ``dim_rep`` features)."""
        x = self.fit_input(x)
        b, t, j, c = x.shape
        if t > self.maxlen:
            raise ValueError(f"motionbert: {t} frames is more than maxlen {self.maxlen}; lift in windows")
        x = self.joints_embed(x.reshape(b * t, j, c)) + self.pos_embed
        x = (x.reshape(b, t, j, -1) + self.temp_embed[:, :t]).reshape(b * t, j, -1)
        x = self.pos_drop(x)
        for i, (blk_st, blk_ts) in enumerate(zip(self.blocks_st, self.blocks_ts)):
            x_st = blk_st(x, t)
            x_ts = blk_ts(x, t)
            if self.att_fuse:
                alpha = self.ts_attn[i](torch.cat([x_st, x_ts], dim=-1)).softmax(dim=-1)
                x = x_st * alpha[..., 0:1] + x_ts * alpha[..., 1:2]
            else:
                x = (x_st + x_ts) * 0.5
        x = self.pre_logits(self.norm(x).reshape(b, t, j, -1))
        return x if return_rep else self.head(x)

    # -- window and sequence lifting --------------------------------------------------
    def window(self, clip_len: int | None = None) -> Window:
        """Clips of ``clip_len`` frames (default and at most ``maxlen``), every frame predicted."""
        n = int(clip_len or self.clip_len)
        if not 1 <= n <= self.maxlen:
            raise ValueError(f"motionbert clip_len {n} must lie in [1, maxlen={self.maxlen}]")
        return Window(n, 0, True, False)

    @staticmethod
    def clip_starts(t: int, length: int, stride: int) -> list[int]:
        """First frames of the clips that cover ``t`` frames: every ``stride`` frames, the
        last clip ending exactly at the last frame (no padding unless ``t < length``)."""
        if t <= length:
            return [0]
        starts = list(range(0, t - length, stride))
        return starts + [t - length]

    @staticmethod
    def blend_weights(length: int, overlap: int) -> torch.Tensor:
        """Per-position weight of a clip's predictions: 1 inside, a raised-cosine ramp over
        the ``overlap`` frames at each end, so that two clips ``length − overlap`` apart
        cross-fade with weights summing to exactly 1 (a smooth hand-over, no seam)."""
        i = torch.arange(length, dtype=torch.float64)
        u = torch.minimum((i + 1) / (overlap + 1), (length - i) / (overlap + 1)).clamp(max=1.0)
        return (0.5 - 0.5 * torch.cos(torch.pi * u)).float()

    def lift_sequence(self, x: torch.Tensor, window: Window | None = None, *, batch: int = 8192,
                      progress: bool = False, stride: int | None = None, **kw) -> torch.Tensor:
        """Overlapping clips of the window's length (default ``clip_len``), ``stride``
        frames apart (default three quarters of a clip: a quarter overlaps), blended with :meth:`blend_weights`. MotionBERT's
        own inference cuts back-to-back clips instead, and its poses and depth jump at every
        seam. A sequence shorter than a clip is edge-padded to one clip (as training
        windows are at sequence ends). ``batch``: frames per forward pass."""
        L = (window or self.window()).length
        if not 1 <= L <= self.maxlen:
            raise ValueError(f"motionbert clip length {L} must lie in [1, maxlen={self.maxlen}]")
        stride = max(1, min(L, int(stride) if stride else L - L // 4))
        b, t = x.shape[:2]
        starts = torch.tensor(self.clip_starts(t, L, stride))
        idx = (starts[:, None] + torch.arange(L)).clamp_(max=t - 1)  # (n, L)
        n = len(starts)
        clips = x[:, idx.reshape(-1)].reshape(b * n, L, *x.shape[2:])
        per = max(1, batch // L)
        y = torch.cat([self(clips[i:j]) for i, j in self._spans(len(clips), per, progress, self.name)])
        if n == 1:
            return y.reshape(b, L, -1, 3)[:, :t]
        w = self.blend_weights(L, L - stride).to(y.dtype)
        y = (y.reshape(b, n * L, -1, 3)) * w.repeat(n)[None, :, None, None]
        frames = idx.reshape(-1)
        acc = y.new_zeros(b, t, y.shape[2], 3).index_add_(1, frames, y)
        wsum = w.new_zeros(t).index_add_(0, frames, w.repeat(n))
        return acc / wsum[None, :, None, None]
