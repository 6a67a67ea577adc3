"""BVH motion files: parse, forward kinematics, write.

A :class:`Bvh` keeps a file exactly as it is: joint names in file order, offsets and motion
in file units and file axes (converting to metres and the Z-up world is
:func:`hpd3d.rig.to_h36m`'s job). End Sites are joints too (``is_end`` True, no channels),
named ``f"{parent}_End"`` — or ``f"{parent}_End2"``, ``_End3`` … when that name is taken.

Conventions (the ones BVH leaves open, fixed here):

- **Rotation channels** are intrinsic Euler angles in degrees, composed in the order the
  file lists them: ``Zrotation Yrotation Xrotation`` means ``R = Rz · Ry · Rx`` — exactly
  ``Rotation.from_euler("ZYX", [z, y, x], degrees=True)``. Any order, and fewer than three
  rotation channels, are allowed; a joint without rotation channels has identity rotation.
- **Position channels replace the offset**: a joint's translation relative to its parent
  is its OFFSET, except for the components that have a position channel, which take the
  channel value instead. For the root this is the usual "position channels are the root
  position"; for a non-root joint with position channels (files that animate every joint
  with 6 channels) the channels are the joint's translation in its parent's frame. This
  matches Blender's importer, which keys ``channel − offset`` on top of the rest offset.
- **Forward kinematics**: ``R_global[j] = R_global[parent] · R_local[j]`` and
  ``p[j] = p[parent] + R_global[parent] · t_local[j]``.

Parsing reads the MOTION block with one ``np.loadtxt`` call (its C reader also checks
that every line has the same number of values); the hierarchy, a few hundred lines, is
tokenised in Python. :func:`parse_bvh` is a thin front over two readers:
``_read_hierarchy`` (tokeniser and joint tree) and ``_read_motion_section`` (``Frames``,
``Frame Time`` and the values). Forward kinematics is :mod:`hpd3d.fk` (vectorised over frames);
``local_rotations`` builds the same rotations independently with scipy's ``from_euler``.

Bad input raises :class:`hpd3d.errors.InputError` naming the file and the problem.
"""

from __future__ import annotations

import io
import math
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from hpd3d import atomic
from hpd3d.errors import InputError
from hpd3d.fk import topological_order

__all__ = ["Bvh", "parse_bvh", "load_bvh", "dumps_bvh", "save_bvh", "from_local", "CHANNEL_NAMES"]

# Canonical channel names; the parser accepts any capitalisation.
CHANNEL_NAMES = ("Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation")
_CHANNEL_LOOKUP = {c.lower(): c for c in CHANNEL_NAMES}
_AXIS = {"X": 0, "Y": 1, "Z": 2}




@dataclass
class Bvh:
    """One BVH file: hierarchy plus motion, in file units and file axes.

    ``motion[:, c]`` is channel ``c`` in file order: joint 0's channels, then joint 1's …
    (End Sites have none). ``fps`` is ``1 / frame_time``, snapped to the nearest integer
    when within 0.01 % of it (files store 1/120 s as ``0.0083333``).
    """

    names: list[str]
    parents: np.ndarray
    offsets: np.ndarray
    channels: list[tuple[str, ...]]
    motion: np.ndarray
    frame_time: float
    is_end: np.ndarray
    path: str | None = None

    def __post_init__(self):
        self.names = list(self.names)
        self.parents = np.asarray(self.parents, dtype=np.int64).reshape(-1)
        self.offsets = np.asarray(self.offsets, dtype=np.float64).reshape(-1, 3)
        self.channels = [tuple(c) for c in self.channels]
        self.motion = np.asarray(self.motion, dtype=np.float64)
        if self.motion.ndim == 1:
            self.motion = self.motion.reshape(-1, sum(len(c) for c in self.channels))
        self.is_end = np.asarray(self.is_end, dtype=bool).reshape(-1)
        self.frame_time = float(self.frame_time)
        J = len(self.names)
        if not (len(self.parents) == len(self.offsets) == len(self.channels) == len(self.is_end) == J):
            raise ValueError("names, parents, offsets, channels and is_end must have one entry per joint")
        C = sum(len(c) for c in self.channels)
        if self.motion.ndim != 2 or self.motion.shape[1] != C:
            raise ValueError(f"motion must be (T, {C}) for these channels, got {self.motion.shape}")

    # ------------------------------------------------------------------ basics
    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])

    @property
    def num_joints(self) -> int:
        return len(self.names)

    @property
    def fps(self) -> float:
        fps = 1.0 / self.frame_time
        r = round(fps)
        return float(r) if r > 0 and abs(fps - r) <= 1e-4 * fps else fps

    def index(self, name: str) -> int:
        return self.names.index(name)

    def channel_offsets(self) -> np.ndarray:
        """(J + 1,) start column of each joint's channels in ``motion`` (last = C)."""
        return np.concatenate([[0], np.cumsum([len(c) for c in self.channels])]).astype(np.int64)

    def children(self) -> list[list[int]]:
        kids: list[list[int]] = [[] for _ in self.names]
        for j, p in enumerate(self.parents):
            if p >= 0:
                kids[p].append(j)
        return kids

    def _layout(self):
        """Per joint: [(column, axis)] of rotation channels, {axis: column} of positions."""
        start = self.channel_offsets()
        rot, pos = [], []
        for j, chans in enumerate(self.channels):
            r, p = [], {}
            for k, ch in enumerate(chans):
                axis = _AXIS[ch[0].upper()]
                if ch.lower().endswith("rotation"):
                    r.append((int(start[j] + k), axis))
                else:
                    p[axis] = int(start[j] + k)
            rot.append(r)
            pos.append(p)
        return rot, pos

    # ------------------------------------------------------------- kinematics
    def local_rotations(self) -> Rotation:
        """Local joint rotations as one flat ``Rotation`` of length ``T * J``.

        Frame-major: element ``t * J + j`` is joint ``j`` at frame ``t`` (``.as_quat()
        .reshape(T, J, 4)`` gives the array). Built with scipy's ``from_euler`` (intrinsic,
        the file's channel order); identity where a joint has no rotation channels.
        """
        T, J = self.num_frames, self.num_joints
        quat = np.zeros((T, J, 4))
        quat[..., 3] = 1.0
        rot, _ = self._layout()
        for j, r in enumerate(rot):
            if r:
                cols = [c for c, _ in r]
                seq = "".join("XYZ"[a] for _, a in r)
                quat[:, j] = Rotation.from_euler(seq, self.motion[:, cols], degrees=True).as_quat()
        return Rotation.from_quat(quat.reshape(-1, 4))

    def local_translations(self) -> np.ndarray:
        """(T, J, 3) translation of each joint relative to its parent, file units.

        The OFFSET, with every component that has a position channel replaced by the
        channel value (see the module docstring).
        """
        out = np.broadcast_to(self.offsets, (self.num_frames, self.num_joints, 3)).copy()
        _, pos = self._layout()
        for j, p in enumerate(pos):
            for axis, col in p.items():
                out[:, j, axis] = self.motion[:, col]
        return out

    def fk(self) -> np.ndarray:
        """(T, J, 3) global joint positions (End Sites included), file units and axes."""
        return self._fk(want_rot=False)[0]

    def fk_transforms(self) -> tuple[np.ndarray, np.ndarray]:
        """Global rotation matrices (T, J, 3, 3) and positions (T, J, 3)."""
        pos, rot = self._fk(want_rot=True)
        return rot, pos

    def _fk(self, want_rot: bool):
        from hpd3d.fk import forward_kinematics

        return forward_kinematics(self, want_rot)

    def rest_positions(self) -> np.ndarray:
        """(J, 3) joint positions with all rotations zero and the root at its OFFSET."""
        order = topological_order(self.parents)
        out = np.zeros((self.num_joints, 3))
        for j in order:
            p = self.parents[j]
            out[j] = self.offsets[j] + (out[p] if p >= 0 else 0.0)
        return out



def _dfs_order(parents: np.ndarray) -> list[int]:
    """Joints in depth-first pre-order, children in index order (the order a file lists them)."""
    kids: dict[int, list[int]] = {}
    for j, p in enumerate(parents):
        kids.setdefault(int(p), []).append(j)
    out: list[int] = []
    stack = list(reversed(kids.get(-1, [])))
    while stack:
        j = stack.pop()
        out.append(j)
        stack.extend(reversed(kids.get(j, [])))
    if len(out) != len(parents):
        raise ValueError("parents do not form a forest")
    return out


# ---------------------------------------------------------------------- parsing
_TOKEN = re.compile(r"\{|\}|[^\s{}]+")
_MOTION = re.compile(r"^[ \t]*MOTION\b[^\n]*(\n|$)", re.MULTILINE | re.IGNORECASE)
_FRAMES = re.compile(r"\s*Frames\s*:[ \t]*(\S+)[ \t]*\n", re.IGNORECASE)
_FRAME_TIME = re.compile(r"\s*Frame\s+Time\s*:[ \t]*(\S+)[ \t]*(?:\n|$)", re.IGNORECASE)


def _float(tok: str, where) -> float:
    try:
        return float(tok)
    except ValueError:
        raise where(f"expected a number, found {tok!r}") from None


def _read_hierarchy(header: str, fail, has_motion: bool) -> tuple[list, list, list, list, list]:
    """Tokenise the HIERARCHY text (everything before ``MOTION``) and read its joint tree.

    → ``(names, parents, offsets, channels, is_end)`` in file order, End Sites named ``""``
    (:func:`_name_end_sites` names them). ``fail(problem)`` makes the error; ``has_motion``
    only words the message of a hierarchy left open."""
    names: list[str] = []
    parents: list[int] = []
    offsets: list[tuple[float, float, float] | None] = []
    channels: list[tuple[str, ...] | None] = []
    is_end: list[bool] = []
    stack: list[int] = []
    pending: int | None = None
    lineno = 0
    for lineno, line in enumerate(header.splitlines(), 1):
        toks = _TOKEN.findall(line)
        i = 0

        def at(problem: str, _l=lineno):
            return fail(f"line {_l}: {problem}")

        while i < len(toks):
            tok = toks[i]
            up = tok.upper()
            if up == "HIERARCHY":
                i += 1
            elif up in ("ROOT", "JOINT"):
                rest = []
                i += 1
                while i < len(toks) and toks[i] not in "{}":
                    rest.append(toks[i])
                    i += 1
                if not rest:
                    raise at(f"{tok} without a name")
                if pending is not None:
                    raise at(f"{tok} {' '.join(rest)} before the '{{' of the previous joint")
                if up == "ROOT" and stack:
                    raise at(f"ROOT {' '.join(rest)} inside joint {names[stack[-1]]!r} (unbalanced braces?)")
                if up == "JOINT" and not stack:
                    raise at(f"JOINT {' '.join(rest)} outside any ROOT (unbalanced braces?)")
                if stack and is_end[stack[-1]]:
                    raise at("a joint inside an End Site")
                names.append(" ".join(rest))
                parents.append(stack[-1] if stack else -1)
                offsets.append(None)
                channels.append(None)
                is_end.append(False)
                pending = len(names) - 1
            elif up == "END":
                if i + 1 >= len(toks) or toks[i + 1].upper() != "SITE":
                    raise at("expected 'End Site'")
                i += 2
                while i < len(toks) and toks[i] not in "{}":  # some writers name End Sites
                    i += 1
                if not stack or pending is not None:
                    raise at("End Site outside a joint")
                if is_end[stack[-1]]:
                    raise at("End Site inside an End Site")
                names.append("")
                parents.append(stack[-1])
                offsets.append(None)
                channels.append(())
                is_end.append(True)
                pending = len(names) - 1
            elif tok == "{":
                if pending is None:
                    raise at("'{' without a ROOT, JOINT or End Site before it")
                stack.append(pending)
                pending = None
                i += 1
            elif tok == "}":
                if not stack:
                    raise at("unbalanced braces: '}' without a matching '{'")
                j = stack.pop()
                if offsets[j] is None:
                    what = f"End Site of {names[parents[j]]!r}" if is_end[j] else repr(names[j])
                    raise at(f"{what} has no OFFSET")
                if channels[j] is None:
                    channels[j] = ()
                i += 1
            elif up == "OFFSET":
                if not stack or pending is not None:
                    raise at("OFFSET outside a joint")
                vals = toks[i + 1: i + 4]
                if len(vals) != 3 or any(v in "{}" for v in vals):
                    raise at(f"OFFSET needs 3 numbers, found {len(vals)}")
                off = tuple(_float(v, at) for v in vals)
                if not all(math.isfinite(v) for v in off):
                    raise at(f"non-finite OFFSET {' '.join(vals)}")
                offsets[stack[-1]] = off
                i += 4
            elif up == "CHANNELS":
                if not stack or pending is not None or is_end[stack[-1]]:
                    raise at("CHANNELS outside a joint")
                j = stack[-1]
                if channels[j] is not None:
                    raise at(f"second CHANNELS line for joint {names[j]!r}")
                if i + 1 >= len(toks):
                    raise at("CHANNELS without a count")
                try:
                    n = int(toks[i + 1])
                except ValueError:
                    raise at(f"CHANNELS count {toks[i + 1]!r} is not an integer") from None
                got = toks[i + 2: i + 2 + n]
                if len(got) != n or any(g in "{}" for g in got):
                    raise at(f"CHANNELS {n} lists {len([g for g in got if g not in '{}'])} channel names")
                chans = []
                for g in got:
                    c = _CHANNEL_LOOKUP.get(g.lower())
                    if c is None:
                        raise at(f"unknown channel name {g!r} for joint {names[j]!r} "
                                 f"(expected one of {', '.join(CHANNEL_NAMES)})")
                    if c in chans:
                        raise at(f"channel {c} listed twice for joint {names[j]!r}")
                    chans.append(c)
                channels[j] = tuple(chans)
                i += 2 + n
            else:
                raise at(f"unexpected {tok!r} in HIERARCHY")
    if stack or pending is not None:
        open_j = names[stack[-1]] if stack else names[pending]
        if not has_motion:
            raise fail(f"truncated file: no MOTION section (hierarchy ends inside {open_j!r})")
        raise fail(f"unbalanced braces: {len(stack)} '{{' not closed before MOTION (inside {open_j!r})")
    if not names:
        raise fail("no ROOT in HIERARCHY")
    if not has_motion:
        raise fail("truncated file: no MOTION section")
    return names, parents, offsets, channels, is_end


def _name_end_sites(names: list, parents: list, is_end: list) -> None:
    """End Site names, in place: parent + ``"_End"``, made unique against every other name."""
    taken = {n for n, e in zip(names, is_end) if not e}
    for j, e in enumerate(is_end):
        if e:
            base = f"{names[parents[j]]}_End"
            name, k = base, 1
            while name in taken:
                k += 1
                name = f"{base}{k}"
            names[j] = name
            taken.add(name)


def _read_motion_section(text: str, m: re.Match, names: list, channels: list,
                         fail) -> tuple[np.ndarray, float]:
    """The MOTION block after the match ``m`` of its keyword: ``Frames:``, ``Frame Time:`` and
    the (frames, channels) values, checked against the hierarchy's channels.
    → ``(motion, frame_time)``."""
    num_channels = sum(len(c) for c in channels)
    body = text[m.end():]
    fm = _FRAMES.match(body)
    if fm is None:
        if not body.strip():
            raise fail("truncated file: MOTION section has no 'Frames:' line")
        raise fail(f"expected 'Frames: N' after MOTION, found {body.strip().splitlines()[0][:60]!r}")
    try:
        num_frames = int(fm.group(1))
    except ValueError:
        raise fail(f"'Frames:' value {fm.group(1)!r} is not an integer") from None
    if num_frames < 0:
        raise fail(f"negative frame count {num_frames}")
    tm = _FRAME_TIME.match(body, fm.end())
    if tm is None:
        raise fail("missing 'Frame Time:' line after 'Frames:'")
    try:
        frame_time = float(tm.group(1))
    except ValueError:
        raise fail(f"'Frame Time:' value {tm.group(1)!r} is not a number") from None
    if not (math.isfinite(frame_time) and frame_time > 0):
        raise fail(f"'Frame Time:' must be positive, got {tm.group(1)}")
    data = body[tm.end():]
    first_data_line = text.count("\n", 0, m.end()) + body.count("\n", 0, tm.end()) + 1

    motion = _read_motion(data, num_channels, fail, first_data_line)
    if motion.shape[0] != num_frames:
        truncated = " (truncated file?)" if motion.shape[0] < num_frames else ""
        raise fail(f"'Frames: {num_frames}' but the MOTION section has {motion.shape[0]} lines{truncated}")
    if not np.isfinite(motion).all():
        t, c = np.argwhere(~np.isfinite(motion))[0]
        j = int(np.searchsorted(np.cumsum([len(ch) for ch in channels]), c, side="right"))
        ch = channels[j][c - sum(len(x) for x in channels[:j])]
        raise fail(f"non-finite value {motion[t, c]!r} in frame {t} ({names[j]} {ch}, "
                   f"line {_data_line_numbers(data, first_data_line)[t]})")
    return motion, frame_time


def parse_bvh(text: str, path=None) -> Bvh:
    """Parse BVH text; ``path`` only names the source in errors and on the result.

    The front of the parser: text clean-up (BOM, line ends) and the first checks, then
    :func:`_read_hierarchy` (tokeniser and joint tree), :func:`_name_end_sites` and
    :func:`_read_motion_section` (``Frames``, ``Frame Time`` and the values)."""
    src = os.fspath(path) if path is not None else "<bvh text>"

    def fail(problem: str):
        return InputError(src, problem)

    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:  # CRLF and old-Mac line ends
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    m = _MOTION.search(text)
    if not text.strip():
        raise fail("empty file")
    first = text.split(None, 1)[0]
    if first.upper() != "HIERARCHY":
        raise fail(f"not a BVH file: expected HIERARCHY, found {first[:40]!r}")
    header = text[: m.start()] if m else text

    names, parents, offsets, channels, is_end = _read_hierarchy(header, fail, m is not None)
    _name_end_sites(names, parents, is_end)
    motion, frame_time = _read_motion_section(text, m, names, channels, fail)
    return Bvh(
        names=names,
        parents=np.asarray(parents, dtype=np.int64),
        offsets=np.asarray(offsets, dtype=np.float64).reshape(-1, 3),
        channels=[tuple(c) for c in channels],
        motion=motion,
        frame_time=frame_time,
        is_end=np.asarray(is_end, dtype=bool),
        path=None if path is None else os.fspath(path),
    )


def _data_line_numbers(data: str, first_line: int) -> list[int]:
    """File line number of each non-blank line of the motion data (error path only)."""
    return [first_line + i for i, ln in enumerate(data.splitlines()) if ln.strip()]


def _read_motion(data: str, num_channels: int, fail, first_line: int) -> np.ndarray:
    if num_channels == 0:
        return np.zeros((len(_data_line_numbers(data, first_line)), 0))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # loadtxt warns on empty input
            arr = np.loadtxt(io.StringIO(data), dtype=np.float64, ndmin=2, comments=None)
    except ValueError:
        arr = None
    if arr is not None and (arr.shape[0] == 0 or arr.shape[1] == num_channels):
        return arr.reshape(-1, num_channels)
    # Error path: find the first offending line (a per-line loop is fine here).
    lines = data.splitlines()
    nonblank = [i for i, ln in enumerate(lines) if ln.strip()]
    for k, i in enumerate(nonblank):
        toks = lines[i].split()
        if len(toks) != num_channels:
            last = " (truncated file?)" if k == len(nonblank) - 1 and len(toks) < num_channels else ""
            raise fail(f"line {first_line + i}: {len(toks)} values, but the hierarchy declares "
                       f"{num_channels} channels{last}")
        for tok in toks:
            try:
                float(tok)
            except ValueError:
                raise fail(f"line {first_line + i}: {tok[:40]!r} is not a number") from None
    raise fail("unreadable MOTION data")


def load_bvh(path) -> Bvh:
    """Read and parse a BVH file (UTF-8, falling back to Latin-1; any line ends)."""
    p = Path(path)
    if not p.exists():
        raise InputError(p, "file not found")
    if p.is_dir():
        raise InputError(p, "is a directory, not a BVH file")
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise InputError(p, f"cannot read: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return parse_bvh(text, path=p)


# ---------------------------------------------------------------------- writing
def _formatter(precision: int | None):
    if precision is None:
        return repr
    if precision < 1:
        raise ValueError("precision must be >= 1 significant digit (or None for exact repr)")
    fmt = f"%.{int(precision)}g"
    return lambda v: fmt % v


def dumps_bvh(bvh: Bvh, precision: int | None = 9) -> str:
    """BVH text for ``bvh``.

    Numbers are written with ``precision`` significant digits (``%.9g``: exact for any file
    whose values have at most 9 digits, which covers mocap files); ``precision=None``
    writes Python's shortest round-tripping ``repr`` so any float64 survives exactly.
    Joints are written depth-first (children in index order), the order a parser returns
    them; motion columns follow that order. End Sites are written as ``End Site``.
    """
    f = _formatter(precision)
    kids = bvh.children()
    for j in range(bvh.num_joints):
        if bvh.is_end[j] and (kids[j] or bvh.channels[j]):
            raise ValueError(f"End Site {bvh.names[j]!r} cannot have children or channels")
        if bvh.is_end[j] and bvh.parents[j] < 0:
            raise ValueError(f"End Site {bvh.names[j]!r} has no parent")
    order = _dfs_order(bvh.parents)
    lines = ["HIERARCHY"]

    def emit(j: int, depth: int):
        ind = "\t" * depth
        if bvh.is_end[j]:
            lines.append(f"{ind}End Site")
        else:
            lines.append(f"{ind}{'ROOT' if bvh.parents[j] < 0 else 'JOINT'} {bvh.names[j]}")
        lines.append(f"{ind}{{")
        lines.append(f"{ind}\tOFFSET " + " ".join(f(float(v)) for v in bvh.offsets[j]))
        if not bvh.is_end[j]:
            lines.append(f"{ind}\tCHANNELS {len(bvh.channels[j])}" +
                         "".join(" " + c for c in bvh.channels[j]))
        for k in kids[j]:
            emit(k, depth + 1)
        lines.append(f"{ind}}}")

    for r in (j for j in range(bvh.num_joints) if bvh.parents[j] < 0):
        emit(r, 0)
    lines += ["MOTION", f"Frames: {bvh.num_frames}", f"Frame Time: {bvh.frame_time!r}"]
    motion = bvh.motion
    if order != list(range(bvh.num_joints)):
        start = bvh.channel_offsets()
        cols = np.concatenate([np.arange(start[j], start[j + 1]) for j in order]).astype(np.int64)
        motion = motion[:, cols]
    if motion.shape[1]:
        if precision is None:
            lines += [" ".join(map(repr, row)) for row in motion.tolist()]
        else:
            fmt = " ".join([f"%.{int(precision)}g"] * motion.shape[1])
            lines += [fmt % tuple(row) for row in motion.tolist()]
    else:
        lines += [""] * motion.shape[0]
    return "\n".join(lines) + "\n"


def save_bvh(path, bvh: Bvh, precision: int | None = 9) -> None:
    """Write ``bvh`` to ``path`` atomically (no partial file on failure)."""
    atomic.write_text(path, dumps_bvh(bvh, precision=precision))


# ------------------------------------------------------------- from rotations
def from_local(names, parents, offsets, rotations, root_positions, frame_time,
               euler_order: str = "ZXY", *, is_end=None) -> Bvh:
    """Build a :class:`Bvh` from local joint rotations (the procedural generator's path).

    ``rotations``: a ``Rotation`` of length ``T * J`` (frame-major, as
    :meth:`Bvh.local_rotations` returns), or an array (T, J, 4) of scipy quaternions
    (x, y, z, w — scalar last), or (T, J, 3, 3) matrices. ``root_positions`` (T, 3) go to the
    root's position channels (they replace its offset). Every joint gets three rotation
    channels in ``euler_order`` (intrinsic, e.g. ``"ZXY"`` → ``Zrotation Xrotation
    Yrotation``); joints flagged in ``is_end`` (optional, default none) become End Sites
    and their rotations are dropped. Offsets are in file units (whatever the caller uses).
    """
    names = list(names)
    parents = np.asarray(parents, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.float64).reshape(-1, 3)
    J = len(names)
    order = euler_order.upper()
    if sorted(order) != ["X", "Y", "Z"]:
        raise ValueError(f"euler_order must be a permutation of XYZ, got {euler_order!r}")
    roots = np.flatnonzero(parents < 0)
    if len(roots) != 1:
        raise ValueError(f"expected exactly one root, got {len(roots)}")
    root_positions = np.asarray(root_positions, dtype=np.float64).reshape(-1, 3)
    T = root_positions.shape[0]
    if isinstance(rotations, Rotation):
        rot = rotations
        if len(rot) != T * J:
            raise ValueError(f"expected {T * J} rotations (T={T} x J={J}), got {len(rot)}")
    else:
        arr = np.asarray(rotations, dtype=np.float64)
        if arr.shape == (T, J, 4):
            rot = Rotation.from_quat(arr.reshape(-1, 4))
        elif arr.shape == (T, J, 3, 3):
            rot = Rotation.from_matrix(arr.reshape(-1, 3, 3))
        else:
            raise ValueError(f"rotations must be (T, J, 4) quaternions or (T, J, 3, 3), got {arr.shape}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gimbal lock: angles are still exact for the rotation
        euler = rot.as_euler(order, degrees=True).reshape(T, J, 3)
    is_end = np.zeros(J, bool) if is_end is None else np.asarray(is_end, dtype=bool)
    rot_names = tuple(f"{a}rotation" for a in order)
    channels, cols = [], []
    r = int(roots[0])
    for j in range(J):
        if is_end[j]:
            channels.append(())
            continue
        if j == r:
            channels.append(("Xposition", "Yposition", "Zposition") + rot_names)
            cols += [root_positions, euler[:, j]]
        else:
            channels.append(rot_names)
            cols.append(euler[:, j])
    motion = np.concatenate(cols, axis=1) if cols else np.zeros((T, 0))
    return Bvh(names=names, parents=parents, offsets=offsets, channels=channels, motion=motion,
               frame_time=float(frame_time), is_end=is_end)
