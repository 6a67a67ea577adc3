"""File formats: round trips, the way VideoPose3D/MMPose load them, every malformed case."""

import os
import pickle
import zipfile

import numpy as np
import pytest

from hpd3d import formats as F
from hpd3d.errors import InputError
from hpd3d.skeleton import COCO, H36M

RNG = np.random.default_rng(0)


def _obj(x):
    o = np.empty((), dtype=object)
    o[()] = x
    return o


def _raw_npz(path, **arrays):
    """Write an npz the way a third party would (no validation)."""
    np.savez(path, **arrays)
    return path


def _pos3d(J=17):
    return {
        "S1": {"Walking": RNG.normal(size=(20, J, 3)).astype(np.float32),
               "Sitting 1": RNG.normal(size=(7, J, 3)).astype(np.float32)},
        "S5": {"Walking": RNG.normal(size=(11, J, 3)).astype(np.float32)},
    }


def _pos2d(J=17, cams=(20, 19)):
    # sub-pixel values: never rounded
    return {
        "S1": {"Walking": [(RNG.uniform(0, 1000, size=(t, J, 2))).astype(np.float32) for t in cams]},
        "S9": {"Eating": [(RNG.uniform(0, 1000, size=(5, J, 2))).astype(np.float32)]},
    }


def _meta(J=17, skel=H36M, **kw):
    return {"num_joints": J, "keypoints_symmetry": skel.symmetry, **kw}


def _extras(pos):
    return {
        "in_frame_2d": {s: {a: [RNG.random(c.shape[:2]) > 0.2 for c in cams]
                            for a, cams in acts.items()} for s, acts in pos.items()},
        "confidence_2d": {s: {a: [RNG.random(c.shape[:2]).astype(np.float32) for c in cams]
                              for a, cams in acts.items()} for s, acts in pos.items()},
    }


def _imgnames(n, subject="S1", action="Directions 1", cam="54138969"):
    base = f"{subject}_{action.replace(' ', '_')}.{cam}"
    return np.array([f"{subject}/{base}/{base}_{i * 5 + 1:06d}.jpg" for i in range(n)])


def _mmpose(n=12, nan_in=None):
    d = {"imgname": _imgnames(n),
         "part": np.concatenate([RNG.uniform(0, 1000, (n, 17, 2)), np.ones((n, 17, 1))], -1),
         "S": np.concatenate([RNG.normal(size=(n, 17, 3)) + [0, 0, 5], np.ones((n, 17, 1))], -1)}
    d["center"], d["scale"] = F.mmpose_bbox(d["part"])
    if nan_in:
        d[nan_in] = d[nan_in].copy()
        d[nan_in][3, 4, 2] = np.nan
    return d


def _cameras():
    cams = {}
    for s in ("S1", "S9"):
        for i, cid in enumerate(("54138969", "55011271")):
            cams[(s, cid)] = {
                "R": np.linalg.qr(RNG.normal(size=(3, 3)))[0], "T": RNG.normal(size=(3, 1)),
                "f": np.array([[1145.0], [1144.1]]), "c": np.array([[512.5], [515.4]]),
                "k": RNG.normal(size=(3, 1)) * 0.1, "p": RNG.normal(size=(2, 1)) * 0.01,
                "w": 1000, "h": 1002, "name": f"camera{i + 1}", "id": cid,
            }
    return cams


def _assert_nested_equal(a, b):
    assert type(a) is type(b) or (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_nested_equal(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_nested_equal(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()        # bit-exact
    else:
        assert a == b


def _raises(fn, path, *match):
    with pytest.raises(InputError) as e:
        fn(path)
    msg = str(e.value)
    assert os.fspath(path) in msg and "\n" not in msg
    for m in match:
        assert m in msg, msg
    return msg


# ------------------------------------------------------------------------- 3D


def test_3d_round_trip(tmp_path):
    pos = _pos3d()
    path = tmp_path / "data_3d_synth.npz"
    F.save_3d(path, pos)
    _assert_nested_equal(pos, F.load_3d(path))
    # VideoPose3D's own loading
    vp = np.load(path, allow_pickle=True)["positions_3d"].item()
    _assert_nested_equal(pos, vp)
    assert sorted(os.listdir(tmp_path)) == ["data_3d_synth.npz"]


def test_3d_float64_is_stored_float32(tmp_path):
    pos = {"S1": {"a": RNG.normal(size=(3, 17, 3))}}
    F.save_3d(tmp_path / "x.npz", pos)
    back = F.load_3d(tmp_path / "x.npz")["S1"]["a"]
    assert back.dtype == np.float32
    assert np.array_equal(back, pos["S1"]["a"].astype(np.float32))


def _bad_3d_cases():
    good = _pos3d()
    nan = _pos3d()
    nan["S5"]["Walking"][4, 2, 1] = np.nan
    return {
        "positions_3d not a dict": (dict(positions_3d=np.zeros((3, 17, 3))), "positions_3d"),
        "subject not a dict": (dict(positions_3d=_obj({"S1": [1, 2]})), "'S1'"),
        "action not an array": (dict(positions_3d=_obj({"S1": {"Walk": [[1.0, 2.0, 3.0]]}})),
                                "['S1']['Walk']"),
        "2 coordinates": (dict(positions_3d=_obj({"S1": {"Walk": np.zeros((4, 17, 2))}})),
                          "(T, J, 3)"),
        "2-D array": (dict(positions_3d=_obj({"S1": {"Walk": np.zeros((4, 51))}})), "(T, J, 3)"),
        "inconsistent J": (dict(positions_3d=_obj({"S1": {"a": np.zeros((4, 17, 3)),
                                                          "b": np.zeros((4, 16, 3))}})),
                           "16 joints"),
        "NaN": (dict(positions_3d=_obj(nan)), "['S5']['Walking']"),
        "string values": (dict(positions_3d=_obj({"S1": {"a": np.array([["x"] * 3] * 17)[None]}})),
                          "numeric"),
        "empty": (dict(positions_3d=_obj({})), "empty"),
        "int subject key": (dict(positions_3d=_obj({1: good["S1"]})), "not a str"),
        "missing key": (dict(poses=_obj(good)), "'positions_3d'"),
    }


@pytest.mark.parametrize("case", list(_bad_3d_cases()))
def test_3d_malformed_raises(tmp_path, case):
    arrays, match = _bad_3d_cases()[case]
    path = _raw_npz(tmp_path / "data_3d_bad.npz", **arrays)
    _raises(F.load_3d, path, match)


def test_3d_nan_message_names_frame(tmp_path):
    pos = _pos3d()
    pos["S1"]["Walking"][4, 2, 1] = np.nan
    path = _raw_npz(tmp_path / "d.npz", positions_3d=_obj(pos))
    msg = _raises(F.load_3d, path, "positions_3d['S1']['Walking']", "(4, 2, 1)")
    assert "nan" in msg


def test_missing_file_and_not_npz(tmp_path):
    _raises(F.load_3d, tmp_path / "nope.npz", "no such file")
    _raises(F.load_3d, tmp_path, "not a file")
    txt = tmp_path / "text.npz"
    txt.write_text("hello")
    _raises(F.load_3d, txt, "not an npz")
    npy = tmp_path / "plain.npz"
    with open(npy, "wb") as f:
        np.save(f, np.zeros(3))                 # a .npy with the wrong extension
    _raises(F.load_2d, npy, "not an npz")
    # a truncated archive
    good = tmp_path / "good.npz"
    F.save_3d(good, _pos3d())
    trunc = tmp_path / "trunc.npz"
    trunc.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    _raises(F.load_3d, trunc)


def test_corrupt_member_raises(tmp_path):
    path = tmp_path / "corrupt.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("positions_3d.npy", b"\x93NUMPY garbage")
    _raises(F.load_3d, path, "positions_3d")


class _Evil:
    def __reduce__(self):
        return (os.getcwd, ())


def test_pickle_with_arbitrary_callable_is_refused(tmp_path):
    path = _raw_npz(tmp_path / "evil.npz", positions_3d=_obj({"S1": {"a": _Evil()}}))
    _raises(F.load_3d, path, "refusing to unpickle")
    pkl = tmp_path / "cameras.pkl"
    pkl.write_bytes(pickle.dumps({("S1", "1"): _Evil()}))
    _raises(F.load_mmpose_cameras, pkl, "refusing to unpickle")


# ------------------------------------------------------------------------- write failures


def _bad_writes():
    nan3 = _pos3d()
    nan3["S1"]["Walking"][0, 0, 0] = np.nan
    inf2 = _pos2d()
    inf2["S9"]["Eating"][0][1, 3, 0] = np.inf
    pos2 = _pos2d()
    ex = _extras(pos2)
    ex["confidence_2d"]["S1"]["Walking"][1] = np.ones((19, 16), np.float32)
    cams = _cameras()
    cams[("S1", "54138969")]["R"] = np.eye(2)
    return {
        "3d nan": (lambda p: F.save_3d(p, nan3), "['S1']['Walking']"),
        "3d wrong shape": (lambda p: F.save_3d(p, {"S1": {"a": np.zeros((3, 17, 2))}}), "(T, J, 3)"),
        "3d overflow float32": (lambda p: F.save_3d(p, {"S1": {"a": np.full((1, 2, 3), 1e300)}}),
                                "non-finite"),
        "2d inf": (lambda p: F.save_2d(p, inf2, _meta()), "['S9']['Eating'][0]"),
        "2d num_joints": (lambda p: F.save_2d(p, _pos2d(), _meta(J=16)), "num_joints"),
        "2d extras shape": (lambda p: F.save_2d(p, pos2, _meta(), ex), "confidence_2d"),
        "2d bad extras key": (lambda p: F.save_2d(p, pos2, _meta(), {"metadata": ex["in_frame_2d"]}),
                              "extras"),
        "2d unpicklable metadata": (lambda p: F.save_2d(p, pos2, _meta(note=object())), "note"),
        "mmpose nan": (lambda p: F.save_mmpose_h36m(p, **_mmpose(nan_in="S")), "S: non-finite"),
        "cameras shape": (lambda p: F.save_mmpose_cameras(p, cams), "'R'"),
    }


@pytest.mark.parametrize("case", list(_bad_writes()))
def test_failed_write_leaves_nothing(tmp_path, case):
    write, match = _bad_writes()[case]
    out = tmp_path / "out"
    out.mkdir()
    keep = out / "existing.npz"
    keep.write_bytes(b"old")
    _raises(write, out / "new.npz", match)
    assert sorted(os.listdir(out)) == ["existing.npz"]
    # an existing target is untouched too
    _raises(write, keep, match)
    assert keep.read_bytes() == b"old" and sorted(os.listdir(out)) == ["existing.npz"]


# ------------------------------------------------------------------------- 2D


def test_2d_gt_round_trip(tmp_path):
    pos, meta = _pos2d(), _meta()
    pos["S1"]["Walking"][0][0, 0] = [123.456, 0.001]     # sub-pixel survives
    path = tmp_path / "data_2d_synth_gt.npz"
    F.save_2d(path, pos, meta)
    p, m, ex = F.load_2d(path)
    _assert_nested_equal(pos, p)
    assert m == {"num_joints": 17, "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]}
    assert ex == {}
    assert p["S1"]["Walking"][0][0, 0, 0] == np.float32(123.456)
    z = np.load(path, allow_pickle=True)                  # as VideoPose3D loads it
    assert z["metadata"].item() == m
    _assert_nested_equal(pos, z["positions_2d"].item())
    assert isinstance(z["positions_2d"].item()["S1"]["Walking"], list)


def test_2d_custom_round_trip_with_extras(tmp_path):
    pos = _pos2d()
    meta = _meta(skel=COCO, layout_name="coco",
                 video_metadata={"S1": {"w": 1920, "h": 1080}, "S9": {"w": 640, "h": 480}})
    extras = _extras(pos)
    path = tmp_path / "data_2d_custom_mediapipe.npz"
    F.save_2d(path, pos, meta, extras)
    p, m, ex = F.load_2d(path)
    _assert_nested_equal(pos, p)
    _assert_nested_equal(extras, ex)
    assert m == meta
    assert ex["in_frame_2d"]["S1"]["Walking"][1].dtype == bool
    assert ex["confidence_2d"]["S9"]["Eating"][0].dtype == np.float32
    z = np.load(path, allow_pickle=True)
    assert z["metadata"].item()["video_metadata"]["S1"] == {"w": 1920, "h": 1080}
    assert sorted(z.files) == ["confidence_2d", "in_frame_2d", "metadata", "positions_2d"]


def _bad_2d_cases():
    pos = _pos2d()
    meta = _meta()
    ex = _extras(pos)
    nan = _pos2d()
    nan["S1"]["Walking"][1][3, 4, 0] = np.nan
    short = {k: v for k, v in ex["in_frame_2d"].items() if k == "S1"}
    wrong_t = _extras(pos)["confidence_2d"]
    wrong_t["S9"]["Eating"][0] = np.ones((4, 17), np.float32)
    P, M = _obj(pos), _obj(meta)
    return {
        "missing metadata": (dict(positions_2d=P), "'metadata'"),
        "missing positions": (dict(metadata=M), "'positions_2d'"),
        "cameras not a list": (dict(positions_2d=_obj({"S1": {"a": np.zeros((3, 17, 2))}}),
                                    metadata=M), "list of per-camera"),
        "3 coordinates": (dict(positions_2d=_obj({"S1": {"a": [np.zeros((3, 17, 3))]}}),
                               metadata=M), "(T, J, 2)"),
        "NaN": (dict(positions_2d=_obj(nan), metadata=M), "['S1']['Walking'][1]"),
        "num_joints mismatch": (dict(positions_2d=P, metadata=_obj(_meta(J=16))), "num_joints"),
        "no num_joints": (dict(positions_2d=P, metadata=_obj({"keypoints_symmetry": H36M.symmetry})),
                          "num_joints"),
        "symmetry out of range": (dict(positions_2d=P, metadata=_obj(
            {"num_joints": 17, "keypoints_symmetry": [[1, 2], [3, 17]]})), "keypoints_symmetry"),
        "symmetry not pairs": (dict(positions_2d=P, metadata=_obj(
            {"num_joints": 17, "keypoints_symmetry": [[1, 2, 3]]})), "keypoints_symmetry"),
        "metadata not dict": (dict(positions_2d=P, metadata=np.zeros(3)), "metadata"),
        "bad video_metadata": (dict(positions_2d=P, metadata=_obj(
            _meta(video_metadata={"S1": {"w": 0, "h": 10}}))), "video_metadata"),
        "extras missing subject": (dict(positions_2d=P, metadata=M, in_frame_2d=_obj(short)),
                                   "in_frame_2d"),
        "extras wrong T": (dict(positions_2d=P, metadata=M, confidence_2d=_obj(wrong_t)),
                           "confidence_2d['S9']['Eating'][0]"),
        "extras not pickled": (dict(positions_2d=P, metadata=M, confidence_2d=np.zeros(3)),
                               "confidence_2d"),
    }


@pytest.mark.parametrize("case", list(_bad_2d_cases()))
def test_2d_malformed_raises(tmp_path, case):
    arrays, match = _bad_2d_cases()[case]
    path = _raw_npz(tmp_path / "data_2d_bad_gt.npz", **arrays)
    _raises(F.load_2d, path, match)


# ------------------------------------------------------------------------- MMPose H36M


def test_mmpose_round_trip(tmp_path):
    d = _mmpose()
    path = tmp_path / "h36m_train.npz"
    F.save_mmpose_h36m(path, **d)
    back = F.load_mmpose_h36m(path)
    assert list(back) == ["imgname", "center", "scale", "part", "S"]
    for k in d:
        assert np.array_equal(back[k], d[k])
    # as MMPose's BaseMocapDataset loads it: np.load without allow_pickle
    z = np.load(path)
    assert z["imgname"].dtype.kind == "U"
    assert z["S"].shape == (12, 17, 4) and z["S"].dtype == np.float64
    assert z["part"].shape == (12, 17, 3) and z["center"].shape == (12, 2)
    assert z["scale"].shape == (12,)
    # Human36mDataset._parse_h36m_imgname
    subj, rest = os.path.basename(z["imgname"][0]).split("_", 1)
    action, rest = rest.split(".", 1)
    camera, _ = rest.split("_", 1)
    assert (subj, action, camera) == ("S1", "Directions_1", "54138969")


def test_mmpose_defaults_visibility_and_bbox(tmp_path):
    d = _mmpose()
    path = tmp_path / "h36m_test.npz"
    F.save_mmpose_h36m(path, imgname=d["imgname"], part=d["part"][..., :2].astype(np.float32),
                       S=d["S"][..., :3])
    back = F.load_mmpose_h36m(path)
    assert (back["part"][..., 2] == 1).all() and (back["S"][..., 3] == 1).all()
    np.testing.assert_array_equal(back["part"][..., :2], d["part"][..., :2].astype(np.float32))
    # center/scale as preprocess_h36m.py: bbox centre and 1.2 · max side / 200
    xy = back["part"][0, :, :2]
    np.testing.assert_allclose(back["center"][0], (xy.min(0) + xy.max(0)) / 2)
    assert back["scale"][0] == pytest.approx(1.2 * (xy.max(0) - xy.min(0)).max() / 200)


def _bad_mmpose_cases():
    d = _mmpose()
    def w(**kw):
        return {**d, **kw}
    no_s = {k: v for k, v in d.items() if k != "S"}
    return {
        "missing S": (no_s, "'S'"),
        "imgname object dtype": (w(imgname=d["imgname"].astype(object)), "imgname"),
        "imgname unparsable": (w(imgname=np.array(["frame%03d.jpg" % i for i in range(12)])),
                               "imgname[0]"),
        "part wrong J": (w(part=np.ones((12, 16, 3))), "part"),
        "S wrong last dim": (w(S=np.ones((12, 17, 5))), "S"),
        "N mismatch": (w(center=np.ones((11, 2))), "center"),
        "NaN in S": (_mmpose(nan_in="S"), "S: non-finite"),
        "scale 2-D": (w(scale=np.ones((12, 1))), "scale"),
    }


@pytest.mark.parametrize("case", list(_bad_mmpose_cases()))
def test_mmpose_malformed_raises(tmp_path, case):
    arrays, match = _bad_mmpose_cases()[case]
    path = tmp_path / "h36m_bad.npz"
    np.savez(path, **arrays)
    _raises(F.load_mmpose_h36m, path, match)


# ------------------------------------------------------------------------- cameras.pkl


def test_cameras_round_trip(tmp_path):
    cams = _cameras()
    path = tmp_path / "cameras.pkl"
    F.save_mmpose_cameras(path, cams)
    back = F.load_mmpose_cameras(path)
    _assert_nested_equal(cams, back)
    # as mmengine.load reads it: a plain pickle, keys (str, str)
    with open(path, "rb") as f:
        raw = pickle.load(f)
    assert ("S1", "54138969") in raw and raw[("S1", "54138969")]["T"].shape == (3, 1)


def test_cameras_writer_accepts_flat_vectors(tmp_path):
    cams = _cameras()
    cam = cams[("S1", "54138969")]
    cam.update(T=cam["T"].ravel(), f=[1145.0, 1144.1], k=cam["k"].ravel().astype(np.float32))
    F.save_mmpose_cameras(tmp_path / "c.pkl", cams)
    back = F.load_mmpose_cameras(tmp_path / "c.pkl")[("S1", "54138969")]
    assert back["T"].shape == (3, 1) and back["f"].shape == (2, 1) and back["k"].dtype == np.float64


def _bad_camera_cases():
    def cams_with(key=("S1", "54138969"), **kw):
        c = _cameras()
        c[key] = {**c[key], **kw}
        return c
    no_t = _cameras()
    del no_t[("S1", "54138969")]["T"]
    int_key = _cameras()
    int_key[("S1", 54138969)] = int_key.pop(("S1", "54138969"))
    return {
        "not a dict": ([1, 2, 3], "non-empty dict"),
        "key not a tuple": ({"S1": _cameras()[("S1", "54138969")]}, "camera key 'S1'"),
        "int camera id": (int_key, "camera key"),
        "missing T": (no_t, "missing T"),
        "T shape": (cams_with(T=np.zeros(3)), "'T'"),
        "w not int": (cams_with(w=1000.0), "'w'"),
        "NaN in f": (cams_with(f=np.array([[np.nan], [1.0]])), "'f'"),
        "value not a dict": ({("S1", "1"): np.eye(3)}, "expected a dict"),
    }


@pytest.mark.parametrize("case", list(_bad_camera_cases()))
def test_cameras_malformed_raises(tmp_path, case):
    data, match = _bad_camera_cases()[case]
    path = tmp_path / "cameras.pkl"
    path.write_bytes(pickle.dumps(data))
    _raises(F.load_mmpose_cameras, path, match)


def test_cameras_not_a_pickle(tmp_path):
    path = tmp_path / "cameras.pkl"
    path.write_text("R = 1\n")
    _raises(F.load_mmpose_cameras, path)
    _raises(F.load_mmpose_cameras, tmp_path / "missing.pkl", "no such file")


# ------------------------------------------------------------------------- third-party writers


def test_reads_files_written_the_videopose3d_way(tmp_path):
    # prepare_data_h36m.py: np.savez_compressed(out, positions_3d=output) with a plain dict;
    # its 2D part: np.savez_compressed(out_2d, positions_2d=..., metadata=...)
    pos3, pos2 = _pos3d(), _pos2d()
    meta = {"layout_name": "h36m", "num_joints": 17,
            "keypoints_symmetry": [[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]]}
    np.savez_compressed(tmp_path / "data_3d_h36m.npz", positions_3d=pos3)
    np.savez_compressed(tmp_path / "data_2d_h36m_gt.npz", positions_2d=pos2, metadata=meta)
    _assert_nested_equal(pos3, F.load_3d(tmp_path / "data_3d_h36m.npz"))
    p, m, ex = F.load_2d(tmp_path / "data_2d_h36m_gt.npz")
    _assert_nested_equal(pos2, p)
    assert m == meta and ex == {}


def test_corrupt_compressed_member_raises(tmp_path):
    good = tmp_path / "good.npz"
    F.save_3d(good, _pos3d())
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as z:
        info = z.getinfo("positions_3d.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 50, start + 150):      # scramble the deflate stream
        data[i] ^= 0x5A
    bad = tmp_path / "bad.npz"
    bad.write_bytes(bytes(data))
    _raises(F.load_3d, bad, "positions_3d")


def test_cameras_load_with_mmengine(tmp_path):
    mmengine = pytest.importorskip("mmengine")
    cams = _cameras()
    F.save_mmpose_cameras(tmp_path / "cameras.pkl", cams)
    loaded = mmengine.load(str(tmp_path / "cameras.pkl"))    # BaseMocapDataset's reader
    _assert_nested_equal(cams, loaded)


def test_npz_bytes_do_not_depend_on_the_time(tmp_path, monkeypatch):
    """Same arrays → same bytes, even when written at different times (numpy's own
    savez stamps each zip member with the current time)."""
    import time as _time

    from hpd3d import formats

    data = {"S1": {"walk": np.arange(51, dtype=np.float32).reshape(1, 17, 3)}}
    formats.save_3d(tmp_path / "a.npz", data)
    real = _time.localtime
    monkeypatch.setattr(_time, "localtime", lambda *a: real(_time.time() + 86400 * 400))
    formats.save_3d(tmp_path / "b.npz", data)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
