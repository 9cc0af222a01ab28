"""process: what one run of a front end may do to the process it runs in.

A console script (pyip, pytc, pybpftool: their `console()` entry points) runs one command in
a process of its own: that process confines itself with Landlock before it reads an object,
and `-n NAME` moves it into the namespace for the rest of its life, as iproute2 does.
`main(argv)` called in-process (tests, a Python program driving the CLI) changes neither for
good: nothing is confined, and the thread returns to its own network namespace when the
command ends. The run's Process travels down with its GlobalOptions (`opts.process`).
"""

from __future__ import annotations


class Process:
    """Process: the process-wide effects one front-end run may have, and their undoing."""

    __slots__ = ("_home", "console")

    def __init__(self, console: bool = False) -> None:
        self.console = console  # a console script's own process: confine, stay in -n's netns
        self._home: int | None = None  # in-process runs: the netns fd to return to

    @property
    def confines(self) -> bool:
        """confines: loads confine the process with Landlock (console scripts only)."""
        return self.console

    def switch_netns(self, name: str) -> None:
        """switch_netns: `-n NAME`: the calling thread enters namespace NAME (only the network
        namespace: the host's bpffs and pins stay visible)."""
        from pybpftool.kernel.netns import enter_netns, thread_netns

        if self.console:
            from pybpftool.sandbox import open_audit_early

            open_audit_early()  # the audit socket works only from the initial netns
        elif self._home is None:
            self._home = thread_netns()
        enter_netns(name)

    def restore(self) -> None:
        """restore: an in-process run's thread back in its own network namespace."""
        if self._home is None:
            return
        import os

        from pybpftool.kernel.netns import return_to_netns

        home, self._home = self._home, None
        try:
            return_to_netns(home)
        finally:
            os.close(home)
