"""Generate the procedural motion library (CLI).

    python -m synth.make_motions out=out/motions clips=40 seed=0 bvh=true name=procedural

Writes ``<out>/data_3d_<name>.npz`` (VideoPose3D), ``<out>/motions_<name>.npz`` (joint
angles, headings, root paths and bodies; ``tracks=false`` skips it) and, with ``bvh=true``,
``<out>/bvh_<name>/<subject>_<action>.bvh``. The folder ``out`` is the run's own: a
non-empty one is refused unless ``overwrite=true``, and it is replaced as a whole after all
clips are generated; a bad setting (``clips`` ≤ 0, an unknown motion, min > max …) is one
line on stderr, exit status 2, and nothing written. See :mod:`synth.library`.
"""

from __future__ import annotations

import time
from pathlib import Path

from omegaconf import DictConfig, ListConfig

from hpd3d.atomic import atomic_dir, check_out_dir
from hpd3d.config import hydra_main
from hpd3d.errors import InputError
from hpd3d.progress import progress

from . import library
from .motions import MOTIONS


def _motions(value) -> list[str]:
    if isinstance(value, str):
        if value == "all":
            return list(MOTIONS)
        return [m.strip() for m in value.split(",") if m.strip()]
    if isinstance(value, (list, tuple, ListConfig)):
        return [str(m) for m in value]
    raise InputError("motions", f"must be 'all' or a list of names, got {value!r}")


def run(cfg: DictConfig) -> dict:
    """Validate, generate, write; returns the summary (also printed)."""
    motions = _motions(cfg.motions)
    duration = list(cfg.duration) if isinstance(cfg.duration, ListConfig) else cfg.duration
    height = list(cfg.height) if isinstance(cfg.height, ListConfig) else cfg.height
    library.check_args(cfg.clips, cfg.fps, motions, duration, cfg.clips_per_subject, height)
    if cfg.bvh_units not in library.BVH_UNITS:
        raise InputError("bvh_units", f"must be one of {', '.join(library.BVH_UNITS)}, "
                                      f"got {cfg.bvh_units!r}")
    if isinstance(cfg.seed, bool) or not isinstance(cfg.seed, int) or cfg.seed < 0:
        raise InputError("seed", f"must be a non-negative integer, got {cfg.seed!r}")
    if not str(cfg.name) or "/" in str(cfg.name):
        raise InputError("name", f"must be a plain file-name part, got {cfg.name!r}")
    out = check_out_dir(Path(str(cfg.out)), bool(cfg.overwrite))

    t0 = time.perf_counter()
    lib = library.generate(int(cfg.clips), seed=int(cfg.seed), fps=float(cfg.fps),
                           motions=motions, duration=duration,
                           clips_per_subject=int(cfg.clips_per_subject), height_range=height,
                           progress=lambda it: progress(it, desc="motions", unit="clip"))
    names = [f"data_3d_{cfg.name}.npz"]
    with atomic_dir(out, bool(cfg.overwrite)) as tmp:  # the whole folder, or nothing
        library.save_npz(lib, tmp / names[0])
        if cfg.tracks:
            names.append(f"motions_{cfg.name}.npz")
            library.save_tracks(lib, tmp / names[-1])
        if cfg.bvh:
            names.append(f"bvh_{cfg.name}")
            library.save_bvh_dir(lib, tmp / names[-1], units=str(cfg.bvh_units),
                                 progress=lambda it: progress(it, desc="bvh", unit="file"))
    written = [out / n for n in names]
    s = lib.summary()
    s["wall_seconds"] = time.perf_counter() - t0
    s["written"] = [str(p) for p in written]
    per = ", ".join(f"{k} {v}" for k, v in sorted(s["motions"].items()))
    print(f"{s['clips']} clips on {s['subjects']} bodies, {s['frames']} frames = "
          f"{s['seconds']:.1f} s of motion at {lib.fps:g} fps ({per}); "
          f"took {s['wall_seconds']:.1f} s")
    for p in written:
        print(f"wrote {p}{'/ (' + str(s['clips']) + ' BVH files)' if p.name.startswith('bvh_') else ''}")
    return s


@hydra_main("make_motions")
def main(cfg: DictConfig) -> None:
    run(cfg)


if __name__ == "__main__":
    main()
