"""Helpers two stages share, defined once in hpd3d: BVH discovery and resampling, units,
scaling about the ground point, shard names."""

import numpy as np
import pytest

from hpd3d.anatomy import ground_point, scale_about_ground
from hpd3d.bvh import load_bvh
from hpd3d.bvh_files import find_bvh, resample_indices, select_frames
from hpd3d.config import find_shards, shard_dir, shard_name
from hpd3d.errors import InputError
from hpd3d.rig import UNIT_SCALES, detect_units, resolve_units, to_h36m
from hpd3d.skeleton import H36M, bone_lengths

from conftest import BVH_DIR, BVH_FILES


def test_find_bvh_folder_glob_file_and_errors(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for p in ("z.bvh", "a/y.bvh", "a/b/x.bvh", "a/notes.txt"):
        (tmp_path / p).write_text("")
    (tmp_path / "a" / "dir.bvh").mkdir()  # a folder named like a file is not a file
    want = [tmp_path / "a/b/x.bvh", tmp_path / "a/y.bvh", tmp_path / "z.bvh"]
    assert find_bvh(tmp_path) == want
    assert find_bvh(f"{tmp_path}/**/*.bvh") == want
    assert find_bvh(tmp_path / "z.bvh") == [tmp_path / "z.bvh"]
    with pytest.raises(InputError, match="no such file or folder"):
        find_bvh(tmp_path / "missing.bvh")
    with pytest.raises(InputError, match="no .bvh files"):
        find_bvh(tmp_path / "a" / "dir.bvh")
    with pytest.raises(InputError, match="required"):
        find_bvh(None)


def test_both_stages_use_the_one_discovery_and_resampling():
    import synth.inputs

    assert synth.inputs.find_bvh is find_bvh and synth.inputs.resample_indices is resample_indices
    pytest.importorskip("bpy")
    import blender.render

    assert blender.render.find_bvh is find_bvh and blender.render.select_frames is select_frames


def test_resample_keeps_duration_and_picks_the_nearest_frame():
    idx = resample_indices(120, 1 / 120, 30)  # 1 s at 120 fps → 30 frames at 30 fps
    assert len(idx) == 30 and list(idx[:3]) == [0, 4, 8]
    t_src, t_out = idx / 120, np.arange(30) / 30
    assert np.abs(t_src - t_out).max() <= 0.5 / 120 + 1e-12  # nearest source frame
    up = resample_indices(10, 1 / 10, 25)  # upsampling repeats frames, never past the end
    assert len(up) == 25 and up.max() == 9
    idx2, rate = select_frames(120, 1 / 120, 120.0, 30, start=2, stride=2, max_frames=5)
    assert list(idx2) == list(idx[2::2][:5]) and rate == 15.0


def test_units_one_resolver():
    bvh = load_bvh(BVH_FILES[0])
    assert resolve_units(bvh, "auto") == detect_units(bvh)
    assert resolve_units(bvh, "cm") == ("cm", UNIT_SCALES["cm"])
    assert resolve_units(bvh, 0.5) == ("0.5 m", 0.5)
    for bad in ("furlong", -1, 0, float("nan"), "nan"):
        with pytest.raises(InputError, match="units="):
            resolve_units(bvh, bad)
    np.testing.assert_allclose(to_h36m(bvh, units=0.5), to_h36m(bvh, units=1.0) * 0.5)


def test_scale_about_ground_point():
    x = to_h36m(load_bvh(BVH_DIR / "walk_23joint.bvh"))
    g = ground_point(x)
    assert g[2] == pytest.approx(x[..., 2].min())
    np.testing.assert_allclose(g[:2], x[:, 0, :2].mean(0))
    y, g2 = scale_about_ground(x, 1.2)
    np.testing.assert_array_equal(g, g2)
    np.testing.assert_allclose(bone_lengths(y), 1.2 * bone_lengths(x), rtol=1e-12)
    assert y[..., 2].min() == pytest.approx(x[..., 2].min())  # still on the floor
    np.testing.assert_allclose(y[:, 0, :2].mean(0), g[:2])  # where it stood
    y2, g3 = scale_about_ground(x, 0.8, floor_z=0.0)
    assert g3[2] == 0.0 and np.allclose((y2 - g3) / 0.8 + g3, x)


def test_shard_names_and_discovery(tmp_path):
    assert shard_name("synth", (0, 1)) == "synth" and shard_name("synth", (2, 4)) == "synth-2of4"
    assert shard_dir("out", (0, 1)).as_posix() == "out"
    assert shard_dir("out", (2, 4)).as_posix() == "out/shard-2of4"
    for i in (1, 0):
        d = shard_dir(tmp_path, (i, 2))
        d.mkdir()
        (d / f"data_3d_{shard_name('synth', (i, 2))}.npz").write_bytes(b"")
    assert find_shards(tmp_path, "synth") == [(tmp_path / "shard-0of2", "synth-0of2"),
                                              (tmp_path / "shard-1of2", "synth-1of2")]
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "data_3d_synth-1of2.npz").write_bytes(b"")
    with pytest.raises(InputError, match="shard 1/2 is also in"):
        find_shards(tmp_path, "synth")


def test_tree_walk_users_agree_with_the_skeleton():
    from synth.joint_rotation import subtree
    from synth.limits import MOVES

    for j in range(17):
        assert list(subtree(j)) == H36M.subtree(j)
        assert list(MOVES[j]) == H36M.subtree(j)[1:]
        # independent check: k is below j iff j is on k's chain to the root
        assert [k for k in range(17) if j in H36M.chain(k)] == H36M.subtree(j)


def test_augmentation_chain_is_a_table_of_one_file_steps():
    """Each augmentation is one module holding its config and its step; the chain runs the
    table's enabled steps in order (checked against calling them by hand)."""
    import dataclasses

    from synth import augment, body_augment, joint_rotation, knee

    assert [n for n, _ in augment.CHAIN] == ["body", "knee", "joints"]
    for (name, step), mod, cfg in zip(augment.CHAIN, (body_augment, knee, joint_rotation),
                                      (body_augment.BodyConfig, knee.KneeConfig,
                                       joint_rotation.JointsConfig)):
        assert step is mod.augment and cfg.__module__ == mod.__name__
        assert type(getattr(augment.AugmentConfig(), name)) is cfg
    seq = to_h36m(load_bvh(BVH_DIR / "walk_23joint.bvh"))[:60]
    cfg = augment.AugmentConfig()
    cfg.knee = dataclasses.replace(cfg.knee, prob=1.0)
    cfg.joints = dataclasses.replace(cfg.joints, prob=1.0)
    got = augment.augment_3d(seq, np.random.default_rng(1), cfg)
    rng = np.random.default_rng(1)
    want = joint_rotation.augment(knee.augment(body_augment.augment(seq, rng, cfg.body), rng,
                                               cfg.knee), rng, cfg.joints)
    np.testing.assert_array_equal(got, want)
    assert not np.allclose(got, seq)
    cfg.body = dataclasses.replace(cfg.body, enabled=False)
    rng = np.random.default_rng(1)
    np.testing.assert_array_equal(augment.augment_3d(seq, np.random.default_rng(1), cfg),
                                  joint_rotation.augment(knee.augment(seq, rng, cfg.knee),
                                                         rng, cfg.joints))
