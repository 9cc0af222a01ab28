"""bpf: the bpf(2) commands the loader uses, as methods of `Kernel`.

`Kernel` is the loader's whole view of the kernel: tests hand the loader a recording fake
with the same methods (no root needed), production code this class. Every method either
returns owned `Fd`s and plain values or raises `KernelError` with errno and operation; the
two calls whose failure is data rather than an error (PROG_LOAD and BTF_LOAD, which come
back with a verifier log) return a `LoadResult` instead.
"""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

import ctypes
import errno as _errno
import os
from typing import TYPE_CHECKING, NamedTuple

from pybpftool.errors import FsAccess, KernelError
from pybpftool.kernel import attrs, infoattrs
from pybpftool.kernel import syscall as sc
from pybpftool.kernel.fd import Fd
from pybpftool.lazyexports import lazy_exports

# Reading a loaded object back (kernel.info) and renaming pins (kernel.pindir, with the pin
# layout and fcntl) are imported by the methods that do them: `object verify` loads and
# closes, and needs neither.
if TYPE_CHECKING:
    from pybpftool.kernel.info import ProgInfo

BPF_ANY, BPF_NOEXIST, BPF_EXIST = 0, 1, 2
BPF_F_RDONLY = 1 << 3
BPF_F_WRONLY = 1 << 4
BPF_LOG_LEVEL1, BPF_LOG_LEVEL2, BPF_LOG_STATS = 1, 2, 4


class MapInfo(NamedTuple):
    """MapInfo: struct bpf_map_info fields the loader compares, plus owner facts from fdinfo."""

    type: int
    id: int
    key_size: int
    value_size: int
    max_entries: int
    map_flags: int
    name: str
    btf_id: int = 0
    map_extra: int = 0


class MapRequest(NamedTuple):
    """MapRequest: the BPF_MAP_CREATE fields the loader sets (bpf_attr names)."""

    map_type: int
    key_size: int
    value_size: int
    max_entries: int
    map_flags: int = 0
    name: str = ""
    inner_map_fd: int = 0
    numa_node: int | None = None
    map_extra: int = 0
    btf_fd: int = 0
    btf_key_type_id: int = 0
    btf_value_type_id: int = 0
    map_ifindex: int = 0  # offload: the device the map lives on


class ProgRequest(NamedTuple):
    """ProgRequest: the BPF_PROG_LOAD fields the loader sets; records are raw bytes."""

    prog_type: int
    insns: bytes
    license: str
    name: str = ""
    expected_attach_type: int = 0
    kern_version: int = 0
    prog_flags: int = 0
    prog_btf_fd: int = 0
    func_info: bytes = b""
    func_info_rec_size: int = 0
    line_info: bytes = b""
    line_info_rec_size: int = 0
    prog_ifindex: int = 0
    # Not sent: the instructions CO-RE poisoned, for explaining a rejection.
    core_poisoned: tuple[tuple[int, str], ...] = ()


class LoadResult(NamedTuple):
    """LoadResult: PROG_LOAD/BTF_LOAD outcome: an fd or an errno, and the log it produced.

    `log_true_size` is the size the whole log needs (Linux 6.4+; 0 when the kernel does not
    report it).
    """

    fd: Fd | None
    errno: int
    log: str
    log_true_size: int


class Kernel:
    """Kernel: bpf(2) through ctypes (see syscall.py for the single call site)."""

    def map_create(self, req: MapRequest) -> Fd:
        attr = attrs.MapCreateAttr(
            map_type=req.map_type,
            key_size=req.key_size,
            value_size=req.value_size,
            max_entries=req.max_entries,
            map_flags=req.map_flags,
            inner_map_fd=req.inner_map_fd,
            map_name=_obj_name(req.name),
            btf_fd=req.btf_fd,
            btf_key_type_id=req.btf_key_type_id,
            btf_value_type_id=req.btf_value_type_id,
            map_extra=req.map_extra,
            map_ifindex=req.map_ifindex,
        )
        if req.numa_node is not None:
            attr.numa_node = req.numa_node
            attr.map_flags |= BPF_F_NUMA_NODE
        return Fd(sc.bpf(sc.BPF_MAP_CREATE, attr, "map create"))

    def map_update(self, fd: Fd, key: bytes, value: bytes, flags: int = BPF_ANY) -> None:
        kbuf, vbuf = _buffer(key), _buffer(value)
        attr = attrs.MapElemAttr(int(fd), attrs.address(kbuf), attrs.address(vbuf), flags)
        sc.bpf(sc.BPF_MAP_UPDATE_ELEM, attr, "map update")

    def map_lookup(self, fd: Fd, key: bytes, value_size: int) -> bytes | None:
        kbuf, vbuf = _buffer(key), ctypes.create_string_buffer(value_size)
        attr = attrs.MapElemAttr(int(fd), attrs.address(kbuf), attrs.address(vbuf), 0)
        ret = sc.sys_bpf(sc.BPF_MAP_LOOKUP_ELEM, attr)
        if ret == -_errno.ENOENT:
            return None
        if ret < 0:
            raise sc.failure("map lookup", -ret)
        return vbuf.raw

    def map_delete(self, fd: Fd, key: bytes) -> bool:
        """map_delete: remove `key`; False when it was not there."""
        kbuf = _buffer(key)
        attr = attrs.MapElemAttr(int(fd), attrs.address(kbuf), 0, 0)
        ret = sc.sys_bpf(sc.BPF_MAP_DELETE_ELEM, attr)
        if ret == -_errno.ENOENT:
            return False
        if ret < 0:
            raise sc.failure("map delete", -ret)
        return True

    def map_next_key(self, fd: Fd, key: bytes | None, key_size: int) -> bytes | None:
        kbuf = _buffer(key) if key is not None else None
        nbuf = ctypes.create_string_buffer(key_size)
        attr = attrs.MapElemAttr(int(fd), attrs.address(kbuf), attrs.address(nbuf), 0)
        ret = sc.sys_bpf(sc.BPF_MAP_GET_NEXT_KEY, attr)
        if ret == -_errno.ENOENT:
            return None
        if ret < 0:
            raise sc.failure("map next key", -ret)
        return nbuf.raw

    def map_freeze(self, fd: Fd) -> None:
        sc.bpf(sc.BPF_MAP_FREEZE, attrs.MapFdAttr(int(fd)), "map freeze")

    def prog_load(self, req: ProgRequest, log_level: int = 0, log_size: int = 0) -> LoadResult:
        insns, license_ = _buffer(req.insns), _buffer(req.license.encode() + b"\0")
        log = ctypes.create_string_buffer(log_size) if log_level and log_size else None
        finfo, linfo = _buffer(req.func_info), _buffer(req.line_info)
        attr = attrs.ProgLoadAttr(
            prog_type=req.prog_type,
            insn_cnt=len(req.insns) // 8,
            insns=attrs.address(insns),
            license=attrs.address(license_),
            log_level=log_level if log is not None else 0,
            log_size=log_size if log is not None else 0,
            log_buf=attrs.address(log),
            kern_version=req.kern_version,
            prog_flags=req.prog_flags,
            prog_name=_obj_name(req.name),
            prog_ifindex=req.prog_ifindex,
            expected_attach_type=req.expected_attach_type,
            prog_btf_fd=req.prog_btf_fd,
        )
        if req.prog_btf_fd and req.func_info:
            attr.func_info_rec_size = req.func_info_rec_size
            attr.func_info = attrs.address(finfo)
            attr.func_info_cnt = len(req.func_info) // req.func_info_rec_size
        if req.prog_btf_fd and req.line_info:
            attr.line_info_rec_size = req.line_info_rec_size
            attr.line_info = attrs.address(linfo)
            attr.line_info_cnt = len(req.line_info) // req.line_info_rec_size
        ret = sc.sys_bpf(sc.BPF_PROG_LOAD, attr)
        return _result(ret, log, attr.log_true_size)

    def btf_load(self, blob: bytes, log_level: int = 0, log_size: int = 0) -> LoadResult:
        data = _buffer(blob)
        log = ctypes.create_string_buffer(log_size) if log_level and log_size else None
        attr = attrs.BtfLoadAttr(
            btf=attrs.address(data),
            btf_log_buf=attrs.address(log),
            btf_size=len(blob),
            btf_log_size=log_size if log is not None else 0,
            btf_log_level=log_level if log is not None else 0,
        )
        ret = sc.sys_bpf(sc.BPF_BTF_LOAD, attr)
        return _result(ret, log, attr.btf_log_true_size)

    def prog_bind_map(self, prog: Fd, map_fd: Fd) -> None:
        """prog_bind_map: keep `map_fd` alive as long as `prog` (used for .rodata maps)."""
        attr = attrs.ProgBindMapAttr(int(prog), int(map_fd), 0)
        sc.bpf(sc.BPF_PROG_BIND_MAP, attr, "prog bind map")

    def obj_pin(self, fd: Fd, path: str) -> None:
        name = _buffer(os.fsencode(path) + b"\0")
        try:
            sc.bpf(sc.BPF_OBJ_PIN, attrs.ObjAttr(attrs.address(name), int(fd), 0), "obj pin")
        except KernelError as err:
            # A pin is a new file: the sandbox may refuse it (the `make_reg` right).
            access = FsAccess("make_reg", path)
            raise KernelError(err.operation, err.errno, err.message, access=access) from None

    def obj_get(self, path: str, flags: int = 0) -> Fd:
        name = _buffer(os.fsencode(path) + b"\0")
        attr = attrs.ObjAttr(attrs.address(name), 0, flags)
        return Fd(sc.bpf(sc.BPF_OBJ_GET, attr, "obj get"))

    def map_info(self, fd: Fd) -> MapInfo:
        """map_info: the map's struct bpf_map_info, the fields MapInfo keeps."""
        from pybpftool.kernel.info import obj_info

        raw = attrs.BpfMapInfo()
        obj_info(fd, raw)
        return MapInfo(
            type=raw.type,
            id=raw.id,
            key_size=raw.key_size,
            value_size=raw.value_size,
            max_entries=raw.max_entries,
            map_flags=raw.map_flags,
            name=raw.name.decode("utf-8", "backslashreplace"),
            btf_id=raw.btf_id,
            map_extra=raw.map_extra,
        )

    def prog_info(self, fd: Fd) -> "ProgInfo":
        from pybpftool.kernel.info import prog_info

        return prog_info(fd)

    def prog_by_id(self, prog_id: int) -> Fd:
        """prog_by_id: an fd of the loaded program with id `prog_id` (BPF_PROG_GET_FD_BY_ID)."""
        from pybpftool.kernel.info import prog_by_id

        return prog_by_id(prog_id)

    def map_by_id(self, map_id: int) -> Fd:
        """map_by_id: an fd of the map with id `map_id` (BPF_MAP_GET_FD_BY_ID)."""
        attr = infoattrs.IdAttr(map_id)
        return Fd(sc.bpf(sc.BPF_MAP_GET_FD_BY_ID, attr, "map get fd by id"))

    def pin_rename(self, old: str, new: str) -> None:
        """pin_rename: give pin `old` the name `new` in one step, never replacing a pin that
        is there already (renameat2 RENAME_NOREPLACE; EEXIST then)."""
        from pybpftool.kernel.pindir import rename_noreplace

        rename_noreplace(old, new)

    def fdinfo(self, fd: Fd) -> dict[str, str]:
        """fdinfo: /proc/self/fdinfo/<fd> as key -> value (owner_prog_type lives only here)."""
        try:
            with open(f"/proc/self/fdinfo/{int(fd)}") as f:
                lines = f.read().splitlines()
        except OSError as err:
            raise KernelError(
                "fdinfo", err.errno or _errno.EIO, f"No procfs support?! ({err})"
            ) from None
        pairs = (line.split(":", 1) for line in lines if ":" in line)
        return {k.strip(): v.strip() for k, v in pairs}

    def prog_attach(self, target: Fd, prog: Fd, attach_type: int, flags: int = 0) -> None:
        attr = attrs.ProgAttachAttr(int(target), int(prog), attach_type, flags, 0)
        sc.bpf(sc.BPF_PROG_ATTACH, attr, "prog attach")

    def prog_detach(self, target: Fd, prog: Fd | None, attach_type: int) -> None:
        attr = attrs.ProgAttachAttr(int(target), int(prog) if prog else 0, attach_type, 0, 0)
        sc.bpf(sc.BPF_PROG_DETACH, attr, "prog detach")


BPF_F_NUMA_NODE = 1 << 2


def _obj_name(name: str) -> bytes:
    """_obj_name: a name for bpf_attr that the kernel takes (bpf_obj_name_cpy): at most 15
    bytes, NUL-terminated by the 16-byte field, of letters, digits, `_` and `.`; any other
    byte becomes `_` (a legacy map may be named `my-map`: iproute2 passes no name at all;
    its pin keeps the object's full name)."""
    raw = name.encode("utf-8", "replace")[: infoattrs.BPF_OBJ_NAME_LEN - 1]
    return raw.translate(_NAME_BYTES)


_NAME_BYTES = bytes(
    c if chr(c).isascii() and (chr(c).isalnum() or chr(c) in "_.") else ord("_") for c in range(256)
)


def _buffer(data: bytes) -> ctypes.Array[ctypes.c_char] | None:
    """_buffer: a ctypes copy of `data` that lives as long as the caller keeps it; None if empty."""
    return ctypes.create_string_buffer(data, len(data)) if data else None


def _result(ret: int, log: ctypes.Array[ctypes.c_char] | None, true_size: int) -> LoadResult:
    text = log.value.decode("utf-8", "backslashreplace") if log is not None else ""
    if ret >= 0:
        return LoadResult(Fd(ret), 0, text, true_size)
    return LoadResult(None, -ret, text, true_size)


# `ProgInfo`, the loader's name for kernel.info's record, from here too (imported when asked).
__getattr__, __dir__ = lazy_exports(__name__, {"ProgInfo": "pybpftool.kernel.info"}, globals())
