"""video → 2D → smooth_2d → lift → post-process → write, one output frame per input frame.

:func:`run` first checks everything it can before any work (the output folder, the
lifter checkpoint, the video or 2D file, the detector, the intrinsics and the post
config), then streams the frames once (a reader thread decodes ahead while the detector
runs; the overlay video is drawn from the same frames), lifts the whole sequence in one
call (:func:`train.models.lift_sequence`: each model's own window, no seams), post-processes
(:mod:`infer.post`) and writes (:mod:`infer.writers`). Per-stage wall times are kept in
``infer.json`` and returned.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from hpd3d import atomic
from hpd3d.errors import InputError
from hpd3d.skeleton import COCO_TO_H36M, convert_scored

from .intrinsics import intrinsics
from .quiet import filtered_stderr
from .tracking import Tracker, fill_missing
from .writers import (OutputFolder, SkeletonVideo, VideoWriter, draw_2d, motionbert_x3d,
                      overlay_size, write_npy, write_npz)


@dataclass
class Timer:
    seconds: dict = field(default_factory=dict)

    def add(self, stage: str, dt: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + dt

    def ms_per_frame(self, n: int) -> dict:
        return {k: 1000.0 * v / max(n, 1) for k, v in self.seconds.items()}


@dataclass
class Track2D:
    """The subject's 2D over the whole timeline (H36M-17 after :func:`to_h36m`)."""

    kp: np.ndarray  # (T, J, 3) x, y px, score
    detected: np.ndarray  # (T,) bool
    frame_index: np.ndarray  # (T,) source frame numbers
    layout: str
    width: int
    height: int
    fps: float


def _cfg_dict(node) -> dict:
    if node is None:
        return {}
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)


# -- the lifter (train.models) -----------------------------------------------------------
def load_lifter_checked(path, trust: bool):
    p = Path(path)
    if not p.is_file():
        raise InputError(p, "no such lifter checkpoint (lifter=PATH)")
    from train.models import load_lifter

    try:
        return load_lifter(p, trust_checkpoint=trust)
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure to read it is a bad file
        raise InputError(p, f"not a usable lifter checkpoint ({type(e).__name__}: {e})") from None


def lift(lifter, uv: np.ndarray, conf: np.ndarray, width: int, height: int,
         flip: bool = False) -> np.ndarray:
    """(T, 17, 2) px + (T, 17) confidence → (T, 17, 3) root-relative camera-frame metres."""
    from train.models import lift_sequence

    x = np.asarray(lifter.normalize(uv, width, height), np.float32)[..., :2]
    x = np.concatenate([x, conf[..., None].astype(np.float32)], axis=-1)
    return np.asarray(lift_sequence(lifter, x, flip=flip), np.float32)


# -- 2D ------------------------------------------------------------------------------------
def to_h36m(track: Track2D) -> Track2D:
    if track.layout == "h36m":
        return track
    if track.layout != "coco":
        raise InputError(None, f"2D layout {track.layout!r}: expected coco or h36m")
    kp = convert_scored(track.kp, COCO_TO_H36M)
    return Track2D(kp.astype(np.float32), track.detected, track.frame_index, "h36m",
                   track.width, track.height, track.fps)


def detect_video(source, detector, tracker: Tracker, timer: Timer, overlay=None,
                 progress: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stream the frames through the detector; returns (kp (T, 17, 3), detected, index)."""
    info = source.info
    kps, det, idx = [], [], []
    empty = np.zeros((17, 3), np.float32)
    t_dec = t_det = t_ovl = 0.0
    it = iter(source)
    bar = tqdm(total=info.frames or None, desc="infer: 2D", unit="frame", disable=not progress,
               mininterval=1.0)
    try:
        while True:
            t0 = time.perf_counter()
            try:
                i, rgb = next(it)
            except StopIteration:
                break
            t1 = time.perf_counter()
            cands = detector.detect(rgb, prev=tracker.last)
            pick = tracker.choose(cands)
            t2 = time.perf_counter()
            kps.append(empty if pick is None else pick[:, :3].astype(np.float32))
            det.append(pick is not None)
            idx.append(i)
            if overlay is not None:
                overlay(rgb, pick)
            t3 = time.perf_counter()
            t_dec += t1 - t0
            t_det += t2 - t1
            t_ovl += t3 - t2
            bar.update(1)
    finally:
        bar.close()
        if hasattr(it, "close"):
            it.close()
    timer.add("decode", t_dec)
    timer.add("2d", t_det)
    timer.add("write", t_ovl)
    if not kps:
        raise InputError(info.path, "zero frames decoded")
    return np.stack(kps), np.asarray(det, bool), np.asarray(idx, np.int64)


def track_file(frames: list, tracker: Tracker) -> tuple[np.ndarray, np.ndarray]:
    J = next((f.shape[1] for f in frames if len(f)), 17)
    kps, det = [], []
    for f in frames:
        pick = tracker.choose(np.asarray(f, np.float32).reshape(-1, J, 3))
        kps.append(np.zeros((J, 3), np.float32) if pick is None else pick)
        det.append(pick is not None)
    return np.stack(kps), np.asarray(det, bool)


# -- the run ------------------------------------------------------------------------------
def _name_of(cfg, video, file_path) -> str:
    if cfg.get("name"):
        return str(cfg.name)
    src = Path(video or file_path)
    return src.stem if src.suffix else src.name


def _post_module():
    from infer import post

    return post


@dataclass
class Plan:
    """Everything checked before the work."""

    cfg: DictConfig
    out: OutputFolder
    name: str
    lifter: object
    det_name: str
    det_cfg: dict
    source: object = None  # FrameSource for a video / image folder
    file2d: object = None  # File2D for detector=file
    width: int = 0
    height: int = 0
    fps: float = 30.0
    K: np.ndarray | None = None
    K_source: str = ""
    detector: object = None  # a built per-frame detector (closed by the run)


def prepare(cfg: DictConfig) -> Plan:
    from .video import open_frames

    det_cfg = _cfg_dict(cfg.get("detector"))
    det_name = str(det_cfg.pop("name", "mediapipe"))
    video = cfg.get("video")
    file_path = det_cfg.get("path") if det_name == "file" else None
    if det_name == "file" and not file_path:
        raise InputError(None, "detector=file needs detector.path=<2D file or folder>")
    if det_name != "file" and not video:
        raise InputError(None, "video=PATH is required (a video file or a folder of images)")
    name = _name_of(cfg, video, file_path)
    plan = Plan(cfg, None, name, None, det_name, det_cfg)
    start, end, stride = int(cfg.get("start") or 0), cfg.get("end"), int(cfg.get("stride") or 1)
    end = None if end is None else int(end)
    f35 = None
    if video:
        plan.source = open_frames(video, start, end, stride, fps=cfg.get("fps"),
                                  prefetch=int(cfg.get("prefetch", 8)))
        info = plan.source.info
        plan.width, plan.height, plan.fps, f35 = info.width, info.height, info.fps, info.focal_35mm
    if det_name == "file":
        from .detectors.file import read_2d

        f = read_2d(file_path, subject=det_cfg.get("subject"), action=det_cfg.get("action"),
                    camera=int(det_cfg.get("camera") or 0))
        frames = list(f.frames)
        if start < 0 or stride < 1:
            raise InputError(file_path, f"bad frame range start={start} stride={stride}")
        sel = range(start, len(frames) if end is None else min(end, len(frames)), stride)
        f.frames = [frames[i] for i in sel]
        f.frame_index = np.asarray(list(sel), np.int64)
        if not f.frames:
            raise InputError(file_path, "zero frames (after start/end/stride)")
        plan.file2d = f
        if not video:
            if not (f.width and f.height):
                w, h = det_cfg.get("width"), det_cfg.get("height")
                if not (w and h):
                    raise InputError(file_path, "the file does not give the image size: pass "
                                                "video=<the video> or detector.width/height")
                f.width, f.height = int(w), int(h)
            plan.width, plan.height = int(f.width), int(f.height)
            plan.fps = float(cfg.get("fps") or f.fps or 30.0) / stride  # as for videos
    plan.out = OutputFolder(cfg.get("out") or Path("out") / "infer" / name)
    plan.out.check()
    import torch  # not before: a bad video or out= fails without the torch import

    if cfg.get("threads"):
        torch.set_num_threads(int(cfg.threads))
    plan.lifter = load_lifter_checked(cfg.lifter, bool(cfg.get("trust_checkpoint", False)))
    post = _post_module()
    if hasattr(post, "check_config"):
        post.check_config(cfg.get("post"))
    cam = _cfg_dict(cfg.get("camera"))
    plan.K, plan.K_source = intrinsics(
        plan.width, plan.height, focal_px=cam.get("focal_px"), fov_deg=cam.get("fov_deg"),
        focal_35mm=f35, cx=cam.get("cx"), cy=cam.get("cy"),
        default_fov_deg=float(cam.get("default_fov_deg") or 60.0))
    if det_name != "file":
        from .detectors import DETECTORS

        try:
            cls = DETECTORS[det_name]
        except KeyError as e:
            raise InputError(None, f"detector={det_name}: {e.args[0]}") from None
        if det_name == "mediapipe" and det_cfg.get("static_image_mode") is None:
            det_cfg["static_image_mode"] = plan.source.info.kind == "images"
        plan.det_cfg = det_cfg
        try:
            plan.detector = cls(**det_cfg)
        except TypeError as e:
            raise InputError(None, f"detector={det_name}: {e}") from None
    return plan


def run(cfg: DictConfig) -> dict:
    """The whole stage; returns a summary dict (out folder, frames, timings, files).
    mediapipe's log lines are kept off the user's stderr throughout (they come from its
    graph threads, at times of their own choosing)."""
    with filtered_stderr():
        return _run(cfg)


def _run(cfg: DictConfig) -> dict:
    t_start = time.perf_counter()
    timer = Timer()
    t0 = time.perf_counter()
    plan = prepare(cfg)
    timer.add("setup", time.perf_counter() - t0)
    progress = bool(cfg.get("progress", True))
    wcfg = _cfg_dict(cfg.get("write"))
    try:
        tmp = plan.out.open()
    except BaseException:
        if plan.detector is not None:
            plan.detector.close()
        raise
    ok = False
    try:
        summary = _work(plan, tmp, timer, wcfg, progress)
        plan.out.commit()
        ok = True
    finally:
        if not ok:
            plan.out.discard()
    summary["seconds_total"] = time.perf_counter() - t_start
    return summary


def _work(plan: Plan, tmp: Path, timer: Timer, wcfg: dict, progress: bool) -> dict:
    cfg, name = plan.cfg, plan.name
    tcfg = _cfg_dict(cfg.get("track"))
    tracker = Tracker(fps=plan.fps, **tcfg)
    files = []
    ovl_writer = None
    # -- 2D --------------------------------------------------------------------------
    if plan.file2d is None:
        detector = plan.detector
        overlay = None
        if wcfg.get("overlay", True):
            ow, oh, s = overlay_size(plan.width, plan.height, int(wcfg.get("overlay_max_side", 960)))
            ovl_writer = VideoWriter(tmp / f"{name}_overlay.mp4", plan.fps, (ow, oh),
                                     str(wcfg.get("codec", "mp4v")), threaded=True)

            def render(rgb, pick):
                import cv2

                bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
                if s != 1.0:
                    bgr = cv2.resize(bgr, (ow, oh), interpolation=cv2.INTER_AREA)
                kp = None if pick is None else pick * np.array([s, s, 1], np.float32)
                return draw_2d(bgr, kp, layout=detector.layout)

            def overlay(rgb, pick):
                ovl_writer.submit(render, rgb, pick)

        try:
            kp, detected, index = detect_video(plan.source, detector, tracker, timer, overlay,
                                               progress)
        except BaseException:
            if ovl_writer is not None:
                ovl_writer.abort()
            raise
        finally:
            detector.close()
        if ovl_writer is not None:
            t0 = time.perf_counter()
            ovl_writer.close()  # waits for the frames still queued
            timer.add("write", time.perf_counter() - t0)
            files.append(ovl_writer.path.name)
        layout = detector.layout
        src_path = plan.source.info.path
    else:
        t0 = time.perf_counter()
        f = plan.file2d
        kp, detected = track_file(f.frames, tracker)
        index = f.frame_index
        layout = f.layout
        src_path = cfg.detector.path
        timer.add("2d", time.perf_counter() - t0)
        if plan.source is not None and wcfg.get("overlay", True):  # video= given: draw on it
            t0 = time.perf_counter()
            files.append(_overlay_pass(plan, tmp / f"{name}_overlay.mp4", kp, detected, layout,
                                       wcfg, progress))
            timer.add("write", time.perf_counter() - t0)
    T = len(kp)
    if not detected.any():
        raise InputError(src_path, f"no person found in any of the {T} frames")
    t0 = time.perf_counter()
    track = to_h36m(Track2D(fill_missing(kp, detected), detected, index, layout, plan.width,
                            plan.height, plan.fps))
    uv_raw, conf = track.kp[..., :2].copy(), track.kp[..., 2].copy()
    post = _post_module()
    uv = np.asarray(post.smooth_2d(uv_raw, conf, plan.fps, cfg.post), np.float32)
    timer.add("post", time.perf_counter() - t0)
    # -- 3D ----------------------------------------------------------------------------
    t0 = time.perf_counter()
    pose = lift(plan.lifter, uv, conf, plan.width, plan.height, flip=bool(cfg.get("flip", False)))
    timer.add("lift", time.perf_counter() - t0)
    if pose.shape != (T, 17, 3):
        raise RuntimeError(f"lift_sequence gave {pose.shape}, expected {(T, 17, 3)}")
    t0 = time.perf_counter()
    res = post.postprocess(pose, uv, conf, plan.K, plan.fps, cfg.post)
    report = post.quality_report(res, conf, detected, plan.fps)
    timer.add("post", time.perf_counter() - t0)
    # -- write -------------------------------------------------------------------------
    t0 = time.perf_counter()
    config_yaml = OmegaConf.to_yaml(cfg, resolve=True)
    lifter_name = f"{getattr(plan.lifter, 'name', '?')} ({Path(cfg.lifter).name})"
    write_npz(
        tmp / f"{name}.npz",
        keypoints_2d=uv.astype(np.float32), keypoints_2d_raw=uv_raw.astype(np.float32),
        confidence=conf.astype(np.float32), detected=detected, frame_index=index,
        pose_cam_rootrel=np.asarray(res.cam_rootrel, np.float32),
        pose_cam=np.asarray(res.cam, np.float32), pose_world=np.asarray(res.world, np.float32),
        contacts=np.asarray(res.contacts, bool), R_world_cam=np.asarray(res.R_world_cam),
        t_world_cam=np.asarray(res.t_world_cam), bone_lengths=np.asarray(res.bone_lengths),
        fps=np.float64(plan.fps), image_size=np.array([plan.width, plan.height]),
        intrinsics=plan.K, intrinsics_source=np.str_(plan.K_source),
        detector=np.str_(plan.det_name), lifter=np.str_(lifter_name), layout=np.str_("h36m"),
        config=np.str_(config_yaml))
    files.append(f"{name}.npz")
    if wcfg.get("x3d", True):
        write_npy(tmp / "X3D.npy", motionbert_x3d(res.cam, plan.K))
        files.append("X3D.npy")
    if wcfg.get("report", True):
        atomic.write_text(tmp / f"{name}_report.json", json.dumps(_plain(report), indent=2) + "\n")
        post.plot_report(report, res, tmp / f"{name}_report.png")
        files += [f"{name}_report.json", f"{name}_report.png"]
    if wcfg.get("bvh", True):
        bvh_file = _write_bvh(tmp / f"{name}.bvh", res.world, plan.fps,
                              str(wcfg.get("bvh_rest", "T")))
        if bvh_file:
            files.append(bvh_file)
    if wcfg.get("skeleton_video", True):
        sv = SkeletonVideo(np.asarray(res.world), int(wcfg.get("skeleton_panel", 360)))
        vw = VideoWriter(tmp / f"{name}_skeleton.mp4", plan.fps, (2 * sv.panel, sv.panel),
                         str(wcfg.get("codec", "mp4v")))
        try:
            for t in tqdm(range(T), desc="infer: 3D video", unit="frame", disable=not progress,
                          mininterval=1.0):
                vw.write(sv.frame(res.world[t], res.contacts[t],
                                  f"frame {int(index[t])}" + ("" if detected[t] else " (no person)")))
        except BaseException:
            vw.abort()
            raise
        vw.close()
        files.append(vw.path.name)
    timer.add("write", time.perf_counter() - t0)
    ms = timer.ms_per_frame(T)
    summary = {
        "out": str(plan.out.out), "name": name, "frames": T, "detected": int(detected.sum()),
        "fps": plan.fps, "image_size": [plan.width, plan.height],
        "intrinsics": plan.K.tolist(), "intrinsics_source": plan.K_source,
        "detector": plan.det_name, "lifter": lifter_name, "post_steps": _plain(res.steps),
        "seconds": timer.seconds, "ms_per_frame": ms,
        "fps_end_to_end_excl_setup": 1000.0 * T / max(sum(v for k, v in timer.seconds.items()
                                                          if k != "setup") * 1000.0, 1e-9),
        "files": files, "python": platform.python_version(),
    }
    atomic.write_text(tmp / "infer.json", json.dumps(_plain(summary), indent=2) + "\n")
    return summary


def _overlay_pass(plan: Plan, path: Path, kp, detected, layout: str, wcfg: dict,
                  progress: bool) -> str:
    """The overlay for 2D read from a file: the video's frames with the file's keypoints
    (frame t of the file on the t-th selected frame of the video)."""
    import cv2

    ow, oh, s = overlay_size(plan.width, plan.height, int(wcfg.get("overlay_max_side", 960)))
    vw = VideoWriter(path, plan.fps, (ow, oh), str(wcfg.get("codec", "mp4v")), threaded=True)

    def render(rgb, pick):
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        if s != 1.0:
            bgr = cv2.resize(bgr, (ow, oh), interpolation=cv2.INTER_AREA)
        return draw_2d(bgr, None if pick is None else pick * np.array([s, s, 1], np.float32),
                       layout=layout)

    try:
        frames = zip(range(len(kp)), plan.source)
        for t, (_, rgb) in tqdm(frames, total=len(kp), desc="infer: overlay", unit="frame",
                                disable=not progress, mininterval=1.0):
            vw.submit(render, rgb, kp[t] if detected[t] else None)
    except BaseException:
        vw.abort()
        raise
    vw.close()
    return path.name


def _write_bvh(path: Path, world: np.ndarray, fps: float, rest_kind: str) -> str | None:
    try:
        from hpd3d.retarget import positions_to_bvh
    except ImportError:  # the armature branch is not merged: no BVH
        return None
    from hpd3d.bvh import save_bvh

    save_bvh(path, positions_to_bvh(np.asarray(world, np.float64), fps, rest_kind=rest_kind))
    return path.name


def _plain(x):
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    return x
