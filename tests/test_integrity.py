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
