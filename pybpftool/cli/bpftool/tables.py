"""tables: the rich tables of `pybpftool object show` and `object verify`, made for people.

A table wider than the terminal is not cut: its cells wrap (rich's "fold" overflow), so a
name or a tail-call slot such as `jmp_table[1]` is never lost to an ellipsis or the edge.
Columns holding one identifier each keep their width (up to IDENTIFIER_WIDTH) as long as
the other columns can still shrink, so the free text wraps first (fitted_widths).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

IDENTIFIER_WIDTH = 24  # an identifier longer than this may wrap on a narrow terminal
NARROW = 3  # what a free-text column shrinks to before an identifier wraps


class Column(NamedTuple):
    """Column: a header, its alignment, and whether it holds identifiers kept whole."""

    header: str
    right: bool = False
    identifier: bool = False


def wrapping_table(title: str, columns: list[Column], rows: list[list[Text]], width: int) -> Table:
    """wrapping_table: a table for a console `width` columns wide that wraps, never cuts."""
    from rich.table import Table

    natural = [
        max([len(col.header), *(row[i].cell_len for row in rows)]) for i, col in enumerate(columns)
    ]
    room = width - (3 * len(columns) + 1)  # a border and two padding spaces per column
    fitted = fitted_widths(columns, natural, room) if sum(natural) > room else None
    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(
            col.header,
            justify="right" if col.right else "left",
            overflow="fold",
            width=None if fitted is None else fitted[i],
        )
    for row in rows:
        table.add_row(*row)
    return table


def fitted_widths(columns: list[Column], natural: list[int], room: int) -> list[int]:
    """fitted_widths: column widths summing to at most `room` (while each can keep one
    character): free text shrinks first to its header's longest word, then identifiers
    longer than IDENTIFIER_WIDTH, then free text to NARROW, then every column widest first."""
    widths = list(natural)
    free = [i for i, col in enumerate(columns) if not col.identifier]
    names = [i for i, col in enumerate(columns) if col.identifier]
    word = [max(len(w) for w in col.header.split()) for col in columns]
    for indexes, floors in (
        (free, word),
        (names, [IDENTIFIER_WIDTH] * len(columns)),
        (free, [NARROW] * len(columns)),
        (range(len(columns)), [1] * len(columns)),
    ):
        while sum(widths) > room:
            wide = [i for i in indexes if widths[i] > floors[i]]
            if not wide:
                break
            widths[max(wide, key=lambda i: widths[i])] -= 1
    return widths
