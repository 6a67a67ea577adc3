"""Sharded data generation: shards merged give the same BYTES as one run, also when the
shards run through Hydra's submitit launcher (``submitit_local`` here, ``submitit_slurm``
on a cluster)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from hpd3d.dataset import read_dataset
from hpd3d.formats import load_2d, load_3d, save_2d, save_3d
from synth.augment_h36m import run
from synth.merge import merge

from conftest import REPO

TINY = ["procedural.clips=3", "plots=false", "repeats=2", "fps=25", "format=mmpose"]


def _files(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and ".submitit" not in p.parts
            and p.name != "multirun.yaml" and "shard-" not in p.as_posix()}


def _cfg(out, *overrides):
    with initialize_config_dir(str(REPO / "conf"), version_base="1.3"):
        return compose("augment_h36m", overrides=[f"out={out}", *TINY, *overrides])


def _assert_same_bytes(a: Path, b: Path):
    fa, fb = _files(a), _files(b)
    assert sorted(fa) == sorted(fb)
    assert {"data_3d_synth.npz", "data_2d_synth_gt.npz", "data_2d_synth_noisy.npz",
            "camera_intrinsics.txt", "camera_extrinsics.txt", "mmpose/h36m_synth.npz",
            "mmpose/cameras.pkl"} <= set(fa)
    for name in fa:
        assert fa[name] == fb[name], f"{name} differs"


def test_three_shards_merged_byte_equal_to_one_run(tmp_path):
    one = run(_cfg(tmp_path / "one"))
    for i in range(3):
        run(_cfg(tmp_path / "sh", f"shard={i}/3"))
    merge(tmp_path / "sh", "synth", tmp_path / "merged", mmpose=True)
    _assert_same_bytes(one, tmp_path / "merged")
    # the shards really split the work: each holds some of the sequences, none twice
    seqs = [set((s, a) for s, acts in load_3d(p).items() for a in acts)
            for p in sorted((tmp_path / "sh").rglob("data_3d_*.npz"))]
    assert len(seqs) == 3 and all(seqs)
    assert sum(map(len, seqs)) == len(set().union(*seqs)) == 6


def test_read_then_write_gives_the_same_bytes(tmp_path):
    """An unpickled array has its own dtype object; pickle back-references a dtype it saw
    before, so without canonical dtypes the same content re-written differs in bytes."""
    out = run(_cfg(tmp_path / "a", "format=videopose3d"))
    p3 = load_3d(out / "data_3d_synth.npz")
    save_3d(tmp_path / "again_3d.npz", p3)
    assert (tmp_path / "again_3d.npz").read_bytes() == (out / "data_3d_synth.npz").read_bytes()
    p2, meta, extras = load_2d(out / "data_2d_synth_gt.npz")
    save_2d(tmp_path / "again_2d.npz", p2, meta, extras)
    assert (tmp_path / "again_2d.npz").read_bytes() == (out / "data_2d_synth_gt.npz").read_bytes()
    # and the order sequences were added in does not show in the files
    ds = read_dataset(out, "synth")
    for name in ("positions_3d", "positions_2d", "in_frame", "noisy_2d", "confidence",
                 "cameras"):
        d = getattr(ds, name)
        setattr(ds, name, {s: dict(reversed(d[s].items())) for s in reversed(d)})
    ds.write(tmp_path / "b", "synth")
    fa, fb = _files(out), _files(tmp_path / "b")
    assert fa == fb


@pytest.mark.slow
def test_submitit_local_launcher_two_shards_merge_byte_equal(tmp_path):
    """``-m shard=0/2,1/2 hydra/launcher=submitit_local``: the same command with
    ``submitit_slurm`` runs the shards as Slurm jobs. 25–40 s on 2 busy cores (submitit
    starts a Python per job); the fast in-process shard test covers the bytes."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    common = [f"{x}" for x in TINY]
    subprocess.run([sys.executable, "-m", "synth.augment_h36m", f"out={tmp_path / 'one'}",
                    *common], cwd=REPO, env=env, check=True, capture_output=True)
    r = subprocess.run([sys.executable, "-m", "synth.augment_h36m", "-m",
                        f"out={tmp_path / 'sh'}", *common, "shard=0/2,1/2",
                        "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5"],
                       cwd=REPO, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    jobs = list((tmp_path / "sh" / ".submitit").glob("*/*_result.pkl"))
    assert len(jobs) == 2  # two submitit jobs ran, one per shard
    r = subprocess.run([sys.executable, "-m", "synth.merge", f"dir={tmp_path / 'sh'}",
                        f"out={tmp_path / 'merged'}", "format=mmpose"],
                       cwd=REPO, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    _assert_same_bytes(tmp_path / "one", tmp_path / "merged")
    # the merged 3D is the union of the shards' 3D
    merged = load_3d(tmp_path / "merged" / "data_3d_synth.npz")
    for p in (tmp_path / "sh").rglob("data_3d_synth-*.npz"):
        for s, acts in load_3d(p).items():
            for a, x in acts.items():
                np.testing.assert_array_equal(merged[s][a], x)


def test_merge_refuses_a_missing_shard(tmp_path):
    from hpd3d.errors import InputError

    run(_cfg(tmp_path / "sh", "shard=1/3"))
    with pytest.raises(InputError, match=r"shards missing: \[0, 2\] of 3"):
        merge(tmp_path / "sh", "synth", tmp_path / "m")
    assert not (tmp_path / "m").exists()


# ---------------------------------------------------------------------------- DDP training
class _Fake:
    def __init__(self, n):
        self.source_of = np.zeros(n, int)

    def __len__(self):
        return len(self.source_of)


@pytest.mark.parametrize("n", [1001, 1000])
def test_ranks_take_equal_steps_and_together_one_process_batches(n):
    """Rank r of 2 with batch B sees, at every step, half of the batch of 2B that one
    process sees; both ranks take the same number of steps (else DDP would hang)."""
    from train.data import SourceSampler

    one = list(SourceSampler(_Fake(n), seed=3))
    ranks = []
    for r in range(2):
        s = SourceSampler(_Fake(n), seed=3)
        s.rank, s.world_size = r, 2
        ranks.append(list(s))
        assert len(ranks[-1]) == len(s) == n // 2
    B = 8
    for i in range(n // (2 * B)):
        step = ranks[0][i * B:(i + 1) * B] + ranks[1][i * B:(i + 1) * B]
        assert sorted(step) == sorted(one[2 * B * i: 2 * B * (i + 1)])


def _csv(path):
    import csv

    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_torchrun_two_cpu_processes_match_one_process(tmp_path):
    """``torchrun --nproc_per_node=2 -m train ... launcher=pytorch`` on CPU (gloo) against
    one process with twice the batch: the same samples per step and the averaged gradient,
    so the same metrics up to float32 summation order.

    The model is MotionBERT (LayerNorm: nothing mixes samples within a batch; BatchNorm
    models see B instead of 2B samples per statistic and differ by ~0.3 %, e.g. 459.6 vs
    458.0 mm for SimpleBaseline here). Tolerances: Adam moves a weight by at most ~lr per
    step whatever the gradient, and for weights whose gradient is ~0 the summation order
    decides the sign, so weights may differ by up to steps × lr (5 × 2e-4 here; measured
    5e-5). MPJPE and N-MPJPE move at most by the mean change of the predictions: measured
    ≤ 1e-3 mm of ~475 mm, bound 0.05 mm. P-MPJPE aligns each prediction by Procrustes,
    which is ill-conditioned on an untrained model's near-collapsed poses: measured 0.013
    and 0.066 mm in two runs, bound 0.2 mm (5e-4 relative). A wrong data split (each rank
    training on every sample, as before the process group was started ahead of the
    samplers) shows as twice the steps and metrics > 1 mm apart.
    About 130 s on 2 busy cores (torchrun's start and mmengine's import dominate)."""
    import torch

    from train.runner import train

    data = run(_cfg(tmp_path / "data", "name=tiny", "format=videopose3d", "repeats=1"))
    common = ["exp=motionbert", "model=motionbert_tiny", f"data.dir={data}",
              "data.name=tiny", "trainer.max_epochs=1", "threads=1", "data.input_2d=gt",
              "data.flip=0", "progress=false"]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    torchrun = Path(sys.executable).with_name("torchrun")
    r = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node=2", "-m", "train",
                        *common, f"work_dir={tmp_path / 'ddp'}", "trainer.batch_size=8",
                        "launcher=pytorch"], cwd=REPO, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    assert r.stdout.count("train: done") == 1  # rank 0 speaks
    with initialize_config_dir(str(REPO / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=[*common, f"work_dir={tmp_path / 'one'}",
                                          "trainer.batch_size=16"])
    train(cfg)
    ddp, one = _csv(tmp_path / "ddp" / "metrics.csv"), _csv(tmp_path / "one" / "metrics.csv")
    assert ddp[-1]["iter"] == one[-1]["iter"]  # the same number of steps
    for k, tol in (("val_mpjpe", 0.05), ("val_n_mpjpe", 0.05), ("val_p_mpjpe", 0.2)):
        assert abs(float(ddp[-1][k]) - float(one[-1][k])) < tol, (k, ddp[-1][k], one[-1][k])
    a = torch.load(tmp_path / "ddp" / "last.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "one" / "last.pt", weights_only=True)["state_dict"]
    steps, lr = int(one[-1]["iter"]), 2e-4
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < steps * lr


def test_submitit_slurm_launcher_composes_with_shards():
    """The cluster command's config: Slurm launcher, one job per shard, in ``out``."""
    with initialize_config_dir(str(REPO / "conf"), version_base="1.3"):
        cfg = compose("augment_h36m", return_hydra_config=True,
                      overrides=["hydra/launcher=submitit_slurm", "out=/scratch/big",
                                 "hydra.launcher.partition=cpu", "hydra.launcher.timeout_min=120"])
    launcher = cfg.hydra.launcher
    assert launcher._target_ == "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
    assert launcher.partition == "cpu" and launcher.timeout_min == 120
    assert cfg.hydra.sweep.dir == "/scratch/big" and cfg.hydra.sweep.subdir == "."


def test_equal_content_pickles_to_equal_bytes_whatever_the_object_identities(tmp_path):
    """One shared 'mocap' str (as one run has) or a new str per subject (as read back):
    the same bytes."""
    x = np.arange(2 * 17 * 3, dtype=np.float32).reshape(2, 17, 3)
    shared = {s: {"mocap": x.copy()} for s in ("a", "b", "c")}
    fresh = {s: {"".join(["mo", "cap"]): x.astype(np.dtype("float32").newbyteorder("="))}
             for s in ("a", "b", "c")}
    assert len({id(k) for acts in fresh.values() for k in acts}) == 3  # really new objects
    save_3d(tmp_path / "one.npz", shared)
    save_3d(tmp_path / "two.npz", fresh)
    assert (tmp_path / "one.npz").read_bytes() == (tmp_path / "two.npz").read_bytes()


def test_blender_shards_merged_byte_equal_to_one_run(tmp_path):
    pytest.importorskip("bpy")
    import shutil

    from blender.render import load_config
    from blender.render import run as render

    from conftest import BVH_DIR

    folder = tmp_path / "in"
    folder.mkdir()
    for n in ("mixamo_rig.bvh", "mocapbank_19joint.bvh", "walk_23joint.bvh"):
        shutil.copy(BVH_DIR / n, folder / n)
    common = [f"input={folder}", "max_frames=8", "camera.count=2"]
    render(load_config([f"out={tmp_path / 'one'}", *common]))
    for i in range(2):
        render(load_config([f"out={tmp_path / 'sh'}", *common, f"shard={i}/2"]))
    merge(tmp_path / "sh", "blender", tmp_path / "merged")
    for f in ("data_3d_blender.npz", "data_2d_blender_gt.npz", "camera_intrinsics.txt",
              "camera_extrinsics.txt"):
        assert (tmp_path / "one" / f).read_bytes() == (tmp_path / "merged" / f).read_bytes(), f
