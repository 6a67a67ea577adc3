"""Benchmark: project 100k frames × 17 joints into 8 distorted cameras.

Compares ``hpd3d.camera.project_many`` (batched) with a naive loop calling
``cv2.projectPoints`` once per frame per camera (timed on a subset of frames and
extrapolated linearly, as stated in the table), and, for reference, ``cv2.projectPoints``
once per camera on all points. Run: ``.venv/bin/python bench/bench_camera.py [--frames N]``.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from hpd3d import camera as cm


def make_cameras(n: int, rng) -> list[cm.Camera]:
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
    cams = []
    for i, a in enumerate(ang):
        C = np.array([4 * np.cos(a), 4 * np.sin(a), 1.2 + 0.4 * (i % 2)])
        R = cm.look_at(C, [0, 0, 1], roll=rng.uniform(-0.1, 0.1))
        dist = rng.uniform([-0.25, -0.05, -0.01, -0.002, -0.002], [-0.15, 0.2, 0.01, 0.002, 0.002])
        cams.append(
            cm.Camera(
                1920,
                1080,
                1400,
                1405,
                960 + rng.normal(5),
                540 + rng.normal(5),
                R=R,
                C=C,
                dist=dist,
                name=f"cam{i}",
            )
        )
    return cams


def best_of(fn, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100_000)
    ap.add_argument("--joints", type=int, default=17)
    ap.add_argument("--cameras", type=int, default=8)
    ap.add_argument(
        "--naive-frames", type=int, default=1000, help="frames timed for the naive loop"
    )
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    cams = make_cameras(args.cameras, rng)
    T, J, N = args.frames, args.joints, args.cameras
    X = (np.array([0, 0, 1.0]) + rng.uniform(-0.8, 0.8, size=(T, J, 3))).astype(np.float32)
    n_proj = T * J * N
    opencv = [cm.to_opencv(c) for c in cams]

    # ours, batched
    t_ours = best_of(lambda: cm.project_many(X, cams), args.repeats)
    uv = cm.project_many(X, cams)

    # naive: one cv2.projectPoints call per frame per camera, on a subset of frames
    Tn = min(args.naive_frames, T)
    Xs = X[:Tn].astype(np.float64)

    def naive():
        out = np.empty((N, Tn, J, 2))
        for t in range(Tn):
            for i, (rvec, tvec, K, d) in enumerate(opencv):
                out[i, t] = cv2.projectPoints(Xs[t], rvec, tvec, K, d)[0][:, 0]
        return out

    t_naive_sub = best_of(naive, 1)
    t_naive = t_naive_sub * T / Tn
    err_naive = np.abs(naive() - uv[:, :Tn]).max()

    # reference: cv2.projectPoints once per camera over all points (OpenCV's own batching)
    Xf = X.reshape(-1, 3).astype(np.float64)

    def per_camera():
        return np.stack([cv2.projectPoints(Xf, *o)[0][:, 0] for o in opencv]).reshape(N, T, J, 2)

    t_cv = best_of(per_camera, args.repeats)
    err_cv = np.abs(per_camera() - uv).max()

    rows = [
        ("hpd3d project_many (batched)", t_ours, "measured", 0.0),
        (
            "naive cv2 per frame × camera",
            t_naive,
            f"measured on {Tn} frames, ×{T / Tn:g}",
            err_naive,
        ),
        ("cv2 per camera, all points", t_cv, "measured", err_cv),
    ]
    print(
        f"\nproject {T} frames × {J} joints × {N} cameras (pinhole + k1 k2 k3 p1 p2) "
        f"= {n_proj:,} projections"
    )
    print(
        f"{'method':34s} {'time [s]':>10s} {'points/s':>14s} {'t / t_ours':>10s} "
        f"{'max |Δ| px':>11s}  note"
    )
    for name, t, note, err in rows:
        print(f"{name:34s} {t:10.3f} {n_proj / t:14,.0f} {t / t_ours:10.1f} {err:11.2e}  {note}")


if __name__ == "__main__":
    main()
