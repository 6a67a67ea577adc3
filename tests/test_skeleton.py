"""Skeleton layouts and joint maps: orders, symmetry, conversions."""

import subprocess
import sys

import numpy as np

from hpd3d import skeleton as sk
from hpd3d.normalization import Normalization, denormalize_screen, normalize_screen


def test_h36m_order_and_right_leg():
    j = sk.H36M.joints
    assert j[0] == "pelvis" and j[1:4] == ("right_hip", "right_knee", "right_ankle")
    assert j[4:7] == ("left_hip", "left_knee", "left_ankle")
    assert j[7:11] == ("spine", "thorax", "neck", "head")
    assert j[11:14] == ("left_shoulder", "left_elbow", "left_wrist")
    assert j[14:17] == ("right_shoulder", "right_elbow", "right_wrist")
    # VideoPose3D's keypoints_symmetry for H36M
    assert sk.H36M.symmetry == [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]


def test_every_layout_is_consistent():
    for s in sk.LAYOUTS.values():
        n = s.num_joints
        assert len(set(s.joints)) == n
        assert len(s.left) == len(s.right) and not set(s.left) & set(s.right)
        for a, b in zip(s.left, s.right):  # twins share their name but for the side
            assert s.joints[a].replace("left", "X") == s.joints[b].replace("right", "X")
        if s.parents is not None:
            assert len(s.parents) == n and sum(p < 0 for p in s.parents) == 1
            assert len(s.bones) == n - 1
        perm = s.flip_permutation
        assert np.array_equal(perm[perm], np.arange(n))


def test_h36m32_reduction_keeps_the_named_joints():
    x = np.random.default_rng(0).normal(size=(5, 32, 3))
    y = sk.h36m32_to_h36m(x)
    names32 = np.array(sk.H36M32.joints)[sk.H36M32_TO_17]
    assert list(names32[[1, 2, 3, 4, 5, 6]]) == ["right_hip", "right_knee", "right_foot",
                                                 "left_hip", "left_knee", "left_foot"]
    assert list(names32[11:]) == ["left_shoulder", "left_elbow", "left_wrist",
                                  "right_shoulder", "right_elbow", "right_wrist"]
    np.testing.assert_array_equal(y[:, 16], x[:, 27])
    # the reduced tree: each kept joint's 17-layout parent is its nearest kept ancestor,
    # except the shoulders, which VideoPose3D rewires from spine1 (7) to the thorax (8)
    kept = list(sk.H36M32_TO_17)
    for i, j32 in enumerate(kept[1:], start=1):
        p = sk.H36M32.parents[j32]
        while p not in kept:
            p = sk.H36M32.parents[p]
        expected = 8 if i in (11, 14) else kept.index(p)
        assert sk.H36M.parents[i] == expected


def test_coco_to_h36m_matches_mmpose_definition():
    rng = np.random.default_rng(1)
    c = rng.normal(size=(4, 17, 2))
    h = sk.coco_to_h36m(c)
    pelvis = (c[:, 11] + c[:, 12]) / 2
    thorax = (c[:, 5] + c[:, 6]) / 2
    np.testing.assert_allclose(h[:, 0], pelvis)
    np.testing.assert_allclose(h[:, 8], thorax)
    np.testing.assert_allclose(h[:, 7], (pelvis + thorax) / 2)
    np.testing.assert_allclose(h[:, 10], (c[:, 1] + c[:, 2]) / 2)
    np.testing.assert_allclose(h[:, [1, 2, 3, 4, 5, 6, 9, 11, 12, 13, 14, 15, 16]],
                               c[:, [12, 14, 16, 11, 13, 15, 0, 5, 7, 9, 6, 8, 10]])
    # sides agree by name
    for i in sk.H36M.left:
        src = np.flatnonzero(sk.COCO_TO_H36M[i])
        assert all(sk.COCO.joints[s].startswith("left") for s in src)


def test_3dhp_to_h36m_by_name():
    m = sk.MPI_INF_3DHP_TO_H36M
    for i, name in enumerate(sk.H36M.joints):
        (src,) = np.flatnonzero(m[i])
        s = sk.MPI_INF_3DHP.joints[src]
        expected = {"thorax": "neck", "neck": "head", "head": "head_top",
                    "left_ankle": "left_ankle"}.get(name, name)
        assert s == expected, (name, s)


def test_flip_swaps_sides_and_mirrors():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 17, 3))
    f = sk.flip(x)
    np.testing.assert_allclose(f[:, 1, 0], -x[:, 4, 0])
    np.testing.assert_allclose(f[:, 1, 1:], x[:, 4, 1:])
    np.testing.assert_allclose(sk.flip(f), x)
    np.testing.assert_allclose(sk.bone_lengths(f), sk.bone_lengths(x)[..., _bone_flip()])


def _bone_flip():
    bones = [tuple(b) for b in sk.H36M.bones]
    perm = sk.H36M.flip_permutation
    return [bones.index((perm[p], perm[c])) for p, c in bones]


def test_screen_normalisation_motionbert():
    uv = np.array([[0.0, 0.0], [1000.0, 1002.0], [500.0, 501.0]])
    n = normalize_screen(uv, 1000, 1002)
    np.testing.assert_allclose(n[0], [-1, -1.002])
    np.testing.assert_allclose(n[1], [1, 1.002])
    np.testing.assert_allclose(n[2], [0, 0], atol=1e-12)
    np.testing.assert_allclose(denormalize_screen(n, 1000, 1002), uv)
    norm = Normalization.from_dict(Normalization(scale_3d=2.0).to_dict())
    x = np.ones((2, 17, 3))
    x[:, 3] = 3
    t = norm.targets(x)
    assert np.all(t[:, 0] == 0) and np.all(t[:, 3] == 4)


def test_hpd3d_imports_without_stage_dependencies():
    """hpd3d must import in Blender's Python: numpy + scipy only."""
    code = (
        "import sys, pkgutil, importlib\n"
        "for m in ('torch', 'cv2', 'bpy', 'mmengine', 'hydra', 'omegaconf', 'tqdm', 'matplotlib',"
        " 'synth', 'train', 'infer', 'blender'):\n"
        "    sys.modules[m] = None\n"
        "import hpd3d\n"
        "for info in pkgutil.walk_packages(hpd3d.__path__, 'hpd3d.'):\n"
        "    importlib.import_module(info.name)\n"
        "print(len(list(pkgutil.walk_packages(hpd3d.__path__))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) >= 4
