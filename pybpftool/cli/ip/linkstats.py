"""linkstats: `ip -s link show`'s counters as ip 6.1 prints them (ip/ipaddress.c
print_stats64, size_columns and print_num).

Text: an RX and a TX header line over right-aligned columns, each at least as wide as its
header word and widened to the longest number of its column over all rows printed; `-s -s`
adds the `RX errors` and `TX errors` rows (`transns` being the carrier changes). `-h` prints
numbers with k/M/G... suffixes (powers of 1024 and an `i` with `-iec`) and stops widening the
columns. JSON: `stats64` (or `stats` when the kernel sent only 32-bit counters) with `rx` and
`tx` objects, in iproute2's key order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pybpftool.netlink.linkattrs import LinkStats

# The initial column widths: strlen of "*X errors:", "packets", "errors", "dropped",
# "heartbt", "overrun", "compressed", "otherhost".
COLUMNS = (10, 7, 6, 7, 7, 7, 10, 9)
CARRIER = "carrier_changes"  # not a stats64 field: IFLA_CARRIER_CHANGES, added to the counters

# The counters of each row, by column (None: an empty column); the error rows start at
# column 1 (their first column is the row's title).
RX = ("rx_bytes", "rx_packets", "rx_errors", "rx_dropped", "rx_missed_errors", "multicast",
      "rx_compressed", None)  # fmt: skip
RX_ERRORS = (None, "rx_length_errors", "rx_crc_errors", "rx_frame_errors", "rx_fifo_errors",
             "rx_over_errors", "rx_nohandler", "rx_otherhost_dropped")  # fmt: skip
TX = ("tx_bytes", "tx_packets", "tx_errors", "tx_dropped", "tx_carrier_errors", "collisions",
      "tx_compressed", None)  # fmt: skip
TX_ERRORS = (None, None, "tx_aborted_errors", "tx_fifo_errors", "tx_window_errors",
             "tx_heartbeat_errors", CARRIER, None)  # fmt: skip

# JSON: (key, counter) in print_stats64's order; `*` marks one printed only when not zero.
RX_JSON = (("bytes", "rx_bytes"), ("packets", "rx_packets"), ("errors", "rx_errors"),
           ("dropped", "rx_dropped"), ("over_errors", "rx_over_errors"),
           ("multicast", "multicast"), ("*compressed", "rx_compressed"))  # fmt: skip
RX_JSON_2 = (("length_errors", "rx_length_errors"), ("crc_errors", "rx_crc_errors"),
             ("frame_errors", "rx_frame_errors"), ("fifo_errors", "rx_fifo_errors"),
             ("missed_errors", "rx_missed_errors"), ("*nohandler", "rx_nohandler"),
             ("*otherhost", "rx_otherhost_dropped"))  # fmt: skip
TX_JSON = (("bytes", "tx_bytes"), ("packets", "tx_packets"), ("errors", "tx_errors"),
           ("dropped", "tx_dropped"), ("carrier_errors", "tx_carrier_errors"),
           ("collisions", "collisions"), ("*compressed", "tx_compressed"))  # fmt: skip
TX_JSON_2 = (("aborted_errors", "tx_aborted_errors"), ("fifo_errors", "tx_fifo_errors"),
             ("window_errors", "tx_window_errors"), ("heartbeat_errors", "tx_heartbeat_errors"),
             ("?carrier_changes", CARRIER))  # fmt: skip


def print_num(width: int, count: int, human: bool, iec: bool) -> str:
    """print_num: `count` right-aligned in `width` and a blank; with -h scaled to k/M/G..."""
    base = 1024 if iec else 1000
    if not human or count < base:
        return f"{count:>{width}} "
    prefixes, index, power = "kMGTPE", 0, base
    while count // base >= power and index + 1 < len(prefixes):
        power *= base
        index += 1
    precision, scale = 2, 10
    while precision > 0 and count // power >= scale:
        precision, scale = precision - 1, scale * 10
    text = f"{count / power:.{precision}f}{prefixes[index]}{'i' if iec else ''}"
    return f"{text:>{width}} "


def _widths(s: dict[str, int], level: int, human: bool) -> list[int]:
    """_widths: size_columns() over every row printed (none with -h)."""
    cols = list(COLUMNS)
    if human:
        return cols
    rows = [RX, TX] + ([RX_ERRORS, TX_ERRORS] if level > 1 else [])
    for row in rows:
        for i, name in enumerate(row):
            if name is not None:
                cols[i] = max(cols[i], len(str(s.get(name, 0))))
    return cols


def stats_text(
    stats: LinkStats, carrier_changes: int | None, level: int, human: bool, iec: bool, nl: str
) -> str:
    """stats_text: print_stats64's text, lines joined by `nl` (`\\` with -oneline)."""
    s = {**stats.counters, CARRIER: carrier_changes or 0}
    cols = _widths(s, level, human)

    def num(col: int, name: str) -> str:
        return print_num(cols[col], s[name], human, iec)

    def row(title: str, words: tuple[str, ...], names: tuple[str | None, ...]) -> list[str]:
        compressed = names[6] is not None and s[names[6]]
        head = f"    {title}: {words[0]:>{cols[0] - 4}} "
        head += " ".join(f"{w:>{cols[i + 1]}}" for i, w in enumerate(words[1:]))
        head += f" {'compressed' if compressed else '':>{cols[6]}}"
        body = "    " + "".join(num(i, n) for i, n in enumerate(names[:6]) if n is not None)
        return [head, body + (num(6, names[6]) if compressed and names[6] else "")]

    lines = row("RX", ("bytes", "packets", "errors", "dropped", "missed", "mcast"), RX)
    if level > 1:
        lines += _rx_error_rows(s, cols, num)
    lines += row("TX", ("bytes", "packets", "errors", "dropped", "carrier", "collsns"), TX)
    if level > 1:
        lines += _tx_error_rows(s, cols, num, carrier_changes is not None)
    return nl.join(lines)


def _rx_error_rows(s: dict[str, int], cols: list[int], num: Callable[[int, str], str]) -> list[str]:
    """_rx_error_rows: `-s -s`'s `RX errors` header and numbers; nohandler and otherhost
    only when not zero."""
    head = "    RX errors:" + " " * (cols[0] - 10) + " "
    head += " ".join(f"{w:>{cols[i + 1]}}" for i, w in
                     enumerate(("length", "crc", "frame", "fifo", "overrun")))  # fmt: skip
    body = " " * (cols[0] + 5) + "".join(num(i, n) for i, n in enumerate(RX_ERRORS[:6]) if n)
    for col, label in ((6, " nohandler"), (7, " otherhost")):
        name = RX_ERRORS[col]
        assert name is not None
        if s[name]:
            head += f"{label:>{cols[col] + 1}}"
            body += num(col, name)
    return [head, body]


def _tx_error_rows(
    s: dict[str, int], cols: list[int], num: Callable[[int, str], str], carrier: bool
) -> list[str]:
    """_tx_error_rows: `-s -s`'s `TX errors` header and numbers, printed in columns 1-5
    (though ip sized them as columns 2-6); transns only when the kernel sent it."""
    head = "    TX errors:" + " " * (cols[0] - 10) + " "
    head += " ".join(f"{w:>{cols[i + 1]}}" for i, w in
                     enumerate(("aborted", "fifo", "window", "heartbt")))  # fmt: skip
    head += f" {'transns' if carrier else '':>{cols[5]}}"
    names = ("tx_aborted_errors", "tx_fifo_errors", "tx_window_errors", "tx_heartbeat_errors")
    body = " " * (cols[0] + 5) + "".join(num(i + 1, n) for i, n in enumerate(names))
    if carrier:
        body += num(5, CARRIER)
    return [head, body]


def stats_json(stats: LinkStats, carrier_changes: int | None, level: int) -> dict[str, Any]:
    """stats_json: print_stats64's JSON object (under the key stats.key)."""
    s = {**stats.counters, CARRIER: carrier_changes}
    rx = _json_part(s, RX_JSON + (RX_JSON_2 if level > 1 else ()))
    tx = _json_part(s, TX_JSON + (TX_JSON_2 if level > 1 else ()))
    return {"rx": rx, "tx": tx}


def _json_part(s: dict[str, Any], fields: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, name in fields:
        value = s[name]
        if key[0] == "*":  # printed when not zero
            if value:
                out[key[1:]] = value
        elif key[0] == "?":  # printed when the kernel sent it
            if value is not None:
                out[key[1:]] = value
        else:
            out[key] = value
    return out
