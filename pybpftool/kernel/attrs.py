"""attrs: ctypes mirrors of the `union bpf_attr` members the loader uses (creating maps,
loading programs and BTF, pinning, attaching) and of struct bpf_map_info, which it compares
pinned maps with; reading a loaded program's info has its own (infoattrs.py), so that a
listing builds none of these.

Field names and order follow include/uapi/linux/bpf.h; natural ctypes alignment gives the
kernel's offsets (`__aligned_u64` members fall on 8-byte boundaries by themselves). Each
structure stops at the last field we set: the kernel zero-extends a shorter attr.
"""

from __future__ import annotations

import ctypes

from pybpftool.kernel.infoattrs import BPF_OBJ_NAME_LEN

u32, u64 = ctypes.c_uint32, ctypes.c_uint64


class MapCreateAttr(ctypes.Structure):
    """MapCreateAttr: BPF_MAP_CREATE."""

    _fields_ = [
        ("map_type", u32),
        ("key_size", u32),
        ("value_size", u32),
        ("max_entries", u32),
        ("map_flags", u32),
        ("inner_map_fd", u32),
        ("numa_node", u32),
        ("map_name", ctypes.c_char * BPF_OBJ_NAME_LEN),
        ("map_ifindex", u32),
        ("btf_fd", u32),
        ("btf_key_type_id", u32),
        ("btf_value_type_id", u32),
        ("btf_vmlinux_value_type_id", u32),
        ("map_extra", u64),
    ]


class MapElemAttr(ctypes.Structure):
    """MapElemAttr: BPF_MAP_LOOKUP_ELEM / UPDATE_ELEM / DELETE_ELEM / GET_NEXT_KEY."""

    _fields_ = [("map_fd", u32), ("key", u64), ("value", u64), ("flags", u64)]


class MapFdAttr(ctypes.Structure):
    """MapFdAttr: BPF_MAP_FREEZE (only `map_fd`)."""

    _fields_ = [("map_fd", u32)]


class ProgLoadAttr(ctypes.Structure):
    """ProgLoadAttr: BPF_PROG_LOAD, up to `log_true_size` (Linux 6.4)."""

    _fields_ = [
        ("prog_type", u32),
        ("insn_cnt", u32),
        ("insns", u64),
        ("license", u64),
        ("log_level", u32),
        ("log_size", u32),
        ("log_buf", u64),
        ("kern_version", u32),
        ("prog_flags", u32),
        ("prog_name", ctypes.c_char * BPF_OBJ_NAME_LEN),
        ("prog_ifindex", u32),
        ("expected_attach_type", u32),
        ("prog_btf_fd", u32),
        ("func_info_rec_size", u32),
        ("func_info", u64),
        ("func_info_cnt", u32),
        ("line_info_rec_size", u32),
        ("line_info", u64),
        ("line_info_cnt", u32),
        ("attach_btf_id", u32),
        ("attach_prog_fd", u32),
        ("core_relo_cnt", u32),
        ("fd_array", u64),
        ("core_relos", u64),
        ("core_relo_rec_size", u32),
        ("log_true_size", u32),
    ]


class ObjAttr(ctypes.Structure):
    """ObjAttr: BPF_OBJ_PIN / BPF_OBJ_GET."""

    _fields_ = [("pathname", u64), ("bpf_fd", u32), ("file_flags", u32)]


class BtfLoadAttr(ctypes.Structure):
    """BtfLoadAttr: BPF_BTF_LOAD, up to `btf_log_true_size` (Linux 6.4)."""

    _fields_ = [
        ("btf", u64),
        ("btf_log_buf", u64),
        ("btf_size", u32),
        ("btf_log_size", u32),
        ("btf_log_level", u32),
        ("btf_log_true_size", u32),
    ]


class ProgBindMapAttr(ctypes.Structure):
    """ProgBindMapAttr: BPF_PROG_BIND_MAP."""

    _fields_ = [("prog_fd", u32), ("map_fd", u32), ("flags", u32)]


class ProgAttachAttr(ctypes.Structure):
    """ProgAttachAttr: BPF_PROG_ATTACH / BPF_PROG_DETACH (target_fd is the cgroup fd)."""

    _fields_ = [
        ("target_fd", u32),
        ("attach_bpf_fd", u32),
        ("attach_type", u32),
        ("attach_flags", u32),
        ("replace_bpf_fd", u32),
    ]


class BpfMapInfo(ctypes.Structure):
    """BpfMapInfo: struct bpf_map_info."""

    _fields_ = [
        ("type", u32),
        ("id", u32),
        ("key_size", u32),
        ("value_size", u32),
        ("max_entries", u32),
        ("map_flags", u32),
        ("name", ctypes.c_char * BPF_OBJ_NAME_LEN),
        ("ifindex", u32),
        ("btf_vmlinux_value_type_id", u32),
        ("netns_dev", u64),
        ("netns_ino", u64),
        ("btf_id", u32),
        ("btf_key_type_id", u32),
        ("btf_value_type_id", u32),
        ("btf_vmlinux_id", u32),
        ("map_extra", u64),
    ]


def address(buf: ctypes.Array[ctypes.c_char] | None) -> int:
    """address: the user-space address of a ctypes buffer, 0 for None (a NULL pointer)."""
    return ctypes.addressof(buf) if buf is not None else 0
