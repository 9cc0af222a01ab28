"""The ctypes mirrors of bpf_attr and the info structs have the kernel's own layout.

The running kernel describes its structures in /sys/kernel/btf/vmlinux; our BTF parser reads
it, so every field offset we declare is checked against the kernel we run on, not against a
copy of a header.
"""

from __future__ import annotations

import ctypes
import sys
from functools import cache

import pytest

from pybpftool.btf import BtfSpec, Composite, Kind, parse_btf
from pybpftool.kernel import attrs, infoattrs, nlgroup
from pybpftool.kernel.fd import Fd

VMLINUX = "/sys/kernel/btf/vmlinux"


@cache
def vmlinux() -> BtfSpec:
    try:
        with open(VMLINUX, "rb") as f:
            return parse_btf(f.read(), "<" if sys.byteorder == "little" else ">")
    except FileNotFoundError:
        pytest.skip(f"{VMLINUX} is missing: the kernel has no BTF")


def members(btf: BtfSpec, type_id: int) -> dict[str, int]:
    """members: byte offset of each named member, anonymous unions flattened."""
    t = btf.type(type_id)
    assert isinstance(t, Composite)
    out: dict[str, int] = {}
    for m in t.members:
        if m.name:
            out[m.name] = m.bit_offset // 8
        else:
            inner = btf.skip_mods_and_typedefs(m.type)
            out.update({k: v + m.bit_offset // 8 for k, v in members(btf, inner).items()})
    return out


def attr_struct(wanted: set[str]) -> dict[str, int]:
    """attr_struct: the smallest anonymous struct of union bpf_attr with all `wanted` fields."""
    btf = vmlinux()
    (union,) = btf.find("bpf_attr", Kind.UNION)
    u = btf.type(union)
    assert isinstance(u, Composite)
    candidates = [
        fields
        for m in u.members
        if btf.kind(m.type) == Kind.STRUCT
        for fields in [members(btf, m.type)]
        if wanted <= fields.keys()
    ]
    assert candidates, f"no bpf_attr member with {sorted(wanted)}"
    return min(candidates, key=len)


def named_struct(name: str) -> dict[str, int]:
    btf = vmlinux()
    (type_id,) = btf.find(name, Kind.STRUCT)
    return members(btf, type_id)


def ours(struct: type[ctypes.Structure]) -> dict[str, int]:
    return {name: getattr(struct, name).offset for name, *_ in struct._fields_}


@pytest.mark.parametrize(
    "struct",
    [
        attrs.MapCreateAttr,
        attrs.MapElemAttr,
        attrs.ProgLoadAttr,
        attrs.ObjAttr,
        attrs.BtfLoadAttr,
        infoattrs.InfoAttr,
        infoattrs.IdAttr,
        attrs.ProgAttachAttr,
        attrs.ProgBindMapAttr,
    ],
)
def test_bpf_attr_members_match_the_running_kernel(struct: type[ctypes.Structure]) -> None:
    mine = ours(struct)
    kernel = attr_struct(set(mine))
    assert {name: kernel[name] for name in mine} == mine


def test_map_freeze_uses_the_map_elem_struct() -> None:
    # BPF_MAP_FREEZE reads only map_fd, the first field of the MAP_*_ELEM struct.
    kernel = attr_struct({"map_fd", "key", "value", "flags"})
    assert attrs.MapFdAttr.map_fd.offset == kernel["map_fd"] == 0


@pytest.mark.parametrize(
    ("struct", "name"),
    [
        (attrs.BpfMapInfo, "bpf_map_info"),
        (infoattrs.BpfProgInfo, "bpf_prog_info"),
        (nlgroup.SockaddrNl, "sockaddr_nl"),
    ],
)
def test_info_structs_match_the_running_kernel(struct: type[ctypes.Structure], name: str) -> None:
    kernel = named_struct(name)
    mine = ours(struct)
    assert {field: kernel[field] for field in mine} == mine


def test_fd_closes_exactly_once() -> None:
    closed: list[int] = []
    fd = Fd(7, closed.append)
    with fd:
        assert int(fd) == 7
    fd.close()
    del fd
    assert closed == [7]


def test_fd_refuses_use_after_close() -> None:
    fd = Fd(3, lambda num: None)
    fd.close()
    with pytest.raises(ValueError, match="closed"):
        int(fd)


@pytest.mark.parametrize(
    ("name", "sent"),
    [
        ("counters", b"counters"),
        (".rodata", b".rodata"),
        ("my-map", b"my_map"),  # the kernel refuses '-': EINVAL
        ("a_name_longer_than_fifteen", b"a_name_longer_t"),
        ("évil\nname", b"__vil_name"),  # each byte of a UTF-8 'é' becomes one '_'
    ],
)
def test_object_names_are_sent_as_the_kernel_takes_them(name: str, sent: bytes) -> None:
    from pybpftool.kernel.bpf import _obj_name

    assert _obj_name(name) == sent


def test_kernel_bpf_still_names_prog_info() -> None:
    # kernel.info is imported when a program is read back, not with kernel.bpf: the name stays.
    from pybpftool.kernel import bpf, info

    assert bpf.ProgInfo is info.ProgInfo
    with pytest.raises(AttributeError, match="no attribute 'ProgInof'"):
        bpf.ProgInof  # noqa: B018
