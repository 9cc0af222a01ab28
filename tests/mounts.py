"""mounts: a private bpffs for a test, on a folder of its own, gone afterwards.

A plain mount namespace does not isolate /sys/fs/bpf, so every test that pins mounts its own
bpffs (tests/privileged/conftest.py's `bpffs` and `other_bpffs`, the differential tests' second
world) through this one context manager: unmounted and its folder removed also when the test
fails.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def private_bpffs(prefix: str = "pybpftool-bpffs-") -> Iterator[str]:
    """private_bpffs: a fresh bpffs mounted on a new temporary folder; yields its path."""
    folder = tempfile.mkdtemp(prefix=prefix)
    try:
        _run("mount", "-t", "bpf", "bpf", folder)
        try:
            yield folder
        finally:
            _run("umount", folder)
    finally:
        os.rmdir(folder)


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, text=True)
