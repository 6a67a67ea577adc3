"""The worker behind ``python -m train.evaluate``: lift every evaluated view and measure it.

:func:`evaluate` lifts every evaluated view as a whole sequence the way inference does
(:func:`train.models.lift_sequence`: SimpleBaseline frame by frame, the VideoPose3D TCN
with edge padding, MotionBERT in overlapping ``clip_len`` windows cross-faded) and compares
with the camera-frame, root-relative ground truth; :func:`summarise` turns predictions and
ground truth into every reported number (see :mod:`train.evaluate` for the list),
:func:`limb_distances` is the hip–knee / hip–ankle check and :func:`format_tables` the
printed report. The command's front (config checks, output folder, files) is
:mod:`train.evaluate`.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict

import numpy as np
from tqdm import tqdm

from hpd3d import metrics
from hpd3d.anatomy import hinge_flexion
from hpd3d.errors import InputError
from hpd3d.noise import add_noise
from hpd3d.normalization import Normalization
from hpd3d.skeleton import H36M
from train.data import DataConfig, load_table
from train.data.sources import DETECTORS_2D, bounds
from train.models import lift_sequence, load_lifter

_AUG = re.compile(r"_aug\d+$")
LIMBS = {  # name → (hip, knee, ankle, knee-flexion name)
    "right": (1, 2, 3, "right_knee"),
    "left": (4, 5, 6, "left_knee"),
}


# -- metrics --------------------------------------------------------------------------
def _mm(x) -> float:
    return float(x) * 1000.0


def limb_distances(pred: np.ndarray, gt: np.ndarray, deep_deg: float) -> dict:
    """Hip–knee and hip–ankle distances of ``pred`` vs ``gt`` (N, 17, 3), per side, all
    frames and deep-flexion frames (gt knee flexion > ``deep_deg``)."""
    out = {}
    for side, (hip, knee, ankle, flex_name) in LIMBS.items():
        deep = hinge_flexion(gt, flex_name) > deep_deg
        for name, j in (("hip_knee", knee), ("hip_ankle", ankle)):
            dp = np.linalg.norm(pred[:, j] - pred[:, hip], axis=-1)
            dg = np.linalg.norm(gt[:, j] - gt[:, hip], axis=-1)
            d = dp - dg
            row = {"gt_mm": _mm(dg.mean()), "pred_mm": _mm(dp.mean()),
                   "bias_mm": _mm(d.mean()), "abs_mm": _mm(np.abs(d).mean()),
                   "deep_frames": int(deep.sum())}
            if deep.any():
                row.update(deep_gt_mm=_mm(dg[deep].mean()), deep_pred_mm=_mm(dp[deep].mean()),
                           deep_bias_mm=_mm(d[deep].mean()),
                           deep_abs_mm=_mm(np.abs(d[deep]).mean()))
            out[f"{side}_{name}"] = row
    return out


def summarise(preds: list, gts: list, views: list, deep_deg: float = 90.0,
              masks: list | None = None) -> dict:
    """Every reported number from per-view (T, 17, 3) predictions and ground truth.

    ``masks`` (per view (T,) bool) select the scored frames of the per-frame measures;
    temporal and bone-consistency measures use whole sequences."""
    if masks is None:
        masks = [np.ones(len(p), bool) for p in preds]
    P = np.concatenate([p[m] for p, m in zip(preds, masks)])
    G = np.concatenate([g[m] for g, m in zip(gts, masks)])
    if len(P) == 0:
        raise InputError(None, "no frame to score: every frame has keypoints out of the image "
                               "bounds (data.frame_margin)")
    e = metrics.mpjpe(P, G, reduce=False)
    pe = metrics.p_mpjpe(P, G, reduce=False)
    ne = metrics.n_mpjpe(P, G, reduce=False)
    out = {"frames": int(len(P)), "views": len(views),
           "unscored_frames": int(sum(len(m) - m.sum() for m in masks)),
           "mpjpe_mm": _mm(e.mean()), "p_mpjpe_mm": _mm(pe.mean()), "n_mpjpe_mm": _mm(ne.mean())}
    groups = {"per_action": lambda v: _AUG.sub("", v.action), "per_subject": lambda v: v.subject}
    owner = np.repeat(np.arange(len(views)), [int(m.sum()) for m in masks])
    for key, fn in groups.items():
        names = np.array([fn(v) for v in views])[owner]
        out[key] = {n: {"frames": int((names == n).sum()),
                        "mpjpe_mm": _mm(e[names == n].mean()),
                        "p_mpjpe_mm": _mm(pe[names == n].mean()),
                        "n_mpjpe_mm": _mm(ne[names == n].mean())}
                    for n in sorted(set(names))}  # fmt: skip
    per_joint = metrics.per_joint_error(P, G)
    out["per_joint_mm"] = {H36M.joints[j]: _mm(x) for j, x in enumerate(per_joint)}
    # temporal and bone measures per view, weighted by frames
    acc = defaultdict(float)
    nf = 0
    cvs = []
    for p, g in zip(preds, gts):
        if len(p) < 3:
            continue
        w = len(p)
        nf += w
        acc["velocity_error"] += w * metrics.velocity_error(p, g)
        acc["acceleration_error"] += w * metrics.acceleration_error(p, g)
        acc["jitter_pred"] += w * metrics.jitter(p)
        acc["jitter_gt"] += w * metrics.jitter(g)
        cvs.append(metrics.bone_length_consistency(p))
    if nf:
        out["temporal"] = {f"{k}_mm": _mm(v / nf) for k, v in acc.items()}
    if cvs:
        cv = np.nanmean(np.stack(cvs), axis=0)
        out["bone_length"] = {
            "consistency_cv_percent": float(np.nanmean(cv) * 100),
            "per_bone_cv_percent": {f"{H36M.joints[p]}-{H36M.joints[c]}": float(x * 100)
                                    for (p, c), x in zip(H36M.bones, cv)},
            "error_mm": _mm(metrics.bone_length_error(P, G)),
        }  # fmt: skip
    out["limb_distances"] = limb_distances(P, G, deep_deg)
    out["deep_flexion_deg"] = float(deep_deg)
    return out


# -- running --------------------------------------------------------------------------
def _view_inputs(table, view_ids, norm: Normalization, noise, seed: int) -> np.ndarray:
    """(C, T, 17, 3) normalised inputs of views of one sequence (same length)."""
    vs = [table.views[i] for i in view_ids]
    sl = [slice(v.start, v.start + v.length) for v in vs]
    uv = np.stack([table.uv[s] for s in sl])
    conf = np.stack([table.conf[s] for s in sl])
    on = np.array([table.noise_on[v.start] for v in vs])
    if on.any() and noise.scale > 0:
        rng = np.random.default_rng([seed, int(view_ids[0])])
        noisy, c = add_noise(uv[on], rng, noise)
        uv, conf = uv.copy(), conf.copy()
        uv[on], conf[on] = noisy, c
    wh = table.wh[np.asarray(view_ids)]
    lo, hi = bounds(wh[:, None, None], table.margin)
    x2d = norm.inputs(np.clip(uv, lo, hi), wh[:, 0, None, None], wh[:, 1, None, None])
    return np.concatenate([x2d, conf[..., None]], axis=-1).astype(np.float32)


def evaluate(checkpoint, data: DataConfig, split: str = "val", test_flip: bool = False,
             deep_deg: float = 90.0, seed: int = 0, progress: bool = True,
             trust_checkpoint: bool = False):
    """→ (summary dict, and per view: predictions, ground truth, :class:`View`, scored-frame
    mask)."""
    lifter = load_lifter(checkpoint, trust_checkpoint=trust_checkpoint)
    model, norm, meta = lifter.model, lifter.normalization, lifter.meta
    table = load_table(data.sources, data.input_2d, data.frame_margin, data.detected_by)
    if split not in ("val", "train", "all"):
        raise InputError(None, f"split={split!r}: 'val', 'train' or 'all'")
    ids = [i for i, v in enumerate(table.views) if split == "all" or v.split == split]
    if not ids:
        raise InputError(data.sources[0].dir, f"no {split} sequences to evaluate "
                                              "(split=all evaluates everything)")
    by_seq = defaultdict(list)  # views of one sequence share T: lift them together
    for i in ids:
        v = table.views[i]
        by_seq[(v.source, v.subject, v.action, v.length)].append(i)
    preds, gts, views, masks = [], [], [], []
    bar = tqdm(by_seq.items(), desc="evaluate", unit="seq", disable=not progress or None)
    for _, vids in bar:
        x = _view_inputs(table, vids, norm, data.noise, seed)
        y = lift_sequence(lifter, x, flip=test_flip)  # metres
        for k, i in enumerate(vids):
            v = table.views[i]
            preds.append(y[k])
            gts.append(table.xyz[v.start : v.start + v.length])
            masks.append(table.usable[v.start : v.start + v.length])
            views.append(v)
    summary = summarise(preds, gts, views, deep_deg, masks)
    ev = np.concatenate([np.arange(v.start, v.start + v.length) for v in views])
    if data.detected_by or data.input_2d in DETECTORS_2D:
        found = table.detected[ev]
        summary["detection"] = {"detector": data.detected_by or data.input_2d,
                                "frames": int(len(found)), "detected": int(found.sum()),
                                "rate": float(found.mean())}
    summary["out_of_bounds_frames"] = int((~table.in_bounds[ev]).sum())
    summary["checkpoint"] = str(checkpoint)
    summary["model"] = {"name": model.name, "config": _plain_json(model.config),
                        "parameters": model.num_parameters(), "format": lifter.format,
                        "window": lifter.window.to_dict()}
    summary["data"] = {"split": split, "input_2d": data.input_2d, "detected_by": data.detected_by,
                       "test_flip": bool(test_flip),
                       "sources": table.describe()}
    summary["trained"] = {k: meta[k] for k in ("exp", "epoch", "metrics", "command") if k in meta}
    return summary, preds, gts, views, masks


def _plain_json(x):
    return json.loads(json.dumps(x, default=lambda o: list(o) if isinstance(o, tuple) else str(o)))


def format_tables(s: dict) -> str:
    """The printed report."""
    lines = [f"{s['frames']} 2D poses (frames × views) in {s['views']} views | MPJPE {s['mpjpe_mm']:.1f} mm | "
             f"P-MPJPE {s['p_mpjpe_mm']:.1f} mm | N-MPJPE {s['n_mpjpe_mm']:.1f} mm"]
    if "detection" in s:
        d = s["detection"]
        lines.append(f"{d['detector']} found the person in {d['detected']} of {d['frames']} "
                     f"2D poses ({d['rate']:.1%}); only those are scored")
    if s.get("unscored_frames"):
        oob = s.get("out_of_bounds_frames")
        lines.append(f"({s['unscored_frames']} 2D poses were not scored"
                     + (f"; {oob} with keypoints outside the image bounds)" if oob is not None
                        else ": keypoints outside the image bounds)"))
    for key, title in (("per_action", "action"), ("per_subject", "subject")):
        rows = s[key]
        if len(rows) <= 1 and key == "per_action" and len(s["per_subject"]) > 1:
            continue
        w = max(len(title), *(len(n) for n in rows))
        lines.append(f"\n{title:<{w}}  {'2D poses':>8}  {'MPJPE':>7}  {'P-MPJPE':>7}  {'N-MPJPE':>7}")
        for n, r in rows.items():
            lines.append(f"{n:<{w}}  {r['frames']:>8}  {r['mpjpe_mm']:>7.1f}  "
                         f"{r['p_mpjpe_mm']:>7.1f}  {r['n_mpjpe_mm']:>7.1f}")
    lines.append("\njoint            MPJPE (mm)")
    for n, x in s["per_joint_mm"].items():
        lines.append(f"{n:<16} {x:>7.1f}")
    if "bone_length" in s:
        b = s["bone_length"]
        lines.append(f"\nbone length: consistency (CV) {b['consistency_cv_percent']:.2f} %, "
                     f"error {b['error_mm']:.1f} mm")
    if "temporal" in s:
        t = s["temporal"]
        lines.append(f"temporal: velocity error {t['velocity_error_mm']:.2f} mm/frame, "
                     f"acceleration error {t['acceleration_error_mm']:.2f} mm/frame², jitter "
                     f"{t['jitter_pred_mm']:.2f} (ground truth {t['jitter_gt_mm']:.2f}) mm/frame²")
    deg = s["deep_flexion_deg"]
    lines.append(f"\nlimb distances (mm; bias = pred − gt; deep: knee flexion > {deg:.0f}°)")
    lines.append(f"{'limb':<16} {'gt':>6} {'bias':>6} {'|err|':>6} | {'deep n':>6} "
                 f"{'gt':>6} {'bias':>6} {'|err|':>6}")
    for n, r in s["limb_distances"].items():
        if r["deep_frames"]:
            deep = (f"{r['deep_frames']:>6} {r['deep_gt_mm']:>6.0f} {r['deep_bias_mm']:>6.1f} "
                    f"{r['deep_abs_mm']:>6.1f}")
        else:
            deep = f"{0:>6} {'-':>6} {'-':>6} {'-':>6}"
        lines.append(f"{n:<16} {r['gt_mm']:>6.0f} {r['bias_mm']:>6.1f} {r['abs_mm']:>6.1f} | "
                     f"{deep}")
    return "\n".join(lines)
