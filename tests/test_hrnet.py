"""HRNet detector: MMPose key names/shapes, strict loading, affine + decoding, flip test.

The expected state-dict layout below (``mmpose_layout``) is written independently of
``infer/detectors/hrnet.py`` from open-mmlab/mmpose: ``mmpose/models/backbones/hrnet.py``
(stem, ``_make_layer``, ``_make_transition_layer``, ``HRModule._make_fuse_layers``),
``backbones/resnet.py`` (``BasicBlock``/``Bottleneck``, mmcv ``build_norm_layer`` names
BN layers ``bn<postfix>``), ``heads/heatmap_heads/heatmap_head.py`` (``final_layer``) and
the config ``td-hm_hrnet-w32_8xb64-210e_coco-256x192.py`` (stage4 sets no
``multiscale_output``, so its last module fuses into branch 0 only). Randomly initialised
weights cannot find people: nothing here claims detection accuracy.
"""

from __future__ import annotations

import collections
import contextlib
import json

import cv2
import numpy as np
import pytest
import torch

from hpd3d.errors import InputError
from infer.detectors.hrnet import (
    FLIP_INDICES, HRNetDetector, bbox_xyxy2cs, build_topdown_hrnet, decode_heatmaps,
    fix_aspect_ratio, flip_heatmaps, get_heatmap_maximum, get_warp_matrix, load_checkpoint,
    refine_keypoints, refine_keypoints_dark)

torch.set_num_threads(1)


# -- the expected layout, from the MMPose source ---------------------------------------
def _bn(p, c):
    return {f"{p}.weight": (c,), f"{p}.bias": (c,), f"{p}.running_mean": (c,),
            f"{p}.running_var": (c,), f"{p}.num_batches_tracked": ()}


def mmpose_layout(width: int) -> dict:
    """{key: shape} of MMPose's TopdownPoseEstimator(HRNet-W<width>, HeatmapHead(17))."""
    L = {}
    L["backbone.conv1.weight"] = (64, 3, 3, 3)
    L.update(_bn("backbone.bn1", 64))
    L["backbone.conv2.weight"] = (64, 64, 3, 3)
    L.update(_bn("backbone.bn2", 64))
    for b in range(4):  # layer1: Bottleneck(in, 256), mid 64
        p, cin = f"backbone.layer1.{b}", 64 if b == 0 else 256
        L[f"{p}.conv1.weight"] = (64, cin, 1, 1)
        L.update(_bn(f"{p}.bn1", 64))
        L[f"{p}.conv2.weight"] = (64, 64, 3, 3)
        L.update(_bn(f"{p}.bn2", 64))
        L[f"{p}.conv3.weight"] = (256, 64, 1, 1)
        L.update(_bn(f"{p}.bn3", 256))
        if b == 0:
            L[f"{p}.downsample.0.weight"] = (256, 64, 1, 1)
            L.update(_bn(f"{p}.downsample.1", 256))
    ch = [width, 2 * width, 4 * width, 8 * width]
    pre = [256]
    for s, modules in ((2, 1), (3, 4), (4, 3)):
        cur = ch[:s]
        t = f"backbone.transition{s - 1}"
        for i, c in enumerate(cur):
            if i < len(pre):
                if c != pre[i]:
                    L[f"{t}.{i}.0.weight"] = (c, pre[i], 3, 3)
                    L.update(_bn(f"{t}.{i}.1", c))
            else:
                for j in range(i + 1 - len(pre)):
                    out = c if j == i - len(pre) else pre[-1]
                    L[f"{t}.{i}.{j}.0.weight"] = (out, pre[-1], 3, 3)
                    L.update(_bn(f"{t}.{i}.{j}.1", out))
        for m in range(modules):
            p = f"backbone.stage{s}.{m}"
            for br, c in enumerate(cur):
                for blk in range(4):
                    q = f"{p}.branches.{br}.{blk}"
                    L[f"{q}.conv1.weight"] = (c, c, 3, 3)
                    L.update(_bn(f"{q}.bn1", c))
                    L[f"{q}.conv2.weight"] = (c, c, 3, 3)
                    L.update(_bn(f"{q}.bn2", c))
            multiscale = not (s == 4 and m == modules - 1)
            for i in range(len(cur) if multiscale else 1):
                for j in range(len(cur)):
                    f = f"{p}.fuse_layers.{i}.{j}"
                    if j > i:
                        L[f"{f}.0.weight"] = (cur[i], cur[j], 1, 1)
                        L.update(_bn(f"{f}.1", cur[i]))
                    elif j < i:
                        for k in range(i - j):
                            out = cur[i] if k == i - j - 1 else cur[j]
                            L[f"{f}.{k}.0.weight"] = (out, cur[j], 3, 3)
                            L.update(_bn(f"{f}.{k}.1", out))
        pre = cur
    L["head.final_layer.weight"] = (17, width, 1, 1)
    L["head.final_layer.bias"] = (17,)
    return L


def n_params(layout: dict) -> int:
    return sum(int(np.prod(s)) for k, s in layout.items()
               if not k.endswith(("running_mean", "running_var", "num_batches_tracked")))


def random_state(layout: dict, seed=0) -> collections.OrderedDict:
    g = torch.Generator().manual_seed(seed)
    sd = collections.OrderedDict()
    for k, shape in layout.items():
        if k.endswith("num_batches_tracked"):
            sd[k] = torch.tensor(100)
        elif k.endswith("running_var"):
            sd[k] = torch.rand(shape, generator=g) + 0.5
        elif len(shape) >= 2:
            sd[k] = torch.randn(shape, generator=g) / float(np.prod(shape[1:])) ** 0.5
        else:
            sd[k] = torch.randn(shape, generator=g) * 0.1 + (1.0 if k.endswith("weight") else 0.0)
    return sd


def cheap_state(layout: dict, nan_key=None) -> dict:
    """Each tensor a stride-0 view of one distinct value (tiny to save): key i holds i."""
    sd = {}
    for i, (k, shape) in enumerate(layout.items()):
        if k.endswith("num_batches_tracked"):
            sd[k] = torch.tensor(i)
        else:
            sd[k] = torch.full((1,) * max(len(shape), 1), float("nan") if k == nan_key else float(i),
                               dtype=torch.float16).expand(shape)
    return sd


def mmengine_checkpoint(sd, cfg_text="codec = dict(type='MSRAHeatmap', input_size=(192, 256))"):
    """What mmengine's save_checkpoint / publish_model leave: meta (with numpy arrays in
    dataset_meta) + state_dict."""
    return {"meta": {"mmengine_version": "0.10.4", "cfg": cfg_text,
                     "dataset_meta": {"dataset_name": "coco", "flip_indices": FLIP_INDICES,
                                      "sigmas": np.full(17, 0.05, np.float32)}},
            "state_dict": sd}


@pytest.fixture(scope="module")
def w32_layout():
    return mmpose_layout(32)


@pytest.fixture(scope="module")
def w32_file(tmp_path_factory, w32_layout):
    path = tmp_path_factory.mktemp("ckpt") / "td-hm_hrnet-w32.pth"
    torch.save(mmengine_checkpoint(random_state(w32_layout)), path)
    return path


@pytest.fixture(scope="module")
def w32_det(w32_file):
    """One detector for the module (loading is the slow part); tests set options on it
    through :func:`options`."""
    det = HRNetDetector(w32_file, input_size=(64, 96), box="image")
    yield det
    det.close()


@contextlib.contextmanager
def options(det, **kw):
    saved = {k: getattr(det, k) for k in kw}
    for k, v in kw.items():
        setattr(det, k, v)
    try:
        yield det
    finally:
        for k, v in saved.items():
            setattr(det, k, v)


# -- architecture -----------------------------------------------------------------------
def meta_model(arch):
    with torch.device("meta"):  # shapes only, no memory, no initialisation
        return build_topdown_hrnet(arch)


def test_key_table_literal(w32_layout):
    sd = meta_model("w32").state_dict()
    table = {  # read off the MMPose source by hand
        "backbone.conv1.weight": (64, 3, 3, 3),
        "backbone.bn1.running_var": (64,),
        "backbone.layer1.0.downsample.0.weight": (256, 64, 1, 1),
        "backbone.layer1.3.conv3.weight": (256, 64, 1, 1),
        "backbone.transition1.0.0.weight": (32, 256, 3, 3),
        "backbone.transition1.1.0.0.weight": (64, 256, 3, 3),
        "backbone.transition2.2.0.0.weight": (128, 64, 3, 3),
        "backbone.transition3.3.0.0.weight": (256, 128, 3, 3),
        "backbone.stage2.0.fuse_layers.0.1.0.weight": (32, 64, 1, 1),
        "backbone.stage3.3.fuse_layers.2.0.1.0.weight": (128, 32, 3, 3),
        "backbone.stage4.1.fuse_layers.3.0.0.0.weight": (32, 32, 3, 3),
        "backbone.stage4.1.fuse_layers.3.0.2.1.bias": (256,),
        "backbone.stage4.2.fuse_layers.0.3.0.weight": (32, 256, 1, 1),
        "backbone.stage4.2.branches.3.3.conv2.weight": (256, 256, 3, 3),
        "head.final_layer.weight": (17, 32, 1, 1),
        "head.final_layer.bias": (17,),
    }
    for k, shape in table.items():
        assert tuple(sd[k].shape) == shape, k
    # the last stage-4 module has multiscale_output=False: it fuses into branch 0 only
    assert not any(k.startswith("backbone.stage4.2.fuse_layers.1.") for k in sd)
    assert "backbone.stage4.2.fuse_layers.3.0.0.0.weight" not in sd
    assert {k: tuple(v.shape) for k, v in sd.items()} == w32_layout


def test_parameter_counts(w32_layout, w32_det):
    m = meta_model("w32")
    n = sum(p.numel() for p in m.parameters())
    # 28.54 M in MMPose's docs/en/user_guides/model_analysis.md (get_flops on this config)
    assert n == n_params(w32_layout) == 28_536_113
    assert round(n / 1e6, 2) == 28.54
    n48 = sum(p.numel() for p in meta_model("w48").parameters())
    assert n48 == n_params(mmpose_layout(48)) == 63_595_745  # 63.6 M in the model zoo
    with torch.inference_mode():  # a loaded W32 (forward on "meta" tensors is slow)
        assert tuple(w32_det.model(torch.zeros(1, 3, 64, 32)).shape) == (1, 17, 16, 8)


# -- loading ----------------------------------------------------------------------------
def test_strict_load_mmengine_checkpoint(w32_det, w32_layout):
    """A checkpoint written in MMPose's layout (meta with numpy arrays + state_dict) loads
    with weights_only=True, every tensor in its place."""
    assert w32_det.arch == "w32" and not w32_det.dark  # meta cfg: plain MSRAHeatmap
    ref = random_state(w32_layout)
    for k, v in w32_det.model.state_dict().items():
        assert torch.equal(v, ref[k]), k
    assert not w32_det.model.training


def test_load_mmpose_0x_names_and_no_counters(tmp_path, w32_layout):
    """0.x ``keypoint_head.`` names, no BN counters, float16 tensors: every key lands on
    the parameter of the same name (key i holds the value i)."""
    sd = cheap_state(w32_layout)
    old = {("keypoint_head." + k[5:] if k.startswith("head.") else k): v
           for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    path = tmp_path / "hrnet_w32_coco_256x192-c78dce93_20200708.pth"
    torch.save({"meta": {"config": "test_cfg = dict(post_process='unbiased')"},
                "state_dict": old}, path)
    det = HRNetDetector(path, input_size=(64, 96), box="image")
    assert det.dark and det.arch == "w32"  # 'auto' decoding reads the meta config
    got = det.model.state_dict()
    for i, k in enumerate(w32_layout):
        if not k.endswith("num_batches_tracked"):
            assert got[k].dtype == torch.float32 and (got[k] == i).all(), k


def test_w48_auto(tmp_path):
    path = tmp_path / "w48.pth"
    torch.save({"state_dict": cheap_state(mmpose_layout(48))}, path)
    model, arch, _ = load_checkpoint(path)
    assert arch == "w48" and model.head.final_layer.in_channels == 48
    with pytest.raises(InputError, match="wrong shape"):
        load_checkpoint(path, arch="w32")


def _bad(tmp_path, name, obj):
    path = tmp_path / name
    torch.save(obj, path)
    return path


class Opaque:  # a class: not loadable with weights_only=True
    def __init__(self):
        self.x = 1


def test_bad_checkpoints(tmp_path, w32_layout):
    sd = cheap_state(w32_layout)
    bad = dict(sd, **{"backbone.extra.weight": torch.zeros(1),
                      "head.final_layer.bias": torch.zeros(16)})
    del bad["backbone.stage3.1.branches.2.0.conv1.weight"], bad["backbone.bn2.bias"]
    with pytest.raises(InputError) as e:  # one error listing every problem
        load_checkpoint(_bad(tmp_path, "bad.pth", {"state_dict": bad}))
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(str(tmp_path / "bad.pth") + ": ")
    assert ("2 missing: backbone.bn2.bias, backbone.stage3.1.branches.2.0.conv1.weight" in msg
            or "2 missing: backbone.stage3.1.branches.2.0.conv1.weight, backbone.bn2.bias" in msg)
    assert "1 unexpected: backbone.extra.weight" in msg
    assert "1 wrong shape: head.final_layer.bias (16,) != (17,)" in msg
    cases = {
        "nan": ({"state_dict": cheap_state(w32_layout, nan_key="backbone.bn1.weight")},
                "non-finite"),
        "nohead": ({"state_dict": {"a": torch.zeros(1)}}, "not an MMPose top-down heatmap"),
        "w40": ({"state_dict": {"head.final_layer.weight": torch.zeros(17, 40, 1, 1)}},
                "40 channels"),
        "list": ([1, 2], "no state_dict"),
    }
    for name, (obj, pattern) in cases.items():
        with pytest.raises(InputError, match=pattern) as e:
            load_checkpoint(_bad(tmp_path, name + ".pth", obj))
        assert "\n" not in str(e.value)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(InputError, match="not a PyTorch checkpoint"):
        load_checkpoint(junk)
    with pytest.raises(InputError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "absent.pth")
    # pickled objects: refused unless trusted
    path = _bad(tmp_path, "opaque.pth", {"state_dict": {"a": torch.zeros(1)}, "meta": Opaque()})
    with pytest.raises(InputError, match=r"needs full unpickling.*Opaque.*trust_checkpoint") as e:
        load_checkpoint(path)
    assert "\n" not in str(e.value)
    with pytest.raises(InputError, match="not an MMPose top-down heatmap"):  # unpickled, then checked
        load_checkpoint(path, trust_checkpoint=True)
    with pytest.raises(InputError, match="checkpoint"):
        HRNetDetector(None)


# -- geometry and decoding -------------------------------------------------------------
def mmpose_warp_cv2(center, scale, out_wh):
    """MMPose's get_warp_matrix (rot 0, no shift) the way it builds it: three point pairs
    through cv2.getAffineTransform."""
    c = np.asarray(center, np.float32)
    src_dir, dst_dir = np.array([scale[0] * -0.5, 0.0]), np.array([out_wh[0] * -0.5, 0.0])
    third = lambda a, b: b + np.r_[-(a - b)[1], (a - b)[0]]  # noqa: E731
    src = np.zeros((3, 2), np.float32)
    dst = np.zeros((3, 2), np.float32)
    src[0], src[1] = c, c + src_dir
    dst[0] = [out_wh[0] * 0.5, out_wh[1] * 0.5]
    dst[1] = dst[0] + dst_dir
    src[2], dst[2] = third(src[0], src[1]), third(dst[0], dst[1])
    return cv2.getAffineTransform(src, dst)


def test_box_to_warp_matches_mmpose():
    center, scale = bbox_xyxy2cs(np.array([100.0, 50.0, 180.0, 290.0]), 1.25)
    np.testing.assert_allclose(center, [140, 170])
    np.testing.assert_allclose(scale, [100, 300])
    scale = fix_aspect_ratio(scale, 192 / 256)
    np.testing.assert_allclose(scale, [225, 300])  # tall box: width grown
    np.testing.assert_allclose(fix_aspect_ratio([400, 100], 0.75), [400, 400 / 0.75])
    np.testing.assert_allclose(get_warp_matrix(center, scale, (192, 256)),
                               mmpose_warp_cv2(center, scale, (192, 256)), atol=1e-4)


def test_crop_warp_roundtrip(w32_det):
    """A bright pixel in the frame lands in the crop where the matrix says it does."""
    frame = np.zeros((300, 400, 3), np.uint8)
    frame[140:143, 250:253] = 255  # 3×3 dot centred on pixel (251, 141)
    with options(w32_det, input_size=(192, 256)) as det:
        crop, center, scale = det.crop(frame, np.array([150.0, 40.0, 330.0, 280.0]))
    ys, xs = np.nonzero(crop[..., 0] > 0)
    w = crop[ys, xs, 0].astype(float)
    cx, cy = (xs * w).sum() / w.sum(), (ys * w).sum() / w.sum()
    inv = cv2.invertAffineTransform(mmpose_warp_cv2(center, scale, (192, 256)))
    back = inv @ np.array([cx, cy, 1.0])
    assert np.abs(back - [251, 141]).max() < 0.1


def gaussian(h, w, x0, y0, sigma=2.0):
    yy, xx = np.mgrid[0:h, 0:w]
    return np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / (2 * sigma ** 2)).astype(np.float32)


def test_decode_synthetic_peak_through_affine():
    """Peaks at known heatmap positions → image pixels; the expected value computed with
    cv2.invertAffineTransform of MMPose's 3-point warp on the crop coordinates."""
    center, scale = np.array([300.0, 200.0]), fix_aspect_ratio([150.0, 330.0], 0.75)
    hm = np.zeros((1, 17, 64, 48), np.float32)
    true = np.zeros((17, 2))
    rng = np.random.default_rng(0)
    for k in range(17):
        x0, y0 = rng.integers(4, 44), rng.integers(4, 60)
        dx, dy = rng.choice([-0.3, 0.3]), rng.choice([-0.3, 0.3])
        hm[0, k] = 0.9 * gaussian(64, 48, x0 + dx, y0 + dy)
        true[k] = (x0 + 0.25 * np.sign(dx), y0 + 0.25 * np.sign(dy))  # MMPose's ¼-px step
    kp = decode_heatmaps(hm, center[None], scale[None], (192, 256))[0]
    inv = cv2.invertAffineTransform(mmpose_warp_cv2(center, scale, (192, 256)))
    expect = (np.c_[true * 4.0, np.ones(17)] @ inv.T)  # heatmap → input px → image px
    assert np.abs(kp[:, :2] - expect).max() <= 0.1
    np.testing.assert_allclose(kp[:, 2], hm[0].reshape(17, -1).max(1), atol=1e-6)
    # DARK recovers the sub-pixel centre itself
    for k in range(17):
        x0, y0 = 10.37 + k, 20.81 + k
        hm[0, k] = gaussian(64, 48, x0, y0)
        true[k] = (x0, y0)
    locs, _ = get_heatmap_maximum(hm)
    dark = refine_keypoints_dark(locs.copy(), hm, 11)[0]
    assert np.abs(dark - true).max() < 0.05


def loop_refine(keypoints, heatmaps):
    """MMPose's refine_keypoints as written there (per joint)."""
    kp = keypoints.copy()
    N, K = kp.shape[:2]
    H, W = heatmaps.shape[-2:]
    for n in range(N):
        for k in range(K):
            x, y = kp[n, k, :2].astype(int)
            dx = heatmaps[n, k, y, x + 1] - heatmaps[n, k, y, x - 1] if 1 < x < W - 1 and 0 < y < H else 0.0
            dy = heatmaps[n, k, y + 1, x] - heatmaps[n, k, y - 1, x] if 1 < y < H - 1 and 0 < x < W else 0.0
            kp[n, k] += np.sign([dx, dy]).astype(np.float32) * 0.25
    return kp


def test_vectorised_refine_equals_loop():
    rng = np.random.default_rng(1)
    hm = rng.normal(size=(3, 17, 16, 12)).astype(np.float32)
    hm[0, :, 0, :] += 10  # maxima on the borders, where the step is skipped
    hm[1, :, :, 1] += 10
    hm[2, :4] = -1  # non-positive maxima → location −1
    locs, vals = get_heatmap_maximum(hm)
    assert (locs[2, :4] == -1).all()
    np.testing.assert_array_equal(refine_keypoints(locs, hm), loop_refine(locs, hm))


def loop_dark(keypoints, heatmaps, kernel=11):
    """MMPose's gaussian_blur + refine_keypoints_dark as written there (per joint)."""
    kp = keypoints.copy()
    N, K, H, W = heatmaps.shape
    b = (kernel - 1) // 2
    for n in range(N):
        hm = heatmaps[n].copy()
        for k in range(K):
            m = hm[k].max()
            dr = np.zeros((H + 2 * b, W + 2 * b), np.float32)
            dr[b:-b, b:-b] = hm[k]
            hm[k] = cv2.GaussianBlur(dr, (kernel, kernel), 0)[b:-b, b:-b]
            hm[k] *= m / hm[k].max()
        hm = np.log(np.maximum(hm, 1e-10))
        for k in range(K):
            x, y = kp[n, k].astype(int)
            if 1 < x < W - 2 and 1 < y < H - 2:
                dx = 0.5 * (hm[k, y, x + 1] - hm[k, y, x - 1])
                dy = 0.5 * (hm[k, y + 1, x] - hm[k, y - 1, x])
                dxx = 0.25 * (hm[k, y, x + 2] - 2 * hm[k, y, x] + hm[k, y, x - 2])
                dxy = 0.25 * (hm[k, y + 1, x + 1] - hm[k, y - 1, x + 1]
                              - hm[k, y + 1, x - 1] + hm[k, y - 1, x - 1])
                dyy = 0.25 * (hm[k, y + 2, x] - 2 * hm[k, y, x] + hm[k, y - 2, x])
                hess = np.array([[dxx, dxy], [dxy, dyy]])
                if dxx * dyy - dxy ** 2 != 0:
                    kp[n, k] += (-np.linalg.inv(hess) @ np.array([[dx], [dy]]))[:, 0]
    return kp


def test_vectorised_dark_equals_loop():
    rng = np.random.default_rng(4)
    hm = rng.random((2, 17, 16, 12)).astype(np.float32) * 0.2
    for n in range(2):
        for k in range(17):
            hm[n, k] += gaussian(16, 12, rng.uniform(0, 12), rng.uniform(0, 16))
    locs, _ = get_heatmap_maximum(hm)
    np.testing.assert_allclose(refine_keypoints_dark(locs, hm, 11), loop_dark(locs, hm, 11),
                               atol=1e-4)


# -- flip test --------------------------------------------------------------------------
def test_flip_indices_are_coco_pairs():
    names = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
             "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
             "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"]
    swap = {n: n.replace("left", "R").replace("right", "left").replace("R", "right") for n in names}
    assert FLIP_INDICES == [names.index(swap[n]) for n in names]


def test_flip_heatmaps_shift_and_symmetry(w32_det):
    hm = torch.zeros(1, 17, 8, 6)
    hm[0, 1, 3, 1] = 1.0  # left eye at x = 1
    f = flip_heatmaps(hm, shift_heatmap=False)
    assert f[0, 2, 3, 4] == 1.0 and f.sum() == 1.0  # mirrored (6-1-1) into right eye
    fs = flip_heatmaps(hm, shift_heatmap=True)
    assert fs[0, 2, 3, 5] == 1.0  # shifted one pixel right
    # without the shift, flip-averaged heatmaps of a mirrored crop are the mirrored,
    # swapped heatmaps of the crop, exactly
    crop = np.random.default_rng(2).integers(0, 255, (1, 96, 64, 3), dtype=np.uint8)
    with options(w32_det, flip_test=True, shift_heatmap=False) as det:
        a = torch.from_numpy(det.heatmaps(crop))
        b = torch.from_numpy(det.heatmaps(crop[:, :, ::-1].copy()))
    torch.testing.assert_close(flip_heatmaps(a, shift_heatmap=False), b, atol=1e-4, rtol=1e-4)
    with options(w32_det, flip_test=False) as det:
        plain = det.heatmaps(crop)
    assert not np.allclose(plain, a.numpy(), atol=1e-4)  # the flip branch changed something


# -- the detector -----------------------------------------------------------------------
def test_detect_image_and_previous_boxes(w32_det, w32_file):
    frame = np.random.default_rng(3).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    prev = np.zeros((17, 3), np.float32)
    prev[:, 0] = np.linspace(60, 100, 17)
    prev[:, 1] = np.linspace(20, 100, 17)
    prev[:, 2] = 0.9
    with options(w32_det, box="previous") as det:
        kp = det.detect(frame, prev=prev)
        assert kp.shape == (1, 17, 3) and kp.dtype == np.float32
        assert det.last_box_source == "previous"
        c, half = np.array([80, 60]), np.array([20, 40]) * det.box_expand
        np.testing.assert_allclose(det.last_box, np.r_[c - half, c + half], atol=1e-3)
    # keypoints with a positive heatmap maximum lie inside the padded, aspect-fixed box
    # (a non-positive maximum decodes to heatmap pixel −1, as in MMPose); scores in [0, 1]
    center, scale = bbox_xyxy2cs(w32_det.last_box)
    scale = fix_aspect_ratio(scale, 64 / 96)
    pos = kp[0, :, 2] > 0
    assert pos.any() and (np.abs(kp[0, pos, :2] - center) <= scale / 2 + 1e-3).all()
    assert ((kp[..., 2] >= 0) & (kp[..., 2] <= 1)).all()
    with options(w32_det, box="image", min_person_score=2.0) as det:
        assert det.detect(frame).shape == (0, 17, 3)
        np.testing.assert_array_equal(det.last_box, [0, 0, 160, 120])
    with pytest.raises(InputError, match="box"):
        HRNetDetector(w32_file, box="yolo")
    with pytest.raises(InputError, match="multiples of 32"):
        HRNetDetector(w32_file, input_size=(100, 100))


class DotNet(torch.nn.Module):
    """Stub network trained-network-like in one respect: heatmap pixel k looks at crop
    pixel 4k (a centred 5×5 blur of the red channel, sampled every 4th pixel), so a bright
    dot in the frame peaks where the crop put it."""

    def forward(self, x):
        blurred = torch.nn.functional.avg_pool2d(x[:, :1] + 3, 5, stride=1, padding=2)
        return blurred[..., ::4, ::4].repeat(1, 17, 1, 1)


class PoolNet(torch.nn.Module):
    """Stub network that commutes exactly with a horizontal mirror (4×4 pooling, crop
    width a multiple of 4)."""

    def forward(self, x):
        return torch.nn.functional.avg_pool2d(x[:, :1] + 3, 4).repeat(1, 17, 1, 1)


def test_detect_glue_with_stub_networks(w32_det):
    """crop → normalise → network → decode → image: a dot comes back where it was, within
    half a heatmap pixel; the flip-test path (without the shift) gives the plain answer for
    a mirror-equivariant network."""
    real = w32_det.model
    half_px = 0.5 * 4 / (64 / 80)  # half a heatmap pixel in image px (crop scale 64 / 80)
    try:
        for x0, y0 in [(30, 50), (20, 33), (41, 70)]:
            frame = np.zeros((96, 64, 3), np.uint8)
            frame[y0 - 2:y0 + 3, x0 - 2:x0 + 3] = 255  # 5×5 dot centred on (x0, y0)
            w32_det.model = DotNet()
            with options(w32_det, box="image", input_size=(64, 96), flip_test=False) as det:
                kp = det.detect(frame)[0]
            assert np.abs(kp[:, :2] - [x0, y0]).max() <= half_px, (x0, y0, kp[0])
            w32_det.model = PoolNet()
            with options(w32_det, box="image", input_size=(64, 96), flip_test=False) as det:
                plain = det.detect(frame)[0]
            with options(w32_det, box="image", input_size=(64, 96), flip_test=True,
                         shift_heatmap=False) as det:
                flipped = det.detect(frame)[0]
            np.testing.assert_allclose(flipped, plain, atol=1e-4)
    finally:
        w32_det.model = real


def test_mediapipe_box_holds_the_person(w32_det, shared_dir):
    """The MediaPipe box on a real COCO photo contains the annotated person's keypoints."""
    folder = shared_dir / "data" / "images" / "coco"
    gt = json.loads((folder / "test_coco.json").read_text())
    img = next(i for i in gt["images"] if i["id"] == 785)
    frame = cv2.cvtColor(cv2.imread(str(folder / img["file_name"])), cv2.COLOR_BGR2RGB)
    with options(w32_det, box="mediapipe") as det:
        det.detect(frame)
        det.close()
    assert det.last_box_source == "mediapipe"
    anns = [a for a in gt["annotations"] if a["image_id"] == 785 and a["num_keypoints"] > 0]
    kp = np.array(max(anns, key=lambda a: a["area"])["keypoints"], float).reshape(17, 3)
    vis = kp[kp[:, 2] > 0, :2]
    center, scale = bbox_xyxy2cs(det.last_box)
    inside = (np.abs(vis - center) <= scale / 2).all(axis=1)
    assert inside.mean() >= 0.9, inside
