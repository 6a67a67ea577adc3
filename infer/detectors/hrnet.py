"""HRNet top-down 2D keypoints (COCO-17) in plain PyTorch, loading MMPose checkpoints.

The network is MMPose's ``TopdownPoseEstimator`` with an ``HRNet`` backbone and a
``HeatmapHead`` (``configs/body_2d_keypoint/topdown_heatmap/coco/
td-hm_hrnet-w{32,48}_8xb64-210e_coco-256x192.py``), rebuilt module by module with exactly
MMPose's names and shapes so that a model-zoo checkpoint loads with strict key checking:

- ``mmpose/models/backbones/hrnet.py``: stem ``conv1``/``bn1``/``conv2``/``bn2`` (mmcv's
  ``build_norm_layer`` names BatchNorm ``bn<postfix>``), ``layer1`` (4 Bottlenecks, 64→256),
  ``transition1..3``, ``stage2..4`` of ``HRModule``s (``branches.i.j`` BasicBlocks,
  ``fuse_layers.i.j`` = 1×1 conv + BN + nearest upsample for j > i, a chain of stride-2
  3×3 conv + BN (+ ReLU except the last) for j < i, ``None`` for j == i). Stage 4's last
  module has ``multiscale_output=False`` (the config does not set it), so it keeps only
  ``fuse_layers.0``.
- ``mmpose/models/backbones/resnet.py``: ``BasicBlock`` (``conv1 bn1 conv2 bn2``) and
  ``Bottleneck`` (``conv1..3 bn1..3``, ``downsample.0`` conv + ``downsample.1`` BN).
- ``mmpose/models/heads/heatmap_heads/heatmap_head.py``: with ``deconv_out_channels=None``
  the head is one 1×1 ``final_layer`` conv (``head.final_layer.{weight,bias}``). MMPose 0.x
  files (``TopdownHeatmapSimpleHead``) name it ``keypoint_head.final_layer``; renamed on load.

Pre-/post-processing as MMPose does it for a top-down heatmap model:

- box → ``bbox_xyxy2cs`` with padding 1.25 (``GetBBoxCenterScale``), the scale widened to
  the input aspect ratio (``TopdownAffine._fix_aspect_ratio``), ``get_warp_matrix`` with no
  rotation and ``cv2.warpAffine(..., INTER_LINEAR)`` (black border);
- ``PoseDataPreprocessor``: mean (123.675, 116.28, 103.53), std (58.395, 57.12, 57.375) in
  RGB order (MMPose reads BGR and sets ``bgr_to_rgb``; our frames are RGB already);
- flip test (``test_cfg``: ``flip_test=True, flip_mode='heatmap', shift_heatmap=True``):
  the mirrored crop's heatmaps are flipped back, left/right channels swapped
  (``flip_indices``), shifted one heatmap pixel right and averaged with the plain ones
  (``mmpose/models/utils/tta.py: flip_heatmaps``);
- ``MSRAHeatmap.decode``: argmax (``get_heatmap_maximum``; a non-positive maximum gives
  location −1) and a quarter-pixel step towards the higher neighbour (``refine_keypoints``,
  including its ``1 < x < W - 1`` test), or DARK's Taylor step on the log of the blurred
  heatmap (``refine_keypoints_dark``, ``unbiased=True`` configs); times the input/heatmap
  ratio, then back to the image (``TopdownPoseEstimator.add_pred_to_datasample``:
  ``kp / input_size · scale + center − scale / 2``). The score is the heatmap maximum,
  clipped to [0, 1]. UDP models (``use_udp``) are not supported.

Both decoders are vectorised over instances and joints (see ``bench/bench_hrnet.py``).

Sizes: W32 + head 28,536,113 parameters (MMPose's ``get_flops`` reports 28.54 M for this
config), W48 63,595,745 (63.6 M in the model zoo); 1754 state-dict entries each. The same
state dict, less the ``backbone.``/``head.`` prefixes, loads strictly into the original
HRNet code (``leoxiaobin/deep-high-resolution-net.pytorch`` ``PoseHighResolutionNet``)
and gives the same heatmaps (checked once by hand, relative difference 2e-6).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import torch
from torch import nn

from hpd3d.errors import InputError
from hpd3d.skeleton import COCO

__all__ = ["HRNet", "HeatmapHead", "TopdownHeatmapNet", "HRNetDetector", "ARCHS",
           "build_topdown_hrnet", "load_checkpoint", "bbox_xyxy2cs", "fix_aspect_ratio",
           "get_warp_matrix", "flip_heatmaps", "get_heatmap_maximum", "refine_keypoints",
           "refine_keypoints_dark", "decode_heatmaps", "MEAN_RGB", "STD_RGB", "FLIP_INDICES"]

MEAN_RGB = (123.675, 116.28, 103.53)
STD_RGB = (58.395, 57.12, 57.375)
FLIP_INDICES = COCO.flip_permutation.tolist()  # CocoDataset's flip_indices
NUM_KEYPOINTS = 17

# Branch widths per stage (``extra.stage{2,3,4}.num_channels``); stage 1 is 4 Bottlenecks
# of 64 (×4 = 256) in both; stage3 has 4 modules, stage4 3, all blocks 4 deep.
ARCHS = {"w32": 32, "w48": 48}
# DARK in a checkpoint's meta config: MMPose 1.x codec ``unbiased=True``, 0.x test_cfg
# ``post_process='unbiased'``.
_DARK_RE = re.compile(r"unbiased\s*=\s*True|post_process\s*=\s*['\"]unbiased")


# --------------------------------------------------------------------------- blocks
class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, downsample=None):
        super().__init__()
        mid = out_channels // self.expansion
        self.conv1 = nn.Conv2d(in_channels, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def _conv_bn(cin: int, cout: int, k: int, stride: int, relu: bool) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class HRModule(nn.Module):
    """Parallel branches of BasicBlocks, then the exchange (fusion) between resolutions."""

    def __init__(self, channels: list[int], num_blocks: int, multiscale_output: bool):
        super().__init__()
        n = len(channels)
        self.num_branches = n
        self.branches = nn.ModuleList(
            nn.Sequential(*[BasicBlock(c, c) for _ in range(num_blocks)]) for c in channels)
        self.fuse_layers = None
        if n > 1:
            fuse = []
            for i in range(n if multiscale_output else 1):
                row = []
                for j in range(n):
                    if j > i:
                        row.append(nn.Sequential(
                            nn.Conv2d(channels[j], channels[i], 1, 1, 0, bias=False),
                            nn.BatchNorm2d(channels[i]),
                            nn.Upsample(scale_factor=2 ** (j - i), mode="nearest")))
                    elif j == i:
                        row.append(None)
                    else:
                        row.append(nn.Sequential(*[
                            _conv_bn(channels[j], channels[i], 3, 2, relu=False) if k == i - j - 1
                            else _conv_bn(channels[j], channels[j], 3, 2, relu=True)
                            for k in range(i - j)]))
                fuse.append(nn.ModuleList(row))
            self.fuse_layers = nn.ModuleList(fuse)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: list):
        x = [branch(xi) for branch, xi in zip(self.branches, x)]
        if self.fuse_layers is None:
            return x
        out = []
        for i, row in enumerate(self.fuse_layers):
            y = x[i]
            for j, layer in enumerate(row):
                if j != i:
                    y = y + layer(x[j])
            out.append(self.relu(y))
        return out


class HRNet(nn.Module):
    """MMPose's HRNet backbone for ``width`` 32 (W32) or 48 (W48); returns the top branch
    of stage 4 (``multiscale_output=False``) as a 1-tuple, as MMPose does."""

    def __init__(self, width: int = 32, in_channels: int = 3):
        super().__init__()
        self.width = width
        self.conv1 = nn.Conv2d(in_channels, 64, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = nn.Conv2d(64, 64, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        down = nn.Sequential(nn.Conv2d(64, 256, 1, 1, bias=False), nn.BatchNorm2d(256))
        self.layer1 = nn.Sequential(Bottleneck(64, 256, downsample=down),
                                    *[Bottleneck(256, 256) for _ in range(3)])
        ch = [width * 2 ** i for i in range(4)]
        self.transition1 = self._transition([256], ch[:2])
        self.stage2 = nn.Sequential(HRModule(ch[:2], 4, True))
        self.transition2 = self._transition(ch[:2], ch[:3])
        self.stage3 = nn.Sequential(*[HRModule(ch[:3], 4, True) for _ in range(4)])
        self.transition3 = self._transition(ch[:3], ch)
        self.stage4 = nn.Sequential(*[HRModule(ch, 4, i < 2) for i in range(3)])

    @staticmethod
    def _transition(pre: list[int], cur: list[int]) -> nn.ModuleList:
        layers = []
        for i, c in enumerate(cur):
            if i < len(pre):
                layers.append(None if c == pre[i] else _conv_bn(pre[i], c, 3, 1, relu=True))
            else:
                layers.append(nn.Sequential(*[
                    _conv_bn(pre[-1], c if j == i - len(pre) else pre[-1], 3, 2, relu=True)
                    for j in range(i + 1 - len(pre))]))
        return nn.ModuleList(layers)

    @staticmethod
    def _run(stage, transition, y: list) -> list:
        # MMPose feeds a new branch (and, never in practice, a changed one) from y[-1].
        x = [y[i] if t is None else t(y[-1]) for i, t in enumerate(transition)]
        for module in stage:
            x = module(x)
        return x

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        y = [self.layer1(x)]
        y = self._run(self.stage2, self.transition1, y)
        y = self._run(self.stage3, self.transition2, y)
        y = self._run(self.stage4, self.transition3, y)
        return tuple(y)


class HeatmapHead(nn.Module):
    """MMPose ``HeatmapHead`` with ``deconv_out_channels=None``: a 1×1 conv on the last
    feature map (``deconv_layers``/``conv_layers`` are parameter-free identities)."""

    def __init__(self, in_channels: int = 32, out_channels: int = NUM_KEYPOINTS):
        super().__init__()
        self.deconv_layers = nn.Identity()
        self.conv_layers = nn.Identity()
        self.final_layer = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, feats):
        return self.final_layer(self.conv_layers(self.deconv_layers(feats[-1])))


class TopdownHeatmapNet(nn.Module):
    """``backbone`` + ``head``: (B, 3, h, w) normalised RGB → (B, K, h/4, w/4) heatmaps."""

    def __init__(self, width: int = 32, num_keypoints: int = NUM_KEYPOINTS):
        super().__init__()
        self.backbone = HRNet(width)
        self.head = HeatmapHead(width, num_keypoints)

    def forward(self, x):
        return self.head(self.backbone(x))


def build_topdown_hrnet(arch: str = "w32", num_keypoints: int = NUM_KEYPOINTS) -> TopdownHeatmapNet:
    if arch not in ARCHS:
        raise InputError(None, f"arch must be one of {sorted(ARCHS)} or 'auto', got {arch!r}")
    return TopdownHeatmapNet(ARCHS[arch], num_keypoints)


# --------------------------------------------------------------------------- checkpoints
def _torch_load(path: Path, trust: bool):
    """The checkpoint as data: ``train.models.safe_load`` (``weights_only=True`` and the
    inert types mmengine checkpoints hold; anything else only on ``trust_checkpoint``)."""
    from train.models.safe_load import load_file

    if path.exists() and not path.is_file():
        raise InputError(path, "checkpoint is not a file")
    return load_file(path, trust_checkpoint=trust)


def _state_dict(path: Path, obj) -> dict:
    sd = obj.get("state_dict", obj) if isinstance(obj, dict) else None
    if not isinstance(sd, dict) or not sd or not all(isinstance(k, str) for k in sd):
        raise InputError(path, "no state_dict of named tensors in the checkpoint")
    out = {}
    for k, v in sd.items():
        if k.startswith("module."):  # saved from DataParallel
            k = k[len("module."):]
        if k.startswith("keypoint_head."):  # MMPose 0.x TopdownHeatmapSimpleHead
            k = "head." + k[len("keypoint_head."):]
        if not isinstance(v, torch.Tensor):
            raise InputError(path, f"state_dict[{k!r}] is a {type(v).__name__}, not a tensor")
        out[k] = v
    return out


def _arch_of(path: Path, sd: dict) -> str:
    w = sd.get("head.final_layer.weight")
    if w is None or w.ndim != 4:
        raise InputError(path, "no 'head.final_layer.weight' (or 'keypoint_head.final_layer."
                               "weight') 4-D tensor: not an MMPose top-down heatmap checkpoint")
    width = int(w.shape[1])
    for name, c in ARCHS.items():
        if c == width:
            return name
    raise InputError(path, f"heatmap head takes {width} channels: not HRNet-W32 (32) or W48 (48)")


def _meta_text(obj) -> str:
    """The config text an mmengine/mmcv checkpoint's ``meta`` may carry ('' if none)."""
    meta = obj.get("meta") if isinstance(obj, dict) else None
    if not isinstance(meta, dict):
        return ""
    return "\n".join(str(meta[k]) for k in ("cfg", "config") if k in meta)


def load_checkpoint(path, *, arch: str = "auto", trust_checkpoint: bool = False):
    """Read an MMPose top-down HRNet checkpoint → (model in eval mode, arch, meta text).

    Keys must match exactly (``num_batches_tracked`` counters may be absent); any missing,
    unexpected or wrongly shaped key raises one :class:`InputError` that lists them.
    """
    path = Path(path)
    obj = _torch_load(path, trust_checkpoint)
    sd = _state_dict(path, obj)
    found = _arch_of(path, sd)
    if arch == "auto":
        arch = found
    elif arch not in ARCHS:
        raise InputError(None, f"arch must be 'auto', 'w32' or 'w48', got {arch!r}")
    with torch.device("meta"):  # no random initialisation: every tensor comes from the file
        model = build_topdown_hrnet(arch, NUM_KEYPOINTS)
    want = model.state_dict()
    missing = [k for k in want if k not in sd and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in sd if k not in want]
    shapes = [f"{k} {tuple(sd[k].shape)} != {tuple(v.shape)}" for k, v in want.items()
              if k in sd and tuple(sd[k].shape) != tuple(v.shape)]
    if missing or unexpected or shapes:
        parts = []
        for what, keys in (("missing", missing), ("unexpected", unexpected),
                           ("wrong shape", shapes)):
            if keys:
                more = f" … (+{len(keys) - 8})" if len(keys) > 8 else ""
                parts.append(f"{len(keys)} {what}: {', '.join(keys[:8])}{more}")
        raise InputError(path, f"does not match HRNet-{arch.upper()} + 17-keypoint heatmap "
                               f"head: {'; '.join(parts)}")
    for k, v in sd.items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise InputError(path, f"state_dict[{k!r}] has non-finite values")
    for k in want:  # counters the file may lack (they do not affect inference)
        sd.setdefault(k, torch.zeros((), dtype=torch.long))
    sd = {k: (v.float() if v.is_floating_point() else v).contiguous() for k, v in sd.items()}
    model.load_state_dict(sd, strict=True, assign=True)
    return model.eval(), arch, _meta_text(obj)


# --------------------------------------------------------------------------- geometry
def bbox_xyxy2cs(bbox, padding: float = 1.25) -> tuple[np.ndarray, np.ndarray]:
    """(x1, y1, x2, y2) → centre (2,) and scale (w, h) (2,) times ``padding``."""
    bbox = np.asarray(bbox, dtype=np.float32)
    return (bbox[2:] + bbox[:2]) * 0.5, (bbox[2:] - bbox[:2]) * padding


def fix_aspect_ratio(scale, aspect_ratio: float) -> np.ndarray:
    """Widen (w, h) so that w / h = ``aspect_ratio`` (``TopdownAffine._fix_aspect_ratio``)."""
    w, h = float(scale[0]), float(scale[1])
    if w > h * aspect_ratio:
        return np.array([w, w / aspect_ratio], dtype=np.float32)
    return np.array([h * aspect_ratio, h], dtype=np.float32)


def get_warp_matrix(center, scale, output_size) -> np.ndarray:
    """MMPose's ``get_warp_matrix`` for no rotation and no shift: the 2×3 affine mapping
    the box (``center``, ``scale`` = (w, h)) onto an ``output_size`` = (w, h) image, the
    box centre onto the image centre and the box width onto the image width."""
    s = output_size[0] / float(scale[0])
    cx, cy = float(center[0]), float(center[1])
    return np.array([[s, 0.0, output_size[0] * 0.5 - s * cx],
                     [0.0, s, output_size[1] * 0.5 - s * cy]], dtype=np.float64)


# --------------------------------------------------------------------------- heatmaps
def flip_heatmaps(heatmaps: torch.Tensor, flip_indices=FLIP_INDICES,
                  shift_heatmap: bool = True) -> torch.Tensor:
    """Heatmaps of a mirrored crop → heatmaps of the crop (``flip_mode='heatmap'``)."""
    out = heatmaps.flip(-1)[:, list(flip_indices)]
    if shift_heatmap:
        out[..., 1:] = out[..., :-1].clone()
    return out


def get_heatmap_maximum(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(..., K, H, W) → locations (..., K, 2) (x, y) float32 and values (..., K); a
    non-positive maximum gives location (−1, −1)."""
    *lead, H, W = heatmaps.shape
    flat = heatmaps.reshape(-1, H * W)
    idx = flat.argmax(axis=-1)
    vals = flat[np.arange(len(flat)), idx]
    locs = np.empty((len(flat), 2), np.float32)
    np.divmod(idx, W, out=(locs[:, 1], locs[:, 0]), casting="unsafe")
    locs[vals <= 0] = -1
    return locs.reshape(*lead, 2), vals.reshape(lead)


def refine_keypoints(keypoints: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
    """MMPose's quarter-pixel shift, vectorised. ``keypoints`` (N, K, 2) integer locations
    from :func:`get_heatmap_maximum`, ``heatmaps`` (N, K, H, W) → refined (N, K, 2)."""
    N, K, H, W = heatmaps.shape
    flat = heatmaps.reshape(-1)
    x = keypoints[..., 0].astype(np.int64).ravel()
    y = keypoints[..., 1].astype(np.int64).ravel()
    i = np.arange(N * K) * (H * W) + y * W + x  # flat index of each maximum
    okx = (x > 1) & (x < W - 1) & (y > 0) & (y < H)
    oky = (y > 1) & (y < H - 1) & (x > 0) & (x < W)
    d = np.empty((N * K, 2), np.float32)
    d[:, 0] = np.where(okx, flat.take(i + 1, mode="clip") - flat.take(i - 1, mode="clip"), 0)
    d[:, 1] = np.where(oky, flat.take(i + W, mode="clip") - flat.take(i - W, mode="clip"), 0)
    return keypoints + np.sign(d).reshape(N, K, 2) * np.float32(0.25)


def _gaussian_blur(heatmaps: np.ndarray, kernel: int) -> np.ndarray:
    """MMPose's ``gaussian_blur`` (zero padding, each map's peak value preserved) on
    (..., H, W); the maps are blurred as the channels of one image (≤ 512 per call)."""
    import cv2

    *lead, H, W = heatmaps.shape
    b = (kernel - 1) // 2
    hm = heatmaps.reshape(-1, H, W).astype(np.float32)
    out = np.empty_like(hm)
    for s in range(0, len(hm), 512):
        chunk = hm[s:s + 512]
        pad = np.zeros((H + 2 * b, W + 2 * b, len(chunk)), np.float32)
        pad[b:-b, b:-b] = chunk.transpose(1, 2, 0)
        blurred = cv2.GaussianBlur(pad, (kernel, kernel), 0)
        out[s:s + 512] = blurred.reshape(H + 2 * b, W + 2 * b, -1)[b:-b, b:-b].transpose(2, 0, 1)
    peak = hm.reshape(len(hm), -1).max(axis=1) / out.reshape(len(hm), -1).max(axis=1)
    return (out * peak[:, None, None]).reshape(*lead, H, W)


def refine_keypoints_dark(keypoints: np.ndarray, heatmaps: np.ndarray,
                          blur_kernel_size: int = 11) -> np.ndarray:
    """DARK (``refine_keypoints_dark``): Newton step on the log of the blurred heatmap at
    the integer maximum, vectorised. Shapes as :func:`refine_keypoints`."""
    N, K, H, W = heatmaps.shape
    hm = np.log(np.maximum(_gaussian_blur(heatmaps, blur_kernel_size), 1e-10)).reshape(-1)
    x = keypoints[..., 0].astype(np.int64).ravel()
    y = keypoints[..., 1].astype(np.int64).ravel()
    ok = (x > 1) & (x < W - 2) & (y > 1) & (y < H - 2)
    i = np.arange(N * K) * (H * W) + np.clip(y, 2, H - 3) * W + np.clip(x, 2, W - 3)

    def at(dy, dx):
        return hm.take(i + dy * W + dx).astype(np.float64)

    c = at(0, 0)
    dx = 0.5 * (at(0, 1) - at(0, -1))
    dy = 0.5 * (at(1, 0) - at(-1, 0))
    dxx = 0.25 * (at(0, 2) - 2 * c + at(0, -2))
    dxy = 0.25 * (at(1, 1) - at(-1, 1) - at(1, -1) + at(-1, -1))
    dyy = 0.25 * (at(2, 0) - 2 * c + at(-2, 0))
    det = dxx * dyy - dxy ** 2
    ok &= det != 0
    det = np.where(ok, det, 1.0)
    off = np.zeros((N * K, 2))
    off[:, 0] = np.where(ok, -(dyy * dx - dxy * dy) / det, 0.0)  # −H⁻¹ · g
    off[:, 1] = np.where(ok, -(dxx * dy - dxy * dx) / det, 0.0)
    return (keypoints + off.reshape(N, K, 2)).astype(np.float32)


def decode_heatmaps(heatmaps: np.ndarray, centers: np.ndarray, scales: np.ndarray,
                    input_size, dark: bool = False, blur_kernel_size: int = 11) -> np.ndarray:
    """(N, K, h, w) heatmaps of crops (``centers`` (N, 2), ``scales`` (N, 2) after the
    aspect fix, ``input_size`` (w, h)) → (N, K, 3) image x, y px and score in [0, 1]."""
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    N, K, h, w = heatmaps.shape
    locs, vals = get_heatmap_maximum(heatmaps)
    if dark:
        locs = refine_keypoints_dark(locs, heatmaps, blur_kernel_size)
    else:
        locs = refine_keypoints(locs, heatmaps)
    # MSRAHeatmap.scale_factor (input / heatmap size), then add_pred_to_datasample
    # (kp / input_size · scale + center − scale / 2): together kp_hm · scale / (w, h) + …
    scales = np.asarray(scales, dtype=np.float32)
    out = np.empty((N, K, 3), np.float32)
    out[..., :2] = locs * (scales / np.float32([w, h]))[:, None] \
        + (np.asarray(centers, dtype=np.float32) - 0.5 * scales)[:, None]
    np.clip(vals, 0.0, 1.0, out=out[..., 2])
    return out


# --------------------------------------------------------------------------- detector
class HRNetDetector:
    """Per-frame COCO-17 keypoints of one person from an MMPose HRNet checkpoint.

    ``box`` chooses where the person box comes from first: ``"mediapipe"`` (the extent of
    MediaPipe Pose's 33 landmarks, ``model_complexity=1``, expanded by ``box_expand``),
    ``"previous"`` (the extent of the previous frame's keypoints with score ≥
    ``prev_min_score``, expanded likewise; MediaPipe when there is none) or ``"image"``
    (the whole frame). The whole frame is always the last resort. ``decoding``: ``"msra"``
    (MMPose's default), ``"dark"`` (``unbiased=True`` configs) or ``"auto"`` (DARK when the
    checkpoint's meta config says ``unbiased=True``). A person whose mean keypoint score is
    below ``min_person_score`` is not reported (P = 0).
    """

    name = "hrnet"
    layout = "coco"

    def __init__(self, checkpoint, arch: str = "auto", input_size=(192, 256),
                 flip_test: bool = True, box: str = "mediapipe",
                 trust_checkpoint: bool = False, decoding: str = "auto",
                 box_expand: float = 1.15, prev_min_score: float = 0.3,
                 min_person_score: float = 0.0, shift_heatmap: bool = True,
                 threads: int | None = None):
        if box not in ("mediapipe", "previous", "image"):
            raise InputError(None, f"detector.box must be mediapipe, previous or image, "
                                   f"got {box!r}")
        if decoding not in ("auto", "msra", "dark"):
            raise InputError(None, f"detector.decoding must be auto, msra or dark, "
                                   f"got {decoding!r}")
        try:
            w, h = (int(v) for v in input_size)
        except (TypeError, ValueError):
            raise InputError(None, f"detector.input_size must be (w, h), "
                                   f"got {input_size!r}") from None
        if w <= 0 or h <= 0 or w % 32 or h % 32:
            raise InputError(None, f"detector.input_size must be positive multiples of 32, "
                                   f"got {input_size!r}")
        if checkpoint is None or str(checkpoint) in ("", "???"):
            raise InputError(None, "detector=hrnet needs detector.checkpoint=<MMPose HRNet .pth>")
        if threads:
            torch.set_num_threads(int(threads))
        self.model, self.arch, meta = load_checkpoint(checkpoint, arch=arch,
                                                      trust_checkpoint=trust_checkpoint)
        self.checkpoint = os.fspath(checkpoint)
        self.dark = decoding == "dark" or (decoding == "auto" and
                                           _DARK_RE.search(meta) is not None)
        self.input_size = (w, h)
        self.flip_test = bool(flip_test)
        self.shift_heatmap = bool(shift_heatmap)
        self.box = box
        self.box_expand = float(box_expand)
        self.prev_min_score = float(prev_min_score)
        self.min_person_score = float(min_person_score)
        self._mean = torch.tensor(MEAN_RGB, dtype=torch.float32).view(1, 3, 1, 1)
        self._std = torch.tensor(STD_RGB, dtype=torch.float32).view(1, 3, 1, 1)
        self._pose = None
        self.last_box = None  # (x1, y1, x2, y2) used on the last frame, and its source
        self.last_box_source = None

    # -- person box ---------------------------------------------------------------------
    def _mediapipe_box(self, frame_rgb):
        if self._pose is None:
            import mediapipe as mp

            self._pose = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1)
        res = self._pose.process(frame_rgb)
        if res.pose_landmarks is None:
            return None
        H, W = frame_rgb.shape[:2]
        xy = np.array([(p.x * W, p.y * H) for p in res.pose_landmarks.landmark])
        return _extent_box(xy, self.box_expand, W, H)

    def _previous_box(self, prev, W, H):
        if prev is None:
            return None
        prev = np.asarray(prev, dtype=np.float32)
        if prev.shape != (NUM_KEYPOINTS, 3):
            raise ValueError(f"prev must be COCO-17 (17, 3), got {prev.shape}")
        ok = (prev[:, 2] >= self.prev_min_score) & np.isfinite(prev[:, :2]).all(axis=1)
        if ok.sum() < 4:
            return None
        return _extent_box(prev[ok, :2], self.box_expand, W, H)

    def person_box(self, frame_rgb, prev=None):
        """(x1, y1, x2, y2) and its source, following ``box``'s order of preference."""
        H, W = frame_rgb.shape[:2]
        order = {"mediapipe": ("mediapipe", "previous"), "previous": ("previous", "mediapipe"),
                 "image": ()}[self.box]
        for source in order:
            b = (self._mediapipe_box(frame_rgb) if source == "mediapipe"
                 else self._previous_box(prev, W, H))
            if b is not None:
                return b, source
        return np.array([0, 0, W, H], dtype=np.float32), "image"

    # -- network ------------------------------------------------------------------------
    def crop(self, frame_rgb, bbox):
        """Warp the padded box to the input size → (crop uint8 (h, w, 3), center, scale)."""
        import cv2

        w, h = self.input_size
        center, scale = bbox_xyxy2cs(bbox, 1.25)
        scale = fix_aspect_ratio(scale, w / h)
        mat = get_warp_matrix(center, scale, (w, h))
        crop = cv2.warpAffine(frame_rgb, mat, (w, h), flags=cv2.INTER_LINEAR)
        return crop, center, scale

    @torch.inference_mode()
    def heatmaps(self, crops: np.ndarray) -> np.ndarray:
        """(N, h, w, 3) uint8 RGB crops → (N, 17, h/4, w/4) heatmaps (flip test applied)."""
        x = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float()
        x = (x - self._mean) / self._std
        if not self.flip_test:
            return self.model(x).numpy()
        n = x.shape[0]
        out = self.model(torch.cat([x, x.flip(-1)]))
        return ((out[:n] + flip_heatmaps(out[n:], shift_heatmap=self.shift_heatmap)) * 0.5).numpy()

    def detect(self, frame_rgb, prev=None) -> np.ndarray:
        """(H, W, 3) uint8 RGB → (P, 17, 3) float32 COCO-17 x, y px and score (P ≤ 1)."""
        frame_rgb = np.asarray(frame_rgb)
        if frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3 or frame_rgb.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 RGB frame, got {frame_rgb.shape} "
                             f"{frame_rgb.dtype}")
        bbox, self.last_box_source = self.person_box(frame_rgb, prev)
        self.last_box = bbox
        crop, center, scale = self.crop(frame_rgb, bbox)
        hm = self.heatmaps(crop[None])
        kp = decode_heatmaps(hm, center[None], scale[None], self.input_size, dark=self.dark)
        if kp[0, :, 2].mean() < self.min_person_score:
            return np.zeros((0, NUM_KEYPOINTS, 3), np.float32)
        return kp

    def close(self):
        if self._pose is not None:
            self._pose.close()
            self._pose = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _extent_box(xy: np.ndarray, expand: float, W: int, H: int):
    """The points' bounding box grown by ``expand`` about its centre, clipped to the
    frame; ``None`` when it is degenerate."""
    lo, hi = np.nanmin(xy, axis=0), np.nanmax(xy, axis=0)
    c, half = (lo + hi) / 2, (hi - lo) / 2 * expand
    lo = np.maximum(c - half, 0)
    hi = np.minimum(c + half, [W, H])
    if not np.all(hi - lo > 2):
        return None
    return np.concatenate([lo, hi]).astype(np.float32)
