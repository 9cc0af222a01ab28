"""ip -s link show with counters that are not zero: traffic crosses a veth pair whose ends
live in two namespaces, then ip and pyip list the same, now quiet, links (the same
namespace: the counters are the kernel's, the columns and numbers the tools')."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from scripts import BIN

LISTINGS = [
    ["-s", "link", "show"],
    ["-s", "-s", "link", "show", "dev", "a0"],
    ["-h", "-s", "-s", "link"],
    ["-iec", "-h", "-s", "link", "show", "a0"],
    ["-j", "-s", "-s", "link", "show", "dev", "a0"],
    ["-o", "-s", "link"],
    ["-br", "-s", "link"],
]


NO_IPV6 = ("net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
SEND = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(1000):
    s.sendto(b"x" * 1400, ("10.77.0.2", 9))
"""


def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


@pytest.fixture
def busy_link() -> Iterator[str]:
    """busy_link: namespace A with a0, whose peer b0 is in namespace B; 1.4 MB of UDP sent
    from A to B (and ARP both ways)."""
    a, b = f"pybpftool-ctr-{os.getpid()}-a", f"pybpftool-ctr-{os.getpid()}-b"
    _sh("ip", "netns", "add", a)
    try:
        _sh("ip", "netns", "add", b)
        try:
            for ns in (a, b):  # no IPv6 chatter: the counters stay still after the traffic
                _sh("ip", "netns", "exec", ns, "sysctl", "-qw", *NO_IPV6)
            _sh("ip", "-n", a, "link", "add", "a0", "type", "veth", "peer", "name", "b0",
                "netns", b)  # fmt: skip
            for ns, dev, addr in ((a, "a0", "10.77.0.1/24"), (b, "b0", "10.77.0.2/24")):
                _sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
                _sh("ip", "-n", ns, "link", "set", dev, "up")
            _sh("ip", "netns", "exec", a, sys.executable, "-c", SEND)
            yield a
        finally:
            subprocess.run(["ip", "netns", "del", b], capture_output=True)
    finally:
        subprocess.run(["ip", "netns", "del", a], capture_output=True)


def test_counters_print_as_ip_prints_them(busy_link: str) -> None:
    for words in LISTINGS:
        theirs = subprocess.run(["ip", "-n", busy_link, *words], capture_output=True, text=True)
        ours = subprocess.run([str(BIN / "pyip"), "-n", busy_link, *words],
                              capture_output=True, text=True)  # fmt: skip
        assert (ours.returncode, ours.stderr) == (theirs.returncode, theirs.stderr), words
        assert ours.stdout == theirs.stdout, words
