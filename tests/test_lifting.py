"""Sequence lifting (``train.models.lift_sequence``) and checkpoint reading (``load_lifter``):
frame alignment against independent single-window passes, MotionBERT's cross-faded clips
leave no seam where back-to-back clips do, any length works, flip averaging and (V, T)
batching equal their plain definitions, and the shipped lifter's file is read as stored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from hpd3d.normalization import Normalization, normalize_screen
from hpd3d.skeleton import H36M, flip
from train.models import (LoadedLifter, Window, build_model, lift_sequence, load_lifter,
                          save_checkpoint)
from train.models.checkpoints import export_checkpoint

REPO = Path(__file__).resolve().parents[1]


def _randomise(model, seed):
    """Well-scaled random weights and BN statistics (a fresh BN is the identity)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            elif name.endswith("running_mean"):
                t.copy_(torch.randn(t.shape, generator=g) * 0.1)
    return model.eval()


def _x(v, t, c=3, seed=0):
    return np.random.default_rng(seed).normal(0, 0.4, (v, t, 17, c)).astype(np.float32)


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return {
        "sb": _randomise(build_model("simplebaseline", channels=32), 1),
        "tcn": _randomise(build_model("videopose3d", receptive_field=27, channels=32), 2),
        "causal": _randomise(build_model("videopose3d", receptive_field=27, causal=True, channels=32), 3),
        "mb": build_model("motionbert", dim_feat=16, dim_rep=16, depth=1, num_heads=2, maxlen=27).eval(),
    }


def test_each_model_describes_its_window(models):
    assert models["sb"].window() == Window(1, 0, False, False)
    assert models["tcn"].window() == Window(27, 13, False, True)
    assert models["causal"].window() == Window(27, 26, False, True, causal=True)
    assert models["causal"].window().future == 0 and models["tcn"].window().future == 13
    assert models["mb"].window() == Window(27, 0, True, False)
    assert models["mb"].window(9).length == 9
    with pytest.raises(ValueError, match="maxlen"):
        models["mb"].window(28)
    from train.data import window_for  # training's name for it still works

    assert window_for(models["mb"], 9) == models["mb"].window(9)


@pytest.mark.parametrize("name", ["tcn", "causal"])
def test_videopose3d_frames_align_with_single_windows(models, name):
    """Output frame i == the strided one-frame pass over the edge-clamped window whose
    anchor is frame i (centred, or ending at i when causal)."""
    m = models[name]
    w = m.window()
    x = _x(2, 40, c=2)
    y = lift_sequence(m, x, batch=14)  # spans of 7 output frames per view: chunking too
    for i in range(40):
        idx = np.clip(i - w.anchor + np.arange(w.length), 0, 39)
        with torch.no_grad():
            ref = m(torch.from_numpy(x[:, idx]), single_frame=True)[:, 0].numpy()
        ref[:, 0] = 0
        np.testing.assert_allclose(y[:, i], ref, atol=2e-5)


def _smooth_embed(mb, seed):
    """A smooth random temporal embedding: a trained MotionBERT's varies smoothly with the
    frame's position in the clip; the white-noise one of a fresh model would make every
    frame a seam."""
    g = torch.Generator().manual_seed(seed)
    n, c = mb.maxlen, mb.temp_embed.shape[-1]
    pos = torch.arange(n, dtype=torch.float32)[:, None, None] / n
    k = torch.arange(1, 4, dtype=torch.float32)[None, :, None]
    e = (torch.randn(1, 3, c, generator=g) * torch.sin(torch.pi * k * pos + 6.3 * torch.rand(1, 3, c, generator=g))).sum(1)
    with torch.no_grad():
        mb.temp_embed.copy_((e / e.std() * 0.02).reshape(1, n, 1, c))


def _circling(t, seed, period=60.0):
    """Smooth 2D input: every joint on its own circle, at constant speed."""
    rng = np.random.default_rng(seed)
    base, r = rng.normal(0, 0.3, (17, 2)), rng.uniform(0.05, 0.15, (17, 1))
    a = 2 * np.pi * np.arange(t)[:, None, None] / period + rng.uniform(0, 6.3, (17, 1))
    xy = base + r * np.concatenate([np.cos(a), np.sin(a)], -1)
    return np.concatenate([xy, np.ones((t, 17, 1))], -1).astype(np.float32)


def _seam_ratio(y, boundaries, axis=None):
    """Largest per-joint jump across a clip boundary / the 99th percentile of the other
    (within-clip) frame-to-frame motion; ``axis=2``: depth only."""
    dd = np.diff(y, axis=0)[:, 1:]  # pair t = frames (t, t+1); the root is 0
    d = np.linalg.norm(dd, axis=-1) if axis is None else np.abs(dd[..., axis])
    b = np.zeros(len(d), bool)
    b[list(boundaries)] = True
    return d[b].max() / np.percentile(d[~b], 99)


def _seam_ratios(seed: int) -> tuple[float, float, float, float]:
    """(3D, depth) seam ratios of lift_sequence's cross-faded clips and of MotionBERT's own
    back-to-back clips, for one random tiny model (conf/model/motionbert_tiny.yaml: clip 27,
    stride 21) on a smooth circling motion of 120 frames."""
    cfg = yaml.safe_load((REPO / "conf/model/motionbert_tiny.yaml").read_text())
    torch.manual_seed(seed)
    mb = build_model("motionbert", **cfg["config"]).eval()
    _smooth_embed(mb, seed)
    L, T = int(cfg["clip_len"]), 120
    x = _circling(T, seed)
    y = lift_sequence(mb, x, window=mb.window(L))
    starts = mb.clip_starts(T, L, L - L // 4)
    assert starts == [0, 21, 42, 63, 84, 93]  # T − L = 93: not a multiple of the stride
    edges = {s - 1 for s in starts if s > 0} | {s + L - 1 for s in starts if s + L < T}
    # MotionBERT's own inference: back-to-back clips, the last one edge-padded
    n = -(-T // L)
    idx = np.minimum(np.arange(n * L), T - 1)
    with torch.no_grad():
        old = mb.lift(torch.from_numpy(x[idx].reshape(n, L, 17, 3))).reshape(n * L, 17, 3)[:T].numpy()
    seams = [k * L - 1 for k in range(1, n)]
    return (_seam_ratio(y, edges), _seam_ratio(y, edges, axis=2),
            _seam_ratio(old, seams), _seam_ratio(old, seams, axis=2))


def test_motionbert_overlapping_clips_leave_no_seam():
    """Largest per-joint jump at a clip boundary ÷ the 99th percentile of the other
    frame-to-frame motion, over twelve random models (no seed picked). The issue's bound is
    ≤ 1; for random weights it is strict (frames picked at random instead of clip edges
    exceed it in ~60 % of draws), so: ≤ 1 for the median model, ≤ 1.3 for every model, and
    always below MotionBERT's back-to-back clips, which exceed 1.5 on every model.
    (A trained-like smooth model: tests/test_infer.py's seam test, ≤ 1.)"""
    r = np.array([_seam_ratios(seed) for seed in range(12)])  # (seeds, 4)
    blended, old = r[:, :2], r[:, 2:]
    assert np.median(blended, axis=0).max() <= 1.0, r
    assert blended.max() <= 1.3, r
    assert (old > 1.5).all(), r
    assert (blended < old).all(), r


@pytest.mark.parametrize("T", [1, 2, 13, 27, 28, 50, 61])
def test_any_length(models, T):
    x = _x(1, T)[0]
    for name, m in models.items():
        y = lift_sequence(m, x)
        assert y.shape == (T, 17, 3) and y.dtype == np.float32 and np.isfinite(y).all(), name
        assert np.all(y[:, 0] == 0), name
    mb = models["mb"]
    if T < 27:  # shorter than a clip: one clip, edge-padded as training windows are
        pad = x[np.minimum(np.arange(27), T - 1)]
        with torch.no_grad():
            want = mb.lift(torch.from_numpy(pad)[None])[0, :T].numpy()
        np.testing.assert_allclose(lift_sequence(mb, x), want, atol=1e-5)
    if T == 1:  # the TCN sees the one frame repeated over its receptive field
        with torch.no_grad():
            want = models["tcn"].lift(torch.from_numpy(np.repeat(x[None], 27, axis=1)))[0, 13:14]
        np.testing.assert_allclose(lift_sequence(models["tcn"], x), want.numpy(), atol=1e-5)


def test_flip_average_is_the_mean_of_two_passes(models):
    x = _x(2, 45)
    perm = H36M.flip_permutation
    mirrored = x[..., perm, :] * np.array([-1.0, 1.0, 1.0], np.float32)
    for name, m in models.items():
        a = lift_sequence(m, x)
        b = flip(lift_sequence(m, mirrored), axis=0)  # un-mirror the mirrored input's pose
        got = lift_sequence(m, x, flip=True)
        np.testing.assert_allclose(got, (a + b) / 2, atol=1e-6, err_msg=name)
        assert np.abs(a - b).max() > 1e-3  # the two passes really differ


def test_views_batched_equal_per_view_calls(models):
    x = _x(3, 33)
    for name, m in models.items():
        y = lift_sequence(m, x, batch=20)
        for v in range(3):
            np.testing.assert_allclose(y[v], lift_sequence(m, x[v]), atol=1e-5, err_msg=name)


def test_bad_shapes_are_refused(models):
    with pytest.raises(ValueError, match="expected"):
        lift_sequence(models["sb"], np.zeros((5, 16, 2)))
    with pytest.raises(ValueError, match="T >= 1"):
        lift_sequence(models["sb"], np.zeros((0, 17, 2)))
    x = _x(1, 30)[0]
    x[4, 2, 0] = np.nan  # one missing keypoint would poison MotionBERT's whole clip
    with pytest.raises(ValueError, match="NaN"):
        lift_sequence(models["mb"], x)


def test_load_lifter_reads_the_shipped_file_as_stored():
    path = REPO / "data" / "lifter_default.pt"
    ck = torch.load(path, weights_only=True)
    lf = load_lifter(path)
    assert isinstance(lf, LoadedLifter) and lf.format == "native" and lf.path == path
    assert lf.normalization == Normalization.from_dict(ck["normalization"])
    assert lf.window == Window.from_dict(ck["window"]) and lf.window.length == 1
    assert lf.name == ck["hpd3d_model"] == "simplebaseline" and not lf.model.training
    assert lf.meta == ck["meta"]
    uv = np.random.default_rng(0).uniform(0, 640, (10, 17, 2))
    np.testing.assert_allclose(lf.normalize(uv, 640, 480), normalize_screen(uv, 640, 480), atol=1e-6)
    x = lf.normalize(uv, 640, 480)
    with torch.no_grad():
        want = lf.model(torch.from_numpy(x)[:, None])[:, 0].numpy()
    np.testing.assert_allclose(lift_sequence(lf, x), want, atol=1e-6)


def test_load_lifter_foreign_formats_and_stored_scale(tmp_path, models):
    vp = models["tcn"]
    torch.save(export_checkpoint(vp, "mmpose"), tmp_path / "vp_mmpose.pth")
    lf = load_lifter(tmp_path / "vp_mmpose.pth")
    assert lf.format == "mmpose" and lf.normalization == Normalization() and lf.window == vp.window()
    x = _x(1, 30, c=2)[0]
    np.testing.assert_allclose(lf.lift(x), lift_sequence(vp, x), atol=1e-5)
    # a native file trained on targets in other units (scale_3d): lift_sequence gives metres
    mb = models["mb"]
    save_checkpoint(mb, tmp_path / "mb.pt", normalization=Normalization(scale_3d=2.0).to_dict(),
                    window=mb.window(9).to_dict())
    lf = load_lifter(tmp_path / "mb.pt")
    assert lf.window.length == 9 and lf.normalization.scale_3d == 2.0
    x = _x(1, 20)[0]
    np.testing.assert_allclose(lf.lift(x), lift_sequence(mb, x, window=mb.window(9)) / 2, atol=1e-6)


def test_load_lifter_reads_the_shipped_temporal_file():
    # data/lifter_temporal.pt (data/README.md): VideoPose3D, 81 frames, ≤ 10 MB. Each lifted
    # frame must equal the strided single-frame forward on its own edge-padded 81-frame window
    # built here by hand (an independent path from the dense sequence convolution).
    path = REPO / "data" / "lifter_temporal.pt"
    assert path.stat().st_size <= 10 * 2**20
    ck = torch.load(path, weights_only=True)
    lf = load_lifter(path)
    assert lf.format == "native" and lf.name == ck["hpd3d_model"] == "videopose3d"
    assert not lf.model.training and lf.model.receptive_field == 81
    assert lf.window == Window.from_dict(ck["window"]) and lf.window.length == 81
    assert lf.window.anchor == 40 and not lf.window.causal
    uv = np.random.default_rng(1).uniform(100, 500, (40, 17, 2))
    x = lf.normalize(uv, 640, 480)
    y = lift_sequence(lf, x)
    assert y.shape == (40, 17, 3) and np.all(y[:, 0] == 0)
    for t in (0, 5, 20, 39):
        idx = np.clip(np.arange(t - 40, t + 41), 0, 39)
        with torch.no_grad():
            want = lf.model(torch.from_numpy(x[idx])[None], single_frame=True)[0, 0].numpy()
        want[0] = 0.0  # the root joint is the origin (root-relative targets)
        np.testing.assert_allclose(y[t], want, atol=1e-5)
