"""The procedural motion library: bodies, motions, ground contact, writers, CLI."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hpd3d import anatomy, formats
from hpd3d.rig import y_up_to_z_up
from hpd3d.skeleton import H36M, bone_lengths
from synth import body as B
from synth import library
from synth import limits as L
from synth.motions import MOTIONS, ik
from synth.motions.ground import BODY_CLEARANCE, G, surface
from synth.motions.track import BODY, FLIGHT

REPO = Path(__file__).resolve().parents[1]

FPS = 50.0
AIRBORNE = ("jump", "run")   # motions with frames where no foot touches the ground


@pytest.fixture(scope="module")
def lib():
    # two clips of every motion, on several bodies
    return library.generate(2 * len(MOTIONS), seed=3, fps=FPS, duration=(2.0, 3.0),
                            clips_per_subject=4)


def _by_motion(lib, name):
    return [c for c in lib.clips if c.motion == name]


def _soles(c):
    return c.positions[:, [3, 6], 2] - float(c.body.ankle_height)


def _facing(c):
    return np.stack([np.sin(c.heading), -np.cos(c.heading), np.zeros_like(c.heading)], -1)


def test_every_motion_generates(lib):
    assert set(lib.summary()["motions"]) == set(MOTIONS)
    for c in lib.clips:
        T = c.num_frames
        assert 2.0 * FPS - 1 <= T <= 3.0 * FPS + 1
        assert c.positions.shape == (T, 17, 3) and np.isfinite(c.positions).all()
        assert c.angles.shape == (T, 17, 3) and c.root.shape == (T, 3)
        assert np.ptp(c.positions, axis=0).max() > 0.05, c.action   # something moves
    assert isinstance(lib, dict)          # generate() → {subject: {action: (T, 17, 3) float32}}
    assert lib[lib.clips[0].subject][lib.clips[0].action].shape == lib.clips[0].positions.shape
    p3d = lib.positions_3d
    assert p3d.keys() == lib.keys() and type(p3d) is dict
    assert sum(len(v) for v in p3d.values()) == len(lib.clips)
    assert all(a.dtype == np.float32 for v in p3d.values() for a in v.values())
    assert all(k.rsplit("_", 1)[0] in MOTIONS for v in p3d.values() for k in v)
    assert sorted(p3d) == [f"P{i:03d}" for i in range(len(p3d))]


def test_same_seed_identical_other_seed_differs():
    a = library.generate(len(MOTIONS), seed=11, duration=(1.0, 1.5))
    b = library.generate(len(MOTIONS), seed=11, duration=(1.0, 1.5))
    c = library.generate(len(MOTIONS), seed=12, duration=(1.0, 1.5))
    for x, y in zip(a.clips, b.clips):
        assert (x.subject, x.action) == (y.subject, y.action)
        assert x.positions.astype(np.float32).tobytes() == y.positions.astype(np.float32).tobytes()
        assert x.angles.tobytes() == y.angles.tobytes() and x.root.tobytes() == y.root.tobytes()
        assert library.bvh_io.dumps_bvh(library.to_bvh(x)) == library.bvh_io.dumps_bvh(library.to_bvh(y))
    pa, pc = a.positions_3d, c.positions_3d
    differ = [not (k in pc[s] and pa[s][k].shape == pc[s][k].shape and np.allclose(pa[s][k], pc[s][k]))
              for s in pa for k in pa[s] if s in pc]
    assert all(differ)


def test_files_hold_identical_arrays(tmp_path):
    for run in ("a", "b"):
        lib = library.generate(5, seed=4, duration=(1.0, 1.2))
        library.save_npz(lib, tmp_path / f"data_3d_{run}.npz")
    a, b = (formats.load_3d(tmp_path / f"data_3d_{r}.npz") for r in ("a", "b"))
    assert a.keys() == b.keys()
    for s in a:
        for k in a[s]:
            assert a[s][k].tobytes() == b[s][k].tobytes()


def test_bone_lengths_constant(lib):
    for c in lib.clips:
        bl = bone_lengths(c.positions)
        assert np.ptp(bl, axis=0).max() < 1e-6, c.action
        rest = np.linalg.norm(c.body.offsets[H36M.bones[:, 1]], axis=1)
        assert np.abs(bl - rest).max() < 1e-6
        bl32 = bone_lengths(c.positions.astype(np.float32).astype(np.float64))
        assert np.ptp(bl32, axis=0).max() < 4e-6   # float32 rounding only


def test_joint_angles_within_limits(lib):
    for c in lib.clips:
        assert L.within(c.angles).all(), (c.action, np.degrees(L.violation(c.angles)).max())


def test_feet_on_or_above_ground(lib):
    for c in lib.clips:
        sole = _soles(c)
        assert sole.min() > -1e-9, c.action
        others = np.delete(c.positions[..., 2], [3, 6], axis=1).min(axis=1)
        assert others.min() >= BODY_CLEARANCE - 1e-9, c.action   # nothing else sinks in
        toes = (sole - c.heel).min(axis=1)        # a raised heel stands on its toes
        assert c.heel.min() >= 0 and c.heel.max() < 0.15
        if c.motion in AIRBORNE:
            continue
        # every frame is supported: a foot touches (a free pose may rest on knees or hands;
        # BODY frames rest on whichever joint ball is lowest)
        support = np.minimum(toes, others - BODY_CLEARANCE)
        body = c.contact == BODY
        support[body] = surface(c.body, c.positions[body], c.heel[body]).min(axis=1)
        assert np.abs(support).max() < 1e-9, c.action
        if c.motion != "free":
            assert np.abs(toes[~body]).max(initial=0) < 1e-9, c.action


def test_jumps_leave_the_ground_and_fly_ballistically(lib):
    for c in _by_motion(lib, "jump") + _by_motion(lib, "run"):
        sole = _soles(c)
        air = sole.min(axis=1) > 0.01
        assert air.sum() >= 3, c.action
        on = np.abs((sole - c.heel).min(axis=1)) < 1e-9
        assert on.sum() > 0.3 * c.num_frames
    for c in _by_motion(lib, "jump"):
        sole = _soles(c)
        assert sole.min(axis=1).max() > 0.05                 # clearly off the floor
        assert np.abs((sole - c.heel).min(axis=1))[[0, -1]].max() < 1e-9   # starts and ends standing
        f = np.flatnonzero(c.contact == FLIGHT)
        assert len(f) >= 5
        acc = np.diff(c.root[f, 2], 2) * FPS ** 2            # the pelvis falls at g
        assert np.allclose(acc, -G, atol=1e-6), acc


def test_body_heights_and_proportions():
    bodies = B.sample_bodies(np.random.default_rng(0), 2000)
    rest = bodies.rest_pose()
    h = rest[:, 10, 2] - (rest[:, 3, 2] - bodies.ankle_height)
    assert np.allclose(h, bodies.height)
    assert h.min() >= 1.50 and h.max() <= 1.95 and h.min() < 1.52 and h.max() > 1.93
    thigh = bodies.length("thigh") / bodies.height
    assert 0.20 < thigh.min() and thigh.max() < 0.29 and np.ptp(thigh) > 0.05   # ratios vary
    assert np.allclose(rest[:, 0], 0)
    # one body from the batch is the same body
    assert np.allclose(bodies[7].offsets, bodies.offsets[7])


def test_heights_of_generated_subjects(lib):
    for c in lib.clips:
        rest = c.body.rest_pose()
        h = rest[10, 2] - rest[3, 2] + float(c.body.ankle_height)
        assert 1.50 <= h <= 1.95


def test_right_is_right():
    rest = B.mean_body().rest_pose()
    right = np.cross(B.FORWARD, B.UP)              # facing −Y, Z up: the body's right is −X
    for r, l in zip(H36M.right, H36M.left):
        assert (rest[r] - rest[l]) @ right > 0.1, H36M.joints[r]
    assert H36M.joints[1] == "right_hip" and (rest[1] - rest[0]) @ right > 0


def test_right_is_right_while_moving(lib):
    for c in _by_motion(lib, "walk") + _by_motion(lib, "squat"):
        right = np.cross(_facing(c), B.UP)
        side = np.einsum("ti,ti->t", c.positions[:, 1] - c.positions[:, 4], right)
        assert (side > 0.05).all()
        side = np.einsum("ti,ti->t", c.positions[:, 14] - c.positions[:, 11], right)
        assert (side > 0.05).all()


def test_squat_goes_below_90_degrees(lib):
    for c in _by_motion(lib, "squat"):
        assert np.degrees(c.angles[:, [2, 5], 0]).max() > 90
        measured = anatomy.hinge_flexion(c.positions, "right_knee")
        assert measured.max() > 90
        # feet stay put through the squat
        assert np.ptp(c.positions[:, [3, 6], :2], axis=0).max() < 1e-6


def test_walk_alternates_feet(lib):
    for c in _by_motion(lib, "walk"):
        f = _facing(c)
        fwd = [np.einsum("ti,ti->t", c.positions[:, a] - c.positions[:, 0], f) for a in (3, 6)]
        assert np.corrcoef(*fwd)[0, 1] < -0.5
        assert np.ptp(fwd[0]) > 0.3                    # strides, not shuffles
        path = np.linalg.norm(np.diff(c.root[:, :2], axis=0), axis=1).sum() / (c.num_frames / FPS)
        assert 0.5 < path < 2.5                        # metres per second


def test_feet_on_the_ground_do_not_slide(lib):
    for c in lib.clips:
        sole = _soles(c) - c.heel
        for k, a in enumerate((3, 6)):
            on = (np.abs(sole[1:, k]) < 1e-9) & (np.abs(sole[:-1, k]) < 1e-9)
            step = np.linalg.norm(np.diff(c.positions[:, a, :2], axis=0), axis=1)
            assert step[on].max(initial=0) < 1e-5, (c.action, step[on].max())


def test_leg_ik_reaches_targets():
    body = B.mean_body(1.8)
    T = 40
    rng = np.random.default_rng(0)
    pelvis = np.zeros((T, 3))
    pelvis[:, 1] = rng.uniform(-0.1, 0.2, T)
    pelvis[:, 2] = rng.uniform(0.55, 0.85, T)
    tilt = np.zeros((T, 3))
    tilt[:, 0] = np.radians(rng.uniform(0, 30, T))
    ft = ik.feet(body, 0.3, T)
    a = ik.leg_ik(body, pelvis, tilt, ft, knee_out=np.radians(10))
    a[:, 0] = tilt
    x = B.fk(body.offsets, L.to_matrix(a), pelvis)
    assert np.abs(x[:, [3, 6]] - ft).max() < 1e-9
    assert L.within(a).all()


def test_bvh_round_trip(tmp_path, lib):
    clips = lib.clips[:: max(1, len(lib.clips) // 8)]
    sub = library.Library(clips, lib.bodies, lib.seed, lib.fps)
    for units, scale in (("m", 1.0), ("cm", 100.0)):
        paths = library.save_bvh_dir(sub, tmp_path / f"bvh_{units}", units=units)
        for c, p in zip(clips, paths):
            b = library.bvh_io.load_bvh(p)
            assert b.fps == pytest.approx(FPS) and b.num_frames == c.num_frames
            x = b.fk()[:, [b.index(n) for n in H36M.joints]] / scale
            world = y_up_to_z_up(x)                      # BVH (x, y, z) → world (x, −z, y)
            assert np.abs(world - c.positions).max() <= 1e-5, p.name


def test_bvh_through_the_rig_mapper(tmp_path, lib):
    """The toolkit's own BVH files come back through hpd3d.rig (the route every BVH
    input takes) joint for joint, in metres, whatever units they were written in."""
    from hpd3d.rig import map_rig, to_h36m

    clip = lib.clips[0]
    sub = library.Library([clip], lib.bodies, lib.seed, lib.fps)
    for units in ("m", "cm"):
        (path,) = library.save_bvh_dir(sub, tmp_path / units, units=units)
        b = library.bvh_io.load_bvh(path)
        assert map_rig(b).interpolated == ()
        assert np.abs(to_h36m(b) - clip.positions).max() <= 1e-5


def test_procedural_poses_are_within_the_augmentation_limits(lib):
    """The position-measured limits the augmentations enforce accept the generator's
    poses (both limit tables describe the same body)."""
    from synth.limits_pose import within_limits

    x = np.concatenate([c.positions for c in lib.clips])
    assert within_limits(x).mean() >= 0.995


def test_tracks_file(tmp_path, lib):
    library.save_tracks(lib, tmp_path / "motions_t.npz")
    z = np.load(tmp_path / "motions_t.npz", allow_pickle=True)
    tracks = z["tracks"].item()
    c = lib.clips[0]
    t = tracks[c.subject][c.action]
    assert t["motion"] == c.motion and np.allclose(t["angles"], c.angles, atol=1e-6)
    assert np.allclose(z["limits_deg"], L.LIMITS_DEG)


def test_bad_arguments_raise():
    for kw in ({"n_clips": 0}, {"n_clips": 3, "motions": ["walk", "moonwalk"]},
               {"n_clips": 3, "duration": (3.0, 2.0)}, {"n_clips": 3, "fps": 0}):
        with pytest.raises(ValueError):
            library.generate(**kw)


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "synth.make_motions", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_cli_writes(tmp_path):
    out = tmp_path / "m"
    r = _cli(f"out={out}", "clips=3", "seed=1", "duration=[1,1.5]", "name=t", "bvh=true",
             cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "3 clips" in r.stdout and str(out / "data_3d_t.npz") in r.stdout
    data = formats.load_3d(out / "data_3d_t.npz")
    assert sum(len(v) for v in data.values()) == 3
    assert len(list((out / "bvh_t").glob("*.bvh"))) == 3 and (out / "motions_t.npz").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]   # no Hydra outputs/ or logs
    r = _cli(f"out={tmp_path / 'bad'}", "clips=0", cwd=tmp_path)
    assert r.returncode == 2 and not (tmp_path / "bad").exists()
    assert r.stderr.strip() == "error: clips: must be a positive integer, got 0"


@pytest.mark.parametrize("override", ["clips=-2", "motions=[walk,moonwalk]", "duration=[3,2]",
                                      "bvh_units=inch", "fps=0", "height=[1.9,1.6]",
                                      "seed=abc", "clips=2.5"])
def test_cli_refuses_bad_config(tmp_path, capsys, override):
    from hydra import compose, initialize_config_dir

    from hpd3d.errors import cli_guard
    from synth import make_motions

    bad = tmp_path / "bad"
    with initialize_config_dir(str(REPO / "conf"), version_base="1.3"):
        cfg = compose("make_motions", overrides=[f"out={bad}", override])
    with pytest.raises(SystemExit) as e:
        cli_guard(make_motions.run)(cfg)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    assert not bad.exists()
