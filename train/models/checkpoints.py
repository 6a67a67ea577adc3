"""Loading lifter weights from MMPose, official MotionBERT and official VideoPose3D files.

One explicit key map per (model, format). A map is a list of rules
``(our-name pattern, their-name template)`` that rename every key of our state dict;
:func:`key_map` expands it to ``{our key: their key}`` for a built model, and the same
map read backwards writes a state dict in the original layout (:func:`export_checkpoint`).

Formats (where the names were read from):

``mmpose``
    mmengine checkpoint ``{'meta', 'state_dict', ...}``, keys prefixed ``backbone.`` /
    ``head.`` (``keypoint_head.`` in MMPose 0.x model-zoo files; MMPose 1.x renames it on
    load, and so do we). TCN (mmpose/models/backbones/tcn.py): ``expand_conv`` and each
    ``tcn_blocks.i.conv{1,2}.0`` are mmcv ``ConvModule``s → ``.conv.weight`` +
    ``.bn.{weight,bias,running_mean,running_var,num_batches_tracked}``;
    TemporalRegressionHead: ``head.conv``. DSTFormer (mmpose/models/backbones/dstformer.py):
    ``spat_embed`` (official ``pos_embed``), ``attn_regress.i`` (``ts_attn.i``),
    ``mlp_s.0`` / ``mlp_s.2`` (``mlp_s.fc1`` / ``fc2``); MotionRegressionHead
    (motion_regression_head.py): ``head.pre_logits.fc``, ``head.fc`` (official ``head``).
    Keys of parts we do not model (``data_preprocessor.*``, the semi-supervised
    ``traj_backbone.*`` / ``traj_head.*``) are skipped and reported.
``motionbert``
    official MotionBERT (lib/model/DSTformer.py; train.py saves ``{'model_pos': ...,
    'epoch', 'lr', 'optimizer', 'min_loss'}``) from an ``nn.DataParallel`` model, so every
    key starts with ``module.``. Our DSTFormer uses the official names.
``videopose3d``
    official VideoPose3D (common/model.py; run.py saves ``{'epoch', 'lr',
    'random_state', 'optimizer', 'model_pos', 'model_traj'}``) with ``TemporalModel``
    names. Our TCN uses them.
``native``
    what :func:`save_checkpoint` writes: ``{'hpd3d_model', 'config', 'state_dict'}``,
    or a bare ``model.state_dict()``.

``num_batches_tracked`` counters may be absent (older PyTorch wrote none; they do not
affect inference). Any other missing, unexpected or wrongly-shaped key raises an
:class:`~hpd3d.errors.InputError` naming the file and listing them all.

Files are read as data (:mod:`train.models.safe_load`): ``torch.load(weights_only=True)``
with the few inert non-tensor globals these formats hold allowed (numpy arrays/scalars,
mmengine's message hub). A file that needs anything else is refused unless the caller
passes ``trust_checkpoint=True``.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from hpd3d.atomic import atomic_path
from hpd3d.errors import InputError

from . import Lifter, build_model
from .motionbert import DSTFormer
from .safe_load import load_file
from .videopose3d import TemporalConvNet

FORMATS = ("native", "mmpose", "motionbert", "videopose3d")
_BN = r"(weight|bias|running_mean|running_var|num_batches_tracked)"

# -- the key maps: (our-name regex, their-name template) ------------------------------
# TCN (VideoPose3D and SimpleBaseline3D) ↔ MMPose TCN + TemporalRegressionHead.
# Our layers_conv/layers_bn hold two entries per block: 2i = dilated conv, 2i+1 = 1×1.
_TCN_MMPOSE = [
    (r"expand_conv\.weight", "backbone.expand_conv.conv.weight"),
    (rf"expand_bn\.{_BN}", r"backbone.expand_conv.bn.\1"),
    (r"layers_conv\.(\d+)\.weight", lambda m: _tcn_block(m, "conv.weight")),
    (rf"layers_bn\.(\d+)\.{_BN}", lambda m: _tcn_block(m, "bn." + m.group(2))),
    (r"shrink\.(weight|bias)", r"head.conv.\1"),
]
_TCN_VIDEOPOSE3D = [  # official TemporalModel names are ours
    (r"(expand_conv\.weight|expand_bn\..+|layers_conv\.\d+\.weight|layers_bn\..+|shrink\..+)", r"\1"),
]
# DSTFormer ↔ MMPose DSTFormer + MotionRegressionHead.
_DST_MMPOSE = [
    (r"joints_embed\.(weight|bias)", r"backbone.joints_embed.\1"),
    (r"pos_embed", "backbone.spat_embed"),
    (r"temp_embed", "backbone.temp_embed"),
    (r"(blocks_(?:st|ts)\.\d+\.norm[12]_[st])\.(weight|bias)", r"backbone.\1.\2"),
    (r"(blocks_(?:st|ts)\.\d+\.attn_[st]\.(?:qkv|proj))\.(weight|bias)", r"backbone.\1.\2"),
    (r"(blocks_(?:st|ts)\.\d+\.mlp_[st])\.fc1\.(weight|bias)", r"backbone.\1.0.\2"),
    (r"(blocks_(?:st|ts)\.\d+\.mlp_[st])\.fc2\.(weight|bias)", r"backbone.\1.2.\2"),
    (r"norm\.(weight|bias)", r"backbone.norm.\1"),
    (r"ts_attn\.(\d+)\.(weight|bias)", r"backbone.attn_regress.\1.\2"),
    (r"pre_logits\.fc\.(weight|bias)", r"head.pre_logits.fc.\1"),
    (r"head\.(weight|bias)", r"head.fc.\1"),
]
_DST_MOTIONBERT = [  # official names are ours (the file adds DataParallel's "module.")
    (r"(.+)", r"\1"),
]
_NATIVE = [(r"(.+)", r"\1")]

_MAPS = {
    (TemporalConvNet, "mmpose"): _TCN_MMPOSE,
    (TemporalConvNet, "videopose3d"): _TCN_VIDEOPOSE3D,
    (DSTFormer, "mmpose"): _DST_MMPOSE,
    (DSTFormer, "motionbert"): _DST_MOTIONBERT,
}
# File-level prefixes that are wrappers, not names: the exporter adds them.
_WRAPPER_PREFIX = {"motionbert": "module.", "videopose3d": "", "mmpose": "", "native": ""}
_MMPOSE_SKIPPED = ("data_preprocessor.", "traj_backbone.", "traj_head.")


def _tcn_block(m: re.Match, tail: str) -> str:
    i = int(m.group(1))
    return f"backbone.tcn_blocks.{i // 2}.conv{1 + i % 2}.0.{tail}"


def _rules(model: Lifter, fmt: str):
    if fmt == "native":
        return _NATIVE
    for (cls, f), rules in _MAPS.items():
        if f == fmt and isinstance(model, cls):
            return rules
    raise ValueError(f"format {fmt!r} has no key map for model {model.name!r}")


def key_map(model: Lifter, fmt: str) -> dict[str, str]:
    """``{our state-dict key: the key in a ``fmt`` file}`` for every key of ``model``."""
    out = {}
    for ours in model.state_dict():
        for pattern, template in _rules(model, fmt):
            m = re.fullmatch(pattern, ours)
            if m:
                out[ours] = template(m) if callable(template) else m.expand(template)
                break
        else:  # a model change the map does not know about: a bug here, not bad input
            raise RuntimeError(f"no {fmt} key rule for {model.name} parameter {ours!r}")
    return out


# -- reading files -------------------------------------------------------------------
def _torch_load(path: Path, trust_checkpoint: bool):
    return load_file(path, trust_checkpoint=trust_checkpoint)


def _is_state_dict(d) -> bool:
    return isinstance(d, Mapping) and len(d) > 0 and all(isinstance(k, str) for k in d)


def _strip(sd: Mapping, prefix: str) -> dict:
    if prefix and sd and all(k.startswith(prefix) for k in sd):
        return {k[len(prefix) :]: v for k, v in sd.items()}
    return dict(sd)


def detect_format(obj) -> str:
    """The format of a loaded checkpoint object (see the module docstring)."""
    if not isinstance(obj, Mapping):
        raise ValueError(f"a checkpoint is a dict, got {type(obj).__name__}")
    if "hpd3d_model" in obj:
        return "native"
    if "model_pos" in obj and _is_state_dict(obj["model_pos"]):
        sd = _strip(obj["model_pos"], "module.")
        if "pos_embed" in sd or any(k.startswith("blocks_st.") for k in sd):
            return "motionbert"
        if "expand_conv.weight" in sd and any(k.startswith("shrink.") for k in sd):
            return "videopose3d"
        raise ValueError("has 'model_pos' but neither MotionBERT nor VideoPose3D keys in it")
    sd = obj.get("state_dict", obj)
    if _is_state_dict(sd):
        if any(k.startswith("backbone.") for k in sd):
            return "mmpose"
        if all(isinstance(v, torch.Tensor) for v in sd.values()):
            return "native"
    raise ValueError(
        f"unknown checkpoint layout (top-level keys: {', '.join(map(str, list(obj)[:10]))})"
    )


def _state_dict_of(obj: Mapping, fmt: str) -> tuple[dict, list[str]]:
    """The file's state dict, less wrapper prefixes, and the keys deliberately skipped."""
    if fmt in ("motionbert", "videopose3d"):
        if "model_pos" not in obj:
            raise ValueError(f"a {fmt} checkpoint has a 'model_pos' entry; this one has none")
        sd = obj["model_pos"]
    else:
        sd = obj["state_dict"] if _is_state_dict(obj.get("state_dict")) else obj
    if not _is_state_dict(sd):
        raise ValueError(f"no state dict found for format {fmt!r}")
    sd = _strip(sd, "module.")
    skipped = []
    if fmt == "mmpose":
        renamed = {}
        for k, v in sd.items():
            if k.startswith(_MMPOSE_SKIPPED):
                skipped.append(k)
                continue
            renamed["head." + k[len("keypoint_head.") :] if k.startswith("keypoint_head.") else k] = v
        sd = renamed
    return sd, skipped


@dataclass
class LoadReport:
    format: str
    source: str | None
    loaded: int
    skipped: list[str] = field(default_factory=list)  # file keys deliberately not loaded
    absent_optional: list[str] = field(default_factory=list)  # our num_batches_tracked


def _fmt_keys(title: str, items: list[str], limit: int = 40) -> str:
    more = f"\n    … and {len(items) - limit} more" if len(items) > limit else ""
    return f"  {title} ({len(items)}):\n    " + "\n    ".join(items[:limit]) + more


def load_checkpoint(model: Lifter, path_or_dict, format: str = "auto", *,
                    trust_checkpoint: bool = False) -> LoadReport:
    """Load weights into ``model`` from a file path or an already-loaded checkpoint dict.

    ``format``: ``'auto'`` (detect), ``'native'``, ``'mmpose'``, ``'motionbert'`` or
    ``'videopose3d'``. Raises :class:`InputError` (naming the file) when the file cannot be
    read, its format is unknown or does not fit the model, or any key is missing,
    unexpected or of the wrong shape — all of them listed. Nothing is loaded then.
    A file that needs full unpickling is refused unless ``trust_checkpoint``.
    """
    if isinstance(path_or_dict, (str, os.PathLike)):
        source = Path(path_or_dict)
        obj = _torch_load(source, trust_checkpoint)
    elif isinstance(path_or_dict, Mapping):
        source, obj = None, path_or_dict
    else:
        raise TypeError(f"expected a path or a dict, got {type(path_or_dict).__name__}")

    try:
        fmt = detect_format(obj) if format == "auto" else format
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
        if fmt == "native" and "hpd3d_model" in obj and obj["hpd3d_model"] != model.name:
            raise ValueError(f"holds a {obj['hpd3d_model']!r} model, not {model.name!r}")
        sd, skipped = _state_dict_of(obj, fmt)
        kmap = key_map(model, fmt)
    except ValueError as e:
        raise InputError(source, str(e)) from None

    expected = model.state_dict()
    new_sd, missing, wrong, absent_optional = {}, [], [], []
    for ours, theirs in kmap.items():
        if theirs not in sd:
            if ours.endswith("num_batches_tracked"):
                absent_optional.append(ours)
            else:
                missing.append(f"{theirs} {tuple(expected[ours].shape)}")
            continue
        v = sd[theirs]
        if not isinstance(v, torch.Tensor):
            wrong.append(f"{theirs}: expected a tensor, got {type(v).__name__}")
        elif v.shape != expected[ours].shape:
            wrong.append(f"{theirs}: expected {tuple(expected[ours].shape)}, got {tuple(v.shape)}")
        else:
            new_sd[ours] = v
    used = set(kmap.values())
    unexpected = [
        f"{k} {tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__}"
        for k, v in sd.items()
        if k not in used
    ]
    if missing or unexpected or wrong:
        parts = [f"{fmt} checkpoint does not fit model {model.name} {model.config}:"]
        if missing:
            parts.append(_fmt_keys("missing keys", missing))
        if unexpected:
            parts.append(_fmt_keys("unexpected keys", unexpected))
        if wrong:
            parts.append(_fmt_keys("wrong shapes", wrong))
        raise InputError(source, "\n".join(parts))

    result = model.load_state_dict(new_sd, strict=False)
    # BatchNorm fills in an absent num_batches_tracked itself; nothing else may be left out
    assert not result.unexpected_keys and set(result.missing_keys) <= set(absent_optional)
    return LoadReport(fmt, None if source is None else str(source), len(new_sd), skipped, absent_optional)


# -- writing -------------------------------------------------------------------------
def export_checkpoint(model: Lifter, format: str) -> dict:
    """``model``'s weights as a checkpoint object in ``format``'s own layout and names.

    ``mmpose`` → ``{'meta': {...}, 'state_dict': {backbone.…, head.…}}``; ``motionbert`` →
    ``{'model_pos': {module.…}}``; ``videopose3d`` → ``{'model_pos': {...}}``; ``native``
    → what :func:`save_checkpoint` writes.
    """
    if format == "native":
        return {"hpd3d_model": model.name, "config": dict(model.config), "state_dict": model.state_dict()}
    sd = model.state_dict()
    prefix = _WRAPPER_PREFIX[format]
    theirs = {prefix + t: sd[o].detach().clone() for o, t in key_map(model, format).items()}
    if format == "mmpose":
        return {"meta": {"hpd3d_model": model.name}, "state_dict": theirs}
    return {"model_pos": theirs}


def save_checkpoint(model: Lifter, path, **extra) -> None:
    """Write ``{'hpd3d_model', 'config', 'state_dict', **extra}`` atomically.

    ``extra`` should hold plain data (numbers, strings, lists, tensors) — e.g. the 2D
    normalisation used — so the file loads with ``weights_only=True``.
    """
    obj = export_checkpoint(model, "native")
    obj.update(extra)
    buf = io.BytesIO()
    torch.save(obj, buf)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue())


# -- building a model that fits a checkpoint -----------------------------------------
def infer_model_config(obj, format: str = "auto") -> tuple[str, dict]:
    """``(name, cfg)`` for :func:`build_model` read from a checkpoint's shapes.

    ``num_heads`` is not recorded in the weights; 8 (every released model) is assumed.
    MMPose's DSTFormer uses LayerNorm eps 1e-5 (the original 1e-6), so its config says so.
    """
    fmt = detect_format(obj) if format == "auto" else format
    if fmt == "native" and "hpd3d_model" in obj:
        return obj["hpd3d_model"], dict(obj["config"])
    sd, _ = _state_dict_of(obj, fmt)
    extra = {}
    if fmt == "mmpose":  # to official names
        if "backbone.spat_embed" in sd:
            fmt, sd, extra = "motionbert", _mmpose_dst_to_official(sd), {"norm_eps": 1e-5}
        else:
            fmt, sd = "videopose3d", _mmpose_tcn_to_official(sd)
    if "pos_embed" in sd:
        _, nj, dim = sd["pos_embed"].shape
        depth = len({k.split(".")[1] for k in sd if k.startswith("blocks_st.")})
        hidden = sd["blocks_st.0.mlp_s.fc1.weight"].shape[0]
        return "motionbert", dict(
            in_channels=sd["joints_embed.weight"].shape[1], out_channels=sd["head.weight"].shape[0],
            dim_feat=dim, dim_rep=sd["pre_logits.fc.weight"].shape[0], depth=depth,
            mlp_ratio=hidden / dim if hidden % dim else hidden // dim, num_joints=nj,
            maxlen=sd["temp_embed"].shape[1], att_fuse="ts_attn.0.weight" in sd, **extra,
        )  # fmt: skip
    if "expand_conv.weight" in sd:
        ch, jc, k0 = sd["expand_conv.weight"].shape
        ks = [k0] + [sd[f"layers_conv.{2 * i}.weight"].shape[2] for i in range(_count(sd, "layers_conv.") // 2)]
        jout = sd["shrink.weight"].shape[0] // 3
        cin = 2 if jc % 2 == 0 and jc // 2 in (jout, jout + 1) else 3
        nj = jc // cin
        if all(k == 1 for k in ks) and jout == nj - 1:
            return "simplebaseline", dict(num_joints=nj, in_channels=cin, channels=ch, num_blocks=len(ks) - 1)
        return "videopose3d", dict(
            kernel_sizes=tuple(ks), num_joints=nj, in_channels=cin, num_joints_out=jout, channels=ch
        )
    raise ValueError("cannot tell the architecture from the checkpoint's keys")


def _count(sd, prefix):
    return len({k[len(prefix) :].split(".")[0] for k in sd if k.startswith(prefix)})


def _invert(rules_model: Lifter, fmt: str, sd: Mapping) -> dict:
    inv = {t: o for o, t in key_map(rules_model, fmt).items()}
    return {inv.get(k, k): v for k, v in sd.items()}


def _mmpose_tcn_to_official(sd):
    n = _count(sd, "backbone.tcn_blocks.")
    ks = [sd["backbone.expand_conv.conv.weight"].shape[2]] + [
        sd[f"backbone.tcn_blocks.{i}.conv1.0.conv.weight"].shape[2] for i in range(n)
    ]
    probe = TemporalConvNet(kernel_sizes=ks, channels=1)
    return _invert(probe, "mmpose", sd)


def _mmpose_dst_to_official(sd):
    depth = _count(sd, "backbone.blocks_st.")
    probe = DSTFormer(dim_feat=8, num_heads=1, depth=depth, mlp_ratio=1, dim_rep=1, maxlen=1)
    return _invert(probe, "mmpose", sd)


def load_model(path_or_dict, format: str = "auto", *, trust_checkpoint: bool = False,
               **overrides) -> Lifter:
    """Build the model a checkpoint describes and load it; ``overrides`` go to the constructor."""
    source = path_or_dict if isinstance(path_or_dict, (str, os.PathLike)) else None
    obj = _torch_load(Path(source), trust_checkpoint) if source is not None else path_or_dict
    return model_from_object(obj, source, format, **overrides)


def model_from_object(obj, source=None, format: str = "auto", **overrides) -> Lifter:
    """:func:`load_model` for an already-read checkpoint object (``source`` names it in errors)."""
    try:
        name, cfg = infer_model_config(obj, format)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise InputError(source, f"cannot tell which model it holds ({e})") from None
    cfg.update(overrides)
    try:
        model = build_model(name, **cfg)
    except (ValueError, TypeError) as e:
        raise InputError(source, f"its model config does not build ({e})") from None
    try:
        load_checkpoint(model, obj, format)
    except InputError as e:
        raise InputError(source, e.problem) from None
    return model.eval()
