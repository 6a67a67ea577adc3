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
