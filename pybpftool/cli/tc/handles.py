"""handles: tc's words for handles and class ids (tc/tc_util.c get_tc_classid and
get_qdisc_handle), read as C reads their hex numbers."""

from __future__ import annotations

from pybpftool.cscan import c_strtoul
from pybpftool.netlink.uapi import EGRESS, INGRESS, TC_H_ROOT

# The parents tc names by a word (tc_filter.c's selectors, print_filter's output).
PARENTS = {"root": TC_H_ROOT, "ingress": INGRESS, "egress": EGRESS}
PARENT_WORDS = {parent: word for word, parent in PARENTS.items()}


def tc_classid_value(text: str) -> int | None:
    """tc_classid_value: tc_util.c get_tc_classid: root, none, `maj:min`, `:min`, `maj:`, hex."""
    if text == "root":
        return TC_H_ROOT
    if text == "none":
        return 0
    major, end = c_strtoul(text, 16)
    if end == 0:
        major = 0
        if not text.startswith(":"):
            return None
    if text[end : end + 1] == ":":
        if major >= 1 << 16:
            return None
        rest = text[end + 1 :]
        minor, stop = c_strtoul(rest, 16)
        if stop != len(rest) or minor >= 1 << 16:
            return None
        return (major << 16) | minor
    if end != len(text):
        return None
    return major & 0xFFFFFFFF


def qdisc_handle_value(text: str) -> int | None:
    """qdisc_handle_value: tc_util.c get_qdisc_handle: `none` or hex `maj[:]` (< 0x10000)."""
    if text == "none":
        return 0
    major, end = c_strtoul(text, 16)
    if end == 0 or major >= 1 << 16 or (end < len(text) and text[end] != ":"):
        return None
    return major << 16
