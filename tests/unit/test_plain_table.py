"""object show writes its tables without rich when rich would print the same text: for
every test object at several widths, and for crafted cells, the two agree byte for byte;
where they would not (colour, wrapping, cells rich measures itself) rich prints."""

from __future__ import annotations

import io

import bpfobjs
import pytest
from rich.console import Console
from rich.text import Text

from pybpftool.cli.bpftool.objshow import (
    MAP_COLUMNS,
    PROGRAM_COLUMNS,
    map_row,
    plain_object,
    program_row,
    render_object,
)
from pybpftool.cli.bpftool.tables import Column, plain_table, print_table, wrapping_table
from pybpftool.parser import parse_object


def rich_text(title: str, columns: list[Column], rows: list[list[str]], width: int) -> str:
    out = io.StringIO()
    cells = [[Text(cell) for cell in row] for row in rows]
    Console(file=out, width=width, color_system=None).print(
        wrapping_table(title, columns, cells, width)
    )
    return out.getvalue()


def agree(title: str, columns: list[Column], rows: list[list[str]], width: int) -> bool:
    """agree: plain_table gives rich's text, or declines; True when it did not decline."""
    plain = plain_table(title, columns, rows, width)
    if plain is not None:
        assert plain == rich_text(title, columns, rows, width)
    return plain is not None


@pytest.mark.parametrize("width", [60, 100, 200])
def test_tables_of_every_test_object(target: str, width: int) -> None:
    written = 0
    for name in bpfobjs.sources():
        spec = parse_object(bpfobjs.build(name, target))
        written += agree("maps", MAP_COLUMNS, [map_row(m) for m in spec.maps], width)
        rows = [program_row(p) for p in spec.programs]
        written += agree("programs", PROGRAM_COLUMNS, rows, width)
    assert written > 10 or width < 100  # at 60 most tables are too wide: rich wraps them


COLUMNS = [
    Column("name", identifier=True),
    Column("type"),
    Column("key", right=True),
    Column("detail"),
    Column("last", identifier=True),
]
ROWS = [
    ["a", "", "1", "", "x" * 30],
    ["", "hash", "123456", "-", ""],
    ["name with spaces", "t", "0", "long " * 8, "z"],
]


@pytest.mark.parametrize("width", [20, 50, 79, 80, 81, 120])
@pytest.mark.parametrize("count", [0, 1, 3, 2000])
def test_crafted_rows(width: int, count: int) -> None:
    rows = (ROWS * count)[:count]
    written = agree("maps", COLUMNS, rows, width)
    if count >= 3:  # all three rows: 112 columns wide
        assert written == (width >= 112)


@pytest.mark.parametrize("cell", ["caf\u00e9", "\u4e2d\u6587", "tab\there", "bell\a"])
def test_cells_rich_measures_itself_are_left_to_rich(cell: str) -> None:
    assert plain_table("t", COLUMNS[:2], [[cell, "x"]], 200) is None


def test_a_recording_console_records_the_plain_text() -> None:
    console = Console(file=io.StringIO(), width=120, color_system=None, record=True)
    print_table(console, "maps", COLUMNS, ROWS)
    assert console.export_text() == rich_text("maps", COLUMNS, ROWS, 120)


def test_a_terminal_with_colour_gets_richs_styles() -> None:
    out = io.StringIO()
    console = Console(file=out, width=100, color_system="standard", force_terminal=True)
    print_table(console, "maps", COLUMNS, ROWS)
    assert "\x1b[1m" in out.getvalue()  # rich's bold header: not the plain writer's text


@pytest.mark.parametrize(
    "title",
    [
        "t",
        "/tmp/some dir/prog.o",
        "  lead",
        "x" * 36,
        "x" * 37,
        "x" * 38,
        "a " * 30,
        "caf\u00e9",
        "",
    ],
)
def test_titles_agree_or_are_left_to_rich(title: str) -> None:
    rows = [["a", "b", "1", "c", "d"]]  # a table 37 columns wide: a longer title wraps
    written = agree(title, COLUMNS, rows, 100)
    assert written == (0 < len(title) <= 37 and title.isascii())


@pytest.mark.parametrize("width", [60, 100, 200])
def test_object_show_written_without_rich_reads_as_richs(target: str, width: int) -> None:
    """plain_object writes what render_object prints on a piped console, or declines."""
    written = 0
    for name in bpfobjs.sources():
        path = bpfobjs.build(name, target)
        spec = parse_object(path)
        plain = plain_object(spec, str(path), width)
        out = io.StringIO()
        console = Console(
            file=out, width=width, color_system=None, highlight=False, markup=False, emoji=False
        )
        render_object(spec, str(path), console)
        if plain is not None:
            assert plain == out.getvalue()
            written += 1
    assert written > 5 or width < 200  # narrower, rich wraps most of them
