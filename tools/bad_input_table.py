"""Run the bad-input corpus of ``tests/test_bad_input.py`` and print it as a markdown table:
bad input → exit status, the one error line, partial files left.

    .venv/bin/python tools/bad_input_table.py [> table.md]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]


def main() -> int:
    import test_bad_input as corpus

    try:
        import bpy  # noqa: F401
        have_bpy = True
    except ImportError:
        have_bpy = False
    rows, bad = [], 0
    with tempfile.TemporaryDirectory(prefix="bad_input_") as root:
        for case in corpus.CASES:
            if "bpy" in case.tags and not have_bpy:
                rows.append((case, None))
                continue
            tmp = Path(root) / case.id
            r = corpus.run_case(case, tmp)
            try:
                corpus.check(case, r)
                ok = True
            except AssertionError:
                ok, bad = False, bad + 1
            r["ok"] = ok
            r["lines"] = [ln.replace(str(tmp), "$TMP").replace(str(REPO), "$REPO")
                          for ln in r["lines"]]
            rows.append((case, r))
    print("| # | command | bad input | exit | message (stderr, one line) | partial files left | ok |")
    print("|---|---|---|---|---|---|---|")
    for i, (case, r) in enumerate(rows, 1):
        if r is None:
            print(f"| {i} | {case.cmd} | {case.what} | - | (skipped: no bpy) | - | - |")
            continue
        msg = " / ".join(r["lines"]) if r["lines"] else "(none)"
        if r["traceback"]:
            msg = "TRACEBACK: " + r["traceback"].strip().splitlines()[-1]
        msg = msg.replace("|", "\\|")
        left = ", ".join(r["left"]) or "none"
        print(f"| {i} | `{case.cmd}` | {case.what} | {r['code']} | `{msg}` | {left} | "
              f"{'yes' if r['ok'] else 'NO'} |")
    print(f"\n{len(rows) - bad} of {len(rows)} cases as required (exit 2, one line naming "
          f"the file or setting, no traceback, nothing partial)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
