"""Correlated body proportions (synth.body) and joint definitions (synth.joint_definitions)."""

from pathlib import Path

import numpy as np
import pytest

from hpd3d.skeleton import H36M
from synth import body as B
from synth import joint_definitions as JD

FLIP = np.asarray(H36M.flip_permutation)
MIRROR = np.array([-1.0, 1.0, 1.0])  # the rest pose's sagittal plane is x = 0


@pytest.fixture(scope="module")
def bodies():
    return B.sample_bodies(np.random.default_rng(3), 20000)


def test_proportions_in_stated_ranges_and_heights_exact(bodies):
    H = bodies.height
    rest = bodies.rest_pose()
    assert np.allclose(rest[:, 10, 2] - rest[:, 3, 2] + bodies.ankle_height, H, atol=1e-12)
    for name, (nom, sd) in B.FACTORS.items():
        if name in ("leg", "arm", "hip_width", "shoulder_width", "head", "ankle"):
            v = {"leg": bodies.length("thigh") + bodies.length("shank"),
                 "arm": bodies.length("upper_arm") + bodies.length("forearm"),
                 "head": bodies.length("neck") + bodies.length("head")}.get(
                     name, bodies.length(name) if name in B.RATIO_NAMES else None) / H
            lo, hi = nom * (1 - B.CLIP_SD * sd), nom * (1 + B.CLIP_SD * sd)
            assert lo - 1e-12 <= v.min() and v.max() <= hi + 1e-12, name
            assert v.std() / nom == pytest.approx(sd, rel=0.12), name   # SD as stated
            assert v.mean() == pytest.approx(nom, rel=0.01), name
    thigh = bodies.length("thigh") / H
    assert thigh.min() < 0.215 and thigh.max() > 0.275                # wider than ±6 %


def test_proportions_correlate_as_stated(bodies):
    H = bodies.height
    leg = (bodies.length("thigh") + bodies.length("shank")) / H
    arm = (bodies.length("upper_arm") + bodies.length("forearm")) / H
    head = (bodies.length("neck") + bodies.length("head")) / H
    trunk = (bodies.length("lumbar") + bodies.length("thoracic")) / H
    c = lambda a, b: np.corrcoef(a, b)[0, 1]
    assert 0.25 < c(leg, arm) < 0.5
    assert -0.7 < c(leg, head) < -0.4
    assert c(leg, trunk) < -0.5                                  # the trunk takes the rest
    assert 0.3 < c(leg, H) < 0.5 and -0.5 < c(head, H) < -0.3   # allometry
    # left and right are one body: symmetric rest pose
    rest = bodies[:50].rest_pose()
    assert np.allclose(rest[:, FLIP] * MIRROR, rest, atol=1e-12)


def test_mean_body_is_the_nominal_table():
    m = B.mean_body(1.7)
    for name in B.RATIO_NAMES:
        assert float(m.length(name)) == pytest.approx(B.RATIOS[name][0] * 1.7, rel=0.003), name


def _pose():
    rest = B.mean_body(1.75).rest_pose()
    t = np.linspace(0, 1, 6)[:, None, None]
    return rest[None] + 0.02 * np.sin(7 * t) * np.array([0.0, 1.0, 0.0])  # (6, 17, 3)


@pytest.mark.parametrize("name", list(JD.VARIANTS))
def test_each_variant_moves_only_its_joints_and_keeps_symmetry(name):
    x = _pose()
    rng = np.random.default_rng(0)
    for _ in range(5):
        p = JD.sample_params(rng, name)
        y = JD.apply_params(x, p)
        moved = np.flatnonzero(np.abs(y - x).max(axis=(0, 2)) > 1e-12)
        assert set(moved) <= set(JD.variant_joints(name))
        if name != "toolkit":
            assert len(moved) >= 3
        assert np.allclose(y[:, FLIP] * MIRROR, y, atol=1e-12)    # still mirror-symmetric
        for k in p:                                                 # within the ranges
            lo, hi = JD.VARIANTS[name].get(k, (JD.IDENTITY[k], JD.IDENTITY[k]))
            assert lo <= p[k] <= hi


def test_offsets_are_in_the_body_frames():
    x = _pose()
    p = dict(JD.IDENTITY, hip_out=0.1, hip_up=0.05, head_top=0.6, neck_to_base=0.5)
    y = JD.apply_params(x, p)
    hip_w = np.linalg.norm(x[0, 4] - x[0, 1])
    thigh = np.linalg.norm(x[0, 5] - x[0, 4])
    assert np.linalg.norm(y[0, 4] - y[0, 1]) == pytest.approx(1.2 * hip_w)
    assert y[0, 4, 2] - x[0, 4, 2] == pytest.approx(0.05 * thigh)   # up the pelvis axis
    assert np.allclose(y[:, 10], x[:, 9] + 0.6 * (x[:, 10] - x[:, 9]))  # from the nose
    assert np.allclose(y[:, 9], x[:, 9] + 0.5 * (x[:, 8] - x[:, 9]))
    # a rotated and translated body gets the rotated and translated offsets
    a = 0.7
    R = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    shift = np.array([0.3, -1.0, 0.2])
    assert np.allclose(JD.apply_params(x @ R.T + shift, p), y @ R.T + shift, atol=1e-12)


def test_reproducible_with_a_seed_and_off_is_identity():
    x = _pose()
    cfg = JD.JointDefConfig(enabled=True)
    a, na = JD.apply_joint_definition(x, np.random.default_rng([5, 1]), cfg)
    b, nb = JD.apply_joint_definition(x, np.random.default_rng([5, 1]), cfg)
    assert na == nb and np.array_equal(a, b)
    names = {JD.apply_joint_definition(x, np.random.default_rng(s), cfg)[1] for s in range(40)}
    assert names == set(JD.VARIANTS)
    off, _ = JD.apply_joint_definition(x, np.random.default_rng(0), JD.JointDefConfig())
    assert np.array_equal(off, x)
    with pytest.raises(ValueError):
        JD.JointDefConfig(variants=("nope",)).check()


def test_augment_stage_switch(tmp_path):
    """joint_def=mixed moves only the definition joints of the stage's 3D (everything else,
    drawn from the same seeds, stays: the definitions use a random stream of their own)."""
    from hydra import compose, initialize_config_dir

    from hpd3d.formats import load_3d
    from synth.augment_h36m import run

    repo = Path(__file__).resolve().parents[1]
    bvh = repo.parent / "shared" / "data" / "bvh" / "mixamo_rig.bvh"
    outs = {}
    for jd in ("none", "mixed"):
        with initialize_config_dir(str(repo / "conf"), version_base="1.3"):
            cfg = compose("augment_h36m", overrides=[
                f"out={tmp_path / jd}", "plots=false", f"input={bvh}", "fps=10", "repeats=4",
                f"joint_def={jd}"])
        outs[jd] = load_3d(run(cfg) / "data_3d_synth.npz")
    a, b = (np.concatenate(list(outs[k]["mixamo-rig"].values())) for k in ("none", "mixed"))
    moved = set(np.flatnonzero(np.abs(a - b).max(axis=(0, 2)) > 1e-6))
    allowed = set().union(*(JD.variant_joints(n) for n in JD.VARIANTS))
    assert moved and moved <= allowed
    assert {2, 3, 5, 6, 8, 12, 13, 15, 16}.isdisjoint(moved)   # knees, ankles, arms, thorax
