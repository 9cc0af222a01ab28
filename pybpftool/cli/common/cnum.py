"""cnum: C's number parsing as iproute2 reads its arguments: strtoul (base detection,
wrap-around, overflow), lib/utils.c get_u32/get_u16, and tc_util.c get_tc_classid."""

from __future__ import annotations

TC_H_ROOT = 0xFFFFFFFF


def c_strtoul(text: str, base: int) -> tuple[int, int]:
    """c_strtoul: C's strtoul: (value, index of the first unparsed character); an unsigned
    long's wrap-around for a minus sign and ULONG_MAX on overflow; (0, 0) if no digit."""
    pos, n = 0, len(text)
    while pos < n and text[pos] in " \t\n\r\f\v":
        pos += 1
    negative = pos < n and text[pos] == "-"
    if pos < n and text[pos] in "+-":
        pos += 1
    hexdigits = "0123456789abcdefABCDEF"
    if (
        base in (0, 16)
        and text.startswith(("0x", "0X"), pos)
        and pos + 2 < n
        and text[pos + 2] in hexdigits
    ):
        base, pos = 16, pos + 2
    elif base == 0:
        base = 8 if text.startswith("0", pos) else 10
    digits = {16: hexdigits, 8: "01234567"}.get(base, "0123456789")
    start = pos
    while pos < n and text[pos] in digits:
        pos += 1
    if pos == start:
        return 0, 0
    value = int(text[start:pos], base)
    if value > 0xFFFFFFFFFFFFFFFF:
        return 0xFFFFFFFFFFFFFFFF, pos
    return (-value) % (1 << 64) if negative else value, pos


def c_unsigned(text: str, base: int, limit: int = 0xFFFFFFFF) -> int | None:
    """c_unsigned: lib/utils.c get_u32 (get_u16 with limit 0xffff): the whole word a number."""
    if not text:
        return None
    value, end = c_strtoul(text, base)
    if end == 0 or end != len(text) or value > limit:
        return None
    return value


def tc_classid_value(text: str) -> int | None:
    """tc_classid_value: tc_util.c get_tc_classid: root, none, `maj:min`, `:min`, `maj:`, hex."""
    if text == "root":
        return TC_H_ROOT
    if text == "none":
        return 0
    major, end = c_strtoul(text, 16)
    if end == 0:
        major = 0
        if not text.startswith(":"):
            return None
    if text[end : end + 1] == ":":
        if major >= 1 << 16:
            return None
        rest = text[end + 1 :]
        minor, stop = c_strtoul(rest, 16)
        if stop != len(rest) or minor >= 1 << 16:
            return None
        return (major << 16) | minor
    if end != len(text):
        return None
    return major & 0xFFFFFFFF
