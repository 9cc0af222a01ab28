""".BTF.ext from hand-built blobs: records found by section, and each refusal, with the
refusal a block-by-block walk gives first when a blob has several faults."""

from __future__ import annotations

import struct

import pytest

from pybpftool.btf import BtfSpec, FuncInfo, LineInfo, parse_btf, parse_btf_ext
from pybpftool.errors import ObjectError

BTF_MAGIC = 0xEB9F
STRINGS = b"\0xdp\0.text\0file.c\0line\0"
XDP, TEXT, FILE, LINE = 1, 5, 11, 18


@pytest.fixture(params=["<", ">"], ids=["le", "be"])
def bo(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def btf(bo: str, strings: bytes = STRINGS) -> BtfSpec:
    """btf: a .BTF with no types and `strings`."""
    header = struct.pack(bo + "HBBIIIII", BTF_MAGIC, 1, 0, 24, 0, 0, 0, len(strings))
    return parse_btf(header + strings, bo)


def block(bo: str, name_off: int, *records: tuple[int, ...], count: int | None = None) -> bytes:
    """block: a section's block header and its records (each a tuple of u32 words)."""
    count = len(records) if count is None else count
    return struct.pack(bo + "II", name_off, count) + b"".join(
        struct.pack(f"{bo}{len(r)}I", *r) for r in records
    )


def ext(bo: str, func_info: bytes = b"", line_info: bytes = b"", pad: int = 0) -> bytes:
    """ext: a .BTF.ext with these func_info and line_info parts, `pad` bytes apart."""
    hdr_len = 32
    li_off = len(func_info) + pad
    header = struct.pack(
        bo + "HBBIIIIIII", BTF_MAGIC, 1, 0, hdr_len, 0, len(func_info), li_off, len(line_info), 0, 0
    )
    return header + func_info + bytes(pad) + line_info


def funcs(bo: str, *blocks: bytes, rec_size: int = 8) -> bytes:
    return struct.pack(bo + "I", rec_size) + b"".join(blocks)


@pytest.mark.parametrize("pad", [0, 1, 2, 3])
def test_records_by_section(bo: str, pad: int) -> None:
    func_info = funcs(
        bo,
        block(bo, XDP, (0, 7)),
        block(bo, TEXT, (0, 8), (16, 9)),
        block(bo, XDP, (24, 10)),  # a second block of one section: its records follow
    )
    line = (8, FILE, LINE, 12 << 10 | 5)
    line_info = funcs(bo, block(bo, TEXT, line, line), rec_size=16)
    spec = parse_btf_ext(ext(bo, func_info, line_info, pad), bo, btf(bo))
    assert spec.func_info == {
        "xdp": (FuncInfo(0, 7), FuncInfo(24, 10)),
        ".text": (FuncInfo(0, 8), FuncInfo(16, 9)),
    }
    record = LineInfo(8, "file.c", "line", 12, 5, FILE, LINE)
    assert spec.line_info == {".text": (record, record)}
    assert spec.core_relos == {}


def test_larger_records_keep_their_known_head(bo: str) -> None:
    func_info = funcs(bo, block(bo, XDP, (0, 7, 99), (8, 6, 98)), rec_size=12)
    spec = parse_btf_ext(ext(bo, func_info), bo, btf(bo))
    assert spec.func_info == {"xdp": (FuncInfo(0, 7), FuncInfo(8, 6))}


FAULTS = [
    pytest.param(
        lambda bo: funcs(bo, block(bo, XDP, (0, 1)), block(bo, TEXT, count=0), bytes(40)),
        "func_info block has a bad record count 0",
        id="no-records",
    ),
    pytest.param(
        lambda bo: funcs(bo, block(bo, XDP, (0, 1)), block(bo, TEXT, (0, 1), count=2)),
        "func_info block has a bad record count 2",
        id="records-past-the-end",
    ),
    pytest.param(
        lambda bo: funcs(bo, block(bo, XDP, (0, 1)), block(bo, TEXT, count=2**32 - 1)),
        "func_info block has a bad record count 4294967295",
        id="huge-count",
    ),
    pytest.param(
        lambda bo: funcs(bo, block(bo, XDP, (0, 1)), bytes(4)),
        "func_info block header is truncated",
        id="one-word-left",
    ),
    pytest.param(
        lambda bo: funcs(bo, block(bo, XDP, (0, 1)), bytes(7)),
        "func_info block header is truncated",
        id="7-bytes-left",
    ),
    pytest.param(
        lambda bo: funcs(bo, block(bo, XDP, (0, 1)), bytes(2)),
        "func_info block header is truncated",
        id="2-bytes-left",
    ),
    pytest.param(
        lambda bo: funcs(bo, block(bo, XDP, (0, 1)), rec_size=6),
        "func_info record size 6 is too small",
        id="record-size",
    ),
    pytest.param(
        # A name outside the strings, then a bad block: the name is refused first.
        lambda bo: funcs(bo, block(bo, 999, (0, 1)), block(bo, TEXT, count=0)),
        "string offset 999 outside the string section",
        id="name-before-bad-block",
    ),
    pytest.param(
        lambda bo: funcs(bo, block(bo, XDP, (0, 1)), block(bo, 999, (0, 1)), bytes(4)),
        "string offset 999 outside the string section",
        id="name-before-truncated-header",
    ),
    pytest.param(
        # The bad block's own name is not read: its count is refused first.
        lambda bo: funcs(bo, block(bo, XDP, (0, 1)), block(bo, 999, count=0)),
        "func_info block has a bad record count 0",
        id="bad-block-with-bad-name",
    ),
    pytest.param(
        # The first bad block is named, not a later one or the end.
        lambda bo: funcs(bo, block(bo, XDP, count=0), block(bo, TEXT, (0, 1), count=9)),
        "func_info block has a bad record count 0",
        id="first-of-two-bad-blocks",
    ),
    pytest.param(
        lambda bo: funcs(bo, block(bo, 50, (0, 1)), block(bo, 40, (0, 1))),
        "string offset 50 outside the string section",
        id="first-bad-name",
    ),
]


@pytest.mark.parametrize("pad", [0, 1, 3])
@pytest.mark.parametrize(("func_info", "message"), FAULTS)
def test_faults(bo: str, pad: int, func_info: object, message: str) -> None:
    blob = ext(bo, func_info(bo), funcs(bo, block(bo, 999, count=0)), pad)  # type: ignore[operator]
    with pytest.raises(ObjectError, match=message):
        parse_btf_ext(blob, bo, btf(bo))


def test_strings_without_a_final_nul_are_read_one_by_one(bo: str) -> None:
    spec = btf(bo, STRINGS + b"tail")
    func_info = funcs(bo, block(bo, XDP, (0, 1)), block(bo, TEXT, (0, 2)))
    assert set(parse_btf_ext(ext(bo, func_info), bo, spec).func_info) == {"xdp", ".text"}
    unterminated = len(STRINGS)
    func_info = funcs(bo, block(bo, XDP, (0, 1)), block(bo, unterminated, (0, 2)))
    with pytest.raises(ObjectError, match=f"string at offset {unterminated} is not NUL-termin"):
        parse_btf_ext(ext(bo, func_info), bo, spec)
