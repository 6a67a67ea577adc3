"""HRNet detector speed on CPU (random weights; speed does not depend on them).

- Network: HRNet-W32 at 256×192, batch 1, ms per crop; the whole ``detect()`` on a 640×480
  frame (box = whole image: affine crop, normalisation, network, decoding) without and with
  the flip test. The flip test runs the plain and mirrored crops as one batch of 2; the
  naive baseline runs them as two batch-1 calls.
- Decoding: ``decode_heatmaps`` (argmax + quarter-pixel refinement, and DARK, vectorised
  over instances and joints) against the naive per-joint Python loop that MMPose's
  ``refine_keypoints`` / ``refine_keypoints_dark`` use, on 1 and 64 instances of
  17 × 64 × 48 heatmaps; both give the same keypoints (checked here).

    python bench/bench_hrnet.py [--threads N] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_models import timed  # noqa: E402  (bench/ is on sys.path when run as a script)
from infer.detectors.hrnet import (  # noqa: E402
    FLIP_INDICES, HRNetDetector, _gaussian_blur, build_topdown_hrnet, decode_heatmaps,
    flip_heatmaps)


def naive_decode(heatmaps, centers, scales, input_size, dark=False, kernel=11):
    """Per-instance, per-joint loops as MMPose writes them (get_heatmap_maximum per joint,
    refine_keypoints / refine_keypoints_dark's ``for n, k in product(...)``)."""
    N, K, H, W = heatmaps.shape
    out = np.zeros((N, K, 3), np.float32)
    for n in range(N):
        hm = heatmaps[n]
        if dark:
            logs = np.log(np.maximum(_gaussian_blur(hm.copy(), kernel), 1e-10))
        for k in range(K):
            idx = int(np.argmax(hm[k]))
            y, x = divmod(idx, W)
            val = hm[k, y, x]
            px, py = (float(x), float(y)) if val > 0 else (-1.0, -1.0)
            xi, yi = int(px), int(py)
            if not dark:
                dx = hm[k, yi, xi + 1] - hm[k, yi, xi - 1] if 1 < xi < W - 1 and 0 < yi < H else 0.0
                dy = hm[k, yi + 1, xi] - hm[k, yi - 1, xi] if 1 < yi < H - 1 and 0 < xi < W else 0.0
                px += float(np.sign(dx)) * 0.25
                py += float(np.sign(dy)) * 0.25
            elif 1 < xi < W - 2 and 1 < yi < H - 2:
                h = logs[k].astype(np.float64)
                gx = 0.5 * (h[yi, xi + 1] - h[yi, xi - 1])
                gy = 0.5 * (h[yi + 1, xi] - h[yi - 1, xi])
                dxx = 0.25 * (h[yi, xi + 2] - 2 * h[yi, xi] + h[yi, xi - 2])
                dxy = 0.25 * (h[yi + 1, xi + 1] - h[yi - 1, xi + 1] - h[yi + 1, xi - 1]
                              + h[yi - 1, xi - 1])
                dyy = 0.25 * (h[yi + 2, xi] - 2 * h[yi, xi] + h[yi - 2, xi])
                hess = np.array([[dxx, dxy], [dxy, dyy]])
                if dxx * dyy - dxy ** 2 != 0:
                    off = -np.linalg.inv(hess) @ np.array([gx, gy])
                    px, py = px + off[0], py + off[1]
            s = np.asarray(scales[n], np.float32)
            c = np.asarray(centers[n], np.float32)
            xy = np.array([px * input_size[0] / W, py * input_size[1] / H], np.float32)
            out[n, k, :2] = xy / np.asarray(input_size, np.float32) * s + c - 0.5 * s
            out[n, k, 2] = min(max(float(val), 0.0), 1.0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    min_time, max_reps = (0.5, 3) if args.quick else (2.0, 10)
    print(f"threads: {args.threads}")

    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Path(tmp) / "w32.pth"
        torch.save({"state_dict": build_topdown_hrnet("w32").state_dict()}, ckpt)
        det = HRNetDetector(ckpt, input_size=(192, 256), box="image", flip_test=False)
    frame = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    x1 = torch.randn(1, 3, 256, 192)
    x2 = torch.randn(2, 3, 256, 192)

    print("\nHRNet-W32 256x192, CPU, ms per frame (one person)")
    print(f"{'what':46s} {'ms':>9s} {'vs naive':>9s}")
    with torch.inference_mode():
        net1 = timed(lambda: det.model(x1), min_time, max_reps)
        net2 = timed(lambda: det.model(x2), min_time, max_reps)
    plain = timed(lambda: det.detect(frame), min_time, max_reps)
    det.flip_test = True
    flip = timed(lambda: det.detect(frame), min_time, max_reps)

    def naive_flip():  # plain and mirrored crops as two batch-1 calls
        crop, c, s = det.crop(frame, np.array([0, 0, 640, 480], np.float32))
        t = (torch.from_numpy(crop).permute(2, 0, 1)[None].float() - det._mean) / det._std
        with torch.inference_mode():
            a = det.model(t)
            b = flip_heatmaps(det.model(t.flip(-1)), FLIP_INDICES)
        return decode_heatmaps(((a + b) * 0.5).numpy(), c[None], s[None], det.input_size)

    naive = timed(naive_flip, min_time, max_reps)
    print(f"{'network, batch 1':46s} {net1 * 1e3:9.1f}")
    print(f"{'network, batch 2':46s} {net2 * 1e3:9.1f}")
    print(f"{'detect(), no flip test':46s} {plain * 1e3:9.1f}")
    print(f"{'detect(), flip test (one batch of 2)':46s} {flip * 1e3:9.1f} {naive / flip:8.2f}x")
    print(f"{'  naive flip test (two batch-1 calls)':46s} {naive * 1e3:9.1f}")
    print(f"{'flip test cost vs no flip':46s} {flip / plain:8.2f}x")

    print("\ndecoding 17x64x48 heatmaps, ms per call")
    print(f"{'what':30s} {'N':>4s} {'vectorised':>11s} {'naive loop':>11s} {'speed-up':>9s}")
    rng = np.random.default_rng(1)
    for dark in (False, True):
        for n in (1, 64):
            hm = rng.random((n, 17, 64, 48)).astype(np.float32)
            yy, xx = np.mgrid[0:64, 0:48]
            for i in range(n):
                for k in range(17):
                    x0, y0 = rng.uniform(3, 44), rng.uniform(3, 60)
                    hm[i, k] += 2 * np.exp(-((xx - x0) ** 2 + (yy - y0) ** 2) / 8)
            c = rng.uniform(100, 500, (n, 2)).astype(np.float32)
            s = np.tile(np.array([[150.0, 200.0]], np.float32), (n, 1))
            a = decode_heatmaps(hm, c, s, (192, 256), dark=dark)
            b = naive_decode(hm, c, s, (192, 256), dark=dark)
            assert np.abs(a - b).max() < 1e-3, np.abs(a - b).max()
            tv = timed(lambda: decode_heatmaps(hm, c, s, (192, 256), dark=dark), min_time / 4, max_reps)
            tn = timed(lambda: naive_decode(hm, c, s, (192, 256), dark=dark), min_time / 4, max_reps)
            name = "DARK" if dark else "MSRA (argmax + 1/4 px)"
            print(f"{name:30s} {n:4d} {tv * 1e3:11.3f} {tn * 1e3:11.3f} {tn / tv:8.1f}x")


if __name__ == "__main__":
    main()
