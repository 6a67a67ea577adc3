"""The bad-input corpus (issue 11): every entry point, every case → exit status 2, exactly
one stderr line ``error: …`` naming the file (or the setting), no traceback, and nothing
partial or stale left behind. The corpus is written here, by the tests.

The commands run in-process through their real ``main`` (Hydra parsing, the error
wrapper, ``sys.exit``) to stay fast; a few run as subprocesses too, to pin the real exit
path. ``python tools/bad_input_table.py`` prints the same corpus as a markdown table.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))

MAINS = {
    "synth.make_motions": ("synth.make_motions", "main"),
    "synth.augment_h36m": ("synth.augment_h36m", "main"),
    "synth.merge": ("synth.merge", "main"),
    "train": ("train.__main__", "main"),
    "train.evaluate": ("train.evaluate", "main"),
    "blender.render": ("blender.render", "main"),
}
CKPT = REPO / "data" / "lifter_default.pt"


# ----------------------------------------------------------------------- input files
def rig_bvh(frames: int = 6, **kw) -> str:
    from test_integrity import _rig_bvh

    return _rig_bvh(frames=frames, **kw)


def zero_frames(path: Path) -> Path:
    text = rig_bvh()
    head, _ = text.split("MOTION\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + "MOTION\nFrames: 0\nFrame Time: 0.02\n")
    return path


def good(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rig_bvh(frames=12))
    return path


def a_file(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("not a folder\n")
    return path


def stale_folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "data_2d_synth_noisy.npz").write_text("from an earlier run")
    return path


def same_names(t: Path) -> Path:
    good(t / "in" / "a" / "walk.bvh")
    good(t / "in" / "b" / "walk.bvh")
    return t / "in"


def good_and_zero(t: Path) -> Path:
    good(t / "in" / "good.bvh")
    zero_frames(t / "in" / "empty.bvh")
    return t / "in"


# ----------------------------------------------------------------------- the corpus
@dataclass
class Case:
    id: str
    cmd: str
    what: str                                  # the bad input, in words
    args: Callable[[Path], list]               # tmp → command-line arguments
    needle: Callable[[Path], str]              # what the one error line must name
    setup: Callable[[Path], object] = lambda t: None
    written: Callable[[Path], set] = lambda t: set()  # files a run may leave (good inputs)
    code: int = 2
    tags: list = field(default_factory=list)


Q = "plots=false"
CASES = [
    # synth.make_motions
    Case("mm-out-file", "synth.make_motions", "out is an existing file",
         lambda t: [f"out={t / 'f'}", "clips=1"], lambda t: str(t / "f"), lambda t: a_file(t / "f")),
    Case("mm-out-unwritable", "synth.make_motions", "out below a file (cannot be made)",
         lambda t: [f"out={t / 'f' / 'o'}", "clips=1"], lambda t: str(t / "f" / "o"),
         lambda t: a_file(t / "f")),
    Case("mm-out-stale", "synth.make_motions", "out holds an earlier run (no overwrite=true)",
         lambda t: [f"out={t / 'o'}", "clips=1"], lambda t: "overwrite=true",
         lambda t: stale_folder(t / "o")),
    Case("mm-out-data", "synth.make_motions", "out inside the shipped data/ folder",
         lambda t: [f"out={REPO / 'data' / 'motions'}", "clips=1"], lambda t: "shipped data/"),
    Case("mm-fps0", "synth.make_motions", "fps=0", lambda t: [f"out={t / 'o'}", "fps=0"],
         lambda t: "fps"),
    Case("mm-typo", "synth.make_motions", "typo clip=3 (Hydra)",
         lambda t: [f"out={t / 'o'}", "clip=3"], lambda t: "conf/make_motions.yaml: unknown key 'clip'"),
    # synth.augment_h36m
    Case("aug-zero-frames", "synth.augment_h36m", "a zero-frame BVH",
         lambda t: [f"input={t / 'e.bvh'}", f"out={t / 'o'}", Q], lambda t: str(t / "e.bvh"),
         lambda t: zero_frames(t / "e.bvh")),
    Case("aug-folder-one-bad", "synth.augment_h36m", "a folder: one good, one zero-frame BVH",
         lambda t: [f"input={t / 'in'}", f"out={t / 'o'}", Q], lambda t: str(t / "in" / "empty.bvh"),
         good_and_zero, lambda t: {"o"}),
    Case("aug-same-name", "synth.augment_h36m", "two BVH files with the same name",
         lambda t: [f"input={t / 'in'}", f"out={t / 'o'}", Q],
         lambda t: str(t / "in" / "b" / "walk.bvh"), same_names, lambda t: {"o"}),
    Case("aug-out-file", "synth.augment_h36m", "out is an existing file",
         lambda t: [f"out={t / 'f'}", Q], lambda t: str(t / "f"), lambda t: a_file(t / "f")),
    Case("aug-out-unwritable", "synth.augment_h36m", "out below a file",
         lambda t: [f"out={t / 'f' / 'o'}", Q], lambda t: str(t / "f" / "o"), lambda t: a_file(t / "f")),
    Case("aug-out-stale", "synth.augment_h36m", "out holds an earlier run's _noisy.npz",
         lambda t: [f"out={t / 'o'}", Q], lambda t: "data_2d_synth_noisy.npz",
         lambda t: stale_folder(t / "o")),
    Case("aug-fisheye-mmpose", "synth.augment_h36m", "camera=fisheye format=mmpose",
         lambda t: [f"out={t / 'o'}", "camera=fisheye", "format=mmpose", Q], lambda t: "format=mmpose"),
    Case("aug-fps0", "synth.augment_h36m", "fps=0", lambda t: [f"out={t / 'o'}", "fps=0", Q],
         lambda t: "fps=0"),
    Case("aug-group-typo", "synth.augment_h36m", "knee=swingg (Hydra group option)",
         lambda t: [f"out={t / 'o'}", "knee=swingg"], lambda t: "knee=swingg: no such option"),
    # synth.merge
    Case("merge-out-file", "synth.merge", "out is an existing file",
         lambda t: [f"dir={t / 'd'}", f"out={t / 'f'}"], lambda t: str(t / "f"),
         lambda t: (a_file(t / "f"), _shards(t / "d"))),
    Case("merge-no-shards", "synth.merge", "dir without shards",
         lambda t: [f"dir={t}", f"out={t / 'o'}"], lambda t: str(t)),
    Case("merge-typo", "synth.merge", "typo nmae=x", lambda t: [f"dir={t}", "nmae=x"],
         lambda t: "unknown key 'nmae'"),
    # train
    Case("train-epochs0", "train", "trainer.max_epochs=0",
         lambda t: [f"work_dir={t / 'w'}", "trainer.max_epochs=0"], lambda t: "trainer.max_epochs=0"),
    Case("train-batch1", "train", "trainer.batch_size=1",
         lambda t: [f"work_dir={t / 'w'}", "trainer.batch_size=1"], lambda t: "trainer.batch_size=1"),
    Case("train-lr-neg", "train", "optim.lr=-0.001",
         lambda t: [f"work_dir={t / 'w'}", "optim.lr=-0.001"], lambda t: "optim.lr=-0.001"),
    Case("train-workdir-file", "train", "work_dir is an existing file",
         lambda t: [f"work_dir={t / 'f'}"], lambda t: str(t / "f"), lambda t: a_file(t / "f")),
    Case("train-workdir-stale", "train", "work_dir holds another run (no resume/overwrite)",
         lambda t: [f"work_dir={t / 'w'}"], lambda t: str(t / "w"),
         lambda t: stale_folder(t / "w")),
    Case("train-typo", "train", "typo trainr.max_epochs=3 (Hydra)",
         lambda t: [f"work_dir={t / 'w'}", "trainr.max_epochs=3"],
         lambda t: "conf/train.yaml: unknown key 'trainr.max_epochs'"),
    Case("train-exp-typo", "train", "exp=motionbrt (Hydra group option)",
         lambda t: [f"work_dir={t / 'w'}", "exp=motionbrt"], lambda t: "exp=motionbrt: no such option"),
    # train.evaluate
    Case("eval-skeletons0", "train.evaluate", "num_skeletons=0",
         lambda t: [f"checkpoint={CKPT}", f"out={t / 'o'}", "num_skeletons=0"],
         lambda t: "num_skeletons=0"),
    Case("eval-out-file", "train.evaluate", "out is an existing file",
         lambda t: [f"checkpoint={CKPT}", f"out={t / 'f'}"], lambda t: str(t / "f"),
         lambda t: a_file(t / "f")),
    Case("eval-out-unwritable", "train.evaluate", "out below a file",
         lambda t: [f"checkpoint={CKPT}", f"out={t / 'f' / 'o'}"], lambda t: str(t / "f" / "o"),
         lambda t: a_file(t / "f")),
    Case("eval-out-data", "train.evaluate", "out inside the shipped data/ folder",
         lambda t: [f"checkpoint={CKPT}", f"out={REPO / 'data' / 'eval'}"],
         lambda t: "shipped data/"),
    Case("eval-no-ckpt", "train.evaluate", "checkpoint that does not exist",
         lambda t: [f"checkpoint={t / 'none.pt'}", f"out={t / 'o'}"], lambda t: str(t / "none.pt")),
    # blender.render
    Case("render-fisheye", "blender.render", "camera=fisheye render.enabled=true",
         lambda t: [f"input={t / 'g.bvh'}", f"out={t / 'o'}", "camera=fisheye",
                    "render.enabled=true"], lambda t: "distortion",
         lambda t: good(t / "g.bvh"), tags=["bpy"]),
    Case("render-fps0", "blender.render", "fps=0",
         lambda t: [f"input={t / 'g.bvh'}", f"out={t / 'o'}", "fps=0"], lambda t: "fps=0",
         lambda t: good(t / "g.bvh"), tags=["bpy"]),
    Case("render-zero-frames", "blender.render", "a zero-frame BVH",
         lambda t: [f"input={t / 'e.bvh'}", f"out={t / 'o'}"], lambda t: str(t / "e.bvh"),
         lambda t: zero_frames(t / "e.bvh"), tags=["bpy"]),
    Case("render-folder-one-bad", "blender.render", "a folder: one good, one zero-frame BVH",
         lambda t: [f"input={t / 'in'}", f"out={t / 'o'}", "camera.count=1"],
         lambda t: str(t / "in" / "empty.bvh"), good_and_zero, lambda t: {"o"}, tags=["bpy"]),
    Case("render-same-name", "blender.render", "two BVH files with the same name",
         lambda t: [f"input={t / 'in'}", f"out={t / 'o'}", "camera.count=1"],
         lambda t: str(t / "in" / "b" / "walk.bvh"), same_names, lambda t: {"o"}, tags=["bpy"]),
    Case("render-out-file", "blender.render", "out is an existing file",
         lambda t: [f"input={t / 'g.bvh'}", f"out={t / 'f'}"], lambda t: str(t / "f"),
         lambda t: (good(t / "g.bvh"), a_file(t / "f")), tags=["bpy"]),
    Case("render-typo", "blender.render", "typo camra.count=2",
         lambda t: [f"input={t}", "camra.count=2"], lambda t: "unknown key 'camra.count'",
         tags=["bpy"]),
]


def _shards(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    return d


# ----------------------------------------------------------------------- running a case
def _tree(root: Path) -> set:
    return {str(p.relative_to(root)) for p in root.rglob("*")} if root.exists() else set()


def run_case(case: Case, tmp: Path) -> dict:
    """Run ``case`` in-process in a fresh folder ``tmp``; returns what happened."""
    tmp.mkdir(parents=True, exist_ok=True)
    case.setup(tmp)
    before, data_before, cwd_before = _tree(tmp), _tree(REPO / "data"), set(os.listdir(REPO))
    module, name = MAINS[case.cmd]
    main = getattr(importlib.import_module(module), name)
    err, out = io.StringIO(), io.StringIO()
    code, tb = 0, None
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            r = main(case.args(tmp))
            code = r if isinstance(r, int) else 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:  # noqa: BLE001 - a traceback is exactly what must not happen
            tb, code = traceback.format_exc(), 1
    allowed = case.written(tmp)
    new = {p for p in _tree(tmp) - before if p.split(os.sep)[0] not in allowed}
    left = sorted(new | {f"data/{p}" for p in _tree(REPO / "data") - data_before}
                  | {p for p in set(os.listdir(REPO)) - cwd_before})
    lines = err.getvalue().strip().splitlines()
    return {"code": code, "lines": lines, "traceback": tb, "left": left,
            "needle": case.needle(tmp), "stdout": out.getvalue()}


def check(case: Case, r: dict) -> None:
    assert r["traceback"] is None, r["traceback"]
    assert r["code"] == case.code, (r["code"], r["lines"])
    assert len(r["lines"]) == 1 and r["lines"][0].startswith("error: "), r["lines"]
    assert r["needle"] in r["lines"][0], (r["needle"], r["lines"][0])
    assert "Traceback" not in r["lines"][0]
    assert r["left"] == [], r["left"]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, tmp_path):
    if "bpy" in case.tags:
        pytest.importorskip("bpy")
    r = run_case(case, tmp_path)
    check(case, r)
    if case.id.endswith(("folder-one-bad", "same-name")):  # the good file is complete
        from hpd3d.dataset import read_dataset

        name = "blender" if case.cmd == "blender.render" else "synth"
        ds = read_dataset(tmp_path / "o", name)
        assert list(ds.positions_3d) == (["good"] if "one-bad" in case.id else ["walk"])
        assert not list((tmp_path / "o").glob(".*"))


# ----------------------------------------------------------------------- the real CLIs
def _cli(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_cli_subprocess_exit_paths(tmp_path):
    r = _cli("train", "trainr.max_epochs=3", f"work_dir={tmp_path / 'w'}")
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "error: conf/train.yaml: unknown key 'trainr.max_epochs' (a typo? `--help` lists "
        "every setting; a new key cannot be added from the command line)"]
    assert not (tmp_path / "w").exists()


def _help(cmd) -> str:
    module, name = MAINS[cmd]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as e:
        getattr(importlib.import_module(module), name)(["--help"])
    assert e.value.code in (0, None)
    return out.getvalue()


def test_help_says_what_with_two_examples_and_own_groups(tmp_path):
    text = _help("synth.augment_h36m")
    assert "Examples:" in text and text.count("python -m synth.augment_h36m ") == 3
    assert "knee: swing | none" in text and "model:" not in text
    text = _help("train")
    assert "exp: simplebaseline" in text and "knee:" not in text and "Examples:" in text
    text = _help("train.evaluate")
    assert "data: bvh_real" in text and "model:" not in text and "camera:" not in text
    pytest.importorskip("bpy")
    from blender.render import main as render_main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert render_main(["--help"]) == 0
    assert "camera: ring | sphere | fisheye" in out.getvalue()
    assert "python -m blender.render input=" in out.getvalue()
    from blender.make_scene import main as make_scene_main

    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with contextlib.redirect_stdout(out):
            assert make_scene_main(["--help"]) == 0
    finally:
        os.chdir(cwd)
    assert "Examples:" in out.getvalue() and "python -m blender.make_scene" in out.getvalue()
    assert list(tmp_path.iterdir()) == []  # no file named --help


def test_overwrite_replaces_the_folder_as_a_whole(tmp_path):
    from synth.augment_h36m import main

    stale_folder(tmp_path / "o")
    with contextlib.redirect_stdout(io.StringIO()):
        main([f"out={tmp_path / 'o'}", "overwrite=true", Q, "procedural.clips=2",
              "camera.count=1"])
    names = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert "data_2d_synth_noisy.npz" in names and (tmp_path / "o" / "data_3d_synth.npz").is_file()
    assert (tmp_path / "o" / "data_2d_synth_noisy.npz").read_bytes()[:2] == b"PK"  # the new one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_exp_without_plus_and_with_plus():
    from hpd3d.config import hydra_main

    seen = []

    @hydra_main("train")
    def main(cfg):
        seen.append((cfg.exp, cfg.model.name))

    main(["exp=motionbert"])
    main(["+exp=videopose3d"])
    assert seen == [("motionbert", "motionbert"), ("videopose3d", "videopose3d")]
