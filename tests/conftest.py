from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bpfobjs


@pytest.fixture(scope="session", autouse=True)
def _object_cache() -> Iterator[None]:
    yield
    bpfobjs.cleanup()


@pytest.fixture(params=bpfobjs.TARGETS)
def target(request: pytest.FixtureRequest) -> str:
    """target: each parser test runs for both byte orders."""
    if not bpfobjs.clang_available():
        pytest.fail(f"{bpfobjs.CLANG} is required to build the test objects")
    return str(request.param)
