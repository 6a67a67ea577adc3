"""``python -m train exp=simplebaseline|videopose3d|motionbert [overrides]`` (``+exp=`` too): train a lifter.

See ``conf/train.yaml`` for every option and :mod:`train.runner` for what it builds.
Exit status: 0 done, 2 bad input (one line naming the file), 3 the loss became NaN/inf
(one line naming the last good checkpoint).
"""

import sys

from omegaconf import DictConfig

from hpd3d.config import hydra_main


@hydra_main("train")
def main(cfg: DictConfig) -> None:
    from train.checks import check_config

    check_config(cfg)  # bad settings and the work dir: before torch is even imported
    from train.runner import main_guarded  # after Hydra parsed the command line (fast --help)

    main_guarded(cfg)


if __name__ == "__main__":
    sys.exit(main())
