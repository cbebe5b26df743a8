"""Shared fixtures: the real data in ../shared, skipped (or failed) when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SPOC = SHARED / "data" / "tess-spoc-2min"
FFI = SHARED / "data" / "tess-ffi-30min"
CATALOGS = SHARED / "catalogs"
TRUNCATED = SPOC / "tess2018206045859-s0001-0000000140599284-0120-s_lc.fits"
CM_DRA_S24 = SPOC / "tess2020106103520-s0024-0000000199574208-0180-s_lc.fits"


def require_shared(path: Path) -> Path:
    """Return ``path``, skipping the test when it is missing.

    With ``EBSCAN_REQUIRE_SHARED=1`` (as in CI) a missing path fails instead.
    """
    if not path.exists():
        message = f"shared data not found: {path}"
        if os.environ.get("EBSCAN_REQUIRE_SHARED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def spoc_dir() -> Path:
    return require_shared(SPOC)


@pytest.fixture
def ffi_dir() -> Path:
    return require_shared(FFI)


@pytest.fixture
def catalogs_dir() -> Path:
    return require_shared(CATALOGS)
