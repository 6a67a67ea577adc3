"""BVH throughput: parse, FK and H36M mapping against a per-frame Python baseline.

    .venv/bin/python bench/bench_bvh.py [--frames 100000] [--naive-frames 200]

Prints one table. Targets: parse of cmu_01_01.bvh ≤ 150 ms; FK ≥ 200,000 frames/s on
the 31-joint CMU rig. The baseline (per frame, per joint: scipy ``from_euler`` + matmul)
runs on a subset of frames in the same process and is extrapolated per frame.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hpd3d.bvh import Bvh, load_bvh  # noqa: E402
from hpd3d.rig import map_rig, to_h36m  # noqa: E402

SHARED = Path(os.environ.get("HPD3D_SHARED", REPO.parent / "shared"))




def best(fn, repeat=5):
    """(best wall seconds, last result) over ``repeat`` runs; also notes the best CPU time
    (this machine may be shared: CPU time is what the run itself cost)."""
    times, cpu, out = [], [], None
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    best.cpu = min(cpu)
    return min(times), out


def naive_fk(bvh: Bvh, frames: int) -> np.ndarray:
    """Straightforward FK: per frame, per joint, scipy from_euler + 3x3 matmul."""
    J = bvh.num_joints
    start = np.concatenate([[0], np.cumsum([len(c) for c in bvh.channels])])
    out = np.zeros((frames, J, 3))
    for t in range(frames):
        R = [None] * J
        for j in range(J):
            vals = bvh.motion[t, start[j]:start[j + 1]]
            seq, ang, trans = "", [], bvh.offsets[j].copy()
            for ch, v in zip(bvh.channels[j], vals):
                if ch.endswith("rotation"):
                    seq += ch[0]
                    ang.append(v)
                else:
                    trans["XYZ".index(ch[0])] = v
            local = Rotation.from_euler(seq, ang, degrees=True).as_matrix() if seq else np.eye(3)
            p = bvh.parents[j]
            if p < 0:
                R[j], out[t, j] = local, trans
            else:
                R[j] = R[p] @ local
                out[t, j] = out[t, p] + R[p] @ trans
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bvh", default=str(SHARED / "data" / "bvh" / "cmu_01_01.bvh"))
    ap.add_argument("--frames", type=int, default=100_000, help="synthetic clip length for FK")
    ap.add_argument("--naive-frames", type=int, default=200, help="frames the baseline runs on")
    args = ap.parse_args()

    rows = []
    path = Path(args.bvh)
    text = path.read_text()
    t_parse, bvh = best(lambda: load_bvh(path))
    c_parse = best.cpu
    T = bvh.num_frames
    t_fk, _ = best(bvh.fk)
    c_fk = best.cpu
    t_map, _ = best(lambda: to_h36m(bvh, rig=map_rig(bvh)))  # includes its own FK
    c_map = best.cpu
    t_all, _ = best(lambda: to_h36m(load_bvh(path)))
    c_all = best.cpu
    rows.append((f"parse {path.name} ({len(text) / 1e6:.1f} MB, {T} frames)", t_parse, c_parse, T))
    rows.append((f"FK {path.name}", t_fk, c_fk, T))
    rows.append(("map to H36M-17 (map_rig + FK + units + axes)", t_map, c_map, T))
    rows.append(("parse + FK + H36M, end to end", t_all, c_all, T))

    # FK alone: the CMU rig with random rotations, args.frames frames
    rng = np.random.default_rng(0)
    m = rng.uniform(-180, 180, (args.frames, bvh.motion.shape[1]))
    m[:, :3] = rng.normal(0, 20, (args.frames, 3))
    big = Bvh(bvh.names, bvh.parents, bvh.offsets, bvh.channels, m, bvh.frame_time, bvh.is_end)
    t_fk1, pos = best(big.fk, 3)
    c_fk1 = best.cpu
    nn = min(args.naive_frames, args.frames)
    t_naive, ref = best(lambda: naive_fk(big, nn), 1)
    c_naive = best.cpu / nn * args.frames
    err = np.abs(ref - pos[:nn]).max()
    t_naive_full = t_naive / nn * args.frames
    J = int((~bvh.is_end).sum())
    rows.append((f"FK {args.frames:,} frames, {J}-joint rig", t_fk1, c_fk1, args.frames))
    rows.append((f"naive per-frame FK ({nn} frames run, extrapolated)", t_naive_full, c_naive,
                 args.frames))

    print(f"{'what':58s} {'wall ms':>10s} {'frames/s':>12s} {'cpu ms':>10s}")
    for what, secs, cpu, frames in rows:
        print(f"{what:58s} {secs * 1e3:10.1f} {frames / secs:12,.0f} {cpu * 1e3:10.1f}")
    print()
    print(f"FK speed-up over the naive loop: {t_naive_full / t_fk1:,.0f}x; "
          f"max |diff| {err:.1e} file units")
    fps1 = args.frames / t_fk1
    print(f"target parse <= 150 ms: {t_parse * 1e3:.0f} ms -> {'ok' if t_parse <= 0.150 else 'MISSED'}")
    print(f"target FK >= 200,000 frames/s: {fps1:,.0f} -> {'ok' if fps1 >= 200_000 else 'MISSED'}")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
