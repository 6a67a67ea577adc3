"""Evaluation figures (matplotlib, Agg): per-joint error bars and predicted-vs-true skeletons."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hpd3d import atomic
from hpd3d.skeleton import H36M

_RIGHT = set(H36M.right)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    with atomic.atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def per_joint_bar(per_joint_mm: dict, path, title: str = "") -> Path:
    """Bar chart of the MPJPE of each joint (mm)."""
    plt = _plt()
    names, vals = list(per_joint_mm), list(per_joint_mm.values())
    fig, ax = plt.subplots(figsize=(9, 3.8))
    colors = ["tab:red" if i in _RIGHT else "tab:blue" if i in H36M.left else "tab:gray"
              for i in range(len(names))]
    ax.bar(range(len(names)), vals, color=colors)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("MPJPE (mm)")
    ax.set_title(title or "error per joint (red: right, blue: left)", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    _save(fig, Path(path))
    plt.close(fig)
    return Path(path)


def _upright(x: np.ndarray) -> np.ndarray:
    """Camera frame (x right, y down, z forward) → plot axes (x, z, −y): up is up."""
    return np.stack([x[..., 0], x[..., 2], -x[..., 1]], axis=-1)


def _draw(ax, pose: np.ndarray, color: str, label: str | None, style: str = "-") -> None:
    p = _upright(pose)
    for k, (a, b) in enumerate(H36M.bones):
        ax.plot(*p[[a, b]].T, style, color=color, lw=2, label=label if k == 0 else None)


def pick_frames(preds: list, gts: list, n: int, masks: list | None = None) -> list[tuple[int, int]]:
    """(view, frame) pairs to show: frames at evenly spaced quantiles of the MPJPE, from
    the 10th percentile to the worst (only frames ``masks`` allow)."""
    err = [np.linalg.norm(p - g, axis=-1).mean(-1) for p, g in zip(preds, gts)]
    if masks is not None:
        err = [np.where(m, e, np.nan) for e, m in zip(err, masks)]
    flat = np.concatenate(err)
    owner = np.concatenate([np.full(len(e), i) for i, e in enumerate(err)])
    local = np.concatenate([np.arange(len(e)) for e in err])
    order = np.argsort(flat)[: int(np.isfinite(flat).sum())]
    qs = np.linspace(0.1, 1.0, n) if n > 1 else [0.5]
    picks = [order[min(int(q * (len(order) - 1)), len(order) - 1)] for q in qs]
    return [(int(owner[i]), int(local[i])) for i in picks]


def skeleton_grid(preds: list, gts: list, views: list, path, n: int = 4,
                  masks: list | None = None) -> Path:
    """``n`` frames side by side: ground truth (black) and prediction (red), camera frame
    root-relative, upright; titled with the sequence and the frame's MPJPE."""
    plt = _plt()
    picks = pick_frames(preds, gts, n, masks)
    fig = plt.figure(figsize=(3.2 * len(picks), 3.4))
    for k, (v, t) in enumerate(picks):
        ax = fig.add_subplot(1, len(picks), k + 1, projection="3d")
        g, p = gts[v][t], preds[v][t]
        _draw(ax, g, "black", "truth")
        _draw(ax, p, "tab:red", "prediction", "--")
        both = _upright(np.concatenate([g, p]))
        c, r = both.mean(0), max(np.abs(both - both.mean(0)).max(), 0.5)
        ax.set(xlim=(c[0] - r, c[0] + r), ylim=(c[1] - r, c[1] + r), zlim=(c[2] - r, c[2] + r))
        ax.set_box_aspect((1, 1, 1))
        ax.view_init(elev=10, azim=-80)
        ax.set_xticklabels([])
        ax.set_yticklabels([])
        ax.set_zticklabels([])
        e = np.linalg.norm(p - g, axis=-1).mean() * 1000
        vw = views[v]
        ax.set_title(f"{vw.subject}/{vw.action} cam {vw.camera}\nframe {t}: {e:.0f} mm", fontsize=8)
        if k == 0:
            ax.legend(fontsize=7, loc="upper left")
    fig.subplots_adjust(left=0.0, right=1.0, bottom=0.0, top=0.88, wspace=0.0)
    _save(fig, Path(path))
    plt.close(fig)
    return Path(path)
