"""tables: the rich tables of `pybpftool object show` and `object verify`, made for people.

A table wider than the terminal is not cut: its cells wrap (rich's "fold" overflow), so a
name or a tail-call slot such as `jmp_table[1]` is never lost to an ellipsis or the edge.
Columns holding one identifier each keep their width (up to IDENTIFIER_WIDTH) as long as
the other columns can still shrink, so the free text wraps first (fitted_widths).

rich renders about a millisecond per row, which an object of thousands of programs or maps
turns into seconds; print_table writes the same text itself when rich would print it
unstyled and unwrapped (plain_table).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from rich.console import Console
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


def print_table(console: Console, title: str, columns: list[Column], rows: list[list[str]]) -> None:
    """print_table: the table of `rows` (plain cells) under `title`, as wrapping_table
    renders it. Without colour (a pipe or a file) and when nothing needs wrapping, the same
    text is written directly (plain_table); a terminal, a cell rich measures itself or a
    table that wraps still goes through rich."""
    plain = None
    if console.color_system is None and console.encoding.lower().startswith("utf"):
        plain = plain_table(title, columns, rows, console.width)
    if plain is not None:
        console.out(plain, end="", highlight=False)  # as is: no markup, wrapping or emoji
        return
    from rich.text import Text

    cells = [[Text(cell) for cell in row] for row in rows]
    console.print(wrapping_table(title, columns, cells, console.width))


def plain_table(title: str, columns: list[Column], rows: list[list[str]], width: int) -> str | None:
    """plain_table: the text rich prints for the table (its default HEAVY_HEAD box, one space
    of padding, the title left-justified over the table's width), or None when rich would
    wrap or measure cells itself: the table is wider than `width`, the title wider than the
    table (or empty), or a cell or the title is not printable ASCII (whose width on a
    terminal rich looks up per character)."""
    headers = [col.header for col in columns]
    every = [headers, *rows, [title]]
    if not title or not all(cell.isascii() and cell.isprintable() for row in every for cell in row):
        return None
    every.pop()
    widths = [max(map(len, column)) for column in zip(*every, strict=True)]
    if sum(widths) + 3 * len(widths) + 1 > width:
        return None

    def rule(left: str, fill: str, middle: str, right: str) -> str:
        return left + middle.join(fill * (w + 2) for w in widths) + right + "\n"

    def line(row: list[str], bar: str) -> str:
        padded = (
            cell.rjust(w) if col.right else cell.ljust(w)
            for cell, w, col in zip(row, widths, columns, strict=True)
        )
        return f"{bar} " + f" {bar} ".join(padded) + f" {bar}\n"

    top = rule("┏", "━", "┳", "┓")
    if len(title) > len(top) - 1:
        return None  # rich wraps the title over lines of the table's width
    out = [title.ljust(len(top) - 1) + "\n", top, line(headers, "┃"), rule("┡", "━", "╇", "┩")]
    out += [line(row, "│") for row in rows]
    out.append(rule("└", "─", "┴", "┘"))
    return "".join(out)
