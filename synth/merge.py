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

from omegaconf import DictConfig

from hpd3d.atomic import atomic_dir, check_out_dir
from hpd3d.config import hydra_main
from hpd3d.errors import InputError

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


def _kept(folder: Path, out: Path, shards) -> tuple[str, ...]:
    """When the merge writes into the shards' own folder: the top-level entries that hold
    shards, and Hydra's ``multirun.yaml``, stay (everything else in ``out`` is the merge's
    own output)."""
    if out.resolve() != folder.resolve():
        return ()
    names = set()
    for shard_dir, _ in shards:
        rel = shard_dir.resolve().relative_to(folder.resolve()).parts
        if not rel:
            raise InputError(folder, "shards lie directly in dir, which is also out: pass "
                                     "out=<another folder>")
        names.add(rel[0])
    return tuple(sorted(names)) + ("multirun.yaml",)  # Hydra's record of the sharded sweep


def merge(folder, name: str, out=None, overwrite: bool = False) -> Path:
    """Merge every shard below ``folder`` into ``out`` (default ``folder``, keeping the
    shard folders); ``out`` is the run's own (:func:`hpd3d.atomic.atomic_dir`)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "dir: no such folder")
    if not str(name) or "/" in str(name):
        raise InputError(None, f"name={name!r}: must be a plain file-name part")
    out = Path(out or folder)
    check_out_dir(out, overwrite=True)  # a file, data/, unwritable: before anything else
    shards = find_shards(folder, name)
    keep = _kept(folder, out, shards)
    check_out_dir(out, overwrite, keep)  # before reading the shards
    merged = Dataset()
    for shard_dir, shard_name in shards:
        try:
            merged.merge(read_dataset(shard_dir, shard_name))
        except InputError:
            raise
        except (ValueError, KeyError) as e:
            raise InputError(shard_dir, str(e)) from None
    with atomic_dir(out, overwrite, keep) as tmp:
        merged.write(tmp, name)
    return out


@hydra_main("merge")
def main(cfg: DictConfig) -> None:
    out = merge(cfg.dir, cfg.name, cfg.out, bool(cfg.overwrite))
    print(f"merge: wrote {out}/data_3d_{cfg.name}.npz and its 2D and camera files")


if __name__ == "__main__":
    sys.exit(main())
