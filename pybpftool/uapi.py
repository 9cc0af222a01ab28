"""uapi: mirrors of linux/bpf.h enums (kernel 6.18) and bpftool's spelling of their names.

`map_type_name` / `prog_type_name` / `attach_type_name` spell values as bpftool prints them
(libbpf's map_type_name[], prog_type_name[], attach_type_name[] tables: the enum name, lower
case, without its prefix). An unknown number is shown as bpftool does, `type N`, so it stays
visible.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag


class BpfMapType(IntEnum):
    """BpfMapType: enum bpf_map_type (include/uapi/linux/bpf.h)."""

    BPF_MAP_TYPE_UNSPEC = 0
    BPF_MAP_TYPE_HASH = 1
    BPF_MAP_TYPE_ARRAY = 2
    BPF_MAP_TYPE_PROG_ARRAY = 3
    BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4
    BPF_MAP_TYPE_PERCPU_HASH = 5
    BPF_MAP_TYPE_PERCPU_ARRAY = 6
    BPF_MAP_TYPE_STACK_TRACE = 7
    BPF_MAP_TYPE_CGROUP_ARRAY = 8
    BPF_MAP_TYPE_LRU_HASH = 9
    BPF_MAP_TYPE_LRU_PERCPU_HASH = 10
    BPF_MAP_TYPE_LPM_TRIE = 11
    BPF_MAP_TYPE_ARRAY_OF_MAPS = 12
    BPF_MAP_TYPE_HASH_OF_MAPS = 13
    BPF_MAP_TYPE_DEVMAP = 14
    BPF_MAP_TYPE_SOCKMAP = 15
    BPF_MAP_TYPE_CPUMAP = 16
    BPF_MAP_TYPE_XSKMAP = 17
    BPF_MAP_TYPE_SOCKHASH = 18
    BPF_MAP_TYPE_CGROUP_STORAGE = 19
    BPF_MAP_TYPE_REUSEPORT_SOCKARRAY = 20
    BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE = 21
    BPF_MAP_TYPE_QUEUE = 22
    BPF_MAP_TYPE_STACK = 23
    BPF_MAP_TYPE_SK_STORAGE = 24
    BPF_MAP_TYPE_DEVMAP_HASH = 25
    BPF_MAP_TYPE_STRUCT_OPS = 26
    BPF_MAP_TYPE_RINGBUF = 27
    BPF_MAP_TYPE_INODE_STORAGE = 28
    BPF_MAP_TYPE_TASK_STORAGE = 29
    BPF_MAP_TYPE_BLOOM_FILTER = 30
    BPF_MAP_TYPE_USER_RINGBUF = 31
    BPF_MAP_TYPE_CGRP_STORAGE = 32
    BPF_MAP_TYPE_ARENA = 33


class BpfProgType(IntEnum):
    """BpfProgType: enum bpf_prog_type (include/uapi/linux/bpf.h)."""

    BPF_PROG_TYPE_UNSPEC = 0
    BPF_PROG_TYPE_SOCKET_FILTER = 1
    BPF_PROG_TYPE_KPROBE = 2
    BPF_PROG_TYPE_SCHED_CLS = 3
    BPF_PROG_TYPE_SCHED_ACT = 4
    BPF_PROG_TYPE_TRACEPOINT = 5
    BPF_PROG_TYPE_XDP = 6
    BPF_PROG_TYPE_PERF_EVENT = 7
    BPF_PROG_TYPE_CGROUP_SKB = 8
    BPF_PROG_TYPE_CGROUP_SOCK = 9
    BPF_PROG_TYPE_LWT_IN = 10
    BPF_PROG_TYPE_LWT_OUT = 11
    BPF_PROG_TYPE_LWT_XMIT = 12
    BPF_PROG_TYPE_SOCK_OPS = 13
    BPF_PROG_TYPE_SK_SKB = 14
    BPF_PROG_TYPE_CGROUP_DEVICE = 15
    BPF_PROG_TYPE_SK_MSG = 16
    BPF_PROG_TYPE_RAW_TRACEPOINT = 17
    BPF_PROG_TYPE_CGROUP_SOCK_ADDR = 18
    BPF_PROG_TYPE_LWT_SEG6LOCAL = 19
    BPF_PROG_TYPE_LIRC_MODE2 = 20
    BPF_PROG_TYPE_SK_REUSEPORT = 21
    BPF_PROG_TYPE_FLOW_DISSECTOR = 22
    BPF_PROG_TYPE_CGROUP_SYSCTL = 23
    BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE = 24
    BPF_PROG_TYPE_CGROUP_SOCKOPT = 25
    BPF_PROG_TYPE_TRACING = 26
    BPF_PROG_TYPE_STRUCT_OPS = 27
    BPF_PROG_TYPE_EXT = 28
    BPF_PROG_TYPE_LSM = 29
    BPF_PROG_TYPE_SK_LOOKUP = 30
    BPF_PROG_TYPE_SYSCALL = 31
    BPF_PROG_TYPE_NETFILTER = 32


class BpfAttachType(IntEnum):
    """BpfAttachType: enum bpf_attach_type (include/uapi/linux/bpf.h)."""

    BPF_CGROUP_INET_INGRESS = 0
    BPF_CGROUP_INET_EGRESS = 1
    BPF_CGROUP_INET_SOCK_CREATE = 2
    BPF_CGROUP_SOCK_OPS = 3
    BPF_SK_SKB_STREAM_PARSER = 4
    BPF_SK_SKB_STREAM_VERDICT = 5
    BPF_CGROUP_DEVICE = 6
    BPF_SK_MSG_VERDICT = 7
    BPF_CGROUP_INET4_BIND = 8
    BPF_CGROUP_INET6_BIND = 9
    BPF_CGROUP_INET4_CONNECT = 10
    BPF_CGROUP_INET6_CONNECT = 11
    BPF_CGROUP_INET4_POST_BIND = 12
    BPF_CGROUP_INET6_POST_BIND = 13
    BPF_CGROUP_UDP4_SENDMSG = 14
    BPF_CGROUP_UDP6_SENDMSG = 15
    BPF_LIRC_MODE2 = 16
    BPF_FLOW_DISSECTOR = 17
    BPF_CGROUP_SYSCTL = 18
    BPF_CGROUP_UDP4_RECVMSG = 19
    BPF_CGROUP_UDP6_RECVMSG = 20
    BPF_CGROUP_GETSOCKOPT = 21
    BPF_CGROUP_SETSOCKOPT = 22
    BPF_TRACE_RAW_TP = 23
    BPF_TRACE_FENTRY = 24
    BPF_TRACE_FEXIT = 25
    BPF_MODIFY_RETURN = 26
    BPF_LSM_MAC = 27
    BPF_TRACE_ITER = 28
    BPF_CGROUP_INET4_GETPEERNAME = 29
    BPF_CGROUP_INET6_GETPEERNAME = 30
    BPF_CGROUP_INET4_GETSOCKNAME = 31
    BPF_CGROUP_INET6_GETSOCKNAME = 32
    BPF_XDP_DEVMAP = 33
    BPF_CGROUP_INET_SOCK_RELEASE = 34
    BPF_XDP_CPUMAP = 35
    BPF_SK_LOOKUP = 36
    BPF_XDP = 37
    BPF_SK_SKB_VERDICT = 38
    BPF_SK_REUSEPORT_SELECT = 39
    BPF_SK_REUSEPORT_SELECT_OR_MIGRATE = 40
    BPF_PERF_EVENT = 41
    BPF_TRACE_KPROBE_MULTI = 42
    BPF_LSM_CGROUP = 43
    BPF_STRUCT_OPS = 44
    BPF_NETFILTER = 45
    BPF_TCX_INGRESS = 46
    BPF_TCX_EGRESS = 47
    BPF_TRACE_UPROBE_MULTI = 48
    BPF_CGROUP_UNIX_CONNECT = 49
    BPF_CGROUP_UNIX_SENDMSG = 50
    BPF_CGROUP_UNIX_RECVMSG = 51
    BPF_CGROUP_UNIX_GETPEERNAME = 52
    BPF_CGROUP_UNIX_GETSOCKNAME = 53
    BPF_NETKIT_PRIMARY = 54
    BPF_NETKIT_PEER = 55
    BPF_TRACE_KPROBE_SESSION = 56
    BPF_TRACE_UPROBE_SESSION = 57


class BpfMapFlags(IntFlag):
    """BpfMapFlags: BPF_MAP_CREATE map_flags (include/uapi/linux/bpf.h)."""

    BPF_F_NO_PREALLOC = 1 << 0
    BPF_F_NO_COMMON_LRU = 1 << 1
    BPF_F_NUMA_NODE = 1 << 2
    BPF_F_RDONLY = 1 << 3
    BPF_F_WRONLY = 1 << 4
    BPF_F_STACK_BUILD_ID = 1 << 5
    BPF_F_ZERO_SEED = 1 << 6
    BPF_F_RDONLY_PROG = 1 << 7
    BPF_F_WRONLY_PROG = 1 << 8
    BPF_F_CLONE = 1 << 9
    BPF_F_MMAPABLE = 1 << 10
    BPF_F_PRESERVE_ELEMS = 1 << 11
    BPF_F_INNER_MAP = 1 << 12
    BPF_F_LINK = 1 << 13
    BPF_F_PATH_FD = 1 << 14
    BPF_F_VTYPE_BTF_OBJ_FD = 1 << 15
    BPF_F_TOKEN_FD = 1 << 16
    BPF_F_SEGV_ON_FAULT = 1 << 17
    BPF_F_NO_USER_CONV = 1 << 18


BPF_OBJ_NAME_LEN = 16


def _spelling(member: IntEnum, prefix: str) -> str:
    return member.name.removeprefix(prefix).lower()


def map_type_name(value: int) -> str:
    """map_type_name: bpftool's name of a map type (`hash`, `prog_array`, ...)."""
    try:
        return _spelling(BpfMapType(value), "BPF_MAP_TYPE_")
    except ValueError:
        return f"type {value}"


def prog_type_name(value: int) -> str:
    """prog_type_name: bpftool's name of a program type (`sched_cls`, `xdp`, ...)."""
    try:
        return _spelling(BpfProgType(value), "BPF_PROG_TYPE_")
    except ValueError:
        return f"type {value}"


# libbpf's attach_type_name[] differs from the enum names for these.
_ATTACH_NAMES = {
    BpfAttachType.BPF_CGROUP_INET_INGRESS: "cgroup_inet_ingress",
    BpfAttachType.BPF_CGROUP_INET_EGRESS: "cgroup_inet_egress",
    BpfAttachType.BPF_TRACE_RAW_TP: "trace_raw_tp",
    BpfAttachType.BPF_TRACE_FENTRY: "trace_fentry",
    BpfAttachType.BPF_TRACE_FEXIT: "trace_fexit",
    BpfAttachType.BPF_MODIFY_RETURN: "modify_return",
    BpfAttachType.BPF_LSM_MAC: "lsm_mac",
    BpfAttachType.BPF_TRACE_ITER: "trace_iter",
    BpfAttachType.BPF_SK_SKB_VERDICT: "sk_skb_verdict",
}


def attach_type_name(value: int) -> str:
    """attach_type_name: libbpf's name of an attach type (`tcx_ingress`, `xdp`, ...)."""
    try:
        member = BpfAttachType(value)
    except ValueError:
        return f"type {value}"
    return _ATTACH_NAMES.get(member, _spelling(member, "BPF_"))


def map_type_from_name(name: str) -> BpfMapType:
    """map_type_from_name: the map type bpftool calls `name`; ValueError if none."""
    key = "BPF_MAP_TYPE_" + name.upper()
    if not name.islower() or key not in BpfMapType.__members__:
        raise ValueError(f"unknown map type {name!r}")
    return BpfMapType[key]


def prog_type_from_name(name: str) -> BpfProgType:
    """prog_type_from_name: the program type bpftool calls `name`; ValueError if none."""
    key = "BPF_PROG_TYPE_" + name.upper()
    if not name.islower() or key not in BpfProgType.__members__:
        raise ValueError(f"unknown program type {name!r}")
    return BpfProgType[key]
