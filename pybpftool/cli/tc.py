"""tc: the `pytc` command (iproute2 `tc` syntax for its BPF parts)."""

from __future__ import annotations

from pybpftool.cli.frontend import Handler, run_frontend
from pybpftool.cli.usage import TC_USAGE

HANDLERS: dict[str, Handler] = {}


def main(argv: list[str] | None = None) -> int:
    return run_frontend("tc", TC_USAGE, HANDLERS, argv)


if __name__ == "__main__":
    raise SystemExit(main())
