"""cbpf: classic BPF `bytecode 'N,c t f k,...'` and `bytecode-file` (lib/bpf_legacy.c).

The first number is the instruction count and must be followed by a comma; each instruction
is `code jt jf k` read as C's `%hu %hhu %hhu %u` (so values wrap to their field widths).
Messages and limits are iproute2's.
"""

from __future__ import annotations

import re
import sys

from pybpftool.cli.common.grammar import IprouteExit
from pybpftool.insn import BPF_MAXINSNS

_NUMBER = re.compile(r"\s*([+-]?)(\d+)")

Insn = tuple[int, int, int, int]


def _scan(text: str, pos: int, bits: int) -> tuple[int, int] | None:
    """_scan: C's %u-family conversion at `pos`: (value wrapped to `bits`, end) or None."""
    found = _NUMBER.match(text, pos)
    if found is None:
        return None
    value = int(found.group(2))
    if found.group(1) == "-":
        value = -value
    return value % (1 << bits), found.end()


def parse_bytecode(text: str) -> list[Insn]:
    """parse_bytecode: the instructions of a bytecode string; IprouteExit(1) when malformed."""
    head = _scan(text, 0, 16)
    if head is None or head[1] >= len(text) or text[head[1]] != ",":
        raise _unparsable()
    count = head[0]
    if count == 0 or count > BPF_MAXINSNS:
        raise _unparsable()
    insns: list[Insn] = []
    pos = head[1]
    while True:
        comma = text.find(",", pos)
        if comma < 0 or comma + 1 >= len(text):
            break
        pos = comma + 1
        if len(insns) >= count:
            raise _unparsable("Real program length exceeds encoded length parameter!")
        insns.append(_insn(text, pos, len(insns)))
    if len(insns) != count:
        raise _unparsable("Parsed program length is less than encoded length parameter!")
    return insns


def _insn(text: str, pos: int, index: int) -> Insn:
    fields = []
    for bits in (16, 8, 8, 32):
        scanned = _scan(text, pos, bits)
        if scanned is None:
            raise _unparsable(f"Error at instruction {index}!")
        fields.append(scanned[0])
        pos = scanned[1]
    return fields[0], fields[1], fields[2], fields[3]


def read_bytecode_file(path: str) -> str:
    """read_bytecode_file: the file's lines joined by commas, blanks squeezed (iproute2)."""
    try:
        with open(path) as f:
            lines = [line.strip("\n") for line in f]
    except OSError as err:
        raise _unparsable(f"Cannot fopen: {err.strerror}") from None
    text = ",".join(line.rstrip(",") for line in lines if line)
    return re.sub(r"[ \t]+", " ", text)


def encode(insns: list[Insn]) -> bytes:
    """encode: struct sock_filter[] in this machine's byte order, as the kernel reads it."""
    order = sys.byteorder
    return b"".join(
        code.to_bytes(2, order) + bytes((jt, jf)) + k.to_bytes(4, order)
        for code, jt, jf, k in insns
    )


def _unparsable(message: str | None = None) -> IprouteExit:
    lines = [message] if message else []
    return IprouteExit("\n".join([*lines, "Unable to parse bpf command line"]), 1)
