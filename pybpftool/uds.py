"""uds: iproute2's map hand-off over a Unix datagram socket (lib/bpf_legacy.c, bpf_scm.h).

`export UDS` (or $TC_BPF_UDS) on a tc classifier or action sends the object's maps to an
agent waiting in `tc exec bpf import UDS`: one or more datagrams, each

    struct bpf_map_aux { u16 uds_ver = 1; u16 num_ent;      (all maps, not this datagram's)
                         char obj_name[64];                  (the object path as given)
                         struct { u64 st_dev, st_ino; } obj_st;
                         struct bpf_elf_map ent[]; }         (9 x u32 each, at offset 88)

carrying at most 64 entries with their fds as SCM_RIGHTS. The importer runs a command with
BPF_NUM_MAPS=<n> and BPF_MAP<id>=<fd> for each map in its environment.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import NamedTuple

UDS_VERSION = 1
MAX_FDS = 64  # BPF_SCM_MAX_FDS
OBJ_NAME_LEN = 64
HEADER = struct.Struct("=HH64s4xQQ")  # obj_st is 8-aligned: 2 + 2 + 64 + 4 pad = 72
ENTRY = struct.Struct("=9I")
assert HEADER.size == 88


class MapEntry(NamedTuple):
    """MapEntry: one struct bpf_elf_map as sent: type, sizes, limits, iproute2 ids."""

    type: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int
    id: int = 0
    pinning: int = 0
    inner_id: int = 0
    inner_idx: int = 0

    def pack(self) -> bytes:
        return ENTRY.pack(
            self.type,
            self.key_size,
            self.value_size,
            self.max_entries,
            self.flags,
            self.id,
            self.pinning,
            self.inner_id,
            self.inner_idx,
        )


def send_maps(path: str, obj_path: str, entries: list[tuple[MapEntry, int]]) -> None:
    """send_maps: hand `entries` (entry, fd) to the importer bound at `path`.

    Raises OSError with iproute2's words in its `strerror` prefix left to the caller.
    """
    st = os.stat(obj_path)
    name = os.fsencode(obj_path)[: OBJ_NAME_LEN - 1]
    head = HEADER.pack(UDS_VERSION, len(entries), name, st.st_dev, st.st_ino)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(path)
        for start in range(0, len(entries), MAX_FDS):
            chunk = entries[start : start + MAX_FDS]
            body = head + b"".join(entry.pack() for entry, _fd in chunk)
            socket.send_fds(sock, [body], [fd for _entry, fd in chunk])


class Received(NamedTuple):
    """Received: what an importer got: the object's name and (entry, fd) per map."""

    obj_name: str
    maps: list[tuple[MapEntry, int]]


def receive_maps(sock: socket.socket) -> Received:
    """receive_maps: read datagrams until all announced maps arrived (fds are owned by us)."""
    maps: list[tuple[MapEntry, int]] = []
    total: int | None = None
    name = ""
    while total is None or len(maps) < total:
        data, fds, _flags, _addr = socket.recv_fds(
            sock, HEADER.size + ENTRY.size * MAX_FDS, MAX_FDS
        )
        if len(data) < HEADER.size:
            raise OSError(0, "short datagram")
        version, count, raw_name, _dev, _ino = HEADER.unpack_from(data)
        if version != UDS_VERSION:
            raise OSError(0, f"unknown version {version}")
        total, name = count, raw_name.split(b"\0", 1)[0].decode("utf-8", "replace")
        n = (len(data) - HEADER.size) // ENTRY.size
        if n != len(fds) or n == 0:
            raise OSError(0, "entries and fds differ")
        for i, fd in enumerate(fds):
            fields = ENTRY.unpack_from(data, HEADER.size + i * ENTRY.size)
            maps.append((MapEntry(*fields), fd))
    return Received(name, maps)


def import_environment(received: Received) -> dict[str, str]:
    """import_environment: BPF_NUM_MAPS and BPF_MAP<id>=<fd> per map id (iproute2).

    Maps sharing an id (every BTF map has id 0) leave the last one's fd, as tc's importer
    does.
    """
    env = {"BPF_NUM_MAPS": str(len(received.maps))}
    for entry, fd in received.maps:
        env[f"BPF_MAP{entry.id}"] = str(fd)
    return env
