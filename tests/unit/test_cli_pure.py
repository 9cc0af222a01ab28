"""Pure parts of pyip/pytc: batch lines, the BPF sub-grammar, iproute2's JSON writer, tc's
number parsers and formats, qdisc lines for kinds the test kernel lacks."""

from __future__ import annotations

import io

import pytest

from pybpftool.cli.common import jsonw
from pybpftool.cli.common.batch import command_lines, split_words
from pybpftool.cli.common.bpfsource import parse_mode
from pybpftool.cli.common.grammar import IprouteExit
from pybpftool.cli.common.words import Words


def test_batch_words_quotes_and_comments() -> None:
    assert split_words("link set 'dev' \"v0\"  xdp\toff") == [
        "link",
        "set",
        "dev",
        "v0",
        "xdp",
        "off",
    ]
    lines = list(
        command_lines(io.StringIO("# only a comment\nlink set v0 \\\n xdp off # tail\n\n"))
    )
    assert lines == [(3, ["link", "set", "v0", "xdp", "off"])]
    # iproute2 cuts at the first '#', even inside quotes, leaving the quote open
    with pytest.raises(IprouteExit, match="Unterminated quoted string") as caught:
        list(command_lines(io.StringIO("link set 'a#b'\n")))
    assert caught.value.status == 1


def test_batch_lines_come_one_by_one_as_getline_reads_them() -> None:
    from pybpftool.cli.common.batch import MissingContinuation

    # the commands before a bad line are read (and run) first
    lines = command_lines(io.StringIO("qdisc show\nqdisc show 'dev\nqdisc show\n"))
    assert next(lines) == (1, ["qdisc", "show"])
    with pytest.raises(IprouteExit, match="Unterminated quoted string") as caught:
        next(lines)
    assert caught.value.fatal and caught.value.status == 1
    # a '#' cuts the line before the backslash is looked at; '\r' ends no line
    text = "a b # c \\\nd\re\n"
    assert list(command_lines(io.StringIO(text))) == [(1, ["a", "b"]), (2, ["d", "e"])]
    # a backslash-newline at the very end: the batch stops there, not fatal
    lines = command_lines(io.StringIO("a\nb \\\n"))
    assert next(lines) == (1, ["a"])
    with pytest.raises(MissingContinuation) as missing:
        next(lines)
    assert missing.value.fatal is False
    # without the newline the backslash is a word
    assert list(command_lines(io.StringIO("a \\"))) == [(1, ["a", "\\"])]
    assert len(split_words("w " * 511)) == 511
    with pytest.raises(IprouteExit, match="Too many arguments to command"):
        split_words("w " * 512)
    with pytest.raises(IprouteExit, match="Too many arguments to command"):
        split_words("w " * 512 + "'q'")  # the quoted way counts alike


@pytest.mark.parametrize(
    "line",
    [
        "filter replace dev v0 ingress bpf da obj o.o sec tc\n",
        " \t lead\r\rand  trail \n",
        "vt\x0bff\x0cnbsp\u00a0and\u2003em are no blanks of makeargs",
        "",
        " \t\r\n",
        "a'b c\"d e",  # a quote inside a word is part of it
        "x 'q r' y",
    ],
)
def test_batch_words_only_blanks_cut_them(line: str) -> None:
    """makeargs() cuts at ' ', '\\t', '\\r' and '\\n' only (not at every isspace());
    a line with quotes goes the quoting way, one without the plain one: the same words."""

    def makeargs(text: str) -> list[str]:
        words, word, quote = [], "", None
        for i, ch in enumerate(text):
            if quote is not None:
                if ch == quote:
                    words.append(word)
                    word, quote = "", None
                else:
                    word += ch
            elif ch in " \t\r\n":
                if word:
                    words.append(word)
                word = ""
            elif ch in "'\"" and not word and (i == 0 or text[i - 1] in " \t\r\n'\""):
                quote = ch
            else:
                word += ch
        return [*words, word] if word else words

    assert split_words(line) == makeargs(line)


def test_exiting_helpers_are_fatal_returned_errors_are_not() -> None:
    from pybpftool.cli.common.boundary import ends_batch
    from pybpftool.cli.common.words import duparg, duparg2, incomplete, invarg, missarg

    for err in (incomplete(), duparg("a", "b"), duparg2("a", "b"), invarg("m", "x"), missarg("k")):
        assert err.fatal and err.status == 255
        assert ends_batch("tc", err, 255) and ends_batch("ip", err, 255)
    # their wording marks a message built elsewhere, with more lines after it
    assert IprouteExit(invarg("Invalid pid\n", "x").message + "\n", 255).fatal
    returned = IprouteExit('What mode is "x"?', 255)
    assert returned.fatal is None
    assert not ends_batch("tc", returned, 255)  # tc returns -1 as 255 as well
    assert ends_batch("ip", returned, 255)  # ip's 255 is exit(-1): do_cmd negates -1 into 1
    assert not ends_batch("ip", IprouteExit("Invalid VRF", 255), 255)  # ipvrf_show returns 1
    assert not ends_batch("ip", IprouteExit("pyip link show: x", 255), 255)
    assert not ends_batch("ip", IprouteExit('Cannot find device "x"', 1), 1)
    assert not ends_batch("ip", IprouteExit("Object ...", 255, fatal=False), 255)


def test_tc_exec_bpf_needs_the_words_e_bpf_takes() -> None:
    from pybpftool.cli.common.context import RunContext
    from pybpftool.cli.tc.exec_bpf import parse_bpf

    run = RunContext()
    assert parse_bpf(run, Words([])) == 0
    for words in ("run", "import", "import u run", "import u import", "graft", "graft m"):
        with pytest.raises(IprouteExit, match="Command line is not complete") as caught:
            parse_bpf(run, Words(words.split()))
        assert caught.value.fatal, words
    with pytest.raises(IprouteExit, match="No import parameter provided") as caught:
        parse_bpf(run, Words(["run", "sh"]))
    assert caught.value.fatal is None
    for key in ("x", "-1", "0x100000000"):
        with pytest.raises(IprouteExit, match='Illegal "key"'):
            parse_bpf(run, Words(["graft", "m", "key", key, "obj", "f.o"]))


def test_global_options_in_order_netns_switched_while_parsing() -> None:
    from pybpftool.cli.common.grammar import ShowUsage, parse_global_options

    entered: list[str] = []

    def refuse(name: str) -> None:
        entered.append(name)
        raise IprouteExit(f'Cannot open network namespace "{name}"', 255)

    # the namespace fails before a later option, the version or the object is looked at
    for argv in (["-n", "x", "-bogus"], ["-n", "x", "-V"], ["-n", "x", "bogus"]):
        with pytest.raises(IprouteExit, match="Cannot open network namespace"):
            parse_global_options("tc", argv, refuse)
    with pytest.raises(IprouteExit, match='Option "-bogus" is unknown'):
        parse_global_options("tc", ["-bogus", "-n", "x"], refuse)
    assert entered == ["x", "x", "x"]
    opts, rest = parse_global_options("ip", ["-n", "a", "-n", "b", "link"], entered.append)
    assert entered[-2:] == ["a", "b"] and rest == ["link"] and opts.netns == "b"
    parse_global_options("tc", ["-n"], entered.append)
    assert entered[-1] == "(null)"  # NEXT_ARG() lets argv's NULL through
    # -Version stops at once; -help is usage (ip exits 255, tc 0); a missing value too
    opts, rest = parse_global_options("tc", ["-V", "-bogus", "-n", "x"], refuse)
    assert opts.version and rest == ["-bogus", "-n", "x"]
    for tool, argv, status, times in [
        ("tc", ["-h", "-bogus"], 0, 1),
        ("ip", ["-help"], 255, 1),
        ("tc", ["-batch"], 0, 2),
        ("ip", ["-batch"], 255, 1),
        ("ip", ["-family", "help"], 255, 1),
    ]:
        with pytest.raises(ShowUsage) as usage:
            parse_global_options(tool, argv)
        assert (usage.value.status, usage.value.times) == (status, times), argv
    assert parse_global_options("tc", ["-cf"])[1] == []
    # "-" is a prefix of the first option; colour only with a known WHEN
    assert parse_global_options("tc", ["-", "qdisc"])[0].stats == 1
    assert parse_global_options("ip", ["-", "3", "link"])[1] == ["link"]
    assert parse_global_options("tc", ["-c=never", "qdisc"])[0].extra["color"] == "never"
    with pytest.raises(IprouteExit, match='Option "-color=bogus" is unknown'):
        parse_global_options("tc", ["-color=bogus"])
    with pytest.raises(IprouteExit, match='"bogus" is wrong: invalid protocol family'):
        parse_global_options("ip", ["-f", "bogus", "link"])
    with pytest.raises(IprouteExit, match="Invalid rcvbuf size 'x'"):
        parse_global_options("ip", ["-rcvbuf", "x", "link"])
    with pytest.raises(IprouteExit, match="Invalid rcvbuf size '18446744073709551617'"):
        parse_global_options("ip", ["-rcvbuf", "18446744073709551617", "link"])


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("obj f.o", ("obj", "f.o", None, None, False)),
        ("o f.o s cls verbose", ("obj", "f.o", "cls", None, True)),
        ("object-file f.o section cls program main v", ("obj", "f.o", "cls", "main", True)),
        ("fd /sys/fs/bpf/p", ("pinned", "/sys/fs/bpf/p", None, None, False)),
        ("p m:globals/x", ("pinned", "m:globals/x", None, None, False)),
        ("bc 1,6", ("bytecode", "1,6", None, None, False)),
    ],
)
def test_bpf_mode_and_options_in_iproute2_order(words: str, expected: tuple[object, ...]) -> None:
    src = parse_mode(Words(words.split()), allow_bytecode=True, allow_type=False)
    assert (src.mode, src.path, src.section, src.program, src.verbose) == expected


def test_options_out_of_order_are_left_to_the_caller() -> None:
    words = Words(["obj", "f.o", "verbose", "sec", "x"])
    src = parse_mode(words, allow_bytecode=True, allow_type=False)
    assert src.verbose and src.section is None and words.peek() == "sec"


def test_unknown_mode_and_missing_file() -> None:
    with pytest.raises(IprouteExit, match=r'What mode is "bogus"\?'):
        parse_mode(Words(["bogus", "x"]), allow_bytecode=True, allow_type=False)
    with pytest.raises(IprouteExit, match="Command line is not complete"):
        parse_mode(Words(["obj"]), allow_bytecode=True, allow_type=False)
    with pytest.raises(IprouteExit, match=r'What mode is "bytecode"\?'):
        parse_mode(Words(["bytecode", "1,6"]), allow_bytecode=False, allow_type=False)


def test_json_writer_matches_tc_pretty_layout() -> None:
    doc = [{"a": 1}, {"b": {"c": True, "d": [1, 2]}}]
    assert jsonw.dumps(doc) == '[{"a":1},{"b":{"c":true,"d":[1,2]}}]'
    assert jsonw.dumps(doc, pretty=True) == (
        "[ {\n"
        '        "a": 1\n'
        "    },{\n"
        '        "b": {\n'
        '            "c": true,\n'
        '            "d": [ 1,2 ]\n'
        "        }\n"
        "    } ]"
    )


def test_classic_bytecode_like_iproute2() -> None:
    from pybpftool.cli.tc.cbpf import encode, parse_bytecode

    assert parse_bytecode("2,6 0 0 1,6 0 0 4294967295") == [(6, 0, 0, 1), (6, 0, 0, 0xFFFFFFFF)]
    assert parse_bytecode("1,65542 256 1 0") == [(6, 0, 1, 0)]  # %hu/%hhu wrap
    assert len(encode([(6, 0, 0, 1)])) == 8
    for text, message in [
        ("2,6 0 0 1", "Parsed program length is less than encoded length parameter!"),
        ("1,6 0 0 1,6 0 0 2", "Real program length exceeds encoded length parameter!"),
        ("1,6 x", "Error at instruction 0!"),
        ("1 6 0 0 1", "Unable to parse bpf command line"),
        ("0,6 0 0 1", "Unable to parse bpf command line"),
    ]:
        with pytest.raises(IprouteExit) as caught:
            parse_bytecode(text)
        assert caught.value.message.splitlines()[0] == message
        assert caught.value.status == 1


def test_batch_lines_parse_an_object_once_until_it_changes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import shutil

    import bpfobjs

    from pybpftool.cli.common.context import RunContext

    obj = tmp_path / "o.o"
    shutil.copy(bpfobjs.build("legacy_maps", "bpfel"), obj)
    run = RunContext()
    first = run.parse(str(obj))
    assert run.parse(str(obj)) is first
    os.utime(obj, ns=(1, 1))  # a new mtime: the file may have been rebuilt
    assert run.parse(str(obj)) is not first
    assert RunContext().parse(str(obj)) is not run.parse(str(obj))  # per run


def _nla(kind: int, payload: bytes) -> bytes:
    size = 4 + len(payload)
    return size.to_bytes(2, "little") + kind.to_bytes(2, "little") + payload + bytes(-size % 4)


def _u32s(*values: int) -> bytes:
    return b"".join(v.to_bytes(4, "little") for v in values)


@pytest.mark.parametrize(
    ("text", "base", "expected"),
    [
        ("10", 0, 10),
        ("0x10", 0, 16),
        ("010", 0, 8),
        ("10", 16, 16),
        ("0x", 0, None),  # "0" then "x" left over
        ("", 0, None),
        ("-1", 0, None),  # strtoul wraps it past UINT_MAX
        ("4294967295", 0, 0xFFFFFFFF),
        ("4294967296", 0, None),
        ("12ab", 10, None),
        ("08", 0, None),  # octal: "0" then "8" left over
        ("10", 16, 16),
        ("\u0661", 0, None),  # ARABIC-INDIC DIGIT ONE: str.isdigit, never strtoul's
    ],
)
def test_get_u32_like_lib_utils(text: str, base: int, expected: int | None) -> None:
    from pybpftool.cscan import c_unsigned

    assert c_unsigned(text, base) == expected


@pytest.mark.parametrize(
    ("text", "strtoul", "scanf_i"),
    [
        ("  +12x", (12, 5), (12, 5)),
        ("-1", (0xFFFFFFFFFFFFFFFF, 2), (-1, 2)),  # strtoul wraps, %i keeps the sign
        ("-0x10", ((-16) % (1 << 64), 5), (-16, 5)),
        ("077", (63, 3), (63, 3)),
        ("18446744073709551617", (0xFFFFFFFFFFFFFFFF, 20), (18446744073709551617, 20)),
        ("0x", (0, 1), (0, 1)),  # the "0" only
        ("x", (0, 0), None),
    ],
)
def test_one_c_number_scanner(
    text: str, strtoul: tuple[int, int], scanf_i: tuple[int, int] | None
) -> None:
    """strtoul (arguments) and %i (iproute2's file formats) read numbers alike but for what
    they make of a sign and an overflow."""
    from pybpftool.cscan import c_strtoul, scan_c_int

    assert c_strtoul(text, 0) == strtoul
    assert scan_c_int(text, 0) == scanf_i


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("root", 0xFFFFFFFF),
        ("none", 0),
        ("1:", 0x10000),
        ("1:2", 0x10002),
        (":5", 5),
        ("ffff:fff2", 0xFFFFFFF2),
        ("10", 0x10),  # no colon: the whole number
        ("10000:", None),
        ("1:10000", None),
        ("x", None),
        ("1:x", None),
    ],
)
def test_tc_classid_like_get_tc_classid(text: str, expected: int | None) -> None:
    from pybpftool.cli.tc.handles import tc_classid_value
    from pybpftool.cli.tc.show import tc_classid

    assert tc_classid_value(text) == expected
    if expected not in (None, 0x10):
        assert tc_classid_value(tc_classid(expected)) == expected  # type: ignore[arg-type]


def test_qdisc_handles_sizes_and_protocols() -> None:
    from pybpftool.cli.tc.handles import qdisc_handle_value
    from pybpftool.cli.tc.qdisc import size_value
    from pybpftool.cli.tc.show import protocol_name, protocol_number

    assert [qdisc_handle_value(t) for t in ("1:", "ffff", "1:5", "none", "10000:", "1x")] == [
        0x10000,
        0xFFFF0000,
        0x10000,
        0,
        None,
        None,
    ]
    assert [size_value(t) for t in ("10kb", "1.5m", "1000", "2KBIT", "x", "-1", "5g")] == [
        10240,
        1572864,
        1000,
        256,
        None,
        None,
        None,
    ]
    assert protocol_number("IPv6") == 0x86DD and protocol_number("0x1234") == 0x1234
    assert protocol_number("nope") is None and protocol_number("70000") is None
    assert protocol_name(0x0800) == "ip" and protocol_name(0x8100) == "802.1Q"
    assert protocol_name(0x1234) == "[4660]" and protocol_name(3, numeric=True) == "[3]"


def test_tc_number_formats() -> None:
    from pybpftool.cli.tc.show import c_hex, rate_text, size_text, time_text

    # rint() rounds half to even: 1536 is 2 KiB give or take 512, so it stays in bytes
    assert [size_text(n) for n in (0, 1514000, 10240, 33554432, 1536, 1030)] == [
        "0b",
        "1514000b",
        "10Kb",
        "32Mb",
        "1536b",
        "1Kb",
    ]
    assert [time_text(n) for n in (4999, 99999, 500, 2_500_000)] == [
        "5ms",
        "100ms",
        "500us",
        "2.5s",
    ]
    assert rate_text(125000, False) == "1Mbit" and rate_text(12, False) == "96bit"
    assert rate_text(128, True) == "1Kibit"
    assert c_hex(0) == "0" and c_hex(0x12) == "0x12"


def _opts(*flags: str):  # type: ignore[no-untyped-def]
    from pybpftool.cli.common.grammar import parse_global_options

    return parse_global_options("tc", list(flags))[0]


def test_qdisc_lines_for_kinds_the_test_kernel_lacks() -> None:
    """fq_codel, prio's multiqueue, htb offload: no such qdisc in the test kernel, so their
    lines are checked here against what q_fq_codel.c / q_prio.c / q_htb.c print."""
    from pybpftool.cli.tc.qdiscshow import print_qdiscs
    from pybpftool.netlink import Qdisc

    options = b"".join(
        _nla(kind, _u32s(value))
        for kind, value in ((1, 4999), (2, 10240), (3, 99999), (4, 1), (5, 1024), (6, 1514))
    )
    options += _nla(8, _u32s(64)) + _nla(9, _u32s(33554432))
    stats2 = _nla(1, bytes(16)) + _nla(3, bytes(20)) + _nla(4, _u32s(0, 1514, *[0] * 8))
    fq = Qdisc(2, 0, 0xFFFFFFFF, 2, {1: b"fq_codel\0", 2: options, 7: stats2})
    assert print_qdiscs([fq], _opts("-s"), {2: "eth0"}, False) == (
        "qdisc fq_codel 0: dev eth0 root refcnt 2 limit 10240p flows 1024 quantum 1514 "
        "target 5ms interval 100ms memory_limit 32Mb ecn drop_batch 64 \n"
        " Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0) \n"
        " backlog 0b 0p requeues 0\n"
        "  maxpacket 1514 drop_overlimit 0 new_flow_count 0 ecn_mark 0\n"
        "  new_flows_len 0 old_flows_len 0\n"
    )
    assert print_qdiscs([fq], _opts("-j"), {}, True) == (
        '[{"kind":"fq_codel","handle":"0:","root":true,"refcnt":2,"options":{"limit":10240,'
        '"flows":1024,"quantum":1514,"target":4999,"interval":99999,'
        '"memory_limit":33554432,"ecn":true,"drop_batch":64}}]\n'
    )
    prio = _u32s(3) + bytes([1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1])
    prio += _nla(0, _nla(1, b"\1"))  # the compat nest holding TCA_PRIO_MQ
    pq = Qdisc(2, 0x10000, 0xFFFFFFFF, 1, {1: b"prio\0", 2: prio})
    assert print_qdiscs([pq], _opts(), {}, True) == (
        "qdisc prio 1: root bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1 multiqueue: on \n"
    )
    htb = _nla(2, _u32s(0x30011, 10, 0x12, 0, 3)) + _nla(5, _u32s(1000)) + _nla(9, b"")
    hq = Qdisc(2, 0x10000, 0xFFFFFFFF, 1, {1: b"htb\0", 2: htb})
    assert print_qdiscs([hq], _opts("-j"), {}, True) == (
        '[{"kind":"htb","handle":"1:","root":true,"options":{"r2q":10,"default":"0x12",'
        '"direct_packets_stat":3,"direct_qlen":1000,"offload":null}}]\n'
    )
    tbf = Qdisc(2, 0x10000, 0xFFFFFFFF, 1, {1: b"tbf\0", 2: bytes(40)})
    other = Qdisc(2, 0x20000, 0x10001, 1, {1: b"newkind\0", 2: bytes(8)})
    assert print_qdiscs([tbf, other], _opts(), {}, True) == (
        "qdisc tbf 1: root [options not decoded by pytc, optlen=40] \n"
        "qdisc newkind 2: parent 1:1 [Unknown qdisc, optlen=8] \n"
    )


def test_qdisc_stats_with_rate_estimator_and_hardware_counters() -> None:
    from pybpftool.cli.tc.qdiscshow import print_qdiscs
    from pybpftool.netlink import Qdisc

    basic = (3000).to_bytes(8, "little") + _u32s(30, 0)
    stats2 = _nla(1, basic) + _nla(2, _u32s(1250, 10)) + _nla(3, _u32s(1, 1514, 2, 0, 4))
    stats2 += _nla(7, (1000).to_bytes(8, "little") + _u32s(10, 0))
    q = Qdisc(2, 0x10000, 0xFFFFFFFF, 1, {1: b"pfifo\0", 2: _u32s(1000), 7: stats2})
    assert print_qdiscs([q], _opts("-s"), {}, True) == (
        "qdisc pfifo 1: root limit 1000p\n"
        " Sent 3000 bytes 30 pkt (dropped 2, overlimits 4 requeues 0) \n"
        " Sent software 2000 bytes 20 pkt\n"
        " Sent hardware 1000 bytes 10 pkt\n"
        " rate 10Kbit 10pps backlog 1514b 1p requeues 0\n"
    )
