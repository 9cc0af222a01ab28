"""fakekernel: a recording stand-in for pybpftool.kernel.bpf.Kernel, no root needed.

Maps and programs are plain records; pins are real files (holding the object id) under the
test's temporary folder, so the loader's own folder creation, locks, renames and rollback run
for real. Slots of fd maps (prog arrays, map-in-maps) hold the id of the object put there, and
a lookup answers with that id, as the kernel does for userspace.
Every call is recorded as (operation, detail). `fail_at(op, n, errno)` makes the n-th call
(1-based) of `op` fail, which lets a test break a load at every step in turn.
"""

from __future__ import annotations

import errno as _errno
import os
from dataclasses import dataclass, field

from pybpftool.errors import KernelError
from pybpftool.kernel.bpf import LoadResult, MapInfo, MapRequest, ProgRequest
from pybpftool.kernel.fd import Fd
from pybpftool.kernel.pindir import rename_noreplace

FD_MAPS = (3, 12, 13)  # prog array, array of maps, hash of maps


@dataclass
class FakeMap:
    id: int
    req: MapRequest
    entries: dict[bytes, bytes] = field(default_factory=dict)
    frozen: bool = False
    owner_prog_type: int | None = None


@dataclass
class FakeProg:
    id: int
    req: ProgRequest


class FakeKernel:
    """FakeKernel: the LoaderKernel protocol over in-memory objects."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.objects: dict[int, FakeMap | FakeProg | bytes] = {}
        self.open: dict[int, int] = {}  # fd number -> object id
        self.failures: dict[tuple[str, int], int] = {}
        self.counts: dict[str, int] = {}
        self.verifier_log = ""  # when set, every program is rejected with this log
        self.success_log = ""  # the log of an accepted program, when one is asked for
        self.btf_log = ""  # the log of an accepted BTF, when one is asked for
        self.reject_errno = _errno.EACCES
        self.btf_ok = True
        self.log_true_size_supported = True  # Linux 6.4+: log_true_size, and a log that
        # does not fit keeps its end (the rotating log); before: no size, and its start
        self.bound: dict[int, list[int]] = {}  # program id -> ids of maps bound to it
        self._next_fd = 100
        self._next_id = 1

    # -- test controls -------------------------------------------------------------------
    def fail_at(self, op: str, n: int, err: int = _errno.EPERM) -> None:
        self.failures[(op, n)] = err

    def ops(self) -> list[str]:
        return [op for op, _ in self.calls]

    # -- helpers ----------------------------------------------------------------------------
    def _enter(self, op: str, detail: str = "") -> None:
        err = self._count(op, detail)
        if err is not None:
            raise KernelError(op, err, f"{op} failed: {os.strerror(err)}")

    def _count(self, op: str, detail: str) -> int | None:
        """_count: record the call; the errno it must fail with, if a test asked for that."""
        self.counts[op] = self.counts.get(op, 0) + 1
        self.calls.append((op, detail))
        return self.failures.get((op, self.counts[op]))

    def _new_fd(self, obj_id: int) -> Fd:
        return Fd(self._dup_id(obj_id), self._close, self._dup, self._move)

    def _dup_id(self, obj_id: int) -> int:
        num = self._next_fd
        self._next_fd += 1
        self.open[num] = obj_id
        return num

    def _dup(self, num: int) -> int:
        return self._dup_id(self.open[num])

    def _move(self, src: int, dst: int) -> None:
        self.open[dst] = self.open.pop(src)

    def _close(self, num: int) -> None:
        if num not in self.open:
            raise AssertionError(f"fd {num} closed twice")
        del self.open[num]

    def _new_object(self, obj: FakeMap | FakeProg | bytes) -> int:
        obj_id = self._next_id
        self._next_id += 1
        self.objects[obj_id] = obj
        return obj_id

    def obj(self, fd: Fd | int) -> FakeMap | FakeProg | bytes:
        return self.objects[self.open[int(fd)]]

    def map_of(self, fd: Fd | int) -> FakeMap:
        found = self.obj(fd)
        assert isinstance(found, FakeMap)
        return found

    # -- the Kernel protocol ------------------------------------------------------------------
    def map_create(self, req: MapRequest) -> Fd:
        self._enter("map_create", req.name)
        obj = FakeMap(0, req)
        obj.id = self._new_object(obj)
        return self._new_fd(obj.id)

    def map_update(self, fd: Fd, key: bytes, value: bytes, flags: int = 0) -> None:
        m = self.map_of(fd)
        self._enter("map_update", m.req.name)
        if (
            len(key) >= 4
            and int.from_bytes(key[:4], "little") >= m.req.max_entries
            and (
                m.req.map_type in (2, 3, 12)  # array, prog_array, array_of_maps
            )
        ):
            raise KernelError("map update", _errno.E2BIG, "map update failed: E2BIG")
        if m.frozen:
            raise KernelError("map update", _errno.EPERM, "map update failed: frozen")
        if m.req.map_type == 3:
            prog = self.obj(int.from_bytes(value, "little"))
            assert isinstance(prog, FakeProg)
            m.owner_prog_type = m.owner_prog_type or prog.req.prog_type
        if m.req.map_type in FD_MAPS:
            value = self.open[int.from_bytes(value, "little")].to_bytes(4, "little")
        m.entries[key] = value

    def map_lookup(self, fd: Fd, key: bytes, value_size: int) -> bytes | None:
        m = self.map_of(fd)
        self._enter("map_lookup", m.req.name)
        return m.entries.get(key)

    def map_delete(self, fd: Fd, key: bytes) -> bool:
        m = self.map_of(fd)
        self._enter("map_delete", m.req.name)
        return m.entries.pop(key, None) is not None

    def prog_by_id(self, prog_id: int) -> Fd:
        self._enter("prog_by_id", str(prog_id))
        if not isinstance(self.objects.get(prog_id), FakeProg):
            raise KernelError("prog get fd by id", _errno.ENOENT, "prog get fd by id: ENOENT")
        return self._new_fd(prog_id)

    def map_by_id(self, map_id: int) -> Fd:
        self._enter("map_by_id", str(map_id))
        if not isinstance(self.objects.get(map_id), FakeMap):
            raise KernelError("map get fd by id", _errno.ENOENT, "map get fd by id: ENOENT")
        return self._new_fd(map_id)

    def slot(self, fd: Fd | int, key: int) -> int | None:
        """slot: the id of the object in slot `key` of an fd map (None: empty)."""
        value = self.map_of(fd).entries.get(key.to_bytes(4, "little"))
        return None if value is None else int.from_bytes(value, "little")

    def map_freeze(self, fd: Fd) -> None:
        self._enter("map_freeze", self.map_of(fd).req.name)
        self.map_of(fd).frozen = True

    def map_info(self, fd: Fd) -> MapInfo:
        m = self.map_of(fd)
        self._enter("map_info", m.req.name)
        r = m.req
        return MapInfo(
            r.map_type, m.id, r.key_size, r.value_size, r.max_entries, r.map_flags, r.name
        )

    def fdinfo(self, fd: Fd) -> dict[str, str]:
        m = self.map_of(fd)
        self._enter("fdinfo", m.req.name)
        out = {"map_type": str(m.req.map_type)}
        if m.owner_prog_type is not None:
            out["owner_prog_type"] = str(m.owner_prog_type)
        return out

    def obj_get(self, path: str, flags: int = 0) -> Fd:
        self._enter("obj_get", path)
        try:
            with open(path) as f:
                obj_id = int(f.read())
        except FileNotFoundError:
            raise KernelError("obj get", _errno.ENOENT, "obj get failed: ENOENT") from None
        return self._new_fd(obj_id)

    def obj_pin(self, fd: Fd, path: str) -> None:
        self._enter("obj_pin", path)
        if not os.path.isdir(os.path.dirname(path)):
            raise KernelError("obj pin", _errno.ENOENT, "obj pin failed: ENOENT")
        try:
            with open(path, "x") as f:
                f.write(str(self.open[int(fd)]))
        except FileExistsError:
            raise KernelError("obj pin", _errno.EEXIST, "obj pin failed: EEXIST") from None

    def pin_rename(self, old: str, new: str) -> None:
        self._enter("pin_rename", new)
        rename_noreplace(old, new)  # the pins are real files: the real renameat2

    def prog_bind_map(self, prog: Fd, map_fd: Fd) -> None:
        self._enter("prog_bind_map", self.map_of(map_fd).req.name)
        self.bound.setdefault(self.open[int(prog)], []).append(self.open[int(map_fd)])

    def btf_load(self, blob: bytes, log_level: int = 0, log_size: int = 0) -> LoadResult:
        # Like the real call, a failure comes back as a result, not an exception.
        injected = self._count("btf_load", "")
        if injected is not None:
            return LoadResult(None, injected, "", 0)
        if not self.btf_ok:
            return LoadResult(None, _errno.EINVAL, "bad btf" if log_level else "", 8)
        log = self.btf_log if log_level else ""
        return LoadResult(self._new_fd(self._new_object(blob)), 0, log, 0)

    def prog_load(self, req: ProgRequest, log_level: int = 0, log_size: int = 0) -> LoadResult:
        injected = self._count("prog_load", f"{req.name} level={log_level} size={log_size}")
        if injected is not None:
            return LoadResult(None, injected, "injected failure" if log_level else "", 17)
        if not self.verifier_log:
            log = self.success_log if log_level else ""
            return LoadResult(self._new_fd(self._new_object(FakeProg(0, req))), 0, log, 0)
        full = self.verifier_log
        true_size = len(full.encode()) + 1 if self.log_true_size_supported else 0
        if not log_level:
            return LoadResult(None, self.reject_errno, "", true_size)
        if log_size < len(full.encode()) + 1:
            # A log that does not fit: ENOSPC, with its end (6.4+) or its start (before).
            room = max(log_size - 1, 0)
            kept = full[len(full) - room :] if self.log_true_size_supported else full[:room]
            return LoadResult(None, _errno.ENOSPC, kept, true_size)
        return LoadResult(None, self.reject_errno, full, true_size)
