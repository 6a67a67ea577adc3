"""Small helpers shared by the stages' CLIs: typed config sections and shard specs."""

from __future__ import annotations

import dataclasses

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
