"""frontend: what pyip and pytc share: global options, -V, help, object dispatch.

Objects are dispatched through `handlers` (object name -> callable). Objects of ip/tc that
pybpftool does not handle are refused with a clear message instead of being guessed at.
"""

from __future__ import annotations

import sys

from pybpftool import __version__
from pybpftool.cli.common.escape import terminal_safe
from pybpftool.cli.common.grammar import (
    IprouteExit,
    ShowUsage,
    parse_global_options,
    resolve_object,
)
from pybpftool.errors import NetlinkFailure, PyBpfError

# typing.TYPE_CHECKING without importing typing (~3 ms of `pyip -V`); collections.abc too
# waits for the type checker (it imports the whole collections package).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import TextIO

    from pybpftool.cli.common.context import RunContext

    Handler = Callable[[RunContext, list[str]], int]

# Exit status of `help` / no object: ip exits 255, tc exits 0 (both print usage on stderr).
HELP_STATUS = {"ip": 255, "tc": 0}


# The objects that carry BPF commands; everything else stays with iproute2.
BPF_OBJECTS = {"ip": ("link", "vrf"), "tc": ("qdisc", "filter", "actions", "exec")}


def _unhandled(tool: str, obj: str) -> str:
    if obj in BPF_OBJECTS[tool]:
        return f'Object "{obj}" is not implemented by py{tool} in this version.'
    return (
        f'Object "{obj}" is not handled by py{tool}: it implements only the BPF commands '
        f"({', '.join(BPF_OBJECTS[tool])}); use {tool} itself."
    )


def write_lines(lines: list[str]) -> None:
    """write_lines: message lines on stderr, names from objects and devices made safe."""
    sys.stderr.write("".join(terminal_safe(line) + "\n" for line in lines))


def say(*lines: str) -> None:
    """say: messages tc prints and then goes on (stderr, each line made terminal-safe)."""
    write_lines([part for line in lines for part in line.split("\n")])


def run_frontend(
    tool: str,
    usage: str,
    handlers: Mapping[str, Handler],
    argv: list[str] | None,
    console: bool = False,
) -> int:
    """run_frontend: parse global options, then run the object's handler; return the status.

    `console` is set by the console scripts only (cli/common/context.py): their process may
    confine itself and stay in -n's namespace; an in-process run leaves its process as it
    found it. The run's RunContext is made here and passed down."""
    from pybpftool.cli.common.context import RunContext

    args = sys.argv[1:] if argv is None else argv
    run = RunContext(console)
    try:
        opts, rest = parse_global_options(tool, args, run.switch_netns)
        run.opts = opts
        if opts.version:
            sys.stdout.write(f"{tool} utility, pybpftool-{__version__} (iproute2-6.1.0 syntax)\n")
            return 0
        if opts.batch is not None:
            return _run_batch(tool, usage, handlers, run)
        if not rest:
            sys.stderr.write(usage)
            return HELP_STATUS[tool]
        run.name_files([rest])
        return _dispatch(tool, usage, handlers, run, rest)
    except ShowUsage as err:
        sys.stderr.write(usage * err.times)
        return err.status
    except IprouteExit as err:
        write_lines(err.message.split("\n"))
        return err.status
    except PyBpfError as err:
        # iproute2 prints its messages bare, without the program's name.
        from pybpftool.cli.common.failures import sandbox_lines

        write_lines([*err.details, err.message, *sandbox_lines(err)])
        return 255
    finally:
        run.restore()


def _dispatch(
    tool: str, usage: str, handlers: Mapping[str, Handler], run: RunContext, rest: list[str]
) -> int:
    """_dispatch: one command: its object, then the object's handler."""
    obj = resolve_object(tool, rest[0])
    if obj == "help":
        if tool == "ip":
            raise ShowUsage(255)  # ip's usage() exit()s: a -batch ends there
        sys.stderr.write(usage)
        return HELP_STATUS[tool]
    handler = handlers.get(obj)
    if handler is None:
        raise IprouteExit(_unhandled(tool, obj), 255, fatal=False)
    try:
        return handler(run, rest[1:])
    except NetlinkFailure as err:
        # A refusal no command expected (say EPERM on a lookup): iproute2's generic report.
        from pybpftool.cli.common.failures import TALKING, netlink_message

        talking = [TALKING] if tool == "tc" else []
        raise IprouteExit("\n".join([netlink_message(err), *talking]), 2) from None


def _open_batch(name: str) -> TextIO:
    """_open_batch: the batch file (or stdin for `-`), read as getline() does: lines end at
    `\\n` only, and bytes that are not UTF-8 pass through. A folder opens (freopen) but
    reads nothing (getline fails): an empty batch."""
    import io

    try:
        raw = sys.stdin.buffer if name == "-" else open(name, "rb")  # noqa: SIM115
    except IsADirectoryError:
        return io.StringIO("")
    except OSError as err:
        raise IprouteExit(f'Cannot open file "{name}" for reading: {err.strerror}', 1) from None
    return io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape", newline="")


def _read_batch(stream: TextIO) -> tuple[list[tuple[int, list[str]]], IprouteExit | None]:
    """_read_batch: the commands up to the first line iproute2 cannot read, and its error."""
    from pybpftool.cli.common.batch import command_lines

    lines: list[tuple[int, list[str]]] = []
    try:
        lines.extend(command_lines(stream))
    except IprouteExit as err:
        return lines, err
    return lines, None


def _run_batch(tool: str, usage: str, handlers: Mapping[str, Handler], run: RunContext) -> int:
    """_run_batch: every command of the batch file in this process; 1 if any failed.

    A failed command prints `Command failed FILE:LINE` and ends the batch unless -force. An
    error where iproute2 exit()s (boundary.ends_batch) ends it at once with its own status,
    -force or not, and without that line.
    """
    from pybpftool.cli.common.boundary import ends_batch

    opts = run.opts
    name = opts.batch or "-"
    with _open_batch(name) as stream:
        lines, unreadable = _read_batch(stream)
    # every file the batch names stays readable once the first line has confined the process
    run.name_files([words for _number, words in lines])
    failed = False
    for position, (number, words) in enumerate(lines):
        if position == 1 and run.console:
            _collect_as_usual()
        try:
            status = _dispatch(tool, usage, handlers, run, words)
        except PyBpfError as err:
            status = err.status if isinstance(err, IprouteExit) else 255
            if isinstance(err, ShowUsage):
                sys.stderr.write(usage * err.times)
            elif isinstance(err, IprouteExit):
                write_lines(err.message.split("\n"))
            else:
                write_lines([*err.details, err.message])
            if ends_batch(tool, err, status):
                return status
        if status:
            write_lines([f"Command failed {name}:{number}"])
            failed = True
            if not opts.force:
                return 1
    if unreadable is not None:
        write_lines([unreadable.message])
        if unreadable.fatal:
            return unreadable.status
    return 1 if failed else 0


def _collect_as_usual() -> None:
    """_collect_as_usual: a console -batch's collector back to Python's usual young threshold
    once its first line has imported what the lines need (boundary.YOUNG_THRESHOLD), with
    what the process holds by then frozen out of its collections."""
    from pybpftool.cli.common.boundary import (
        USUAL_YOUNG_THRESHOLD,
        freeze_survivors,
        set_young_threshold,
    )

    freeze_survivors()
    set_young_threshold(USUAL_YOUNG_THRESHOLD)
