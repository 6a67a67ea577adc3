"""Coverage plots of an augmented dataset (PNG): joint angles before/after, cameras."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hpd3d import anatomy as an
from hpd3d.atomic import atomic_path

ANGLES = (("knee flexion", ("right_knee", "left_knee"), (0, 180)),
          ("hip flexion", ("right_hip_flexion", "left_hip_flexion"), (-60, 150)),
          ("shoulder flexion", ("right_shoulder_flexion", "left_shoulder_flexion"), (-180, 180)),
          ("shoulder abduction", ("right_shoulder_abduction", "left_shoulder_abduction"),
           (-90, 180)))


def _angles(seq: np.ndarray) -> dict:
    a = an.all_angles(seq)
    return {title: np.concatenate([a[k].ravel() for k in keys]) for title, keys, _ in ANGLES}


def coverage_plots(before: np.ndarray, after: np.ndarray, cameras, out: Path, name: str
                   ) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    a0, a1 = _angles(before), _angles(after)
    fig, axes = plt.subplots(1, len(ANGLES), figsize=(4 * len(ANGLES), 3.2))
    for ax, (title, _, (lo, hi)) in zip(axes, ANGLES):
        bins = np.linspace(lo, hi, 46)
        ax.hist(a0[title], bins=bins, alpha=0.6, density=True, label="input")
        ax.hist(a1[title], bins=bins, alpha=0.6, density=True, label="augmented")
        ax.set_title(title)
        ax.set_xlabel("degrees")
    axes[0].legend()
    fig.tight_layout()
    p1 = out / f"coverage_angles_{name}.png"
    with atomic_path(p1, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 5))
    rel = np.array([c.C for c in cameras]) if cameras else np.zeros((0, 3))
    pelvis = after[:, 0]
    ax.scatter(pelvis[::10, 0], pelvis[::10, 1], s=1, c="k", label="pelvis")
    sc = ax.scatter(rel[:, 0], rel[:, 1], s=8, c=rel[:, 2], cmap="viridis", label="cameras")
    fig.colorbar(sc, ax=ax, label="camera height (m)")
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_title("camera positions seen from above")
    ax.legend(loc="upper right")
    p2 = out / f"coverage_cameras_{name}.png"
    with atomic_path(p2, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    return [p1, p2]
