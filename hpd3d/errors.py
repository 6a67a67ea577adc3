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


class ToolError(Exception):
    """An error a CLI reports as one line ``error: …`` and exits with ``exit_code``."""

    exit_code = 1


class InputError(ToolError, ValueError):
    """Bad input: a missing, malformed or inconsistent file or setting (exit status 2)."""

    exit_code = 2

    def __init__(self, path, problem: str):
        self.path = None if path is None else os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class DivergedError(ToolError):
    """A run that cannot go on (e.g. the loss became NaN): exit status 3."""

    exit_code = 3


# exit status per error class (0: done; 1: a bug, with its traceback)
EXIT_CODES = {InputError: InputError.exit_code, DivergedError: DivergedError.exit_code}


def cli_guard(main):
    """Decorate a CLI ``main``: a :class:`ToolError` (:class:`InputError`: exit 2,
    :class:`DivergedError`: exit 3) → one line on stderr and its exit status."""

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        try:
            return main(*args, **kwargs)
        except ToolError as e:
            print(f"error: {e}", file=sys.stderr)
            sys.exit(e.exit_code)

    return wrapper


def failed_inputs_error(spec, failures: list[tuple[str, str]], total: int, out=None) -> InputError:
    """The one error at the end of a run that skipped bad input files (``synth`` and
    ``blender.render`` alike): every failure listed on ONE line; the good files were
    written to ``out`` (or nothing was, when every file failed)."""
    done = total - len(failures)
    where = (f"the other {done} written to {out}" if done and out is not None
             else "nothing written")
    if len(failures) == 1:
        path, problem = failures[0]
        return InputError(path, f"{problem} (skipped: 1 of {total} input files failed; {where})")
    listed = "; ".join(f"{p}: {why}" for p, why in failures)
    return InputError(spec, f"{len(failures)} of {total} input files failed ({where}): {listed}")


def reason(e: BaseException) -> str:
    """An exception's problem without the file name an ``OSError`` repeats (the
    :class:`InputError` names the file once)."""
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return str(e)
