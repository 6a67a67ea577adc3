"""Writes that never leave a partial file: write to a temporary name, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np


_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path, suffix: str = ""):
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    On an exception the temporary file is removed and ``path`` is left untouched.
    ``suffix`` keeps an extension for writers that insist on one (``np.savez`` adds
    ``.npz`` to a name that lacks it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file normal permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_bytes(path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def savez(path, compressed: bool = True, **arrays) -> None:
    """What ``np.savez[_compressed]`` writes (``np.load`` reads it the same way; object
    arrays allowed), atomically and byte-for-byte reproducible: numpy stamps each member
    with the current time, so the same arrays written twice would differ; here every
    member carries a fixed date."""
    method = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with atomic_path(path, suffix=".npz") as tmp:
        with zipfile.ZipFile(tmp, "w", compression=method, allowZip64=True) as zf:
            for name, value in arrays.items():
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = method
                with zf.open(info, "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, np.asanyarray(value), allow_pickle=True)


# -- output folders ----------------------------------------------------------------------
# The one rule: a run owns its output folder. A folder that holds anything (but the
# entries a caller keeps, e.g. a merge's input shards) is refused unless overwrite=true;
# the run writes everything into a temporary folder beside it and, on success, swaps it
# in as a whole, so a failed run leaves the old folder untouched and no stale file of an
# earlier run survives a new one. The shipped data/ folder is never an output.

SHIPPED_DATA = Path(__file__).resolve().parents[1] / "data"


def _owned(out: Path, keep) -> list[Path]:
    return sorted(p for p in out.iterdir() if not any(p.match(k) for k in keep))


def check_out_dir(out, overwrite: bool = False, keep=(), what: str = "out") -> Path:
    """Validate an output folder BEFORE the work (raises :class:`InputError`): not a file,
    not inside the shipped ``data/``, creatable and writable, and empty (but ``keep``
    globs) unless ``overwrite``. Creates nothing."""
    from .errors import InputError

    out = Path(out)
    absolute = Path(os.path.abspath(out))
    real = Path(os.path.realpath(out))
    for p in (absolute, real):
        if p == SHIPPED_DATA or SHIPPED_DATA in p.parents:
            raise InputError(out, f"{what}: the shipped data/ folder holds the toolkit's own "
                                  f"files; write outputs elsewhere (e.g. out/...)")
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise InputError(out, f"{what}: exists and is not a folder")
        owned = _owned(out, keep)
        if owned and not overwrite:
            raise InputError(out, f"{what}: folder is not empty ({len(owned)} entr{'y' if len(owned) == 1 else 'ies'}, e.g. "
                                  f"{owned[0].name}); pass overwrite=true to replace it as a "
                                  f"whole, or choose another {what}")
        parent = real.parent
    else:
        parent = absolute.parent
        while not parent.exists():
            parent = parent.parent
        if not parent.is_dir():
            raise InputError(out, f"{what}: cannot write the output folder: {parent} is a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(out, f"{what}: cannot write the output folder (no write permission "
                              f"in {parent})")
    return out


@contextlib.contextmanager
def atomic_dir(out, overwrite: bool = False, keep=(), what: str = "out"):
    """Yield a temporary folder beside ``out``; on success it replaces ``out`` as a whole.

    ``out`` is checked first (:func:`check_out_dir`); call that one before long work too.
    Entries of an existing ``out`` matching a ``keep`` glob (e.g. ``"shard-*of*"``) are
    moved into the new folder before the swap; everything else of the old folder goes.
    On an exception the temporary folder is removed and ``out`` is left untouched.
    """
    import shutil

    from .errors import InputError

    out = check_out_dir(out, overwrite, keep, what)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as e:
        raise InputError(out, f"{what}: cannot write the output folder: "
                              f"{e.strerror or e}") from None
    os.chmod(tmp, 0o777 & ~_UMASK)
    try:
        yield tmp
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            prev = old / out.name
            os.replace(out, prev)
            kept = [p.name for p in prev.iterdir() if any(p.match(k) for k in keep)]
            try:
                for name in kept:
                    os.replace(prev / name, tmp / name)
                os.replace(tmp, out)
            except BaseException:  # put the old folder back as it was
                for name in kept:
                    if (tmp / name).exists():
                        os.replace(tmp / name, prev / name)
                os.replace(prev, out)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
