"""Training: data (splits, windows, flip, noise, weights), the mmengine run (loss goes down,
outputs, resume equality, NaN guard, fine-tuning) and bad input.

The data is real motion: segments of the CMU BVH file in ``../shared/data/bvh``, mapped to
H36M-17 and seen by two cameras, written as a VideoPose3D dataset with hpd3d's writer.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir

from hpd3d.camera import Camera, look_at, project, project_many, world_to_camera
from hpd3d.camera_io import read_camera_files
from hpd3d.dataset import Dataset, Views
from hpd3d.formats import camera_name, load_3d
from hpd3d.noise import NoiseModel, add_noise
from hpd3d.normalization import normalize_screen
from hpd3d.skeleton import H36M, flip

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf"
BVH = REPO.parent / "shared" / "data" / "bvh" / "cmu_01_01.bvh"


# ---------------------------------------------------------------------------- data maker
def _motion() -> np.ndarray:
    from hpd3d.bvh import load_bvh
    from hpd3d.rig import to_h36m

    return to_h36m(load_bvh(BVH))[::2]  # (T, 17, 3) metres, Z up


def make_dataset(out: Path, subjects=("S1", "S2", "S3"), actions=("walk", "walk_aug1", "jog"),
                 frames: int = 48, cams: int = 2, seed: int = 0, centred: bool = True) -> Path:
    """A small real-motion dataset: consecutive segments of the CMU clip, one per
    (subject, action), each seen by ``cams`` cameras on a ring (principal point at the
    image centre when ``centred``), clean and noisy 2D."""
    motion = _motion()
    rng = np.random.default_rng(seed)
    ds = Dataset()
    k = 0
    for s in subjects:
        for a in actions:
            seq = motion[(k * frames) % (len(motion) - frames):][:frames].astype(np.float64)
            k += 1
            centre = seq[:, 0].mean(0)
            cl = []
            for c in range(cams):
                az = 2 * np.pi * c / cams + rng.uniform(-0.3, 0.3)
                C = centre + 4.0 * np.array([np.cos(az), np.sin(az), 0.1])
                W, H = (1000, 1000) if c % 2 == 0 else (1280, 720)
                cx, cy = (W / 2, H / 2) if centred else (W / 2 + 30, H / 2 - 20)
                cl.append(Camera(W, H, 900.0, 900.0, cx, cy, R=look_at(C, centre), C=C,
                                 name=f"cam{c}"))
            uv, depth = project_many(seq, cl, return_depth=True)
            noisy, conf = add_noise(uv, rng, NoiseModel())
            views = Views(cl, uv.astype(np.float32), depth > 0, np.ones(cams), noisy, conf)
            ds.add(s, a, seq, views)
    ds.write(out, "tiny")
    return out


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("tiny"))


def cfg_for(data_dir, work_dir, *overrides, exp="simplebaseline"):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("train", overrides=[
            f"exp={exp}", f"data.dir={data_dir}", "data.name=tiny", f"work_dir={work_dir}",
            "data.split.val_fraction=0.34", "trainer.batch_size=64",
            *(["model.config.channels=64"] if exp != "motionbert" else []),
            "trainer.max_epochs=3", "scheduler.warmup_iters=5", "progress=false", "threads=1",
            "optim.lr=3e-3", *overrides])  # fmt: skip


def data_cfg(data_dir, **kw):
    from train.data import DataConfig

    return DataConfig.from_dict({"dir": str(data_dir), "name": "tiny",
                                 "split": {"val_fraction": 0.34}, **kw})


# ---------------------------------------------------------------------------- splits
def test_split_keeps_motions_and_augmented_copies_together():
    from train.data import SplitRule, assign_splits, group_key

    seqs = [(f"S{s}", f"act{a}{suf}") for s in range(6) for a in range(8)
            for suf in ("", "_aug1", "_aug2")]
    for by in ("sequence", "subject"):
        rule = SplitRule(by=by, val_fraction=0.3)
        sides = assign_splits(seqs, rule)
        again = assign_splits(list(reversed(seqs)), rule)
        assert sides == again  # independent of order
        keys = {}
        for s, side in sides.items():
            keys.setdefault(group_key(*s, by), set()).add(side)
        assert all(len(v) == 1 for v in keys.values())  # no group on both sides
        n_val = sum(v == {"val"} for v in keys.values())
        assert 0 < n_val < len(keys)
    # adding sequences never moves an existing one
    more = assign_splits(seqs + [("S9", "new")], SplitRule(val_fraction=0.3))
    assert all(more[s] == v for s, v in assign_splits(seqs, SplitRule(val_fraction=0.3)).items())
    named = assign_splits(seqs, SplitRule(by="subject", val_subjects=("S2",)))
    assert {s[0] for s, v in named.items() if v == "val"} == {"S2"}
    assert set(assign_splits(seqs, SplitRule(by="none")).values()) == {"train"}
    assert set(assign_splits(seqs, SplitRule(), use="val").values()) == {"val"}


def test_loaded_table_has_no_leak_and_camera_frame_targets(tiny):
    from train.data import load_table

    cfg = data_cfg(tiny)
    table = load_table(cfg.sources, "gt")
    train = {(v.subject, v.action.split("_aug")[0]) for v in table.views if v.split == "train"}
    val = {(v.subject, v.action.split("_aug")[0]) for v in table.views if v.split == "val"}
    assert train and val and not train & val
    # targets: world → camera with the camera files, root-relative (checked independently)
    world = load_3d(tiny / "data_3d_tiny.npz")
    cams = {c.name: c for c in read_camera_files(tiny)}
    for v in table.views[:4]:
        cam = cams[camera_name(v.subject, v.action, v.camera)]
        X = world[v.subject][v.action] @ cam.R.T - cam.R @ cam.C
        X = X - X[:, :1]
        np.testing.assert_allclose(table.xyz[v.start : v.start + v.length], X, atol=1e-5)
        assert (v.width, v.height) == (cam.width, cam.height)


# ---------------------------------------------------------------------------- batches
def test_flip_of_3d_projects_to_flip_of_2d():
    """Mirror a camera-frame pose (x → −x, left ↔ right): its projection equals the
    mirrored projection in screen coordinates, for a centred principal point."""
    from train.data import flip_batch

    motion = _motion()[:20]
    R = look_at([4, 0, 1], motion[:, 0].mean(0))
    cam = Camera(1280, 720, 1000.0, 1000.0, 640.0, 360.0, R=R, C=[4, 0, 1])
    Xc = world_to_camera(motion, cam)  # (T, 17, 3) camera frame
    ident = Camera(1280, 720, 1000.0, 1000.0, 640.0, 360.0)  # camera frame = its world
    uv = project(Xc, ident)
    uv_m = project(flip(Xc, axis=0), ident)
    x = normalize_screen(uv, 1280, 720).astype(np.float32)[:, None]
    conf = np.random.default_rng(0).random((20, 1, 17)).astype(np.float32)
    rel = (Xc - Xc[:, :1]).astype(np.float32)[:, None]
    fx, fc, fX = flip_batch(x, conf, rel, np.ones(20, bool))
    np.testing.assert_allclose(fx[:, 0], normalize_screen(uv_m, 1280, 720), atol=1e-5)
    np.testing.assert_allclose(fX[:, 0], flip(Xc, axis=0) - flip(Xc, axis=0)[:, :1], atol=1e-5)
    np.testing.assert_array_equal(fc[:, 0], conf[:, 0][:, H36M.flip_permutation])
    # nothing flipped where not asked
    gx, _, _ = flip_batch(x, conf, rel, np.zeros(20, bool))
    np.testing.assert_array_equal(gx, x)


def test_windows_pad_at_sequence_ends_and_match_the_table(tiny):
    from train.data import build_data, window_for
    from train.models import build_model

    cfg = data_cfg(tiny, input_2d="gt", flip=0.0)
    tcn = build_model("videopose3d", receptive_field=27, channels=16)
    table, train, val = build_data(cfg, window_for(tcn))
    b = train.batch(np.arange(len(train)))
    assert b["inputs"].shape == (len(train), 27, 17, 3)
    assert b["target"].shape == (len(train), 1, 17, 3)
    v = table.views[table.view_ids("train")[0]]
    first = b["inputs"][0]  # anchor = the view's first frame: 13 padded copies before it
    x0 = normalize_screen(table.uv[v.start], v.width, v.height)
    for t in range(14):
        np.testing.assert_allclose(first[t, :, :2], x0, atol=1e-6)
    x1 = normalize_screen(table.uv[v.start + 1], v.width, v.height)
    np.testing.assert_allclose(first[14, :, :2], x1, atol=1e-6)
    np.testing.assert_allclose(b["target"][0, 0], table.xyz[v.start], atol=1e-7)
    assert np.all(b["inputs"][..., 2] == 1.0)  # clean 2D: confidence 1
    # MotionBERT windows start at the anchor; the padded tail is marked invalid
    mb = build_model("motionbert", dim_feat=16, dim_rep=16, depth=1, num_heads=2, maxlen=27)
    _, tr2, _ = build_data(cfg, window_for(mb), need_val=False)
    idx = np.flatnonzero(tr2.anchor == v.start + v.length - 1)
    f, valid = tr2.frames(idx)
    assert (f == v.start + v.length - 1).all() and valid.sum() == 1



def test_tcn_chunks_predict_what_single_frame_windows_predict(tiny, tmp_path):
    """model.train_chunk=C: one window of receptive_field + C - 1 frames, C targets from the
    anchor on; the dense pass gives each of them exactly the single-frame window's output and
    target, frames past a sequence's end are invalid, and the checkpoint keeps the lifting
    window (27 frames, one output)."""
    from train.data import build_data, window_for
    from train.models import build_model
    from train.runner import train

    cfg = data_cfg(tiny, input_2d="gt", flip=0.0)
    tcn = build_model("videopose3d", receptive_field=27, channels=16).eval()
    table, one, _ = build_data(cfg, window_for(tcn), need_val=False)
    _, chunk, _ = build_data(cfg, tcn.train_window(8), need_val=False)
    assert chunk.window.length == 34 and chunk.window.receptive_field == 27
    v = table.views[table.view_ids("train")[0]]
    i = int(np.flatnonzero(chunk.anchor == v.start + v.length - 5)[0])  # 5 frames before the end
    b = chunk.batch(np.array([i]))
    assert b["target"].shape == (1, 8, 17, 3) and b["valid"][0].tolist() == [True] * 5 + [False] * 3
    singles = one.batch(np.flatnonzero(np.isin(one.anchor, v.start + v.length - 5 + np.arange(5))))
    np.testing.assert_array_equal(b["target"][0, :5], singles["target"][:, 0])
    with torch.no_grad():
        dense = tcn(torch.from_numpy(b["inputs"]))[0, :5].numpy()
        single = tcn(torch.from_numpy(singles["inputs"]), single_frame=True)[:, 0].numpy()
    np.testing.assert_allclose(dense, single, atol=1e-5)
    from train.data import build_loaders  # an epoch predicts each training frame about once
    loader, _ = build_loaders(cfg, chunk, None, batch_size=4)
    assert len(loader.sampler) == -(-len(chunk) // 8) and len(one) == len(chunk)
    w = train(cfg_for(tiny, tmp_path / "chunk", "trainer.max_epochs=1", "model.config.channels=32",
                      "model.train_chunk=8", "trainer.batch_size=8", exp="videopose3d"))
    ck = torch.load(w / "last.pt", weights_only=True)
    assert ck["window"]["length"] == 27 and ck["window"]["outputs"] == 1
    assert ck["meta"]["train_window"]["outputs"] == 8
    assert np.isfinite(ck["meta"]["metrics"]["val/mpjpe"])

def test_noise_is_fresh_per_epoch_and_fixed_for_validation(tiny):
    from train.data import build_data, window_for
    from train.models import build_model

    cfg = data_cfg(tiny, input_2d="gt_noise", flip=0.0)
    _, train, val = build_data(cfg, window_for(build_model("simplebaseline", channels=8)))
    idx = np.arange(32)
    a = train.batch(idx)["inputs"]
    np.testing.assert_array_equal(a, train.batch(idx)["inputs"])  # a batch is reproducible
    train.set_epoch(1)
    assert not np.allclose(a, train.batch(idx)["inputs"])  # another epoch, other noise
    v1 = val.batch(idx)["inputs"]
    val.set_epoch(5)
    np.testing.assert_array_equal(v1, val.batch(idx)["inputs"])
    clean = data_cfg(tiny, input_2d="gt", flip=0.0)
    _, tc, _ = build_data(clean, window_for(build_model("simplebaseline", channels=8)))
    d = np.abs(a[..., :2] - tc.batch(idx)["inputs"][..., :2]).mean()
    assert 1e-4 < d < 0.05  # noise of a few pixels, in screen units
    noisy = data_cfg(tiny, input_2d="noisy")
    _, tn, _ = build_data(noisy, window_for(build_model("simplebaseline", channels=8)))
    assert tn.batch(idx)["inputs"][..., 2].std() > 0.01  # the file's confidences


def test_sampler_weights_determinism_and_ranks(tiny, tmp_path):
    from train.data import SourceSampler, build_data, window_for
    from train.data.build import DataConfig
    from train.models import build_model

    other = make_dataset(tmp_path / "b", subjects=("T1", "T2"), actions=("run",), seed=1)
    cfg = DataConfig.from_dict(dict(sources=[dict(dir=str(tiny), name="tiny", weight=3.0),
                                             dict(dir=str(other), name="tiny", weight=1.0)],
                                    split=dict(by="none")))  # fmt: skip
    win = window_for(build_model("simplebaseline", channels=8))
    _, train, _ = build_data(cfg, win, need_val=False)
    s = SourceSampler(train, [3.0, 1.0], epoch_samples=4000, seed=0)
    idx = s.indices()
    share = np.bincount(train.source_of[idx]) / len(idx)
    np.testing.assert_allclose(share, [0.75, 0.25], atol=1e-3)
    s2 = SourceSampler(train, [3.0, 1.0], epoch_samples=4000, seed=0)
    np.testing.assert_array_equal(idx, s2.indices())  # a pure function of (seed, epoch)
    s2.set_epoch(1)
    assert not np.array_equal(idx, s2.indices())
    nat = SourceSampler(train, None, seed=0)
    assert sorted(nat.indices().tolist()) == list(range(len(train)))  # every sample once
    parts = []
    for r in range(3):
        sr = SourceSampler(train, None, seed=0)
        sr.rank, sr.world_size = r, 3
        parts.append(list(sr))
        assert len(parts[-1]) == len(sr)
    assert sorted(sum(parts, [])) == list(range(len(train)))


# ---------------------------------------------------------------------------- training runs
def _csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_tiny_run_learns_and_writes_checkpoints_logs_and_normalisation(tiny, tmp_path):
    from train.runner import train

    work = train(cfg_for(tiny, tmp_path / "run", "trainer.max_epochs=4"))
    rows = _csv(work / "metrics.csv")
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    loss = [float(r["loss"]) for r in rows]
    assert loss[-1] < 0.8 * loss[0]
    assert float(rows[-1]["val_mpjpe"]) < float(rows[0]["val_mpjpe"])
    assert (work / "epoch_4.pth").is_file() and (work / "last_checkpoint").is_file()
    assert not (work / "epoch_1.pth").exists()  # max_keep_ckpts=3
    ck = torch.load(work / "last.pt", weights_only=True)
    assert ck["hpd3d_model"] == "simplebaseline"
    assert ck["normalization"] == {"kind": "screen", "root_relative": True, "root_joint": 0,
                                   "scale_3d": 1.0}
    assert ck["meta"]["epoch"] == 4 and ck["meta"]["metrics"]["val/mpjpe"] == pytest.approx(
        float(rows[-1]["val_mpjpe"]), abs=1e-3)
    assert (work / "best.pt").is_file() and (work / "config.yaml").is_file()
    scalars = list(work.glob("*/vis_data/scalars.json"))
    events = list(work.glob("*/vis_data/events.out.tfevents.*"))
    assert scalars and events and "val/mpjpe" in scalars[0].read_text()
    from train.models import load_model

    load_model(work / "last.pt")  # loads as a plain lifter checkpoint


def test_resume_after_interruption_equals_uninterrupted_run(tiny, tmp_path):
    from train.runner import train

    common = ("trainer.max_epochs=4", "data.input_2d=gt_noise", "model.config.dropout=0.3",
              "ema=true")
    a = train(cfg_for(tiny, tmp_path / "a", *common))
    b = train(cfg_for(tiny, tmp_path / "b", *common, "debug.stop_after_epoch=2"))
    assert not (b / "epoch_3.pth").exists()
    train(cfg_for(tiny, b, *common, "resume=true"))
    ka, kb = (torch.load(p / "last.pt", weights_only=True) for p in (a, b))
    for k, v in ka["state_dict"].items():
        torch.testing.assert_close(kb["state_dict"][k], v, rtol=0, atol=1e-7)
    ra, rb = _csv(a / "metrics.csv"), _csv(b / "metrics.csv")
    assert [r["val_mpjpe"] for r in ra] == [r["val_mpjpe"] for r in rb]
    assert [r["loss"] for r in ra] == [r["loss"] for r in rb]
    assert ka["meta"]["ema"] is True


def test_nan_loss_stops_with_message_and_keeps_last_good_checkpoint(tiny, tmp_path, capsys):
    from train.runner import main_guarded

    cfg = cfg_for(tiny, tmp_path / "nan", "trainer.max_epochs=4", "debug.nan_at_iter=20")
    with pytest.raises(SystemExit) as e:
        main_guarded(cfg)
    assert e.value.code == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not finite" in err and "epoch_2.pth" in err
    work = tmp_path / "nan"
    assert (work / "epoch_2.pth").is_file() and not (work / "epoch_3.pth").exists()
    ck = torch.load(work / "last.pt", weights_only=True)
    assert ck["meta"]["epoch"] == 2
    assert all(torch.isfinite(v).all() for v in ck["state_dict"].values() if v.is_floating_point())


def test_finetune_freeze_backbone_and_backbone_lr(tiny, tmp_path):
    from train.runner import build_runner, train

    base = train(cfg_for(tiny, tmp_path / "base", "trainer.max_epochs=1"))
    before = torch.load(base / "last.pt", weights_only=True)["state_dict"]
    ft = train(cfg_for(tiny, tmp_path / "ft", "trainer.max_epochs=1",
                       f"model.checkpoint={base}/last.pt", "model.freeze_backbone=true"))
    after = torch.load(ft / "last.pt", weights_only=True)
    assert after["meta"]["fine_tuned_from"] == f"{base}/last.pt"
    for k, v in before.items():
        same = torch.equal(after["state_dict"][k], v)
        assert same == (not k.startswith("shrink.")), k  # only the head trained
    info = build_runner(cfg_for(tiny, tmp_path / "lr", "optim.backbone_lr_mult=0.1",
                                f"model.checkpoint={base}/last.pt"))
    ow = info["runner"].build_optim_wrapper(info["runner"].optim_wrapper)
    lrs = sorted({round(pg["lr"], 9) for pg in ow.optimizer.param_groups})
    assert lrs == [3e-4, 3e-3]
    head = [pg for pg in ow.optimizer.param_groups if pg["lr"] == pytest.approx(3e-3)]
    assert sum(p.numel() for pg in head for p in pg["params"]) == 64 * 48 + 48  # shrink only


def test_other_models_train_one_epoch(tiny, tmp_path):
    from train.runner import train

    w = train(cfg_for(tiny, tmp_path / "tcn", "trainer.max_epochs=1", "model.config.channels=32",
                      exp="videopose3d"))
    assert torch.load(w / "last.pt", weights_only=True)["window"]["length"] == 27
    w = train(cfg_for(tiny, tmp_path / "mb", "trainer.max_epochs=1", "model=motionbert_tiny",
                      "trainer.batch_size=8", "data.stride=8", exp="motionbert"))
    ck = torch.load(w / "last.pt", weights_only=True)
    assert ck["window"] == {"length": 27, "anchor": 0, "all_targets": True, "single_frame": False,
                           "causal": False, "outputs": 1}
    assert np.isfinite(ck["meta"]["metrics"]["val/mpjpe"])


# ---------------------------------------------------------------------------- bad input
def test_bad_input_is_one_line_naming_the_file(tiny, tmp_path, capsys):
    from train.runner import main_guarded

    def fails(cfg, *needles):
        with pytest.raises(SystemExit) as e:
            main_guarded(cfg)
        err = capsys.readouterr().err.strip()
        assert e.value.code == 2 and err.startswith("error: ")
        for n in needles:
            assert n in err, err
        return err

    err = fails(cfg_for(tmp_path / "nowhere", tmp_path / "w1"), "nowhere", "no such dataset folder")
    assert len(err.splitlines()) == 1
    bad = tmp_path / "corrupt"
    bad.mkdir()
    for f in tiny.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    (bad / "data_3d_tiny.npz").write_bytes(b"not a zip at all")
    err = fails(cfg_for(bad, tmp_path / "w2"), "data_3d_tiny.npz", "not an npz")
    assert len(err.splitlines()) == 1
    (bad / "data_3d_tiny.npz").write_bytes((tiny / "data_3d_tiny.npz").read_bytes())
    (bad / "camera_extrinsics.txt").unlink()
    assert len(fails(cfg_for(bad, tmp_path / "w3"), "camera_extrinsics.txt").splitlines()) == 1
    fails(cfg_for(tiny, tmp_path / "w4", "resume=true"), "no checkpoint to resume from")
    # a fine-tuning checkpoint that does not fit: every mismatched key is listed
    from train.models import build_model, save_checkpoint

    save_checkpoint(build_model("simplebaseline", channels=32), tmp_path / "other.pt")
    err = fails(cfg_for(tiny, tmp_path / "w5", f"model.checkpoint={tmp_path}/other.pt"),
                "other.pt", "wrong shapes",
                "expand_conv.weight: expected (64, 34, 1), got (32, 34, 1)")


def test_cli_exit_status_and_single_error_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "train", "+exp=simplebaseline",
                        f"data.dir={tmp_path}/missing", f"work_dir={tmp_path}/w"],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {tmp_path}/missing: no such dataset")
    assert not (tmp_path / "w").exists()  # nothing written for bad input


@pytest.mark.slow
def test_killed_process_resumes_to_the_same_weights(tiny, tmp_path):
    """A real SIGKILL soon after epoch_2.pth appears (mid-epoch, or mid-write: the
    last_checkpoint pointer then still names the previous one), then resume=true."""
    base = [sys.executable, "-m", "train", "+exp=simplebaseline", f"data.dir={tiny}",
            "data.name=tiny",
            "data.split.val_fraction=0.34", "model.config.channels=64", "trainer.batch_size=16",
            "trainer.max_epochs=8", "progress=false", "threads=1"]  # fmt: skip
    subprocess.run([*base, f"work_dir={tmp_path}/a"], cwd=REPO, check=True, capture_output=True)
    p = subprocess.Popen([*base, f"work_dir={tmp_path}/b"], cwd=REPO, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while not (tmp_path / "b" / "epoch_2.pth").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    assert not (tmp_path / "b" / "epoch_8.pth").exists()  # really killed mid-run
    subprocess.run([*base, f"work_dir={tmp_path}/b", "resume=true"], cwd=REPO, check=True,
                   capture_output=True)
    ka, kb = (torch.load(tmp_path / d / "last.pt", weights_only=True) for d in "ab")
    for k, v in ka["state_dict"].items():
        torch.testing.assert_close(kb["state_dict"][k], v, rtol=0, atol=1e-7)


def test_frames_with_keypoints_far_outside_the_image_are_not_used(tmp_path):
    """Synthetic 2D of points far outside a distorted image can be anything (thousands of
    widths away): such frames are never anchors or scored, and inputs are clamped."""
    from hpd3d.formats import load_2d, save_2d
    from train.data import build_data, window_for
    from train.models import build_model

    d = make_dataset(tmp_path / "oob", subjects=("S1",), actions=("walk", "jog"))
    pos, meta, extras = load_2d(d / "data_2d_tiny_gt.npz")
    pos["S1"]["walk"][0][10:13, 3] = [1e6, -3e5]  # frames 10-12 of camera 0: a wild ankle
    save_2d(d / "data_2d_tiny_gt.npz", pos, meta, extras)
    cfg = data_cfg(d, input_2d="gt", flip=0.0, split=dict(by="none"))
    tcn = build_model("videopose3d", receptive_field=27, channels=8)
    table, train, _ = build_data(cfg, window_for(tcn), need_val=False)
    v = next(v for v in table.views if v.action == "walk" and v.camera == 0)
    assert (~table.in_bounds).sum() == 3 and not table.in_bounds[v.start + 10 : v.start + 13].any()
    assert not np.isin(np.arange(v.start + 10, v.start + 13), train.anchor).any()
    assert len(train) == table.num_frames - 3
    x = train.batch(np.arange(len(train)))["inputs"]
    assert np.abs(x[..., :2]).max() <= 2 * (1 + 2 * 0.5)  # clamped to the image ± half its size
    assert table.describe()[0]["out_of_bounds_frames"] == 3


@pytest.mark.parametrize("exp", ["simplebaseline", "videopose3d", "motionbert"])
def test_every_config_composes_and_parses(exp):
    from omegaconf import OmegaConf

    from train.data import DataConfig
    from train.runner import build_lifter

    datas = sorted(p.stem for p in (CONF / "data").glob("*.yaml"))
    assert {"procedural", "procedural_test", "bvh_real", "mix", "demo"} <= set(datas)
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        for data in datas:
            cfg = compose("train", overrides=[f"exp={exp}", f"data={data}"])
            d = DataConfig.from_dict(OmegaConf.to_container(cfg.data))
            assert cfg.exp == exp and d.sources
            if data in ("bvh_real", "procedural_test"):
                assert [s.use for s in d.sources] == ["val"]
            if data == "mix":
                assert [s.weight for s in d.sources] == [3.0, 1.0] and d.epoch_samples
        cfg = compose("train", overrides=[f"exp={exp}"])
        lifter, _ = build_lifter(OmegaConf.to_container(cfg.model))
        assert lifter.name == exp and cfg.data.tag == "procedural"
        ev = compose("evaluate", overrides=["checkpoint=x.pt"])
        assert ev.data.tag == "bvh_real" and ev.split == "val"
