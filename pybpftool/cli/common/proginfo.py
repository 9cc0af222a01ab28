"""proginfo: iproute2's bpf_dump_prog_info: `id N name X tag T jited ` and its JSON object.

Shared by `link show` (the prog/xdp line) and `filter show` (cls_bpf options); with -d it
adds `load_time ... created_by_uid ...` and `btf_id ...`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pybpftool.kernel.info import ProgInfo


def prog_infos(ids: Iterable[int]) -> dict[int, ProgInfo]:
    """prog_infos: what the kernel says of each program id; ids it cannot open are left out.
    A listing without programs asks nothing (and imports no bpf(2) code)."""
    wanted = set(ids)
    if not wanted:
        return {}
    from pybpftool.errors import KernelError
    from pybpftool.kernel.info import prog_by_id, prog_info

    infos: dict[int, ProgInfo] = {}
    for pid in wanted:
        try:
            with prog_by_id(pid) as fd:
                infos[pid] = prog_info(fd)
        except KernelError:
            continue
    return infos


def prog_text(prog_id: int, info: ProgInfo | None, details: int) -> str:
    if info is None:
        return f"id {prog_id} "
    out = f"id {prog_id} name {info.name} tag {info.tag} "
    if info.jited:
        out += "jited "
    if details:
        if info.load_time:
            out += f"load_time {info.load_time} created_by_uid {info.created_by_uid} "
        if info.btf_id:
            out += f"btf_id {info.btf_id} "
    return out


def prog_json(prog_id: int, info: ProgInfo | None, details: int) -> dict[str, Any]:
    out: dict[str, Any] = {"id": prog_id}
    if info is not None:
        out.update(name=info.name, tag=info.tag)
        if info.jited:
            out["jited"] = 1
        if details:
            if info.load_time:
                out.update(load_time=info.load_time, created_by_uid=info.created_by_uid)
            if info.btf_id:
                out["btf_id"] = info.btf_id
    return out
