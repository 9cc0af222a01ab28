"""publish: commit the loads of one command: new pins, slot writes and the attach, as one step.

A load (core.py) creates and fills its maps and loads its programs without touching anything
shared. Its commit, under exclusive locks on every pin folder involved (kernel/pindir.py,
never held while the verifier runs), then:
1. checks that every pin it reuses still holds the very map it opened (another command may
   have unpinned or replaced it since);
2. publishes each new map: pinned under a temporary name in its folder, then renamed to its
   final name with RENAME_NOREPLACE, so it appears complete and never replaces another pin;
3. writes the slots of pre-existing maps (tail calls into a reused prog array), keeping
   each slot's old program or map (or that it was empty) in a CommitLog;
4. runs the caller's attach (netlink filter, XDP, graft, ...).
If step 1 or 2 finds that someone else got there first (PinsChanged), everything done so far
is undone, the locks are dropped and the loads run again: they now adopt the winner's pins,
so their programs reference the one map behind each pin name (a program's map references are
fixed when it is verified, so rebinding means loading it again). Any other failure undoes
every slot write, unpins only what this commit published, closes the fds and re-raises.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import itertools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from pybpftool.errors import KernelError, PinError
from pybpftool.kernel import pindir
from pybpftool.kernel.bpffs import make_pin_dirs
from pybpftool.loader import slots
from pybpftool.loader.txn import CommitLog

if TYPE_CHECKING:
    from pybpftool.loader.core import LoadedObject, LoaderKernel
    from pybpftool.loader.maps import Map

MAX_ATTEMPTS = 5  # loads run again at most this often when pins change under a commit


class PinsChanged(PinError):
    """PinsChanged: a pin this commit relies on or publishes was changed by someone else."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(f"pin {path} {why}")
        self.path = path


class LoadGroup:
    """LoadGroup: the loads of one command (a filter and its actions, say), committed together
    around one attach. A later load of the group shares the maps an earlier one will publish
    (`pending`, by pin_key), as it would share them if the earlier one were pinned already."""

    def __init__(self) -> None:
        self.members: list[LoadedObject] = []
        self.pending: dict[str, Map] = {}

    def add(self, loaded: LoadedObject) -> None:
        self.members.append(loaded)
        self.register(loaded)

    def forget(self, loaded: LoadedObject) -> None:
        """forget: `loaded` was discarded; its maps are no longer to be published."""
        self.members = [m for m in self.members if m is not loaded]
        self.pending = {}
        for member in self.members:
            self.register(member)

    def commit(self, attach: Callable[[], None] | None = None) -> None:
        """commit: publish, write and attach for every member at once (see the module)."""
        members, self.members, self.pending = self.members, [], {}
        commit_loads(self, members, attach)

    def register(self, loaded: LoadedObject) -> None:
        """register: the maps `loaded` will publish, for the group's later loads to share."""
        for m in loaded.maps.values():
            if m.pin_path is not None and not m.reused:
                self.pending.setdefault(pin_key(m.pin_path), m)


def pin_key(path: str) -> str:
    """pin_key: one spelling per pin (`tc//globals/x` and `xdp//globals/x` are one pin)."""
    return os.path.join(os.path.realpath(pindir.pin_folder(path)), os.path.basename(path))


def commit_loads(
    group: LoadGroup, members: list[LoadedObject], attach: Callable[[], None] | None
) -> None:
    """commit_loads: commit `members` of `group`, loading them again after a lost race."""
    try:
        for attempt in itertools.count(1):
            try:
                _commit_once(members, attach)
                break
            except PinsChanged as changed:
                if attempt >= MAX_ATTEMPTS:
                    raise PinError(
                        f"{changed.message}; gave up after {attempt} attempts",
                        hint="Another program keeps changing these pins.",
                    ) from None
                _say(members, f"{changed.message}: loading the object again")
                group.pending = {}  # each reload registers its new maps for the next one
                for member in members:
                    member.reload(group)
                    group.register(member)
    except BaseException:
        for member in members:
            member.abandon()
        raise
    group.pending = {}
    for member in members:
        member.committed()


def _commit_once(members: list[LoadedObject], attach: Callable[[], None] | None) -> None:
    kernel = members[0].kernel if members else None
    folders = [pindir.pin_folder(path) for path, _m in _pinned(members)]
    if kernel is None or not folders:
        if attach is not None:
            attach()  # nothing shared to change: no lock needed
        return
    log = CommitLog()
    locks = pindir.PinDirLocks()
    try:
        locks.acquire(folders, make_pin_dirs, log.made_folder)
        mine = {pin_key(path) for path, m in _pinned(members) if not m.reused}
        _check_reused(kernel, members, mine)
        _publish(kernel, members, log)
        for member in members:
            for write in member.txn.writes if member.txn is not None else ():
                slots.write_with_undo(kernel, write, log)
        if attach is not None:
            attach()
    except BaseException:
        log.undo(kernel, _reporter(members))
        raise
    finally:
        locks.release()
    log.close()


def _pinned(members: list[LoadedObject]) -> list[tuple[str, Map]]:
    """_pinned: (pin path, map) of every map the members pin or reuse from a pin."""
    return [
        (m.pin_path, m)
        for member in members
        for m in member.maps.values()
        if m.pin_path is not None
    ]


def _check_reused(kernel: LoaderKernel, members: list[LoadedObject], mine: set[str]) -> None:
    """_check_reused: each reused pin (not one this commit publishes) still holds our map."""
    for path, m in _pinned(members):
        if not m.reused or pin_key(path) in mine:
            continue
        try:
            fd = kernel.obj_get(path)
        except KernelError as err:
            if err.errno == _errno.ENOENT:
                raise PinsChanged(path, "was removed meanwhile") from None
            raise PinError(
                f"Couldn't open pinned map '{m.spec.name}' at {path}: {os.strerror(err.errno)}"
            ) from None
        with fd:
            if kernel.map_info(fd).id != m.id:
                raise PinsChanged(path, "was replaced meanwhile")


def _publish(kernel: LoaderKernel, members: list[LoadedObject], log: CommitLog) -> None:
    """_publish: pin each new map under a temporary name, then rename it into place."""
    seq = itertools.count()
    for final, m in _pinned(members):
        if m.reused:
            continue
        temp = pindir.temp_pin_path(final, next(seq))
        try:
            kernel.obj_pin(m.fd, temp)
        except KernelError as err:
            raise PinError(f"Could not pin {final} map: {os.strerror(err.errno)}") from None
        try:
            kernel.pin_rename(temp, final)
        except KernelError as err:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            if err.errno == _errno.EEXIST:
                raise PinsChanged(final, "was pinned by another process meanwhile") from None
            raise PinError(f"Could not pin {final} map: {os.strerror(err.errno)}") from None
        log.published(final)


def _say(members: list[LoadedObject], line: str) -> None:
    for member in members:
        if member.verbose:
            _reporter([member])(line)
            return


def _reporter(members: list[LoadedObject]) -> Callable[[str], None]:
    for member in members:
        if member.report is not None:
            return member.report
    return lambda line: None
