"""Inference throughput of the lifters (random weights; speed does not depend on them).

For each model, frames lifted per second in eval mode under ``torch.inference_mode``,
batch sizes and frames per call stated, and the ratio against a naive way of doing the
same job measured in the same run:

- SimpleBaseline3D: one call over a whole sequence vs one call per frame.
- VideoPose3D 243: one dense call over a padded sequence (``lift``) vs one call per output
  frame on its own 243-frame window (the strided single-frame path, batch 1), and the
  same per-window path batched 64 windows at a time (how training feeds it).
- MotionBERT full / lite: 243-frame clips, batch 1 and batch 4 (a clip gives 243 frames).

    python bench/bench_models.py [--threads N] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from train.models import build_model  # noqa: E402


def timed(fn, min_time: float, max_reps: int) -> float:
    """Seconds per call: one warm-up call, then repeat until ``min_time`` or ``max_reps``."""
    fn()
    reps, start = 0, time.perf_counter()
    while True:
        fn()
        reps += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time or reps >= max_reps:
            return elapsed / reps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--quick", action="store_true", help="shorter sequences and fewer repeats")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    min_time, max_reps = (0.5, 3) if args.quick else (2.0, 10)
    seq = 500 if args.quick else 2000
    rows = []  # (model, mode, batch, frames per call, frames/s, baseline frames/s)

    def row(model, mode, batch, frames, sec, base=None):
        fps = frames / sec
        rows.append((model, mode, batch, frames, fps, base))
        return fps

    with torch.inference_mode():
        m = build_model("simplebaseline").eval()
        x = torch.randn(1, seq, 17, 2)
        one = x[:, :1]
        naive = row("simplebaseline", "per-frame calls", 1, 1, timed(lambda: m(one), min_time, 200))
        row("simplebaseline", "one call, whole sequence", 1, seq, timed(lambda: m(x), min_time, max_reps), naive)

        m = build_model("videopose3d").eval()
        rf = m.receptive_field
        win1 = torch.randn(1, rf, 17, 2)
        win64 = torch.randn(64, rf, 17, 2)
        naive = row("videopose3d-243", "per-frame windows (strided)", 1, 1,
                    timed(lambda: m(win1, single_frame=True), min_time, 50))  # fmt: skip
        row("videopose3d-243", "per-frame windows (strided)", 64, 64,
            timed(lambda: m(win64, single_frame=True), min_time, max_reps), naive)  # fmt: skip
        row("videopose3d-243", "dense window (T = 243 → 1)", 1, 1,
            timed(lambda: m(win1), min_time, 20), naive)  # fmt: skip
        xs = torch.randn(1, seq, 17, 2)
        row("videopose3d-243", "lift: one dense call, padded sequence", 1, seq,
            timed(lambda: m.lift(xs), min_time, max_reps), naive)  # fmt: skip

        for size in ("lite", "full"):
            m = build_model("motionbert", size=size).eval()
            name = f"motionbert-{size} ({m.num_parameters() / 1e6:.1f} M)"
            c1 = torch.randn(1, 243, 17, 3)
            c4 = torch.randn(4, 243, 17, 3)
            base = row(name, "243-frame clips", 1, 243, timed(lambda: m(c1), min_time, max_reps))
            row(name, "243-frame clips", 4, 4 * 243, timed(lambda: m(c4), min_time, max_reps), base)

    print(f"CPU inference, torch {torch.__version__}, {args.threads} threads, float32, random weights")
    head = f"{'model':<28} {'mode':<40} {'batch':>5} {'frames/call':>11} {'frames/s':>10} {'vs naive':>9}"
    print(head)
    print("-" * len(head))
    for model, mode, batch, frames, fps, base in rows:
        ratio = f"{fps / base:8.1f}x" if base else "  (naive)"
        print(f"{model:<28} {mode:<40} {batch:>5} {frames:>11} {fps:>10.1f} {ratio:>9}")


if __name__ == "__main__":
    main()
