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

from typing import Any

from pybpftool.netlink.linkattrs import LinkStats

# The initial column widths: strlen of "*X errors:", "packets", "errors", "dropped",
# "heartbt", "overrun", "compressed", "otherhost".
COLUMNS = (10, 7, 6, 7, 7, 7, 10, 9)


def _digits(value: int) -> int:
    return len(str(value))


def _size_columns(cols: list[int], values: tuple[int, ...], human: bool) -> None:
    if human:
        return
    for i, value in enumerate(values):
        cols[i] = max(cols[i], _digits(value))


def print_num(width: int, count: int, human: bool, iec: bool) -> str:
    """print_num: `count` right-aligned in `width` and a blank; with -h scaled to k/M/G..."""
    base = 1024 if iec else 1000
    if not human or count < base:
        return f"{count:>{width}} "
    prefixes = "kMGTPE"
    index = 0
    power = 1
    while True:
        power *= base
        if count // base < power:
            break
        if index + 1 >= len(prefixes):
            break
        index += 1
    precision = 2
    scale = 1
    while precision > 0:
        scale *= 10
        if count // power < scale:
            break
        precision -= 1
    text = f"{count / power:.{precision}f}{prefixes[index]}{'i' if iec else ''}"
    return f"{text:>{width}} "


def stats_text(
    stats: LinkStats, carrier_changes: int | None, level: int, human: bool, iec: bool, nl: str
) -> str:
    """stats_text: print_stats64's text, lines joined by `nl` (`\\` with -oneline)."""
    s = stats.counters
    cols = list(COLUMNS)
    _size_columns(
        cols,
        (
            s["rx_bytes"],
            s["rx_packets"],
            s["rx_errors"],
            s["rx_dropped"],
            s["rx_missed_errors"],
            s["multicast"],
            s["rx_compressed"],
            0,
        ),
        human,
    )
    if level > 1:
        _size_columns(
            cols,
            (
                0,
                s["rx_length_errors"],
                s["rx_crc_errors"],
                s["rx_frame_errors"],
                s["rx_fifo_errors"],
                s["rx_over_errors"],
                s["rx_nohandler"],
                s["rx_otherhost_dropped"],
            ),
            human,
        )
    _size_columns(
        cols,
        (
            s["tx_bytes"],
            s["tx_packets"],
            s["tx_errors"],
            s["tx_dropped"],
            s["tx_carrier_errors"],
            s["collisions"],
            s["tx_compressed"],
            0,
        ),
        human,
    )
    if level > 1:
        _size_columns(
            cols,
            (
                0,
                0,
                s["tx_aborted_errors"],
                s["tx_fifo_errors"],
                s["tx_window_errors"],
                s["tx_heartbeat_errors"],
                carrier_changes or 0,
                0,
            ),
            human,
        )

    def num(col: int, value: int) -> str:
        return print_num(cols[col], value, human, iec)

    def header(words: tuple[str, ...], compressed: int) -> str:
        first = f"{words[0]:>{cols[0] - 4}}"
        rest = " ".join(f"{w:>{cols[i + 1]}}" for i, w in enumerate(words[1:]))
        return f"{first} {rest} {'compressed' if compressed else '':>{cols[6]}}"

    out = (
        "    RX: "
        + header(("bytes", "packets", "errors", "dropped", "missed", "mcast"), s["rx_compressed"])
        + nl
    )
    out += "    " + num(0, s["rx_bytes"]) + num(1, s["rx_packets"]) + num(2, s["rx_errors"])
    out += num(3, s["rx_dropped"]) + num(4, s["rx_missed_errors"]) + num(5, s["multicast"])
    if s["rx_compressed"]:
        out += num(6, s["rx_compressed"])
    if level > 1:
        out += nl + nl.join(_rx_errors_rows(s, cols, num))
    out += nl
    out += (
        "    TX: "
        + header(
            ("bytes", "packets", "errors", "dropped", "carrier", "collsns"), s["tx_compressed"]
        )
        + nl
    )
    out += "    " + num(0, s["tx_bytes"]) + num(1, s["tx_packets"]) + num(2, s["tx_errors"])
    out += num(3, s["tx_dropped"]) + num(4, s["tx_carrier_errors"]) + num(5, s["collisions"])
    if s["tx_compressed"]:
        out += num(6, s["tx_compressed"])
    if level > 1:
        out += nl + nl.join(_tx_errors_rows(s, cols, num, carrier_changes))
    return out


def _rx_errors_rows(s: dict[str, int], cols: list[int], num: Any) -> tuple[str, str]:
    """_rx_errors_rows: the `RX errors` header and its numbers (`-s -s`)."""
    head = "    RX errors:" + " " * (cols[0] - 10) + " "
    head += " ".join(
        f"{w:>{cols[i + 1]}}" for i, w in enumerate(("length", "crc", "frame", "fifo", "overrun"))
    )
    if s["rx_nohandler"]:
        head += f"{' nohandler':>{cols[6] + 1}}"
    if s["rx_otherhost_dropped"]:
        head += f"{' otherhost':>{cols[7] + 1}}"
    body = " " * (cols[0] + 5) + num(1, s["rx_length_errors"]) + num(2, s["rx_crc_errors"])
    body += num(3, s["rx_frame_errors"]) + num(4, s["rx_fifo_errors"])
    body += num(5, s["rx_over_errors"])
    if s["rx_nohandler"]:
        body += num(6, s["rx_nohandler"])
    if s["rx_otherhost_dropped"]:
        body += num(7, s["rx_otherhost_dropped"])
    return head, body


def _tx_errors_rows(
    s: dict[str, int], cols: list[int], num: Any, changes: int | None
) -> tuple[str, str]:
    """_tx_errors_rows: the `TX errors` header and its numbers (`-s -s`)."""
    head = "    TX errors:" + " " * (cols[0] - 10) + " "
    head += " ".join(
        f"{w:>{cols[i + 1]}}" for i, w in enumerate(("aborted", "fifo", "window", "heartbt"))
    )
    head += f" {'transns' if changes is not None else '':>{cols[5]}}"
    body = " " * (cols[0] + 5) + num(1, s["tx_aborted_errors"]) + num(2, s["tx_fifo_errors"])
    body += num(3, s["tx_window_errors"]) + num(4, s["tx_heartbeat_errors"])
    if changes is not None:
        body += num(5, changes)
    return head, body


def stats_json(stats: LinkStats, carrier_changes: int | None, level: int) -> dict[str, Any]:
    """stats_json: print_stats64's JSON object (under the key stats.key)."""
    s = stats.counters
    rx: dict[str, Any] = {
        k: s[f]
        for k, f in (
            ("bytes", "rx_bytes"),
            ("packets", "rx_packets"),
            ("errors", "rx_errors"),
            ("dropped", "rx_dropped"),
            ("over_errors", "rx_over_errors"),
            ("multicast", "multicast"),
        )
    }
    if s["rx_compressed"]:
        rx["compressed"] = s["rx_compressed"]
    if level > 1:
        rx.update(
            {
                k: s[f]
                for k, f in (
                    ("length_errors", "rx_length_errors"),
                    ("crc_errors", "rx_crc_errors"),
                    ("frame_errors", "rx_frame_errors"),
                    ("fifo_errors", "rx_fifo_errors"),
                    ("missed_errors", "rx_missed_errors"),
                )
            }
        )
        if s["rx_nohandler"]:
            rx["nohandler"] = s["rx_nohandler"]
        if s["rx_otherhost_dropped"]:
            rx["otherhost"] = s["rx_otherhost_dropped"]
    tx: dict[str, Any] = {
        k: s[f]
        for k, f in (
            ("bytes", "tx_bytes"),
            ("packets", "tx_packets"),
            ("errors", "tx_errors"),
            ("dropped", "tx_dropped"),
            ("carrier_errors", "tx_carrier_errors"),
            ("collisions", "collisions"),
        )
    }
    if s["tx_compressed"]:
        tx["compressed"] = s["tx_compressed"]
    if level > 1:
        tx.update(
            {
                k: s[f]
                for k, f in (
                    ("aborted_errors", "tx_aborted_errors"),
                    ("fifo_errors", "tx_fifo_errors"),
                    ("window_errors", "tx_window_errors"),
                    ("heartbeat_errors", "tx_heartbeat_errors"),
                )
            }
        )
        if carrier_changes is not None:
            tx["carrier_changes"] = carrier_changes
    return {"rx": rx, "tx": tx}
