"""Progress that shows in a terminal and in a log file alike.

On a terminal: a tqdm bar on stderr (redrawn at most every ``mininterval`` seconds).
Anywhere else (a pipe, a log file, a cluster job): plain lines on stdout, one when a stage
starts, one at most every ``log_interval`` seconds while it runs, and one when it ends,
so a 96-second step never looks hung in a log and stderr keeps only errors.
"""

from __future__ import annotations

import sys
import time


class _LogLines:
    def __init__(self, iterable, desc, unit, total, log_interval, stream):
        self.iterable, self.desc, self.unit = iterable, desc or "progress", unit
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.total, self.n, self.log_interval, self.stream = total, 0, log_interval, stream
        self.t0 = self.last = time.perf_counter()
        self._line("started")

    def _line(self, what):
        of = f"/{self.total}" if self.total is not None else ""
        print(f"{self.desc}: {what}: {self.n}{of} {self.unit}, {time.perf_counter() - self.t0:.1f} s",
              file=self.stream, flush=True)

    def update(self, n=1):
        self.n += n
        now = time.perf_counter()
        if now - self.last >= self.log_interval:
            self.last = now
            self._line("running")

    def __iter__(self):
        for x in self.iterable:
            yield x
            self.update()
        self.close()

    def close(self):
        if self.t0 is not None:
            self._line("done")
            self.t0 = None

    def set_postfix(self, *a, **k):
        pass

    def set_description(self, desc, refresh=True):
        self.desc = desc

    def write(self, s):
        print(s, file=self.stream, flush=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.close()
        return False


def progress(iterable=None, desc: str = "", unit: str = "it", total=None, leave: bool = True,
             mininterval: float = 0.5, log_interval: float = 30.0, disable: bool = False):
    """``tqdm(iterable, ...)`` on a terminal, plain log lines elsewhere (see the module)."""
    if disable:
        return iterable if iterable is not None else _Null()
    if sys.stderr.isatty():
        from tqdm import tqdm

        return tqdm(iterable, desc=desc, unit=unit, total=total, leave=leave,
                    mininterval=mininterval, file=sys.stderr)
    return _LogLines(iterable, desc, unit, total, log_interval, sys.stdout)


class _Null:
    def update(self, n=1):
        pass

    close = set_postfix = update

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
