"""Rendered subjects as a 2D-detector test bed: MediaPipe Pose on the capsule mannequin vs
the anny human, the same BVH clips, cameras and frames (``blender.render`` with
``render.subject=mannequin|anny``; the mannequin is the baseline).

For each subject: render PNG frames (Workbench), run MediaPipe Pose (``mp.solutions.pose``,
model_complexity=1, video mode per camera) on them and compare its 12 limb keypoints
(shoulders, elbows, wrists, hips, knees, ankles) with the exact projections of the
ground-truth joints (``data_2d_*_gt.npz``). Prints the detection rate, the mean and median
2D error (px) on detected frames, PCK at 10 % of the ground-truth bounding-box diagonal,
the left/right swap rate (frames where the swapped assignment fits better), render
seconds per frame.

    python bench/bench_render_subject.py [--files cmu_01_01.bvh walk_23joint.bvh]
        [--frames 60] [--stride 4] [--cams 2] [--out out/bench_subject]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# H36M joint ← MediaPipe Pose landmark (both name the person's own left/right)
H36M_FROM_MP = {1: 24, 2: 26, 3: 28, 4: 23, 5: 25, 6: 27,
                11: 11, 12: 13, 13: 15, 14: 12, 15: 14, 16: 16}
SWAP = {1: 4, 2: 5, 3: 6, 4: 1, 5: 2, 6: 3, 11: 14, 12: 15, 13: 16, 14: 11, 15: 12, 16: 13}


def render(subject: str, files, out: Path, frames: int, stride: int, cams: int, seed: int):
    from blender.render import load_config, run

    inp = out / "input"
    inp.mkdir(parents=True, exist_ok=True)
    for f in files:
        link = inp / f.name
        if not link.exists():
            link.symlink_to(f)
    t0 = time.perf_counter()
    run(load_config([f"input={inp}", f"out={out / subject}", "name=bench", f"seed={seed}",
                     "render.enabled=true", "render.frames=true", "render.video=false",
                     f"render.subject={subject}", f"max_frames={frames}", f"stride={stride}",
                     f"camera.count={cams}", "camera.resolutions=[[640,480]]"]))
    return time.perf_counter() - t0


def detect(out: Path):
    """{(subject, camera): (T, 12, 2) MediaPipe px (NaN where no detection)} and GT."""
    import cv2
    import mediapipe as mp

    d = np.load(out / "data_2d_bench_gt.npz", allow_pickle=True)["positions_2d"].item()
    res = []
    for subj, actions in d.items():
        for action, per_cam in actions.items():
            for c, gt in enumerate(per_cam):
                fdir = out / "frames" / subj / action / str(c)
                pose = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1)
                pred = np.full((len(gt), 17, 2), np.nan)
                for t in range(len(gt)):
                    img = cv2.imread(str(fdir / f"{t + 1:06d}.png"))
                    h, w = img.shape[:2]
                    r = pose.process(np.ascontiguousarray(img[:, :, ::-1]))
                    if r.pose_landmarks is not None:
                        lm = r.pose_landmarks.landmark
                        for j, m in H36M_FROM_MP.items():
                            pred[t, j] = lm[m].x * w, lm[m].y * h
                pose.close()
                res.append((gt, pred))
    return res


def metrics(res):
    joints = sorted(H36M_FROM_MP)
    det, errs, pck, swaps, n = 0, [], [], 0, 0
    for gt, pred in res:
        for t in range(len(gt)):
            n += 1
            if np.isnan(pred[t, joints[0], 0]):
                continue
            det += 1
            g, p = gt[t, joints], pred[t, joints]
            e = np.linalg.norm(p - g, axis=1)
            es = np.linalg.norm(pred[t, [SWAP[j] for j in joints]] - g, axis=1)
            diag = np.linalg.norm(gt[t].max(0) - gt[t].min(0))
            errs.append(e)
            pck.append(e < 0.1 * diag)
            swaps += es.mean() < 0.7 * e.mean()
    errs = np.concatenate(errs) if errs else np.array([np.nan])
    return {"frames": n, "detected": det / max(n, 1), "mean_px": float(np.mean(errs)),
            "median_px": float(np.median(errs)),
            "pck10": float(np.mean(np.concatenate(pck))) if pck else float("nan"),
            "lr_swap": swaps / max(det, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", nargs="+", default=["cmu_01_01.bvh", "walk_23joint.bvh"])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--stride", type=int, default=4)
    ap.add_argument("--cams", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="out/bench_subject")
    a = ap.parse_args()
    shared = Path(os.environ.get("HPD3D_SHARED", REPO.parent / "shared")) / "data" / "bvh"
    files = [shared / f for f in a.files]
    out = Path(a.out)
    rows = {}
    for subject in ("mannequin", "anny"):
        secs = render(subject, files, out, a.frames, a.stride, a.cams, a.seed)
        m = metrics(detect(out / subject))
        m["render_s_per_frame"] = secs / m["frames"]
        rows[subject] = m
    print(f"\nMediaPipe Pose (complexity 1) on rendered subjects: {', '.join(a.files)}, "
          f"{a.cams} cameras, 640x480, {a.frames} frames (stride {a.stride}) per file")
    print(f"{'subject':10s} {'frames':>6s} {'detected':>8s} {'mean px':>8s} {'median px':>9s} "
          f"{'PCK@0.1':>8s} {'L/R swap':>8s} {'render s/frame':>14s}")
    for s, m in rows.items():
        print(f"{s:10s} {m['frames']:6d} {m['detected']:8.1%} {m['mean_px']:8.1f} "
              f"{m['median_px']:9.1f} {m['pck10']:8.1%} {m['lr_swap']:8.1%} "
              f"{m['render_s_per_frame']:14.2f}")
    b, x = rows["mannequin"], rows["anny"]
    print(f"anny / mannequin: detection x{x['detected'] / max(b['detected'], 1e-9):.2f}, "
          f"mean error x{x['mean_px'] / b['mean_px']:.2f}")


if __name__ == "__main__":
    main()
