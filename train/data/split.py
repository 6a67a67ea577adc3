"""Train/val splits that never put one motion on both sides.

A split decides per *group*, never per clip or camera: all cameras and all frames of a
group go to the same side. Groups:

- ``by: sequence`` — one (subject, action), with the augmentation suffix ``_aug<r>`` that
  ``synth.augment_h36m repeats=…`` appends removed, so every augmented copy of a motion
  lands with the original;
- ``by: subject`` — every sequence of a subject (``val_subjects`` lists them; without a
  list, ``val_fraction`` of the subjects by hash);
- ``by: none`` — everything trains (a source with ``use: val`` is validation only).

A group is in val when ``crc32(f"{seed}:{key}") / 2³² < val_fraction``: stable (a group's
side does not depend on what else is in the dataset) and reproducible across machines.
If that leaves val empty while ``val_fraction > 0`` and there are at least two groups,
the group with the smallest hash goes to val, so small datasets still validate.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import asdict, dataclass

from hpd3d.errors import InputError

_AUG_SUFFIX = re.compile(r"_aug\d+$")


@dataclass(frozen=True)
class SplitRule:
    by: str = "sequence"  # sequence | subject | none
    val_fraction: float = 0.1
    val_subjects: tuple = ()
    seed: int = 0

    @classmethod
    def from_dict(cls, d: dict, where: str = "split") -> "SplitRule":
        d = dict(d)
        unknown = set(d) - {"by", "val_fraction", "val_subjects", "seed"}
        if unknown:
            raise InputError(None, f"{where}: unknown key(s) {sorted(unknown)}")
        if d.get("val_subjects") is not None:
            d["val_subjects"] = tuple(str(s) for s in d["val_subjects"])
        rule = cls(**{k: v for k, v in d.items() if v is not None})
        if rule.by not in ("sequence", "subject", "none"):
            raise InputError(None, f"{where}.by: 'sequence', 'subject' or 'none', got {rule.by!r}")
        if not 0 <= rule.val_fraction <= 1:
            raise InputError(None, f"{where}.val_fraction: must lie in [0, 1]")
        return rule

    def to_dict(self) -> dict:
        d = asdict(self)
        d["val_subjects"] = list(self.val_subjects)
        return d


def group_key(subject: str, action: str, by: str) -> str:
    if by == "subject":
        return subject
    return f"{subject}/{_AUG_SUFFIX.sub('', action)}"


def _unit_hash(key: str, seed: int) -> float:
    return zlib.crc32(f"{seed}:{key}".encode()) / 2**32


def assign_splits(sequences: list[tuple[str, str]], rule: SplitRule, use: str = "both") -> dict:
    """``{(subject, action): 'train' | 'val'}`` for every sequence of one source."""
    if use in ("train", "val"):
        return {s: use for s in sequences}
    if rule.by == "none":
        return {s: "train" for s in sequences}
    keys = {s: group_key(*s, rule.by) for s in sequences}
    if rule.by == "subject" and rule.val_subjects:
        val = {k for k in keys.values() if k in rule.val_subjects}
    else:
        h = {k: _unit_hash(k, rule.seed) for k in set(keys.values())}
        val = {k for k, x in h.items() if x < rule.val_fraction}
        if not val and rule.val_fraction > 0 and len(h) >= 2:
            val = {min(h, key=h.get)}
    return {s: "val" if keys[s] in val else "train" for s in sequences}
