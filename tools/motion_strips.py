"""Draw strips of 3D stick figures of the procedural motions (not a test; a picture for
review): one row per motion (and per variant of the new motions), six frames evenly
spaced through a clip, right side red, left side blue, the floor grey.

    .venv/bin/python tools/motion_strips.py [--out docs/motions.png] [--seed 0] [--all]

``--all`` also draws the original thirteen motions.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hpd3d.atomic import atomic_path  # noqa: E402
from hpd3d.skeleton import H36M  # noqa: E402
from synth import body as B  # noqa: E402
from synth import limits  # noqa: E402
from synth.motions import MOTIONS  # noqa: E402
from synth.motions.ground import local_matrices, place  # noqa: E402

NEW = [("seated", None), ("seated", "sit_down"), ("floor", "down"), ("floor", "up"),
       ("floor", "stay"), ("lie", "up"), ("lie", "down"), ("lie", "roll"), ("lie", "still"),
       ("carry", "front"), ("carry", "bag"), ("carry", "shoulder"), ("gesture", None),
       ("dance", None), ("sport", "throw"), ("sport", "swing"), ("sport", "forehand"),
       ("sport", "kick")]
OLD = [(m, None) for m in ("walk", "run", "turn", "squat", "lunge", "jump", "front_kick",
                           "side_kick", "sit_stand", "pick_up", "arm_raise", "reach", "free")]
FPS, SECONDS, COLS = 50.0, 3.5, 6


def clip(name, variant, seed):
    rng = np.random.default_rng(seed)
    body = B.sample_bodies(np.random.default_rng(seed), 1)[0]
    T = int(SECONDS * FPS)
    kw = {} if variant is None else {"variant": variant}
    track = MOTIONS[name](rng, body, T, FPS, **kw)
    track.angles = limits.clip(track.angles)
    root, _ = place(body, track, FPS)
    x = B.fk(body.offsets, local_matrices(track), root)
    return x, track.heading


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "docs" / "motions.png"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--all", action="store_true")
    args = ap.parse_args(argv)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = NEW + (OLD if args.all else [])
    fig = plt.figure(figsize=(COLS * 1.9, len(rows) * 1.9), dpi=80)
    right = set(H36M.right)
    for r, (name, variant) in enumerate(rows):
        x, heading = clip(name, variant, args.seed + r)
        frames = np.linspace(0, len(x) - 1, COLS).round().astype(int)
        for c, f in enumerate(frames):
            ax = fig.add_subplot(len(rows), COLS, r * COLS + c + 1, projection="3d")
            p = x[f].copy()
            p[:, :2] -= p[0, :2]
            h = heading[f]                      # view from the body's front-left
            ax.view_init(elev=12, azim=np.degrees(h) - 90 - 50)
            g = np.linspace(-0.9, 0.9, 4)
            for v in g:
                ax.plot([v, v], [-0.9, 0.9], [0, 0], color="0.8", lw=0.5)
                ax.plot([-0.9, 0.9], [v, v], [0, 0], color="0.8", lw=0.5)
            for j, par in enumerate(H36M.parents):
                if par < 0:
                    continue
                col = "tab:red" if j in right else "tab:blue"
                if j in (7, 8, 9, 10):
                    col = "k"
                ax.plot(*p[[par, j]].T, color=col, lw=1.6)
            ax.set_xlim(-0.9, 0.9)
            ax.set_ylim(-0.9, 0.9)
            ax.set_zlim(0, 1.8)
            ax.set_box_aspect((1, 1, 1))
            ax.set_axis_off()
            if c == 0:
                ax.set_title(f"{name}" + (f" ({variant})" if variant else ""), fontsize=9,
                             loc="left")
    fig.subplots_adjust(left=0, right=1, top=0.99, bottom=0, wspace=0, hspace=0.05)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out, suffix=".png") as tmp:
        fig.savefig(tmp)
    print(f"motion_strips: wrote {out} ({len(rows)} rows x {COLS} frames)")


if __name__ == "__main__":
    main()
