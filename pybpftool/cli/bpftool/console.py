"""console: the `pybpftool` console script's process, set up before the command line is.

boundary.console raises the collector's young threshold (a cold command's imports are not
garbage) and skips the interpreter's teardown. The command line is click's (main.py), and
click with typing, inspect and datetime is most of what a cold `pybpftool` imports: run
with Python's usual threshold, those imports took about 20 young collections, 3-4 ms of a
warm `object verify`. So this module imports only the boundary (not even typing), and
main.py, with click, once the process is set up.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is click's to import, under the raised threshold
if TYPE_CHECKING:
    from typing import NoReturn


def console() -> NoReturn:
    """console: the `pybpftool` console script: boundary.console(main), which skips the
    interpreter's teardown and turns a closed pipe or Ctrl-C into a quiet status. Tests call
    main() in-process; `python -m` runs it as a process of its own that exits the usual way."""
    from pybpftool.cli.common import boundary

    def command() -> int:
        from pybpftool.cli.bpftool.main import main

        return main(console=True)

    boundary.console("pybpftool", command)
