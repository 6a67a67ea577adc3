"""A checkpoint is data, never code (issue 11 §1): a booby-trapped ``.pt`` whose unpickling
would create a file is refused in one line (exit 2) by ``load_lifter``, ``train.evaluate``,
``train model.checkpoint=`` and ``train resume=true``, and the file is not created; with
``trust_checkpoint=true`` the user's word is honoured. Real mmengine epoch files and the
MMPose / official MotionBERT / VideoPose3D layouts (numpy scalars, arrays, random states,
message hubs) still load with ``weights_only=True`` and no warning."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from hpd3d.errors import InputError
from train.models import build_model, load_checkpoint, load_lifter, load_model
from train.models.checkpoints import export_checkpoint
from train.models.safe_load import load_file

REPO = Path(__file__).resolve().parents[1]


class Payload:
    """Unpickling this runs ``touch <target>`` (``os.system``): what an attacker ships."""

    def __init__(self, target: Path):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def _tiny_sb():
    torch.manual_seed(0)
    return build_model("simplebaseline", channels=8).eval()


@pytest.fixture
def payload(tmp_path):
    """A native lifter checkpoint that would load fine but for the payload in its meta."""
    target = tmp_path / "pwned"
    obj = export_checkpoint(_tiny_sb(), "native")
    obj["meta"] = {"note": Payload(target)}
    path = tmp_path / "payload.pt"
    torch.save(obj, path)
    assert not target.exists()
    return path, target


def _refusal(path) -> str:
    return (f"{path}: cannot be read as plain data: it needs full unpickling (it refers to "
            f"{os.system.__module__}.system); pass trust_checkpoint=true if you trust it")


def test_payload_is_refused_by_every_loader(payload):
    path, target = payload
    for load in (lambda: load_lifter(path), lambda: load_model(path),
                 lambda: load_checkpoint(_tiny_sb(), path), lambda: load_file(path)):
        with pytest.raises(InputError) as e:
            load()
        assert str(e.value) == _refusal(path) and "\n" not in str(e.value)
    assert not target.exists()


def test_trust_checkpoint_honours_the_users_word(payload):
    path, target = payload
    lf = load_lifter(path, trust_checkpoint=True)
    assert target.exists()  # the payload ran: that is what trusting a file means
    assert lf.name == "simplebaseline" and lf.meta == {"note": 0}


def _run(module, *args):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, capture_output=True,
                          text=True, timeout=180, env=env)


def test_cli_evaluate_and_train_refuse_the_payload(payload, tmp_path, capsys):
    from test_train import cfg_for
    from train.runner import main_guarded

    path, target = payload
    r = _run("train.evaluate", f"checkpoint={path}", f"data.dir={tmp_path}/none",
             "data.sources=null")
    assert r.returncode == 2 and r.stderr.strip() == f"error: {_refusal(path)}", r.stderr
    # python -m train +exp=simplebaseline model.checkpoint=… (what its __main__ calls after
    # Hydra; in-process to keep the test quick), on a config that would fail fast anyway
    with pytest.raises(SystemExit) as e:
        main_guarded(cfg_for(tmp_path / "none", tmp_path / "w", "model=simplebaseline_small",
                             f"model.checkpoint={path}"))
    assert e.value.code == 2 and capsys.readouterr().err.strip() == f"error: {_refusal(path)}"
    assert not target.exists() and not (tmp_path / "w").exists()


def test_mmengine_epoch_files_resume_safely(tmp_path, capsys):
    from test_train import cfg_for, make_dataset
    from train.runner import main_guarded, train

    data = make_dataset(tmp_path / "data", subjects=("S1", "S2"), actions=("walk", "jog"))
    work = train(cfg_for(data, tmp_path / "run", "trainer.max_epochs=1", "ema=true"))
    epoch = work / "epoch_1.pth"
    # what mmengine really writes (message hub, numpy, EMA) reads as data, with no warning
    assert {"mmengine.logging.history_buffer.HistoryBuffer", "numpy.ndarray"} <= set(
        torch.serialization.get_unsafe_globals_in_checkpoint(epoch))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ck = load_file(epoch)
    assert ck["meta"]["epoch"] == 1 and "message_hub" in ck and "ema_state_dict" in ck

    def resume_fails(*needles):
        with pytest.raises(SystemExit) as e:
            main_guarded(cfg_for(data, work, "trainer.max_epochs=2", "resume=true"))
        err = capsys.readouterr().err.strip()
        assert e.value.code == 2 and len(err.splitlines()) == 1 and err.startswith("error: ")
        for n in needles:
            assert n in err, err

    pointer = (work / "last_checkpoint").read_text().strip()
    assert Path(pointer) == epoch
    epoch.write_bytes(epoch.read_bytes()[:50_000])  # a corrupt (truncated) epoch file
    resume_fails(f"error: {epoch}: not a PyTorch checkpoint")
    target = tmp_path / "pwned"  # an epoch file with a payload
    obj = dict(ck, meta=dict(ck["meta"], note=Payload(target)))
    torch.save(obj, epoch)
    resume_fails(_refusal(epoch))
    assert not target.exists()
    # (that the real file resumes to the same weights: tests/test_train.py)


def _numpy_meta() -> dict:
    return {"mmpose_version": "1.3.2", "epoch": 80, "iter": 12000, "seed": np.int64(21),
            "time": "Thu Jan  1 00:00:00 2024", "CLASSES": None,
            "dataset_meta": {"dataset_name": "h36m", "num_keypoints": 17,
                             "flip_indices": [0, 4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 11, 12, 13],
                             "sigmas": np.full(17, 0.05, np.float32),
                             "joint_weights": np.ones(17, np.float64)},
            "best_score": np.float64(41.7)}


def test_foreign_layouts_load_as_data(tmp_path):
    """The non-tensor objects the original trainers write: MMPose's meta (numpy arrays and
    scalars), VideoPose3D's ``random_state`` (a numpy RandomState state) and Adam state,
    MotionBERT's numpy ``min_loss``. ``weights_only=True`` alone refuses them all, so the
    allow-list is what makes them load."""
    vp = build_model("videopose3d", receptive_field=27, channels=16).eval()
    mb = build_model("motionbert", dim_feat=16, dim_rep=16, depth=1, num_heads=2, maxlen=27).eval()
    opt = torch.optim.Adam(vp.parameters())
    vp(torch.zeros(1, 27, 17, 2)).sum().backward()
    opt.step()
    files = {}
    mm = export_checkpoint(vp, "mmpose")
    files["mmpose"] = dict(mm, meta=_numpy_meta())
    files["videopose3d"] = dict(export_checkpoint(vp, "videopose3d"), epoch=80, lr=1e-4,
                                random_state=np.random.RandomState(1234).get_state(),
                                optimizer=opt.state_dict(), model_traj=None)
    files["motionbert"] = dict(export_checkpoint(mb, "motionbert"), epoch=60, lr=2e-4,
                               min_loss=np.float64(38.2), optimizer={"state": {}, "param_groups": []})
    files["videopose3d_legacy"] = files["videopose3d"]  # its 2019 files predate zip checkpoints
    for fmt, obj in files.items():
        path = tmp_path / f"{fmt}.pth"
        torch.save(obj, path, _use_new_zipfile_serialization=not fmt.endswith("legacy"))
        with pytest.raises(Exception):  # noqa: B017 - PyTorch's own weights_only refusal
            torch.load(path, weights_only=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            lf = load_lifter(path)
        assert lf.format == fmt.removesuffix("_legacy")
    assert load_lifter(tmp_path / "mmpose.pth").meta["dataset_meta"]["sigmas"].shape == (17,)
    assert load_lifter(tmp_path / "videopose3d.pth").meta == {"epoch": 80, "lr": 1e-4}


def test_restricted_getattr_fetches_history_statistics_only():
    import pickle

    from mmengine.logging.history_buffer import HistoryBuffer

    from train.models.safe_load import _history_buffer_getattr

    assert _history_buffer_getattr(HistoryBuffer, "mean") is HistoryBuffer.mean
    for obj, name in ((HistoryBuffer, "__init__"), (HistoryBuffer, "__class__"), (os, "system")):
        with pytest.raises(pickle.UnpicklingError):
            _history_buffer_getattr(obj, name)


def test_corrupt_files_are_one_short_line(tmp_path):
    ok = tmp_path / "ok.pt"
    torch.save(export_checkpoint(_tiny_sb(), "native"), ok)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(ok.read_bytes()[:3000])
    text = tmp_path / "text.pt"
    text.write_text("hello\n" * 20)
    for p in (cut, text):
        with pytest.raises(InputError, match="not a PyTorch checkpoint") as e:
            load_lifter(p)
        msg = str(e.value)
        assert "\n" not in msg and len(msg) < len(str(p)) + 120 and "pytorch.org" not in msg
    shutil.copy(ok, tmp_path / "copy.pt")
    assert load_lifter(tmp_path / "copy.pt").name == "simplebaseline"


def test_trusted_resume_lets_mmengine_unpickle_only_inside(payload):
    """``trust_checkpoint=true`` on ``resume=true``: mmengine's own ``torch.load`` (no
    ``weights_only`` argument) unpickles fully inside :func:`trusted_loads` only."""
    from train.models.safe_load import trusted_loads

    path, target = payload
    with trusted_loads(False), pytest.raises(Exception):  # noqa: B017
        torch.load(path)
    assert not target.exists()
    with trusted_loads(True), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch says it was asked not to use weights_only
        torch.load(path)
    assert target.exists() and "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD" not in os.environ
