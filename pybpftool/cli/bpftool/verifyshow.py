"""verifyshow: `pybpftool object verify` output: a rich table with progress, or JSON.

The JSON layout is documented in man/pybpftool.8 (section OBJECT VERIFY JSON).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pybpftool.cli.common.escape import escape_text
from pybpftool.errors import UsageError
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


def verdicts_to_json(verdicts: list[Verdict], file: str) -> dict[str, Any]:
    """verdicts_to_json: the `object verify --json` document."""
    return {
        "file": file,
        "accepted": sum(v.accepted for v in verdicts),
        "rejected": sum(not v.accepted for v in verdicts),
        "programs": [
            {
                "name": v.name,
                "section": v.section,
                "type": prog_type_name(v.prog_type) if v.prog_type is not None else None,
                "verdict": "accepted" if v.accepted else "rejected",
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
    forced: int | None,
    file: str,
    verbose: bool,
    console: Console,
    target_btf: str | None = None,
) -> list[Verdict]:
    """render_verdicts: verify with a progress bar on a terminal, then print the table."""
    from rich.table import Table

    from pybpftool.loader.verify import verify_object

    count = sum(p.autoload for p in spec.programs)
    if console.is_terminal and count >= PROGRESS_FROM:
        from rich.progress import Progress

        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("verifying", total=count)
            verdicts = verify_object(kernel, spec, forced, lambda p: bar.advance(task), target_btf)
    else:
        verdicts = verify_object(kernel, spec, forced, target_btf=target_btf)
    table = Table(title=escape_text(file), title_justify="left")
    for column in ("program", "section", "type", "verdict", "insns processed", "time (us)"):
        table.add_column(
            column, justify="right" if column[0] in "it" and column != "type" else "left"
        )
    for v in verdicts:
        table.add_row(
            escape_text(v.name),
            escape_text(v.section),
            prog_type_name(v.prog_type) if v.prog_type is not None else "-",
            "accepted" if v.accepted else "REJECTED",
            _number(v.processed),
            _number(v.time_us),
        )
    console.print(table)
    for v in verdicts:
        if not v.accepted:
            _print_rejection(v, verbose, console)
    return verdicts


def _print_rejection(v: Verdict, verbose: bool, console: Console) -> None:
    console.print(f"{escape_text(v.name or v.section)}: {escape_text(v.reason)}")
    lines = v.log.rstrip("\n").split("\n") if v.log else []
    if not verbose and len(lines) > LOG_TAIL_LINES:
        console.print(f"[... {len(lines) - LOG_TAIL_LINES} lines, --verbose shows them]")
        lines = lines[-LOG_TAIL_LINES:]
    for line in lines:
        console.print("  " + escape_text(line))


def _number(value: int | None) -> str:
    return "-" if value is None else str(value)
