"""Evaluation: the numbers match training's validation and a plain numpy computation, whole-
sequence lifting matches the models, the limb-distance table measures what it says, and the
CLI writes its files or fails in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from hpd3d.anatomy import hinge_flexion
from hpd3d.camera_io import read_camera_files
from hpd3d.formats import camera_name, load_3d
from test_train import cfg_for, make_dataset

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny SimpleBaseline trained on clean 2D, and its dataset."""
    from train.runner import train

    root = tmp_path_factory.mktemp("eval")
    data = make_dataset(root / "data")
    work = train(cfg_for(data, root / "run", "trainer.max_epochs=2", "data.input_2d=gt"))
    return data, work / "last.pt"


def _data(data_dir, **kw):
    from train.data import DataConfig

    return DataConfig.from_dict(dict(dir=str(data_dir), name="tiny", split=dict(val_fraction=0.34),
                                     **kw))


def test_evaluate_matches_training_validation_and_numpy(trained):
    from train.evaluate import evaluate

    data, ckpt = trained
    s, preds, gts, views, masks = evaluate(ckpt, _data(data, input_2d="gt"), "val", progress=False)
    assert all(m.all() for m in masks) and s["unscored_frames"] == 0
    # training validated the same frames with the same inputs (SimpleBaseline: frame-wise)
    meta = torch.load(ckpt, weights_only=True)["meta"]
    assert s["mpjpe_mm"] == pytest.approx(meta["metrics"]["val/mpjpe"], abs=1e-3)
    assert s["p_mpjpe_mm"] == pytest.approx(meta["metrics"]["val/p_mpjpe"], abs=1e-3)
    # ground truth rebuilt from the files, MPJPE in plain numpy
    world = load_3d(data / "data_3d_tiny.npz")
    cams = {c.name: c for c in read_camera_files(data)}
    errs = []
    for p, g, v in zip(preds, gts, views):
        cam = cams[camera_name(v.subject, v.action, v.camera)]
        X = (world[v.subject][v.action] - cam.C) @ cam.R.T
        X = X - X[:, :1]
        np.testing.assert_allclose(g, X, atol=1e-5)
        assert np.all(p[:, 0] == 0)
        errs.append(np.sqrt(((p - X) ** 2).sum(-1)).mean(-1))
    e = np.concatenate(errs)
    assert s["frames"] == len(e) and s["views"] == len(views)
    assert s["mpjpe_mm"] == pytest.approx(1000 * e.mean(), rel=1e-5)
    assert np.mean(list(s["per_joint_mm"].values())) == pytest.approx(s["mpjpe_mm"], rel=1e-5)
    # per action: copies made by augmentation (walk_aug1) count as their motion (walk)
    assert set(s["per_action"]) <= {"walk", "jog"}
    n = sum(r["frames"] for r in s["per_action"].values())
    assert n == s["frames"]
    assert sum(r["frames"] * r["mpjpe_mm"] for r in s["per_action"].values()) / n == pytest.approx(
        s["mpjpe_mm"], rel=1e-6)
    assert 0 < s["bone_length"]["consistency_cv_percent"] < 100
    acc = [np.linalg.norm(np.diff(g, n=2, axis=0), axis=-1).mean() * len(g) for g in gts]
    assert s["temporal"]["jitter_gt_mm"] == pytest.approx(1000 * sum(acc) / s["frames"], rel=1e-6)


def test_lift_sequence_equals_the_models_on_whole_sequences():
    from train.models import build_model, lift_sequence

    torch.manual_seed(0)
    x = torch.randn(2, 60, 17, 3)
    tcn = build_model("videopose3d", receptive_field=27, channels=16).eval()
    y = lift_sequence(tcn, x.numpy())
    np.testing.assert_allclose(y, tcn.lift(x).detach(), atol=1e-6)
    sb = build_model("simplebaseline", channels=16).eval()
    y = lift_sequence(sb, x.numpy(), batch=7)
    np.testing.assert_allclose(y, sb(x).detach(), atol=1e-6)
    # MotionBERT: clips of 27 at 0, 21 and 33 (the last one ends at the last frame)
    # cross-faded; frames only one clip covers are that clip's prediction
    mb = build_model("motionbert", dim_feat=16, dim_rep=16, depth=1, num_heads=2, maxlen=27).eval()
    y = lift_sequence(mb, x.numpy())
    first, last = mb.lift(x[:, :27]).detach().numpy(), mb.lift(x[:, 33:]).detach().numpy()
    np.testing.assert_allclose(y[:, :21], first[:, :21], atol=1e-5)
    np.testing.assert_allclose(y[:, 48:], last[:, 15:], atol=1e-5)
    assert np.abs(y[:, 47] - last[:, 14]).max() > 1e-4  # frame 47: two clips blended


def test_limb_distance_table_measures_leg_errors():
    from test_train import _motion
    from train.evaluate import limb_distances

    gt = _motion()[:300]
    gt = gt - gt[:, :1]
    pred = gt.copy()
    d = pred[:, 3] - pred[:, 1]
    pred[:, 3] += 0.05 * d / np.linalg.norm(d, axis=-1, keepdims=True)  # right ankle 50 mm further
    pred[:, 5] += np.array([0.0, 0.0, 0.02])  # left knee moved: hip–knee changes, hip–ankle not
    r = limb_distances(pred, gt, deep_deg=30.0)
    assert r["right_hip_ankle"]["bias_mm"] == pytest.approx(50.0, abs=1e-6)
    assert r["right_hip_ankle"]["abs_mm"] == pytest.approx(50.0, abs=1e-6)
    assert r["right_hip_knee"]["abs_mm"] == pytest.approx(0.0, abs=1e-9)
    assert r["left_hip_ankle"]["abs_mm"] == pytest.approx(0.0, abs=1e-9)
    assert r["left_hip_knee"]["abs_mm"] > 1.0
    deep = hinge_flexion(gt, "right_knee") > 30.0
    assert 0 < deep.sum() < len(gt) and r["right_hip_ankle"]["deep_frames"] == deep.sum()
    assert r["right_hip_ankle"]["deep_bias_mm"] == pytest.approx(50.0, abs=1e-6)
    hip_ankle = np.linalg.norm(gt[deep, 3] - gt[deep, 1], axis=-1).mean() * 1000
    assert r["right_hip_ankle"]["deep_gt_mm"] == pytest.approx(hip_ankle, rel=1e-9)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "train.evaluate", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=180)


def test_cli_writes_metrics_plots_and_fails_in_one_line(trained, tmp_path):
    data, ckpt = trained
    out = tmp_path / "ev"
    r = _cli(f"checkpoint={ckpt}", f"data.dir={data}", "data.name=tiny", "data.sources=null",
             "split=all", f"out={out}", "threads=1", "test_flip=true")
    assert r.returncode == 0, r.stderr
    m = json.loads((out / "metrics.json").read_text())
    assert m["data"]["split"] == "all" and m["frames"] == 3 * 3 * 48 * 2
    assert {"mpjpe_mm", "p_mpjpe_mm", "n_mpjpe_mm", "per_joint_mm", "limb_distances",
            "bone_length", "temporal", "per_action"} <= set(m)
    assert "MPJPE" in r.stdout and "limb distances" in r.stdout
    for png in ("per_joint_error.png", "skeletons.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    r = _cli(f"checkpoint={bad}", f"data.dir={data}", "data.name=tiny", "data.sources=null")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.startswith(f"error: {bad}: not a PyTorch checkpoint")
    r = _cli(f"checkpoint={ckpt}", f"data.dir={tmp_path}/none", "data.sources=null")
    assert r.returncode == 2 and "no such dataset folder" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
