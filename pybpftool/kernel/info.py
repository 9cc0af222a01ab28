"""info: what the kernel says of a loaded program: opening one by id and reading its struct
bpf_prog_info (BPF_OBJ_GET_INFO_BY_FD).

Apart from kernel/bpf.py (whose `Kernel` methods of the same names call these, and which reads
a map's struct bpf_map_info itself, through obj_info) because the listings need only this:
`ip link show` and `tc filter show` name the programs they print without importing the
loader's requests, results, map records and pin folder code.
"""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

import ctypes
from typing import NamedTuple

from pybpftool.kernel import infoattrs
from pybpftool.kernel import syscall as sc
from pybpftool.kernel.fd import Fd


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


def prog_info(fd: Fd) -> ProgInfo:
    """prog_info: the program's struct bpf_prog_info, the fields ProgInfo keeps, with the ids
    of the maps it uses."""
    info = infoattrs.BpfProgInfo()
    obj_info(fd, info)
    ids = (ctypes.c_uint32 * info.nr_map_ids)()
    if info.nr_map_ids:
        # Second call with room for the map ids the first one counted.
        count = info.nr_map_ids
        info = infoattrs.BpfProgInfo(nr_map_ids=count, map_ids=ctypes.addressof(ids))
        obj_info(fd, info)
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


def obj_info(fd: Fd, info: ctypes.Structure) -> None:
    """obj_info: fill `info` (struct bpf_prog_info or bpf_map_info) for the object at `fd`."""
    attr = infoattrs.InfoAttr(int(fd), ctypes.sizeof(info), ctypes.addressof(info))
    sc.bpf(sc.BPF_OBJ_GET_INFO_BY_FD, attr, "get info")
