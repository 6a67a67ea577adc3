"""Small helpers shared by the stages' CLIs: typed config sections, shard specs and the
names and folders shards write (one definition for synth, blender and merge)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from hpd3d.errors import InputError


def from_section(cls, section: dict | None, where: str):
    """Build dataclass ``cls`` from a plain config dict; returns ``(obj, enabled)``.

    ``enabled`` (default True) is popped first; an unknown key is an :class:`InputError`
    naming the section, so a typo in an override never passes silently.
    """
    section = dict(section or {})
    enabled = bool(section.pop("enabled", True))
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(section) - names
    if unknown:
        raise InputError(None, f"{where}: unknown option(s) {sorted(unknown)}; "
                               f"known: {sorted(names)}")
    return cls(**section), enabled


def parse_shard(spec) -> tuple[int, int]:
    """``"i/n"`` → ``(i, n)`` with ``0 ≤ i < n``."""
    try:
        i, n = (int(x) for x in str(spec).split("/"))
    except ValueError:
        raise InputError(None, f"shard={spec!r}: expected i/n, e.g. 0/4") from None
    if not 0 <= i < n:
        raise InputError(None, f"shard={spec!r}: need 0 ≤ i < n")
    return i, n


def shard_name(name: str, shard: tuple[int, int]) -> str:
    """The dataset name shard ``(i, n)`` writes: ``<name>-<i>of<n>`` (``name`` when n = 1)."""
    i, n = shard
    return name if n == 1 else f"{name}-{i}of{n}"


def shard_dir(out, shard: tuple[int, int]) -> Path:
    """The folder shard ``(i, n)`` writes into: ``<out>/shard-<i>of<n>`` (``out`` when n = 1)."""
    i, n = shard
    return Path(out) if n == 1 else Path(out) / f"shard-{i}of{n}"


def find_shards(folder, name: str) -> list[tuple[Path, str]]:
    """``(folder, shard name)`` of every ``data_3d_<name>-<i>of<n>.npz`` below ``folder``,
    in shard order; an :class:`InputError` if none is there, one is missing or they come
    from different splits."""
    folder = Path(folder)
    pat = re.compile(rf"data_3d_{re.escape(name)}-(\d+)of(\d+)\.npz$")
    found = {}
    for p in sorted(folder.rglob("data_3d_*.npz")):
        m = pat.match(p.name)
        if m:
            key = (int(m.group(1)), int(m.group(2)))
            if key in found:
                raise InputError(p, f"shard {key[0]}/{key[1]} is also in {found[key].parent}")
            found[key] = p
    if not found:
        raise InputError(folder, f"no shards data_3d_{name}-<i>of<n>.npz found")
    counts = {n for _, n in found}
    if len(counts) != 1:
        raise InputError(folder, f"shards of different splits: n = {sorted(counts)}")
    (n,) = counts
    missing = [i for i in range(n) if (i, n) not in found]
    if missing:
        raise InputError(folder, f"shards missing: {missing} of {n}")
    return [(found[(i, n)].parent, shard_name(name, (i, n))) for i in range(n)]
