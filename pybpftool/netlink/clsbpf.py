"""clsbpf: the options of a cls_bpf filter (or chain template) as typed records, and their
encoding byte for byte as tc 6.1's f_bpf.c bpf_parse_opt builds TCA_OPTIONS; the program
forms here are the bpf action's too (m_bpf.c shares f_bpf.c's). Pure.

Filters with actions and chain templates are sent with these bytes (tc's attributes and
order); a filter without actions goes through pyroute2's sched_bpf codec (codecs.py), which
the kernel reads the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from pybpftool.netlink.attrs import asciiz, rtattr, u16, u32

if TYPE_CHECKING:
    from pybpftool.netlink.actions import Action

# linux/pkt_cls.h TCA_BPF_*.
TCA_BPF_ACT, TCA_BPF_POLICE, TCA_BPF_CLASSID, TCA_BPF_OPS_LEN, TCA_BPF_OPS = 1, 2, 3, 4, 5
TCA_BPF_FD, TCA_BPF_NAME, TCA_BPF_FLAGS, TCA_BPF_FLAGS_GEN = 6, 7, 8, 9


class ClassicProgram(NamedTuple):
    """ClassicProgram: classic BPF instructions (struct sock_filter[], this machine's byte
    order), sent as OPS_LEN (their count, u16) and OPS."""

    ops: bytes

    @property
    def ops_len(self) -> int:
        return len(self.ops) // 8


class ProgramFd(NamedTuple):
    """ProgramFd: a loaded (or pinned) eBPF program, sent as FD and NAME (its annotation,
    `file.o:[section]` or `pin:[*fsobj]`)."""

    fd: int
    name: str


Program = ClassicProgram | ProgramFd  # a cls_bpf filter's, or a bpf action's (m_bpf.c)


def program_attrs(program: Program, ops_len: int, ops: int, fd: int, name: int) -> bytes:
    """program_attrs: a program as OPS_LEN + OPS or FD + NAME, in the attribute numbers of
    its user (a cls_bpf filter's, or a bpf action's)."""
    if isinstance(program, ClassicProgram):
        return rtattr(ops_len, u16(program.ops_len)) + rtattr(ops, program.ops)
    return rtattr(fd, u32(program.fd)) + rtattr(name, asciiz(program.name))


class ActionList(NamedTuple):
    """ActionList: the actions of one `action ...` of the line (a TCA_BPF_ACT nest, empty
    when the list is)."""

    actions: tuple[Action, ...]


class ClsBpfOptions(NamedTuple):
    """ClsBpfOptions: `given`, the class ids (TCA_BPF_CLASSID) and action lists in the
    order of the line (each sent where and as often as given, as f_bpf.c adds them), then
    the program, the generic flags (TCA_CLS_FLAGS_SKIP_*) and the cls_bpf flags
    (TCA_BPF_FLAG_ACT_DIRECT)."""

    given: tuple[int | ActionList, ...] = ()
    program: Program | None = None
    flags_gen: int = 0
    flags: int = 0


def cls_bpf_options(options: ClsBpfOptions) -> bytes:
    """cls_bpf_options: the TCA_OPTIONS payload of `options`."""
    payload = b""
    for item in options.given:
        if isinstance(item, int):
            payload += rtattr(TCA_BPF_CLASSID, u32(item))
        else:
            from pybpftool.netlink.actions import action_tab  # lines with actions only

            payload += rtattr(TCA_BPF_ACT, action_tab(item.actions))
    if options.program is not None:
        payload += program_attrs(
            options.program, TCA_BPF_OPS_LEN, TCA_BPF_OPS, TCA_BPF_FD, TCA_BPF_NAME
        )
    if options.flags_gen:
        payload += rtattr(TCA_BPF_FLAGS_GEN, u32(options.flags_gen))
    if options.flags:
        payload += rtattr(TCA_BPF_FLAGS, u32(options.flags))
    return payload
