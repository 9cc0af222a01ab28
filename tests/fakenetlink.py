"""fakenetlink: stand-ins for the netlink socket and for loaded programs, for the unit tests
that compare pytc's requests with tc's captured ones (tests/unit/test_tc_requests.py,
test_tcactions.py). The devices are those of the capture's netns: v1 is 2, v0 is 3."""

from __future__ import annotations

from typing import Any, ClassVar

from pybpftool.netlink.uapi import NLM_F_REQUEST


class FakeFd:
    """FakeFd: a program fd with the number tc had."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False

    def __int__(self) -> int:
        return self.number

    def close(self) -> None:
        self.closed = True


class FakeLink:
    def __init__(self, ifindex: int, name: str) -> None:
        self.ifindex, self.name = ifindex, name


class FakeNetlink:
    """FakeNetlink: the socket of the capture's netns, for device lookups."""

    def __enter__(self) -> FakeNetlink:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def link_index(self, name: str) -> int | None:
        return {"v1": 2, "v0": 3}.get(name)

    def links(self) -> list[FakeLink]:
        return [FakeLink(2, "v1"), FakeLink(3, "v0")]

    def link_by_name(self, name: str) -> FakeLink:
        """link_by_name: RTM_GETLINK by name, as ll_name_to_index() asks (cli/common/ifnames)."""
        from pybpftool.errors import NetlinkFailure

        index = self.link_index(name)
        if index is None:
            raise NetlinkFailure(19, "No such device")
        return FakeLink(index, name)


class RecordingNetlink(FakeNetlink):
    """RecordingNetlink: each request is encoded as pyroute2 would send it and kept (type,
    flags, the bytes after struct nlmsghdr); the kernel answers with an ack."""

    sent: ClassVar[list[tuple[int, int, bytes]]] = []

    def request(self, msg: Any, msg_type: int, flags: int, reply: Any = None) -> tuple[Any, ...]:
        header = msg["header"]
        header["type"], header["flags"] = msg_type, flags | NLM_F_REQUEST
        header["sequence_number"], header["pid"] = 1, 0
        msg.encode()
        RecordingNetlink.sent.append((msg_type, flags | NLM_F_REQUEST, bytes(msg.data)[16:]))
        return ()
