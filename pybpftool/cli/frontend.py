"""frontend: what pyip and pytc share: global options, -V, help, object dispatch.

Objects are dispatched through `handlers` (object name -> callable). Objects of ip/tc that
pybpftool does not handle are refused with a clear message instead of being guessed at.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping

from pybpftool import __version__
from pybpftool.cli.escape import terminal_safe
from pybpftool.cli.grammar import GlobalOptions, IprouteExit, parse_global_options, resolve_object
from pybpftool.errors import NetlinkFailure, PyBpfError

Handler = Callable[[GlobalOptions, list[str]], int]

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


def run_frontend(
    tool: str, usage: str, handlers: Mapping[str, Handler], argv: list[str] | None
) -> int:
    """run_frontend: parse global options, then run the object's handler; return the status."""
    args = sys.argv[1:] if argv is None else argv
    try:
        opts, rest = parse_global_options(tool, args)
        if opts.version:
            sys.stdout.write(f"{tool} utility, pybpftool-{__version__} (iproute2-6.1.0 syntax)\n")
            return 0
        if opts.batch is not None:
            return _run_batch(tool, usage, handlers, opts)
        if opts.help or not rest:
            sys.stderr.write(usage)
            return HELP_STATUS[tool]
        return _dispatch(tool, usage, handlers, opts, rest)
    except IprouteExit as err:
        write_lines(err.message.split("\n"))
        return err.status
    except PyBpfError as err:
        # iproute2 prints its messages bare, without the program's name.
        from pybpftool.cli.iplink import sandbox_lines

        write_lines([*err.details, err.message, *sandbox_lines(err)])
        return 255


def _dispatch(
    tool: str, usage: str, handlers: Mapping[str, Handler], opts: GlobalOptions, rest: list[str]
) -> int:
    """_dispatch: one command: its object, then the object's handler."""
    obj = resolve_object(tool, rest[0])
    if obj == "help":
        sys.stderr.write(usage)
        return HELP_STATUS[tool]
    handler = handlers.get(obj)
    if handler is None:
        raise IprouteExit(_unhandled(tool, obj), 255)
    if opts.netns is not None:
        from pybpftool.kernel.netns import enter_netns
        from pybpftool.sandbox import open_audit_early

        open_audit_early()  # the audit socket works only from the initial netns
        enter_netns(opts.netns)
        opts.netns = None  # entered once; batch lines run in it
    try:
        return handler(opts, rest[1:])
    except NetlinkFailure as err:
        # A refusal no command expected (say EPERM on a lookup): iproute2's generic report.
        from pybpftool.cli.iplink import netlink_message

        talking = ["We have an error talking to the kernel"] if tool == "tc" else []
        raise IprouteExit("\n".join([netlink_message(err), *talking]), 2) from None


def _remember_batch_files(lines: list[tuple[int, list[str]]]) -> None:
    """_remember_batch_files: every existing file a batch names stays readable once the first
    line has confined the process."""
    import os

    from pybpftool.cli.attach import BATCH_FILES

    BATCH_FILES.extend(w for _n, words in lines for w in words if os.path.isfile(w))


def _run_batch(tool: str, usage: str, handlers: Mapping[str, Handler], opts: GlobalOptions) -> int:
    """_run_batch: every command of the batch file in this process; 1 if any failed.

    A failed command prints `Command failed FILE:LINE` and ends the batch unless -force.
    """
    from pybpftool.cli.batch import command_lines

    name = opts.batch or "-"
    try:
        stream = sys.stdin if name == "-" else open(name)  # noqa: SIM115 (closed below)
    except OSError as err:
        raise IprouteExit(f'Cannot open file "{name}" for reading: {err.strerror}', 1) from None
    failed = False
    with stream:
        lines = list(command_lines(stream))
        _remember_batch_files(lines)
        for number, words in lines:
            try:
                status = _dispatch(tool, usage, handlers, opts, words)
            except IprouteExit as err:
                write_lines(err.message.split("\n"))
                status = err.status
            except PyBpfError as err:
                write_lines([*err.details, err.message])
                status = 255
            if status:
                write_lines([f"Command failed {name}:{number}"])
                failed = True
                if not opts.force:
                    break
    return 1 if failed else 0
