"""Fit a 2D detector's error model (``hpd3d.noise.FittedNoise``, ``noise=mediapipe``) on
rendered humans, and measure how well it reproduces the detector on held-out renders.

Input: ``blender.render`` folders rendered with ``render.subject=anny render.frames=true``
(exact 2D in ``data_2d_<name>_gt.npz``, PNG frames, cameras, 3D). Per camera sequence
MediaPipe Pose (``mp.solutions.pose``, video mode; BlazePose-33 → COCO-17 →
H36M-17 through ``hpd3d.skeleton``) runs on the frames; its output is cached as a
VideoPose3D 2D file ``data_2d_<name>_mediapipe.npz`` (missed frames hold the nearest
detection with confidence 0; ``detected_2d`` marks detected frames) — with the render's
``data_3d_<name>.npz`` that is a dataset whose 2D is the detector's.

Then: the 2D view estimate is calibrated against the 3D view (camera azimuth around the
body's facing); every ``holdout_every``-th sequence is held out, the model is fitted on
the rest and its synthetic 2D, the default noise model's and the real detections are
compared on the held-out sequences; finally the model is fitted on every sequence and
written to ``out`` with its provenance, and the tables to ``report``.

    python tools/fit_detector_noise.py                    # conf/fit_detector_noise.yaml
    python tools/fit_detector_noise.py 'inputs=[{dir: out/dn/real, name: real}]' \
        out=out/model.npz report=out/model.md
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import hydra
import numpy as np
from omegaconf import DictConfig

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hpd3d.atomic import write_text  # noqa: E402
from hpd3d.camera import world_to_camera  # noqa: E402
from hpd3d.dataset import read_dataset  # noqa: E402
from hpd3d.errors import InputError, cli_guard  # noqa: E402
from hpd3d.formats import load_2d, save_2d  # noqa: E402
from hpd3d.noise import (VIEWS, NoiseModel, add_noise, add_noise_fitted,  # noqa: E402
                         MISS_EDGES, azimuth_bins, detect_swaps, fit_noise,
                         person_size, view_azimuth_3d, view_feature)
from hpd3d.skeleton import COCO_TO_H36M, H36M  # noqa: E402

BLAZE_TO_COCO = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]
JOINTS = H36M.joints


# ----------------------------------------------------------------------------- detection

def _blaze_to_h36m(lm33: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 33, 3) x, y px + visibility → H36M (T, 17, 2) and confidence (T, 17) (the lowest
    visibility of the landmarks a joint is made of)."""
    coco = lm33[:, BLAZE_TO_COCO]
    uv = COCO_TO_H36M @ coco[..., :2]
    vis = np.where(COCO_TO_H36M[None] > 0, coco[:, None, :, 2], np.inf).min(-1)
    return uv, vis


def detect_folder(folder: Path, name: str, det_cfg: dict, redetect: bool) -> dict:
    """{(subject, action, cam): (pred (T, 17, 2) NaN where missed, conf (T, 17))}."""
    out_file = folder / f"data_2d_{name}_mediapipe.npz"
    if out_file.is_file() and not redetect:
        pos, _, extras = load_2d(out_file)
        res = {}
        for s, acts in pos.items():
            for a, cams in acts.items():
                for c, p in enumerate(cams):
                    det = extras["detected_2d"][s][a][c][:, 0]
                    p = np.array(p, float)
                    p[~det] = np.nan
                    res[(s, a, c)] = (p, np.asarray(extras["confidence_2d"][s][a][c], float))
        return res
    import cv2
    from tqdm import tqdm
    os.environ.setdefault("GLOG_minloglevel", "2")
    from mediapipe.python.solutions import pose as mp_pose

    gt, meta, _ = load_2d(folder / f"data_2d_{name}_gt.npz")
    res, pos, conf, detected = {}, {}, {}, {}
    todo = [(s, a, c, len(v)) for s, acts in gt.items() for a, cams in acts.items()
            for c, v in enumerate(cams)]
    bar = tqdm(total=sum(t[3] for t in todo), desc=f"MediaPipe {name}", unit="frame")
    for s, a, c, T in todo:
        fdir = folder / "frames" / s / a / str(c)
        pose = mp_pose.Pose(static_image_mode=False, **det_cfg)
        lm = np.full((T, 33, 3), np.nan)
        for t in range(T):
            f = fdir / f"{t + 1:06d}.png"
            img = cv2.imread(str(f))
            if img is None:
                raise InputError(f, "frame missing (render with render.frames=true)")
            h, w = img.shape[:2]
            r = pose.process(np.ascontiguousarray(img[:, :, ::-1]))
            if r.pose_landmarks is not None:
                lm[t] = [(p.x * w, p.y * h, p.visibility) for p in r.pose_landmarks.landmark]
            bar.update()
        pose.close()
        det = np.isfinite(lm[:, 0, 0])
        p, v = np.full((T, 17, 2), np.nan), np.zeros((T, 17))
        if det.any():
            p[det], v[det] = _blaze_to_h36m(lm[det])
        res[(s, a, c)] = (p, v)
        filled = p.copy()
        if det.any():  # hold the nearest detection where missed (a mask, never a sentinel)
            idx = np.flatnonzero(det)
            near = idx[np.abs(np.arange(T)[:, None] - idx[None]).argmin(1)]
            filled = p[near]
        else:
            filled = np.array(gt[s][a][c], float)  # no detection at all: conf 0 everywhere
        pos.setdefault(s, {}).setdefault(a, []).append(filled.astype(np.float32))
        conf.setdefault(s, {}).setdefault(a, []).append(v.astype(np.float32))
        detected.setdefault(s, {}).setdefault(a, []).append(np.repeat(det[:, None], 17, 1))
    bar.close()
    meta = dict(meta)
    meta["layout_name"] = "h36m"
    save_2d(out_file, pos, meta, {"confidence_2d": conf, "detected_2d": detected})
    return res


# ----------------------------------------------------------------------------- data

def load_sequences(cfg) -> list[dict]:
    seqs = []
    for inp in cfg.inputs:
        folder, name = Path(inp["dir"]), str(inp["name"])
        ds = read_dataset(folder, name)
        fps = None
        rec = folder / f"render_{name}.json"
        if rec.is_file():
            fps = {s.get("subject", ""): s.get("fps") for s in json.loads(rec.read_text())
                   .get("sequences", [])}
        det = detect_folder(folder, name, dict(cfg.detector), bool(cfg.redetect))
        for (s, a, c), (pred, conf) in sorted(det.items()):
            gt = np.asarray(ds.positions_2d[s][a][c], float)
            cam = ds.cameras[s][a][c]
            pos_cam = world_to_camera(np.asarray(ds.positions_3d[s][a], float), cam)
            seqs.append(dict(key=f"{name}/{s}/{a}", cam=c, gt=gt, pred=pred, conf=conf,
                             az3d=view_azimuth_3d(pos_cam), src=name,
                             fps=(fps or {}).get(s)))
    return seqs


def calibrate_view(seqs) -> tuple[float, float, float, np.ndarray]:
    """Thresholds (lo, hi) of the 2D view feature that best reproduce the 3D view bins;
    their agreement and the (3D × 2D) confusion counts."""
    c = np.concatenate([view_feature(q["gt"]) for q in seqs])
    b3 = np.concatenate([azimuth_bins(q["az3d"]) for q in seqs])
    grid = np.linspace(0.0, 0.25, 51)
    best = (-1.0, 0.13, 0.13)
    for lo in grid:
        for hi in grid:
            b2 = np.where(c > hi, 0, np.where(c < -lo, 2, 1))
            agree = (b2 == b3).mean()
            if agree > best[0]:
                best = (agree, -lo, hi)
    agree, lo, hi = best
    b2 = np.where(c > hi, 0, np.where(c < lo, 2, 1))
    conf = np.zeros((3, 3), int)
    np.add.at(conf, (b3, b2), 1)
    return float(lo), float(hi), float(agree), conf


# ----------------------------------------------------------------------------- measures

def errors(gt, pred, det):
    """Per-joint error / person size on detected frames (after no un-swapping: what a
    lifter sees) → (N, 17)."""
    e = np.linalg.norm(pred - gt, axis=-1) / person_size(gt)[..., 0]
    return e[det]


def summarise(label, seqs, preds, dets):
    E = np.concatenate([errors(q["gt"], p, d) for q, p, d in zip(seqs, preds, dets)])
    sw = np.concatenate([detect_swaps(q["gt"][d], p[d]) for q, p, d in zip(seqs, preds, dets)])
    miss = 1 - np.concatenate(dets).mean()
    return dict(label=label, E=E, swap=sw.mean(0), miss=miss)


def compare(train, held, lo, hi, step_s, seed) -> str:
    fm = fit_noise([(q["gt"], q["pred"], q["conf"]) for q in train], step_s, lo, hi,
                   provenance="held-out comparison fit")
    rng = np.random.default_rng(seed)
    real = summarise("real MediaPipe", held, [q["pred"] for q in held],
                     [np.isfinite(q["pred"]).all((-1, -2)) for q in held])
    dp, dd, fp, fd = [], [], [], []
    for q in held:
        n, c = add_noise(q["gt"], rng, NoiseModel())
        dp.append(n.astype(float))
        dd.append(np.ones(len(n), bool))
        n, c = add_noise_fitted(q["gt"], rng, fm)
        fp.append(n.astype(float))
        fd.append(c.max(-1) > 0)
    rows = [real, summarise("default noise", held, dp, dd),
            summarise("fitted model", held, fp, fd)]
    from scipy.stats import wasserstein_distance
    lines = [f"Held-out: {len(held)} camera sequences, "
             f"{sum(len(q['gt']) for q in held)} frames (fit on {len(train)} sequences). "
             "Per-joint 2D error in % of person size (keypoint bbox), pooled over joints; "
             "W1 = Wasserstein-1 distance to the real per-joint error distributions "
             "(mean over joints, % size).", "",
             "| 2D | mean | p50 | p90 | p95 | p99 | leg swap | arm swap | missed | W1 to real |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        E = r["E"] * 100
        w1 = np.mean([wasserstein_distance(E[:, j], real["E"][:, j] * 100) for j in range(17)])
        p = np.percentile(E, [50, 90, 95, 99])
        lines.append(f"| {r['label']} | {E.mean():.2f} | {p[0]:.2f} | {p[1]:.2f} | {p[2]:.2f} "
                     f"| {p[3]:.2f} | {r['swap'][0]:.1%} | {r['swap'][1]:.1%} "
                     f"| {r['miss']:.1%} | {w1:.2f} |")
    lines += ["", "Per joint: mean / p90 error (% size), real · default · fitted", "",
              "| joint | real | default | fitted |", "|---|---|---|---|"]
    for j in range(17):
        cells = [f"{r['E'][:, j].mean() * 100:.1f} / {np.percentile(r['E'][:, j], 90) * 100:.1f}"
                 for r in rows]
        lines.append(f"| {j} {JOINTS[j]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def model_table(fm) -> str:
    sd = fm.sd
    lines = ["Bias (x, y) and inlier SD (mean of x, y) per joint and view, % of person size; "
             f"frames per view {dict(zip(VIEWS, fm.count.astype(int).tolist()))}", "",
             "| joint | " + " | ".join(f"{v} bias | {v} SD" for v in VIEWS) + " | outliers |",
             "|---|" + "---|" * (2 * len(VIEWS) + 1)]
    for j in range(17):
        cells = []
        for v in range(len(VIEWS)):
            b = fm.bias[v, j] * 100
            cells += [f"{b[0]:+.1f}, {b[1]:+.1f}", f"{sd[v, j].mean() * 100:.1f}"]
        lines.append(f"| {j} {JOINTS[j]} | " + " | ".join(cells)
                     + f" | {fm.out_rate[:, j].mean():.1%} |")
    lines += ["", "Outlier rate of a joint whose 2D lies inside the torso (vs elsewhere, mean "
              "over views): " + ", ".join(
                  f"{JOINTS[j]} {fm.occ_out_rate[j]:.0%} ({fm.out_rate[:, j].mean():.0%})"
                  for j in (2, 3, 5, 6, 12, 13, 15, 16, 9, 10))]
    lines += ["", "| view | leg swap | arm swap | mean visibility |", "|---|---|---|---|"]
    for v, name in enumerate(VIEWS):
        lines.append(f"| {name} | {fm.swap_rate[v, 0]:.1%} | {fm.swap_rate[v, 1]:.1%} "
                     f"| {fm.conf_mean[v].mean():.2f} |")
    edges = [0, *MISS_EDGES, np.inf]
    lines += ["", "missed frames by person size (px): " + ", ".join(
        f"{edges[k]:.0f}–{edges[k + 1]:.0f}: {fm.miss_rate[k]:.1%}"
        for k in range(len(edges) - 1))]
    lines += ["", f"rho (lag-1 autocorrelation, step {fm.step_s:.3f} s) = {fm.rho:.2f}; "
              f"mean swap run {fm.swap_run:.1f} steps, miss run {fm.miss_run:.1f} steps; "
              f"outlier SD {fm.out_sd.mean() * 100:.1f} % size"]
    return "\n".join(lines)


@hydra.main(config_path="../conf", config_name="fit_detector_noise", version_base=None)
@cli_guard
def main(cfg: DictConfig) -> None:
    if not cfg.inputs:
        raise InputError(None, "inputs: at least one {dir, name} render folder")
    for inp in cfg.inputs:
        f = Path(inp["dir"]) / f"data_2d_{inp['name']}_gt.npz"
        if not f.is_file():
            raise InputError(f, "not found (a blender.render output folder)")
    out = Path(cfg.out)
    if out.suffix != ".npz":
        raise InputError(out, "out must be an .npz file")
    if int(cfg.holdout_every) < 2:
        raise InputError(None, "holdout_every must be ≥ 2")
    seqs = load_sequences(cfg)
    fps = [q["fps"] for q in seqs if q["fps"]]
    step_s = float(np.mean([1.0 / f for f in fps])) if fps else 0.1  # seconds between frames
    lo, hi, agree, confusion = calibrate_view(seqs)
    keys = sorted({q["key"] for q in seqs})
    held_keys = set(keys[::int(cfg.holdout_every)])
    train = [q for q in seqs if q["key"] not in held_keys]
    held = [q for q in seqs if q["key"] in held_keys]
    cmp_table = compare(train, held, lo, hi, step_s, int(cfg.seed))
    n_frames = sum(len(q["gt"]) for q in seqs)
    prov = (f"MediaPipe Pose 0.10.21 (complexity {cfg.detector.model_complexity}, video mode, "
            f"smooth_landmarks={cfg.detector.smooth_landmarks}) on anny humans rendered by "
            f"blender.render (Workbench): {len(keys)} clips, {len(seqs)} camera sequences, "
            f"{n_frames} frames from "
            f"{', '.join(str(i['dir']) + ':' + str(i['name']) for i in cfg.inputs)}; "
            f"fitted by tools/fit_detector_noise.py")
    fm = fit_noise([(q["gt"], q["pred"], q["conf"]) for q in seqs], step_s, lo, hi,
                   provenance=prov)
    fm.save(out)
    text = "\n".join([
        "# MediaPipe error model on rendered humans", "", prov, "",
        f"View from 2D (thresholds {lo:+.3f}, {hi:+.3f}) agrees with the 3D view bin on "
        f"{agree:.1%} of frames; confusion (rows 3D, cols 2D, {VIEWS}):",
        "", "```", str(confusion), "```", "", "## Fitted model (all sequences)", "",
        model_table(fm), "", "## Synthetic vs real on held-out sequences", "", cmp_table, ""])
    write_text(cfg.report, text)
    print(text)
    print(f"wrote {out} ({out.stat().st_size} bytes) and {cfg.report}")


if __name__ == "__main__":
    main()
