from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bpfobjs


@pytest.fixture(scope="session", autouse=True)
def _object_cache() -> Iterator[None]:
    yield
    bpfobjs.cleanup()


@pytest.fixture(scope="session", autouse=True)
def _private_core_cache() -> Iterator[None]:
    """The CO-RE index cache of every command the suite runs goes to a private folder
    (root-only, as the loader demands), removed at the end, never /var/cache/pybpftool."""
    folder = tempfile.mkdtemp(prefix="pybpftool-cache-")
    saved = os.environ.get("PYBPFTOOL_CACHE_DIR")
    os.environ["PYBPFTOOL_CACHE_DIR"] = folder
    try:
        yield
    finally:
        if saved is None:
            del os.environ["PYBPFTOOL_CACHE_DIR"]
        else:
            os.environ["PYBPFTOOL_CACHE_DIR"] = saved
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=bpfobjs.TARGETS)
def target(request: pytest.FixtureRequest) -> str:
    """target: each parser test runs for both byte orders."""
    if not bpfobjs.clang_available():
        pytest.fail(f"{bpfobjs.CLANG} is required to build the test objects")
    return str(request.param)
