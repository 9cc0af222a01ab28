"""txn: the undo logs of one load (`Transaction`) and of one commit (`CommitLog`).

A load only creates things nobody else can see yet: fds of new maps, programs and BTF, and
the list of slots it will write into maps that existed before (`SlotWrite`, done at commit).
`Transaction.rollback()` closes the fds; nothing else needs undoing.

A commit (publish.py) is what changes shared state, under the pin-folder locks: it makes pin
folders, publishes pins and writes slots of pre-existing maps, recording each step in a
`CommitLog` with what it takes to undo it (a slot's old program or map, or that it was
empty). `CommitLog.undo()` puts every slot back, unpins what it published and removes the
folders it made, newest first, before the locks are dropped; it never raises.
"""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

import contextlib
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple, Protocol

from pybpftool.errors import PyBpfError
from pybpftool.kernel.fd import Fd

if TYPE_CHECKING:
    from pybpftool.loader.maps import Map


class UndoKernel(Protocol):
    """UndoKernel: what restoring a map slot needs."""

    def map_update(self, fd: Fd, key: bytes, value: bytes, flags: int = 0) -> None: ...
    def map_delete(self, fd: Fd, key: bytes) -> bool: ...


class SlotWrite(NamedTuple):
    """SlotWrite: put `value` (a program or map fd) into slot `key` of `array`, a map that
    existed before this command; done at commit, with an undo record."""

    array: "Map"
    key: int
    value: Fd


class SlotUndo(NamedTuple):
    """SlotUndo: slot `key` of `array` held `old` before the commit wrote it (None: empty)."""

    array: Fd
    name: str
    key: int
    old: Fd | None


class Transaction:
    """Transaction: what one load opened, and the writes it left for commit."""

    def __init__(self) -> None:
        self.fds: list[Fd] = []
        self.writes: list[SlotWrite] = []  # slots of pre-existing maps, written at commit
        self.done = False

    def own(self, fd: Fd) -> Fd:
        """own: close `fd` on rollback; returns it for chaining."""
        self.fds.append(fd)
        return fd

    def defer_write(self, write: SlotWrite) -> None:
        self.writes.append(write)

    def commit(self) -> None:
        self.done = True

    def rollback(self) -> None:
        """rollback: close every fd the load opened, newest first; never raises."""
        if self.done:
            return
        self.done = True
        for fd in reversed(self.fds):
            with contextlib.suppress(OSError):
                fd.close()


class CommitLog:
    """CommitLog: the shared state one commit changed, in order, to undo it on failure."""

    def __init__(self) -> None:
        self.folders: list[str] = []
        self.pins: list[str] = []
        self.slots: list[SlotUndo] = []

    def made_folder(self, path: str) -> None:
        self.folders.append(path)

    def published(self, path: str) -> None:
        self.pins.append(path)

    def wrote(self, undo: SlotUndo) -> None:
        self.slots.append(undo)

    def undo(self, kernel: UndoKernel, report: Callable[[str], None]) -> None:
        """undo: restore every slot, unpin every published pin, remove the folders made;
        never raises (a slot that cannot be restored is reported, then the rest goes on)."""
        for slot in reversed(self.slots):
            key = slot.key.to_bytes(4, sys.byteorder)
            try:
                if slot.old is not None:
                    kernel.map_update(slot.array, key, int(slot.old).to_bytes(4, sys.byteorder))
                else:
                    kernel.map_delete(slot.array, key)
            except (PyBpfError, OSError, ValueError) as err:
                report(f"cannot restore slot {slot.key} of map '{slot.name}': {err}")
        for path in reversed(self.pins):
            with contextlib.suppress(OSError):
                os.unlink(path)
        for folder in reversed(self.folders):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        self.close()

    def close(self) -> None:
        """close: drop the old programs and maps kept for undo (the commit stands)."""
        for slot in self.slots:
            if slot.old is not None:
                slot.old.close()
        self.folders, self.pins, self.slots = [], [], []
