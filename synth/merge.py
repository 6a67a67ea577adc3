"""``python -m synth.merge dir=out/augmented name=synth``: join shards into one dataset.

``synth.augment_h36m shard=i/n out=DIR`` writes shard i into ``DIR/shard-<i>of<n>/``
(each with its own camera files). This finds every ``data_3d_<name>-<i>of<n>.npz`` below
``dir``, checks that none is missing and no sequence appears twice, and writes
``data_3d_<name>.npz``, its 2D files and the union of the cameras into ``out``
(default ``dir``); ``format=mmpose`` adds MMPose's files as ``synth.augment_h36m`` does.
The files are byte-equal to those of one run that made every sequence.
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from hpd3d.config import find_shards
from hpd3d.dataset import Dataset, read_dataset
from hpd3d.errors import InputError, cli_guard


def merge(folder, name: str, out=None, mmpose: bool = False) -> Path:
    """Join the shards below ``folder`` into ``out`` (default ``folder``): the same bytes
    as one run that made every sequence (:meth:`Dataset.write` orders them by name)."""
    folder = Path(folder)
    merged = Dataset()
    for shard_dir, shard_name in find_shards(folder, name):
        try:
            merged.merge(read_dataset(shard_dir, shard_name))
        except ValueError as e:
            raise InputError(shard_dir, str(e)) from None
    out = Path(out or folder)
    merged.write(out, name, mmpose=mmpose)
    return out


@hydra.main(version_base="1.3", config_path="../conf", config_name="merge")
@cli_guard
def main(cfg: DictConfig) -> None:
    if cfg.format not in ("videopose3d", "mmpose"):
        raise InputError(None, f"format={cfg.format!r}: 'videopose3d' or 'mmpose'")
    out = merge(cfg.dir, cfg.name, cfg.out, mmpose=cfg.format == "mmpose")
    print(f"merge: wrote {out}/data_3d_{cfg.name}.npz and its 2D and camera files")


if __name__ == "__main__":
    sys.exit(main())
