"""The loader on the real kernel, pins in a private bpffs: what iproute2 would leave behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import bpfobjs
import pytest

from pybpftool.errors import PinError, VerifierError
from pybpftool.kernel.bpf import Kernel, MapRequest
from pybpftool.kernel.bpffs import is_bpffs
from pybpftool.loader import LoadOptions, load_object
from pybpftool.parser import parse_object
from pybpftool.uapi import BpfMapType as T
from pybpftool.uapi import BpfProgType as P

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
SCHED_CLS = P.BPF_PROG_TYPE_SCHED_CLS


def options(env: dict[str, str], **kw: object) -> LoadOptions:
    base: dict[str, object] = {"prog_type": SCHED_CLS, "section": "classifier", "env": env}
    base.update(kw)
    return LoadOptions(**base)  # type: ignore[arg-type]


def pins(root: str) -> set[str]:
    """pins: the pinned objects below `root` (no folders, symlinks or the kernel's own files).

    A fresh bpffs already holds `maps.debug` and `progs.debug` (the preloaded iterators).
    """
    return {
        str(p.relative_to(root))
        for p in Path(root).rglob("*")
        if not p.is_symlink() and not p.is_dir() and p.name not in BPFFS_OWN
    }


BPFFS_OWN = frozenset({"maps.debug", "progs.debug"})


def u32(value: int) -> bytes:
    return value.to_bytes(4, sys.byteorder)


def bpftool_json(*args: str) -> object:
    out = subprocess.run(["bpftool", "-j", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def test_legacy_object_pins_fills_tail_calls_and_inner_maps(
    env: dict[str, str], bpffs: str
) -> None:
    kernel = Kernel()
    spec = parse_object(bpfobjs.build("legacy_maps", HOST))
    obj = load_object(kernel, spec, options(env))
    try:
        assert pins(bpffs) == {
            "tc/globals/counters",
            "tc/globals/map_outer",
            f"tc/{spec.sha1}/per_object",
        }
        assert os.readlink(f"{bpffs}/xdp") == os.readlink(f"{bpffs}/ip") == f"{bpffs}/tc/"
        shown = bpftool_json("map", "show", "pinned", f"{bpffs}/tc/globals/counters")
        assert isinstance(shown, dict)
        assert (shown["type"], shown["bytes_key"], shown["bytes_value"]) == ("hash", 4, 8)
        assert (shown["max_entries"], shown["flags"]) == (256, 1)
        progs = {p.spec.section: kernel.prog_info(p.fd).id for p in obj.programs}
        jmp = obj.maps["jmp_tc"].fd
        slots = {key: kernel.map_lookup(jmp, u32(key), 4) for key in range(4)}
        ids = {k: int.from_bytes(v, sys.byteorder) for k, v in slots.items() if v is not None}
        assert ids == {0: progs["42/0"], 1: progs["0x2a/1"]}  # lookup gives prog ids
        inner_id = kernel.map_info(obj.maps["map_inner"].fd).id
        outer_slot = kernel.map_lookup(obj.maps["map_outer"].fd, u32(0), 4)
        assert outer_slot is not None and int.from_bytes(outer_slot, sys.byteorder) == inner_id
    finally:
        obj.close()


def test_second_load_reuses_the_pinned_maps(env: dict[str, str]) -> None:
    kernel = Kernel()
    spec = parse_object(bpfobjs.build("legacy_maps", HOST))
    first = load_object(kernel, spec, options(env))
    second = load_object(kernel, spec, options(env))
    try:
        for name in ("counters", "per_object", "map_outer"):
            assert second.maps[name].reused
            ids = {kernel.map_info(o.maps[name].fd).id for o in (first, second)}
            assert len(ids) == 1, name
        assert (
            kernel.map_info(first.maps["jmp_tc"].fd).id
            != kernel.map_info(second.maps["jmp_tc"].fd).id
        )
    finally:
        first.close()
        second.close()


def test_incompatible_pin_is_reported_and_nothing_changes(env: dict[str, str], bpffs: str) -> None:
    kernel = Kernel()
    spec = parse_object(bpfobjs.build("legacy_maps", HOST))
    load_object(kernel, spec, options(env)).close()
    os.unlink(f"{bpffs}/tc/globals/counters")
    with kernel.map_create(MapRequest(T.BPF_MAP_TYPE_HASH, 4, 16, 256, 1)) as other:
        kernel.obj_pin(other, f"{bpffs}/tc/globals/counters")
    before = pins(bpffs)
    with pytest.raises(PinError) as caught:
        load_object(kernel, spec, options(env))
    assert caught.value.details[:2] == (
        "Map specification differs from pinned file!",
        " - Size value:   8 (obj) != 16 (pin)",
    )
    assert pins(bpffs) == before


def test_rejected_program_removes_the_pins_it_made(env: dict[str, str], bpffs: str) -> None:
    spec = parse_object(bpfobjs.build("rejected", HOST))
    with pytest.raises(VerifierError) as caught:
        load_object(Kernel(), spec, options(env))
    assert "map_value_or_null" in caught.value.log
    assert caught.value.details[0].startswith("Prog section 'classifier' rejected: ")
    assert pins(bpffs) == set()  # no tc/globals/doomed left behind


def test_btf_maps_get_types_and_programs_line_info(env: dict[str, str], bpffs: str) -> None:
    kernel = Kernel()
    spec = parse_object(bpfobjs.build("btf_maps", HOST))
    obj = load_object(kernel, spec, options(env, section="tc"))
    try:
        assert pins(bpffs) == {"tc/globals/flows"}
        flows = kernel.map_info(obj.maps["flows"].fd)
        assert flows.btf_id != 0 and flows.name == "flows"
        for prog in obj.programs:
            info = kernel.prog_info(prog.fd)
            assert info.name == prog.spec.name and info.nr_line_info > 0 and info.nr_func_info > 0
        jumps = obj.maps["jumps"].fd
        loaded = {p.spec.name: kernel.prog_info(p.fd).id for p in obj.programs}
        slot1, slot3 = (kernel.map_lookup(jumps, u32(k), 4) for k in (1, 3))
        assert slot1 is not None and int.from_bytes(slot1, sys.byteorder) == loaded["tail_a"]
        assert slot3 is not None and int.from_bytes(slot3, sys.byteorder) == loaded["tail_b"]
        outer = kernel.map_info(obj.maps["outer"].fd)
        assert outer.type == T.BPF_MAP_TYPE_ARRAY_OF_MAPS and outer.value_size == 4
    finally:
        obj.close()


def test_global_data_maps_hold_initial_bytes_and_rodata_is_frozen(env: dict[str, str]) -> None:
    kernel = Kernel()
    spec = parse_object(bpfobjs.build("global_data", HOST))
    obj = load_object(kernel, spec, options(env))
    try:
        for m in spec.maps:
            if m.data is None:
                continue
            fd = obj.maps[m.name].fd
            assert kernel.map_lookup(fd, u32(0), m.value_size) == m.data, m.name
            assert kernel.fdinfo(fd)["frozen"] == ("1" if m.freeze else "0"), m.name
            assert kernel.map_info(fd).name == m.name
        # clang's .rodata overlaps two variables, which the kernel refuses: the sanitized copy
        # of the BTF went in instead, so programs keep their func and line info. (Data maps
        # are created without types then, as with libbpf: a keyless array needs a DATASEC.)
        assert obj.btf_fd is not None and obj.main is not None
        info = kernel.prog_info(obj.main.fd)
        assert info.nr_func_info > 0 and info.nr_line_info > 0
    finally:
        obj.close()


CONCURRENT = """
import sys
from pybpftool.kernel.bpf import Kernel
from pybpftool.loader import LoadOptions, load_object
from pybpftool.parser import parse_object
sys.stdin.readline()  # both processes start loading at the same moment
kernel = Kernel()
obj = load_object(kernel, parse_object(sys.argv[1]), LoadOptions(prog_type=3, section="classifier"))
print(kernel.map_info(obj.maps["counters"].fd).id, obj.maps["counters"].reused)
"""


def test_two_processes_loading_at_once_share_one_pinned_map(env: dict[str, str]) -> None:
    path = str(bpfobjs.build("legacy_maps", HOST))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT, path],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _out, err in results]
    ids = {out.split()[0] for out, _err in results}
    assert len(ids) == 1


def test_object_verify_reports_each_verdict(tmp_path: Path) -> None:
    good = str(bpfobjs.build("legacy_maps", HOST))
    bad = str(bpfobjs.build("rejected", HOST))
    run = [sys.executable, "-m", "pybpftool", "object", "verify", "--type", "sched_cls", "--json"]
    ok = subprocess.run([*run, good], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    doc = json.loads(ok.stdout)
    assert doc["rejected"] == 0 and doc["accepted"] == 4
    assert all(p["processed_insns"] > 0 for p in doc["programs"])
    ko = subprocess.run([*run, bad], capture_output=True, text=True)
    assert ko.returncode == 1
    verdict = json.loads(ko.stdout)["programs"][0]
    assert verdict["verdict"] == "rejected" and verdict["errno"] == 13
    assert "map_value_or_null" in verdict["log"]


def test_bpffs_is_mounted_where_tc_bpf_mnt_points(tmp_path: Path) -> None:
    folder = tmp_path / "not-yet-bpffs"
    spec = parse_object(bpfobjs.build("legacy_maps", HOST))
    try:
        obj = load_object(Kernel(), spec, options({"TC_BPF_MNT": str(folder)}))
        obj.close()
        assert is_bpffs(str(folder))
        assert (folder / "tc/globals/counters").exists()
    finally:
        # iproute2's way leaves two mounts there: the folder bound onto itself, then bpffs.
        for _ in range(mounts_at(str(folder))):
            subprocess.run(["umount", str(folder)], check=True, capture_output=True)


def mounts_at(path: str) -> int:
    with open("/proc/mounts") as f:
        return sum(line.split()[1] == path for line in f)


def test_legacy_map_names_the_kernel_refuses_still_load(
    env: dict[str, str], bpffs: str, tmp_path: Path
) -> None:
    """iproute2's legacy loader passes no name at all; the kernel refuses '-' in a name: the
    map gets a kernel-safe name and its pin keeps the full one."""
    obj = bpfobjs.renamed_symbol(
        bpfobjs.build("legacy_maps", HOST), "counters", "my-count", tmp_path / "dash.o"
    )
    loaded = load_object(Kernel(), parse_object(obj), options(env))
    try:
        assert "tc/globals/my-count" in pins(bpffs)
        assert Kernel().map_info(loaded.maps["my-count"].fd).name == "my_count"
    finally:
        loaded.close()
