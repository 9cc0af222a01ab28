"""cscan: C's number conversions iproute2 relies on: scanf's `%i` for its file and section
formats, strtod() for the sizes tc reads (get_size)."""

from __future__ import annotations

import re


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


_STRTOD = re.compile(
    r"[ \t\n\r\f\v]*[+-]?(?:"
    r"0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?"
    r"|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
    r"|inf(?:inity)?|nan(?:\([0-9a-zA-Z_]*\))?"
    r")",
    re.IGNORECASE,
)


def c_strtod(text: str) -> tuple[float, int]:
    """c_strtod: C's strtod: (value, index of the first unparsed character), (0.0, 0) when
    no number starts the text. Hex (`0x10` is 16, `0x1p4` too), decimal with an exponent,
    `inf` and `nan`, as glibc reads them; an exponent without digits is left unread."""
    found = _STRTOD.match(text)
    if found is None:
        return 0.0, 0
    number = found.group(0).strip(" \t\n\r\f\v")
    body = number.lstrip("+-")
    negative = number.startswith("-")
    if body[:2].lower() == "0x":
        value = float.fromhex(("-" if negative else "") + body)
    elif body[:1].lower() in ("i", "n"):
        value = float(("-" if negative else "") + body.split("(")[0])
    else:
        value = float(number)
    return value, found.end()
