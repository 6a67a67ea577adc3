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

from omegaconf import DictConfig

from hpd3d.atomic import atomic_dir, check_out_dir
from hpd3d.config import find_shards, hydra_main
from hpd3d.dataset import Dataset, read_dataset
from hpd3d.errors import InputError


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


def merge(folder, name: str, out=None, overwrite: bool = False, mmpose: bool = False) -> Path:
    """Merge every shard below ``folder`` into ``out`` (default ``folder``, keeping the
    shard folders); ``out`` is the run's own (:func:`hpd3d.atomic.atomic_dir`). The bytes
    equal one run that made every sequence (:meth:`Dataset.write` orders them by name)."""
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
        merged.write(tmp, name, mmpose=mmpose)
    return out


@hydra_main("merge")
def main(cfg: DictConfig) -> None:
    if cfg.format not in ("videopose3d", "mmpose"):
        raise InputError(None, f"format={cfg.format!r}: 'videopose3d' or 'mmpose'")
    out = merge(cfg.dir, cfg.name, cfg.out, bool(cfg.overwrite), mmpose=cfg.format == "mmpose")
    print(f"merge: wrote {out}/data_3d_{cfg.name}.npz and its 2D and camera files")


if __name__ == "__main__":
    sys.exit(main())
