"""Issue 11 (integrity): output folders a run owns, cameras above the floor, BVH rigs with
a zero-length head End Site or a rest pose that is not upright."""

from __future__ import annotations

import numpy as np
import pytest

from hpd3d.atomic import SHIPPED_DATA, atomic_dir, check_out_dir
from hpd3d.camera_sampling import CameraConfig, sample_cameras
from hpd3d.errors import InputError


# ----------------------------------------------------------------------- output folders
def test_atomic_dir_refuses_non_empty_and_replaces_as_a_whole(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:  # a new folder
        (tmp / "a.txt").write_text("1")
        (tmp / "stale.txt").write_text("old run")
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "stale.txt"]
    with pytest.raises(InputError, match="not empty.*overwrite=true"):
        with atomic_dir(out):
            pytest.fail("the body must not run")
    with atomic_dir(out, overwrite=True) as tmp:
        (tmp / "a.txt").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == ["a.txt"]  # nothing stale survives
    assert (out / "a.txt").read_text() == "2"
    with pytest.raises(RuntimeError):  # a failed run leaves the old folder untouched
        with atomic_dir(out, overwrite=True) as tmp:
            (tmp / "a.txt").write_text("3")
            raise RuntimeError("boom")
    assert (out / "a.txt").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary leftovers


def test_atomic_dir_keeps_the_entries_it_is_told_to(tmp_path):
    out = tmp_path / "out"
    (out / "shard-0of2").mkdir(parents=True)
    (out / "shard-0of2" / "x.npz").write_text("shard")
    (out / "old_merge.npz").write_text("stale")
    with pytest.raises(InputError, match="old_merge.npz"):  # shards alone do not count
        check_out_dir(out, keep=("shard-*of*",))
    check_out_dir(tmp_path / "none", keep=("shard-*of*",))
    with atomic_dir(out, overwrite=True, keep=("shard-*of*",)) as tmp:
        (tmp / "merged.npz").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["merged.npz", "shard-0of2"]
    assert (out / "shard-0of2" / "x.npz").read_text() == "shard"


def test_check_out_dir_refuses_files_shipped_data_and_unwritable(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InputError, match="exists and is not a folder"):
        check_out_dir(f)
    with pytest.raises(InputError, match="cannot write the output folder"):
        check_out_dir(f / "sub" / "out")
    with pytest.raises(InputError, match="shipped data/"):
        check_out_dir(SHIPPED_DATA / "eval_x", overwrite=True)
    with pytest.raises(InputError, match="shipped data/"):
        check_out_dir(SHIPPED_DATA, overwrite=True)
    assert not (SHIPPED_DATA / "eval_x").exists()


# ----------------------------------------------------------------------- cameras
def _standing(T=20) -> np.ndarray:
    """A person of 1.7 m standing on z = 0 (pelvis at 0.9 m), swaying a little."""
    from hpd3d.skeleton import H36M  # noqa: F401 (the layout: 17 joints)

    rng = np.random.default_rng(0)
    z = np.linspace(0.0, 1.7, 17)
    seq = np.zeros((T, 17, 3))
    seq[..., 2] = z
    seq[..., 0] = rng.normal(0, 0.05, (T, 17))
    seq[:, 0, 2] = 0.9
    return seq


@pytest.mark.parametrize("layout,elev", [("sphere", (-20.0, 60.0)), ("ring", (-5.0, 25.0))])
def test_no_camera_below_min_height(layout, elev):
    seq = _standing()
    centres = {}
    for min_height in (0.3, -1e9):  # -1e9: no clearance (what every camera did before)
        cfg = CameraConfig(layout=layout, elevation_deg=elev, count=4, distance=(3.5, 6.0),
                           min_height=min_height, distortion_prob=0.0, min_in_frame=0.0,
                           tries=8)
        cs = [c.C for s in range(150)
              for c in sample_cameras(np.random.default_rng(s), cfg, seq)[0]]
        centres[min_height] = np.asarray(cs)
    assert len(centres[0.3]) == 600 and centres[0.3][:, 2].min() >= 0.3 - 1e-9
    low = (centres[-1e9][:, 2] < 0.0).mean()
    if layout == "sphere":  # the unguarded sphere band puts cameras under the floor
        assert low > 0.05
    assert centres[0.3][:, 2].max() <= 0.9 + 0.15 + 6.0 * np.sin(np.radians(elev[1])) + 1e-9


def test_min_height_must_be_non_negative():
    with pytest.raises(ValueError, match="min_height"):
        CameraConfig(min_height=-0.1).check()


# ----------------------------------------------------------------------- BVH rigs
def _rig_bvh(head_end=(0.0, 18.0, 0.0), lying=False, frames=6) -> str:
    """A small Y-up rig in cm, 173 cm from the feet (y = 0) to the head End Site when
    standing. ``lying``: every offset turned so the rest pose points along +X, and the
    root's Z rotation (+90°) stands it up in the motion."""
    joints = [  # name, parent, offset (upright), end site offset or None
        ("Hips", None, (0, 0, 0), None),
        ("LeftUpLeg", "Hips", (10, 0, 0), None), ("LeftLeg", "LeftUpLeg", (0, -45, 0), None),
        ("LeftFoot", "LeftLeg", (0, -45, 0), (0, -5, 10)),
        ("RightUpLeg", "Hips", (-10, 0, 0), None),
        ("RightLeg", "RightUpLeg", (0, -45, 0), None),
        ("RightFoot", "RightLeg", (0, -45, 0), (0, -5, 10)),
        ("Spine", "Hips", (0, 20, 0), None), ("Neck", "Spine", (0, 30, 0), None),
        ("Head", "Neck", (0, 10, 0), head_end),
        ("LeftArm", "Neck", (18, -5, 0), None), ("LeftForeArm", "LeftArm", (28, 0, 0), None),
        ("LeftHand", "LeftForeArm", (25, 0, 0), (8, 0, 0)),
        ("RightArm", "Neck", (-18, -5, 0), None),
        ("RightForeArm", "RightArm", (-28, 0, 0), None),
        ("RightHand", "RightForeArm", (-25, 0, 0), (-8, 0, 0)),
    ]

    def turn(o):  # -90° about Z: +Y (up) → +X
        x, y, z = o
        return (y, -x, z) if lying else (x, y, z)

    kids = {}
    for name, parent, _, _ in joints:
        kids.setdefault(parent, []).append(name)
    info = {n: (o, e) for n, _, o, e in joints}
    lines = ["HIERARCHY"]

    def emit(name, depth):
        pad = "  " * depth
        o, end = info[name]
        kind = "ROOT" if depth == 0 else "JOINT"
        lines.append(f"{pad}{kind} {name}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {' '.join(f'{v:g}' for v in turn(o))}")
        chans = "6 Xposition Yposition Zposition" if depth == 0 else "3"
        lines.append(f"{pad}  CHANNELS {chans} Zrotation Xrotation Yrotation")
        for k in kids.get(name, []):
            emit(k, depth + 1)
        if end is not None:
            lines.append(f"{pad}  End Site")
            lines.append(f"{pad}  {{")
            lines.append(f"{pad}    OFFSET {' '.join(f'{v:g}' for v in turn(end))}")
            lines.append(f"{pad}  }}")
        lines.append(f"{pad}}}")

    emit("Hips", 0)
    n_ch = 6 + 3 * (len(joints) - 1)
    lines += ["MOTION", f"Frames: {frames}", "Frame Time: 0.02"]
    for t in range(frames):
        row = [0.0] * n_ch
        row[0], row[1], row[2] = 2.0 * t, 95.0, 0.0
        row[3] = 90.0 if lying else 0.0  # root Zrotation
        lines.append(" ".join(f"{v:g}" for v in row))
    return "\n".join(lines) + "\n"


def test_zero_length_head_end_site_is_extrapolated(tmp_path):
    from hpd3d.bvh import load_bvh
    from hpd3d.rig import map_rig, to_h36m

    good, zero = tmp_path / "good.bvh", tmp_path / "zero.bvh"
    good.write_text(_rig_bvh())
    zero.write_text(_rig_bvh(head_end=(0.0, 0.0, 0.0)))
    g, z = load_bvh(good), load_bvh(zero)
    assert "head" not in map_rig(g).interpolated
    rig = map_rig(z)
    assert "head" in rig.interpolated and "Head +" in rig.sources[10]
    x = to_h36m(z)
    # joint 10 no longer lands on joint 9: head + (head − thorax) = 155 + (155 − 145) cm
    assert np.linalg.norm(x[:, 10] - x[:, 9], axis=-1).min() == pytest.approx(0.10, abs=1e-9)
    assert x[:, 10, 2] == pytest.approx(np.full(6, 1.65), abs=1e-9)
    assert to_h36m(g)[:, 10, 2] == pytest.approx(np.full(6, 1.73), abs=1e-9)


def test_height_of_a_rig_whose_rest_pose_lies_down_comes_from_the_motion(tmp_path):
    from hpd3d.bvh import load_bvh
    from hpd3d.rig import detect_units, map_rig, standing_height, to_h36m

    up, lying = tmp_path / "up.bvh", tmp_path / "lying.bvh"
    up.write_text(_rig_bvh())
    lying.write_text(_rig_bvh(lying=True))
    a, b = load_bvh(up), load_bvh(lying)
    h_up, how_up = standing_height(a)
    h_lying, how_lying = standing_height(b)
    assert how_up == "rest pose" and h_up == pytest.approx(173.0, abs=1e-9)
    assert how_lying.startswith("motion") and h_lying == pytest.approx(173.0, abs=1e-6)
    # the rest pose of the lying rig says something else entirely (what was measured before)
    rest = b.rest_positions()
    assert abs(map_rig(b).apply(rest)[10, 1] - rest[:, 1].min() - 173.0) > 50
    # and the same motion either way: units and joints agree
    assert detect_units(b)[0] == detect_units(a)[0] == "cm"
    np.testing.assert_allclose(to_h36m(b), to_h36m(a), atol=1e-9)


def test_merge_into_the_shards_folder_keeps_them_and_owns_the_rest(tmp_path):
    from hydra import compose, initialize_config_dir

    from hpd3d.config import CONF_DIR
    from synth.augment_h36m import run
    from synth.merge import merge

    d = tmp_path / "d"
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        for i in range(2):
            run(compose("augment_h36m", overrides=[
                f"out={d}", f"shard={i}/2", "plots=false", "procedural.clips=2",
                "camera.count=1"]))
    (d / "multirun.yaml").write_text("hydra's record\n")
    merge(d, "synth")
    first = (d / "data_3d_synth.npz").read_bytes()
    (d / "stale.png").write_text("an earlier merge's plot")
    with pytest.raises(InputError, match="not empty"):
        merge(d, "synth")
    merge(d, "synth", overwrite=True)
    assert sorted(p.name for p in d.iterdir()) == [
        "camera_extrinsics.txt", "camera_intrinsics.txt", "data_2d_synth_gt.npz",
        "data_2d_synth_noisy.npz", "data_3d_synth.npz", "multirun.yaml", "shard-0of2",
        "shard-1of2"]
    assert (d / "data_3d_synth.npz").read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_train_overwrite_puts_the_old_work_dir_back_when_the_run_cannot_start(tmp_path, capsys):
    from train.__main__ import main

    w = tmp_path / "w"
    w.mkdir()
    (w / "epoch_3.pth").write_text("another run")
    with pytest.raises(SystemExit) as e:  # no data there: fails while building the run
        main([f"work_dir={w}", "overwrite=true", f"data.dir={tmp_path / 'missing'}"])
    assert e.value.code == 2 and "no such dataset folder" in capsys.readouterr().err
    assert (w / "epoch_3.pth").read_text() == "another run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]


def test_evaluate_never_writes_beside_a_shipped_checkpoint():
    from pathlib import Path

    from train.evaluate import default_out

    assert default_out(SHIPPED_DATA / "lifter_default.pt", "bvh_real") == Path(
        "out/eval_lifter_default_bvh_real")
    assert default_out(Path("runs/x/last.pt"), "bvh_real") == Path("runs/x/eval_bvh_real")
