"""info: what the kernel says of a loaded program or map: opening one by id and reading its
struct bpf_prog_info / bpf_map_info (BPF_OBJ_GET_INFO_BY_FD).

Apart from kernel/bpf.py (whose `Kernel` methods of the same names call these) because the
listings need only this: `ip link show` and `tc filter show` name the programs they print
without importing the loader's requests, results and pin folder code.
"""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

import ctypes
from typing import NamedTuple

from pybpftool.kernel import infoattrs
from pybpftool.kernel import syscall as sc
from pybpftool.kernel.fd import Fd


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


class ProgInfo(NamedTuple):
    """ProgInfo: struct bpf_prog_info fields used for reports and differential tests."""

    type: int
    id: int
    tag: str
    name: str
    jited: bool
    verified_insns: int
    btf_id: int
    nr_func_info: int
    nr_line_info: int
    map_ids: tuple[int, ...]
    load_time: int = 0
    created_by_uid: int = 0


def map_info(fd: Fd) -> MapInfo:
    """map_info: the map's struct bpf_map_info, the fields MapInfo keeps."""
    info = infoattrs.BpfMapInfo()
    _info(fd, info)
    return MapInfo(
        type=info.type,
        id=info.id,
        key_size=info.key_size,
        value_size=info.value_size,
        max_entries=info.max_entries,
        map_flags=info.map_flags,
        name=info.name.decode("utf-8", "backslashreplace"),
        btf_id=info.btf_id,
        map_extra=info.map_extra,
    )


def prog_info(fd: Fd) -> ProgInfo:
    """prog_info: the program's struct bpf_prog_info, the fields ProgInfo keeps, with the ids
    of the maps it uses."""
    info = infoattrs.BpfProgInfo()
    _info(fd, info)
    ids = (ctypes.c_uint32 * info.nr_map_ids)()
    if info.nr_map_ids:
        # Second call with room for the map ids the first one counted.
        count = info.nr_map_ids
        info = infoattrs.BpfProgInfo(nr_map_ids=count, map_ids=ctypes.addressof(ids))
        _info(fd, info)
    return ProgInfo(
        type=info.type,
        id=info.id,
        tag=bytes(info.tag).hex(),
        name=info.name.decode("utf-8", "backslashreplace"),
        jited=info.jited_prog_len > 0,
        verified_insns=info.verified_insns,
        btf_id=info.btf_id,
        nr_func_info=info.nr_func_info,
        nr_line_info=info.nr_line_info,
        map_ids=tuple(ids[: min(info.nr_map_ids, len(ids))]),
        load_time=info.load_time,
        created_by_uid=info.created_by_uid,
    )


def prog_by_id(prog_id: int) -> Fd:
    """prog_by_id: an fd of the loaded program with id `prog_id` (BPF_PROG_GET_FD_BY_ID)."""
    attr = infoattrs.IdAttr(prog_id)
    return Fd(sc.bpf(sc.BPF_PROG_GET_FD_BY_ID, attr, "prog get fd by id"))


def map_by_id(map_id: int) -> Fd:
    """map_by_id: an fd of the map with id `map_id` (BPF_MAP_GET_FD_BY_ID)."""
    attr = infoattrs.IdAttr(map_id)
    return Fd(sc.bpf(sc.BPF_MAP_GET_FD_BY_ID, attr, "map get fd by id"))


def _info(fd: Fd, info: ctypes.Structure) -> None:
    attr = infoattrs.InfoAttr(int(fd), ctypes.sizeof(info), ctypes.addressof(info))
    sc.bpf(sc.BPF_OBJ_GET_INFO_BY_FD, attr, "get info")
