"""The tc requests pytc builds by hand, compared byte for byte with tc 6.1's: qdiscs with
options (q_htb.c, q_fifo.c), and bpf filters and chain templates with actions (f_bpf.c, the
actions read by the one action grammar of `pytc actions`, sent with tc's attributes).

tc's requests were captured as tests/unit/test_tcactions.py describes (strace of
`ip netns exec NS tc <line>`; the netns's veth v1 has ifindex 2, v0 ifindex 3): the nlmsg
type and flags, then the bytes after struct nlmsghdr. This kernel has neither act_gact nor
act_bpf, so most action requests fail in the kernel; the request is what both must get
right (mirred is also compared on the real kernel, in tests/differential). Program fds are
the only bytes that may differ: the fake loader below hands out tc's (11 for an action's
program, 13 for the classifier's).

No root needed: the netlink socket and the loader are replaced by recorders.
"""

from __future__ import annotations

import shlex
import sys
from typing import Any

import pytest
from fakenetlink import FakeFd, RecordingNetlink

from pybpftool.cli.common.context import RunContext
from pybpftool.cli.common.grammar import parse_global_options

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
    (
        "filter add dev v0 egress bpf da bytecode '1,6 0 0 0' action gact drop index 5",
        44,
        0x605,
        "000000000300000000000000f3ffffff00030000080001006270660050000200300001002c0001000900"
        "010067616374000000001c0002801800020005000000000000000200000000000000000000000600040001"
        "0000000c00050006000000000000000800080001000000",
    ),
    (
        # two classids and an action list between them, each where the line puts it; the
        # cookie of the first action carries over to the second (tc never clears it)
        "filter add dev v0 egress pref 3 handle 2 bpf bytecode '1,6 0 0 0' classid 1:2"
        " action trap cookie 0a0b action pass flowid 1:3 skip_sw",
        44,
        0x605,
        "000000000300000002000000f3ffffff0003030008000100627066009c00020008000300020001006c00"
        "0100340001000900010067616374000000001c00028018000200000000000000000008000000000000000"
        "0000000060006000a0b0000340002000900010067616374000000001c000280180002000000000000000"
        "000000000000000000000000000060006000a0b0000080003000300010006000400010000000c00050006"
        "000000000000000800090002000000",
    ),
    (
        "filter change dev v0 egress pref 3 handle 2 chain 4 bpf da obj /objs/cls.o"
        " action bpf obj /objs/cls.o sec tail index 4 action jump 1 hw_stats immediate",
        44,
        0x5,
        "000000000300000002000000f3ffffff0000030008000b00040000000800010062706600ac00020080000"
        "10044000100080001006270660038000280080005000b00000011000600636c732e6f3a5b7461696c5d0"
        "0000000180002000400000000000000030000000000000000000000380002000900010067616374000000"
        "001c0002801800020000000000000000000100001000000000000000000c0008000100000001000000080"
        "006000d00000017000700636c732e6f3a5b636c61737369666965725d00000800080001000000",
    ),
    (
        "filter replace dev v0 ingress pref 1 bpf da bytecode '1,6 0 0 0' action mirred egress"
        " redirect dev v1 index 40 hw_stats disabled no_percpu",
        44,
        0x405,
        "000000000300000000000000f2ffffff00030100080001006270660070000200500001004c0001000b00"
        "01006d697272656400002400028020000200280000000000000004000000000000000000000001000000"
        "020000000c00080000000000000000000c000700010000000100000006000400010000000c0005000600"
        "0000000000000800080001000000",
    ),
    (
        # the skip_hw after the last action is the action's flag, not the filter's
        "filter add dev v0 ingress pref 2 bpf bytecode '1,6 0 0 0' action mirred egress mirror"
        " dev v1 cookie aabb action mirred ingress redirect dev v0 skip_hw",
        44,
        0x605,
        "000000000300000000000000f2ffffff000302000800010062706600a0000200880001003c0001000b00"
        "01006d6972726564000024000280200002000000000000000000030000000000000000000000020000000"
        "200000006000600aabb0000480002000b0001006d69727265640000240002802000020000000000000000"
        "00040000000000000000000000030000000300000006000600aabb00000c00070002000000020000000600"
        "0400010000000c0005000600000000000000",
    ),
    (
        # an empty list is an empty nest; a cookie does not carry over to the next list
        "filter add dev v0 egress bpf bytecode '1,6 0 0 0' action flowid 1:1",
        44,
        0x605,
        "000000000300000000000000f3ffffff0003000008000100627066002400020004000100080003000100"
        "010006000400010000000c0005000600000000000000",
    ),
    (
        "filter add dev v0 egress bpf bytecode '1,6 0 0 0' action pass cookie 0102 classid 1:1"
        " action drop",
        44,
        0x605,
        "000000000300000000000000f3ffffff0003000008000100627066008800020038000100340001000900"
        "010067616374000000001c0002801800020000000000000000000000000000000000000000000600060001"
        "0200000800030001000100300001002c0001000900010067616374000000001c0002801800020000000000"
        "00000000020000000000000000000000060004000100"
        "00000c0005000600000000000000",
    ),
    (
        "chain add dev v0 ingress chain 6 bpf bytecode '1,6 0 0 0' action drop flowid 1:1",
        100,
        0x605,
        "000000000300000000000000f2ffffff0000000008000b0006000000080001006270660050000200300001"
        "002c0001000900010067616374000000001c00028018000200000000000000000002000000000000000000"
        "0000080003000100010006000400010000000c0005000600000000000000",
    ),
    (
        "chain add dev v0 ingress chain 6 bpf da skip_hw classid 2:3 bytecode '1,6 0 0 0'"
        " action mirred egress mirror dev v1 pass index 7",
        100,
        0x605,
        "000000000300000000000000f2ffffff0000000008000b0006000000080001006270660068000200080003"
        "000300020038000100340001000b0001006d6972726564000024000280200002000700000000000000000000"
        "000000000000000000020000000200000006000400010000000c00050006000000000000000800090001000"
        "0000800080001000000",
    ),
]


@pytest.fixture
def recording(monkeypatch: pytest.MonkeyPatch) -> type[RecordingNetlink]:
    import pybpftool.cli.common.attach
    import pybpftool.netlink
    from pybpftool.cli.common.attach import Prepared

    def fake_prepare(
        run: Any,
        source: Any,
        prog_type: int,
        section: str,
        subdir: str,
        group: Any = None,
        ifindex: int = 0,
    ) -> Prepared:
        name = source.path.rsplit("/", 1)[-1]
        fd = {3: 13, 4: 11}[prog_type]  # BPF_PROG_TYPE_SCHED_CLS, _ACT: tc's fds
        return Prepared(f"{name}:[{source.section or section}]", pinned=FakeFd(fd))  # type: ignore[arg-type]

    RecordingNetlink.sent = []
    monkeypatch.setattr(pybpftool.netlink, "Netlink", RecordingNetlink)
    monkeypatch.setattr(pybpftool.cli.common.attach, "prepare", fake_prepare)
    return RecordingNetlink


def run_tc(line: str) -> int:
    """run_tc: one tc command line through pytc's handler for its object."""
    from pybpftool.cli.tc.main import HANDLERS

    opts, rest = parse_global_options("tc", shlex.split(line))
    return HANDLERS[rest[0]](RunContext(opts=opts), rest[1:])


@pytest.mark.skipif(sys.byteorder != "little", reason="captured on x86_64")
@pytest.mark.parametrize(
    ("line", "msg_type", "flags", "body"), TC_REQUESTS, ids=[r[0] for r in TC_REQUESTS]
)
def test_requests_are_tcs(
    recording: type[RecordingNetlink], line: str, msg_type: int, flags: int, body: str
) -> None:
    assert run_tc(line) == 0
    assert [(t, hex(f), b.hex()) for t, f, b in recording.sent] == [(msg_type, hex(flags), body)]


@pytest.mark.parametrize(
    ("line", "stderr"),
    [
        (
            "filter add dev v0 egress bpf bytecode '1,6 0 0 0' action mirred bogus",
            "mirred option not supported bogus\nbad action parsing\n"
            'parse_action: bad value (2:mirred)!\nIllegal "action"\n',
        ),
        ("filter add dev v0 egress bpf bytecode '1,6 0 0 0' action help", 'Illegal "action"\n'),
        (
            "filter add dev v0 egress bpf bytecode '1,6 0 0 0' action drop action",
            'bad action empty 1\nparse_action: bad value (0:(null))!\nIllegal "action"\n',
        ),
        (
            "chain add dev v0 ingress chain 6 bpf action mirred egress redirect dev nope",
            'Cannot find device "nope"\nbad action parsing\n'
            'parse_action: bad value (5:mirred)!\nIllegal "action"\n',
        ),
        (
            "filter get dev v0 egress pref 7 protocol all handle 1 bpf action gact index x",
            'Illegal "index"\nbad action parsing\nparse_action: bad value (3:gact)!\n'
            'Illegal "action"\n',
        ),
    ],
)
def test_a_bad_action_list_sends_nothing(
    recording: type[RecordingNetlink],
    capsys: pytest.CaptureFixture[str],
    line: str,
    stderr: str,
) -> None:
    """tc's messages, then its status 1 (the filter's parser failed), and no request."""
    assert run_tc(line) == 1
    assert capsys.readouterr().err == stderr
    assert recording.sent == []
