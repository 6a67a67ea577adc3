"""``python -m infer.detect_dataset``: real MediaPipe 2D on rendered humans with exact 3D.

One small render (two real BVH motions, the anny body, two cameras, 320x240, a few frames)
is made once for the module; the tests detect it and check the dataset against the
render's own files: layout and frame counts equal to the 3D, the detections near the
exact projections, shards merged by ``synth.merge`` byte-equal to one run, bad input
refused before any work, and ``train.evaluate`` on the detector's 2D vs the exact 2D.
"""

from __future__ import annotations

import contextlib
import filecmp
import importlib.util
import io
import json
import shutil

import numpy as np
import pytest

pytest.importorskip("bpy")
pytest.importorskip("mediapipe")
if importlib.util.find_spec("anny") is None:
    pytest.skip("the anny package is not installed (render.subject=anny)", allow_module_level=True)

from hpd3d.dataset import read_dataset  # noqa: E402
from hpd3d.formats import load_2d, load_3d  # noqa: E402

from conftest import REPO  # noqa: E402

MOTIONS = ("mixamo_rig.bvh", "walk_23joint.bvh")
FILES = ("data_3d_blender.npz", "data_2d_blender_gt.npz", "data_2d_blender_mediapipe.npz",
         "camera_intrinsics.txt", "camera_extrinsics.txt")


def _main(module: str, args) -> tuple[int, str, str]:
    """Run a command's real ``main`` in-process → (exit status, stdout, stderr)."""
    mod = importlib.import_module(module)
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            r = mod.main([str(a) for a in args])
            code = r if isinstance(r, int) else 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, bvh_dir):
    """Two motions, anny body, 2 cameras, 320x240, 6 frames each (~10 s)."""
    from blender.render import load_config, run

    root = tmp_path_factory.mktemp("detds")
    src = root / "bvh"
    src.mkdir()
    for m in MOTIONS:
        (src / m).symlink_to(bvh_dir / m)
    out = root / "render"
    run(load_config([f"input={src}", f"out={out}", "start=10", "stride=6", "max_frames=6",
                     "camera.count=2", "camera.resolutions=[[320,240]]", "render.enabled=true",
                     "render.subject=anny", "seed=3"]))
    return out


@pytest.fixture(scope="module")
def detected(rendered):
    out = rendered.parent / "mp"
    code, stdout, err = _main("infer.detect_dataset", [f"input={rendered}", f"out={out}"])
    assert code == 0, err
    return out


def test_layout_equals_the_3d(rendered, detected):
    """Same sequences, cameras and frame counts as the 3D; the 3D, exact 2D and camera files
    are the input's bytes; the detector file says what made it."""
    for f in FILES:
        if "mediapipe" not in f:
            assert filecmp.cmp(rendered / f, detected / f, shallow=False), f
    pos3d = load_3d(detected / "data_3d_blender.npz")
    uv, meta, extras = load_2d(detected / "data_2d_blender_mediapipe.npz")
    gt, gt_meta, _ = load_2d(rendered / "data_2d_blender_gt.npz")
    assert set(extras) == {"confidence_2d", "detected_2d"}
    assert {s: set(a) for s, a in uv.items()} == {s: set(a) for s, a in pos3d.items()}
    assert len(pos3d) == len(MOTIONS)
    for s, acts in pos3d.items():
        for a, x in acts.items():
            assert len(uv[s][a]) == 2
            for c in range(2):
                T = len(x)
                assert uv[s][a][c].shape == (T, 17, 2)
                conf, found = extras["confidence_2d"][s][a][c], extras["detected_2d"][s][a][c]
                assert conf.shape == (T, 17) and found.shape == (T, 17) and found.dtype == bool
                assert (found == found[:, :1]).all()  # per frame
                assert ((conf >= 0) & (conf <= 1)).all() and (conf[~found] == 0).all()
    import mediapipe

    det = meta["detector"]
    assert det["name"] == "mediapipe" and det["version"] == mediapipe.__version__
    assert det["model_complexity"] == 1 and det["static_image_mode"] is False
    assert meta["video_metadata"] == gt_meta["video_metadata"]
    assert all(v == {"w": 320, "h": 240} for v in meta["video_metadata"].values())
    ds = read_dataset(detected, "blender")  # the toolkit reads it back as one dataset
    assert set(ds.detections) == {"mediapipe"}
    assert ds.detections["mediapipe"].info == det


def test_detections_near_the_exact_projections(detected):
    """PCK@0.2 (of the torso: thorax–pelvis distance) of MediaPipe vs the exact 2D on the
    detected frames. Measured on this render: 0.945 over the 16 joints but the head and
    0.907 over all 17 (every frame detected); the head is a definition gap (H36M's head top
    vs a point made from BlazePose's face landmarks: PCK 0.29, median error 0.22 torso),
    the wrists and elbows are the worst real joints (0.6–0.9). Bounds 0.85 and 0.8; the
    same 2D with left and right exchanged scores far lower (the bound sees a swap)."""
    uv, _, extras = load_2d(detected / "data_2d_blender_mediapipe.npz")
    gt, _, _ = load_2d(detected / "data_2d_blender_gt.npz")
    hits, n_found, n = [], 0, 0
    swapped = []
    from hpd3d.skeleton import H36M

    flip = np.arange(17)
    left, right = H36M.symmetry
    flip[left], flip[right] = right, left
    for s in uv:
        for a in uv[s]:
            for c, p in enumerate(uv[s][a]):
                g = gt[s][a][c]
                found = extras["detected_2d"][s][a][c][:, 0]
                torso = np.linalg.norm(g[:, 8] - g[:, 0], axis=-1)[:, None]
                hit = np.linalg.norm(p - g, axis=-1) < 0.2 * torso
                hits.append(hit[found])
                swapped.append((np.linalg.norm(p[:, flip] - g, axis=-1) < 0.2 * torso)[found])
                n_found += found.sum()
                n += len(found)
    hits, swapped = np.concatenate(hits), np.concatenate(swapped)
    body = np.delete(np.arange(17), 10)  # all but the head
    pck, pck_all = hits[:, body].mean(), hits.mean()
    print(f"PCK@0.2 torso {pck:.3f} (with the head {pck_all:.3f}), swapped "
          f"{swapped[:, body].mean():.3f}, detected {n_found}/{n}")
    assert n_found / n >= 0.9
    assert pck >= 0.85 and pck_all >= 0.8
    assert swapped[:, body].mean() < pck - 0.2  # the bound tells left from right


def test_shards_merge_byte_equal(rendered, detected, tmp_path):
    sh = tmp_path / "sharded"
    for i in range(2):
        code, _, err = _main("infer.detect_dataset", [f"input={rendered}", f"out={sh}",
                                                      f"shard={i}/2"])
        assert code == 0, err
        assert (sh / f"shard-{i}of2" / f"data_2d_blender-{i}of2_mediapipe.npz").is_file()
    code, _, err = _main("synth.merge", [f"dir={sh}", "name=blender"])
    assert code == 0, err
    for f in FILES:
        assert filecmp.cmp(sh / f, detected / f, shallow=False), f


def _bad(tmp_path, rendered, kind):
    """A broken copy of the render (hard links: cheap)."""
    bad = tmp_path / kind
    shutil.copytree(rendered, bad, copy_function=lambda a, b: shutil.copy2(a, b))
    videos = sorted((bad / "video").rglob("*.mp4"))
    if kind == "no_videos":
        shutil.rmtree(bad / "video")
    elif kind == "short_video":  # another video, one frame shorter, in place of the first
        import cv2

        cap = cv2.VideoCapture(str(videos[0]))
        frames = []
        while True:
            ok, f = cap.read()
            if not ok:
                break
            frames.append(f)
        cap.release()
        videos[0].unlink()
        w = cv2.VideoWriter(str(videos[0]), cv2.VideoWriter_fourcc(*"mp4v"), 30, (320, 240))
        for f in frames[:-1]:
            w.write(f)
        w.release()
    return bad, videos[0]


@pytest.mark.parametrize("kind", ["missing", "no_videos", "short_video", "no_3d"])
def test_bad_input_one_line_exit_2(rendered, tmp_path, kind):
    if kind == "missing":
        inp, needle = tmp_path / "nowhere", "no such folder"
    elif kind == "no_3d":
        inp, needle = tmp_path / "empty", "no data_3d_"
        inp.mkdir()
    else:
        inp, video = _bad(tmp_path, rendered, kind)
        needle = "no video" if kind == "no_videos" else "frames, but the 3D of"
    out = tmp_path / "out"
    code, _, err = _main("infer.detect_dataset", [f"input={inp}", f"out={out}"])
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith("error: ") and needle in lines[0], lines[0]
    if kind == "short_video":
        assert str(video) in lines[0]
    assert not out.exists()  # refused before any work: nothing written


def test_help_lists_examples():
    code, out, _ = _main("infer.detect_dataset", ["--help"])
    assert code == 0 and "python -m infer.detect_dataset input=" in out and "shard=0/2" in out and "synth.merge" in out


def test_evaluate_on_detector_vs_exact_2d(detected, tmp_path):
    """train.evaluate reads the detector's 2D (input_2d=mediapipe) and the exact 2D of the
    same frames (input_2d=gt): finite numbers, and different ones. Frames marked undetected
    are not scored and are counted."""
    res = {}
    for i2 in ("mediapipe", "gt"):
        code, _, err = _main("train.evaluate", [
            f"checkpoint={REPO / 'data' / 'lifter_default.pt'}", "data=rendered_mediapipe",
            f"data.dir={detected}", f"out={tmp_path / i2}", f"input_2d={i2}", "plots=false"])
        assert code == 0, err
        res[i2] = json.loads((tmp_path / i2 / "metrics.json").read_text())
    m, g = res["mediapipe"], res["gt"]
    for s in (m, g):
        assert np.isfinite([s["mpjpe_mm"], s["p_mpjpe_mm"]]).all()
        assert s["detection"]["detector"] == "mediapipe"
    assert m["frames"] == g["frames"] == m["detection"]["detected"]
    assert abs(m["mpjpe_mm"] - g["mpjpe_mm"]) > 1.0
    # two frames of one view marked undetected: 2 fewer scored, counted as such
    from hpd3d.formats import save_2d

    cut = tmp_path / "cut"
    shutil.copytree(detected, cut)
    f = cut / "data_2d_blender_mediapipe.npz"
    uv, meta, extras = load_2d(f)
    s = sorted(uv)[0]
    a = sorted(uv[s])[0]
    extras["detected_2d"][s][a][1][2:4] = False
    extras["confidence_2d"][s][a][1][2:4] = 0
    f.unlink()
    save_2d(f, uv, meta, extras)
    code, _, err = _main("train.evaluate", [
        f"checkpoint={REPO / 'data' / 'lifter_default.pt'}", "data=rendered_mediapipe",
        f"data.dir={cut}", f"out={tmp_path / 'cut_eval'}", "input_2d=gt", "plots=false"])
    assert code == 0, err
    c = json.loads((tmp_path / "cut_eval" / "metrics.json").read_text())
    assert c["detection"]["detected"] == m["detection"]["detected"] - 2
    assert c["frames"] == g["frames"] - 2 and c["unscored_frames"] == g["unscored_frames"] + 2
