"""verifyshow: `pybpftool object verify` output: a rich table with progress, or JSON.

The JSON layout is documented in man/pybpftool.8 (section OBJECT VERIFY JSON). Verdicts are
coloured on a terminal only; long cells wrap instead of being cut.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pybpftool.cli.bpftool.tables import Column, plain_table, wrapping_table
from pybpftool.cli.common.escape import escape_text
from pybpftool.errors import UsageError
from pybpftool.loader.limits import DEFAULT_BUDGET, LOG_SIZE, MapBudget
from pybpftool.loader.verify import ACCEPTED, NOT_VERIFIED, REJECTED, TypeChoice
from pybpftool.uapi import BpfProgType, prog_type_name

if TYPE_CHECKING:
    from rich.console import Console

    from pybpftool.loader.core import LoaderKernel
    from pybpftool.loader.verify import Verdict
    from pybpftool.spec import ObjectSpec

PROGRESS_FROM = 20  # programs: below this a progress bar would only flicker
LOG_TAIL_LINES = 20  # without --verbose, a rejected program shows the end of its log


def parse_prog_type(name: str) -> int:
    """parse_prog_type: a program type from bpftool's spelling (`sched_cls`) or a number."""
    if name.isdigit():
        return int(name)
    for member in BpfProgType:
        if prog_type_name(member) == name:
            return int(member)
    known = ", ".join(prog_type_name(m) for m in BpfProgType if m)
    raise UsageError(f"unknown program type '{name}'", f"Known types: {known}")


def parse_type_choice(values: tuple[str, ...]) -> TypeChoice:
    """parse_type_choice: the `--type` options: `TYPE` for every program (at most once) and
    `NAME=TYPE` for the program whose function or section is NAME (split at the last `=`)."""
    default: int | None = None
    by_program: dict[str, int] = {}
    for value in values:
        name, equals, type_name = value.rpartition("=")
        if not equals:
            chosen = parse_prog_type(value)
            if default is not None:
                raise UsageError(f"--type {value}: a type for every program was given already")
            default = chosen
        elif not name:
            raise UsageError(f"--type {value}: no program name before '='")
        elif name in by_program:
            raise UsageError(f"--type {value}: program '{name}' was given a type already")
        else:
            by_program[name] = parse_prog_type(type_name)
    return TypeChoice(default, by_program)


def check_type_choice(choice: TypeChoice, spec: ObjectSpec) -> None:
    """check_type_choice: every NAME of `--type NAME=TYPE` names a program to verify."""
    known = {n for p in spec.programs if p.autoload for n in (p.name, p.section)}
    for name in choice.by_program:
        if name not in known:
            raise UsageError(
                f"--type {name}=...: no program or section '{name}' to verify",
                "Programs: " + ", ".join(p.name for p in spec.programs if p.autoload),
            )


def exit_status(verdicts: list[Verdict]) -> int:
    """exit_status: 1 if a program was rejected, else 3 if one was not verified, else 0
    (the statuses man/pybpftool.8 gives under EXIT STATUS)."""
    from pybpftool.cli.common.boundary import EXIT_FAILURE, EXIT_NOT_VERIFIED, EXIT_OK

    outcomes = {v.outcome for v in verdicts}
    if REJECTED in outcomes:
        return EXIT_FAILURE
    return EXIT_NOT_VERIFIED if NOT_VERIFIED in outcomes else EXIT_OK


def verdicts_to_json(verdicts: list[Verdict], file: str) -> dict[str, Any]:
    """verdicts_to_json: the `object verify --json` document."""
    return {
        "file": file,
        "accepted": sum(v.accepted for v in verdicts),
        "rejected": sum(v.outcome == REJECTED for v in verdicts),
        "not_verified": sum(v.outcome == NOT_VERIFIED for v in verdicts),
        "programs": [
            {
                "name": v.name,
                "section": v.section,
                "type": prog_type_name(v.prog_type) if v.prog_type is not None else None,
                "verdict": v.outcome,
                "errno": v.errno,
                "processed_insns": v.processed,
                "verification_time_us": v.time_us,
                "reason": v.reason,
                "log": v.log,
            }
            for v in verdicts
        ],
    }


def render_verdicts(
    kernel: LoaderKernel,
    spec: ObjectSpec,
    types: TypeChoice,
    file: str,
    verbose: bool,
    console: Console,
    target_btf: str | None = None,
    log_size: int = LOG_SIZE,
    map_budget: MapBudget = DEFAULT_BUDGET,
) -> list[Verdict]:
    """render_verdicts: verify with a progress bar on a terminal, then print the table."""
    from pybpftool.loader.verify import verify_object

    count = sum(p.autoload for p in spec.programs)
    if console.is_terminal and count >= PROGRESS_FROM:
        from rich.progress import Progress

        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("verifying", total=count)
            advance = lambda p: bar.advance(task)  # noqa: E731
            verdicts = verify_object(kernel, spec, types, advance, target_btf, log_size, map_budget)
    else:
        verdicts = verify_object(kernel, spec, types, None, target_btf, log_size, map_budget)
    print_verdicts(verdicts, file, verbose, console)
    return verdicts


VERDICT_COLUMNS = [
    Column("program", identifier=True),
    Column("section", identifier=True),
    Column("type", identifier=True),
    Column("verdict", identifier=True),
    Column("insns processed", right=True),
    Column("time (us)", right=True),
]
# How a verdict is shown in the table, and its colour on a terminal.
VERDICT_WORDS = {
    ACCEPTED: ("accepted", "green"),
    REJECTED: ("REJECTED", "bold red"),
    NOT_VERIFIED: ("not verified", "yellow"),
}
VERDICT_CELL = 3  # the column VERDICT_WORDS colours


def verdict_rows(verdicts: list[Verdict]) -> list[list[str]]:
    """verdict_rows: the table's cells of each verdict, escaped for a terminal."""
    return [
        [
            escape_text(v.name),
            escape_text(v.section),
            prog_type_name(v.prog_type) if v.prog_type is not None else "-",
            VERDICT_WORDS[v.outcome][0],
            _number(v.processed),
            _number(v.time_us),
        ]
        for v in verdicts
    ]


def note_lines(verdicts: list[Verdict], verbose: bool) -> list[str]:
    """note_lines: what follows the table: why each program was rejected (with the end of
    its log, or all of it with `verbose`) or not verified."""
    lines = []
    for v in verdicts:
        if v.outcome == REJECTED:
            lines.append(f"{escape_text(v.name or v.section)}: {escape_text(v.reason)}")
            log = v.log.rstrip("\n").split("\n") if v.log else []
            if not verbose and len(log) > LOG_TAIL_LINES:
                lines.append(f"[... {len(log) - LOG_TAIL_LINES} lines, --verbose shows them]")
                log = log[-LOG_TAIL_LINES:]
            lines += ["  " + escape_text(line) for line in log]
        elif v.outcome == NOT_VERIFIED:
            lines.append(
                f"{escape_text(v.name)}: not verified: {escape_text(v.reason)}; "
                f"give --type TYPE or --type {escape_text(v.name)}=TYPE"
            )
    return lines


def print_verdicts(verdicts: list[Verdict], file: str, verbose: bool, console: Console) -> None:
    """print_verdicts: the table, then why each program was rejected or not verified."""
    from rich.text import Text

    styled = console.is_terminal
    rows = [
        [
            Text(cell, style=VERDICT_WORDS[v.outcome][1] if styled and i == VERDICT_CELL else "")
            for i, cell in enumerate(row)
        ]
        for v, row in zip(verdicts, verdict_rows(verdicts), strict=True)
    ]
    console.print(wrapping_table(escape_text(file), VERDICT_COLUMNS, rows, console.width))
    for line in note_lines(verdicts, verbose):
        console.print(Text(line))


def plain_verdicts(verdicts: list[Verdict], file: str, verbose: bool, width: int) -> str | None:
    """plain_verdicts: the text print_verdicts writes on an uncoloured console `width`
    columns wide, made without rich; None where rich would wrap or measure a line itself
    (then print_verdicts draws it)."""
    table = plain_table(escape_text(file), VERDICT_COLUMNS, verdict_rows(verdicts), width)
    notes = note_lines(verdicts, verbose)
    if table is None or not all(len(n) <= width and n.isascii() and n.isprintable() for n in notes):
        return None
    return table + "".join(n + "\n" for n in notes)


def _number(value: int | None) -> str:
    return "-" if value is None else str(value)
