"""``python -m synth.merge dir=out/augmented name=synth``: join shards into one dataset.

``synth.augment_h36m shard=i/n out=DIR`` writes shard i into ``DIR/shard-<i>of<n>/``
(each with its own camera files). This finds every ``data_3d_<name>-<i>of<n>.npz`` below
``dir``, checks that none is missing and no sequence appears twice, and writes
``data_3d_<name>.npz``, its 2D files and the union of the cameras into ``out``
(default ``dir``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from hpd3d.errors import InputError, cli_guard

from hpd3d.dataset import Dataset, read_dataset


def find_shards(folder: Path, name: str) -> list[tuple[Path, str]]:
    """(folder, shard name) of every shard, in order; error if one is missing."""
    pat = re.compile(rf"data_3d_{re.escape(name)}-(\d+)of(\d+)\.npz$")
    found = {}
    for p in sorted(folder.rglob("data_3d_*.npz")):
        m = pat.match(p.name)
        if m:
            found[(int(m.group(1)), int(m.group(2)))] = p
    if not found:
        raise InputError(folder, f"no shards data_3d_{name}-<i>of<n>.npz found")
    counts = {n for _, n in found}
    if len(counts) != 1:
        raise InputError(folder, f"shards of different splits: n = {sorted(counts)}")
    (n,) = counts
    missing = [i for i in range(n) if (i, n) not in found]
    if missing:
        raise InputError(folder, f"shards missing: {missing} of {n}")
    return [(found[(i, n)].parent, f"{name}-{i}of{n}") for i in range(n)]


def merge(folder, name: str, out=None) -> Path:
    folder = Path(folder)
    merged = Dataset()
    for shard_dir, shard_name in find_shards(folder, name):
        try:
            merged.merge(read_dataset(shard_dir, shard_name))
        except ValueError as e:
            raise InputError(shard_dir, str(e)) from None
    out = Path(out or folder)
    merged.write(out, name)
    return out


@hydra.main(version_base="1.3", config_path="../conf", config_name="merge")
@cli_guard
def main(cfg: DictConfig) -> None:
    out = merge(cfg.dir, cfg.name, cfg.out)
    print(f"merge: wrote {out}/data_3d_{cfg.name}.npz and its 2D and camera files")


if __name__ == "__main__":
    sys.exit(main())
