"""color: iproute2's colours (lib/color.c): which runs get them and which escape codes.

`-c`, `-color` and `-color=always` colour always, `-color=auto` only when standard output is
a terminal, `-color=never` (and no option, ip 6.1's default) never; JSON is never coloured.
The palette is the light-background one unless $COLORFGBG names a dark background (its last
field 0-6 or 8), as set_color_palette() decides.
"""

from __future__ import annotations

import os
import sys

# enum color_attr order: IFNAME, MAC, INET, INET6, OPERSTATE_UP, OPERSTATE_DOWN
IFNAME, MAC, INET, INET6, OPER_UP, OPER_DOWN = range(6)
_LIGHT = ("\x1b[36m", "\x1b[33m", "\x1b[35m", "\x1b[34m", "\x1b[32m", "\x1b[31m")
_DARK = ("\x1b[1;36m", "\x1b[1;33m", "\x1b[1;35m", "\x1b[1;34m", "\x1b[1;32m", "\x1b[1;31m")
CLEAR = "\x1b[0m"


class Painter:
    """Painter: paint(attr, text) wraps `text` in the attribute's colour when colour is on."""

    def __init__(self, enabled: bool, dark: bool = False) -> None:
        self.enabled = enabled
        self.codes = _DARK if dark else _LIGHT

    def paint(self, attr: int | None, text: str) -> str:
        if not self.enabled or attr is None:
            return text
        return f"{self.codes[attr]}{text}{CLEAR}"


def _dark_background() -> bool:
    value = os.environ.get("COLORFGBG", "")
    last = value.rsplit(";", 1)
    if len(last) < 2:
        return False
    return len(last[1]) == 1 and last[1] in "01234568"


def painter(color: object, json: bool) -> Painter:
    """painter: check_enable_color() for the `-color` option's value (True: no `=WHEN`)."""
    if json or color in (None, False, "never"):
        return Painter(False)
    if color in (True, "always") or sys.stdout.isatty():
        return Painter(True, _dark_background())
    return Painter(False)
