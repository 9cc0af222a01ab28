"""Bad input: every case gives exactly one ObjectError with a clear one-line message."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import bpfobjs
import pytest

from pybpftool.elf import parse_elf
from pybpftool.errors import ObjectError
from pybpftool.parser import parse_object

FIXUP_HINT = "Error fixing up map structure, incompatible struct bpf_elf_map used?"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param(
            "bad/legacy_future",
            "struct bpf_elf_map not supported, coming from future version?",
            id="too-large",
        ),
        pytest.param(
            "bad/legacy_small", "struct bpf_elf_map too small, not supported!", id="too-small"
        ),
        pytest.param(
            "bad/legacy_not_multiple",
            "Number BPF map symbols are not multiple of struct bpf_elf_map!",
            id="not-multiple",
        ),
        pytest.param(
            "bad/legacy_different", "Different struct bpf_elf_map in use!", id="different-structs"
        ),
    ],
)
def test_legacy_map_struct_size_errors(name: str, message: str, target: str) -> None:
    with pytest.raises(ObjectError) as info:
        parse_object(bpfobjs.build(name, target))
    assert (info.value.message, info.value.hint) == (message, FIXUP_HINT)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param(
            "bad/legacy_no_inner_id",
            "Map 'outer' cannot be created since no inner map ID defined!",
            id="no-inner-id",
        ),
        pytest.param("bad/unknown_map_type", "map 'odd': unknown map type 99", id="unknown-type"),
        pytest.param(
            "bad/btf_key_conflict", "map 'clash': conflicting key size 8 != 4", id="key-conflict"
        ),
        pytest.param(
            "bad/btf_values_not_last",
            "map 'outer': 'values' member should be last",
            id="values-not-last",
        ),
        pytest.param(
            "bad/no_programs",
            "object has no programs (no executable section besides .text)",
            id="no-programs",
        ),
    ],
)
def test_bad_map_and_program_definitions(name: str, message: str, target: str) -> None:
    with pytest.raises(ObjectError) as info:
        parse_object(bpfobjs.build(name, target))
    assert info.value.message == message


def good(target: str = "bpfel") -> bytes:
    return bpfobjs.build("legacy_maps", target).read_bytes()


def patched(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    buf = bytearray(data)
    struct.pack_into(("<" if data[5] == 1 else ">") + fmt, buf, offset, value)
    return bytes(buf)


def section_header(data: bytes, name: str) -> int:
    elf = parse_elf(data)
    shoff = struct.unpack_from(elf.byteorder + "Q", data, 40)[0]
    sec = elf.section_by_name(name)
    assert sec is not None
    return int(shoff) + sec.ndx * 64


def first_relocation(data: bytes) -> int:
    elf = parse_elf(data)
    rel = elf.section_by_name(".relclassifier")
    assert rel is not None
    return rel.offset


def btf_offset(data: bytes) -> int:
    sec = parse_elf(data).section_by_name(".BTF")
    assert sec is not None
    return sec.offset


CASES = [
    pytest.param(lambda d: b"", "not an ELF file", id="empty"),
    pytest.param(lambda d: b"#!/bin/sh\necho hi\n", "not an ELF file", id="not-elf"),
    pytest.param(
        lambda d: d[:4] + b"\x01" + d[5:], "32-bit ELF file, eBPF objects are ELF64", id="elf32"
    ),
    pytest.param(lambda d: d[:40], "truncated ELF header", id="truncated-header"),
    pytest.param(
        lambda d: patched(d, 18, "H", 62),
        "ELF format error, ELF file not for eBPF? (e_machine 62, expected EM_BPF)",
        id="not-em-bpf",
    ),
    pytest.param(
        lambda d: patched(d, 16, "H", 2),
        "ELF format error, ELF file not for eBPF? (not a relocatable object)",
        id="not-relocatable",
    ),
    pytest.param(
        lambda d: d[: len(d) - 100],
        "truncated ELF section header table",
        id="truncated-section-headers",
    ),
    pytest.param(
        lambda d: patched(d, section_header(d, "classifier") + 32, "Q", 1 << 40),
        "section",
        id="section-outside-file",
    ),
    pytest.param(
        lambda d: patched(d, section_header(d, "classifier"), "I", 0xFFFFFF),
        "string index 16777215 outside its string table",
        id="bad-section-name",
    ),
    pytest.param(
        lambda d: patched(d, first_relocation(d) + 8, "Q", (0xFFFF << 32) | 1),
        "unknown symbol index 65535",
        id="relocation-unknown-symbol",
    ),
    pytest.param(
        lambda d: patched(d, first_relocation(d), "Q", 1 << 20),
        "outside its section or not instruction-aligned",
        id="relocation-outside",
    ),
    pytest.param(lambda d: patched(d, btf_offset(d), "H", 0x1234), "BTF", id="bad-btf-magic"),
]


@pytest.mark.parametrize(("mutate", "needle"), CASES)
def test_broken_files(mutate, needle: str, target: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ObjectError) as info:
        parse_object(mutate(good(target)))
    assert needle in info.value.message
    assert "\n" not in info.value.message


def test_bad_btf_type_kind(target: str) -> None:
    data = good(target)
    off = btf_offset(data)
    bo = "<" if data[5] == 1 else ">"
    hdr_len = struct.unpack_from(bo + "I", data, off + 4)[0]
    type_off = struct.unpack_from(bo + "I", data, off + 8)[0]
    info_at = off + hdr_len + type_off + 4  # first type's info word: kind in bits 24-28
    with pytest.raises(ObjectError, match="kind"):
        parse_object(patched(data, info_at, "I", 31 << 24))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ObjectError, match="No such file or directory"):
        parse_object(tmp_path / "absent.o")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ObjectError, match="is a directory"):
        parse_object(tmp_path)


def test_x86_object_is_not_ebpf(tmp_path: Path) -> None:
    src = tmp_path / "x.c"
    src.write_text("int f(void) { return 1; }\n")
    obj = tmp_path / "x.o"
    subprocess.run(
        [bpfobjs.CLANG, "-target", "x86_64-linux-gnu", "-c", str(src), "-o", str(obj)], check=True
    )
    with pytest.raises(ObjectError, match="not for eBPF"):
        parse_object(obj)
