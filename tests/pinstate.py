"""pinstate: pinned state read back through the kernel, for the transaction tests (issue 16).

Everything here asks the kernel, never the files: a pin's map is opened with BPF_OBJ_GET, a
prog-array or map-in-map slot is read with a lookup (the kernel answers with the id of the
program or map in it), a filter's program is found by its id and asked for its map ids.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pybpftool.kernel.bpf import Kernel, MapInfo
from pybpftool.pinning import TEMP_PREFIX
from pybpftool.spec import ObjectSpec

PROG_ARRAY, ARRAY_OF_MAPS, HASH_OF_MAPS = 3, 12, 13
FD_MAPS = (PROG_ARRAY, ARRAY_OF_MAPS, HASH_OF_MAPS)


def pin_files(root: str | Path) -> dict[str, Path]:
    """pin_files: every pin below `root` (bpffs's own *.debug files and folders left out),
    by path relative to `root`."""
    out = {}
    for p in sorted(Path(root).rglob("*")):
        if p.is_dir() or p.is_symlink() or p.name.endswith(".debug"):
            continue
        out[str(p.relative_to(root))] = p
    return out


def temporary_pins(root: str | Path) -> list[str]:
    return [name for name, p in pin_files(root).items() if p.name.startswith(TEMP_PREFIX)]


def declared_slots(spec: ObjectSpec) -> dict[str, set[int]]:
    """declared_slots: map name -> the slots the object fills when it creates that map: tail
    calls into a legacy prog array (when one of its sections names the array's id), inner
    maps into an outer, static slots of BTF maps."""
    slots: dict[str, set[int]] = {m.name: {key for key, _name in m.contents} for m in spec.maps}
    for prog in spec.programs:
        if prog.tail_call is not None:
            slots[prog.tail_call.map].add(prog.tail_call.key)
    return {name: keys for name, keys in slots.items() if keys}


def entries(kernel: Kernel, path: str | Path) -> tuple[MapInfo, dict[bytes, bytes]]:
    """entries: a pinned map's info and every key -> value (fd maps: the occupant's id)."""
    with kernel.obj_get(str(path)) as fd:
        info = kernel.map_info(fd)
        size = 4 if info.type in FD_MAPS else info.value_size
        out: dict[bytes, bytes] = {}
        key = kernel.map_next_key(fd, None, info.key_size)
        while key is not None:
            value = kernel.map_lookup(fd, key, size)
            if value is not None:
                out[key] = value
            key = kernel.map_next_key(fd, key, info.key_size)
        return info, out


def slot_ids(kernel: Kernel, path: str | Path) -> dict[int, int]:
    """slot_ids: slot -> id of the program or map in it, for a pinned fd map."""
    _info, found = entries(kernel, path)
    return {
        int.from_bytes(k, sys.byteorder): int.from_bytes(v, sys.byteorder) for k, v in found.items()
    }


def snapshot(root: str | Path) -> dict[str, tuple[int, int, dict[bytes, bytes]]]:
    """snapshot: every pin -> (map id, type, all its contents), read through the kernel."""
    kernel = Kernel()
    out = {}
    for name, path in pin_files(root).items():
        info, found = entries(kernel, path)
        out[name] = (info.id, info.type, found)
    return out


def incomplete(root: str | Path, spec: ObjectSpec, folder: str = "tc/globals") -> list[str]:
    """incomplete: for each pin of `folder` named after a map of `spec`, the declared slots
    it lacks (empty: every pin present is complete)."""
    kernel = Kernel()
    wanted = declared_slots(spec)
    problems = []
    for name, path in pin_files(Path(root) / folder).items():
        missing = wanted.get(name, set()) - set(slot_ids(kernel, path))
        if missing:
            problems.append(f"{folder}/{name} lacks slots {sorted(missing)}")
    return problems


def pinned_id(path: str | Path) -> int:
    kernel = Kernel()
    with kernel.obj_get(str(path)) as fd:
        return kernel.map_info(fd).id


def filter_prog_ids(netns: str, dev: str, direction: str = "ingress") -> list[int]:
    """filter_prog_ids: the ids of the bpf programs attached as filters of `dev`."""
    shown = subprocess.run(
        ["tc", "-n", netns, "-j", "filter", "show", "dev", dev, direction],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [f["options"]["prog"]["id"] for f in json.loads(shown or "[]") if "options" in f]


def prog_map_ids(prog_id: int) -> set[int]:
    """prog_map_ids: the ids of the maps a loaded program references (bpf_prog_info)."""
    kernel = Kernel()
    with kernel.prog_by_id(prog_id) as fd:
        return set(kernel.prog_info(fd).map_ids)
