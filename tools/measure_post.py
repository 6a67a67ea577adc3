"""Measure infer's post-processing on sequences with known 3D (not a test; prints tables).

The real BVH files in ../shared/data/bvh (world Z-up metres through hpd3d.rig.to_h36m),
resampled to ~30 fps, seen by 4 sampled pinhole cameras each (hpd3d.camera_sampling,
no lens distortion: the fit uses K only), 2D = clean projection + the toolkit's noise
model (hpd3d.noise, fixed seed); lifted with the shipped lifter data/lifter_default.pt
(``--lifter PATH``: another native checkpoint, e.g. data/lifter_temporal.pt).

Compares: no smoothing / smoothing 2D before lifting / smoothing 3D after (MPJPE, P-MPJPE,
jitter, acceleration error against the truth), then the whole default post-processing:
root position error in the camera frame, up-vector error, bone-length CV, foot sliding,
penetration, contact agreement with a ground-truth rule.

    OMP_NUM_THREADS=1 .venv/bin/python tools/measure_post.py [--fps 30] [--cams 4] [--lifter PATH]
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hpd3d import contacts as C  # noqa: E402
from hpd3d.bones import constant_bone_lengths  # noqa: E402
from hpd3d.bvh import load_bvh  # noqa: E402
from hpd3d.camera import project, world_to_camera  # noqa: E402
from hpd3d.camera_sampling import CameraConfig, sample_cameras  # noqa: E402
from hpd3d.metrics import acceleration_error, jitter, mpjpe, p_mpjpe  # noqa: E402
from hpd3d.noise import NoiseModel, add_noise  # noqa: E402
from hpd3d.normalization import Normalization  # noqa: E402
from hpd3d.rig import to_h36m  # noqa: E402
from hpd3d.smoothing import smooth  # noqa: E402
from infer import post  # noqa: E402
from train.models import load_model  # noqa: E402

SHARED = REPO.parent / "shared" / "data" / "bvh"


# whole-pipeline variants (changes to the default config)
PIPE = {
    "default": {},
    "trajectory unsmoothed": {"trajectory": {"smooth": {"method": "none"},
                                             "smooth_depth": {"method": "none"}}},
    "trajectory xyz 1s": {"trajectory": {"smooth": {"method": "savgol", "window_s": 1.0,
                                                    "order": 2}, "smooth_depth": None}},
    "trajectory xyz 2s": {"trajectory": {"smooth": {"method": "savgol", "window_s": 2.0,
                                                    "order": 2}, "smooth_depth": None}},
    "trajectory 2d 0.25s, depth 2s": {"trajectory": {
        "smooth": {"method": "savgol", "window_s": 0.25, "order": 2},
        "smooth_depth": {"method": "savgol", "window_s": 2.0, "order": 2}}},
    "trajectory 2d 0.5s, depth 3s": {"trajectory": {
        "smooth": {"method": "savgol", "window_s": 0.5, "order": 2},
        "smooth_depth": {"method": "savgol", "window_s": 3.0, "order": 2}}},
    "foot_lock off": {"foot_lock": {"enabled": False}},
    "foot_lock, no root follow": {"foot_lock": {"root_follow": False}},
}


def load_clips(fps_target: float):
    clips = []
    for f in sorted(SHARED.glob("*.bvh")):
        b = load_bvh(f)
        X = to_h36m(b)
        fps = 1.0 / b.frame_time
        step = max(1, int(round(fps / fps_target)))
        clips.append((f.stem, X[::step], fps / step))
    return clips


def lift(model, norm, uv, conf, W, H):
    x = norm.inputs(uv, W, H)
    x = np.concatenate([x, conf[..., None]], -1).astype(np.float32)
    with torch.no_grad():
        y = model.lift(torch.from_numpy(x)[None])[0].numpy().astype(np.float64)
    return y - y[:, :1]


def gt_contacts(Xw, fps):
    """Ground-truth rule on the true world motion: ankle within 5 cm of its clip-low
    height (2nd percentile) and slower than 0.4 m/s (hysteresis 1.5, runs ≥ 3 frames)."""
    Z = Xw.copy()
    Z[..., 2] -= np.quantile(Xw[:, [3, 6], 2], 0.02)
    return C.detect_contacts(Z, fps, height=0.05, speed=0.4, release=1.5, min_frames=3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--cams", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lifter", default=str(REPO / "data/lifter_default.pt"),
                    help="a native lifter checkpoint (per-frame or temporal)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    model = load_model(a.lifter)
    ck = torch.load(a.lifter, weights_only=True)
    norm = Normalization.from_dict(ck["normalization"])
    cfg0 = yaml.safe_load(open(REPO / "conf/post/default.yaml"))
    rng = np.random.default_rng(a.seed)
    ccfg = CameraConfig(count=a.cams, distortion_prob=0.0)
    nm = NoiseModel()

    variants = {
        "none": (None, None),
        "2d savgol 0.25s": ({"method": "savgol", "window_s": 0.25, "order": 2}, None),
        "2d savgol 0.5s": ({"method": "savgol", "window_s": 0.5, "order": 2}, None),
        "2d one_euro": ({"method": "one_euro", "min_cutoff": 1.0, "beta": 0.01,
                         "bidirectional": True}, None),
        "3d savgol 0.25s": (None, {"method": "savgol", "window_s": 0.25, "order": 2}),
        "3d savgol 0.4s": (None, {"method": "savgol", "window_s": 0.4, "order": 2}),
        "3d savgol 0.5s": (None, {"method": "savgol", "window_s": 0.5, "order": 2}),
        "3d savgol 0.75s": (None, {"method": "savgol", "window_s": 0.75, "order": 2}),
        "3d savgol 0.5s o3": (None, {"method": "savgol", "window_s": 0.5, "order": 3}),
        "3d one_euro": (None, {"method": "one_euro", "min_cutoff": 1.0, "beta": 0.5,
                               "bidirectional": True}),
        "3d one_euro causal": (None, {"method": "one_euro", "min_cutoff": 1.0, "beta": 0.5,
                                      "bidirectional": False}),
        "2d+3d savgol 0.25s": ({"method": "savgol", "window_s": 0.25, "order": 2},
                               {"method": "savgol", "window_s": 0.25, "order": 2}),
        "2d 0.25s+3d 0.5s": ({"method": "savgol", "window_s": 0.25, "order": 2},
                             {"method": "savgol", "window_s": 0.5, "order": 2}),
    }
    acc = {k: [] for k in variants}
    full, pipe = [], {}
    t0 = time.time()
    for name, Xw, fps in load_clips(a.fps):
        cams, _ = sample_cameras(rng, ccfg, Xw)
        for cam in cams:
            uv = project(Xw, cam)
            Xc = world_to_camera(Xw, cam)
            gt = Xc - Xc[:, :1]
            uvn, conf = add_noise(uv, rng, nm)
            uvn, conf = uvn.astype(np.float64), conf.astype(np.float64)
            W, H = cam.width, cam.height
            raw = None
            for k, (s2, s3) in variants.items():
                u = uvn
                if s2 is not None:
                    u = post.smooth_2d(uvn, conf, fps, {"smooth_2d": dict(s2, enabled=True,
                                                                          min_conf=0.1)})
                if s2 is None and raw is not None:
                    p = raw
                else:
                    p = lift(model, norm, u, conf, W, H)
                    if s2 is None:
                        raw = p
                if s3 is not None:
                    p = smooth(p, fps, s3["method"], conf=conf, min_conf=0.1,
                               **{q: v for q, v in s3.items() if q != "method"})
                    p = p - p[:, :1]
                acc[k].append((len(gt), mpjpe(p, gt), p_mpjpe(p, gt), jitter(p),
                               acceleration_error(p, gt), jitter(gt)))
                if k == "3d savgol 0.5s":  # + constant bone lengths (the default's next step)
                    for sym in (False, True):
                        q, _ = constant_bone_lengths(p, conf, symmetric=sym, weighted=True)
                        kk = f"3d 0.5s + bones{' L=R' if sym else ''}"
                        acc.setdefault(kk, []).append((len(gt), mpjpe(q, gt), p_mpjpe(q, gt),
                                                       jitter(q), acceleration_error(q, gt),
                                                       jitter(gt)))
            # the whole default post-processing on the raw lift
            K = np.array([[cam.fx, 0, cam.cx], [0, cam.fy, cam.cy], [0, 0, 1.0]])
            res = post.postprocess(raw, uvn, conf, K, fps, copy.deepcopy(cfg0))
            res_exact = post.postprocess(gt, uv, np.ones_like(conf), K, fps, copy.deepcopy(cfg0))
            up_true = cam.R @ np.array([0.0, 0.0, 1.0])
            up_err = np.degrees(np.arccos(np.clip(res.R_world_cam[2] @ up_true, -1, 1)))
            up_err_exact = np.degrees(np.arccos(np.clip(res_exact.R_world_cam[2] @ up_true, -1, 1)))
            root_err = np.linalg.norm(res.cam[:, 0] - Xc[:, 0], axis=-1).mean() * 1000
            root_err_exact = np.linalg.norm(res_exact.cam[:, 0] - Xc[:, 0], axis=-1).mean() * 1000
            depth_rel = np.abs(res.cam[:, 0, 2] - Xc[:, 0, 2]).mean() / Xc[:, 0, 2].mean()
            rep = post.quality_report(res, conf, np.ones(len(gt), bool), fps)
            gtc = gt_contacts(Xw, fps)
            agree_exact = (res_exact.contacts == gtc).mean()
            agree = (res.contacts == gtc).mean()
            # sliding before locking (same contacts) for comparison
            cfg_nl = copy.deepcopy(cfg0)
            cfg_nl["foot_lock"]["enabled"] = False
            res_nl = post.postprocess(raw, uvn, conf, K, fps, cfg_nl)
            slide_nl = C.foot_sliding(res_nl.world, res_nl.contacts) * 1000
            for lab, mod in PIPE.items():
                c = copy.deepcopy(cfg0)
                for sec, v in mod.items():
                    c[sec].update(v)
                r = post.postprocess(raw, uvn, conf, K, fps, c)
                pipe.setdefault(lab, []).append((
                    len(gt), np.linalg.norm(r.cam[:, 0] - Xc[:, 0], axis=-1).mean(),
                    acceleration_error(r.cam, Xc), jitter(r.world), jitter(Xw),
                    C.foot_sliding(r.world, r.contacts)))
            full.append(dict(clip=name, T=len(gt), up=up_err, up_exact=up_err_exact, root=root_err,
                             root_exact=root_err_exact, depth_rel=depth_rel,
                             cv=rep["bone_length_cv_max"], slide=rep["foot_sliding_mm_per_frame"],
                             slide_nolock=slide_nl, pen=rep["ground_penetration_max_mm"],
                             tilt=rep["torso_tilt_upright_mean_deg"], agree=agree,
                             agree_exact=agree_exact, jit=rep["jitter_mm_per_frame2"],
                             mode=res.steps["ground"]["mode"]))
        print(f"  {name}: {len(Xw)} frames @ {fps:.0f} fps x {len(cams)} cameras "
              f"({time.time() - t0:.0f} s)", file=sys.stderr)

    print(f"\n## smoothing: 2D before lifting vs 3D after ({a.fps:.0f} fps, frame-weighted "
          f"over {len(full)} clip-cameras; mm, mm/frame²)")
    print(f"{'variant':22s} {'MPJPE':>7s} {'P-MPJPE':>8s} {'jitter':>7s} {'accel err':>9s}"
          f" {'truth jitter':>12s}")
    for k, rows in acc.items():
        r = np.asarray(rows)
        w = r[:, 0] / r[:, 0].sum()
        m = (r[:, 1:] * w[:, None]).sum(0) * 1000
        print(f"{k:22s} {m[0]:7.1f} {m[1]:8.1f} {m[2]:7.2f} {m[3]:9.2f} {m[4]:12.2f}")
    print("\n## whole pipeline variants (camera-frame root error mm, camera-frame accel error "
          "vs truth, world jitter (truth), sliding in contact mm/frame)")
    for k, rows in pipe.items():
        r = np.asarray(rows, dtype=float)
        w = r[:, 0] / r[:, 0].sum()
        m = np.nansum(r[:, 1:] * w[:, None], axis=0) * 1000
        print(f"{k:28s} root {m[0]:6.0f}  accel err {m[1]:5.2f}  jitter {m[2]:5.2f} ({m[3]:.2f})"
              f"  sliding {m[4]:5.2f}")
    print("\n## full default post-processing (per clip, mean over cameras)")
    keys = ["T", "root", "root_exact", "depth_rel", "up", "up_exact", "cv", "slide_nolock",
            "slide", "pen", "tilt", "agree", "agree_exact", "jit"]
    print("clip".ljust(22) + " ".join(f"{k:>11s}" for k in keys))
    for clip in dict.fromkeys(r["clip"] for r in full):
        rs = [r for r in full if r["clip"] == clip]
        print(clip.ljust(22) + " ".join(
            f"{np.nanmean([float(r[k]) if r[k] is not None else np.nan for r in rs]):11.3f}"
            for k in keys) + "  " + ",".join(r["mode"] for r in rs))
    print("all".ljust(22) + " ".join(
        f"{np.nanmean([float(r[k]) if r[k] is not None else np.nan for r in full]):11.3f}"
        for k in keys))
    print("(root: mean camera-frame root error mm, lifted / exact 3D; depth_rel: relative root "
          "depth error; up: up-vector error deg; slide: mm/frame in contact after / "
          "slide_nolock before locking; pen: max mm; tilt: torso deg on upright frames; "
          "agree: contact agreement with the ground-truth rule)")


if __name__ == "__main__":
    main()
