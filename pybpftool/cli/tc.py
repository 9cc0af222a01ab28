"""tc: the `pytc` command (iproute2 `tc` syntax for its BPF parts)."""

from __future__ import annotations

from pybpftool.cli.frontend import Handler, run_frontend
from pybpftool.cli.grammar import GlobalOptions
from pybpftool.cli.usage import TC_USAGE


def _qdisc(opts: GlobalOptions, args: list[str]) -> int:
    from pybpftool.cli.tcfilter import qdisc_command

    return qdisc_command(opts, args)


def _filter(opts: GlobalOptions, args: list[str]) -> int:
    from pybpftool.cli.tcfilter import filter_command

    return filter_command(opts, args)


def _exec(opts: GlobalOptions, args: list[str]) -> int:
    from pybpftool.cli.tcexec import exec_command

    return exec_command(opts, args)


HANDLERS: dict[str, Handler] = {"qdisc": _qdisc, "filter": _filter, "exec": _exec}


def main(argv: list[str] | None = None) -> int:
    return run_frontend("tc", TC_USAGE, HANDLERS, argv)


if __name__ == "__main__":
    raise SystemExit(main())
