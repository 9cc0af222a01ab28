"""`pybpftool` output for people and scripts: verdicts, wrapped tables, JSON errors, help.

Tables are rendered for a given width and read back column by column, so a cell that is cut
(an ellipsis, or the table running past the edge) fails, while one that wraps passes.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import bpfobjs
import pytest
from fakekernel import FakeKernel
from rich.console import Console

from pybpftool.cli.bpftool.objshow import header_line, render_object
from pybpftool.cli.bpftool.tables import Column, fitted_widths
from pybpftool.cli.bpftool.verifyshow import (
    check_type_choice,
    exit_status,
    parse_type_choice,
    plain_verdicts,
    print_verdicts,
    verdicts_to_json,
)
from pybpftool.errors import UsageError
from pybpftool.loader.verify import (
    ACCEPTED,
    NOT_VERIFIED,
    REJECTED,
    TypeChoice,
    Verdict,
    verify_object,
)
from pybpftool.parser import parse_object
from pybpftool.uapi import BpfProgType

SCHED_CLS = int(BpfProgType.BPF_PROG_TYPE_SCHED_CLS)
XDP = int(BpfProgType.BPF_PROG_TYPE_XDP)


def example(name: str) -> Path:
    """example: examples/NAME.c built as the test objects are (the demo's programs)."""
    return bpfobjs.build(f"../../examples/{name}")


def pybpftool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pybpftool", *args], capture_output=True, text=True, check=False
    )


def console(width: int, terminal: bool = False) -> Console:
    """console: what main._console() makes, `width` columns wide, writing to a string."""
    return Console(
        file=io.StringIO(),
        width=width,
        force_terminal=terminal,
        color_system="standard" if terminal else None,
        highlight=False,
        markup=False,
        emoji=False,
        record=True,
    )


def written(out: Console) -> str:
    assert isinstance(out.file, io.StringIO)
    return out.file.getvalue()


def columns_of(text: str) -> list[list[str]]:
    """columns_of: each table's body read column by column: the cell fragments of every
    line, joined without spaces (a wrapped cell joins back into its words)."""
    tables: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("┡"):
            tables.append([])
        elif line.startswith("│") and tables:
            cells = line.strip("│").split("│")
            if not tables[-1]:
                tables[-1] = [""] * len(cells)
            for i, cell in enumerate(cells):
                tables[-1][i] += cell.replace(" ", "")
    return tables


# --- object show: wrapped, never cut ---


@pytest.mark.parametrize("width", [40, 60, 80, 100, 200])
@pytest.mark.parametrize("name", ["tc_tail_calls", "tc_legacy_pinned", "core_task"])
def test_object_tables_wrap_and_keep_every_character(name: str, width: int) -> None:
    spec = parse_object(example(name))
    out = console(width)
    render_object(spec, name + ".o", out)
    text = out.export_text()
    assert all(len(line) <= width for line in text.splitlines()), text
    assert "…" not in text and "..." not in text
    tables = columns_of(text)
    programs = tables[-1]
    assert programs[0] == "".join(p.name for p in spec.programs)
    assert programs[1] == "".join(p.section for p in spec.programs)
    slots = "".join(f"{p.tail_call.map}[{p.tail_call.key}]" for p in spec.programs if p.tail_call)
    assert programs[6] == slots
    if spec.maps:
        assert tables[0][0] == "".join(m.name for m in spec.maps)


def test_at_80_columns_names_and_tail_call_slots_stay_on_one_line() -> None:
    out = console(80)
    render_object(parse_object(example("tc_tail_calls")), "tc_tail_calls.o", out)
    text = out.export_text()
    for whole in ("jmp_table[0]", "jmp_table[1]", "even_mark", "dispatch", "prog_array"):
        assert whole in text


def test_fitted_widths_wrap_free_text_before_identifiers() -> None:
    columns = [Column("name", identifier=True), Column("details"), Column("n", right=True)]
    assert fitted_widths(columns, [12, 40, 1], 30) == [12, 17, 1]
    assert fitted_widths(columns, [40, 40, 1], 30) == [24, 5, 1]
    assert sum(fitted_widths(columns, [40, 40, 9], 6)) <= 6


def test_header_states_kernel_version_only_when_the_object_has_one() -> None:
    legacy = parse_object(example("tc_legacy_pinned"))
    assert header_line(legacy, "x.o") == "x.o: little-endian, license 'GPL', BTF"
    versioned = parse_object(bpfobjs.build("legacy_mapdef"))
    assert versioned.kern_version is not None
    line = header_line(versioned, "x.o")
    v = versioned.kern_version
    assert f", kernel version {v:#x} ({v >> 16}.{(v >> 8) & 0xFF}.{v & 0xFF})," in line


def test_header_counts_core_relocations() -> None:
    spec = parse_object(example("core_task"))
    assert spec.btf_ext is not None
    count = sum(len(r) for r in spec.btf_ext.core_relos.values())
    assert count > 0
    assert header_line(spec, "c.o").endswith(f", BTF, {count} CO-RE relocations")
    doc = json.loads(pybpftool("object", "show", "--json", str(example("core_task"))).stdout)
    assert doc["core_relocations"] == count


# --- object verify: three verdicts, three statuses ---


def verdict(outcome: str, name: str = "p") -> Verdict:
    return Verdict(name, "classifier", None if outcome == NOT_VERIFIED else SCHED_CLS, outcome)


@pytest.mark.parametrize(
    ("outcomes", "status"),
    [
        ([ACCEPTED, ACCEPTED], 0),
        ([ACCEPTED, NOT_VERIFIED], 3),
        ([REJECTED, NOT_VERIFIED], 1),
        ([ACCEPTED, REJECTED], 1),
        ([], 0),
    ],
)
def test_exit_status_tells_rejected_from_not_verified(outcomes: list[str], status: int) -> None:
    assert exit_status([verdict(o) for o in outcomes]) == status


def test_json_counts_each_verdict() -> None:
    doc = verdicts_to_json([verdict(ACCEPTED), verdict(REJECTED), verdict(NOT_VERIFIED)], "f.o")
    assert (doc["accepted"], doc["rejected"], doc["not_verified"]) == (1, 1, 1)
    assert [p["verdict"] for p in doc["programs"]] == ["accepted", "rejected", "not_verified"]


def test_programs_without_a_type_never_reach_the_kernel() -> None:
    spec = parse_object(example("tc_tail_calls"))
    kernel = FakeKernel()
    verdicts = verify_object(kernel, spec)
    assert [v.outcome for v in verdicts] == [NOT_VERIFIED] * 3
    assert "prog_load" not in kernel.ops()
    assert verdicts[2].reason == "section 'classifier' names no program type"


def test_a_type_per_program_by_function_or_section_name() -> None:
    spec = parse_object(example("tc_tail_calls"))
    choice = parse_type_choice(("dispatch=sched_cls", "1/1=xdp"))
    assert choice == TypeChoice(None, {"dispatch": SCHED_CLS, "1/1": XDP})
    verdicts = verify_object(FakeKernel(), spec, choice)
    assert [(v.name, v.prog_type, v.outcome) for v in verdicts] == [
        ("even_mark", None, NOT_VERIFIED),
        ("odd_mark", XDP, ACCEPTED),
        ("dispatch", SCHED_CLS, ACCEPTED),
    ]
    every = parse_type_choice(("sched_cls", "odd_mark=xdp"))
    assert [v.prog_type for v in verify_object(FakeKernel(), spec, every)] == [
        SCHED_CLS,
        XDP,
        SCHED_CLS,
    ]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (("xdp", "sched_cls"), "--type sched_cls: a type for every program was given already"),
        (("=xdp",), "--type =xdp: no program name before '='"),
        (("a=xdp", "a=xdp"), "--type a=xdp: program 'a' was given a type already"),
        (("a=nope",), "unknown program type 'nope'"),
    ],
)
def test_bad_type_options(values: tuple[str, ...], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_type_choice(values)
    assert caught.value.message == message


def test_a_type_for_a_program_the_object_lacks_is_a_usage_error() -> None:
    spec = parse_object(example("tc_tail_calls"))
    with pytest.raises(UsageError, match="no program or section 'nope' to verify"):
        check_type_choice(parse_type_choice(("nope=xdp",)), spec)


def test_verdicts_are_coloured_on_a_terminal_only() -> None:
    verdicts = [verdict(ACCEPTED, "good"), verdict(REJECTED, "bad"), verdict(NOT_VERIFIED, "nt")]
    plain, tty = console(100), console(100, terminal=True)
    print_verdicts(verdicts, "f.o", False, plain)
    print_verdicts(verdicts, "f.o", False, tty)
    assert "\x1b[" not in written(plain)
    coloured = written(tty)
    assert re.search(r"\x1b\[[0-9;]*32maccepted", coloured)
    assert re.search(r"\x1b\[[0-9;]*31mREJECTED", coloured)
    assert re.search(r"\x1b\[[0-9;]*33mnot verified", coloured)
    assert "nt: not verified: " in plain.export_text()


LOG = "x" * 250 + "\n" + "".join(f"{i}: (b7) r0 = {i}\n" for i in range(30)) + "\n  indented\n"
PIPED_VERDICTS = [
    verdict(ACCEPTED, "good"),
    Verdict("bad", "classifier", SCHED_CLS, REJECTED, 13, 7, 40, "permission denied", LOG),
    Verdict("", "sec/x", SCHED_CLS, REJECTED, 22, None, 5, "invalid argument", "one line"),
    verdict(NOT_VERIFIED, "nt"),
    Verdict("back\\slash\x1b", "s\tec", XDP, ACCEPTED, 0, 123456, 7),
    Verdict("caf\u00e9", "classifier", XDP, ACCEPTED),
]


@pytest.mark.parametrize("width", [60, 120, 200])
@pytest.mark.parametrize("verbose", [False, True])
@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6])
def test_piped_verdicts_written_without_rich_read_as_richs(
    width: int, verbose: bool, count: int
) -> None:
    """plain_verdicts writes what print_verdicts prints on a piped console, or declines
    (a line rich would wrap, a name rich measures itself)."""
    verdicts = PIPED_VERDICTS[:count]
    plain = plain_verdicts(verdicts, "dir/f.o", verbose, width)
    rich = console(width)
    print_verdicts(verdicts, "dir/f.o", verbose, rich)
    if plain is not None:
        assert plain == written(rich)
    if width == 200:  # the 250-column log line (--verbose shows it), the accented name: rich
        assert (plain is None) == ((verbose and count >= 2) or count >= 6)


# --- JSON errors, help, prefixes ---


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["object", "show", "--json", "/nonexistent.o"], 1),
        (["object", "show", "--json"], 2),
        (["object", "verify", "--json", "--type", "nope", "/nonexistent.o"], 2),
        (["sandbox", "status", "--json", "--bogus"], 2),
    ],
)
def test_json_commands_print_an_error_object_on_failure(args: list[str], status: int) -> None:
    done = pybpftool(*args)
    assert done.returncode == status
    doc = json.loads(done.stdout)
    assert list(doc) == ["error"] and doc["error"]
    assert doc["error"] in done.stderr  # people still read it on stderr


def test_without_json_stdout_stays_empty_on_failure() -> None:
    done = pybpftool("object", "show", "/nonexistent.o")
    assert done.returncode == 1 and done.stdout == ""


def test_help_commands_and_prefixes() -> None:
    top = pybpftool("--help").stdout
    assert pybpftool("help").stdout == top
    obj = pybpftool("object", "--help").stdout
    assert pybpftool("object", "help").stdout == obj
    assert pybpftool("obj", "help").stdout == obj
    assert "Usage: pybpftool object [OPTIONS]" in obj
    assert "without loading" not in obj and "kernel" in obj
    shown = pybpftool("o", "sh", "--json", str(example("tc_tail_calls")))
    assert shown.returncode == 0 and json.loads(shown.stdout)["programs"]
    assert pybpftool("__comp", "ip").returncode == 2  # hidden commands need their name


def test_help_lines_are_not_cut_at_80_columns() -> None:
    for args in ([], ["object"], ["sandbox"]):
        done = subprocess.run(
            [sys.executable, "-m", "pybpftool", *args, "--help"],
            capture_output=True,
            text=True,
            env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"},
        )
        listing = done.stdout.split("Commands:")[1]
        assert "..." not in listing, done.stdout


def test_a_group_without_its_command_prints_its_help_unescaped() -> None:
    done = pybpftool("object")
    assert done.returncode == 2
    assert done.stderr.startswith("Usage: pybpftool object [OPTIONS] COMMAND")
    assert "\\x0a" not in done.stderr
