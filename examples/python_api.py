#!/usr/bin/env python3
"""python_api: pybpftool as a Python library, end to end, on a throwaway network.

Loads tc_legacy_pinned.o, an iproute2 legacy object whose byte counter `tc_bytes` is pinned
in tc/globals (distro tc, built on libbpf >= 1.0, refuses it), attaches its classifier to
the ingress of veth v0 in a throwaway network namespace, sends UDP datagrams to it from the
veth's peer in a second namespace, reads the counter through Collection.maps, shows a call
the kernel refuses, detaches, and removes everything it made (namespaces, bpffs, pins).
This process never leaves its own network namespace: only pybpftool's netlink sockets go
into the namespace.

Run as root:  sudo .venv/bin/python examples/python_api.py [OBJECT]
OBJECT defaults to examples/tc_legacy_pinned.o (built with `make -C examples` if missing).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator

import pybpftool

HERE = os.path.dirname(os.path.abspath(__file__))
DATAGRAMS, PAYLOAD = 5, 100
FRAME = 14 + 20 + 8 + PAYLOAD  # what the classifier counts of each: Ethernet, IPv4, UDP, data
NEAR_ADDRESS, FAR_ADDRESS = "10.199.0.1", "10.199.0.2"


def sh(*cmd: str) -> None:
    """sh: run a setup command; its error output if it fails."""
    subprocess.run(cmd, check=True, capture_output=True, text=True)


@contextlib.contextmanager
def throwaway_network() -> Iterator[tuple[str, str]]:
    """throwaway_network: namespaces `near` (v0, 10.199.0.1) and `far` (v1, 10.199.0.2)
    joined by a veth pair; both deleted afterwards."""
    tag = f"pybpftool-example-{os.getpid()}"
    near, far = f"{tag}-near", f"{tag}-far"
    made: list[str] = []
    try:
        for ns in (near, far):
            sh("ip", "netns", "add", ns)
            made.append(ns)
        veth = ("link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", far)
        sh("ip", "-n", near, *veth)
        sh("ip", "-n", near, "addr", "add", f"{NEAR_ADDRESS}/24", "dev", "v0")
        sh("ip", "-n", far, "addr", "add", f"{FAR_ADDRESS}/24", "dev", "v1")
        sh("ip", "-n", near, "link", "set", "v0", "up")
        sh("ip", "-n", far, "link", "set", "v1", "up")
        yield near, far
    finally:
        for ns in reversed(made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@contextlib.contextmanager
def private_bpffs() -> Iterator[str]:
    """private_bpffs: a bpffs of our own on a temporary folder, so that no pin lands in the
    host's /sys/fs/bpf; unmounted (pins and all) afterwards."""
    folder = tempfile.mkdtemp(prefix="pybpftool-example-bpffs-")
    try:
        sh("mount", "-t", "bpf", "bpf", folder)
        try:
            yield folder
        finally:
            sh("umount", folder)
    finally:
        os.rmdir(folder)


def send_datagrams(netns: str, address: str, count: int, size: int) -> None:
    """send_datagrams: `count` UDP datagrams of `size` bytes to `address`, port 9 (discard),
    sent from a child process inside `netns`."""
    code = (
        "import socket\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        f"for _ in range({count}):\n"
        f"    s.sendto(bytes({size}), ({address!r}, 9))\n"
    )
    sh("ip", "netns", "exec", netns, sys.executable, "-c", code)


def default_object() -> str:
    path = os.path.join(HERE, "tc_legacy_pinned.o")
    if not os.path.exists(path):
        sh("make", "-s", "-C", HERE, "tc_legacy_pinned.o")
    return path


def run(obj: str) -> int:
    with private_bpffs() as pin_root, throwaway_network() as (near, far):
        # One transaction: the map is created and pinned, the program loaded.
        with pybpftool.load(
            obj, section="classifier", prog_type="sched_cls", pin_root=pin_root
        ) as loaded:
            prog, counter = loaded.program, loaded.maps["tc_bytes"]
            assert counter.pin_path is not None
            pin = os.path.relpath(counter.pin_path, pin_root)
            print(f"loaded {prog.name} ({prog.type}, id {prog.id}, tag {prog.tag})")
            print(f"map {counter.name} ({counter.type}) pinned at $pin_root/{pin}")

            placed = pybpftool.attach_tc("v0", "ingress", prog, netns=near)
            print(f"attached to v0 ingress in {near}: pref {placed.pref} handle {placed.handle}")
            try:  # the same place again, without replace=True: the kernel says no
                pybpftool.attach_tc(
                    "v0", "ingress", prog, pref=placed.pref, handle=placed.handle, netns=near
                )
            except pybpftool.NetlinkFailure as err:
                print(f"attaching it twice is refused: {err}")

            send_datagrams(far, NEAR_ADDRESS, DATAGRAMS, PAYLOAD)
            value = counter.lookup(bytes(4))
            assert value is not None
            seen = int.from_bytes(value, sys.byteorder)
            print(f"sent {DATAGRAMS} datagrams of {FRAME} bytes; counted at v0 ingress: {seen}")

            pybpftool.detach_tc("v0", "ingress", pref=placed.pref, handle=placed.handle, netns=near)
            print("detached")
        print(f"pin kept after the collection closed: {os.path.exists(counter.pin_path)}")
    print("cleaned up: namespaces deleted, bpffs unmounted")
    if seen < DATAGRAMS * FRAME:
        print(f"error: expected at least {DATAGRAMS * FRAME} bytes", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if os.geteuid() != 0:
        print("python_api: run as root (it creates namespaces and a bpffs)", file=sys.stderr)
        return 2
    obj = argv[1] if len(argv) > 1 else default_object()
    try:
        return run(obj)
    except pybpftool.PyBpfError as err:
        print(f"python_api: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
