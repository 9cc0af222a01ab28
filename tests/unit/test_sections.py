"""Section names -> (program type, expected attach type, sleepable), as libbpf's section_defs[]
(libbpf v1.6.0, src/libbpf.c) gives them; iproute2's own names and "1/0" give no type.

libbpf writes "no expected attach type" as 0; we write None."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pybpftool import sections
from pybpftool.sections import IPROUTE2_SECTIONS, guess_program_type, section_matches
from pybpftool.uapi import BpfAttachType as A
from pybpftool.uapi import BpfProgType as P

# name -> (SEC_DEF program type, expected attach type, SEC_SLEEPABLE), or None.
LIBBPF = {
    "socket": (P.BPF_PROG_TYPE_SOCKET_FILTER, None, False),
    "sk_reuseport/migrate": (
        P.BPF_PROG_TYPE_SK_REUSEPORT,
        A.BPF_SK_REUSEPORT_SELECT_OR_MIGRATE,
        False,
    ),
    "sk_reuseport": (P.BPF_PROG_TYPE_SK_REUSEPORT, A.BPF_SK_REUSEPORT_SELECT, False),
    "kprobe/do_sys_open": (P.BPF_PROG_TYPE_KPROBE, None, False),
    "kretprobe/x": (P.BPF_PROG_TYPE_KPROBE, None, False),
    "uprobe.s/x": (P.BPF_PROG_TYPE_KPROBE, None, True),
    "kprobe.multi/x": (P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_KPROBE_MULTI, False),
    "uprobe.multi.s/x": (P.BPF_PROG_TYPE_KPROBE, A.BPF_TRACE_UPROBE_MULTI, True),
    "usdt": (P.BPF_PROG_TYPE_KPROBE, None, False),
    "tc": (P.BPF_PROG_TYPE_SCHED_CLS, None, False),
    "tc/ingress": (P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_TCX_INGRESS, False),
    "tc/egress": (P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_TCX_EGRESS, False),
    "tcx/ingress": (P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_TCX_INGRESS, False),
    "netkit/peer": (P.BPF_PROG_TYPE_SCHED_CLS, A.BPF_NETKIT_PEER, False),
    "tracepoint/syscalls/sys_enter_open": (P.BPF_PROG_TYPE_TRACEPOINT, None, False),
    "raw_tp/x": (P.BPF_PROG_TYPE_RAW_TRACEPOINT, None, False),
    "raw_tp.w/x": (P.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, None, False),
    "tp_btf/x": (P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_RAW_TP, False),
    "fentry/x": (P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_FENTRY, False),
    "fentry.s/x": (P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_FENTRY, True),
    "fmod_ret/x": (P.BPF_PROG_TYPE_TRACING, A.BPF_MODIFY_RETURN, False),
    "fexit": (P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_FEXIT, False),
    "freplace/x": (P.BPF_PROG_TYPE_EXT, None, False),
    "lsm/file_open": (P.BPF_PROG_TYPE_LSM, A.BPF_LSM_MAC, False),
    "lsm.s/x": (P.BPF_PROG_TYPE_LSM, A.BPF_LSM_MAC, True),
    "lsm_cgroup/x": (P.BPF_PROG_TYPE_LSM, A.BPF_LSM_CGROUP, False),
    "iter.s/task": (P.BPF_PROG_TYPE_TRACING, A.BPF_TRACE_ITER, True),
    "syscall": (P.BPF_PROG_TYPE_SYSCALL, None, True),
    "xdp": (P.BPF_PROG_TYPE_XDP, A.BPF_XDP, False),
    "xdp.frags": (P.BPF_PROG_TYPE_XDP, A.BPF_XDP, False),
    "xdp/devmap": (P.BPF_PROG_TYPE_XDP, A.BPF_XDP_DEVMAP, False),
    "xdp.frags/cpumap": (P.BPF_PROG_TYPE_XDP, A.BPF_XDP_CPUMAP, False),
    "perf_event": (P.BPF_PROG_TYPE_PERF_EVENT, None, False),
    "lwt_xmit": (P.BPF_PROG_TYPE_LWT_XMIT, None, False),
    "sockops": (P.BPF_PROG_TYPE_SOCK_OPS, A.BPF_CGROUP_SOCK_OPS, False),
    "sk_skb/stream_parser": (P.BPF_PROG_TYPE_SK_SKB, A.BPF_SK_SKB_STREAM_PARSER, False),
    "sk_skb": (P.BPF_PROG_TYPE_SK_SKB, None, False),
    "sk_msg": (P.BPF_PROG_TYPE_SK_MSG, A.BPF_SK_MSG_VERDICT, False),
    "flow_dissector": (P.BPF_PROG_TYPE_FLOW_DISSECTOR, A.BPF_FLOW_DISSECTOR, False),
    "cgroup_skb/ingress": (P.BPF_PROG_TYPE_CGROUP_SKB, A.BPF_CGROUP_INET_INGRESS, False),
    "cgroup/skb": (P.BPF_PROG_TYPE_CGROUP_SKB, None, False),
    "cgroup/sock": (P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET_SOCK_CREATE, False),
    "cgroup/sock_release": (P.BPF_PROG_TYPE_CGROUP_SOCK, A.BPF_CGROUP_INET_SOCK_RELEASE, False),
    "cgroup/connect4": (P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_INET4_CONNECT, False),
    "cgroup/recvmsg_unix": (P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, A.BPF_CGROUP_UNIX_RECVMSG, False),
    "cgroup/sysctl": (P.BPF_PROG_TYPE_CGROUP_SYSCTL, A.BPF_CGROUP_SYSCTL, False),
    "cgroup/setsockopt": (P.BPF_PROG_TYPE_CGROUP_SOCKOPT, A.BPF_CGROUP_SETSOCKOPT, False),
    "cgroup/dev": (P.BPF_PROG_TYPE_CGROUP_DEVICE, A.BPF_CGROUP_DEVICE, False),
    "struct_ops/x": (P.BPF_PROG_TYPE_STRUCT_OPS, None, False),
    "struct_ops.s/x": (P.BPF_PROG_TYPE_STRUCT_OPS, None, True),
    "sk_lookup": (P.BPF_PROG_TYPE_SK_LOOKUP, A.BPF_SK_LOOKUP, False),
    "netfilter": (P.BPF_PROG_TYPE_NETFILTER, A.BPF_NETFILTER, False),
}

# Names libbpf matches to no entry: exact-only patterns with a suffix, a missing "/", a
# prefix that is not a whole word.
UNMATCHED = [
    "xdp/foo",
    "socket/x",
    "tcx",
    "kprobex",
    "kprobe.",
    "fentry.x/y",
    "cgroup/connect",
    "cgroup/connect4/x",
    "sk_lookup/x",
    "perf_event/x",
    "",
    "/",
    "?",
    "??xdp",
    ".text",
]


@pytest.mark.parametrize("name", sorted(LIBBPF))
def test_libbpf_section_name(name: str) -> None:
    found = guess_program_type(name)
    assert found is not None
    assert (found.prog_type, found.expected_attach_type, found.sleepable) == LIBBPF[name]


@pytest.mark.parametrize("name", sorted(LIBBPF))
def test_question_mark_prefix_only_turns_autoload_off(name: str) -> None:
    assert guess_program_type("?" + name) == guess_program_type(name)


@pytest.mark.parametrize("name", UNMATCHED)
def test_names_libbpf_does_not_know(name: str) -> None:
    assert guess_program_type(name) is None


@pytest.mark.parametrize("name", sorted(IPROUTE2_SECTIONS))
def test_iproute2_sections_leave_the_type_to_the_command_line(name: str) -> None:
    assert guess_program_type(name) is None
    assert guess_program_type("?" + name) is None


def test_iproute2_rule_covers_the_names_libbpf_would_type() -> None:
    # classifier and action are in libbpf's table: None for them is our choice, not a miss.
    libbpf_names = {pattern.rstrip("+") for pattern, *_ in sections._TABLE}
    assert {"classifier", "action"} <= IPROUTE2_SECTIONS & libbpf_names


def test_tail_call_section_has_no_type() -> None:
    assert guess_program_type("1/0") is None
    assert guess_program_type("2/1") is None


def test_the_matching_pattern_is_reported() -> None:
    assert guess_program_type("kprobe/x").pattern == "kprobe+"  # type: ignore[union-attr]
    assert guess_program_type("kprobe").pattern == "kprobe+"  # type: ignore[union-attr]
    assert guess_program_type("xdp.frags").pattern == "xdp.frags"  # type: ignore[union-attr]
    assert guess_program_type("tc/ingress").pattern == "tc/ingress"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("xdp", "xdp", True),
        ("xdp", "xdp/x", False),
        ("xdp", "xd", False),
        ("kprobe+", "kprobe", True),
        ("kprobe+", "kprobe/f", True),
        ("kprobe+", "kprobe/", True),
        ("kprobe+", "kprobef", False),
        ("kprobe+", "kprobe.multi/f", False),
        ("cgroup/", "cgroup/x", True),
        ("cgroup/", "cgroup/", True),
        ("cgroup/", "cgroup", False),
    ],
)
def test_section_matches_follows_sec_def_matches(pattern: str, name: str, matches: bool) -> None:
    assert section_matches(pattern, name) is matches


def test_no_table_entry_is_shadowed_by_an_earlier_one() -> None:
    for pattern, *_ in sections._TABLE:
        name = pattern.rstrip("+")
        if name in IPROUTE2_SECTIONS:
            continue
        found = guess_program_type(name)
        assert found is not None and found.pattern == pattern, name


def linear_scan(section: str) -> tuple[P, A | None, bool, str] | None:
    """linear_scan: libbpf's find_sec_def(), first match over the whole table, plus our rule."""
    name = section[1:] if section.startswith("?") else section
    if name in IPROUTE2_SECTIONS:
        return None
    for pattern, prog_type, attach, sleepable in sections._TABLE:
        if section_matches(pattern, name):
            return prog_type, attach, sleepable, pattern
    return None


BASES = sorted({pattern.rstrip("+/") for pattern, *_ in sections._TABLE} | {"1", "cgroup"})
SUFFIX = st.text(alphabet="abcxyz_./+?0123456789", max_size=8)


@st.composite
def section_names(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from(BASES))
    shape = draw(st.sampled_from(["exact", "slash", "glued", "cut", "dotted"]))
    suffix = draw(SUFFIX)
    if shape == "slash":
        name = f"{base}/{suffix}"
    elif shape == "glued":
        name = base + suffix
    elif shape == "cut":
        name = base[: draw(st.integers(0, len(base)))]
    elif shape == "dotted":
        name = f"{base}.{suffix}"
    else:
        name = base
    return draw(st.sampled_from(["", "?"])) + name


@settings(max_examples=2000, deadline=None, database=None)
@given(section_names())
def test_guess_agrees_with_a_linear_scan(name: str) -> None:
    found = guess_program_type(name)
    expected = linear_scan(name)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert (found.prog_type, found.expected_attach_type, found.sleepable, found.pattern) == (
            expected
        )


@pytest.mark.parametrize("pattern", [p for p, *_ in sections._TABLE])
def test_every_pattern_base_agrees_with_a_linear_scan(pattern: str) -> None:
    base = pattern.rstrip("+")
    for name in (
        base,
        base + "/x",
        base + "/x/y",
        base + "/",
        base.partition("/")[0],
        base.partition("/")[0] + "/zz",
        base + "x",
        base[:-1],
        "?" + base,
        "?" + base + "/y",
    ):
        found = guess_program_type(name)
        expected = linear_scan(name)
        got = None if found is None else tuple(found)
        assert got == expected, name


def test_lookup_tables_keep_the_first_match_of_any_table() -> None:
    # libbpf's table has no `x` entry after a `y+` entry that matches it first; this one does.
    table = (
        ("tp+", P.BPF_PROG_TYPE_TRACEPOINT, None, False),
        ("tp", P.BPF_PROG_TYPE_XDP, None, False),
        ("tp/x", P.BPF_PROG_TYPE_XDP, None, False),
        ("xdp", P.BPF_PROG_TYPE_XDP, None, False),
        ("xdp+", P.BPF_PROG_TYPE_KPROBE, None, False),
        ("xdp", P.BPF_PROG_TYPE_KPROBE, None, False),
        ("xdp/y", P.BPF_PROG_TYPE_XDP, None, False),
        ("xdp+", P.BPF_PROG_TYPE_TRACING, None, False),
    )
    by_name, by_head = sections._lookup_tables(table)
    for name in ("tp", "tp/x", "tp/y", "tpx", "xdp", "xdp/y", "xdp/z", "xdpz", "x"):
        expected = next((entry for entry in table if section_matches(entry[0], name)), None)
        found = by_name.get(name) or by_head.get(name.partition("/")[0])
        assert (None if found is None else (found.pattern, found.prog_type)) == (
            None if expected is None else (expected[0], expected[1])
        ), name
