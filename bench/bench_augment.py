"""Benchmark: poses augmented (knee + quaternion joints + camera) and projected to 4 cameras.

Ours: the vectorised chain on chunks of poses (every pose its own knee flexion and joint
rotations, i.e. the single-pose mode, and 4 distorted cameras per chunk). Baseline: the
same steps pose by pose in Python (scipy per pose, cv2.projectPoints per pose and camera),
timed on a subset and extrapolated, measured in the same run. Then a streamed
10-million-pose job in chunks, with its peak memory.

    python bench/bench_augment.py [--poses 10000000] [--chunk 100000]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import cv2
import numpy as np
from scipy.spatial.transform import Rotation

from hpd3d.camera import project_many, to_opencv
from hpd3d.camera_sampling import CameraConfig, sample_cameras
from synth.inputs import from_bvh
from synth.joint_rotation import apply_within_limits, sample_rotvec
from synth.knee import set_knee_flexion

BVH = Path(__file__).resolve().parents[2] / "shared" / "data" / "bvh" / "cmu_01_01.bvh"
JOINTS = ("right_knee", "left_elbow", "right_shoulder", "spine")


def ours(chunk: np.ndarray, cams, rng, times: dict | None = None) -> np.ndarray:
    t0 = time.perf_counter()
    x = set_knee_flexion(chunk, rng.uniform(0, 160, (len(chunk), 2)))
    t1 = time.perf_counter()
    for j in JOINTS:
        x = apply_within_limits(x, j, sample_rotvec(rng, len(x), (30.0, 20.0, 20.0)))
    t2 = time.perf_counter()
    uv = project_many(x.astype(np.float32), cams)
    if times is not None:
        for k, dt in (("knee", t1 - t0), ("joints", t2 - t1), ("project", time.perf_counter() - t2)):
            times[k] = times.get(k, 0.0) + dt
    return uv


def naive(chunk: np.ndarray, cams, rng) -> list:
    """Pose by pose: the same operations written per sample."""
    out = []
    cv = [to_opencv(c) for c in cams]
    for pose in chunk:
        x = set_knee_flexion(pose[None], rng.uniform(0, 160, (1, 2)))
        for j in JOINTS:
            x = apply_within_limits(x, j, sample_rotvec(rng, 1, (30.0, 20.0, 20.0)))
        out.append([cv2.projectPoints(x[0], *c)[0] for c in cv])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--poses", type=int, default=10_000_000)
    ap.add_argument("--chunk", type=int, default=100_000)
    ap.add_argument("--naive", type=int, default=300)
    args = ap.parse_args()

    (_, _, motion), = from_bvh(str(BVH), fps=120)
    rng = np.random.default_rng(0)
    cfg = CameraConfig(count=4, distortion_prob=1.0)
    cams, _ = sample_cameras(rng, cfg, motion)
    chunk = np.resize(motion, (args.chunk, 17, 3))

    ours(chunk[:1000], cams, rng)  # warm up
    parts: dict = {}
    t = time.perf_counter()
    ours(chunk, cams, rng, parts)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    naive(chunk[: args.naive], cams, rng)
    t_naive = (time.perf_counter() - t) / args.naive * args.chunk

    rate, rate_naive = args.chunk / t_ours, args.chunk / t_naive
    print(f"{'method':<44}{'poses/s':>14}{'ratio':>9}")
    print(f"{'per-pose Python loop (' + str(args.naive) + ' poses, extrapolated)':<44}"
          f"{rate_naive:>14,.0f}{1.0:>9.1f}")
    print(f"{'vectorised, chunks of ' + format(args.chunk, ','):<44}{rate:>14,.0f}"
          f"{rate / rate_naive:>9.1f}")
    print("  of which " + ", ".join(f"{k} {v / t_ours:.0%} ({args.chunk / v:,.0f} poses/s)"
                                    for k, v in parts.items()))

    # a streamed job: chunks in, reduced statistics out, nothing held
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    done, in_frame = 0, 0.0
    while done < args.poses:
        n = min(args.chunk, args.poses - done)
        uv = ours(chunk[:n], cams, rng)
        in_frame += float(((uv >= 0) & (uv < 1000)).all(-1).mean()) * n
        done += n
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"streamed job: {done:,} poses × 4 cameras in {dt:.1f} s = {done / dt:,.0f} poses/s; "
          f"peak RSS {peak / 1024:.0f} MB (before the job {base / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
