"""BVH → VideoPose3D dataset through Blender, with optional rendered video and ground truth.

Two ways to run it (same config, ``conf/render.yaml``; overrides after ``--`` when
present, else all arguments)::

    blender -b blender/HPD3D.blend --python-exit-code 2 -P blender/render.py -- input=walk.bvh
    python -m blender.render input=walk.bvh              # the pip bpy module

For every BVH (one file, a folder searched recursively, or a glob; ``shard=i/n`` takes
files i, i+n, …, each seeded by its index in the full sorted list, so shards together
equal one run) it opens ``HPD3D.blend`` afresh, imports the file with Blender's own
importer, evaluates every selected frame ONCE and reads all bones in one go
(:mod:`blender.bvh_import`), maps the rig to H36M-17 with the numpy route's table
(:func:`hpd3d.rig.map_rig`), scales the body to a random height about its ground point,
samples cameras from the shared camera config (:mod:`hpd3d.camera_sampling`), creates
them as Blender cameras and projects the joints for all cameras at once
(:func:`hpd3d.camera.project_many`). With ``render.enabled=true`` it also drives the
mannequin with the joints and renders, per camera, an H.264 mp4 (and/or PNG frames).

Output in ``out``: ``data_3d_<name>.npz``, ``data_2d_<name>_gt.npz`` (float keypoints,
``in_frame_2d`` mask, and with ``occlusion=true`` a ``visible_2d`` mask: in frame and not
hidden by the mannequin's body or the floor, :mod:`blender.occlusion`), ``camera_intrinsics.txt``, ``camera_extrinsics.txt`` (camera
``<subject>/<action>/<i>``), ``render_<name>.json`` (config, Blender version, input
files, seeds, per-file scale/floor/cameras) and ``video/<subject>/<action>/<i>.mp4``
(``frames/<subject>/<action>/<i>/000001.png`` …). A file that fails (cannot be read or
imported, rig not mappable, a camera that sees too little, …) is reported and skipped;
the others are still written (every file complete or absent), then the run lists every
failure on one line and exits with status 2 (``synth.augment_h36m`` does the same). ``out``
is the run's own: a non-empty folder is refused unless ``overwrite=true``, and it is
replaced as a whole (:func:`hpd3d.atomic.atomic_dir`).

This module is the command's thin front (arguments after ``--``, the Hydra config,
``--help``, ``main``; run as a script it first makes the repository importable); the work
per run and per file is :mod:`blender.render_bvh` (``_Run``, :class:`BodyConfig`,
:class:`RenderConfig`), whose names are re-exported here — as Blender's ``io_anim_bvh``
splits ``__init__.py`` from ``import_bvh.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not globals().get("__package__"):  # run as a script (blender -P): make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from blender.script_path import add_site_packages

    add_site_packages()  # scipy, hydra, tqdm from .venv, after Blender's own modules

# the worker; its names (and find_bvh, select_frames: old paths) stay importable from here
from blender.render_bvh import (REPO, BodyConfig, RenderConfig, _Run,  # noqa: E402,F401
                                find_bvh, select_frames)

CONF = REPO / "conf"


def _args(argv=None) -> list[str]:
    """Overrides from a command line: what follows ``--`` when present, else ``argv[1:]``."""
    argv = sys.argv if argv is None else argv
    return argv[argv.index("--") + 1:] if "--" in argv else argv[1:]


def load_config(overrides):
    """Compose ``conf/render.yaml`` with ``overrides`` (Hydra compose API, no output dir)."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from hpd3d.errors import InputError

    try:
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3", job_name="render"):
            cfg = compose(config_name="render", overrides=list(overrides))
        OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    except Exception as e:  # bad override, unknown key, missing value
        from hpd3d.config import config_error

        raise InputError("conf/render.yaml", config_error(e)) from None
    return cfg


def run(cfg) -> Path:
    return _Run(cfg).run()


def main(overrides=None) -> int:
    """Entry point; ``overrides`` default to the command line (after ``--`` if present)."""
    from hpd3d.errors import cli_guard

    args = list(_args() if overrides is None else overrides)
    if any(a in ("--help", "-h") for a in args):
        from hpd3d.config import print_help

        print_help("render", [a for a in args if a not in ("--help", "-h")])
        return 0

    @cli_guard
    def _main():
        run(load_config(args))

    _main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
