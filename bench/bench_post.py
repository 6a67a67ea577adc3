"""Benchmark: infer's post-processing (``infer.post.postprocess``) and its vectorised parts.

Each vectorised routine runs side by side with a naive version measured in the same run:

- One-Euro filter: ``hpd3d.smoothing.one_euro`` (one loop over time, every joint and
  coordinate at once) vs the textbook scalar filter, one Python object per joint coordinate;
- root translation: ``hpd3d.trajectory.fit_translation`` (all frames' 3×3 normal systems in
  one batched solve) vs ``np.linalg.lstsq`` once per frame;
- constant bone lengths: ``hpd3d.bones.rechain`` (16 vectorised bone steps) vs a loop over
  frames and bones;
- the whole default ``postprocess`` in ms/frame.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/bench_post.py [--frames N]``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hpd3d import bones, smoothing, trajectory  # noqa: E402
from hpd3d.skeleton import H36M  # noqa: E402
from infer import post  # noqa: E402


class ScalarOneEuro:
    """The reference One-Euro filter (Casiez et al.), one scalar signal."""

    def __init__(self, fps, min_cutoff, beta, d_cutoff):
        self.dt, self.mc, self.beta, self.dc = 1.0 / fps, min_cutoff, beta, d_cutoff
        self.x = self.dx = None

    def _a(self, cutoff):
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / self.dt)

    def __call__(self, x):
        if self.x is None:
            self.x, self.dx = x, 0.0
            return x
        dx = (x - self.x) / self.dt
        self.dx += self._a(self.dc) * (dx - self.dx)
        self.x += self._a(self.mc + self.beta * abs(self.dx)) * (x - self.x)
        return self.x


def naive_one_euro(x, fps, **kw):
    T = x.shape[0]
    flat = x.reshape(T, -1)
    out = np.empty_like(flat)
    for c in range(flat.shape[1]):
        f = ScalarOneEuro(fps, kw["min_cutoff"], kw["beta"], kw["d_cutoff"])
        for t in range(T):
            out[t, c] = f(float(flat[t, c]))
    return out.reshape(x.shape)


def naive_translation(X, uv, K):
    fx, s, cx, fy, cy = K[0, 0], K[0, 1], K[0, 2], K[1, 1], K[1, 2]
    out = np.empty((len(X), 3))
    for t in range(len(X)):
        A = np.zeros((2 * X.shape[1], 3))
        A[0::2] = np.stack([np.full(X.shape[1], fx), np.full(X.shape[1], s), cx - uv[t, :, 0]], 1)
        A[1::2] = np.stack([np.zeros(X.shape[1]), np.full(X.shape[1], fy), cy - uv[t, :, 1]], 1)
        b = np.empty(2 * X.shape[1])
        b[0::2] = -(A[0::2] * X[t]).sum(1)
        b[1::2] = -(A[1::2] * X[t]).sum(1)
        out[t] = np.linalg.lstsq(A, b, rcond=None)[0]
    return out


def naive_rechain(pose, lengths):
    out = pose.copy()
    for t in range(len(pose)):
        for k, (p, c) in enumerate(H36M.bones):
            d = pose[t, c] - pose[t, p]
            out[t, c] = out[t, p] + d / np.linalg.norm(d) * lengths[k]
    return out


def best_of(fn, repeats=3):
    best, res = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = fn()
        best = min(best, time.perf_counter() - t0)
    return best, res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=9000, help="5 minutes at 30 fps")
    ap.add_argument("--naive-frames", type=int, default=900,
                    help="frames timed for the naive versions (extrapolated linearly)")
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    T, n = a.frames, min(a.naive_frames, a.frames)
    t = np.arange(T) / 30.0
    # a walking-like synthetic sequence in the camera frame, 4 m away
    base = rng.normal(scale=0.25, size=(17, 3))
    base[0] = 0
    X = base + 0.05 * np.sin(2 * np.pi * 1.0 * t)[:, None, None] * rng.normal(size=(17, 3))
    X = X - X[:, :1]
    root = np.stack([np.sin(0.2 * t), 0.0 * t, 4.0 + 0.5 * np.cos(0.2 * t)], 1)
    K = np.array([[1000.0, 0, 640], [0, 1000.0, 360], [0, 0, 1]])
    uv = trajectory.project_points(X + root[:, None], K) + rng.normal(scale=1.0, size=(T, 17, 2))
    conf = np.ones((T, 17))
    kw = dict(min_cutoff=1.0, beta=0.5, d_cutoff=1.0)
    cfg = yaml.safe_load((REPO / "conf/post/default.yaml").read_text())
    rows = []

    tv, yv = best_of(lambda: smoothing.one_euro(X, 30.0, **kw))
    tn, yn = best_of(lambda: naive_one_euro(X[:n], 30.0, **kw), 1)
    assert np.allclose(yv[:n], yn, atol=1e-9), "one_euro differs from the reference filter"
    rows.append(("One-Euro (T,17,3)", tv, tn * T / n))

    tv, yv = best_of(lambda: trajectory.fit_translation(X, uv, K, reweight=0)[0])
    tn, yn = best_of(lambda: naive_translation(X[:n], uv[:n], K), 1)
    assert np.allclose(yv[:n], yn, atol=1e-6), "fit_translation differs from lstsq"
    rows.append(("root translation fit", tv, tn * T / n))

    L = bones.clip_bone_lengths(X)
    tv, yv = best_of(lambda: bones.rechain(X, L))
    tn, yn = best_of(lambda: naive_rechain(X[:n], L), 1)
    assert np.allclose(yv[:n], yn, atol=1e-12), "rechain differs from the loop"
    rows.append(("bone-length re-chain", tv, tn * T / n))

    tp, _ = best_of(lambda: post.postprocess(X, uv, conf, K, 30.0, cfg))
    print(f"\n{T} frames (naive versions timed on {n} frames, extrapolated)\n")
    print(f"{'step':24s} {'vectorised':>14s} {'naive':>14s} {'speed-up':>9s}")
    for name, v, nv in rows:
        print(f"{name:24s} {v / T * 1e3:10.4f} ms/f {nv / T * 1e3:10.4f} ms/f {nv / v:8.0f}x")
    print(f"{'postprocess (default)':24s} {tp / T * 1e3:10.4f} ms/f  "
          f"({T / tp:,.0f} frames/s)")


if __name__ == "__main__":
    main()
