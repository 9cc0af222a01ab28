"""main: the `pyip` command (iproute2 `ip` syntax for its BPF parts)."""

from __future__ import annotations

from pybpftool.cli.common.frontend import run_frontend
from pybpftool.cli.common.usage import IP_USAGE

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up)
if TYPE_CHECKING:
    from typing import NoReturn

    from pybpftool.cli.common.context import RunContext
    from pybpftool.cli.common.frontend import Handler


def _link(run: RunContext, args: list[str]) -> int:
    from pybpftool.cli.ip.linkcmd import link_command

    return link_command(run, args)


def _vrf(run: RunContext, args: list[str]) -> int:
    from pybpftool.cli.ip.vrf import vrf_command

    return vrf_command(run, args)


HANDLERS: dict[str, Handler] = {"link": _link, "vrf": _vrf}


def main(argv: list[str] | None = None, *, console: bool = False) -> int:
    """main: run one pyip command line (default: sys.argv[1:]) and return its exit status.

    Called in-process it leaves the process as it found it (no Landlock, back in its own
    network namespace after `-n`); only the console script passes `console=True`."""
    return run_frontend("ip", IP_USAGE, HANDLERS, argv, console)


def console() -> NoReturn:
    """console: the `pyip` console script: main() in a process of its own (it may confine
    itself and stay in -n's namespace), through boundary.console, which skips the
    interpreter's teardown and turns a closed pipe or Ctrl-C into a quiet status. Tests call
    main() in-process; `python -m` runs it as a process of its own that exits the usual way."""
    from pybpftool.cli.common import boundary

    boundary.console("ip", lambda: main(console=True))


if __name__ == "__main__":
    raise SystemExit(main(console=True))
