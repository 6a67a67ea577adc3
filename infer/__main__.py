"""``python -m infer video=clip.mp4 [overrides]``: a single-person video → 2D → 3D →
smoothed, grounded skeleton in metres (npz, X3D.npy, BVH, overlay and 3D videos, report).

See ``conf/infer.yaml`` for every option and :mod:`infer.pipeline` for the stages.
Exit status: 0 done, 2 bad input (one line ``error: <file>: <problem>``, nothing written).
"""

import os
import sys

import hydra
from omegaconf import DictConfig

from hpd3d.errors import InputError, cli_guard  # tiny: no numpy

os.environ.setdefault("GLOG_minloglevel", "2")  # mediapipe's C++ logging, before its import
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@cli_guard
def main_guarded(cfg: DictConfig) -> dict:
    from infer.pipeline import run  # after Hydra parsed the command line (fast --help)

    try:
        s = run(cfg)
    except InputError as e:  # one line, also for readers that list several problems
        lines = [x.strip() for x in str(e.problem).splitlines() if x.strip()]
        if len(lines) > 1:
            raise InputError(e.path, " ".join(lines)) from None
        raise
    stages = " · ".join(f"{k} {v:.1f}" for k, v in s["ms_per_frame"].items())
    print(f"infer: {s['frames']} frames ({s['detected']} with a person), "
          f"{s['seconds_total']:.1f} s; ms/frame: {stages}")
    print(f"infer: wrote {s['out']}/ ({', '.join(s['files'])})")
    return s


@hydra.main(version_base="1.3", config_path="../conf", config_name="infer")
def main(cfg: DictConfig) -> None:
    main_guarded(cfg)


if __name__ == "__main__":
    sys.exit(main())
