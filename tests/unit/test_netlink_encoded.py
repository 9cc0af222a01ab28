"""Netlink.filter keeps each cls_bpf request pyroute2 encoded and sends it again for the next
line's program fd: the bytes the kernel sees are, line for line, the ones pyroute2 encodes
afresh (only the fd and the sequence number differ from line to line).

No root needed: the socket is a recorder that acks every request.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest

from pybpftool.netlink.codecs import bpf_filter_message
from pybpftool.netlink.core import Netlink
from pybpftool.netlink.uapi import NLM_F_ECHO, NLM_F_REQUEST, NLMSG_ERROR


class AckingSocket:
    """AckingSocket: keeps what is sent, answers each request with an ack (error 0)."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send(self, data: bytes) -> int:
        self.sent.append(bytes(data))
        return len(data)

    def recv_into(self, buffer: bytearray) -> int:
        request = self.sent[-1]
        seq = struct.unpack_from("=I", request, 8)[0]
        ack = struct.pack("=IHHIIi", 36, NLMSG_ERROR, 0x100, seq, 0, 0) + request[:16]
        buffer[: len(ack)] = ack
        return len(ack)

    def close(self) -> None:
        pass


def recording_netlink() -> tuple[Netlink, AckingSocket]:
    nl = Netlink.__new__(Netlink)
    sock = AckingSocket()
    nl.sock, nl._seq, nl._thread_netns = sock, 0, None  # type: ignore[assignment]
    nl._buffer, nl._filters = bytearray(1 << 16), {}
    return nl, sock


def fresh(command: str, index: int, seq: int, echo: bool = False, **kw: Any) -> bytes:
    """fresh: the request as pyroute2 encodes it from scratch."""
    msg, msg_type, flags = bpf_filter_message(command, index, **kw)
    header = msg["header"]
    header["type"] = msg_type
    header["flags"] = flags | NLM_F_REQUEST | (NLM_F_ECHO if echo else 0)
    header["sequence_number"], header["pid"] = seq, 0
    msg.encode()
    return bytes(msg.data)


LINE = {
    "parent": 0xFFFFFFF2,
    "prio": 1,
    "handle": 1,
    "protocol": 3,
    "name": "tc_count.o:[tc]",
    "direct_action": True,
}


def test_each_line_sends_what_pyroute2_encodes_afresh() -> None:
    nl, sock = recording_netlink()
    fds = [7, 8, 1000, 65536, 2**31 - 1, 7]
    for fd in fds:
        assert nl.filter("replace-filter", 3, **LINE, fd=fd) == ()
    assert sock.sent == [
        fresh("replace-filter", 3, seq, **LINE, fd=fd) for seq, fd in enumerate(fds, start=1)
    ]
    assert len(nl._filters) == 1  # encoded once, sent six times


@pytest.mark.parametrize(
    "change",
    [
        {"name": "other.o:[tc]"},  # a longer name moves what follows it
        {"prio": 2},
        {"handle": 9},
        {"classid": 0x10001},
        {"chain": 4},
        {"skip_sw": True},
        {"direct_action": False},
    ],
)
def test_another_filter_is_encoded_anew(change: dict[str, Any]) -> None:
    nl, sock = recording_netlink()
    other = {**LINE, **change}
    nl.filter("replace-filter", 3, **LINE, fd=5)
    nl.filter("replace-filter", 3, **other, fd=6)
    nl.filter("add-filter", 3, **other, fd=7)
    nl.filter("replace-filter", 4, **other, fd=8)
    nl.filter("replace-filter", 4, echo=True, **other, fd=9)
    assert sock.sent == [
        fresh("replace-filter", 3, 1, **LINE, fd=5),
        fresh("replace-filter", 3, 2, **other, fd=6),
        fresh("add-filter", 3, 3, **other, fd=7),
        fresh("replace-filter", 4, 4, **other, fd=8),
        fresh("replace-filter", 4, 5, echo=True, **other, fd=9),
    ]


def test_requests_without_a_program_fd_are_not_kept() -> None:
    nl, sock = recording_netlink()
    ops = bytes(8)
    for _ in range(2):
        nl.filter("replace-filter", 3, parent=0xFFFFFFF2, prio=1, ops=ops)
    assert nl._filters == {}
    assert sock.sent[1] == fresh("replace-filter", 3, 2, parent=0xFFFFFFF2, prio=1, ops=ops)


def test_a_refusal_of_a_kept_request_raises_as_the_first_did() -> None:
    from pybpftool.errors import NetlinkFailure

    nl, sock = recording_netlink()
    nl.filter("replace-filter", 3, **LINE, fd=5)

    def refuse(buffer: bytearray) -> int:
        seq = struct.unpack_from("=I", sock.sent[-1], 8)[0]
        nack = struct.pack("=IHHIIi", 36, NLMSG_ERROR, 0, seq, 0, -22) + sock.sent[-1][:16]
        buffer[: len(nack)] = nack
        return len(nack)

    sock.recv_into = refuse  # type: ignore[method-assign]
    with pytest.raises(NetlinkFailure) as failure:
        nl.filter("replace-filter", 3, **LINE, fd=6)
    assert failure.value.errno == 22
