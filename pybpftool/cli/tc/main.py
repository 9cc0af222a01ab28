"""main: the `pytc` command (iproute2 `tc` syntax for its BPF parts): global options, then
the object's handler; each handler imports its module on first use (start-up)."""

from __future__ import annotations

import sys

from pybpftool.cli.common.frontend import run_frontend
from pybpftool.cli.common.grammar import matches
from pybpftool.cli.common.usage import EXEC_USAGE, TC_USAGE

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up)
if TYPE_CHECKING:
    from typing import NoReturn

    from pybpftool.cli.common.context import RunContext
    from pybpftool.cli.common.frontend import Handler


def _qdisc(run: RunContext, args: list[str]) -> int:
    from pybpftool.cli.tc.qdisc import qdisc_command

    return qdisc_command(run, args)


def _filter(run: RunContext, args: list[str]) -> int:
    from pybpftool.cli.tc.filter import filter_command

    return filter_command(run, args)


def _exec(run: RunContext, args: list[str]) -> int:
    if args and matches(args[0], "help"):  # tc_exec.c do_exec()
        sys.stderr.write(EXEC_USAGE)
        return 0
    from pybpftool.cli.tc.exec_bpf import exec_command

    return exec_command(run, args)


def _actions(run: RunContext, args: list[str]) -> int:
    from pybpftool.cli.tc.actions import actions_command

    return actions_command(run, args)


def _chain(run: RunContext, args: list[str]) -> int:
    from pybpftool.cli.tc.chain import chain_command

    return chain_command(run, args)


HANDLERS: dict[str, Handler] = {
    "qdisc": _qdisc,
    "filter": _filter,
    "chain": _chain,
    "actions": _actions,
    "exec": _exec,
}


def main(argv: list[str] | None = None, *, console: bool = False) -> int:
    """main: run one pytc command line (default: sys.argv[1:]) and return its exit status.

    Called in-process it leaves the process as it found it (no Landlock, back in its own
    network namespace after `-n`); only the console script passes `console=True`."""
    return run_frontend("tc", TC_USAGE, HANDLERS, argv, console)


def console() -> NoReturn:
    """console: the `pytc` console script: main() in a process of its own (it may confine
    itself and stay in -n's namespace), through boundary.console, which skips the
    interpreter's teardown and turns a closed pipe or Ctrl-C into a quiet status. Tests call
    main() in-process; `python -m` runs it as a process of its own that exits the usual way."""
    from pybpftool.cli.common import boundary

    boundary.console("tc", lambda: main(console=True))


if __name__ == "__main__":
    raise SystemExit(main(console=True))
