"""Pure parts of pyip/pytc: batch lines, the BPF sub-grammar, iproute2's JSON writer."""

from __future__ import annotations

import io

import pytest

from pybpftool.cli import jsonw
from pybpftool.cli.batch import command_lines, split_words
from pybpftool.cli.bpfsource import parse_mode
from pybpftool.cli.grammar import IprouteExit
from pybpftool.cli.words import Words


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
    from pybpftool.cli.cbpf import encode, parse_bytecode

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

    from pybpftool.cli.attach import parse_cached

    obj = tmp_path / "o.o"
    shutil.copy(bpfobjs.build("legacy_maps", "bpfel"), obj)
    first = parse_cached(str(obj))
    assert parse_cached(str(obj)) is first
    os.utime(obj, ns=(1, 1))  # a new mtime: the file may have been rebuilt
    assert parse_cached(str(obj)) is not first
