"""Shared test fixtures: where the real data lives."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HPD3D_SHARED", REPO.parent / "shared"))
BVH_DIR = SHARED / "data" / "bvh"
BVH_FILES = sorted(BVH_DIR.glob("*.bvh"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} is missing: the real test data lives in ../shared/data")
    return SHARED


@pytest.fixture(scope="session")
def bvh_dir(shared_dir) -> Path:
    return BVH_DIR


# bpy (Blender as a module) can deadlock in its C++ exit handlers (a condition variable
# destroyed while its "delayed close" thread still waits on it: seen on a full run) and
# may drop Python's buffered output at exit. Once pytest has written its summary, flush
# and leave with pytest's own exit status, skipping those handlers.
def pytest_sessionfinish(session, exitstatus):
    session.config._hpd3d_exitstatus = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    import sys

    if "bpy" in sys.modules and hasattr(config, "_hpd3d_exitstatus"):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(config._hpd3d_exitstatus)
