"""infer.detectors.file.read_2d: every 2D file format, values and frame order, bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hpd3d.errors import InputError
from hpd3d.formats import camera_name, save_2d
from hpd3d.skeleton import COCO, H36M
from infer.detectors.file import File2D, read_2d

COCO_NAMES = COCO.joints
# OpenPose part names (poseParameters.cpp), written out here independently of hpd3d
BODY25 = ["Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
          "MidHip", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye",
          "REar", "LEar", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel"]
COCO18 = ["Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
          "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar"]


def openpose_name(coco_name: str) -> str:
    if coco_name == "nose":
        return "Nose"
    side, part = coco_name.split("_")
    return ("L" if side == "left" else "R") + part.capitalize()


def write_json(path, obj):
    path.write_text(json.dumps(obj))
    return path


def bad(path, pattern):
    with pytest.raises(InputError, match=pattern) as e:
        read_2d(path)
    assert "\n" not in str(e.value) and str(e.value).startswith(str(path))


# -- MMPose ---------------------------------------------------------------------------
def instance(rng, k=17):
    kp = rng.uniform(0, 500, (k, 2)).round(3)
    sc = rng.uniform(0, 1, k).round(4)
    return {"keypoints": kp.tolist(), "keypoint_scores": sc.tolist(),
            "bbox": [[1.0, 2.0, 30.0, 40.0]], "bbox_score": 0.9}, np.c_[kp, sc]


def test_mmpose_video_predictions(tmp_path):
    rng = np.random.default_rng(0)
    (i1, k1), (i2, k2), (i3, k3) = (instance(rng) for _ in range(3))
    data = {"meta_info": {"dataset_name": "coco", "num_keypoints": 17,
                          "sigmas": {"__ndarray__": [0.1] * 17, "dtype": "float32", "shape": [17]}},
            "instance_info": [{"frame_id": 4, "instances": [i3]},
                              {"frame_id": 1, "instances": [i1, i2]},
                              {"frame_id": 2, "instances": []}]}
    f = read_2d(write_json(tmp_path / "pred.json", data))
    assert isinstance(f, File2D) and f.source == "mmpose" and f.layout == "coco"
    assert f.fps is None and f.width is None
    assert [len(fr) for fr in f.frames] == [2, 0, 0, 1]  # frame ids 1..4, 3 missing
    np.testing.assert_allclose(f.frames[0], np.stack([k1, k2]), atol=1e-4)
    np.testing.assert_allclose(f.frames[3][0], k3, atol=1e-4)
    assert all(fr.dtype == np.float32 and fr.shape[1:] == (17, 3) for fr in f.frames)
    data["meta_info"]["dataset_name"] = "h36m"
    assert read_2d(write_json(tmp_path / "h.json", data)).layout == "h36m"


def test_mmpose_image_and_bare_list(tmp_path):
    rng = np.random.default_rng(1)
    (i1, k1), (i2, k2) = instance(rng), instance(rng, 26)
    f = read_2d(write_json(tmp_path / "img.json", {"meta_info": {}, "instance_info": [i1]}))
    assert len(f.frames) == 1
    np.testing.assert_allclose(f.frames[0][0], k1, atol=1e-4)
    f = read_2d(write_json(tmp_path / "bare.json", [i2]))  # Halpe-26: body first
    np.testing.assert_allclose(f.frames[0][0], k2[:17], atol=1e-4)
    f = read_2d(write_json(tmp_path / "frames.json", [{"frame_id": 0, "instances": [i1]}]))
    np.testing.assert_allclose(f.frames[0][0], k1, atol=1e-4)


def test_mmpose_bad(tmp_path):
    rng = np.random.default_rng(2)
    good, _ = instance(rng)

    def case(name, info):
        return write_json(tmp_path / f"{name}.json", {"meta_info": {}, "instance_info": info})

    bad(case("empty", []), "empty")
    bad(case("notlist", {"a": 1}), "expected a list")
    bad(case("dup", [{"frame_id": 1, "instances": [good]}] * 2), "appears twice")
    bad(case("noid", [{"instances": [good]}]), "frame_id")
    bad(case("3d", [dict(good, keypoints=[[0, 0, 0]] * 17)]), r"expected \(K, 2\)")
    bad(case("scores", [dict(good, keypoint_scores=[0.5] * 16)]), "does not match 17")
    bad(case("noscores", [{"keypoints": good["keypoints"]}]), "keypoint_scores")
    bad(case("k21", [dict(good, keypoints=[[0, 0]] * 21, keypoint_scores=[1] * 21)]),
        "unknown keypoint layout: 21")
    bad(case("nan", [dict(good, keypoints=[[float("nan"), 0]] * 17)]), "non-finite")
    bad(case("text", [dict(good, keypoints="abc")]), "not a numeric array|expected")
    bad(case("nobody", [{"frame_id": 1, "instances": []}]), "no person")


# -- OpenPose ---------------------------------------------------------------------------
def openpose_person(names, rng):
    kp = rng.uniform(0, 600, (len(names), 3))
    kp[:, 2] = rng.uniform(0, 1, len(names))
    return kp


def expected_coco(kp, names):
    return np.stack([kp[names.index(openpose_name(n))] for n in COCO_NAMES])


@pytest.mark.parametrize("names", [BODY25, COCO18], ids=["body25", "coco18"])
def test_openpose_folder(tmp_path, names):
    rng = np.random.default_rng(3)
    people = {0: [openpose_person(names, rng)], 1: [openpose_person(names, rng) for _ in range(2)],
              2: [], 4: [openpose_person(names, rng)]}  # frame 3 file missing
    for n, ps in people.items():
        write_json(tmp_path / f"clip_{n:012d}_keypoints.json",
                   {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d":
                                                p.ravel().tolist(), "face_keypoints_2d": []}
                                               for p in ps]})
    f = read_2d(tmp_path)
    assert f.source == "openpose" and f.layout == "coco" and len(f.frames) == 5
    assert [len(fr) for fr in f.frames] == [1, 2, 0, 0, 1]
    for n, ps in people.items():
        for p, got in zip(ps, f.frames[n]):
            np.testing.assert_allclose(got, expected_coco(p, names), atol=1e-3)
    assert f.names[3] is None and f.names[4] == "clip_000000000004_keypoints.json"
    one = read_2d(tmp_path / "clip_000000000001_keypoints.json")  # one file = one frame
    np.testing.assert_allclose(one.frames[0], f.frames[1])


def test_openpose_bad(tmp_path):
    (tmp_path / "empty").mkdir()
    bad(tmp_path / "empty", "no OpenPose")
    two = tmp_path / "two"
    two.mkdir()
    person = {"people": [{"pose_keypoints_2d": [1.0] * 75}]}
    write_json(two / "a_000000000000_keypoints.json", person)
    write_json(two / "b_000000000000_keypoints.json", person)
    bad(two, "several videos")
    for name, body in {"n60": {"people": [{"pose_keypoints_2d": [1.0] * 60}]},
                       "nopeople": {"persons": []},
                       "mixed": {"people": [{"pose_keypoints_2d": [1.0] * 75},
                                            {"pose_keypoints_2d": [1.0] * 54}]}}.items():
        d = tmp_path / name
        d.mkdir()
        f = write_json(d / "v_000000000000_keypoints.json", body)
        with pytest.raises(InputError, match="60 values|no 'people'|mixed") as e:
            read_2d(d)
        assert str(e.value).startswith(str(f))
    d = tmp_path / "notjson"
    d.mkdir()
    (d / "v_000000000000_keypoints.json").write_text("{not json")
    with pytest.raises(InputError, match="not JSON"):
        read_2d(d)


# -- COCO -------------------------------------------------------------------------------
def test_coco_results(tmp_path):
    rng = np.random.default_rng(4)
    kps = [rng.uniform(0, 400, (17, 3)) for _ in range(3)]
    for k in kps:
        k[:, 2] = rng.uniform(0, 1, 17)
    res = [{"image_id": 7, "category_id": 1, "keypoints": kps[0].ravel().tolist(), "score": 0.9},
           {"image_id": 3, "category_id": 1, "keypoints": kps[1].ravel().tolist(), "score": 0.2},
           {"image_id": 3, "category_id": 1, "keypoints": kps[2].ravel().tolist(), "score": 0.8}]
    f = read_2d(write_json(tmp_path / "results.json", res))
    assert f.source == "coco" and f.names == ["3", "7"]
    np.testing.assert_allclose(f.frames[0], np.stack([kps[2], kps[1]]), atol=1e-4)  # by score
    np.testing.assert_allclose(f.frames[1][0], kps[0], atol=1e-4)
    bad(write_json(tmp_path / "r50.json", [{"image_id": 1, "keypoints": [0] * 50}]), "51")
    bad(write_json(tmp_path / "rmix.json", [{"image_id": 1, "keypoints": [0] * 51},
                                            {"image_id": "a", "keypoints": [0] * 51}]), "mixed types")


def test_coco_annotations_order_and_visibility(tmp_path):
    kp = np.zeros((17, 3))
    kp[:, 0], kp[:, 1], kp[:, 2] = np.arange(17), 100 + np.arange(17), 2
    kp[3] = (0, 0, 0)
    kp[4, 2] = 1
    data = {"images": [{"id": 1, "file_name": "frame_10.jpg", "width": 64, "height": 48},
                       {"id": 2, "file_name": "frame_2.jpg", "width": 64, "height": 48},
                       {"id": 3, "file_name": "frame_1.jpg", "width": 64, "height": 48}],
            "annotations": [{"image_id": 1, "keypoints": kp.ravel().tolist(), "iscrowd": 0},
                            {"image_id": 1, "keypoints": (kp + [5, 0, 0]).ravel().tolist(),
                             "iscrowd": 1},
                            {"image_id": 3, "keypoints": [0] * 51, "num_keypoints": 0}]}
    f = read_2d(write_json(tmp_path / "ann.json", data))
    assert f.names == ["frame_1.jpg", "frame_2.jpg", "frame_10.jpg"]  # natural order
    assert [len(fr) for fr in f.frames] == [0, 0, 1]  # crowd and keypoint-less skipped
    assert (f.width, f.height) == (64, 48)
    exp = kp.copy()
    exp[:, 2] = kp[:, 2] > 0
    np.testing.assert_allclose(f.frames[2][0], exp)
    bad(write_json(tmp_path / "noimg.json", {"images": [], "annotations": []}), "images")
    bad(write_json(tmp_path / "orphan.json", {"images": [{"id": 1}], "annotations": [
        {"image_id": 2, "keypoints": [1] * 51}]}), "not in images")
    bad(write_json(tmp_path / "nokp.json", {"images": [{"id": 1}], "annotations": [
        {"image_id": 1, "bbox": [0, 0, 1, 1]}]}), "no annotation with keypoints")


def test_coco_real_ground_truth(shared_dir):
    """The COCO val photos' ground truth: frames by file name, every non-crowd person with
    keypoints, values as in the file."""
    path = shared_dir / "data" / "images" / "coco" / "test_coco.json"
    gt = json.loads(path.read_text())
    f = read_2d(path)
    images = sorted(gt["images"], key=lambda im: im["file_name"])
    assert f.names == [im["file_name"] for im in images]
    assert f.image_sizes == [(im["width"], im["height"]) for im in images]
    assert f.width is None  # the photos differ in size
    for im, frame in zip(images, f.frames):
        anns = [a for a in gt["annotations"] if a["image_id"] == im["id"]
                and not a["iscrowd"] and any(a["keypoints"][2::3])]
        assert len(frame) == len(anns)
        for a, got in zip(anns, frame):
            k = np.array(a["keypoints"], float).reshape(17, 3)
            np.testing.assert_array_equal(got[:, :2], k[:, :2])
            np.testing.assert_array_equal(got[:, 2], k[:, 2] > 0)
    assert sum(len(fr) for fr in f.frames) >= 5 and max(len(fr) for fr in f.frames) > 1


# -- VideoPose3D npz ----------------------------------------------------------------------
def write_npz(path, layout="h36m", conf=True, name=True):
    rng = np.random.default_rng(5)
    pos = {"S1": {"walk": [rng.uniform(0, 500, (6, 17, 2)).astype(np.float32) for _ in range(2)],
                  "run": [rng.uniform(0, 500, (4, 17, 2)).astype(np.float32)]},
           "S2": {"walk": [rng.uniform(0, 500, (3, 17, 2)).astype(np.float32)]}}
    skel = H36M if layout == "h36m" else COCO
    meta = {"num_joints": 17, "keypoints_symmetry": skel.symmetry,
            "video_metadata": {camera_name("S1", "walk", 1): {"w": 640, "h": 480}}}
    if name:
        meta["layout_name"] = layout
    extras = {}
    if conf:
        extras["confidence_2d"] = {s: {a: [rng.uniform(0, 1, c.shape[:2]).astype(np.float32)
                                           for c in cams] for a, cams in acts.items()}
                                   for s, acts in pos.items()}
    save_2d(path, pos, meta, extras)
    return pos, extras


def test_videopose3d_npz(tmp_path):
    path = tmp_path / "data_2d_demo_noisy.npz"
    pos, extras = write_npz(path)
    f = read_2d(path, subject="S1", action="walk", camera=1)
    assert f.source == "videopose3d" and f.layout == "h36m" and len(f.frames) == 6
    assert (f.width, f.height) == (640, 480) and f.fps is None
    got = np.concatenate(f.frames)
    np.testing.assert_array_equal(got[..., :2], pos["S1"]["walk"][1])
    np.testing.assert_array_equal(got[..., 2], extras["confidence_2d"]["S1"]["walk"][1])
    f = read_2d(path, subject="S2")  # the only action
    assert len(f.frames) == 3 and f.width is None
    with pytest.raises(InputError, match="several subjects"):
        read_2d(path)
    with pytest.raises(InputError, match="several actions"):
        read_2d(path, subject="S1")
    with pytest.raises(InputError, match="no subject 'S9'"):
        read_2d(path, subject="S9")
    with pytest.raises(InputError, match="no action 'jump'"):
        read_2d(path, subject="S1", action="jump")
    with pytest.raises(InputError, match="no camera 1"):
        read_2d(path, subject="S1", action="run", camera=1)
    coco = tmp_path / "coco.npz"
    pos, _ = write_npz(coco, layout="coco", conf=False, name=False)
    f = read_2d(coco, subject="S2")
    assert f.layout == "coco"  # from keypoints_symmetry
    np.testing.assert_array_equal(np.concatenate(f.frames)[..., 2], 1.0)
    (tmp_path / "junk.npz").write_bytes(b"junk")
    bad(tmp_path / "junk.npz", "not an npz")


def test_generic_bad(tmp_path):
    bad(tmp_path / "absent.json", "no such file")
    bad(write_json(tmp_path / "x.txt", {}), "unknown 2D input")
    (tmp_path / "broken.json").write_text("[1, 2")
    bad(tmp_path / "broken.json", "not JSON")
    bad(write_json(tmp_path / "num.json", 3), "top level is a int")
    bad(write_json(tmp_path / "dict.json", {"foo": 1}), "unknown 2D JSON layout")
    bad(write_json(tmp_path / "list.json", [1, 2]), "unknown 2D JSON list")
    bad(write_json(tmp_path / "empty.json", []), "empty")
