"""Benchmark: poses augmented (knee + quaternion joints + camera) and projected to 4 cameras.

Ours: the vectorised chain on chunks of poses (every pose its own knee flexion and joint
rotations, i.e. the single-pose mode, and 4 distorted cameras per chunk). Baseline: the
same steps pose by pose in Python (scipy per pose, cv2.projectPoints per pose and camera),
timed on a subset and extrapolated, measured in the same run. Then a streamed
10-million-pose job in chunks, with its peak memory.

The body step (``synth.body_augment``) is timed on its own (``--only body`` skips the rest):
frames/s of whole sequences (``--seq-len`` frames, one body per sequence) for
``proportions=keep bone_jitter=0.04`` (the old default) and ``proportions=sampled`` (the
new one), against the sampled mode written frame by frame and bone by bone in Python.

    python bench/bench_augment.py [--poses 10000000] [--chunk 100000]
    python bench/bench_augment.py --only body [--seq-len 300] [--seqs 200]
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
from hpd3d.skeleton import H36M
from synth.body_augment import _PAIR, BodyConfig, augment_body, sample_proportions
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


def body_naive(seq: np.ndarray, rng, cfg: BodyConfig) -> np.ndarray:
    """The sampled body step frame by frame and bone by bone (same draws, same result)."""
    s = rng.uniform(*cfg.scale)
    pair = 1 + rng.uniform(-cfg.bone_jitter, cfg.bone_jitter, _PAIR.max() + 1)
    lengths = sample_proportions(seq, rng) * s * pair[_PAIR]
    out = np.empty_like(seq)
    for t in range(len(seq)):
        out[t, 0] = seq[t, 0]
        for b, (p, c) in enumerate(H36M.bones):
            d = seq[t, c] - seq[t, p]
            out[t, c] = out[t, p] + lengths[b] * d / np.linalg.norm(d)
    out[..., 2] -= out[..., [3, 6], 2].min() - seq[..., [3, 6], 2].min()
    yaw = Rotation.from_euler("z", rng.uniform(*cfg.yaw_deg), degrees=True).as_matrix()
    pivot = out[:, 0].mean(axis=0) * np.array([1.0, 1.0, 0.0])
    out = (out - pivot) @ yaw.T + pivot
    return out + np.array([rng.uniform(lo, hi) for lo, hi in cfg.translate])


def bench_body(motion: np.ndarray, seq_len: int, n_seqs: int, n_naive: int) -> None:
    seqs = [np.roll(motion, -17 * i, axis=0)[:seq_len] for i in range(n_seqs)]
    frames = seq_len * n_seqs
    modes = {"keep, bone_jitter 0.04 (old default)": BodyConfig(proportions="keep",
                                                               bone_jitter=0.04),
             "sampled (new default)": BodyConfig(proportions="sampled")}
    rate = {}
    for label, cfg in modes.items():
        augment_body(seqs[0], np.random.default_rng(0), cfg)  # warm up
        t = time.perf_counter()
        for i, x in enumerate(seqs):
            augment_body(x, np.random.default_rng([0, i]), cfg)
        rate[label] = frames / (time.perf_counter() - t)
    cfg = modes["sampled (new default)"]
    t = time.perf_counter()
    for i, x in enumerate(seqs[:n_naive]):
        got = body_naive(x, np.random.default_rng([0, i]), cfg)
    rate_naive = seq_len * n_naive / (time.perf_counter() - t)
    np.testing.assert_allclose(got, augment_body(seqs[n_naive - 1], np.random.default_rng(
        [0, n_naive - 1]), cfg), atol=1e-9)  # the baseline computes the same thing
    print(f"body step, {n_seqs} sequences x {seq_len} frames")
    print(f"{'method':<44}{'frames/s':>14}{'ratio':>9}")
    print(f"{'sampled, per-frame Python loop (' + str(n_naive) + ' seqs)':<44}"
          f"{rate_naive:>14,.0f}{1.0:>9.1f}")
    for label, r in rate.items():
        print(f"{label:<44}{r:>14,.0f}{r / rate_naive:>9.1f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--poses", type=int, default=10_000_000)
    ap.add_argument("--chunk", type=int, default=100_000)
    ap.add_argument("--naive", type=int, default=300)
    ap.add_argument("--only", choices=("all", "body"), default="all")
    ap.add_argument("--seq-len", type=int, default=300)
    ap.add_argument("--seqs", type=int, default=200)
    args = ap.parse_args()

    (_, _, motion), = from_bvh(str(BVH), fps=120)
    bench_body(motion, args.seq_len, args.seqs, max(1, min(args.seqs, 5)))
    if args.only == "body":
        return
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
