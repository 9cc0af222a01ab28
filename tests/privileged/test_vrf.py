"""pyip vrf: the socket program proven on a veth, `vrf exec default` for real, and ip's
messages for every error path (this kernel has no VRF driver, so no VRF exists here)."""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from scripts import BIN

from pybpftool.kernel.bpf import Kernel
from pybpftool.vrf import attach_to_cgroup, cgroup2_mount, load_sock_program, own_cgroup

CLONE_NEWNET = 0x40000000
SO_BINDTODEVICE = 25


@pytest.fixture
def test_cgroup() -> Iterator[Path]:
    """test_cgroup: a cgroup2 folder of our own, removed afterwards (its program with it)."""
    folder = Path(cgroup2_mount() + own_cgroup()) / f"pybpftool-test-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    try:
        yield folder
    finally:
        folder.rmdir()


def bound_device_in(cgroup: Path, netns: str) -> bytes:
    """bound_device_in: SO_BINDTODEVICE of a socket made by a child inside `cgroup` and `netns`."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            (cgroup / "cgroup.procs").write_text(f"{os.getpid()}\n")
            libc = ctypes.CDLL(None, use_errno=True)
            target = os.open(f"/var/run/netns/{netns}", os.O_RDONLY)
            assert libc.setns(target, CLONE_NEWNET) == 0
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                bound = sock.getsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, 16)
            os.write(write_fd, bound.rstrip(b"\0") or b"-")
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        bound = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert status == 0
    return bound


def test_socket_program_binds_sockets_of_its_cgroup_to_the_device(
    netns: str, test_cgroup: Path
) -> None:
    links = subprocess.run(
        ["ip", "-n", netns, "-o", "link", "show", "dev", "v0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ifindex = int(links.split(":", 1)[0])
    assert bound_device_in(test_cgroup, netns) == b"-"  # before: not bound
    kernel = Kernel()
    with load_sock_program(kernel, ifindex) as prog:
        attach_to_cgroup(kernel, str(test_cgroup), prog)
    assert bound_device_in(test_cgroup, netns) == b"v0"


def test_exec_default_joins_the_same_cgroup_as_ip(netns: str) -> None:
    base = Path(cgroup2_mount() + own_cgroup()) / f"{netns}-ns"
    try:
        cmd = ["vrf", "exec", "default", "cat", "/proc/self/cgroup"]
        ours = subprocess.run(
            [str(BIN / "pyip"), "-n", netns, *cmd], capture_output=True, text=True
        )
        theirs = subprocess.run(["ip", "-n", netns, *cmd], capture_output=True, text=True)
        assert ours.returncode == theirs.returncode == 0, ours.stderr
        last = ours.stdout.strip().splitlines()[-1]
        assert last == theirs.stdout.strip().splitlines()[-1]
        assert last.endswith(f"/{netns}-ns/vrf")
    finally:
        for folder in (base / "vrf", base):
            if folder.exists():
                folder.rmdir()


@pytest.mark.parametrize(
    "words",
    [
        ["vrf"],
        ["vrf", "show"],
        ["-j", "vrf", "show"],
        ["vrf", "show", "nope"],
        ["vrf", "show", "default"],
        ["vrf", "show", "a", "b"],
        ["vrf", "identify"],
        ["vrf", "identify", "abc"],
        ["vrf", "identify", "1", "2"],
        ["vrf", "pids"],
        ["vrf", "pids", "nope"],
        ["vrf", "exec"],
        ["vrf", "exec", "nope"],
        ["vrf", "exec", "nope", "true"],
        ["vrf", "zz"],
        ["vrf", "help"],
    ],
    ids=lambda w: "-".join(w),
)
def test_messages_and_statuses_match_ip(netns: str, words: list[str]) -> None:
    ours = subprocess.run([str(BIN / "pyip"), "-n", netns, *words], capture_output=True, text=True)
    theirs = subprocess.run(["ip", "-n", netns, *words], capture_output=True, text=True)
    assert (ours.returncode, ours.stdout, ours.stderr) == (
        theirs.returncode,
        theirs.stdout,
        theirs.stderr,
    )
