"""Keep the user's stderr clean of C/C++ library logging (FFmpeg, OpenCV, mediapipe's
absl/glog/TF-Lite), which writes to file descriptor 2 directly, bypassing ``sys.stderr``."""

from __future__ import annotations

import contextlib
import os
import re
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




# mediapipe's graph threads log when their models start, sometimes after ``process`` has
# returned: those lines are filtered out of fd 2 for as long as the detector runs.
# TF-Lite writes "INFO: ", the message and the newline as three writes, so other threads'
# output (tqdm) can land between them: each piece is recognised on its own.
_NOISE = re.compile(
    rb"(INFO: "
    rb"|Created TensorFlow Lite XNNPACK delegate for CPU\.\n?"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR\n"
    rb"|[WIEF]\d{4} \d\d:\d\d:\d\d\.\d+ +\d+ [^\n]*\n)")
_NOISE_START = re.compile(rb"(INFO|Created TensorFlow|WARNING: All log|[WIEF]\d{4} \d)")


@contextlib.contextmanager
def filtered_stderr():
    """Route file descriptor 2 through a pipe; a thread forwards everything to the real
    stderr except mediapipe's known log lines (:data:`_NOISE`). Python's own writes
    (tqdm, warnings) pass unchanged and in order."""
    import threading

    try:
        sys.stderr.flush()
        saved = os.dup(2)
        r, w = os.pipe()
    except (OSError, ValueError):
        yield
        return

    def forward():
        buf = b""
        while True:
            chunk = os.read(r, 65536)
            if chunk:
                buf = _NOISE.sub(b"", buf + chunk)
                nl = buf.rfind(b"\n") + 1
                tail = buf[nl:]
                m = _NOISE_START.search(tail)
                cut = nl + m.start() if m else len(buf)  # hold a noise line still arriving
                out, buf = buf[:cut], buf[cut:]
            else:
                out, buf = buf, b""
            while out:
                try:
                    out = out[os.write(saved, out):]
                except OSError:
                    out = b""
            if not chunk:
                return

    t = threading.Thread(target=forward, name="stderr-filter", daemon=True)
    os.dup2(w, 2)
    os.close(w)
    t.start()
    try:
        yield
    finally:
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        _flush_c_stdio()
        os.dup2(saved, 2)  # closes the pipe's last write end: the thread sees EOF
        t.join(timeout=5)
        os.close(r)
        os.close(saved)
