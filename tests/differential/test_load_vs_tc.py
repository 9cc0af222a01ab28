"""pybpftool's loader against the installed tc (iproute2 6.1 + libbpf 1.1) on the same objects.

The kernel's tag hashes a program's instructions with map references zeroed, so equal tags
mean equal code whichever loader relocated it. For each object tc can load, the program tc
attaches and the one pybpftool loads must have the same name and tag and use maps of the same
shape. tc cannot load legacy `maps` objects at all (libbpf >= 1.0), so twin_legacy.o, loaded
by pybpftool, is compared with its BTF twin twin_btf.o loaded by tc: same tags, same map
shapes, and pins at the same places below the bpffs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import bpfobjs
import pytest

from pybpftool.kernel.bpf import Kernel
from pybpftool.loader import LoadedObject, LoadOptions, load_object
from pybpftool.parser import parse_object
from pybpftool.uapi import BpfProgType as P

HOST = "bpfel" if sys.byteorder == "little" else "bpfeb"
SCHED_CLS = P.BPF_PROG_TYPE_SCHED_CLS
BPFFS_OWN = frozenset({"maps.debug", "progs.debug"})


def run(*cmd: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert done.returncode == 0, f"{' '.join(cmd)}: {done.stderr}"
    return done.stdout


def bpftool(*args: str) -> Any:
    return json.loads(run("bpftool", "-j", *args))


def map_shape(map_id: int) -> tuple[object, ...]:
    m = bpftool("map", "show", "id", str(map_id))
    return (
        m.get("name", ""),
        m["type"],
        m["bytes_key"],
        m["bytes_value"],
        m["max_entries"],
        m["flags"],
    )


def prog_facts(prog_id: int) -> tuple[str, str, list[tuple[object, ...]]]:
    """prog_facts: name, tag and the shapes of the maps the kernel says it uses."""
    p = bpftool("prog", "show", "id", str(prog_id))
    return p["name"], p["tag"], sorted(map_shape(i) for i in p.get("map_ids", []))


def tc_attach(netns: str, env: dict[str, str], obj: Path, section: str, pref: int) -> int:
    """tc_attach: `tc filter add ... bpf da obj OBJ sec SECTION`; the attached prog's id."""
    run(
        "ip",
        "netns",
        "exec",
        netns,
        "tc",
        "filter",
        "add",
        "dev",
        "v0",
        "ingress",
        "pref",
        str(pref),
        "bpf",
        "da",
        "obj",
        str(obj),
        "sec",
        section,
        env=env,
    )
    shown = json.loads(
        run("tc", "-n", netns, "-j", "filter", "show", "dev", "v0", "ingress", "pref", str(pref))
    )
    return int(next(f["options"]["prog"]["id"] for f in shown if "options" in f))


def ours(obj: Path, section: str, env: dict[str, str]) -> LoadedObject:
    return load_object(
        Kernel(), parse_object(obj), LoadOptions(prog_type=SCHED_CLS, section=section, env=env)
    )


def pins(root: str) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in Path(root).rglob("*")
        if not p.is_symlink() and not p.is_dir() and p.name not in BPFFS_OWN
    }


@pytest.fixture
def clsact(netns: str) -> str:
    run("tc", "-n", netns, "qdisc", "add", "dev", "v0", "clsact")
    return netns


# static_prog.o is no candidate: libbpf refuses its static entry function.
@pytest.mark.parametrize(
    ("name", "section"), [("global_data", "classifier"), ("call_order", "classifier")]
)
def test_same_program_and_maps_as_tc(
    clsact: str, env: dict[str, str], tmp_path: Path, name: str, section: str
) -> None:
    obj = tmp_path / f"{name}.o"  # one file for both loaders: data map names use its name
    obj.write_bytes(bpfobjs.build(name, HOST).read_bytes())
    theirs = prog_facts(tc_attach(clsact, env, obj, section, 1))
    loaded = ours(obj, section, env)
    try:
        assert loaded.main is not None
        mine = prog_facts(Kernel().prog_info(loaded.main.fd).id)
    finally:
        loaded.close()
    assert mine == theirs


def test_legacy_twin_matches_tc_loading_the_btf_twin(
    clsact: str, env: dict[str, str], bpffs: str, other_bpffs: Path
) -> None:
    btf_twin = bpfobjs.build("twin_btf", HOST)
    main_theirs = prog_facts(tc_attach(clsact, env, btf_twin, "classifier", 1))
    tail_theirs = prog_facts(tc_attach(clsact, env, btf_twin, "tail", 2))
    pins_theirs = pins(bpffs)
    # pybpftool loads the legacy twin into a bpffs of its own, so that it creates the pins.
    other = str(other_bpffs)
    loaded = ours(bpfobjs.build("twin_legacy", HOST), "classifier", {"TC_BPF_MNT": other})
    try:
        kernel = Kernel()
        by_section = {p.spec.section: kernel.prog_info(p.fd).id for p in loaded.programs}
        assert set(by_section) == {"classifier", "1/0"}
        assert prog_facts(by_section["classifier"]) == main_theirs
        assert prog_facts(by_section["1/0"]) == tail_theirs
        assert pins(other) == pins_theirs == {"tc/globals/twin_counters", "tc/globals/twin_outer"}
    finally:
        loaded.close()
