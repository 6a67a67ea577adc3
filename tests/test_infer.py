"""infer: video → 2D → 3D → post → files (issue 8's "Must show" list).

- closed loop: a clip rendered by the toolkit's Blender stage (known 3D and camera), run
  with ``detector=file`` on the exact 2D plus the toolkit's noise model;
- real images: MediaPipe on the COCO photos in ``../shared/data/images/coco``;
- offline: the default path with sockets patched to fail;
- bad input: one line, exit 2, nothing left behind, checked before the work;
- the reader (rotation metadata, start/end/stride, streaming), the maps and X3D.npy.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from hpd3d import skeleton as sk
from hpd3d.camera_io import read_camera_files
from hpd3d.formats import load_3d, save_2d
from hpd3d.metrics import mpjpe, p_mpjpe
from hpd3d.noise import NoiseModel, add_noise

REPO = Path(__file__).resolve().parents[1]
COCO_DIR = "data/images/coco"


def make_cfg(*overrides):
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return compose(config_name="infer", overrides=["progress=false", *overrides])


def run_infer(*overrides):
    from infer.__main__ import main_guarded

    return main_guarded(make_cfg(*overrides))


def expect_error(capsys, *overrides) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        run_infer(*overrides)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def write_video(path: Path, frames, fps: float = 30.0) -> Path:
    h, w = frames[0].shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        vw.write(f)
    vw.release()
    return path


# -- fixtures -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def person_bgr(shared_dir):
    """A COCO photo with one clearly visible person, 640x425 → padded to 640x480."""
    img = cv2.imread(str(shared_dir / COCO_DIR / "000000000785.jpg"))
    out = np.full((480, 640, 3), 127, np.uint8)
    out[: img.shape[0], : img.shape[1]] = img
    return out


@pytest.fixture(scope="session")
def person_video(tmp_path_factory, person_bgr):
    """24 frames: the person, drifting a little; frames 8-11 are empty (nobody)."""
    d = tmp_path_factory.mktemp("vid")
    frames = []
    for t in range(24):
        if 8 <= t < 12:
            frames.append(np.full_like(person_bgr, 127))
        else:
            m = np.float32([[1, 0, 2 * t], [0, 1, 0]])
            frames.append(cv2.warpAffine(person_bgr, m, (640, 480), borderValue=(127, 127, 127)))
    return write_video(d / "walker.mp4", frames)


@pytest.fixture(scope="session")
def blender_clip(tmp_path_factory, bvh_dir):
    """A BVH through the toolkit's Blender stage: 3D truth, one camera, exact 2D."""
    out = tmp_path_factory.mktemp("blender")
    cmd = [sys.executable, "-m", "blender.render", f"input={bvh_dir / 'walk_23joint.bvh'}",
           f"out={out}", "camera.count=1", "'camera.resolutions=[[640,480]]'", "max_frames=300",
           "seed=3"]
    r = subprocess.run(" ".join(cmd), shell=True, cwd=REPO, capture_output=True, text=True,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-2000:]
    world = load_3d(out / "data_3d_blender.npz")
    subj = next(iter(world))
    act = next(iter(world[subj]))
    cam = read_camera_files(out)[0]
    d2 = np.load(out / "data_2d_blender_gt.npz", allow_pickle=True)
    uv = d2["positions_2d"].item()[subj][act][0]
    # the toolkit's noise model on the exact 2D, written as the toolkit's own 2D npz
    noisy, conf = add_noise(uv[None], np.random.default_rng(0), NoiseModel())
    meta = d2["metadata"].item()
    path = out / "data_2d_blender_noisy.npz"
    save_2d(path, {subj: {act: [noisy[0]]}}, meta, extras={"confidence_2d": {subj: {act: [conf[0]]}}})
    return {"dir": out, "world": world[subj][act], "cam": cam, "uv": uv, "noisy": path,
            "subject": subj, "action": act}


# -- closed loop ------------------------------------------------------------------------
def test_closed_loop_blender_clip(blender_clip, tmp_path):
    c = blender_clip
    cam = c["cam"]
    T = len(c["world"])
    out = tmp_path / "run"
    s = run_infer("detector=file", f"detector.path={c['noisy']}", f"out={out}", "fps=30",
                  f"camera.focal_px={cam.fx}", f"camera.cx={cam.cx}", f"camera.cy={cam.cy}",
                  "write.skeleton_video=false")
    r = np.load(out / f"{s['name']}.npz", allow_pickle=True)
    assert r["pose_world"].shape == (T, 17, 3) and r["detected"].all()  # frame count kept
    gt_cam = (cam.R @ (c["world"] - cam.C)[..., None])[..., 0]
    gt_rel = gt_cam - gt_cam[:, :1]
    e = mpjpe(r["pose_cam_rootrel"], gt_rel) * 1000
    pe = p_mpjpe(r["pose_cam_rootrel"], gt_rel) * 1000
    root_err = np.linalg.norm(r["pose_cam"][:, 0] - gt_cam[:, 0], axis=-1).mean() * 1000
    print(f"\nclosed loop ({T} frames, detector=file, noisy exact 2D): MPJPE {e:.1f} mm, "
          f"P-MPJPE {pe:.1f} mm, root position error {root_err:.0f} mm")
    assert e < 120 and pe < 80  # measured 2026-12: see the printed figures
    # constant bones
    bl = sk.bone_lengths(r["pose_world"])
    cv = bl.std(0) / bl.mean(0)
    assert cv.max() < 1e-4
    rep = json.loads((out / f"{s['name']}_report.json").read_text())
    assert rep["ground_penetration_max_mm"] <= 5.0
    # the BVH reproduces the world skeleton (hpd3d.rig reads it back)
    from hpd3d.bvh import load_bvh
    from hpd3d.rig import to_h36m

    back = to_h36m(load_bvh(out / f"{s['name']}.bvh"))
    assert back.shape == (T, 17, 3)
    # the BVH is exact for what an armature can hold: the lifted skeleton with its pelvis
    # (hips, spine) made one rigid bone (hpd3d.retarget.normalize, computed independently
    # of the rotation solve and the BVH writer)
    from hpd3d.retarget import bone_lengths, normalize, pelvis_shape, rest_pose

    world = np.asarray(r["pose_world"], np.float64)
    rest = rest_pose(bone_lengths(world), "T", pelvis_shape(world))
    rigid = normalize(world, rest)
    exact_err = np.linalg.norm(back - rigid, axis=-1)
    bvh_err = np.linalg.norm(back - world, axis=-1)
    print(f"BVH read back: vs rigid-pelvis skeleton max {exact_err.max() * 1000:.3f} mm; "
          f"vs lifted skeleton max {bvh_err.max() * 1000:.2f} mm, mean {bvh_err.mean() * 1000:.2f} mm")
    assert exact_err.max() < 0.001
    # and the rigid pelvis moves each joint by what the pelvis's own joints (hips, spine)
    # move — bone directions and lengths are kept — so the lifted skeleton's small
    # hip-triangle bending (a few mm) is all that differs
    anc = np.arange(17)
    for j in range(17):
        while anc[j] not in (0, 1, 4, 7):
            anc[j] = sk.H36M.parents[anc[j]]
    assert np.allclose(bvh_err, bvh_err[:, anc], atol=1e-3)
    assert bvh_err.mean() < 0.005
    assert np.asarray(r["pose_world"])[..., 2].min() >= -0.005
    # upright: on the frames the truth stands (torso pelvis → thorax within 10° of vertical),
    # the world frame's torso tilt follows the truth's frame by frame (the lifter's own
    # torso-direction error is a few degrees: the ground plane adds little to it)
    def tilt(x):
        v = x[:, 8] - x[:, 0]
        return np.degrees(np.arccos(np.clip(v[:, 2] / np.linalg.norm(v, axis=-1), -1, 1)))
    standing = tilt(c["world"]) < 10
    assert standing.mean() > 0.5
    pred_tilt = tilt(r["pose_world"])[standing]
    dtilt = np.abs(pred_tilt - tilt(c["world"])[standing])
    print(f"torso tilt on standing frames: mean {pred_tilt.mean():.1f}°, max {pred_tilt.max():.1f}°; "
          f"vs the truth's: mean {dtilt.mean():.1f}°, max {dtilt.max():.1f}°")
    assert dtilt.max() < 10 and dtilt.mean() < 4


def _seam(pose: np.ndarray, starts, L: int) -> tuple[float, float]:
    """(largest jump at a clip boundary, 99th percentile of the steps inside the clips); a
    step's size is its largest per-joint frame-to-frame motion."""
    step = np.linalg.norm(np.diff(pose, axis=0), axis=-1).max(-1)  # (T-1,)
    T = len(pose)
    bounds = np.unique([b - 1 for s0 in starts for b in (s0, s0 + L) if 0 < b < T])
    inside = np.setdiff1d(np.arange(T - 1), bounds)
    return float(step[bounds].max()), float(np.percentile(step[inside], 99))


def _smooth_temporal_embedding(mb, seed: int) -> None:
    """A trained MotionBERT's temporal position embedding varies smoothly along the clip; a
    fresh model's is white noise, which would make every frame a seam. Give the random
    model a smooth one (sums of a few sines, the fresh embedding's scale)."""
    import torch

    g = torch.Generator().manual_seed(seed)
    n, c = mb.maxlen, mb.temp_embed.shape[-1]
    pos = torch.arange(n, dtype=torch.float32)[:, None, None] / n
    k = torch.arange(1, 4, dtype=torch.float32)[None, :, None]
    e = (torch.randn(1, 3, c, generator=g)
         * torch.sin(torch.pi * k * pos + 6.3 * torch.rand(1, 3, c, generator=g))).sum(1)
    with torch.no_grad():
        mb.temp_embed.copy_((e / e.std() * 0.02).reshape(1, n, 1, c))


def test_no_seam_with_a_windowed_lifter(blender_clip, tmp_path):
    """A MotionBERT lifter (random weights with a smooth temporal embedding, 27-frame
    clips): after post-processing the
    largest per-joint jump at a clip boundary is no larger than the 99th percentile of the
    frame-to-frame motion inside the clips. The same check catches MotionBERT's own
    back-to-back clips (its issue #31) on the raw lifter output, so it can fail."""
    import torch

    from train.models import build_model, lift_sequence, load_lifter, save_checkpoint

    torch.manual_seed(0)
    m = build_model("motionbert", size="lite", depth=2, dim_feat=32, dim_rep=64, num_heads=4,
                    mlp_ratio=2, maxlen=27)
    _smooth_temporal_embedding(m, 0)
    path = tmp_path / "mb.pt"
    save_checkpoint(m, path)
    lifter = load_lifter(path)
    L = lifter.window.length
    c = blender_clip
    out = tmp_path / "run"
    s = run_infer("detector=file", f"detector.path={c['noisy']}", f"out={out}", "fps=30",
                  f"lifter={path}", "write.bvh=false", "write.skeleton_video=false",
                  "write.report=false")
    r = np.load(out / f"{s['name']}.npz")
    T = len(r["pose_cam_rootrel"])
    starts = m.clip_starts(T, L, L - L // 4)  # lift_sequence's clips (its default stride)
    assert len(starts) > 5
    jump, p99 = _seam(r["pose_cam_rootrel"], starts, L)
    # raw lifter output: our overlapping cross-faded clips vs back-to-back clips
    x = lifter.normalize(r["keypoints_2d"], *r["image_size"])
    x = np.concatenate([x, r["confidence"][..., None]], -1)
    raw_jump, raw_p99 = _seam(lift_sequence(lifter, x), starts, L)
    with torch.no_grad():
        b2b = m.lift_sequence(torch.from_numpy(x)[None].float(), stride=L)[0].numpy()
    b2b[:, 0] = 0.0  # root-relative as lift_sequence makes it
    b2b_jump, b2b_p99 = _seam(b2b, m.clip_starts(T, L, L), L)
    print(f"\nclip {L}: boundary jump / p99 inside, mm: after post {jump * 1e3:.1f} / "
          f"{p99 * 1e3:.1f}; raw overlapped {raw_jump * 1e3:.1f} / {raw_p99 * 1e3:.1f}; "
          f"raw back-to-back {b2b_jump * 1e3:.1f} / {b2b_p99 * 1e3:.1f}")
    assert jump <= p99
    assert raw_jump <= raw_p99
    assert b2b_jump > b2b_p99  # the check sees a seam where there is one


# -- real images ---------------------------------------------------------------------------
def test_mediapipe_pck_on_coco_photos(shared_dir):
    from infer.detectors import DETECTORS

    d = json.loads((shared_dir / COCO_DIR / "test_coco.json").read_text())
    det = DETECTORS["mediapipe"](static_image_mode=True)
    hits, total, per = 0, 0, []
    try:
        for im in d["images"]:
            anns = [a for a in d["annotations"] if a["image_id"] == im["id"] and a["num_keypoints"] > 0]
            main = max(anns, key=lambda a: a["bbox"][2] * a["bbox"][3])  # the main person
            gt = np.asarray(main["keypoints"], float).reshape(17, 3)
            rgb = cv2.cvtColor(cv2.imread(str(shared_dir / COCO_DIR / im["file_name"])),
                               cv2.COLOR_BGR2RGB)
            p = det.detect(rgb)
            assert p.shape[1:] == (17, 3) and len(p) <= 1
            vis = gt[:, 2] > 0
            thr = 0.1 * max(main["bbox"][2], main["bbox"][3])
            if len(p):
                ok = np.linalg.norm(p[0, :, :2] - gt[:, :2], axis=-1) <= thr
                hits += int((ok & vis).sum())
            per.append((im["file_name"], int(((np.linalg.norm(p[0, :, :2] - gt[:, :2], axis=-1)
                                              <= thr) & vis).sum()) if len(p) else 0, int(vis.sum())))
            total += int(vis.sum())
    finally:
        det.close()
    pck = hits / total
    print(f"\nMediaPipe PCK@0.1 (main person, bbox max side) on {len(per)} COCO photos: "
          f"{pck:.3f} ({hits}/{total}); per image {per}")
    assert pck >= 0.6  # measured: see the printed figure


# -- the whole default path, offline -----------------------------------------------------
def test_default_path_offline_keeps_timeline(person_video, tmp_path, monkeypatch):
    def refuse(*a, **k):
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    out = tmp_path / "run"
    s = run_infer(f"video={person_video}", f"out={out}")
    r = np.load(out / "walker.npz", allow_pickle=True)
    assert len(r["detected"]) == 24 == len(r["pose_world"]) == len(r["frame_index"])
    det = r["detected"]
    assert not det[8:12].any() and det[:8].all() and det[12:].all()  # a gap, timeline kept
    assert (r["confidence"][8:12] == 0).all()
    # the gap is filled by interpolation between its neighbours
    a, b = r["keypoints_2d_raw"][7], r["keypoints_2d_raw"][12]
    assert np.allclose(r["keypoints_2d_raw"][10], a + (b - a) * 3 / 5, atol=1e-3)
    files = set(os.listdir(out))
    for f in ("walker.npz", "X3D.npy", "walker_overlay.mp4", "walker_skeleton.mp4",
              "walker_report.json", "walker_report.png", "infer.json"):
        assert f in files
    cap = cv2.VideoCapture(str(out / "walker_overlay.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 24
    cap.release()
    assert r["image_size"].tolist() == [640, 480] and s["detector"] == "mediapipe"
    assert str(r["intrinsics_source"]).startswith("default field of view")
    assert np.load(out / "X3D.npy").shape == (24, 17, 3)


# -- bad input -----------------------------------------------------------------------------
def test_bad_input_one_line_exit_2_nothing_left(capsys, tmp_path, person_video):
    out = tmp_path / "out"
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(os.urandom(4096))
    assert "junk.mp4: not a readable video" in expect_error(capsys, f"video={junk}", f"out={out}")
    empty = tmp_path / "empty.mp4"
    cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"mp4v"), 30, (64, 48)).release()
    msg = expect_error(capsys, f"video={empty}", f"out={out}")
    assert "empty.mp4" in msg and ("zero frames" in msg or "not a readable video" in msg)
    assert "zero frames" in expect_error(capsys, f"video={person_video}", "start=500",
                                         f"out={out}")
    # a corrupt and a mismatched checkpoint
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    assert "bad.pt" in expect_error(capsys, f"video={person_video}", f"lifter={bad}", f"out={out}")
    import torch

    mism = tmp_path / "mismatch.pt"
    ck = torch.load(REPO / "data" / "lifter_default.pt", weights_only=True)
    ck["state_dict"]["expand_conv.weight"] = torch.zeros(5, 5, 1)  # not this model's shape
    torch.save(ck, mism)
    msg = expect_error(capsys, f"video={person_video}", f"lifter={mism}", f"out={out}")
    assert "mismatch.pt" in msg and "expand_conv.weight" in msg and "(5, 5, 1)" in msg
    # out: an existing file, somewhere unwritable, a foreign non-empty folder
    f = tmp_path / "afile"
    f.write_text("keep me")
    assert "afile: exists and is a file" in expect_error(capsys, f"video={person_video}", f"out={f}")
    assert f.read_text() == "keep me"
    assert "cannot write" in expect_error(capsys, f"video={person_video}", f"out={f}/sub")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("x")
    assert "did not write" in expect_error(capsys, f"video={person_video}", f"out={foreign}")
    assert not out.exists()  # nothing partial from any of them
    assert {p.name for p in tmp_path.iterdir()} == {
        "junk.mp4", "empty.mp4", "bad.pt", "mismatch.pt", "afile", "mine"}


def test_no_person_anywhere_leaves_nothing(capsys, tmp_path):
    grey = write_video(tmp_path / "grey.mp4", [np.full((240, 320, 3), 127, np.uint8)] * 6)
    out = tmp_path / "o" / "run"
    msg = expect_error(capsys, f"video={grey}", f"out={out}")
    assert "grey.mp4: no person found in any of the 6 frames" in msg
    assert not (tmp_path / "o").exists()  # not even the parent it would have made


def test_cli_error_is_one_line_exit_2(tmp_path):
    """The real command: FFmpeg's and OpenCV's own complaints (written to fd 2) are kept
    off the user's stderr; only our line remains."""
    junk = tmp_path / "junk.mov"
    junk.write_bytes(b"\x00\x00\x00\x18ftypqt  " + os.urandom(2000))
    r = subprocess.run([sys.executable, "-m", "infer", f"video={junk}", f"out={tmp_path / 'o'}"],
                       cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr == f"error: {junk}: not a readable video (OpenCV/FFmpeg cannot open it)\n"
    assert not (tmp_path / "o").exists()


def test_cli_default_path_stderr_is_only_progress(person_video, tmp_path):
    """mediapipe's C++ logging (TF-Lite, absl, glog), which its graph threads print at
    times of their own, stays off the user's stderr: only tqdm's progress remains."""
    out = tmp_path / "o"
    r = subprocess.run([sys.executable, "-m", "infer", f"video={person_video}", "end=4",
                        f"out={out}", "write.overlay=false", "write.skeleton_video=false",
                        "write.report=false", "write.bvh=false"],
                       cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for noise in ("XNNPACK", "W0000", "absl", "INFO:", "WARNING"):
        assert noise not in r.stderr, r.stderr
    assert "infer: 2D" in r.stderr and (out / "walker.npz").exists()


# -- reading -------------------------------------------------------------------------------
def _rotate_mp4(path: Path, degrees: int) -> None:
    """Set the video track's display matrix (tkhd) to a rotation, as phones do."""
    data = bytearray(path.read_bytes())
    i = data.find(b"tkhd")
    version = data[i + 4]
    m_off = i + 4 + 4 + (32 if version == 1 else 20) + 8 + 2 + 2 + 2 + 2
    c, s = {90: (0, 1), 180: (-1, 0), 270: (0, -1)}[degrees]
    one = 1 << 16
    mat = [c * one, s * one, 0, -s * one, c * one, 0, 0, 0, 1 << 30]
    data[m_off : m_off + 36] = struct.pack(">9i", *mat)
    path.write_bytes(bytes(data))


def test_reader_rotation_range_and_streaming(tmp_path):
    from infer.video import open_frames

    frames = []
    for t in range(40):
        f = np.zeros((48, 96, 3), np.uint8)
        f[:8, :16] = (0, 0, 255)  # a red block in the top-left corner
        cv2.putText(f, str(t), (40, 40), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
        frames.append(f)
    p = write_video(tmp_path / "r.mp4", frames, fps=25)
    src = open_frames(p, start=3, end=30, stride=4)
    got = list(src)
    assert [i for i, _ in got] == list(range(3, 30, 4)) and src.info.fps == 25 / 4
    assert got[0][1].shape == (48, 96, 3) and src.info.rotation == 0
    _rotate_mp4(p, 90)
    src = open_frames(p)
    assert src.info.rotation == 90 and (src.info.width, src.info.height) == (48, 96)
    i, rgb = next(iter(src))
    assert rgb.shape == (96, 48, 3)
    # 90° clockwise: the top-left block is now top-right (RGB red)
    assert rgb[:16, -8:, 0].mean() > 200 and rgb[-16:, :8, 0].mean() < 50
    # streamed: the reader thread holds a few frames, not the video
    import tracemalloc

    long = write_video(tmp_path / "long.mp4", frames * 8, fps=25)
    for path, n in ((p, 40), (long, 320)):
        tracemalloc.start()
        k = sum(1 for _ in open_frames(path, prefetch=4))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert k == n
        if n == 40:
            peak_short = peak
    assert peak < 2 * peak_short + 200_000


def test_image_folder_and_exif_focal(tmp_path, person_bgr):
    from PIL import Image

    from infer.intrinsics import intrinsics
    from infer.video import open_frames

    d = tmp_path / "frames"
    d.mkdir()
    for t in range(3):
        im = Image.fromarray(cv2.cvtColor(person_bgr, cv2.COLOR_BGR2RGB))
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0xA405] = 26  # 26 mm 35 mm-equivalent, as phones write
        im.save(d / f"{t:03d}.jpg", exif=exif)
    src = open_frames(d, fps=24)
    assert src.info.kind == "images" and src.info.frames == 3 and src.info.focal_35mm == 26
    K, where = intrinsics(640, 480, focal_35mm=src.info.focal_35mm)
    assert K[0, 0] == pytest.approx(26 * 800 / np.hypot(36, 24)) and "metadata" in where
    K2, where2 = intrinsics(640, 480, fov_deg=90)
    assert K2[0, 0] == pytest.approx(320) and where2 == "camera.fov_deg"


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _add_focal_metadata(path: Path, focal_35mm: float) -> None:
    """Put a phone's ``com.apple.quicktime.camera.focal_length.35mm_equivalent`` item into
    the file's moov/meta (hdlr mdta, keys, ilst), as an iPhone writes it."""
    data = path.read_bytes()
    pos = 0
    while True:  # the top-level moov box
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"moov":
            break
        pos += size
    assert pos + size == len(data)  # moov last: growing it moves no sample offset
    key = b"com.apple.quicktime.camera.focal_length.35mm_equivalent"
    hdlr = _box(b"hdlr", b"\0" * 8 + b"mdta" + b"\0" * 13)
    keys = _box(b"keys", b"\0" * 4 + struct.pack(">I", 1) + struct.pack(">I", 8 + len(key))
                + b"mdta" + key)
    item = _box(struct.pack(">I", 1), _box(b"data", struct.pack(">II", 23, 0)
                                           + struct.pack(">f", focal_35mm)))
    meta = _box(b"meta", hdlr + keys + _box(b"ilst", item))
    moov = data[pos:]
    new_moov = struct.pack(">I", len(moov) + len(meta)) + moov[4:] + meta
    path.write_bytes(data[:pos] + new_moov)


def test_video_focal_length_from_quicktime_metadata(tmp_path):
    from infer.video import mp4_focal_35mm, open_frames

    p = write_video(tmp_path / "phone.mp4", [np.zeros((48, 64, 3), np.uint8)] * 3)
    assert mp4_focal_35mm(p) == (None, None)
    _add_focal_metadata(p, 26.0)
    src = open_frames(p)
    assert src.info.focal_35mm == pytest.approx(26.0) and "quicktime" in src.info.focal_source
    assert sum(1 for _ in src) == 3  # still a valid video
    from infer.pipeline import prepare

    plan = prepare(make_cfg(f"video={p}", f"out={tmp_path / 'o'}"))
    plan.detector.close()
    assert plan.K[0, 0] == pytest.approx(26.0 * np.hypot(64, 48) / np.hypot(36, 24), rel=1e-6)
    assert plan.K_source.startswith("metadata")
    plan = prepare(make_cfg(f"video={p}", f"out={tmp_path / 'o'}", "camera.fov_deg=90"))
    plan.detector.close()
    assert plan.K[0, 0] == pytest.approx(32.0)  # the user's setting wins
    assert not (tmp_path / "o").exists()  # checking writes nothing


# -- maps and formats ------------------------------------------------------------------------
def test_blazepose_to_coco_to_h36m_names_and_scores():
    idx = sk.BLAZEPOSE_TO_COCO.argmax(1)
    assert [sk.BLAZEPOSE.joints[i] for i in idx] == list(sk.COCO.joints)
    assert (sk.BLAZEPOSE_TO_COCO.sum(1) == 1).all()
    rng = np.random.default_rng(0)
    coco = np.concatenate([rng.uniform(0, 100, (5, 17, 2)), rng.uniform(0, 1, (5, 17, 1))], -1)
    h = sk.coco_to_h36m(coco, scored=True)
    assert np.allclose(h[..., 0, :2], coco[..., [11, 12], :2].mean(-2))  # pelvis = mid-hips
    assert np.allclose(h[..., 0, 2], coco[..., [11, 12], 2].min(-1))  # as sure as the least
    assert np.allclose(h[..., 7, 2], coco[..., [5, 6, 11, 12], 2].min(-1))
    assert np.allclose(h[..., 3, 2], coco[..., 16, 2])  # right ankle is COCO's right ankle


def test_x3d_follows_motionbert_convention():
    from infer.writers import motionbert_x3d

    rng = np.random.default_rng(1)
    X = rng.normal(0, 0.3, (10, 17, 3)) + [0.2, 0.1, 4.0]
    K = np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]])
    x3d = motionbert_x3d(X, K)
    uv = (X[..., :2] / X[..., 2:]) * 500 + [320, 240]
    lo, hi = uv.reshape(-1, 2).min(0), uv.reshape(-1, 2).max(0)
    scale = (hi - lo).max()
    back = (x3d[..., :2] / 2 + 0.5) * scale + (lo + hi - scale) / 2
    assert np.allclose(back, uv, atol=1e-3)  # crop_scale of the projected skeleton
    assert abs(x3d[..., :2]).max() <= 1 + 1e-6 and x3d[0, 0, 2] == 0  # first root at z = 0
    # depth in the same units: a joint 0.1 m behind the root is 0.1 · f / Z · 2 / scale
    dz = (X[3, 5, 2] - X[0, 0, 2]) * 500 / X[3, 0, 2] * 2 / scale
    assert x3d[3, 5, 2] == pytest.approx(dz, rel=1e-4)


def test_tracker_keeps_the_main_subject():
    from infer.tracking import Tracker

    rng = np.random.default_rng(0)
    base = np.concatenate([rng.uniform(0, 100, (17, 2)), np.ones((17, 1))], -1).astype(np.float32)
    subject = base + [300, 100, 0]
    big = base * [2, 2, 1] + [0, 0, 0]  # someone larger, elsewhere
    tr = Tracker(fps=10, reacquire_s=1.0)
    assert np.allclose(tr.choose(subject[None]), subject)  # alone: taken
    for t in range(5):  # the bigger person walks in; the subject moves a little
        s = subject + [3 * t, 0, 0]
        assert np.allclose(tr.choose(np.stack([big, s])), s)
    assert tr.choose(big[None]) is None  # subject gone: the other person is not taken at once
    for _ in range(10):
        tr.choose(big[None])
    assert np.allclose(tr.choose(big[None]), big)  # after reacquire_s: the most prominent
    assert tr.choose(np.zeros((0, 17, 3))) is None
    low = subject.copy()
    low[:, 2] = 0.05
    assert Tracker().choose(low[None]) is None  # too unsure to be anyone
