"""The VideoPose3D-family adaptor (hpd3d.mocap_dataset): code that normalises every 2D
sequence with its SUBJECT's cameras, exactly as VideoPose3D's run.py does, gets each
sequence's true cameras, on a synth dataset (cameras per sequence) and a Blender one."""

import dataclasses
import json
import shutil

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from scipy.spatial.transform import Rotation

from hpd3d.dataset import read_dataset
from hpd3d.errors import InputError
from hpd3d.formats import camera_name
from hpd3d.mocap_dataset import MocapDataset
from hpd3d.skeleton import H36M

from conftest import BVH_DIR, REPO


# ---- VideoPose3D's code, as numpy (common/camera.py, common/quaternion.py, run.py)
def normalize_screen_coordinates(X, w, h):
    assert X.shape[-1] == 2
    return X / w * 2 - [1, h / w]


def world_to_camera(X, R, t):
    """``qrot(qinverse(R), X - t)`` with R the camera→world quaternion (w, x, y, z)."""
    rot = Rotation.from_quat(np.asarray(R, np.float64), scalar_first=True)
    return rot.inv().apply((X - t).reshape(-1, 3)).reshape(X.shape)


def project_to_2d(X, camera_params):
    """VideoPose3D's project_to_2d (H36M distortion) for one camera, numpy."""
    f, c = camera_params[:2], camera_params[2:4]
    k, p = camera_params[4:7], camera_params[7:]
    XX = np.clip(X[..., :2] / X[..., 2:], -1, 1)
    r2 = np.sum(XX[..., :2] ** 2, axis=-1, keepdims=True)
    radial = 1 + np.sum(k * np.concatenate((r2, r2 ** 2, r2 ** 3), axis=-1), -1, keepdims=True)
    tan = np.sum(p * XX, axis=-1, keepdims=True)
    XXX = XX * (radial + tan) + p[::-1] * r2
    return f * XXX + c


def run_py(dataset):
    """run.py's 'Preparing data' and 2D normalisation, verbatim but for np.load(…)."""
    for subject in dataset.subjects():
        for action in dataset[subject].keys():
            anim = dataset[subject][action]
            if "positions" in anim:
                positions_3d = []
                for cam in anim["cameras"]:
                    pos_3d = world_to_camera(anim["positions"], R=cam["orientation"],
                                             t=cam["translation"])
                    positions_3d.append(pos_3d)  # (run.py then makes it root-relative)
                anim["positions_3d"] = positions_3d
    keypoints, metadata = dataset.keypoints()
    for subject in dataset.subjects():
        assert subject in keypoints
        for action in dataset[subject].keys():
            assert len(keypoints[subject][action]) == len(dataset[subject][action]["positions_3d"])
    for subject in keypoints.keys():
        for action in keypoints[subject]:
            for cam_idx, kps in enumerate(keypoints[subject][action]):
                cam = dataset.cameras()[subject][cam_idx]
                kps[..., :2] = normalize_screen_coordinates(kps[..., :2], w=cam["res_w"],
                                                            h=cam["res_h"])
                keypoints[subject][action][cam_idx] = kps
    return keypoints


def check_against_true_cameras(folder, name, dataset):
    """Every sequence's normalised 2D and camera-frame 3D equal those made with its own
    (true) cameras; returns how many sequences a subject-level rig would have got wrong."""
    truth = read_dataset(folder, name)
    keypoints = run_py(dataset)
    groups = dataset.subject_groups()
    wrong_if_by_subject, n = 0, 0
    for subject, acts in truth.positions_3d.items():
        first = next(iter(truth.cameras[subject].values()))
        for action, X in acts.items():
            key = next(k for k in groups[subject] if action in dataset[k])
            for c, true in enumerate(truth.cameras[subject][action]):
                n += 1
                uv = truth.positions_2d[subject][action][c]
                expect = normalize_screen_coordinates(uv, true.width, true.height).astype(uv.dtype)
                np.testing.assert_array_equal(keypoints[key][action][c], expect)
                Xc = X.astype(np.float64) @ true.R.T - true.C @ true.R.T
                got = dataset[key][action]["positions_3d"][c]
                assert np.abs(got - Xc).max() < 2e-5 * (1 + np.abs(Xc).max())  # float32 R, t
                if not np.any(true.dist) and true.model == "pinhole":
                    cam = dataset.cameras()[key][c]
                    uvn = project_to_2d(got, cam["intrinsic"].astype(np.float64))
                    inside = (np.abs(got[..., :2] / got[..., 2:]) < 1).all(-1)  # it clips there
                    assert inside.mean() > 0.5
                    assert np.abs(uvn - expect)[inside].max() < 1e-4  # float32 intrinsics
                f = first[c]
                wrong_if_by_subject += (f.width, f.height, f.fx, f.cx) != (
                    true.width, true.height, true.fx, true.cx)
    return wrong_if_by_subject, n


def _synth(out, *overrides):
    from synth.augment_h36m import run

    with initialize_config_dir(str(REPO / "conf"), version_base="1.3"):
        return run(compose("augment_h36m", overrides=[f"out={out}", "plots=false",
                                                      "procedural.clips=4", *overrides]))


def test_synth_per_sequence_cameras_become_one_subject_each(tmp_path):
    out = _synth(tmp_path / "d", "repeats=2")
    ds = MocapDataset(out, "synth")
    wrong, n = check_against_true_cameras(out, "synth", ds)
    assert n == 4 * 2 * 4 and wrong >= n // 2  # the subject's first rig: most would be wrong
    # each sequence has its own subject key; the groups give the subjects back for splits
    truth = read_dataset(out, "synth")
    n_seq = sum(len(a) for a in truth.positions_3d.values())
    assert len(ds.subjects()) == n_seq == 8
    assert sorted(k for ks in ds.subject_groups().values() for k in ks) == sorted(ds.subjects())
    for subject, keys in ds.subject_groups().items():
        assert all(k.startswith(subject + "/") for k in keys)
    assert ds.skeleton().joints_left() == list(H36M.left) and ds.fps() is None


def test_cameras_dir_is_explicit(tmp_path):
    """The camera files may live elsewhere (the recipe keeps them beside the dataset class)."""
    out = _synth(tmp_path / "d", "procedural.clips=2")
    cams = tmp_path / "cams"
    cams.mkdir()
    for f in ("camera_intrinsics.txt", "camera_extrinsics.txt"):
        shutil.move(str(out / f), cams / f)
    with pytest.raises(InputError, match="camera_intrinsics.txt"):
        MocapDataset(out, "synth")
    ds = MocapDataset(out, "synth", cameras_dir=cams)
    truth = read_dataset(out, "synth", cams)
    k = next(iter(ds.subjects()))
    s, a = k.split("/")
    assert ds.cameras()[k][0]["id"] == truth.cameras[s][a][0].name
    other = _synth(tmp_path / "e", "procedural.clips=3", "seed=5")  # 3 sequences: more cameras
    with pytest.raises(InputError, match="no camera"):
        MocapDataset(other, "synth", cameras_dir=cams)


def test_shared_rig_keeps_the_subject_whole(tmp_path):
    """H36M-like data (every sequence of a subject seen by the same cameras) keeps its
    subjects, so a subject-level split is unchanged."""
    out = _synth(tmp_path / "d")
    ds = read_dataset(out, "synth")
    for s, acts in ds.cameras.items():
        rig = next(iter(acts.values()))
        for a in acts:  # the same cameras, under each sequence's camera names
            acts[a] = [dataclasses.replace(c, name=camera_name(s, a, i)) for i, c in enumerate(rig)]
        for a in ds.positions_2d[s]:  # the 2D of the shared rig
            from hpd3d.camera import project_many

            ds.positions_2d[s][a] = list(project_many(ds.positions_3d[s][a].astype(np.float64),
                                                      rig).astype(np.float32))
    ds.noisy_2d, ds.confidence = {}, {}
    ds.write(tmp_path / "rig", "synth")
    m = MocapDataset(tmp_path / "rig", "synth")
    assert list(m.subjects()) == list(ds.positions_3d) and m.subject_groups() == {
        s: [s] for s in ds.positions_3d}
    wrong, n = check_against_true_cameras(tmp_path / "rig", "synth", m)
    assert wrong == 0 and n > 0


def test_blender_render_different_frame_rates(tmp_path):
    """The README's example on a render of files with different rates (120 and 30 fps,
    kept as they are by fps=null): loads, each sequence knows its rate, fps() asks."""
    pytest.importorskip("bpy")
    from blender.render import load_config, run

    folder = tmp_path / "in"
    folder.mkdir()
    for n in ("cmu_skeleton_example.bvh", "mixamo_rig.bvh"):
        shutil.copy(BVH_DIR / n, folder / n)
    out = tmp_path / "blender"
    run(load_config([f"out={out}", f"input={folder}", "max_frames=10", "camera.count=2"]))
    rates = sorted(s["fps"] for s in json.loads((out / "render_blender.json").read_text())
                   ["sequences"])
    assert len(set(rates)) == 2
    ds = MocapDataset(out, "blender")  # the README's line: no error
    assert sorted(ds[s]["mocap"]["fps"] for s in ds.subjects()) == pytest.approx(rates)
    with pytest.raises(InputError, match="different frame rates"):
        ds.fps()
    assert MocapDataset(out, "blender", fps=50).fps() == 50
    assert sorted(ds.subjects()) == ["cmu-skeleton-example", "mixamo-rig"]  # one rig each
    wrong, n = check_against_true_cameras(out, "blender", ds)
    assert wrong == 0 and n == 4
    from blender.adaptor import BlenderDataset  # the old import still works

    assert list(BlenderDataset(out, "blender").subjects()) == list(ds.subjects())


def test_skeleton_walks_and_remove_joints():
    from hpd3d.mocap_dataset import VideoPose3DSkeleton

    assert H36M.chain(13) == [13, 12, 11, 8, 7, 0] and H36M.depth(10) == 4
    assert H36M.subtree(8) == list(range(8, 17)) and H36M.subtree(1) == [1, 2, 3]
    assert H36M.children[8] == [9, 11, 14] and not H36M.has_children[3]
    for j, p in enumerate(H36M.parents):  # children is the inverse of parents
        assert (p < 0) or j in H36M.children[p]
    # VideoPose3D's remove_joints: children re-attach to the nearest kept ancestor
    sk = VideoPose3DSkeleton()
    kept = sk.remove_joints([9, 7])
    assert kept == [0, 1, 2, 3, 4, 5, 6, 8, 10, 11, 12, 13, 14, 15, 16]
    names = [H36M.joints[k] for k in kept]
    par = sk.parents()
    assert names[par[names.index("thorax")]] == "pelvis"
    assert names[par[names.index("head")]] == "thorax"
    assert [names[i] for i in sk.joints_left()] == ["left_hip", "left_knee", "left_ankle",
                                                    "left_shoulder", "left_elbow", "left_wrist"]
