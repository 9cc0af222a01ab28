"""infoattrs: ctypes mirrors of what reading a loaded program's info takes: the `union
bpf_attr` members of BPF_*_GET_FD_BY_ID and BPF_OBJ_GET_INFO_BY_FD, and struct bpf_prog_info.

Apart from attrs.py (the loader's: creating, loading, pinning, comparing maps) because the
listings need only these: `ip link show` and `tc filter show` name their programs without
building the loader's structures. Layout rules as in attrs.py: include/uapi/linux/bpf.h's
names and order, natural ctypes alignment, each structure ending at the last field we use.
"""

import ctypes

u8, u32, u64 = ctypes.c_uint8, ctypes.c_uint32, ctypes.c_uint64
BPF_OBJ_NAME_LEN = 16


class IdAttr(ctypes.Structure):
    """IdAttr: BPF_PROG_GET_FD_BY_ID / BPF_MAP_GET_FD_BY_ID (`prog_id` shares the slot)."""

    _fields_ = [("start_id", u32), ("next_id", u32), ("open_flags", u32)]


class InfoAttr(ctypes.Structure):
    """InfoAttr: BPF_OBJ_GET_INFO_BY_FD."""

    _fields_ = [("bpf_fd", u32), ("info_len", u32), ("info", u64)]


class BpfProgInfo(ctypes.Structure):
    """BpfProgInfo: struct bpf_prog_info, up to `attach_btf_id`."""

    _fields_ = [
        ("type", u32),
        ("id", u32),
        ("tag", u8 * 8),
        ("jited_prog_len", u32),
        ("xlated_prog_len", u32),
        ("jited_prog_insns", u64),
        ("xlated_prog_insns", u64),
        ("load_time", u64),
        ("created_by_uid", u32),
        ("nr_map_ids", u32),
        ("map_ids", u64),
        ("name", ctypes.c_char * BPF_OBJ_NAME_LEN),
        ("ifindex", u32),
        ("gpl_compatible", u32),
        ("netns_dev", u64),
        ("netns_ino", u64),
        ("nr_jited_ksyms", u32),
        ("nr_jited_func_lens", u32),
        ("jited_ksyms", u64),
        ("jited_func_lens", u64),
        ("btf_id", u32),
        ("func_info_rec_size", u32),
        ("func_info", u64),
        ("nr_func_info", u32),
        ("nr_line_info", u32),
        ("line_info", u64),
        ("jited_line_info", u64),
        ("nr_jited_line_info", u32),
        ("line_info_rec_size", u32),
        ("jited_line_info_rec_size", u32),
        ("nr_prog_tags", u32),
        ("prog_tags", u64),
        ("run_time_ns", u64),
        ("run_cnt", u64),
        ("recursion_misses", u64),
        ("verified_insns", u32),
        ("attach_btf_obj_id", u32),
        ("attach_btf_id", u32),
    ]
