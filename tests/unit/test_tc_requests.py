"""The tc requests pytc builds by hand, compared byte for byte with tc 6.1's: qdiscs with
options (q_htb.c, q_fifo.c).

tc's requests were captured as tests/unit/test_tcactions.py describes (strace of
`ip netns exec NS tc <line>`; the netns's veth v1 has ifindex 2, v0 ifindex 3): the nlmsg
type and flags, then the bytes after struct nlmsghdr.

No root needed: the netlink socket is replaced by a recorder.
"""

from __future__ import annotations

import shlex
import sys
from typing import Any, ClassVar

import pytest

from pybpftool.cli.common.grammar import parse_global_options
from pybpftool.netlink.uapi import NLM_F_REQUEST

# (tc command line, nlmsg type, nlmsg flags, hex of the bytes after struct nlmsghdr)
TC_REQUESTS = [
    (
        "qdisc add dev v1 root handle 1: htb default 12 r2q 5 direct_qlen 100 debug 0123 offload",
        36,
        0x605,
        "000000000200000000000100ffffffff0000000008000100687462002800020018000200030000000500"
        "000012000000e400000000000000080005006400000004000900",
    ),
    (
        "qdisc add dev v1 root handle 1: htb",  # tc_htb_glob is sent even without options
        36,
        0x605,
        "000000000200000000000100ffffffff0000000008000100687462001c00020018000200030000000a00"
        "0000000000000000000000000000",
    ),
    (
        "qdisc add dev v1 root handle 1: pfifo limit 77",
        36,
        0x605,
        "000000000200000000000100ffffffff000000000a000100706669666f000000080002004d000000",
    ),
]


class RecordingNetlink:
    """RecordingNetlink: the socket of the capture's netns (v1 is 2, v0 is 3); each request
    is encoded as pyroute2 would send it and kept, and the kernel answers with an ack."""

    sent: ClassVar[list[tuple[int, int, bytes]]] = []

    def __enter__(self) -> RecordingNetlink:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def link_index(self, name: str) -> int | None:
        return {"v1": 2, "v0": 3}.get(name)

    def request(self, msg: Any, msg_type: int, flags: int, reply: Any = None) -> tuple[Any, ...]:
        header = msg["header"]
        header["type"], header["flags"] = msg_type, flags | NLM_F_REQUEST
        header["sequence_number"], header["pid"] = 1, 0
        msg.encode()
        RecordingNetlink.sent.append((msg_type, flags | NLM_F_REQUEST, bytes(msg.data)[16:]))
        return ()


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> type[RecordingNetlink]:
    import pybpftool.netlink

    RecordingNetlink.sent = []
    monkeypatch.setattr(pybpftool.netlink, "Netlink", RecordingNetlink)
    return RecordingNetlink


def run_tc(line: str) -> int:
    """run_tc: one tc command line through pytc's handler for its object."""
    from pybpftool.cli.tc.main import HANDLERS

    opts, rest = parse_global_options("tc", shlex.split(line))
    return HANDLERS[rest[0]](opts, rest[1:])


@pytest.mark.skipif(sys.byteorder != "little", reason="captured on x86_64")
@pytest.mark.parametrize(
    ("line", "msg_type", "flags", "body"), TC_REQUESTS, ids=[r[0] for r in TC_REQUESTS]
)
def test_requests_are_tcs(
    recording: type[RecordingNetlink], line: str, msg_type: int, flags: int, body: str
) -> None:
    assert run_tc(line) == 0
    assert [(t, hex(f), b.hex()) for t, f, b in recording.sent] == [(msg_type, hex(flags), body)]
