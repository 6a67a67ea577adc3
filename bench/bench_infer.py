"""Inference speed: per-stage ms/frame and end-to-end fps of ``python -m infer`` on a
640×480 clip, side by side with a naive path measured in the same run.

The clip: a real person (a COCO photo from ../shared/data when present, else a drawn stick
figure) moving smoothly across the frame, written as MPEG-4; MediaPipe (the default
detector) and the default lifter (data/lifter_default.pt), then a MotionBERT-lite lifter
(random weights: the speed does not depend on them).

- ours: the pipeline as the CLI runs it (a reader thread decodes ahead while MediaPipe
  runs; one ``lift_sequence`` call over the whole sequence; post; writers).
- naive: decode → 2D → lift in one thread, one lifter call per output frame on the window
  around it (as MMPose's ``body3d_pose_lifter_demo`` does), then the same post and writes.

    .venv/bin/python bench/bench_infer.py [--frames 300] [--mb-frames 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

PHOTO = REPO.parent / "shared" / "data" / "images" / "coco" / "000000000785.jpg"


def make_clip(path: Path, frames: int, size=(640, 480)) -> Path:
    w, h = size
    if PHOTO.exists():
        img = cv2.imread(str(PHOTO))
    else:
        img = np.full((425, 640, 3), 200, np.uint8)
        cv2.line(img, (320, 60), (320, 250), (0, 0, 0), 12)
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (w, h))
    for t in range(frames):
        a = 2 * np.pi * t / 150
        m = np.float32([[1.0, 0, 40 * np.sin(a) - 60], [0, 1.0, 20 + 10 * np.cos(a)]])
        vw.write(cv2.warpAffine(img, m, (w, h), borderValue=(127, 127, 127)))
    vw.release()
    return path


def cfg_for(**kw):
    from hydra import compose, initialize_config_dir

    over = ["progress=false", "threads=1"] + [f"{k}={v}" for k, v in kw.items()]
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return compose(config_name="infer", overrides=over)


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def stage_times(video: Path, lifter_path) -> dict:
    """Each stage alone, ms/frame."""
    from infer.detectors import DETECTORS
    from infer.pipeline import lift, load_lifter_checked
    from infer.video import open_frames

    out = {}
    t = time.perf_counter()
    frames = [f for _, f in open_frames(video, prefetch=0)]
    T = len(frames)
    out["decode"] = (time.perf_counter() - t) / T * 1e3
    det = DETECTORS["mediapipe"]()
    t, c = time.perf_counter(), _cpu()
    kp = [det.detect(f) for f in frames]
    out["2d"] = (time.perf_counter() - t) / T * 1e3
    out["2d_cpu"] = (_cpu() - c) / T * 1e3  # CPU time of all threads: what an idle core needs
    det.close()
    del frames
    from hpd3d.skeleton import COCO_TO_H36M, convert_scored

    kp = np.stack([k[0] if len(k) else np.zeros((17, 3), np.float32) for k in kp])
    h = convert_scored(kp, COCO_TO_H36M)
    lifter = load_lifter_checked(lifter_path, False)
    t = time.perf_counter()
    lift(lifter, h[..., :2], h[..., 2], 640, 480)
    out["lift"] = (time.perf_counter() - t) / T * 1e3
    return out


def naive_lift_ms(lifter, uv, conf, n: int) -> float:
    """One lifter call per output frame on its window (edge-padded), for ``n`` frames."""
    from train.models import lift_sequence

    L = lifter.window.length
    x = np.concatenate([lifter.normalize(uv, 640, 480), conf[..., None]], -1).astype(np.float32)
    T = len(x)
    t = time.perf_counter()
    for i in range(n):
        a = i - lifter.window.anchor
        idx = np.clip(np.arange(a, a + L), 0, T - 1)
        lift_sequence(lifter, x[idx])
    return (time.perf_counter() - t) / n * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--mb-frames", type=int, default=20, help="frames for the naive MotionBERT path")
    a = ap.parse_args()
    torch.set_num_threads(1)
    from infer.__main__ import main_guarded  # noqa: F401 (sets the logging environment)
    from infer.pipeline import run
    from train.models import build_model, load_lifter, save_checkpoint

    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        video = make_clip(d / "bench.mp4", a.frames)
        default = str(REPO / "data" / "lifter_default.pt")
        print(f"clip: {a.frames} frames 640x480 mp4v; {os.cpu_count()} CPUs; torch threads 1; "
              f"load {os.getloadavg()[0]:.2f}")
        st = stage_times(video, default)
        # ours, end to end (the CLI's run), twice: all files / the npz only
        s = run(cfg_for(video=video, out=d / "ours", lifter=default))
        c0 = _cpu()
        s_min = run(cfg_for(video=video, out=d / "ours_min", lifter=default, **{
            "write.overlay": "false", "write.skeleton_video": "false", "write.report": "false",
            "write.bvh": "false"}))
        cpu_min = (_cpu() - c0) / a.frames * 1e3
        # naive: no reader thread, one lifter call per frame
        s_naive = run(cfg_for(video=video, out=d / "naive", lifter=default, prefetch=0, **{
            "write.overlay": "false", "write.skeleton_video": "false", "write.report": "false",
            "write.bvh": "false"}))
        r = np.load(d / "ours" / "bench.npz")
        uv, conf = r["keypoints_2d"], r["confidence"]
        T = len(uv)
        lifter = load_lifter(default)
        naive_lift = naive_lift_ms(lifter, uv, conf, T)
        torch.manual_seed(0)
        mb = build_model("motionbert", size="lite")
        mb_path = d / "mb_lite.pt"
        save_checkpoint(mb, mb_path)
        mbl = load_lifter(mb_path)
        from infer.pipeline import lift

        t = time.perf_counter()
        lift(mbl, uv, conf, 640, 480)
        mb_ours = (time.perf_counter() - t) / T * 1e3
        mb_naive = naive_lift_ms(mbl, uv, conf, a.mb_frames)

    def e2e(sm, naive_lift_extra=0.0):
        sec = sum(v for k, v in sm["seconds"].items() if k != "setup") + naive_lift_extra * T / 1e3
        return T / sec

    ms = s["ms_per_frame"]
    print("\nstage alone (ms/frame):  " + "  ".join(f"{k} {v:.1f}" for k, v in st.items()))
    print("ours, in the pipeline:   " + "  ".join(f"{k} {v:.1f}" for k, v in ms.items() if k != "setup"))
    print(f"\n{'path':<44} {'lift ms/frame':>14} {'end-to-end fps':>15}")
    print(f"{'ours (all files: overlay, 3D video, BVH, report)':<44} {ms['lift']:>14.2f} {e2e(s):>15.1f}")
    print(f"{'ours (npz + X3D only)':<44} {s_min['ms_per_frame']['lift']:>14.2f} {e2e(s_min):>15.1f}")
    naive_extra = naive_lift - s_naive["ms_per_frame"]["lift"]
    print(f"{'naive (no reader thread, 1 lifter call/frame)':<44} {naive_lift:>14.2f} "
          f"{e2e(s_naive, naive_extra):>15.1f}")
    print(f"{'MotionBERT-lite: ours (overlapping clips)':<44} {mb_ours:>14.2f} "
          f"{e2e(s_min, mb_ours - s_min['ms_per_frame']['lift']):>15.1f}")
    print(f"{'MotionBERT-lite: naive (243-frame window/frame)':<44} {mb_naive:>14.2f} "
          f"{e2e(s_naive, mb_naive - s_naive['ms_per_frame']['lift']):>15.1f}")
    print(f"\nratio ours/naive end to end: default lifter {e2e(s_min) / e2e(s_naive, naive_extra):.2f}x, "
          f"MotionBERT-lite lifting {mb_naive / mb_ours:.0f}x faster")
    goal = e2e(s_min)
    idle = 1000.0 / max(st["2d_cpu"], cpu_min / 2)
    print(f"CPU time (all threads): MediaPipe {st['2d_cpu']:.1f} ms/frame, whole npz-only run "
          f"{cpu_min:.1f} ms/frame incl. setup → on 2 idle cores about {idle:.0f} fps "
          f"(this machine's load average: {os.getloadavg()[0]:.1f})")
    print(f"goal ≥ 30 fps end to end with MediaPipe + the default lifter: "
          f"{'met' if goal >= 30 else 'NOT met'} ({goal:.1f} fps; MediaPipe alone "
          f"{1000 / st['2d']:.1f} fps on this machine)")


if __name__ == "__main__":
    main()
