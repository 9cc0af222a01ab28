"""sections: the program type libbpf derives from a section name (libbpf.c section_defs[]).

Patterns follow libbpf's sec_def_matches(): `x` matches exactly `x`; `x+` matches `x` or
`x/...`; `x/` needs `x/` followed by more. The first matching entry wins, so order matters. A
leading `?` (autoload off) is ignored.

Deliberate difference: iproute2's own section names (`classifier`, `action`, `prog`,
`ingress`, `egress`) and tail-call sections such as `1/0` give no type, because with pyip and
pytc the command line decides the type; libbpf maps `classifier` and `action` itself.
"""

# Annotations are evaluated here (no `from __future__ import annotations`): a NamedTuple
# field given as a string costs typing a compile() when the class is made.

from typing import NamedTuple

from pybpftool.uapi import BpfAttachType as A
from pybpftool.uapi import BpfProgType as P

IPROUTE2_SECTIONS = frozenset({"classifier", "action", "prog", "ingress", "egress"})


class SectionType(NamedTuple):
    """SectionType: what a section name tells: type, expected attach type, sleepable."""

    prog_type: P
    expected_attach_type: A | None
    sleepable: bool
    pattern: str


_S = True  # sleepable

# (pattern, program type, expected attach type, sleepable), libbpf's order.
_TABLE: tuple[tuple[str, P, A | None, bool], ...] = (
    ("socket", P.BPF_PROG_TYPE_SOCKET_FILTER, None, False),
    (
        "sk_reuseport/migrate",
        P.BPF_PROG_TYPE_SK_REUSEPORT,
        A.BPF_SK_REUSEPORT_SELECT_OR_MIGRATE,
        False,
    ),
    ("sk_reuseport", P.BPF_PROG_TYPE_SK_REUSEPORT, A.BPF_SK_REUSEPORT_SELECT, False),
    ("kprobe+", P.BPF_PROG_TYPE_KPROBE, None, False),
    ("uprobe+", P.BPF_PROG_TYPE_KPROBE, None, False),
    ("uprobe.s+", P.BPF_PROG_TYPE_KPROBE, None, _S),
    ("kretprobe+", P.BPF_PROG_TYPE_KPROBE, None, False),
    ("uretprobe+", P.BPF_PROG_TYPE_KPROBE, None, False),
    ("uretprobe.s+", P.BPF_PROG_TYPE_KPROBE, None, _S),
    ("kprobe.multi+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_KPROBE_MULTI, False),
    ("kretprobe.multi+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_KPROBE_MULTI, False),
    ("kprobe.session+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_KPROBE_SESSION, False),
    ("uprobe.multi+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_UPROBE_MULTI, False),
    ("uretprobe.multi+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_UPROBE_MULTI, False),
    ("uprobe.session+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_UPROBE_SESSION, False),
    ("uprobe.multi.s+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_UPROBE_MULTI, _S),
    ("uretprobe.multi.s+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_UPROBE_MULTI, _S),
    ("uprobe.session.s+", P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_UPROBE_SESSION, _S),
    ("ksyscall+", P.BPF_PROG_TYPE_KPROBE, None, False),
    ("kretsyscall+", P.BPF_PROG_TYPE_KPROBE, None, False),
    ("usdt+", P.BPF_PROG_TYPE_KPROBE, None, False),
    ("usdt.s+", P.BPF_PROG_TYPE_KPROBE, None, _S),
    ("tc/ingress", P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_TCX_INGRESS, False),
    ("tc/egress", P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_TCX_EGRESS, False),
    ("tcx/ingress", P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_TCX_INGRESS, False),
    ("tcx/egress", P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_TCX_EGRESS, False),
    ("tc", P.BPF_PROG_TYPE_SCHED_CLS, None, False),
    ("classifier", P.BPF_PROG_TYPE_SCHED_CLS, None, False),
    ("action", P.BPF_PROG_TYPE_SCHED_ACT, None, False),
    ("netkit/primary", P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_NETKIT_PRIMARY, False),
    ("netkit/peer", P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_NETKIT_PEER, False),
    ("tracepoint+", P.BPF_PROG_TYPE_TRACEPOINT, None, False),
    ("tp+", P.BPF_PROG_TYPE_TRACEPOINT, None, False),
    ("raw_tracepoint+", P.BPF_PROG_TYPE_RAW_TRACEPOINT, None, False),
    ("raw_tp+", P.BPF_PROG_TYPE_RAW_TRACEPOINT, None, False),
    ("raw_tracepoint.w+", P.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, None, False),
    ("raw_tp.w+", P.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, None, False),
    ("tp_btf+", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_RAW_TP, False),
    ("fentry+", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_FENTRY, False),
    ("fmod_ret+", P.BPF_PROG_TYPE_TRACING, A.BPF_MODIFY_RETURN, False),
    ("fexit+", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_FEXIT, False),
    ("fentry.s+", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_FENTRY, _S),
    ("fmod_ret.s+", P.BPF_PROG_TYPE_TRACING, A.BPF_MODIFY_RETURN, _S),
    ("fexit.s+", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_FEXIT, _S),
    ("freplace+", P.BPF_PROG_TYPE_EXT, None, False),
    ("lsm+", P.BPF_PROG_TYPE_LSM, A.BPF_LSM_MAC, False),
    ("lsm.s+", P.BPF_PROG_TYPE_LSM, A.BPF_LSM_MAC, _S),
    ("lsm_cgroup+", P.BPF_PROG_TYPE_LSM, A.BPF_LSM_CGROUP, False),
    ("iter+", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_ITER, False),
    ("iter.s+", P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_ITER, _S),
    ("syscall", P.BPF_PROG_TYPE_SYSCALL, None, _S),
    ("xdp.frags/devmap", P.BPF_PROG_TYPE_XDP, A.BPF_XDP_DEVMAP, False),
    ("xdp/devmap", P.BPF_PROG_TYPE_XDP, A.BPF_XDP_DEVMAP, False),
    ("xdp.frags/cpumap", P.BPF_PROG_TYPE_XDP, A.BPF_XDP_CPUMAP, False),
    ("xdp/cpumap", P.BPF_PROG_TYPE_XDP, A.BPF_XDP_CPUMAP, False),
    ("xdp.frags", P.BPF_PROG_TYPE_XDP, A.BPF_XDP, False),
    ("xdp", P.BPF_PROG_TYPE_XDP, A.BPF_XDP, False),
    ("perf_event", P.BPF_PROG_TYPE_PERF_EVENT, None, False),
    ("lwt_in", P.BPF_PROG_TYPE_LWT_IN, None, False),
    ("lwt_out", P.BPF_PROG_TYPE_LWT_OUT, None, False),
    ("lwt_xmit", P.BPF_PROG_TYPE_LWT_XMIT, None, False),
    ("lwt_seg6local", P.BPF_PROG_TYPE_LWT_SEG6LOCAL, None, False),
    ("sockops", P.BPF_PROG_TYPE_SOCK_OPS, A.BPF_CGROUP_SOCK_OPS, False),
    ("sk_skb/stream_parser", P.BPF_PROG_TYPE_SK_SKB, A.BPF_SK_SKB_STREAM_PARSER, False),
    ("sk_skb/stream_verdict", P.BPF_PROG_TYPE_SK_SKB, A.BPF_SK_SKB_STREAM_VERDICT, False),
    ("sk_skb/verdict", P.BPF_PROG_TYPE_SK_SKB, A.BPF_SK_SKB_VERDICT, False),
    ("sk_skb", P.BPF_PROG_TYPE_SK_SKB, None, False),
    ("sk_msg", P.BPF_PROG_TYPE_SK_MSG, A.BPF_SK_MSG_VERDICT, False),
    ("lirc_mode2", P.BPF_PROG_TYPE_LIRC_MODE2, A.BPF_LIRC_MODE2, False),
    ("flow_dissector", P.BPF_PROG_TYPE_FLOW_DISSECTOR, A.BPF_FLOW_DISSECTOR, False),
    ("cgroup_skb/ingress", P.BPF_PROG_TYPE_CGROUP_SKB, A.BPF_CGROUP_INET_INGRESS, False),
    ("cgroup_skb/egress", P.BPF_PROG_TYPE_CGROUP_SKB, A.BPF_CGROUP_INET_EGRESS, False),
    ("cgroup/skb", P.BPF_PROG_TYPE_CGROUP_SKB, None, False),
    ("cgroup/sock_create", P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET_SOCK_CREATE, False),
    ("cgroup/sock_release", P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET_SOCK_RELEASE, False),
    ("cgroup/sock", P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET_SOCK_CREATE, False),
    ("cgroup/post_bind4", P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET4_POST_BIND, False),
    ("cgroup/post_bind6", P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET6_POST_BIND, False),
    ("cgroup/bind4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET4_BIND, False),
    ("cgroup/bind6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET6_BIND, False),
    ("cgroup/connect4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET4_CONNECT, False),
    ("cgroup/connect6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET6_CONNECT, False),
    ("cgroup/connect_unix", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UNIX_CONNECT, False),
    ("cgroup/sendmsg4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UDP4_SENDMSG, False),
    ("cgroup/sendmsg6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UDP6_SENDMSG, False),
    ("cgroup/sendmsg_unix", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UNIX_SENDMSG, False),
    ("cgroup/recvmsg4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UDP4_RECVMSG, False),
    ("cgroup/recvmsg6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UDP6_RECVMSG, False),
    ("cgroup/recvmsg_unix", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UNIX_RECVMSG, False),
    (
        "cgroup/getpeername4",
        P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
        A.BPF_CGROUP_INET4_GETPEERNAME,
        False,
    ),
    (
        "cgroup/getpeername6",
        P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
        A.BPF_CGROUP_INET6_GETPEERNAME,
        False,
    ),
    (
        "cgroup/getpeername_unix",
        P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
        A.BPF_CGROUP_UNIX_GETPEERNAME,
        False,
    ),
    (
        "cgroup/getsockname4",
        P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
        A.BPF_CGROUP_INET4_GETSOCKNAME,
        False,
    ),
    (
        "cgroup/getsockname6",
        P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
        A.BPF_CGROUP_INET6_GETSOCKNAME,
        False,
    ),
    (
        "cgroup/getsockname_unix",
        P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
        A.BPF_CGROUP_UNIX_GETSOCKNAME,
        False,
    ),
    ("cgroup/sysctl", P.BPF_PROG_TYPE_CGROUP_SYSCTL, A.BPF_CGROUP_SYSCTL, False),
    ("cgroup/getsockopt", P.BPF_PROG_TYPE_CGROUP_SOCKOPT, A.BPF_CGROUP_GETSOCKOPT, False),
    ("cgroup/setsockopt", P.BPF_PROG_TYPE_CGROUP_SOCKOPT, A.BPF_CGROUP_SETSOCKOPT, False),
    ("cgroup/dev", P.BPF_PROG_TYPE_CGROUP_DEVICE, A.BPF_CGROUP_DEVICE, False),
    ("struct_ops+", P.BPF_PROG_TYPE_STRUCT_OPS, None, False),
    ("struct_ops.s+", P.BPF_PROG_TYPE_STRUCT_OPS, None, _S),
    ("sk_lookup", P.BPF_PROG_TYPE_SK_LOOKUP, A.BPF_SK_LOOKUP, False),
    ("netfilter", P.BPF_PROG_TYPE_NETFILTER, A.BPF_NETFILTER, False),
)


def section_matches(pattern: str, name: str) -> bool:
    """section_matches: libbpf's sec_def_matches()."""
    return _matches(*_split_pattern(pattern), name)


def _split_pattern(pattern: str) -> tuple[str | None, str | None]:
    """_split_pattern: (the exact name, the prefix) a pattern accepts; either may be None."""
    if pattern.endswith("/"):
        return None, pattern
    if pattern.endswith("+"):
        return pattern[:-1], pattern[:-1] + "/"
    return pattern, None


def _matches(exact: str | None, prefix: str | None, name: str) -> bool:
    return name == exact or (prefix is not None and name.startswith(prefix))


def _lookup_tables(
    table: tuple[tuple[str, P, A | None, bool], ...],
) -> tuple[dict[str, SectionType], dict[str, SectionType]]:
    """_lookup_tables: (by name, by head): libbpf's first match in `table` by two dict lookups.

    A guess is made for every program of an object, so it is no scan. The table has two shapes
    of pattern only (asserted): `x`, which matches just the name `x`, and `x+` with no "/" in x,
    which matches exactly the names whose text up to their first "/" is `x`. So a name that is
    no `x` pattern can only match the first `x+` entry of its head (by head); the name `x`
    itself matches the `x` entry, unless a `y+` entry for its head comes first (by name).
    """
    by_name: dict[str, SectionType] = {}
    by_head: dict[str, SectionType] = {}
    for pattern, prog_type, attach, sleepable in table:
        found = SectionType(prog_type, attach, sleepable, pattern)
        if pattern.endswith("+"):
            assert "/" not in pattern, pattern
            by_head.setdefault(pattern[:-1], found)
        else:
            assert not pattern.endswith("/"), pattern
            by_name.setdefault(pattern, by_head.get(pattern.partition("/")[0], found))
    return by_name, by_head


_LIBBPF_BY_NAME, _BY_HEAD = _lookup_tables(_TABLE)
# iproute2's own names give no type whatever libbpf's table says, so they join the name table
# (as None) and a guess is one lookup there, else one by head.
_BY_NAME: dict[str, SectionType | None] = {
    **_LIBBPF_BY_NAME,
    **dict.fromkeys(IPROUTE2_SECTIONS),
}


def guess_program_type(section: str) -> SectionType | None:
    """guess_program_type: the first table entry matching `section`, or None."""
    name = section.removeprefix("?")
    if name in _BY_NAME:
        return _BY_NAME[name]
    return _BY_HEAD.get(name.partition("/")[0])
