"""Keep the user's stderr clean of C/C++ library logging (FFmpeg, OpenCV, mediapipe's
absl/glog/TF-Lite), which writes to file descriptor 2 directly, bypassing ``sys.stderr``."""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def quiet_stderr():
    """Send file descriptor 2 to /dev/null (C++ logging bypasses ``sys.stderr``)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        _flush_c_stdio()  # C stdio buffers would print after we restore fd 2
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _flush_c_stdio():
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except Exception:  # noqa: BLE001 - best effort
        pass


