"""Fixtures for tests on the real kernel: a private bpffs and throwaway network namespaces.

A plain mount namespace does not isolate /sys/fs/bpf, so each test mounts its own bpffs on
a temporary folder and points TC_BPF_MNT at it. Everything a fixture creates is removed in
its finally block, also when the test fails.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from mounts import private_bpffs

_names = itertools.count()


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, text=True)


@pytest.fixture(autouse=True)
def _need_root() -> None:
    if os.geteuid() != 0:
        pytest.fail("privileged tests need root (run the suite as root, as CI does)")


@pytest.fixture
def bpffs() -> Iterator[str]:
    """bpffs: a private bpffs mount on a temporary folder, unmounted afterwards."""
    with private_bpffs() as folder:
        yield folder


@pytest.fixture
def other_bpffs() -> Iterator[Path]:
    """other_bpffs: a second bpffs, not the pin root's (where a pin must not escape to)."""
    with private_bpffs("pybpftool-other-") as folder:
        yield Path(folder)


@pytest.fixture
def env(bpffs: str) -> dict[str, str]:
    """env: the environment that sends pins to the private bpffs."""
    return {**os.environ, "TC_BPF_MNT": bpffs}


@pytest.fixture
def audit() -> Iterator[None]:
    """audit: audit enabled for the test, then set back to what it was."""
    from pybpftool.sandbox.audit import audit_enabled, set_audit_enabled

    before = audit_enabled()
    if before is None:
        pytest.fail("cannot read the audit state (NETLINK_AUDIT)")
    set_audit_enabled(1)
    try:
        yield
    finally:
        set_audit_enabled(before)


@pytest.fixture
def netns() -> Iterator[str]:
    """netns: a throwaway network namespace holding a veth pair v0 <-> v1, both up."""
    name = f"pybpftool-{os.getpid()}-{next(_names)}"
    _run("ip", "netns", "add", name)
    try:
        _run("ip", "-n", name, "link", "add", "v0", "type", "veth", "peer", "name", "v1")
        _run("ip", "-n", name, "link", "set", "v0", "up")
        _run("ip", "-n", name, "link", "set", "v1", "up")
        yield name
    finally:
        _run("ip", "netns", "del", name)


CLONE_NEWNET = 0x40000000


@pytest.fixture
def in_netns(netns: str) -> Iterator[str]:
    """in_netns: this process inside the test's netns (network only), back afterwards: for
    commands run in-process, whose `-n` would otherwise leave pytest in a deleted namespace."""
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(f"/var/run/netns/{netns}", os.O_RDONLY)
    try:
        assert libc.setns(target, CLONE_NEWNET) == 0
        yield netns
    finally:
        libc.setns(home, CLONE_NEWNET)
        os.close(home)
        os.close(target)
