"""``python -m infer video=clip.mp4 [overrides]``: a single-person video → 2D → 3D →
smoothed, grounded skeleton in metres (npz, X3D.npy, BVH, overlay and 3D videos, report).

See ``conf/infer.yaml`` for every option and :mod:`infer.pipeline` for the stages.
Exit status: 0 done, 2 bad input (one line ``error: <file>: <problem>``, nothing written).
"""

import os
import sys

import hydra
from omegaconf import DictConfig

os.environ.setdefault("GLOG_minloglevel", "2")  # mediapipe's C++ logging, before its import
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@hydra.main(version_base="1.3", config_path="../conf", config_name="infer")
def main(cfg: DictConfig) -> None:
    from hpd3d.errors import cli_guard  # after Hydra parsed the command line (fast --help)

    @cli_guard
    def guarded(cfg):
        from infer.pipeline import run

        s = run(cfg)
        ms = s["ms_per_frame"]
        stages = " · ".join(f"{k} {v:.1f}" for k, v in ms.items())
        print(f"infer: {s['frames']} frames ({s['detected']} with a person), "
              f"{s['seconds_total']:.1f} s; ms/frame: {stages}")
        print(f"infer: wrote {s['out']}/ ({', '.join(s['files'])})")

    guarded(cfg)


if __name__ == "__main__":
    sys.exit(main())
