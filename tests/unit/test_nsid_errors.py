"""RTM_GETNSID refusals: the kernel's reason is read from its NLMSG_ERROR (struct nlmsgerr,
the request or its capped header, then the NLMSGERR_ATTR_* attributes), and `ip link show`
prints it and goes on, as ip's rtnl_talk() does for a /var/run/netns file that is no
namespace."""

from __future__ import annotations

import struct
from typing import Any

import pytest

from pybpftool.cli.ip.linknames import LinkNames
from pybpftool.errors import NetlinkFailure
from pybpftool.netlink.linkattrs import error_extack

NLMSG_ERROR, REASON = 2, b"Peer netns reference is invalid\0"


def _error(errno: int, flags: int, request: bytes, reason: bytes | None) -> bytes:
    attrs = b""
    if reason is not None:
        attrs = struct.pack("=HH", 4 + len(reason), 1) + reason
        attrs += b"\0" * (-len(attrs) % 4)
    body = struct.pack("=i", -errno) + request + attrs
    return struct.pack("=IHHII", 16 + len(body), NLMSG_ERROR, flags, 1, 0) + body


REQUEST = struct.pack("=IHHII", 28, 90, 1, 1, 0) + b"\0" * 12  # RTM_GETNSID, NETNSA_FD


@pytest.mark.parametrize(
    ("flags", "answered"),
    [(0x300, REQUEST[:16]), (0x200, REQUEST)],
    ids=["capped", "whole-request"],
)
def test_the_kernels_reason_is_read_after_the_request(flags: int, answered: bytes) -> None:
    assert error_extack(_error(22, flags, answered, REASON)) == (
        22,
        "Peer netns reference is invalid",
    )


def test_an_error_without_attributes_has_no_reason() -> None:
    assert error_extack(_error(22, 0x100, REQUEST[:16], None)) == (22, None)
    assert error_extack(_error(0, 0x100, REQUEST[:16], None)) == (0, None)  # an ack


class _RefusingNetlink:
    def nsid(self, fd: int) -> Any:
        raise NetlinkFailure(
            22, "Peer netns reference is invalid", "Peer netns reference is invalid"
        )


def test_ip_link_show_prints_the_refusal_and_goes_on(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "not-a-namespace").write_text("")
    monkeypatch.setattr("pybpftool.cli.ip.linknames.NETNS_RUN_DIR", str(tmp_path))
    names = LinkNames(_RefusingNetlink(), [], numeric=False)
    assert names.netns_name(0) is None
    assert capsys.readouterr().err == "Error: Peer netns reference is invalid.\n"
