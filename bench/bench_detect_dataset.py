"""``python -m infer.detect_dataset`` speed: frames/s of MediaPipe on a rendered dataset,
side by side with a naive path measured in the same run on the same videos.

- ours: the command as the CLI runs it (every video checked first, then streamed once by a
  reader thread decoding ahead while MediaPipe runs, one detector reset between videos,
  the dataset written atomically).
- naive: per video a fresh MediaPipe graph, and every frame fetched on its own with
  ``cv2.VideoCapture.set(CAP_PROP_POS_FRAMES, t)`` + ``read`` (decode, seek, detect in one
  thread), then the same tracking, filling and COCO → H36M; its 2D is compared with ours.

Input: a ``blender.render`` folder rendered with ``render.enabled=true
render.subject=anny`` (default ``out/rendered_anny`` when it exists, else a small one is
rendered first: two motions, two cameras, 640x480, 30 frames each).

    .venv/bin/python bench/bench_detect_dataset.py [--input out/rendered_anny] [--videos 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402


def render_small(out: Path) -> Path:
    from blender.render import load_config, run

    src = out.parent / "bvh"
    src.mkdir(parents=True, exist_ok=True)
    for m in ("cmu_skeleton_example.bvh", "walk_23joint.bvh"):
        (src / m).symlink_to(REPO.parent / "shared" / "data" / "bvh" / m)
    run(load_config([f"input={src}", f"out={out}", "fps=30", "max_frames=30",
                     "camera.count=2", "camera.resolutions=[[640,480]]",
                     "render.enabled=true", "render.subject=anny"]))
    return out


def cfg_for(**kw):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return compose(config_name="detect_dataset", overrides=[f"{k}={v}" for k, v in kw.items()])


def naive(plan) -> tuple[dict, int]:
    """Per video: a fresh detector, one seek + decode per frame; the same tracking/filling."""
    import cv2

    from infer.detect_dataset import build_detector
    from infer.pipeline import Track2D, to_h36m
    from infer.tracking import Tracker, fill_missing

    out, n = {}, 0
    for job in plan.jobs:
        det = build_detector(plan.det_name, dict(plan.det_cfg))
        cap = cv2.VideoCapture(str(job.path))
        fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        tracker = Tracker(fps=fps, **plan.track_cfg)
        kps, found = [], []
        for t in range(job.frames):
            cap.set(cv2.CAP_PROP_POS_FRAMES, t)
            ok, bgr = cap.read()
            if not ok:
                raise RuntimeError(f"{job.path}: frame {t} unreadable")
            pick = tracker.choose(det.detect(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), tracker.last))
            kps.append(np.zeros((17, 3), np.float32) if pick is None else pick)
            found.append(pick is not None)
        cap.release()
        det.close()
        kp, found = np.stack(kps), np.array(found)
        if found.any():
            kp = fill_missing(kp, found)
        h36 = to_h36m(Track2D(kp, found, np.arange(len(kp)), "coco", job.width, job.height,
                              fps)).kp
        out[(job.subject, job.action, job.camera)] = (h36[..., :2], found)
        n += job.frames
    return out, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--input", type=Path, default=None)
    ap.add_argument("--videos", type=int, default=None, help="at most this many videos (naive)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_detds_"))
    inp = args.input or (REPO / "out" / "rendered_anny")
    if not (inp / "video").is_dir():
        print(f"no rendered videos in {inp}: rendering a small set ...", flush=True)
        inp = render_small(tmp / "render")

    from hpd3d.formats import load_2d
    from infer.detect_dataset import plan as make_plan
    from infer.detect_dataset import run
    from infer.quiet import filtered_stderr

    cfg = cfg_for(input=inp, out=tmp / "ours")
    t0 = time.perf_counter()
    run(cfg)
    t_ours = time.perf_counter() - t0
    p = make_plan(cfg_for(input=inp, out=tmp / "unused"))
    n_ours = sum(j.frames for j in p.jobs)
    if args.videos:
        p.jobs = p.jobs[: args.videos]
    t0 = time.perf_counter()
    with filtered_stderr():
        res, n_naive = naive(p)
    t_naive = time.perf_counter() - t0

    uv, _, extras = load_2d(tmp / "ours" / f"data_2d_{p.name}_mediapipe.npz")
    diff, agree = [], []
    for (s, a, c), (xy, found) in res.items():
        mine = extras["detected_2d"][s][a][c][:, 0]
        agree.append(mine == found)
        both = mine & found
        diff.append(np.abs(uv[s][a][c][both] - xy[both]).max(initial=0.0))
    fps_o, fps_n = n_ours / t_ours, n_naive / t_naive
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    print(f"\ninput: {inp} (ours: every video; naive: {len(res)} videos), "
          f"{os.cpu_count()} CPUs")
    print(f"{'path':<40} {'frames':>7} {'seconds':>8} {'frames/s':>9}")
    print(f"{'ours (infer.detect_dataset, whole run)':<40} {n_ours:>7} {t_ours:>8.1f} {fps_o:>9.1f}")
    print(f"{'naive (seek per frame, fresh graph)':<40} {n_naive:>7} {t_naive:>8.1f} {fps_n:>9.1f}")
    print(f"ratio ours / naive: {fps_o / fps_n:.2f}x")
    print(f"same 2D: detected flags agree on {np.concatenate(agree).mean():.1%} of frames; "
          f"max |Δ| on frames both detected {max(diff):.3g} px")


if __name__ == "__main__":
    main()
