"""cscan: C's number conversions, as iproute2 reads numbers: strtoul() and strtol() for its
arguments (lib/utils.c get_u32, get_unsigned; ip's group and link-netnsid), strtod() for
tc's sizes (get_size) and scanf's `%i` for its file and section formats
(/etc/iproute2/bpf_pinning, `ID/KEY` section names). One scanner serves the integers: blanks, a
sign, then 0x hex / 0 octal / decimal as the base asks."""

from __future__ import annotations

import re

ULONG_MAX = 0xFFFFFFFFFFFFFFFF
_BLANKS = " \t\n\r\f\v"
_HEX_DIGITS = "0123456789abcdefABCDEF"
_DIGITS = {16: _HEX_DIGITS, 8: "01234567"}


def _scan(text: str, pos: int, base: int) -> tuple[bool, int, int] | None:
    """_scan: (negative, magnitude, end) of the number C reads at `pos` in `base` (0: by its
    prefix); None when no digit follows the blanks and the sign."""
    n = len(text)
    while pos < n and text[pos] in _BLANKS:
        pos += 1
    negative = pos < n and text[pos] == "-"
    if pos < n and text[pos] in "+-":
        pos += 1
    if (
        base in (0, 16)
        and text.startswith(("0x", "0X"), pos)
        and pos + 2 < n
        and text[pos + 2] in _HEX_DIGITS
    ):
        base, pos = 16, pos + 2
    elif base == 0:
        base = 8 if text.startswith("0", pos) else 10
    digits = _DIGITS.get(base, "0123456789")
    start = pos
    while pos < n and text[pos] in digits:
        pos += 1
    if pos == start:
        return None
    return negative, int(text[start:pos], base), pos


def scan_c_int(text: str, pos: int) -> tuple[int, int] | None:
    """scan_c_int: C's `%i` at `pos`: leading blanks, sign, 0x hex / 0 octal / decimal.

    Returns (value, next position), or None when no digit could be read.
    """
    found = _scan(text, pos, 0)
    if found is None:
        return None
    negative, value, end = found
    return -value if negative else value, end


def c_strtoul(text: str, base: int) -> tuple[int, int]:
    """c_strtoul: C's strtoul: (value, index of the first unparsed character); an unsigned
    long's wrap-around for a minus sign and ULONG_MAX on overflow; (0, 0) if no digit."""
    found = _scan(text, 0, base)
    if found is None:
        return 0, 0
    negative, value, end = found
    if value > ULONG_MAX:
        return ULONG_MAX, end
    return (-value) % (ULONG_MAX + 1) if negative else value, end


def c_strtol(text: str, base: int) -> tuple[int, int]:
    """c_strtol: C's strtol on a 64-bit long: (value, index of the first unparsed
    character), LONG_MAX or LONG_MIN on overflow; (0, 0) if no digit."""
    found = _scan(text, 0, base)
    if found is None:
        return 0, 0
    negative, value, end = found
    if negative:
        return max(-value, -(1 << 63)), end
    return min(value, (1 << 63) - 1), end


def c_unsigned(text: str | None, base: int, limit: int = 0xFFFFFFFF) -> int | None:
    """c_unsigned: lib/utils.c get_u32 and get_unsigned (get_u16 with limit 0xffff): the whole
    word a number no greater than `limit`; None for anything else (or no word at all)."""
    if not text:
        return None
    if base in (0, 10) and len(text) < 20 and text.isascii() and text.isdigit() and text[0] != "0":
        value = int(text)  # plain decimal, as most numbers on a command line are
        return value if value <= limit else None
    value, end = c_strtoul(text, base)
    if end == 0 or end != len(text) or value > limit:
        return None
    return value


# C's strtod syntax; re compiles it when first used (by `tc qdisc` sizes alone), not when
# every command imports this module.
_STRTOD = (
    r"[ \t\n\r\f\v]*[+-]?(?:"
    r"0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?"
    r"|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
    r"|inf(?:inity)?|nan(?:\([0-9a-zA-Z_]*\))?"
    r")"
)


def c_strtod(text: str) -> tuple[float, int]:
    """c_strtod: C's strtod: (value, index of the first unparsed character), (0.0, 0) when
    no number starts the text. Hex (`0x10` is 16, `0x1p4` too), decimal with an exponent,
    `inf` and `nan`, as glibc reads them; an exponent without digits is left unread."""
    found = re.match(_STRTOD, text, re.IGNORECASE)
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
