"""The worker behind ``blender.render``: one run over a shard's BVH files in Blender.

:class:`_Run` checks the run's configuration (:class:`BodyConfig`, :class:`RenderConfig`,
the shared camera config), then for every file (:meth:`_Run.process`) opens the scene
afresh, imports the BVH with Blender's importer and reads the joints
(:mod:`blender.bvh_import`), maps the rig to H36M-17, scales the body, samples and projects
the cameras, optionally computes occlusion and renders; :meth:`_Run.run` writes the dataset,
the videos and ``render_<name>.json`` into the run's own folder. The command's front
(arguments after ``--``, the Hydra config, ``main``) is :mod:`blender.render`; see it for the
outputs. Imported after the front has made the repository importable (``blender -P``).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hpd3d.anatomy import scale_about_ground
from hpd3d.bvh_files import find_bvh, select_frames

REPO = Path(__file__).resolve().parents[1]


@dataclass
class BodyConfig:
    height: tuple = (1.55, 1.85)  # metres, uniform; the rest-pose head top above the lowest joint


@dataclass
class RenderConfig:
    engine: str = "workbench"  # workbench | eevee | cycles
    video: bool = True         # H.264 mp4 per camera
    frames: bool = False       # PNG frames per camera
    transparent: bool = False  # film_transparent (RGBA PNG frames)
    floor: bool = True
    samples: int = 16          # eevee / cycles
    aa: str = "OFF"            # workbench anti-aliasing: OFF | FXAA | 5 | 8 | 11 | 16 | 32
    shadows: bool = True       # workbench shadows
    subject: str = "mannequin"  # mannequin (capsules) | anny (a realistic human body)
    anny_gender: tuple = (0.0, 1.0)   # anny phenotype, uniform per file (0 male … 1 female)
    anny_weight: tuple = (0.3, 0.7)   # 0 … 1, 0.5 average
    anny_muscle: tuple = (0.3, 0.7)   # 0 … 1, 0.5 average


class _Run:
    """One run over this shard's files."""

    def __init__(self, cfg):
        from omegaconf import OmegaConf

        from hpd3d.camera_sampling import CameraConfig
        from hpd3d.config import from_section, parse_shard
        from hpd3d.errors import InputError

        self.cfg = cfg
        c = OmegaConf.to_container(cfg, resolve=True)
        self.plain = c
        self.camera, _ = from_section(CameraConfig, c.get("camera"), "camera")
        self.body, self.body_on = from_section(BodyConfig, c.get("body"), "body")
        self.render, self.render_on = from_section(RenderConfig, c.get("render"), "render")
        try:
            self.camera.check()
        except ValueError as e:
            raise InputError(None, f"config: {e}") from None
        lo, hi = self.body.height
        if not 0 < lo <= hi:
            raise InputError(None, f"config: body.height {self.body.height}: need 0 < min ≤ max")
        if cfg.stride < 1 or cfg.start < 0 or (cfg.max_frames is not None and cfg.max_frames < 1):
            raise InputError(None, "config: stride ≥ 1, start ≥ 0 and max_frames ≥ 1 (or null)")
        if cfg.fps is not None and (isinstance(cfg.fps, bool) or not isinstance(
                cfg.fps, (int, float)) or not np.isfinite(cfg.fps) or cfg.fps <= 0):
            raise InputError(None, f"fps={cfg.fps!r}: must be a number > 0 (frames per "
                                   f"second), or null to keep each file's rate")
        if self.render_on:
            from blender.compat import engine_name

            try:
                engine_name(self.render.engine)
            except ValueError as e:
                raise InputError(None, f"config: {e}") from None
            r = self.render
            if r.subject not in ("mannequin", "anny"):
                raise InputError(None, f"config: render.subject={r.subject!r}: "
                                       f"mannequin | anny")
            for key in ("anny_gender", "anny_weight", "anny_muscle"):
                lo, hi = getattr(r, key)
                if not 0.0 <= lo <= hi <= 1.0:
                    raise InputError(None, f"config: render.{key}={[lo, hi]}: need "
                                           f"0 ≤ min ≤ max ≤ 1")
            if r.subject == "anny":
                from hpd3d.anny_body import load_anny

                try:
                    load_anny()
                except (OSError, ValueError) as e:
                    raise InputError(None, f"config: render.subject=anny: the anny body "
                                           f"data is unavailable: {e}") from None
            if self.camera.distortion_prob > 0 or self.camera.fisheye_prob > 0:
                raise InputError(None, "config: rendering needs cameras without lens distortion "
                                       "(camera=ring|sphere, camera.distortion_prob=0): "
                                       "Blender's cameras cannot distort (camera=fisheye makes "
                                       "a dataset only), and the video must match the 2D "
                                       "ground truth")
        self.shard = parse_shard(cfg.shard)
        scene_file = Path(cfg.scene_file)
        self.scene_file = scene_file if scene_file.is_absolute() else REPO / scene_file
        if not self.scene_file.is_file():
            raise InputError(self.scene_file, "scene file not found (python -m blender.make_scene)")

    # ---------------------------------------------------------------- one file
    def process(self, k: int, path: Path, staging: Path):
        from hpd3d.bvh import load_bvh, save_bvh
        from hpd3d.camera import in_image, project_many
        from hpd3d.camera_sampling import sample_cameras
        from hpd3d.dataset import Views
        from hpd3d.errors import InputError
        from hpd3d.formats import camera_name
        from hpd3d.progress import progress
        from hpd3d.rig import map_rig, standing_height

        from blender import scene as sc
        from blender.bvh_import import (check_importable, metres_per_unit, read_joints,
                                        with_three_rotation_channels)

        cfg, t0 = self.cfg, time.perf_counter()
        bvh = load_bvh(path)
        if bvh.num_frames == 0:
            raise InputError(path, "has no motion frames (Frames: 0)")
        rig = map_rig(bvh)
        import_path = path
        try:
            check_importable(bvh)
        except InputError:  # e.g. 1 rotation channel: the same motion with 3 channels each
            bvh = with_three_rotation_channels(bvh)
            check_importable(bvh)
            staging.mkdir(parents=True, exist_ok=True)
            import_path = staging / path.name
            save_bvh(import_path, bvh)
        unit_name, scale = metres_per_unit(bvh, cfg.units, rig)
        frames, fps = select_frames(bvh.num_frames, bvh.frame_time, bvh.fps, cfg.fps,
                                    cfg.start, cfg.stride, cfg.max_frames)
        if len(frames) == 0:
            raise InputError(path, f"no frames selected ({bvh.num_frames} frames, "
                                   f"start={cfg.start}, stride={cfg.stride})")
        subject, action = path.stem.replace("_", "-"), "mocap"

        scene = sc.open_scene(self.scene_file)
        with progress(total=len(frames), desc=f"  {path.name}", unit="frame",
                      leave=False) as bar:
            rig_xyz = read_joints(import_path, bvh, scale, frames, cfg.up, cfg.verbose, bar)
        x = rig.apply(rig_xyz)
        floor_z = float(rig_xyz[..., 2].min())  # the lowest joint of the whole rig, any frame

        rng = np.random.default_rng([int(cfg.seed), k])
        actor_height, height_from = standing_height(bvh, rig, cfg.up)
        actor_height *= scale
        if not actor_height > 0:
            raise InputError(path, f"the actor has no height (head top not above the feet, "
                                   f"measured in the {height_from})")
        if self.body_on:
            height = float(rng.uniform(*self.body.height))
            s = height / actor_height
        else:
            height, s = actor_height, 1.0
        x, ground = scale_about_ground(x, s, floor_z)

        cams, fractions = sample_cameras(rng, self.camera, x, floor=floor_z)
        uv, depth = project_many(x, cams, return_depth=True)
        inside = in_image(uv, cams, depth)
        per_cam = inside.mean(axis=(1, 2))
        worst = int(np.argmin(per_cam))
        if per_cam[worst] < cfg.min_camera_in_frame:
            raise InputError(path, f"camera {worst} sees {per_cam[worst]:.0%} of the keypoints "
                                   f"(min_camera_in_frame={cfg.min_camera_in_frame}); widen "
                                   f"camera.distance / camera.focal_mm or check the motion")
        try:
            cam_objs = sc.add_cameras(cams)
        except ValueError as e:
            if self.render_on:
                raise InputError(path, f"camera cannot be made in Blender: {e}") from None
            cam_objs = []

        visible = None
        if self.render_on or cfg.occlusion:  # the mannequin, posed as the labels say
            sc.set_floor(floor_z)
            sc.fit_mannequin(x, height)
            sc.drive_mannequin(x)
        if cfg.occlusion:  # in frame AND not hidden by the body or the floor
            from blender.occlusion import hidden_joints

            hidden = hidden_joints(scene, cams, x, floor_z if self.render.floor else None,
                                   progress=lambda it: progress(
                                       it, desc=f"  occlusion {path.name}", unit="frame",
                                       leave=False))
            visible = inside & ~hidden
        videos, frame_dirs = [], []
        anny, floor_render = None, None
        if self.render_on:
            r = self.render
            sc.setup_render(scene, r.engine, r.samples, r.transparent, r.floor, fps, r.aa,
                            r.shadows)
            if r.subject == "anny":  # own stream: the cameras stay those of the mannequin run
                prng = np.random.default_rng([int(cfg.seed), k, 1])
                pheno = {n: float(prng.uniform(*getattr(r, f"anny_{n}")))
                         for n in ("gender", "weight", "muscle")}
                body = sc.add_anny(x, **pheno)
                anny = body["anny_phenotype"].to_dict()
                # anny's soles lie below its ankle joints: lower the floor so they never sink
                sole = float(body["anny_sole_depth"])
                floor_render = min(floor_z, float(x[:, [3, 6], 2].min()) - sole)
            else:
                floor_render = floor_z
            sc.set_floor(floor_render)
            for c, obj in enumerate(progress(cam_objs, desc=f"  render {path.name}",
                                             unit="cam", leave=False)):
                rel = Path(camera_name(subject, action, c))
                video = Path("video") / rel.with_suffix(".mp4") if r.video else None
                fdir = Path("frames") / rel if r.frames else None
                sc.render_camera(scene, obj, len(x), staging / video if video else None,
                                 staging / fdir if fdir else None, verbose=cfg.verbose)
                if video:
                    videos.append(str(video))
                if fdir:
                    frame_dirs.append(str(fdir))
        record = {
            "file": str(path), "subject": subject, "action": action, "index": k,
            "seed": [int(cfg.seed), k], "frames": int(len(x)), "fps": fps,
            "source_frames": frames.tolist(), "source_frame_count": bvh.num_frames,
            "units": unit_name, "metres_per_unit": scale,
            "rig": dict(zip(_h36m_names(), rig.sources)),
            "actor_height_m": actor_height, "actor_height_from": height_from,
            "height_m": height, "body_scale": s,
            "ground_point": ground.tolist(), "floor_z": floor_z,
            "cameras": [camera_name(subject, action, c) for c in range(len(cams))],
            "in_frame": per_cam.tolist(),
            "visible": None if visible is None else visible.mean(axis=(1, 2)).tolist(),
            "videos": videos, "frame_dirs": frame_dirs,
            "subject_body": self.render.subject if self.render_on else None,
            "anny_phenotype": anny, "floor_render_z": floor_render,
            "seconds": round(time.perf_counter() - t0, 3),
        }
        return subject, action, x, Views(cams, uv, inside, fractions, visible=visible), record

    # ---------------------------------------------------------------- the run
    def run(self) -> Path:
        import bpy

        from hpd3d import atomic
        from hpd3d.config import shard_dir, shard_name
        from hpd3d.dataset import Dataset
        from hpd3d.errors import InputError, failed_inputs_error
        from hpd3d.progress import progress

        cfg, t0 = self.cfg, time.perf_counter()
        shard_i, shard_n = self.shard
        paths = find_bvh(cfg.input)
        mine = list(enumerate(paths))[shard_i::shard_n]
        if not mine:
            raise InputError(cfg.input, f"shard {shard_i}/{shard_n} has no files "
                                        f"(only {len(paths)} in all)")
        name, out = shard_name(cfg.name, self.shard), shard_dir(cfg.out, self.shard)
        overwrite = bool(cfg.get("overwrite"))
        atomic.check_out_dir(out, overwrite)  # before the work

        ds, records, failures, taken = Dataset(), [], [], {}
        with atomic.atomic_dir(out, overwrite) as tmp:  # the whole folder, or nothing
            staging = tmp / ".staging"
            for k, path in progress(mine, desc=f"blender.render {name}", unit="file"):
                part = staging / f"{k}"
                try:
                    subject = path.stem.replace("_", "-")
                    if subject in taken:
                        raise InputError(path, f"subject {subject!r} is already taken by "
                                               f"another input file ({taken[subject]}); "
                                               f"rename one")
                    subject, action, x, views, rec = self.process(k, path, part)
                    ds.add(subject, action, x, views)
                    records.append(rec)
                    taken[subject] = path
                except InputError as e:
                    failures.append((str(path), e.problem))
                    shutil.rmtree(part, ignore_errors=True)
                except Exception as e:  # noqa: BLE001 - a folder run carries on past any bad file
                    failures.append((str(path), f"{type(e).__name__}: {e}"))
                    shutil.rmtree(part, ignore_errors=True)
            if not records:  # nothing to write: the old folder stays as it was
                raise failed_inputs_error(cfg.input, failures, len(mine))
            files = ds.write(tmp, name)
            for rec in records:
                part = staging / f"{rec['index']}"
                for rel in rec["videos"] + rec["frame_dirs"]:
                    dest = tmp / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(part / rel, dest)
            shutil.rmtree(staging, ignore_errors=True)
            record = {
                "tool": "blender.render", "blender_version": bpy.app.version_string,
                "bpy_module": not bpy.app.binary_path, "name": name,
                "shard": f"{shard_i}/{shard_n}", "seed": int(cfg.seed),
                "input": str(cfg.input), "input_files": [str(p) for _, p in mine],
                "config": self.plain, "sequences": records,
                "failures": [{"file": f, "reason": r} for f, r in failures],
                "seconds": round(time.perf_counter() - t0, 3),
            }
            rec_path = tmp / f"render_{name}.json"
            atomic.write_text(rec_path, _json(record))
            files.append(rec_path)

        n_frames = sum(r["frames"] for r in records)
        n_cams = sum(len(r["cameras"]) for r in records)
        n_videos = sum(len(r["videos"]) for r in records)
        print(f"blender.render: {len(records)} of {len(mine)} files, {n_frames} frames, "
              f"{n_cams} cameras, {sum(r['frames'] * len(r['cameras']) for r in records)} 2D "
              f"poses, {n_videos} videos, {time.perf_counter() - t0:.1f} s "
              f"(Blender {bpy.app.version_string})")
        extra = "".join(f", {d}/" for d, on in (("video", n_videos), ("frames", any(
            r["frame_dirs"] for r in records))) if on)
        print(f"blender.render: wrote {out}/ ({', '.join(f.name for f in files)}{extra})")
        if failures:
            raise failed_inputs_error(cfg.input, failures, len(mine), out)
        return out


def _json(obj) -> str:
    """Indented JSON with lists of numbers kept on one line."""
    import re

    text = json.dumps(obj, indent=1)
    return re.sub(r"\[\s*([-+0-9.eE,\s]*?)\s*\]",
                  lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text) + "\n"


def _h36m_names():
    from hpd3d.skeleton import H36M

    return H36M.joints
