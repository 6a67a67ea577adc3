"""Procedural motion throughput: vectorised FK against a per-frame Python loop.

    .venv/bin/python bench/bench_motions.py [--frames 20000] [--naive-frames 500] [--clips 40]

Prints one table. Rows:

* ``FK``: the library's forward kinematics (:func:`synth.body.fk`, one numpy step per joint
  over all frames, from anatomical angles → rotation matrices) against the same maths done
  per frame and per joint in Python (scipy ``from_euler`` per joint + 3×3 matmuls), which
  runs on ``--naive-frames`` frames in the same process and is extrapolated per frame.
* ``FK (rotation matrices → joints)``: the chain alone, local matrices given, against the
  same per-frame loop without the Euler conversion.
* ``generate``: end to end, ``synth.library.generate`` (all 13 motions, ground placement,
  IK, FK) in frames per second, against the same run with its two FK passes per clip
  swapped for the per-frame loop.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from synth import body as B, library, limits  # noqa: E402
from synth.body import ANATOMICAL_AXES, PARENTS  # noqa: E402
from synth.motions import ground  # noqa: E402


def best(fn, repeat=3):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def vector_fk(offsets, angles, root):
    return B.fk(offsets, limits.to_matrix(angles), root)


def naive_fk(offsets, angles, root):
    """Per frame, per joint: scipy from_euler in the anatomical frame, then chain matmuls."""
    T = angles.shape[0]
    out = np.zeros((T, 17, 3))
    for t in range(T):
        G = [None] * 17
        for j in range(17):
            A = ANATOMICAL_AXES[j]
            local = A @ Rotation.from_euler("XYZ", angles[t, j]).as_matrix() @ A.T
            p = PARENTS[j]
            if p < 0:
                G[j], out[t, j] = local, root[t]
            else:
                out[t, j] = out[t, p] + G[p] @ offsets[j]
                G[j] = G[p] @ local
    return out


def naive_matrix_fk(offsets, local, root):
    """Drop-in for :func:`synth.body.fk` (matrices in) with a per-frame loop."""
    T = local.shape[0]
    out = np.zeros((T, 17, 3))
    for t in range(T):
        G = [None] * 17
        for j in range(17):
            p = PARENTS[j]
            if p < 0:
                G[j], out[t, j] = local[t, j], root[t]
            else:
                out[t, j] = out[t, p] + G[p] @ offsets[j]
                G[j] = G[p] @ local[t, j]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=20000)
    ap.add_argument("--naive-frames", type=int, default=500)
    ap.add_argument("--clips", type=int, default=40)
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    body = B.mean_body(1.75)
    angles = limits.sample(rng, args.frames, scale=0.6)
    root = rng.normal(size=(args.frames, 3))
    t_vec, x_vec = best(lambda: vector_fk(body.offsets, angles, root))
    n = min(args.naive_frames, args.frames)
    t_naive, x_naive = best(lambda: naive_fk(body.offsets, angles[:n], root[:n]), repeat=1)
    err = np.abs(x_vec[:n] - x_naive).max()
    fk_vec, fk_naive = args.frames / t_vec, n / t_naive
    mats = limits.to_matrix(angles)
    t_mvec, m_vec = best(lambda: B.fk(body.offsets, mats, root))
    t_mnaive, m_naive = best(lambda: naive_matrix_fk(body.offsets, mats[:n], root[:n]), repeat=1)
    merr = np.abs(m_vec[:n] - m_naive).max()
    mfk_vec, mfk_naive = args.frames / t_mvec, n / t_mnaive

    t_gen, lib = best(lambda: library.generate(args.clips, seed=0), repeat=2)
    frames = lib.num_frames
    fast_fk = B.fk
    try:  # the same generation with per-frame FK in ground placement and final positions
        ground.fk = naive_matrix_fk
        library.fk = naive_matrix_fk
        t_gen_naive, lib2 = best(lambda: library.generate(args.clips, seed=0), repeat=1)
    finally:
        ground.fk = fast_fk
        library.fk = fast_fk
    same = max(np.abs(a.positions - b.positions).max() for a, b in zip(lib.clips, lib2.clips))

    rows = [
        ("FK (angles → joints)", f"{fk_vec:,.0f}", f"{fk_naive:,.0f}", fk_vec / fk_naive,
         f"max |Δ| {err:.1e} m"),
        ("FK (rotation matrices → joints)", f"{mfk_vec:,.0f}", f"{mfk_naive:,.0f}",
         mfk_vec / mfk_naive, f"max |Δ| {merr:.1e} m"),
        (f"generate ({args.clips} clips, {frames} frames)", f"{frames / t_gen:,.0f}",
         f"{frames / t_gen_naive:,.0f}", t_gen_naive / t_gen, f"max |Δ| {same:.1e} m"),
    ]
    print(f"{'stage':38s} {'vectorised fr/s':>16s} {'per-frame fr/s':>15s} {'ratio':>8s}  check")
    for name, v, b, r, chk in rows:
        print(f"{name:38s} {v:>16s} {b:>15s} {r:>7.1f}x  {chk}")
    print(f"generation wall time: {t_gen:.2f} s for {frames / lib.fps:.0f} s of motion "
          f"({frames / lib.fps / t_gen:.0f}x real time)")


if __name__ == "__main__":
    main()
