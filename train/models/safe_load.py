"""Reading checkpoint files as data, never as code.

Every checkpoint file (native, MMPose, official MotionBERT / VideoPose3D, mmengine's
``epoch_N.pth``) is read with ``torch.load(weights_only=True)``: PyTorch's restricted
unpickler, which builds tensors, plain containers and numbers only. The few other
objects these files really hold are inert data and are allowed by name
(:func:`safe_globals`):

- numpy arrays, scalars and dtypes (VideoPose3D's ``random_state``, numpy numbers in
  MotionBERT's / mmengine's metadata, MMPose's ``dataset_meta``) — under both numpy 1
  (``numpy.core``) and numpy 2 (``numpy._core``) names, whichever numpy wrote the file;
- mmengine's ``HistoryBuffer`` (its message hub's log statistics) and a restricted
  ``getattr`` that may only fetch a ``HistoryBuffer`` statistics method (its pickled state
  names them by reference) — only when mmengine is installed.

No function that does anything is allowed. A file that needs any other global (a class
of the author's code, or a payload such as ``os.system``) is refused with an
:class:`~hpd3d.errors.InputError` that names the global; ``trust_checkpoint=True`` —
the user's explicit word — reads it with full unpickling instead.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import torch

from hpd3d.errors import InputError

TRUST_HINT = "pass trust_checkpoint=true if you trust it"


def _history_buffer_getattr(obj, name: str):
    """What ``builtins.getattr`` may do while a checkpoint is unpickled: fetch a statistics
    method (``min``, ``max``, ``mean``, ``current`` …) of mmengine's ``HistoryBuffer``,
    which its pickled state stores by reference. Nothing else."""
    from mmengine.logging.history_buffer import HistoryBuffer

    allowed = {"min", "max", "mean", "current", *getattr(HistoryBuffer, "_statistics_methods", {})}
    if obj is HistoryBuffer and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(f"refusing getattr({obj!r}, {name!r}) in a checkpoint")


def safe_globals() -> list:
    """The inert non-tensor globals checkpoint files hold, for
    ``torch.serialization.safe_globals`` (entries ``obj`` or ``(obj, "module.name")``)."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2: numpy._core does not exist yet
        from numpy.core import multiarray
    out: list = [np.ndarray, np.dtype]
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        out += [(multiarray._reconstruct, f"{mod}._reconstruct"), (multiarray.scalar, f"{mod}.scalar")]
    dtypes = {type(np.dtype(t)) for t in ("f8", "f4", "f2", "i8", "i4", "i2", "i1", "u8", "u4",
                                          "u2", "u1", "b1", "U", "S", "c16", "c8")}
    out += [(d, f"numpy.dtypes.{d.__name__}") for d in dtypes if d is not np.dtype]
    try:
        from mmengine.logging.history_buffer import HistoryBuffer
    except ImportError:  # no mmengine: its message hubs cannot be read, nothing else changes
        pass
    else:
        out += [HistoryBuffer, (_history_buffer_getattr, "builtins.getattr")]
    return out


@contextlib.contextmanager
def allow_safe_globals():
    """Within: ``torch.load(weights_only=True)`` (also the default one mmengine calls) reads
    the files of :func:`safe_globals`."""
    with torch.serialization.safe_globals(safe_globals()):
        yield


def _problem(path: Path, e: BaseException) -> str:
    """A short reason a file is not a readable checkpoint (no PyTorch internals)."""
    with open(path, "rb") as f:
        head = f.read(2)
    if not zipfile.is_zipfile(path) and not head.startswith(b"\x80"):
        return "not a PyTorch checkpoint (neither a zip archive nor a pickle)"
    m = re.search(r"WeightsUnpickler error:\s*(\S.*)", str(e))
    lines = (m.group(1) if m else str(e)).strip().splitlines()
    why = lines[0] if lines else type(e).__name__
    why = why if len(why) <= 80 else why[:79] + "…"
    return f"not a PyTorch checkpoint (corrupt or truncated: {why})"


def _unsafe_global(path: Path, err: BaseException) -> str | None:
    """The first global that keeps ``path`` from loading with ``weights_only=True``, or
    ``None`` when no global is to blame (a corrupt file). Reads the pickle's opcodes only."""
    found = re.search(r"GLOBAL (\S+)", str(err))
    if found:
        return found.group(1)
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # noqa: BLE001 - not a zip checkpoint, or corrupt
        names = []
    allowed = {n if isinstance(n, str) else f"{n.__module__}.{n.__qualname__}" for n in
               (g[1] if isinstance(g, tuple) else g for g in safe_globals())}
    names = [n for n in names if n not in allowed]
    return names[0] if names else None


def load_file(path, *, trust_checkpoint: bool = False):
    """``torch.load`` a checkpoint file as data (module docstring); :class:`InputError`
    (one short line, naming the file) for a missing, corrupt or unsafe file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such checkpoint file")
    try:
        with allow_safe_globals():
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - corrupt, truncated, not torch, or unsafe
        err = e
    unsafe = _unsafe_global(path, err)
    if unsafe is None:
        raise InputError(path, _problem(path, err)) from None
    if not trust_checkpoint:
        raise InputError(path, f"cannot be read as plain data: it needs full unpickling "
                               f"(it refers to {unsafe}); {TRUST_HINT}") from None
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001
        raise InputError(path, _problem(path, e)) from None


@contextlib.contextmanager
def trusted_loads(trust_checkpoint: bool):
    """Within (only when ``trust_checkpoint``): a ``torch.load`` that does not say
    ``weights_only`` (mmengine's resume) fully unpickles — the user's explicit word."""
    if not trust_checkpoint:
        yield
        return
    old = os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
    os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
        else:
            os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = old
