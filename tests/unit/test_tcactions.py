"""`pytc actions`: the requests it would send, compared byte for byte with tc 6.1's, and the
printing of replies for the action kinds the test kernel lacks (gact, bpf).

How tc's requests were obtained: on the test machine (kernel 6.18, iproute2 6.1.0), in a
throwaway netns `NS` whose veth v1 has ifindex 2, each command line below was run as

    strace -f -e trace=sendmsg,sendto -e write=all ip netns exec NS tc <line>

and the RTM_*ACTION message was read from the hex dump: its nlmsg type and flags, then the
bytes after the struct nlmsghdr (struct tcamsg and the attributes). This kernel has neither
act_gact nor act_bpf, so tc's add/replace requests of those kinds fail in the kernel; the
request is what they both must get right. A loaded program's fd (12 for tc) is the only
byte that legitimately differs; the fake loader below hands out fd 12 too.

No root needed: the netlink layer is replaced by a recorder.
"""

from __future__ import annotations

import shlex
import sys
from typing import Any, ClassVar

import pytest
from fakenetlink import FakeFd, FakeNetlink

from pybpftool.cli.common.context import RunContext
from pybpftool.cli.common.grammar import GlobalOptions
from pybpftool.cli.tc import actions as tcactions
from pybpftool.cli.tc.actprint import print_action_messages
from pybpftool.netlink import ActionRequests, RawMessage
from pybpftool.netlink.attrs import rtattr

# (tc command line, nlmsg type, nlmsg flags, hex of the bytes after struct nlmsghdr)
TC_REQUESTS = [
    (
        "add action gact pass index 4",
        48,
        0x605,
        "00000000300001002c0001000900010067616374000000001c000280180002000400000000000000"
        "000000000000000000000000",
    ),
    (
        "replace action bpf bytecode '1,6 0 0 0' drop index 3",
        48,
        0x505,
        "00000000400001003c00010008000100627066003000028006000300010000000c00040006000000"
        "00000000180002000300000000000000020000000000000000000000",
    ),
    (
        "change action gact goto chain 7 index 9",
        48,
        0x505,
        "00000000300001002c0001000900010067616374000000001c000280180002000900000000000000"
        "070000200000000000000000",
    ),
    (
        "add action gact jump 2 random determ drop 30 index 3 cookie 0a0b hw_stats immediate"
        " no_percpu skip_hw skip_sw",
        48,
        0x605,
        "000000005c00010058000100090001006761637400000000280002801800020003000000000000000200"
        "001000000000000000000c00030002001e0002000000060006000a0b00000c0008000100000001000000"
        "0c0007000700000007000000",
    ),
    (
        # tc never clears the cookie: the second action carries the first one's
        "add action gact pass cookie 0102 action gact drop",
        48,
        0x605,
        "000000006c000100340001000900010067616374000000001c00028018000200000000000000000000"
        "00000000000000000000000600060001020000340002000900010067616374000000001c0002801800"
        "020000000000000000000200000000000000000000000600060001020000",
    ),
    (
        "add action bpf run bytecode '2,6 0 0 1,6 0 0 0' continue index 5 hw_stats disabled",
        48,
        0x605,
        "00000000540001005000010008000100627066003800028006000300020000001400040006000000"
        "010000000600000000000000180002000500000000000000ffffffff00000000000000000c000800"
        "0000000000000000",
    ),
    (
        "add action mirred egress redirect dev v1 index 40",
        48,
        0x605,
        "0000000038000100340001000b0001006d69727265640000240002802000020028000000000000000400"
        "000000000000000000000100000002000000",
    ),
    (
        "add action bpf obj /tmp/twin.o sec tail index 4",
        48,
        0x605,
        "000000004800010044000100080001006270660038000280080005000c000000120006007477696e2e"
        "6f3a5b7461696c5d000000180002000400000000000000030000000000000000000000",
    ),
    (
        "add action drop action pass",
        48,
        0x605,
        "000000005c0001002c0001000900010067616374000000001c00028018000200000000000000000002"
        "00000000000000000000002c0002000900010067616374000000001c00028018000200000000000000"
        "0000000000000000000000000000",
    ),
    (
        "get action mirred index 1 action gact index 2",
        50,
        0x1,
        "0000000034000100180001000b0001006d697272656400000800030001000000180002000900010067"
        "616374000000000800030002000000",
    ),
    (
        # a kind tc has no module for is gact, in get and delete
        "delete action foo index 3",
        49,
        0x5,
        "000000001c000100180001000900010067616374000000000800030003000000",
    ),
    (
        "ls action mirred",
        50,
        0x301,
        "0000000014000100100001000b0001006d697272656400000c0002000100000001000000",
    ),
    (
        "ls action mirred since 42",
        50,
        0x301,
        "0000000014000100100001000b0001006d697272656400000c0002000100000001000000080004002a000000",
    ),
    (
        "-br ls action mirred",
        50,
        0x301,
        "0000000014000100100001000b0001006d697272656400000c0002000300000003000000",
    ),
    (
        # ... but list and flush send the word itself
        "flush action foo",
        49,
        0x105,
        "00000000100001000c00010008000100666f6f000c0002000100000001000000",
    ),
]


class Recorder(ActionRequests):
    """Recorder: netlink.ActionRequests with the socket replaced: each request is kept as
    the bytes after struct nlmsghdr, the replies are the test's."""

    sent: ClassVar[list[tuple[int, int, bytes]]] = []
    replies: ClassVar[list[RawMessage]] = []

    def __init__(self, nl: Any) -> None:
        pass

    def request(self, msg_type: int, flags: int, attrs: list[tuple[int, bytes]]) -> Any:
        body = bytes(4) + b"".join(rtattr(kind, payload) for kind, payload in attrs)
        Recorder.sent.append((msg_type, flags, body))
        return list(Recorder.replies)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> type[Recorder]:
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
        assert prog_type == 4  # BPF_PROG_TYPE_SCHED_ACT
        name = source.path.rsplit("/", 1)[-1]
        return Prepared(f"{name}:[{source.section or section}]", pinned=FakeFd(12))  # type: ignore[arg-type]

    Recorder.sent, Recorder.replies = [], []
    monkeypatch.setattr(pybpftool.netlink, "ActionRequests", Recorder)
    monkeypatch.setattr(tcactions, "_netlink", FakeNetlink)
    monkeypatch.setattr(pybpftool.cli.common.attach, "prepare", fake_prepare)
    return Recorder


def _run(line: str) -> int:
    from pybpftool.cli.common.grammar import parse_global_options

    opts, rest = parse_global_options("tc", shlex.split(line))
    return tcactions.actions_command(RunContext(opts=opts), rest)


@pytest.mark.skipif(sys.byteorder != "little", reason="captured on x86_64")
@pytest.mark.parametrize(
    ("line", "msg_type", "flags", "body"), TC_REQUESTS, ids=[r[0] for r in TC_REQUESTS]
)
def test_requests_are_tcs(
    recorder: type[Recorder], line: str, msg_type: int, flags: int, body: str
) -> None:
    _run(line)
    assert [(t, hex(f), b.hex()) for t, f, b in recorder.sent] == [(msg_type, hex(flags), body)]


def test_two_commands_on_one_line(recorder: type[Recorder]) -> None:
    """An action list ends at the next command word: two requests, in order."""
    assert _run("add action pass add action drop index 2") == 0
    kinds = [(t, f) for t, f, _ in recorder.sent]
    assert kinds == [(48, 0x605), (48, 0x605)]
    assert recorder.sent[1][2].endswith(_parms(2, 2, ref=0))  # PARMS: index 2, drop


@pytest.mark.parametrize(
    ("line", "stderr"),
    [
        (
            "add action gact pass index x",
            'Illegal "index"\nbad action parsing\nparse_action: bad value (4:gact)!\n'
            'Illegal "action"\n',
        ),
        (
            "add action",
            'bad action empty 1\nparse_action: bad value (0:(null))!\nIllegal "action"\n',
        ),
        ("add", 'Illegal "action"\n'),
        ("get action gact index x", 'Illegal "index"\n'),
        ("get gact index 1", "Error: no index specified action: gact\n"),
        (
            "add action bpf bytecode '2,6 0 0 0'",
            "Parsed program length is less than encoded length parameter!\nbad action parsing\n"
            'parse_action: bad value (3:bpf)!\nIllegal "action"\n',
        ),
        (
            "add action gact pass random determ drop 20000",
            "Illegal probability val  0x4e20\nbad action parsing\n"
            'parse_action: bad value (6:gact)!\nIllegal "action"\n',
        ),
        (
            "add action bpf bytecode '1,6 0 0 0' index x",
            'bpf: Illegal "index"\nbad action parsing\nparse_action: bad value (5:bpf)!\n'
            'Illegal "action"\n',
        ),
        (
            "add action mirred egress redirect dev v1 index x",
            'mirred: Illegal "index"\nbad action parsing\nparse_action: bad value (7:mirred)!\n'
            'Illegal "action"\n',
        ),
        (
            "add action mirred egress redirect index x",
            'Illegal "index"\nbad action parsing\nparse_action: bad value (5:mirred)!\n'
            'Illegal "action"\n',
        ),
        (
            "add action mirred egress mirror dev nope",
            'Cannot find device "nope"\nbad action parsing\nparse_action: bad value (5:mirred)!\n'
            'Illegal "action"\n',
        ),
    ],
)
def test_parse_failures_send_nothing(
    recorder: type[Recorder], capsys: pytest.CaptureFixture[str], line: str, stderr: str
) -> None:
    assert _run(line) == 255
    assert capsys.readouterr().err == stderr
    assert recorder.sent == []


def test_usage_exits(recorder: type[Recorder], capsys: pytest.CaptureFixture[str]) -> None:
    from pybpftool.cli.common.grammar import IprouteExit

    with pytest.raises(IprouteExit) as caught:
        tcactions.actions_command(RunContext(), ["add", "action", "foo"])
    assert caught.value.status == 255  # gact's usage(): exit(-1)
    assert capsys.readouterr().err == "Bad action type foo\n"
    assert caught.value.message.startswith("Usage: ... gact <ACTION> [RAND] [INDEX]\n")
    with pytest.raises(IprouteExit) as caught:
        tcactions.actions_command(RunContext(), ["help"])
    assert caught.value.message.endswith("(ACTPARAMS)\n")  # then write_lines' newline


# --- printing replies (the kernel's dump layout), text and JSON, from m_gact.c/m_bpf.c ---


def _u32(value: int) -> bytes:
    return (value & 0xFFFFFFFF).to_bytes(4, sys.byteorder)


def _action(order: int, kind: str, options: bytes, *extra: bytes) -> bytes:
    rta = rtattr
    payload = rta(1, kind.encode() + b"\0") + rta(2 | 0x8000, options) + b"".join(extra)
    return rta(order, payload)


def _dump(*actions: bytes) -> RawMessage:
    rta = rtattr
    body = bytes(4) + rta(1, b"".join(actions)) + rta(3, _u32(len(actions)))
    return RawMessage(50, 2, body)


def _opts(*flags: str) -> GlobalOptions:
    from pybpftool.cli.common.grammar import parse_global_options

    return parse_global_options("tc", list(flags))[0]


def _parms(index: int, action: int, ref: int = 1) -> bytes:
    return _u32(index) + _u32(0) + _u32(action) + _u32(ref) + _u32(0)


GACT = _dump(
    _action(0, "gact", rtattr(2, _parms(1, 2)), rtattr(10, _u32(0))),
    _action(1, "gact", rtattr(2, _parms(2, 0x20000005))),
)
BPF = _dump(
    _action(
        0,
        "bpf",
        rtattr(2, _parms(2, 3))
        + rtattr(3, (1).to_bytes(2, sys.byteorder))
        + rtattr(4, (6).to_bytes(2, sys.byteorder) + bytes(6)),
    ),
    _action(
        1,
        "bpf",
        rtattr(2, _parms(3, 2))
        + rtattr(6, b"f.o:[action]\0")
        + rtattr(8, bytes(range(0, 0x88, 0x11))),
    ),
)


def test_gact_text_and_json() -> None:
    text, status = print_action_messages([GACT], _opts(), FakeNetlink())
    assert status == 0
    assert text == (
        "total acts 2\n"
        "\n\taction order 0: gact action drop\n\t random type none pass val 0\n"
        "\t index 1 ref 1 bind 0\n\tnot_in_hw\n"
        "\n\taction order 1: gact action goto chain 5\n\t random type none pass val 0\n"
        "\t index 2 ref 1 bind 0\n"
    )
    text, _ = print_action_messages([GACT], _opts("-j"), FakeNetlink())
    assert text == (
        '[{"total acts":2},{"actions":[{"order":0,"kind":"gact","control_action":{"type":"drop"},'
        '"prob":{"random_type":"none","control_action":{"type":"pass"},"val":0},"index":1,'
        '"ref":1,"bind":0,"not_in_hw":true},{"order":1,"kind":"gact","control_action":'
        '{"type":"goto","chain":5},"prob":{"random_type":"none","control_action":{"type":"pass"},'
        '"val":0},"index":2,"ref":1,"bind":0}]}]\n'
    )


def test_bpf_text_and_json_keep_tcs_raw_newline() -> None:
    """m_bpf.c ends with fprintf(f, "\\n "), which lands in the JSON document too."""
    text, _ = print_action_messages([BPF], _opts(), FakeNetlink())
    assert text == (
        "total acts 2\n"
        "\n\taction order 0: bpf bytecode '1,6 0 0 0' default-action pipe\n"
        "\t index 2 ref 1 bind 0\n "
        "\n\taction order 1: bpf f.o:[action] tag 0011223344556677 default-action drop\n"
        "\t index 3 ref 1 bind 0\n "
    )
    text, _ = print_action_messages([BPF], _opts("-j"), FakeNetlink())
    assert text == (
        '[{"total acts":2},{"actions":[{"order":0,"kind":"bpf","bytecode":{"length":1,"insns":'
        '[{"code":6,"jt":0,"jf":0,"k":0}]},"control_action":{"type":"pipe"},"index":2,"ref":1,'
        '"bind":0\n },{"order":1,"kind":"bpf","bpf_name":"f.o:[action]","tag":"0011223344556677",'
        '"control_action":{"type":"drop"},"index":3,"ref":1,"bind":0\n }]}]\n'
    )


def test_mirred_and_unknown_kinds() -> None:
    mirred = rtattr(2, _parms(7, 4) + _u32(1) + _u32(2))
    reply = _dump(_action(0, "mirred", mirred), _action(1, "vlan", b"\0\0\0\0"))
    text, _ = print_action_messages([reply], _opts(), FakeNetlink())
    assert text == (
        "total acts 2\n"
        "\n\taction order 0: mirred (Egress Redirect to device v1) stolen\n"
        "\tindex 7 ref 1 bind 0\n"
        "\n\taction order 1: vlan [options not decoded by pytc] "
    )


def test_get_reply_without_count_and_empty_json(recorder: type[Recorder]) -> None:
    empty = RawMessage(50, 0, bytes(4) + rtattr(1, b""))
    text, _ = print_action_messages([empty], _opts("-j"), FakeNetlink())
    assert text == '[{"total acts":0},{"actions":[]}]\n'
    text, _ = print_action_messages([], _opts("-j"), FakeNetlink())
    assert text == "[]\n"
