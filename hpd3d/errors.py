"""One error type for bad input, and the CLI guard that turns it into one line.

Every reader raises :class:`InputError` naming the file and the problem; every entry
point runs under :func:`cli_guard`, which prints ``error: <file>: <problem>`` to stderr
and exits with status 2 (no traceback, no partial output: writers use
:mod:`hpd3d.atomic`).
"""

from __future__ import annotations

import functools
import os
import sys


class InputError(ValueError):
    """Bad input: a missing, malformed or inconsistent file or setting."""

    def __init__(self, path, problem: str):
        self.path = None if path is None else os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


def cli_guard(main):
    """Decorate a CLI ``main``: :class:`InputError` → one line on stderr, exit 2."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except InputError as e:
            print(f"error: {e}", file=sys.stderr)
            sys.exit(2)

    return wrapper
