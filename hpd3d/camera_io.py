"""Camera files: ``camera_intrinsics.txt`` and ``camera_extrinsics.txt`` in one folder.

Plain text, one camera per line, whitespace-separated, ``#`` lines are comments (the first
names the columns); floats are written with ``repr`` so a round trip is exact.

- ``camera_intrinsics.txt``: ``name model width height fx fy cx cy`` then the distortion
  coefficients: pinhole ``k1 k2 k3 p1 p2`` (OpenCV semantics), fisheye ``k1 k2 k3 k4``
  (``cv2.fisheye``).
- ``camera_extrinsics.txt``: ``name`` then ``R`` (world→camera, OpenCV frame, row-major, 9
  numbers) then the camera centre in world metres (Z up).

Both files list the same camera names (order may differ; the intrinsics file sets it).
Readers raise :class:`~hpd3d.errors.InputError` naming the file and the problem.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hpd3d.atomic import write_text
from hpd3d.camera import DIST_NAMES, MODELS, Camera
from hpd3d.errors import InputError, reason

INTRINSICS_FILE = "camera_intrinsics.txt"
EXTRINSICS_FILE = "camera_extrinsics.txt"
_INTR_COLS = ("name", "model", "width", "height", "fx", "fy", "cx", "cy")
_EXTR_COLS = (
    "name",
    *(f"r{i}{j}" for i in (1, 2, 3) for j in (1, 2, 3)),
    "centre_x",
    "centre_y",
    "centre_z",
)
INTRINSICS_HEADER = (
    "# "
    + " ".join(_INTR_COLS)
    + " | pinhole: "
    + " ".join(DIST_NAMES["pinhole"])
    + " | fisheye: "
    + " ".join(DIST_NAMES["fisheye"])
    + "  (pixels; OpenCV distortion semantics)"
)
EXTRINSICS_HEADER = (
    "# " + " ".join(_EXTR_COLS) + "  (R world->camera, OpenCV frame x right y down z forward, "
    "row-major; centre in metres, world Z up)"
)


def _num(x: float) -> str:
    return repr(float(x))


def write_camera_files(directory, cameras: Sequence[Camera]) -> tuple[Path, Path]:
    """Write both files into ``directory`` (each atomically); returns their paths.

    Names must be unique, non-empty and free of whitespace.
    """
    directory = Path(directory)
    names = [c.name for c in cameras]
    for n in names:
        if not n or any(ch.isspace() for ch in n) or n.startswith("#"):
            raise ValueError(
                f"camera name {n!r} must be non-empty, without whitespace, not starting with '#'"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"camera names are not unique: {names}")
    intr = [INTRINSICS_HEADER]
    extr = [EXTRINSICS_HEADER]
    for c in cameras:
        vals = [c.fx, c.fy, c.cx, c.cy, *c.dist]
        intr.append(" ".join([c.name, c.model, str(c.width), str(c.height), *map(_num, vals)]))
        extr.append(" ".join([c.name, *map(_num, c.R.ravel()), *map(_num, c.C)]))
    pi, pe = directory / INTRINSICS_FILE, directory / EXTRINSICS_FILE
    write_text(pi, "\n".join(intr) + "\n")
    write_text(pe, "\n".join(extr) + "\n")
    return pi, pe


def _rows(path: Path):
    """Yield ``(line_number, fields)`` of the non-comment, non-blank lines."""
    if not path.is_file():
        raise InputError(path, "missing file")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(path, f"cannot read: {reason(e)}") from None
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s and not s.startswith("#"):
            yield i, s.split()


def _float(path, lineno, col, s) -> float:
    try:
        v = float(s)
    except ValueError:
        raise InputError(path, f"line {lineno}: {col} is not a number: {s!r}") from None
    if not math.isfinite(v):
        raise InputError(path, f"line {lineno}: {col} is not finite: {s!r}")
    return v


def _read_intrinsics(path: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for ln, f in _rows(path):
        if len(f) < 2:
            raise InputError(
                path, f"line {ln}: expected at least name and model, got {len(f)} column(s)"
            )
        name, model = f[0], f[1]
        if model not in MODELS:
            raise InputError(
                path,
                f"line {ln}: unknown camera model {model!r} (expected one of {', '.join(MODELS)})",
            )
        cols = _INTR_COLS + DIST_NAMES[model]
        if len(f) != len(cols):
            raise InputError(
                path,
                f"line {ln}: a {model} camera needs {len(cols)} columns ({' '.join(cols)}), "
                f"got {len(f)}",
            )
        if name in out:
            raise InputError(path, f"line {ln}: duplicate camera name {name!r}")
        v = {c: _float(path, ln, c, s) for c, s in zip(cols[2:], f[2:], strict=True)}
        for c in ("width", "height"):
            if v[c] <= 0 or v[c] != int(v[c]):
                raise InputError(
                    path, f"line {ln}: {c} must be a positive integer, got {f[cols.index(c)]!r}"
                )
        for c in ("fx", "fy"):
            if v[c] <= 0:
                raise InputError(
                    path, f"line {ln}: focal length {c} must be positive, got {v[c]!r}"
                )
        out[name] = dict(
            model=model,
            width=int(v["width"]),
            height=int(v["height"]),
            fx=v["fx"],
            fy=v["fy"],
            cx=v["cx"],
            cy=v["cy"],
            dist=np.array([v[c] for c in DIST_NAMES[model]]),
        )
    if not out:
        raise InputError(path, "no cameras in file")
    return out


def _read_extrinsics(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for ln, f in _rows(path):
        if len(f) != len(_EXTR_COLS):
            raise InputError(
                path,
                f"line {ln}: expected {len(_EXTR_COLS)} columns ({' '.join(_EXTR_COLS)}), "
                f"got {len(f)}",
            )
        name = f[0]
        if name in out:
            raise InputError(path, f"line {ln}: duplicate camera name {name!r}")
        v = np.array([_float(path, ln, c, s) for c, s in zip(_EXTR_COLS[1:], f[1:], strict=True)])
        R = v[:9].reshape(3, 3)
        if not np.allclose(R @ R.T, np.eye(3), atol=1e-6) or np.linalg.det(R) <= 0:
            raise InputError(path, f"line {ln}: R of camera {name!r} is not a rotation matrix")
        out[name] = (R, v[9:])
    if not out:
        raise InputError(path, "no cameras in file")
    return out


def read_camera_files(directory) -> list[Camera]:
    """Read both files from ``directory`` → cameras in the intrinsics file's order."""
    directory = Path(directory)
    pi, pe = directory / INTRINSICS_FILE, directory / EXTRINSICS_FILE
    intr = _read_intrinsics(pi)
    extr = _read_extrinsics(pe)
    if set(intr) != set(extr):
        missing = sorted(set(intr) - set(extr))
        extra = sorted(set(extr) - set(intr))
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"unknown {', '.join(extra)}"] if extra else []
        )
        raise InputError(pe, f"camera names do not match {INTRINSICS_FILE}: {'; '.join(parts)}")
    cams = []
    for name, p in intr.items():
        R, C = extr[name]
        cams.append(
            Camera(
                p["width"],
                p["height"],
                p["fx"],
                p["fy"],
                p["cx"],
                p["cy"],
                R=R,
                C=C,
                dist=p["dist"],
                model=p["model"],
                name=name,
            )
        )
    return cams
