"""cscan: C's scanf conversions that iproute2's file and section formats rely on."""

from __future__ import annotations


def scan_c_int(text: str, pos: int) -> tuple[int, int] | None:
    """scan_c_int: C's `%i` at `pos`: leading blanks, sign, 0x hex / 0 octal / decimal.

    Returns (value, next position), or None when no digit could be read.
    """
    n = len(text)
    while pos < n and text[pos] in " \t\n\r\f\v":
        pos += 1
    sign = 1
    if pos < n and text[pos] in "+-":
        sign = -1 if text[pos] == "-" else 1
        pos += 1
    base, digits = 10, "0123456789"
    if (
        text.startswith(("0x", "0X"), pos)
        and pos + 2 < n
        and text[pos + 2] in "0123456789abcdefABCDEF"
    ):
        base, digits, pos = 16, "0123456789abcdefABCDEF", pos + 2
    elif text.startswith("0", pos):
        base, digits = 8, "01234567"
    start = pos
    while pos < n and text[pos] in digits:
        pos += 1
    if pos == start:
        return None
    return sign * int(text[start:pos], base), pos
