"""txn: what one load created, so that a failure can take all of it back.

Every fd the loader opens, pin it creates and folder it makes for a pin is recorded here.
`rollback()` unpins the new pins, removes the new (now empty) folders and closes the fds, in
reverse order; pins that existed before the command are never touched. `commit()` keeps the
pins and hands the fds over to the loaded object.
"""

from __future__ import annotations

import contextlib
import os

from pybpftool.kernel.fd import Fd


class Transaction:
    """Transaction: undo log of one load."""

    def __init__(self) -> None:
        self.fds: list[Fd] = []
        self.pins: list[str] = []
        self.folders: list[str] = []
        self.done = False

    def own(self, fd: Fd) -> Fd:
        """own: close `fd` on rollback; returns it for chaining."""
        self.fds.append(fd)
        return fd

    def pinned(self, path: str) -> None:
        """pinned: `path` is a pin this load created (removed on rollback)."""
        self.pins.append(path)

    def made_folder(self, path: str) -> None:
        """made_folder: `path` is a folder this load created for a pin (removed if empty)."""
        self.folders.append(path)

    def commit(self) -> None:
        self.done = True

    def rollback(self) -> None:
        """rollback: undo everything recorded, newest first; never raises."""
        if self.done:
            return
        self.done = True
        for path in reversed(self.pins):
            with contextlib.suppress(OSError):
                os.unlink(path)
        for folder in reversed(self.folders):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        for fd in reversed(self.fds):
            with contextlib.suppress(OSError):
                fd.close()
