"""ip link show's filters against ip's, on a namespace holding a bridge with a veth port.

ip asks the kernel to leave out links of another master (`master`, `vrf`, `nomaster`) and of
another kind when the kernel knows it (iplink_filter_req: IFLA_MASTER, IFLA_LINKINFO's kind);
print_linkinfo() then leaves out what its own filters do not select, after ip has opened the
link's JSON object: `-j` shows `{}` for each such link, text shows nothing."""

from __future__ import annotations

import subprocess

import pytest
from scripts import BIN

FILTERS = [
    "master br0",
    "master v0",
    "nomaster",
    "type bridge",
    "type veth",
    "type bridge_slave",
    "type nosuchkind",
    "up",
    "group 5",
    "label v0",
    "master br0 up",
    "nomaster type veth",
    "dev v1 master br0",
    "dev v0 master br0",
    "dev v0 up",
    "dev v1 group 5",
]
FORMATS = [[], ["-j"], ["-j", "-p"], ["-br"], ["-br", "-j"], ["-o"]]


@pytest.fixture
def bridged(netns: str) -> str:
    """bridged: the netns's v0 <-> v1 (both up), v1 a port of br0 (down)."""
    for cmd in (["link", "add", "br0", "type", "bridge"], ["link", "set", "v1", "master", "br0"]):
        subprocess.run(["ip", "-n", netns, *cmd], check=True)
    return netns


@pytest.mark.parametrize("words", FILTERS)
def test_filters_list_what_ip_lists(bridged: str, words: str) -> None:
    for opts in FORMATS:
        argv = [*opts, "link", "show", *words.split()]
        theirs = subprocess.run(["ip", "-n", bridged, *argv], capture_output=True, text=True)
        ours = subprocess.run([str(BIN / "pyip"), "-n", bridged, *argv],
                              capture_output=True, text=True)  # fmt: skip
        assert (ours.returncode, ours.stderr) == (theirs.returncode, theirs.stderr), argv
        assert ours.stdout == theirs.stdout, argv
